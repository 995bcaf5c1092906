// API_PROFILE=pos: the NestJS point-of-sale API (seeds/000_85ae75b6800958fa.txt). Base path /api/auth;
// POST /login {username 3-30, password >= 6} -> {access_token, user: {id, username, rol}}; GET /profile;
// roles admin and cajero in the `rol` claim; Bearer only (no cookie, no query string); NestJS bodies for
// 400 (class-validator), 401, 403 (RolesGuard) and 429 (Throttler).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, uniqueName } from "./helpers.mjs";
import {
  suiteWorker, seedAndSignIn, expectIdsStablePerUser, credentialRefusalTests, roomInWindow,
  expectJson, expectJsonKeys, expectOneSession, expectUserList, expectOpenApi, assertNumericId,
  BAD_TOKENS, bearer, tamperedToken,
} from "./profile-helpers.mjs";

const BASE = "/api/auth";
const UNAUTHORIZED = { statusCode: 401, message: "Unauthorized" };
const FORBIDDEN = { statusCode: 403, message: "Forbidden resource", error: "Forbidden" };
const THROTTLED = { statusCode: 429, message: "ThrottlerException: Too Many Requests" };
const PASSWORD = "cashier secret 1";

const login = (w, body, headers) => w.post(`${BASE}/login`, body, headers);
const profile = (w, init) => w.fetch(`${BASE}/profile`, init);
const loginAs = (w, user) => login(w, { username: user.username, password: user.password });

/** Asserts a NestJS ValidationPipe 400: statusCode 400, error "Bad Request", message a non-empty string array. */
async function expectNestValidation(res) {
  const body = await expectJson(res, 400);
  assert.deepEqual(Object.keys(body).sort(), ["error", "message", "statusCode"], JSON.stringify(body));
  assert.equal(body.statusCode, 400);
  assert.equal(body.error, "Bad Request");
  assert.ok(Array.isArray(body.message) && body.message.length > 0, JSON.stringify(body));
  for (const m of body.message) assert.ok(typeof m === "string" && m.length > 0, JSON.stringify(body));
  return body;
}

/** Seeds a user and logs in; returns {user, body, token} (body = the 200 login answer). */
async function signedIn(w, options = {}) {
  const { user, body } = await seedAndSignIn(w, { username: uniqueName("pos"), password: PASSWORD, ...options }, (u) => loginAs(w, u));
  return { user, body, token: body.access_token };
}

