// Importing users with the password hashes of other systems (README.md, "Accounts": the hashes
// accepted on import): the current PHC scheme, PBKDF2 PHC strings with other parameters, bcrypt, Django's
// pbkdf2_sha256 and unsalted sha256. Each imported user logs in with its password, and the stored hash
// is upgraded to the current scheme at that login [OWASP Password Storage CS]. Costs outside sane
// bounds are refused, so a planted hash cannot burn the CPU budget [Ory Kratos hash limits; docs/security.md].
//
// Every hash is made here, independently of the Worker: PBKDF2 and SHA-256 with node:crypto, bcrypt
// with bcryptjs installed outside the repository (npm install --prefix /tmp/bcryptjs bcryptjs). When
// that is not installed, fixed bcrypt vectors below (made once with bcryptjs 3.0.3, see their comment)
// are used instead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { startWorker, expectProblem, phcHash, uniqueName, TEST_ITERATIONS } from "./helpers.mjs";

/**
 * bcrypt of "bcrypt pass" at cost 4, made once with
 *   node -e 'import("/tmp/bcryptjs/node_modules/bcryptjs/index.js").then(m => console.log(m.default.hashSync("bcrypt pass", 4)))'
 * (bcryptjs 3.0.3); used only when bcryptjs is not installed in /tmp/bcryptjs.
 */
const FIXED_BCRYPT = { password: "bcrypt pass", hash: "$2b$04$pzIBITBO1yTb8n.zqsasLevwxIDrFz2qN51ST84VsyyaBrEl.VIIK" };

let bcrypt = null;
try {
  bcrypt = (await import("/tmp/bcryptjs/node_modules/bcryptjs/index.js")).default;
} catch {
  bcrypt = null;
}

/** A bcrypt hash of `password` at `cost` with prefix `$2b$` (or `version`), or the fixed vector. */
function bcryptHash(password, cost = 4, version = "$2b$") {
  if (bcrypt) return bcrypt.hashSync(password, cost).replace(/^\$2[aby]\$/, version);
  assert.equal(password, FIXED_BCRYPT.password, "without bcryptjs only the fixed vector is available");
  return FIXED_BCRYPT.hash.replace(/^\$2[aby]\$/, version);
}

let w;
let admin, demo, plain;
before(async () => {
  w = await startWorker({ bindings: { ROLES: "cajero" } });
  admin = await w.userWithToken({ role: "admin" });
  demo = await w.userWithToken({ role: "demo" });
  plain = await w.userWithToken({ role: "user" });
});
after(async () => {
  await w?.close();
});

const CURRENT_PREFIX = `$pbkdf2-sha512$i=${TEST_ITERATIONS},l=64$`;
const b64 = (buf) => buf.toString("base64").replace(/=+$/, "");

const importUsers = (token, body) =>
  w.fetch("/auth/admin/users/import", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function expectReport(res) {
  const text = await res.text();
  assert.equal(res.status, 200, `status of ${text}`);
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body).sort(), ["imported", "skipped"]);
  assert.equal(typeof body.imported, "number");
  assert.ok(Array.isArray(body.skipped));
  for (const s of body.skipped) assert.deepEqual(Object.keys(s).sort(), ["code", "username"]);
  return body;
}

const storedHash = async (username) =>
  (await w.db.prepare("SELECT password_hash FROM users WHERE username = ?1 COLLATE NOCASE").bind(username).first())
    ?.password_hash;

// ---- the hash schemes -----------------------------------------------------------------------------------

