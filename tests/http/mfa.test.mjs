// Second factors from outside: TOTP (RFC 6238) computed here independently with node:crypto, recovery
// codes, the two-step login, replays, skew, concurrency, and the admin reset.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { decodeJwt, expectProblem, startWorker, uniqueName } from "./helpers.mjs";

/** RFC 4648 base32 (no padding) -> bytes. */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) of `secret` at unix time `t`. */
export function totp(secret, t = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const h = createHmac("sha1", secret).update(counter).digest();
  const o = h[19] & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("the code function here matches RFC 6238 appendix B (so the Worker is checked against the RFC)", () => {
  const seed = Buffer.from("12345678901234567890");
  assert.equal(totp(seed, 59), "287082");
  assert.equal(totp(seed, 1111111109), "081804");
  assert.equal(totp(seed, 2000000000), "279037");
});

let w;
before(async () => {
  w = await startWorker();
});
after(() => w?.close());

const auth = (token) => ({ Authorization: `Bearer ${token}` });

/** A user with TOTP enabled: {user, tokens, secret, recovery}. */
async function enrolled() {
  const { user, tokens } = await w.userWithToken({ username: uniqueName("mfa") });
  const setup = await w.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token));
  assert.equal(setup.status, 200);
  const body = await setup.json();
  const secret = base32Decode(body.secret);
  // A code one step back, so the tests' own "current" code is still unused afterwards.
  const enable = await w.post("/auth/mfa/totp/enable", { code: totp(secret, Date.now() / 1000 - 30) }, auth(tokens.access_token));
  assert.equal(enable.status, 200);
  const { recovery_codes: recovery } = await enable.json();
  return { user, tokens, secret, recovery };
}

async function passwordStep(user) {
  const res = await w.post("/auth/login", { username: user.username, password: user.password });
  return res;
}

describe("enrolment", () => {
  test("set-up returns an otpauth URI, the base32 secret and an SVG QR code", async () => {
    const { user, tokens } = await w.userWithToken();
    const res = await w.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.match(body.secret, /^[A-Z2-7]{32}$/, "160 bits");
    assert.equal(body.otpauth_uri, `otpauth://totp/edge-auth:${encodeURIComponent(user.username)}?secret=${body.secret}&issuer=edge-auth&algorithm=SHA1&digits=6&period=30`);
    assert.match(body.qr_svg, /<svg/);
    assert.equal(res.headers.get("cache-control"), "no-store");
  });

  test("the secret is sealed at rest: D1 holds no base32 or raw form of it", async () => {
    const { user, tokens } = await w.userWithToken();
    const body = await (await w.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token))).json();
    const row = await w.db.prepare("SELECT secret FROM mfa_totp WHERE user_id = ?1").bind(user.id).first();
    assert.match(row.secret, /^v1\./);
    assert.equal(row.secret.includes(body.secret), false);
    assert.equal(row.secret.includes(base32Decode(body.secret).toString("base64url")), false);
  });

  test("enabling with a wrong code is 401 mfa_code_invalid and enables nothing", async () => {
    const { user, tokens } = await w.userWithToken();
    await w.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token));
    await expectProblem(assert, await w.post("/auth/mfa/totp/enable", { code: "000000" }, auth(tokens.access_token)), 401, "mfa_code_invalid");
    assert.equal((await passwordStep(user)).status, 200, "login still has one step");
  });

  test("enabling returns 10 distinct recovery codes; enabling twice or setting up again is 409", async () => {
    const { tokens, recovery, secret } = await enrolled();
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    for (const c of recovery) assert.match(c, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    await expectProblem(assert, await w.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token)), 409, "mfa_already_enabled");
    await expectProblem(assert, await w.post("/auth/mfa/totp/enable", { code: totp(secret) }, auth(tokens.access_token)), 409, "mfa_already_enabled");
  });

  test("every endpoint needs a signed-in caller", async () => {
    for (const path of ["/auth/mfa/totp/setup", "/auth/mfa/totp/enable", "/auth/mfa/totp/disable", "/auth/mfa/recovery-codes"]) {
      await expectProblem(assert, await w.post(path, {}), 401, "token_missing");
    }
  });

  test("bad bodies are 400, never 5xx", async () => {
    const { tokens } = await w.userWithToken();
    for (const [path, body] of [
      ["/auth/mfa/totp/enable", {}],
      ["/auth/mfa/totp/enable", { code: 123456 }],
      ["/auth/mfa/totp/disable", {}],
      ["/auth/mfa/totp/disable", { code: "1", recovery_code: "2" }],
      ["/auth/mfa/verify", { code: "123456" }],
      ["/auth/mfa/verify", { mfa_token: "x" }],
    ]) {
      const res = await w.post(path, body, auth(tokens.access_token));
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
    }
  });
});

