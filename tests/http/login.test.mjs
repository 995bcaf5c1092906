import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, decodeJwt, uniqueName } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.close();
});

test("a correct username and password return the full token response", async () => {
  const user = await w.seedUser({ displayName: "Alice" });
  const res = await w.post("/auth/login", { username: user.username, password: user.password });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match(res.headers.get("content-type"), /^application\/json/);
  const body = await res.json();
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 900);
  assert.deepEqual(Object.keys(body.user).sort(), ["created_at", "display_name", "email", "email_verified", "id", "role", "username"]);
  assert.equal(body.user.id, user.id);
  assert.equal(body.user.display_name, "Alice");
  assert.match(body.user.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(JSON.stringify(body).includes("pbkdf2"), false, "no hash in the response");
});

test("the access token has the header and claims of the contract", async () => {
  const { user, tokens } = await w.userWithToken({ role: "demo" });
  const { header, claims } = decodeJwt(tokens.access_token);
  assert.equal(header.alg, "HS256");
  assert.equal(header.typ, "at+jwt");
  assert.match(header.kid, /^hs-/);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.role, "demo");
  assert.equal(claims.username, user.username);
  assert.equal(claims.iss, "edge-auth");
  assert.equal(claims.aud, "edge-auth");
  for (const c of ["sid", "jti"]) assert.equal(typeof claims[c], "string");
  assert.equal(claims.exp - claims.iat, 900);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
});

test("login accepts the email, a differently cased username, surrounding spaces, and `email` as the field", async () => {
  const name = uniqueName("Mixed");
  const user = await w.seedUser({ username: name, email: `${name.toLowerCase()}@example.com` });
  for (const body of [
    { username: user.email.toUpperCase(), password: user.password },
    { username: `  ${name.toUpperCase()} `, password: user.password },
    { email: user.email, password: user.password },
  ]) {
    const res = await w.post("/auth/login", body);
    assert.equal(res.status, 200, JSON.stringify(body));
  }
});

test("unknown user and wrong password get byte-identical 401 bodies", async () => {
  const user = await w.seedUser();
  const wrong = await w.post("/auth/login", { username: user.username, password: "not the password" });
  const unknown = await w.post("/auth/login", { username: uniqueName("ghost"), password: "not the password" });
  const a = await expectProblem(assert, wrong, 401, "invalid_credentials");
  const b = await expectProblem(assert, unknown, 401, "invalid_credentials");
  assert.deepEqual(a, b);
  assert.equal(wrong.headers.get("www-authenticate"), unknown.headers.get("www-authenticate"));
});

test("a disabled account is told only after a correct password", async () => {
  const user = await w.seedUser({ disabled: 1 });
  await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: "nope-nope" }), 401, "invalid_credentials");
  await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: user.password }), 403, "account_disabled");
});

test("the password is never trimmed or case-folded", async () => {
  const user = await w.seedUser({ password: " Spaced Password " });
  assert.equal((await w.login(user.username, "Spaced Password")).status, 401);
  assert.equal((await w.login(user.username, " spaced password ")).status, 401);
  assert.equal((await w.login(user.username, " Spaced Password ")).status, 200);
});

test("a hash below the configured cost is upgraded at the next login", async () => {
  const { phcHash } = await import("./helpers.mjs");
  const user = await w.seedUser({ passwordHash: phcHash("upgrade me please", 500), password: "upgrade me please" });
  assert.equal((await w.login(user.username, "upgrade me please")).status, 200);
  const row = await w.db.prepare("SELECT password_hash, last_login_at FROM users WHERE id = ?1").bind(user.id).first();
  assert.match(row.password_hash, /^\$pbkdf2-sha512\$i=1000,l=64\$/);
  assert.ok(row.last_login_at > 0);
  assert.equal((await w.login(user.username, "upgrade me please")).status, 200);
});

test("a corrupt stored hash is a 401, never a 500", async () => {
  const user = await w.seedUser({ passwordHash: "not-a-phc-string" });
  await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: user.password }), 401, "invalid_credentials");
});

// The Worker normalises and lowercases through the JavaScript engine's Unicode functions; hashes made
// elsewhere (here: Node's ICU, as `edge-auth-cli` does with Rust's tables) must verify alike.
test("a password hashed outside the Worker (NFKC by another implementation) logs in in any equivalent form", async () => {
  const password = "Ｃafe\u0301 ﬁ① mot de passe"; // fullwidth C, e + combining acute, the fi ligature, ①
  const user = await w.seedUser({ password });
  for (const form of [password, password.normalize("NFC"), password.normalize("NFD"), password.normalize("NFKC")]) {
    const res = await w.post("/auth/login", { username: user.username, password: form });
    assert.equal(res.status, 200, JSON.stringify(form));
  }
  const wrong = await w.post("/auth/login", { username: user.username, password: "Cafe fi1 mot de passe" });
  await expectProblem(assert, wrong, 401, "invalid_credentials");
});

test("a non-ASCII email address logs in whatever the case it is typed in", async () => {
  const email = `ÉLODIE.${uniqueName("u")}@EXEMPLE.FR`;
  const user = await w.seedUser({ email: email.toLowerCase() });
  for (const typed of [email, email.toLowerCase()]) {
    const res = await w.post("/auth/login", { username: typed, password: user.password });
    assert.equal(res.status, 200, typed);
  }
});