/** One user per accepted scheme: {username, password, password_hash, scheme}. */
function legacyUsers() {
  const make = (scheme, password, password_hash) => ({ scheme, username: uniqueName(scheme.slice(0, 8)), password, password_hash });
  const users = [];

  // The current scheme's PHC string, as helpers.phcHash computes it with Node's OpenSSL.
  users.push(make("own-phc", "own phc password", phcHash("own phc password")));

  // PBKDF2 PHC with other parameters: HMAC-SHA-256, 1200 iterations, 32-byte output.
  {
    const pw = "pbkdf2 sha256 pass";
    const salt = randomBytes(16);
    const hash = pbkdf2Sync(pw, salt, 1200, 32, "sha256");
    users.push(make("phc-sha256", pw, `$pbkdf2-sha256$i=1200,l=32$${b64(salt)}$${b64(hash)}`));
  }
  // PBKDF2-SHA-512 PHC with fewer iterations and a 32-byte output.
  {
    const pw = "pbkdf2 sha512 short";
    const salt = randomBytes(16);
    const hash = pbkdf2Sync(pw, salt, 1500, 32, "sha512");
    users.push(make("phc-sha512-32", pw, `$pbkdf2-sha512$i=1500,l=32$${b64(salt)}$${b64(hash)}`));
  }
  // passlib's "adapted base64" ('.' instead of '+'): a salt chosen so the encoding contains '+'.
  {
    const pw = "passlib ab64 pass";
    let salt;
    do salt = randomBytes(16);
    while (!b64(salt).includes("+"));
    const hash = pbkdf2Sync(pw, salt, 1100, 32, "sha256");
    const ab64 = (b) => b64(b).replaceAll("+", ".");
    users.push(make("passlib-ab64", pw, `$pbkdf2-sha256$i=1100,l=32$${ab64(salt)}$${ab64(hash)}`));
  }
  // Django: pbkdf2_sha256$<iterations>$<salt>$<base64 with padding>; the salt is used as text.
  {
    const pw = "django pass";
    const salt = "seasalt" + randomBytes(6).toString("hex");
    const hash = pbkdf2Sync(pw, salt, 1000, 32, "sha256").toString("base64");
    assert.ok(hash.endsWith("="), "Django's base64 keeps its padding");
    users.push(make("django", pw, `pbkdf2_sha256$1000$${salt}$${hash}`));
  }
  // Legacy point-of-sale: unsalted sha256:<hex>.
  {
    const pw = "cajero123 legacy";
    users.push(make("sha256", pw, `sha256:${createHash("sha256").update(pw).digest("hex")}`));
  }
  // bcrypt, cost 4, in its three prefixes.
  for (const version of ["$2b$", "$2a$", "$2y$"]) {
    const pw = bcrypt ? `bcrypt ${version} pass` : FIXED_BCRYPT.password;
    users.push(make(`bcrypt-${version.slice(1, 3)}`, pw, bcryptHash(pw, 4, version)));
  }
  return users;
}

async function importAndUpgrade(u) {
  const res = await importUsers(admin.tokens.access_token, { users: [{ username: u.username, password_hash: u.password_hash }] });
  const report = await expectReport(res);
  assert.deepEqual(report, { imported: 1, skipped: [] }, `${u.scheme}: ${u.password_hash}`);
  assert.equal(await storedHash(u.username), u.password_hash, "stored as given until the first login");

  // A wrong password is refused and upgrades nothing.
  const wrong = await w.post("/auth/login", { username: u.username, password: `${u.password}x` });
  await expectProblem(assert, wrong, 401, "invalid_credentials");
  assert.equal(await storedHash(u.username), u.password_hash, "unchanged after a wrong password");

  const first = await w.login(u.username, u.password);
  assert.equal(first.status, 200, `first login ${JSON.stringify(first.body)}`);
  assert.equal(first.body.user.username, u.username);
  assert.equal(first.body.user.role, "user", "the default role");

  const upgraded = await storedHash(u.username);
  assert.ok(upgraded.startsWith(CURRENT_PREFIX), `upgraded to ${CURRENT_PREFIX}, got ${upgraded.slice(0, 30)}`);
  if (u.scheme !== "own-phc") assert.notEqual(upgraded, u.password_hash);

  const second = await w.login(u.username, u.password);
  assert.equal(second.status, 200, "login after the upgrade");
  await expectProblem(assert, await w.post("/auth/login", { username: u.username, password: `${u.password}x` }), 401, "invalid_credentials");
}

for (const u of legacyUsers()) {
  test(`${u.scheme} (${u.password_hash.slice(0, 22)}...) imports, logs in, is upgraded at login and still logs in`, async () => {
    await importAndUpgrade(u);
  });
}

test("several schemes in one request are all imported", async () => {
  const users = legacyUsers().filter((u) => u.scheme !== "phc-sha512-32");
  const report = await expectReport(
    await importUsers(admin.tokens.access_token, { users: users.map(({ username, password_hash }) => ({ username, password_hash })) }),
  );
  assert.deepEqual(report, { imported: users.length, skipped: [] });
  for (const u of users) assert.equal((await w.login(u.username, u.password)).status, 200, u.scheme);
});

test("a bcrypt hash made now with bcryptjs (or the fixed vector) verifies only with its password", async () => {
  const username = uniqueName("bcrypt");
  const password = bcrypt ? `fresh ${randomBytes(4).toString("hex")}` : FIXED_BCRYPT.password;
  const report = await expectReport(
    await importUsers(admin.tokens.access_token, { users: [{ username, password_hash: bcryptHash(password, 5) }] }),
  );
  assert.equal(report.imported, 1);
  await expectProblem(assert, await w.post("/auth/login", { username, password: password.toUpperCase() }), 401, "invalid_credentials");
  assert.equal((await w.login(username, password)).status, 200);
  assert.ok((await storedHash(username)).startsWith(CURRENT_PREFIX));
});