describe("login with a second factor", () => {
  test("a correct password answers 401 mfa_required with an mfa_token and the methods, and no tokens", async () => {
    const { user } = await enrolled();
    const res = await passwordStep(user);
    const body = await expectProblem(assert, res, 401, "mfa_required");
    assert.deepEqual(body.methods, ["totp", "recovery_code"]);
    assert.match(body.mfa_token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.access_token, undefined);
  });

  test("a wrong password still answers invalid_credentials, not mfa_required", async () => {
    const { user } = await enrolled();
    await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: "wrong password!" }), 401, "invalid_credentials");
  });

  test("the mfa_token and a current code give the token response, with amr [pwd, otp] and auth_time", async () => {
    const { user, secret } = await enrolled();
    const { mfa_token } = await (await passwordStep(user)).json();
    const res = await w.post("/auth/mfa/verify", { mfa_token, code: totp(secret) });
    assert.equal(res.status, 200);
    const tokens = await res.json();
    const claims = decodeJwt(tokens.access_token).claims;
    assert.deepEqual(claims.amr, ["pwd", "otp"]);
    assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 60);
    assert.equal((await w.fetch("/auth/me", { headers: auth(tokens.access_token) })).status, 200);
    // Refresh keeps amr and auth_time.
    const refreshed = await (await w.post("/auth/refresh", { refresh_token: tokens.refresh_token })).json();
    const again = decodeJwt(refreshed.access_token).claims;
    assert.deepEqual([again.amr, again.auth_time], [claims.amr, claims.auth_time]);
  });

  test("the mfa_token is single use, and useless as an access token", async () => {
    const { user, secret } = await enrolled();
    const { mfa_token } = await (await passwordStep(user)).json();
    await expectProblem(assert, await w.fetch("/auth/me", { headers: auth(mfa_token) }), 401, "token_invalid");
    assert.equal((await w.post("/auth/mfa/verify", { mfa_token, code: totp(secret) })).status, 200);
    await expectProblem(assert, await w.post("/auth/mfa/verify", { mfa_token, code: totp(secret, Date.now() / 1000 + 30) }), 401, "mfa_token_invalid");
  });

  test("an unknown mfa_token is 401 mfa_token_invalid", async () => {
    await expectProblem(assert, await w.post("/auth/mfa/verify", { mfa_token: "A".repeat(43), code: "123456" }), 401, "mfa_token_invalid");
  });

  test("a code is accepted once: its replay in the same window fails", async () => {
    const { user, secret } = await enrolled();
    const code = totp(secret);
    const first = await (await passwordStep(user)).json();
    assert.equal((await w.post("/auth/mfa/verify", { mfa_token: first.mfa_token, code })).status, 200);
    const second = await (await passwordStep(user)).json();
    await expectProblem(assert, await w.post("/auth/mfa/verify", { mfa_token: second.mfa_token, code }), 401, "mfa_code_invalid");
  });

  test("one step of skew either way is accepted, two are not", async () => {
    const { user, secret } = await enrolled();
    const now = Date.now() / 1000;
    for (const [offset, ok] of [[-90, false], [90, false], [30, true]]) {
      const { mfa_token } = await (await passwordStep(user)).json();
      const res = await w.post("/auth/mfa/verify", { mfa_token, code: totp(secret, now + offset) });
      assert.equal(res.status, ok ? 200 : 401, `offset ${offset}`);
    }
  });

  test("a recovery code finishes a login once; the second use is refused", async () => {
    const { user, recovery } = await enrolled();
    const one = await (await passwordStep(user)).json();
    assert.equal((await w.post("/auth/mfa/verify", { mfa_token: one.mfa_token, recovery_code: recovery[0].toLowerCase() })).status, 200);
    const two = await (await passwordStep(user)).json();
    await expectProblem(assert, await w.post("/auth/mfa/verify", { mfa_token: two.mfa_token, recovery_code: recovery[0] }), 401, "mfa_code_invalid");
  });

  test("a recovery code used concurrently works exactly once", async () => {
    const { user, recovery } = await enrolled();
    const tokens = [];
    for (let i = 0; i < 5; i++) tokens.push((await (await passwordStep(user)).json()).mfa_token);
    const results = await Promise.all(tokens.map((mfa_token) => w.post("/auth/mfa/verify", { mfa_token, recovery_code: recovery[1] })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 401).length, 4);
  });

  test("wrong codes count against the account like failed logins (429 after the free failures)", async () => {
    const strict = await startWorker({ bindings: { LOGIN_FREE_FAILURES: "2" } });
    try {
      const { user, tokens } = await strict.userWithToken();
      const setup = await (await strict.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token))).json();
      const secret = base32Decode(setup.secret);
      assert.equal((await strict.post("/auth/mfa/totp/enable", { code: totp(secret, Date.now() / 1000 - 30) }, auth(tokens.access_token))).status, 200);
      const { mfa_token } = await (await strict.post("/auth/login", { username: user.username, password: user.password })).json();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await strict.post("/auth/mfa/verify", { mfa_token, code: "000000" })).status);
      assert.deepEqual(statuses.slice(0, 2), [401, 401]);
      assert.ok(statuses.slice(2).includes(429), statuses.join());
    } finally {
      await strict.close();
    }
  });
});

