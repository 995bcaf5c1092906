// Access-token refusals on GET /auth/profile, checked from outside: every forgery below differs from a
// token the Worker would accept in exactly one respect (see the control test), so each refusal is for
// the reason the test names.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startWorker, expectProblem, decodeJwt, signJwt, resign, TEST_SECRET } from "./helpers.mjs";

let w;
/** A logged-in user shared by the refusal tests (never modified). */
let alice;
before(async () => {
  w = await startWorker();
  alice = await w.userWithToken({ displayName: "Alice" });
});
after(async () => {
  await w?.close();
});

const USER_KEYS = ["created_at", "display_name", "email", "email_verified", "id", "role", "username"];
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function getProfile(token, { path = "/auth/profile", scheme = "Bearer" } = {}) {
  const headers = token === undefined ? {} : { Authorization: `${scheme} ${token}` };
  return w.fetch(path, { headers });
}

/** Header and claims of a token the Worker would accept now, for `user` (from its real login token). */
function validParts(tokens = alice.tokens) {
  const { header, claims } = decodeJwt(tokens.access_token);
  const now = nowSeconds();
  return { header: { ...header }, claims: { ...claims, jti: randomBytes(16).toString("base64url"), iat: now, exp: now + 900 } };
}

/** Asserts a 401 token_invalid with `WWW-Authenticate: Bearer ... error="invalid_token"`. */
async function expectInvalid(res) {
  const body = await expectProblem(assert, res, 401, "token_invalid");
  assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/);
  return body;
}

// ---- control -------------------------------------------------------------------------------------

test("the login token itself opens the profile, which is the user object", async () => {
  const res = await getProfile(alice.tokens.access_token);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), USER_KEYS);
  assert.equal(body.id, alice.user.id);
  assert.equal(body.username, alice.user.username);
  assert.equal(body.display_name, "Alice");
});

test("a token forged with the configured secret and every right field is accepted (control for the forgeries)", async () => {
  const { header, claims } = validParts();
  const res = await getProfile(signJwt(header, claims));
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).id, alice.user.id);
});

// ---- missing or malformed credentials ------------------------------------------------------------

test("no Authorization header is 401 token_missing with error=\"invalid_request\"", async () => {
  const res = await getProfile(undefined);
  await expectProblem(assert, res, 401, "token_missing");
  assert.match(res.headers.get("www-authenticate"), /^Bearer\b/);
  assert.match(res.headers.get("www-authenticate"), /error="invalid_request"/);
});

test("a Basic credential is refused as token_invalid", async () => {
  const res = await getProfile(Buffer.from(`${alice.user.username}:${alice.user.password}`).toString("base64"), {
    scheme: "Basic",
  });
  await expectInvalid(res);
});

test("a garbage bearer token is refused", async () => {
  await expectInvalid(await getProfile("not-a-jwt-at-all"));
});

test("a token with one flipped signature byte is refused", async () => {
  const [h, c, s] = alice.tokens.access_token.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[5] ^= 0x01;
  const flipped = `${h}.${c}.${sig.toString("base64url")}`;
  assert.notEqual(flipped, alice.tokens.access_token);
  await expectInvalid(await getProfile(flipped));
});

test("a payload tampered to another role without re-signing is refused", async () => {
  const [h, , s] = alice.tokens.access_token.split(".");
  const { claims } = decodeJwt(alice.tokens.access_token);
  assert.notEqual(claims.role, "admin");
  const tampered = `${h}.${b64url({ ...claims, role: "admin" })}.${s}`;
  await expectInvalid(await getProfile(tampered));
});

// ---- time --------------------------------------------------------------------------------------

test("a token expired by more than the 30 s leeway is 401 token_expired", async () => {
  const { header, claims } = validParts();
  const now = nowSeconds();
  const token = signJwt(header, { ...claims, iat: now - 1000, exp: now - 100 });
  const res = await getProfile(token);
  await expectProblem(assert, res, 401, "token_expired");
  assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/);
});

test("a token expired by less than the 30 s leeway still works", async () => {
  const { header, claims } = validParts();
  const now = nowSeconds();
  const token = signJwt(header, { ...claims, iat: now - 900, exp: now - 10 });
  const res = await getProfile(token);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).id, alice.user.id);
});

test("a token whose nbf is in the future is refused", async () => {
  const { header, claims } = validParts();
  await expectInvalid(await getProfile(signJwt(header, { ...claims, nbf: nowSeconds() + 600 })));
});

test("a token without exp is refused", async () => {
  const { header, claims } = validParts();
  delete claims.exp;
  await expectInvalid(await getProfile(signJwt(header, claims)));
});

// ---- algorithm and key ---------------------------------------------------------------------------

test("alg none with an empty signature is refused", async () => {
  const { header, claims } = validParts();
  const unsigned = `${b64url({ ...header, alg: "none" })}.${b64url(claims)}.`;
  await expectInvalid(await getProfile(unsigned));
});

for (const alg of ["HS512", "HS384"]) {
  test(`a token signed ${alg} with the same secret is refused`, async () => {
    const { header, claims } = validParts();
    await expectInvalid(await getProfile(signJwt({ ...header, alg }, claims, TEST_SECRET)));
  });
}