test("imported users keep their email, role and display name", async () => {
  const username = uniqueName("full");
  const email = `${username}@Example.com`;
  const report = await expectReport(
    await importUsers(admin.tokens.access_token, {
      users: [{ username, email, role: "cajero", display_name: "Cashier One", password_hash: phcHash("cashier pass") }],
    }),
  );
  assert.equal(report.imported, 1);
  const row = await w.db.prepare("SELECT * FROM users WHERE username = ?1").bind(username).first();
  assert.equal(row.email, email.toLowerCase());
  assert.equal(row.role, "cajero");
  assert.equal(row.disabled, 0);
  const login = await w.login(email, "cashier pass");
  assert.equal(login.status, 200);
  assert.equal(login.body.user.role, "cajero");
});

// ---- refusals --------------------------------------------------------------------------------------------

test("refused entries are reported in skipped with their codes, the rest imported", async () => {
  const salt = randomBytes(16);
  const hash32 = pbkdf2Sync("x", salt, 1000, 32, "sha256");
  const ok = { username: uniqueName("okay"), password_hash: phcHash("okay password") };
  const cajero = { username: uniqueName("caj"), role: "cajero", password_hash: `sha256:${createHash("sha256").update("cajero pw").digest("hex")}` };
  const entries = [
    ["hash_cost_out_of_bounds", { username: uniqueName("pbk"), password_hash: `$pbkdf2-sha256$i=10000001,l=32$${b64(salt)}$${b64(hash32)}` }],
    ["hash_cost_out_of_bounds", { username: uniqueName("pbk512"), password_hash: `$pbkdf2-sha512$i=10000001,l=64$${b64(salt)}$${b64(Buffer.alloc(64, 1))}` }],
    ["hash_cost_out_of_bounds", { username: uniqueName("djg"), password_hash: `pbkdf2_sha256$99999999$salt$${hash32.toString("base64")}` }],
    ["hash_cost_out_of_bounds", { username: uniqueName("bc16"), password_hash: `$2b$16$${"a".repeat(53)}` }],
    ["hash_cost_out_of_bounds", { username: uniqueName("bc31"), password_hash: bcryptHash(FIXED_BCRYPT.password, 4).replace(/^\$2b\$04\$/, "$2b$31$") }],
    ["unsupported_hash", { username: uniqueName("argon"), password_hash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g" }],
    ["unsupported_hash", { username: uniqueName("md5"), password_hash: `md5:${createHash("md5").update("x").digest("hex")}` }],
    ["unsupported_hash", { username: uniqueName("plain"), password_hash: "plaintext password" }],
    ["unsupported_hash", { username: uniqueName("nohash") }],
    ["username_taken", { username: plain.user.username.toUpperCase(), password_hash: phcHash("taken pass") }],
    ["invalid_username", { username: "bad name!", password_hash: phcHash("invalid pass") }],
    ["invalid_username", { username: "ab", password_hash: phcHash("invalid pass") }],
    ["unknown_role", { username: uniqueName("role"), role: "superuser", password_hash: phcHash("role pass") }],
    ["invalid_email", { username: uniqueName("mail"), email: "not-an-email", password_hash: phcHash("mail pass") }],
  ];
  const res = await importUsers(admin.tokens.access_token, { users: [ok, ...entries.map(([, e]) => e), cajero] });
  const report = await expectReport(res);
  assert.equal(report.imported, 2, JSON.stringify(report));
  assert.equal(report.skipped.length, entries.length, JSON.stringify(report.skipped));
  entries.forEach(([code, entry], i) => {
    assert.deepEqual(report.skipped[i], { username: entry.username, code }, `entry ${i}`);
  });
  for (const [, entry] of entries) {
    if (entry.username === plain.user.username.toUpperCase()) continue;
    const row = await w.db.prepare("SELECT id FROM users WHERE username = ?1 COLLATE NOCASE").bind(entry.username).first();
    assert.equal(row, null, `${entry.username} was not created`);
  }
  // The existing user is untouched.
  assert.equal((await w.login(plain.user.username, plain.user.password)).status, 200);
  // A role listed in ROLES imports fine.
  const login = await w.login(cajero.username, "cajero pw");
  assert.equal(login.status, 200);
  assert.equal(login.body.user.role, "cajero");
  assert.equal((await w.login(ok.username, "okay password")).status, 200);
});

test("a username repeated within one import (any case) and an email already in use are skipped", async () => {
  const username = uniqueName("twice");
  const email = `${uniqueName("em")}@example.com`.toLowerCase();
  await w.seedUser({ email });
  const report = await expectReport(
    await importUsers(admin.tokens.access_token, {
      users: [
        { username, password_hash: phcHash("first pass") },
        { username: username.toUpperCase(), password_hash: phcHash("second pass") },
        { username: uniqueName("em2"), email: email.toUpperCase(), password_hash: phcHash("email pass") },
      ],
    }),
  );
  assert.equal(report.imported, 1);
  assert.deepEqual(report.skipped.map((s) => s.code), ["username_taken", "email_taken"]);
  assert.equal((await w.login(username, "first pass")).status, 200);
  assert.equal((await w.login(username, "second pass")).status, 401);
});

test("a refused cost parameter never reaches the login: the login of a planted out-of-bounds hash is a plain 401", async () => {
  // Planted directly in D1 (as if a pre-bounds import had stored it): the login must not spend the CPU.
  const salt = randomBytes(16);
  const user = await w.seedUser({
    passwordHash: `$pbkdf2-sha256$i=10000001,l=32$${b64(salt)}$${b64(Buffer.alloc(32))}`,
  });
  const started = Date.now();
  await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: "anything at all" }), 401, "invalid_credentials");
  assert.ok(Date.now() - started < 5000, "answered without running 10 million iterations");
});