describe("managing factors", () => {
  test("disabling needs a current code; afterwards the login has one step again", async () => {
    const { user, tokens, secret } = await enrolled();
    await expectProblem(assert, await w.post("/auth/mfa/totp/disable", { code: "000000" }, auth(tokens.access_token)), 401, "mfa_code_invalid");
    const res = await w.post("/auth/mfa/totp/disable", { code: totp(secret) }, auth(tokens.access_token));
    assert.equal(res.status, 204);
    assert.equal((await passwordStep(user)).status, 200);
    const rows = await w.db.prepare("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?1").bind(user.id).first();
    assert.equal(rows.n, 0);
  });

  test("new recovery codes after a recent sign-in: the old set stops working", async () => {
    const { user, secret, recovery } = await enrolled();
    const { mfa_token } = await (await passwordStep(user)).json();
    const fresh = await (await w.post("/auth/mfa/verify", { mfa_token, code: totp(secret) })).json();
    const res = await w.post("/auth/mfa/recovery-codes", {}, auth(fresh.access_token));
    assert.equal(res.status, 200);
    const { recovery_codes } = await res.json();
    assert.equal(recovery_codes.length, 10);
    const old = await (await passwordStep(user)).json();
    await expectProblem(assert, await w.post("/auth/mfa/verify", { mfa_token: old.mfa_token, recovery_code: recovery[5] }), 401, "mfa_code_invalid");
    const newer = await (await passwordStep(user)).json();
    assert.equal((await w.post("/auth/mfa/verify", { mfa_token: newer.mfa_token, recovery_code: recovery_codes[0] })).status, 200);
  });

  test("new recovery codes with a sign-in older than 10 minutes need a code (403 reauthentication_required)", async () => {
    const { user, tokens } = await enrolled();
    const old = Math.floor(Date.now() / 1000) - 3600;
    await w.db.prepare("UPDATE sessions SET auth_time = ?1 WHERE user_id = ?2").bind(old, user.id).run();
    const refreshed = await (await w.post("/auth/refresh", { refresh_token: tokens.refresh_token })).json();
    assert.equal(decodeJwt(refreshed.access_token).claims.auth_time, old);
    await expectProblem(assert, await w.post("/auth/mfa/recovery-codes", {}, auth(refreshed.access_token)), 403, "reauthentication_required");
  });

  test("an admin resets a user's factors: login has one step, the user's sessions end; a user may not", async () => {
    const { user, tokens } = await enrolled();
    const admin = await w.userWithToken({ role: "admin" });
    const someone = await w.userWithToken();
    await expectProblem(assert, await w.fetch(`/auth/admin/users/${user.id}/mfa`, { method: "DELETE", headers: auth(someone.tokens.access_token) }), 403, "forbidden");
    const res = await w.fetch(`/auth/admin/users/${user.id}/mfa`, { method: "DELETE", headers: auth(admin.tokens.access_token) });
    assert.equal(res.status, 204);
    assert.equal((await passwordStep(user)).status, 200);
    await expectProblem(assert, await w.post("/auth/refresh", { refresh_token: tokens.refresh_token }), 401, "refresh_token_invalid");
    await expectProblem(assert, await w.fetch("/auth/admin/users/nope/mfa", { method: "DELETE", headers: auth(admin.tokens.access_token) }), 404, "not_found");
  });
});