test("a token signed HS256 with another secret is refused", async () => {
  const { header, claims } = validParts();
  await expectInvalid(await getProfile(signJwt(header, claims, "another-secret-another-secret-another-0123")));
});

test("a token with an unknown kid is refused", async () => {
  const { header, claims } = validParts();
  await expectInvalid(await getProfile(signJwt({ ...header, kid: "hs-unknownkeyid" }, claims)));
});

test("a token without kid is refused", async () => {
  const { header, claims } = validParts();
  delete header.kid;
  await expectInvalid(await getProfile(signJwt(header, claims)));
});

for (const [name, value] of [
  ["jku", "https://evil.example/jwks.json"],
  ["x5u", "https://evil.example/cert.pem"],
  ["jwk", { kty: "oct", k: Buffer.from("attacker-chosen-key-attacker-chosen-key").toString("base64url") }],
  ["crit", ["exp"]],
]) {
  test(`a token whose header carries ${name} is refused`, async () => {
    const { header, claims } = validParts();
    await expectInvalid(await getProfile(signJwt({ ...header, [name]: value }, claims)));
  });
}

// ---- claims and type -------------------------------------------------------------------------------

test("a token for another audience is refused", async () => {
  await expectInvalid(await getProfile(resign(alice.tokens.access_token, (_h, c) => (c.aud = "another-api"))));
});

test("a token from another issuer is refused", async () => {
  await expectInvalid(await getProfile(resign(alice.tokens.access_token, (_h, c) => (c.iss = "someone-else"))));
});

test("a token typed JWT instead of at+jwt is refused", async () => {
  await expectInvalid(await getProfile(resign(alice.tokens.access_token, (h) => (h.typ = "JWT"))));
});

test("a token without typ is refused", async () => {
  await expectInvalid(await getProfile(resign(alice.tokens.access_token, (h) => delete h.typ)));
});

/** A validly signed token of exactly `length` characters (padded with an extra claim). */
function tokenOfLength(length) {
  const { header, claims } = validParts();
  const base = signJwt(header, { ...claims, pad: "" }).length;
  // base64url grows 4 chars per 3 bytes: find the padding that hits the length exactly.
  for (let n = Math.floor(((length - base) * 3) / 4) - 4; n < length; n++) {
    const token = signJwt(header, { ...claims, pad: "x".repeat(Math.max(0, n)) });
    if (token.length === length) return token;
    if (token.length > length) break;
  }
  throw new Error(`no token of length ${length}`);
}

test("a validly signed token of exactly 4 KiB is still accepted (control for the size limit)", async () => {
  const token = tokenOfLength(4096);
  const res = await getProfile(token);
  assert.equal(res.status, 200, await res.clone().text());
});

test("a validly signed token one character over 4 KiB is refused", async () => {
  const token = tokenOfLength(4097);
  await expectInvalid(await getProfile(token));
});

// ---- transport -------------------------------------------------------------------------------------

test("a token in the access_token query parameter is not accepted (token_missing)", async () => {
  const res = await w.fetch(`/auth/profile?access_token=${encodeURIComponent(alice.tokens.access_token)}`);
  await expectProblem(assert, res, 401, "token_missing");
  assert.match(res.headers.get("www-authenticate"), /error="invalid_request"/);
});

test("the scheme is case-insensitive: lowercase bearer works", async () => {
  const res = await getProfile(alice.tokens.access_token, { scheme: "bearer" });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).id, alice.user.id);
});

// ---- the profile itself ----------------------------------------------------------------------------

test("GET /auth/me answers the same as GET /auth/profile", async () => {
  const a = await getProfile(alice.tokens.access_token);
  const b = await getProfile(alice.tokens.access_token, { path: "/auth/me" });
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(b.headers.get("content-type"), a.headers.get("content-type"));
  assert.equal(b.headers.get("cache-control"), "no-store");
  assert.deepEqual(await b.json(), await a.json());
});

test("the profile is read fresh from D1, not from the token", async () => {
  const { user, tokens } = await w.userWithToken({ displayName: "Before" });
  await w.db.prepare("UPDATE users SET display_name = ?1 WHERE id = ?2").bind("After", user.id).run();
  const res = await getProfile(tokens.access_token);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).display_name, "After");
});

test("a user disabled in D1 after login gets 401 on the profile", async () => {
  const { user, tokens } = await w.userWithToken();
  assert.equal((await getProfile(tokens.access_token)).status, 200);
  await w.db.prepare("UPDATE users SET disabled = 1 WHERE id = ?1").bind(user.id).run();
  await expectInvalid(await getProfile(tokens.access_token));
});

test("a user deleted from D1 after login gets 401 on the profile", async () => {
  const { user, tokens } = await w.userWithToken();
  assert.equal((await getProfile(tokens.access_token)).status, 200);
  await w.db.prepare("DELETE FROM users WHERE id = ?1").bind(user.id).run();
  await expectInvalid(await getProfile(tokens.access_token));
});