// ---- who may import, and the request shape -----------------------------------------------------------------

test("demo and user get 403 forbidden and nothing is imported; no token is 401", async () => {
  for (const who of [demo, plain]) {
    const username = uniqueName("forb");
    const res = await importUsers(who.tokens.access_token, { users: [{ username, password_hash: phcHash("x pass word") }] });
    await expectProblem(assert, res, 403, "forbidden");
    assert.equal(await storedHash(username), undefined);
  }
  const res = await w.fetch("/auth/admin/users/import", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ users: [] }),
  });
  await expectProblem(assert, res, 401, "token_missing");
});

test("users not an array (or missing) is 400 on the users field", async () => {
  for (const body of [{ users: "alice" }, { users: { username: "alice" } }, { users: null }, {}]) {
    const res = await importUsers(admin.tokens.access_token, body);
    const problem = await expectProblem(assert, res, 400, "invalid_request");
    assert.equal(problem.errors?.[0]?.field, "users", JSON.stringify(body));
  }
});

test("an empty users array imports nothing", async () => {
  const report = await expectReport(await importUsers(admin.tokens.access_token, { users: [] }));
  assert.deepEqual(report, { imported: 0, skipped: [] });
});

test("more than 100 users is 400 and nothing is imported", async () => {
  // Short entries, so the body stays under the 16 KiB request limit.
  const prefix = `m${randomBytes(2).toString("hex")}`;
  const users = Array.from({ length: 101 }, (_, i) => ({ username: `${prefix}${i}` }));
  const body = JSON.stringify({ users });
  assert.ok(Buffer.byteLength(body) < 16 * 1024, `body is ${Buffer.byteLength(body)} bytes`);
  const problem = await expectProblem(assert, await importUsers(admin.tokens.access_token, body), 400, "invalid_request");
  assert.equal(problem.errors?.[0]?.field, "users");
  const { n } = await w.db.prepare("SELECT COUNT(*) AS n FROM users WHERE username LIKE ?1").bind(`${prefix}%`).first();
  assert.equal(n, 0);
});

test("exactly 100 (short) entries are accepted and each reported", async () => {
  const prefix = `f${randomBytes(2).toString("hex")}`;
  const users = Array.from({ length: 100 }, (_, i) => ({ username: `${prefix}${i}` }));
  const report = await expectReport(await importUsers(admin.tokens.access_token, { users }));
  assert.equal(report.imported, 0);
  assert.equal(report.skipped.length, 100);
  assert.ok(report.skipped.every((s) => s.code === "unsupported_hash"));
});

test("an imported hash of the current scheme below the configured cost is rehashed at the configured cost", async () => {
  const w2 = await startWorker({ bindings: { PASSWORD_ITERATIONS: "2000" } });
  try {
    const a = await w2.userWithToken({ role: "admin" });
    const username = uniqueName("lowcost");
    const res = await w2.fetch("/auth/admin/users/import", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${a.tokens.access_token}` },
      body: JSON.stringify({ users: [{ username, password_hash: phcHash("low cost pass", 1000) }] }),
    });
    assert.deepEqual(await expectReport(res), { imported: 1, skipped: [] });
    assert.equal((await w2.login(username, "low cost pass")).status, 200);
    const row = await w2.db.prepare("SELECT password_hash FROM users WHERE username = ?1").bind(username).first();
    assert.ok(row.password_hash.startsWith("$pbkdf2-sha512$i=2000,l=64$"), row.password_hash.slice(0, 30));
    assert.equal((await w2.login(username, "low cost pass")).status, 200);
  } finally {
    await w2.close();
  }
});