describe("without MFA_ENCRYPTION_KEY", () => {
  test("set-up is 503 (nothing can be sealed), and logins without factors work", async () => {
    const plain = await startWorker({ bindings: { MFA_ENCRYPTION_KEY: "" } });
    try {
      const { tokens } = await plain.userWithToken();
      await expectProblem(assert, await plain.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token)), 503, "service_unavailable");
    } finally {
      await plain.close();
    }
  });
});

describe("MFA_REQUIRED_ROLES", () => {
  let strict;
  before(async () => {
    strict = await startWorker({ bindings: { MFA_REQUIRED_ROLES: "admin" } });
  });
  after(() => strict?.close());

  test("an admin without a second factor gets 403 mfa_enrollment_required with a token that only reaches set-up", async () => {
    const admin = await strict.seedUser({ role: "admin" });
    const res = await strict.post("/auth/login", { username: admin.username, password: admin.password });
    const body = await expectProblem(assert, res, 403, "mfa_enrollment_required");
    assert.match(body.mfa_token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.access_token, undefined);
    const enrol = auth(body.mfa_token);
    // Nothing but the TOTP set-up accepts it.
    await expectProblem(assert, await strict.fetch("/auth/me", { headers: enrol }), 401, "token_invalid");
    await expectProblem(assert, await strict.fetch("/auth/admin/users", { headers: enrol }), 401, "token_invalid");
    await expectProblem(assert, await strict.post("/auth/mfa/recovery-codes", {}, enrol), 401, "token_invalid");
    await expectProblem(assert, await strict.post("/auth/mfa/verify", { mfa_token: body.mfa_token, code: "123456" }), 401, "mfa_token_invalid");
    // Set-up and enabling work with it; then the login asks for the second factor.
    const setup = await (await strict.post("/auth/mfa/totp/setup", {}, enrol)).json();
    const secret = base32Decode(setup.secret);
    const enabled = await strict.post("/auth/mfa/totp/enable", { code: totp(secret, Date.now() / 1000 - 30) }, enrol);
    assert.equal(enabled.status, 200);
    const again = await strict.post("/auth/login", { username: admin.username, password: admin.password });
    const pending = await expectProblem(assert, again, 401, "mfa_required");
    const done = await strict.post("/auth/mfa/verify", { mfa_token: pending.mfa_token, code: totp(secret) });
    assert.equal(done.status, 200);
  });

  test("other roles sign in with a password alone", async () => {
    const user = await strict.seedUser({ role: "user" });
    assert.equal((await strict.post("/auth/login", { username: user.username, password: user.password })).status, 200);
  });

  test("a wrong password of an admin is still invalid_credentials (the rule shows only after a correct one)", async () => {
    const admin = await strict.seedUser({ role: "admin" });
    await expectProblem(assert, await strict.post("/auth/login", { username: admin.username, password: "wrong password!" }), 401, "invalid_credentials");
  });
});