describe("pos: login, profile and tokens", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pos" } });

  // ---- login ------------------------------------------------------------------------------------------

  test("POST /api/auth/login with a correct username and password answers 200 {access_token, user: {id, username, rol}}", async () => {
    const user = await w.seedUser({ username: uniqueName("adm"), password: PASSWORD, role: "admin" });
    const body = await expectJsonKeys(await loginAs(w, user), 200, ["access_token", "user"]);
    assert.equal(typeof body.access_token, "string");
    assert.equal(body.access_token.split(".").length, 3, "the access token is a JWT");
    assert.deepEqual(Object.keys(body.user).sort(), ["id", "rol", "username"]);
    assertNumericId(body.user.id, "user.id");
    assert.deepEqual(body.user, { id: body.user.id, username: user.username, rol: "admin" });
  });

  test("a cajero logs in with rol cajero, without any ROLES setting", async () => {
    const { body } = await signedIn(w, { role: "cajero" });
    assert.equal(body.user.rol, "cajero");
  });

  test("the access token carries the role in the rol claim", async () => {
    const admin = await signedIn(w, { role: "admin" });
    const cajero = await signedIn(w, { role: "cajero" });
    assert.equal(decodeJwt(admin.token).claims.rol, "admin");
    assert.equal(decodeJwt(cajero.token).claims.rol, "cajero");
  });

  test("the access token is an HS256 JWT with iat and exp", async () => {
    const { token } = await signedIn(w);
    const { header, claims } = decodeJwt(token);
    assert.equal(header.alg, "HS256");
    assert.equal(typeof claims.iat, "number");
    assert.ok(claims.exp > claims.iat);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
  });

  test("the user id is a number, the same on every login of a user, different between users", async () => {
    await expectIdsStablePerUser(w, PASSWORD, async (u) => (await expectJson(await loginAs(w, u), 200)).user.id);
  });

  test("a username of exactly 3 characters and a password of exactly 6 log in", async () => {
    const user = await w.seedUser({ username: "ab3", password: "abc123" });
    const body = await expectJson(await login(w, { username: "ab3", password: "abc123" }), 200);
    assert.equal(body.user.username, user.username);
  });

  test("a username of exactly 30 characters logs in", async () => {
    const name = "u".repeat(30);
    await w.seedUser({ username: name, password: PASSWORD });
    const body = await expectJson(await login(w, { username: name, password: PASSWORD }), 200);
    assert.equal(body.user.username, name);
  });

  // ---- validation (400, NestJS ValidationPipe) ---------------------------------------------------------

  for (const [what, body] of [
    ["a username of 2 characters", { username: "ab", password: PASSWORD }],
    ["a username of 31 characters", { username: "u".repeat(31), password: PASSWORD }],
    ["a password of 5 characters", { username: "cajero1", password: "12345" }],
    ["no username", { password: PASSWORD }],
    ["no password", { username: "cajero1" }],
    ["a numeric username", { username: 12345, password: PASSWORD }],
    ["a numeric password", { username: "cajero1", password: 12345678 }],
    ["an empty body", {}],
  ]) {
    test(`login with ${what} is 400 with the NestJS validation body`, async () => {
      await expectNestValidation(await login(w, body));
    });
  }

  test("a password of 5 characters is a 400 even when it is the user's password: validation comes before the lookup", async () => {
    const user = await w.seedUser({ username: uniqueName("short"), password: "12345" });
    await expectNestValidation(await login(w, { username: user.username, password: "12345" }));
  });

  test("a username of 2 characters is 400, not 401, even though no such user exists", async () => {
    const res = await login(w, { username: "zz", password: "whatever123" });
    assert.equal(res.status, 400);
  });

  // ---- refusals (401) -------------------------------------------------------------------------------------

  credentialRefusalTests({
    refusal: UNAUTHORIZED,
    shown: "{statusCode: 401, message: Unauthorized}",
    field: "username",
    known: async (password) => {
      const user = await w.seedUser({ username: uniqueName("wp"), password: PASSWORD });
      return login(w, { username: user.username, password });
    },
    unknown: (password) => login(w, { username: uniqueName("ghost"), password }),
    wrong: "not the password",
    right: PASSWORD,
  });

  test("the password is compared exactly: another case is 401", async () => {
    const user = await w.seedUser({ username: uniqueName("case"), password: "Secret123" });
    await expectJson(await login(w, { username: user.username, password: "secret123" }), 401, UNAUTHORIZED);
  });

  // ---- profile ------------------------------------------------------------------------------------------------

  test("GET /api/auth/profile with the Bearer token answers 200 {id, username, rol} of the login", async () => {
    const { user, body, token } = await signedIn(w, { role: "cajero" });
    const res = await profile(w, { headers: bearer(token) });
    await expectJson(res, 200, { id: body.user.id, username: user.username, rol: "cajero" });
  });

  test("GET /api/auth/profile without an Authorization header is 401 Unauthorized", async () => {
    await expectJson(await profile(w), 401, UNAUTHORIZED);
  });

  test("GET /api/auth/profile with an empty Bearer is 401 Unauthorized", async () => {
    await expectJson(await profile(w, { headers: { Authorization: "Bearer " } }), 401, UNAUTHORIZED);
  });

  test("GET /api/auth/profile with the token under another scheme (Basic) is 401 Unauthorized", async () => {
    const { token } = await signedIn(w);
    await expectJson(await profile(w, { headers: { Authorization: `Basic ${token}` } }), 401, UNAUTHORIZED);
  });

  for (const [what, forge] of BAD_TOKENS) {
    test(`GET /api/auth/profile with ${what} is 401 Unauthorized`, async () => {
      const { token } = await signedIn(w);
      await expectJson(await profile(w, { headers: bearer(forge(token)) }), 401, UNAUTHORIZED);
    });
  }

  test("a cajero token whose rol claim is changed to admin (signature kept) is 401 Unauthorized", async () => {
    const { token } = await signedIn(w, { role: "cajero" });
    const forged = tamperedToken(token, (c) => {
      c.rol = "admin";
      c.role = "admin";
    });
    await expectJson(await profile(w, { headers: bearer(forged) }), 401, UNAUTHORIZED);
    await expectJson(await w.fetch(`${BASE}/admin/users`, { headers: bearer(forged) }), 401, UNAUTHORIZED);
  });

  for (const param of ["access_token", "token"]) {
    test(`a valid token in the query string (?${param}=) is ignored: 401 Unauthorized`, async () => {
      const { token } = await signedIn(w);
      await expectJson(await w.fetch(`${BASE}/profile?${param}=${encodeURIComponent(token)}`), 401, UNAUTHORIZED);
    });
  }

  test("a valid token in a cookie is ignored: 401 Unauthorized", async () => {
    const { token } = await signedIn(w);
    const cookie = ["access_token", "accessToken", "token", "jwt", "__Host-edge-auth-access"].map((n) => `${n}=${token}`).join("; ");
    await expectJson(await profile(w, { headers: { Cookie: cookie } }), 401, UNAUTHORIZED);
  });

  // ---- roles: 401 vs 403 -----------------------------------------------------------------------------------

  test("a cajero on GET /api/auth/admin/users is 403 {statusCode: 403, message: Forbidden resource, error: Forbidden}", async () => {
    const { token } = await signedIn(w, { role: "cajero" });
    await expectJson(await w.fetch(`${BASE}/admin/users`, { headers: bearer(token) }), 403, FORBIDDEN);
  });

  test("an admin on GET /api/auth/admin/users answers 200 with the users", async () => {
    const { token, user } = await signedIn(w, { role: "admin" });
    const body = await expectUserList(await w.fetch(`${BASE}/admin/users?limit=100`, { headers: bearer(token) }));
    assert.ok(body.users.length >= 1);
    assert.ok(JSON.stringify(body.users).includes(user.username));
  });

  test("GET /api/auth/admin/users without a token is 401 Unauthorized, not 403", async () => {
    await expectJson(await w.fetch(`${BASE}/admin/users`), 401, UNAUTHORIZED);
  });

  test("an admin creates a cajero through the admin API without any ROLES setting, and the cajero logs in with rol cajero", async () => {
    const { token } = await signedIn(w, { role: "admin" });
    const name = uniqueName("caja");
    const res = await w.post(`${BASE}/admin/users`, { username: name, password: "a long passphrase", role: "cajero" }, bearer(token));
    assert.equal(res.status, 201, await res.text());
    const body = await expectJson(await login(w, { username: name, password: "a long passphrase" }), 200);
    assert.equal(body.user.rol, "cajero");
  });

  // ---- native endpoints under /api/auth -------------------------------------------------------------------

  test("GET /api/auth/sessions with a pos token lists the caller's sessions", async () => {
    const { token } = await signedIn(w, { role: "cajero" });
    await expectOneSession(await w.fetch(`${BASE}/sessions`, { headers: bearer(token) }));
  });

  test("GET /api/auth/sessions without a token is 401 Unauthorized", async () => {
    await expectJson(await w.fetch(`${BASE}/sessions`), 401, UNAUTHORIZED);
  });

  test("GET /api/auth/openapi.json documents /login and /profile with servers[0].url /api/auth", async () => {
    await expectOpenApi(w, BASE, ["/login", "/profile"]);
  });

  test("GET /health stays at /health and answers 200 {status: ok}", async () => {
    await expectJson(await w.fetch("/health"), 200, { status: "ok" });
  });

  test("the native base path /auth is not served: POST /auth/login is 404", async () => {
    const user = await w.seedUser({ username: uniqueName("nat"), password: PASSWORD });
    const res = await w.post("/auth/login", { username: user.username, password: user.password });
    assert.equal(res.status, 404, await res.text());
  });
});