describe("sensitive changes need a recent sign-in", () => {
  test("changing the email address with a sign-in older than 10 minutes is 403 reauthentication_required", async () => {
    const { user, tokens } = await w.userWithToken({ email: `${uniqueName("old")}@example.com`.toLowerCase() });
    const fresh = await w.fetch("/auth/me", {
      method: "PATCH",
      headers: { ...auth(tokens.access_token), "Content-Type": "application/json" },
      body: JSON.stringify({ email: `${uniqueName("new")}@example.com`.toLowerCase() }),
    });
    assert.equal(fresh.status, 200, "right after the sign-in");
    const old = Math.floor(Date.now() / 1000) - 3600;
    await w.db.prepare("UPDATE sessions SET auth_time = ?1 WHERE user_id = ?2").bind(old, user.id).run();
    const refreshed = await (await w.post("/auth/refresh", { refresh_token: tokens.refresh_token })).json();
    const stale = await w.fetch("/auth/me", {
      method: "PATCH",
      headers: { ...auth(refreshed.access_token), "Content-Type": "application/json" },
      body: JSON.stringify({ email: `${uniqueName("other")}@example.com`.toLowerCase() }),
    });
    await expectProblem(assert, stale, 403, "reauthentication_required");
  });
});

describe("guessing codes", () => {
  test("setting up TOTP with a sign-in older than 10 minutes is 403 reauthentication_required", async () => {
    const { user, tokens } = await w.userWithToken();
    const old = Math.floor(Date.now() / 1000) - 3600;
    await w.db.prepare("UPDATE sessions SET auth_time = ?1 WHERE user_id = ?2").bind(old, user.id).run();
    const refreshed = await (await w.post("/auth/refresh", { refresh_token: tokens.refresh_token })).json();
    await expectProblem(assert, await w.post("/auth/mfa/totp/setup", {}, auth(refreshed.access_token)), 403, "reauthentication_required");
  });

  test("wrong codes at disable count like failed logins, and a correct password does not reset the count", async () => {
    const strict = await startWorker({ bindings: { LOGIN_FREE_FAILURES: "2" } });
    try {
      const { user, tokens } = await strict.userWithToken();
      const setup = await (await strict.post("/auth/mfa/totp/setup", {}, auth(tokens.access_token))).json();
      const secret = base32Decode(setup.secret);
      assert.equal((await strict.post("/auth/mfa/totp/enable", { code: totp(secret, Date.now() / 1000 - 30) }, auth(tokens.access_token))).status, 200);
      // One wrong code at disable (1 failure), the right password (the count must stay), one wrong
      // code at verify (2 failures: the free ones are used up), then the next attempt is throttled.
      await expectProblem(assert, await strict.post("/auth/mfa/totp/disable", { code: "000000" }, auth(tokens.access_token)), 401, "mfa_code_invalid");
      const login = await strict.post("/auth/login", { username: user.username, password: user.password });
      const { mfa_token } = await expectProblem(assert, login, 401, "mfa_required");
      await expectProblem(assert, await strict.post("/auth/mfa/verify", { mfa_token, code: "000000" }), 401, "mfa_code_invalid");
      const throttled = await strict.post("/auth/mfa/verify", { mfa_token, code: totp(secret) });
      assert.equal(throttled.status, 429, "even the right code waits: the wrong ones were not forgotten");
    } finally {
      await strict.close();
    }
  });
});