describe("pos: throttling (RATE_LIMIT_LOGIN_IP 3/1m set explicitly)", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pos", RATE_LIMIT_LOGIN_IP: "3/1m" } });

  test("over the limit login is 429 {statusCode: 429, message: ThrottlerException: Too Many Requests} with Retry-After", async () => {
    const user = await w.seedUser({ username: uniqueName("thr"), password: PASSWORD });
    await roomInWindow(60, 15);
    const ip = { "CF-Connecting-IP": "203.0.113.70" };
    for (let i = 0; i < 3; i++) {
      await expectJson(await login(w, { username: user.username, password: "wrong password" }, ip), 401, UNAUTHORIZED);
    }
    const res = await login(w, { username: user.username, password: user.password }, ip);
    await expectJson(res, 429, THROTTLED);
    assert.match(res.headers.get("retry-after") ?? "", /^[0-9]+$/);
  });

  test("a throttled IP does not throttle another IP", async () => {
    const user = await w.seedUser({ username: uniqueName("thr"), password: PASSWORD });
    await roomInWindow(60, 15);
    for (let i = 0; i < 4; i++) await login(w, { username: user.username, password: "wrong password" }, { "CF-Connecting-IP": "203.0.113.71" });
    await expectJson(await login(w, { username: user.username, password: "wrong password" }, { "CF-Connecting-IP": "203.0.113.71" }), 429, THROTTLED);
    const res = await login(w, { username: user.username, password: user.password }, { "CF-Connecting-IP": "203.0.113.72" });
    assert.equal(res.status, 200, await res.text());
  });
});
