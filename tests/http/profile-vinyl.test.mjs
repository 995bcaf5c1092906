// API_PROFILE=vinyl: the vinyl record store API (seeds/003_cbd0742cef43653c.txt). Base path: the root;
// POST /login {nombre_usuario (trimmed), password} -> {token, nombre, es_admin, es_demo}; a 7-day JWT
// whose payload holds id (number), nombre and rol; Spanish {"error": ...} bodies for 400, 401, 429 and
// 500; 10 login requests per 15 minutes per IP, every request counted; the demo role reads the admin
// views and may not write.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, uniqueName } from "./helpers.mjs";
import {
  suiteWorker, seedAndSignIn, expectIdsStablePerUser, credentialRefusalTests, roomInWindow,
  expectJson, expectJsonKeys, expectOneSession, expectUserList, expectOpenApi, assertNumericId, assertLifetime,
  BAD_TOKENS, bearer,
} from "./profile-helpers.mjs";

const REQUIRED = { error: "Nombre y contraseña son requeridos." };
const BAD_CREDENTIALS = { error: "Credenciales inválidas." };
const THROTTLED = { error: "Demasiados intentos. Intenta de nuevo en 15 minutos." };
const SERVER_ERROR = { error: "Error en el servidor." };
const PASSWORD = "mypassword123";

const login = (w, body, headers) => w.post("/login", body, headers);
const loginAs = (w, user) => login(w, { nombre_usuario: user.username, password: user.password });

/** Seeds a user and logs in; returns {user, body, token, claims}. */
async function signedIn(w, options = {}) {
  const { user, body } = await seedAndSignIn(w, { username: uniqueName("vin"), password: PASSWORD, ...options }, (u) => loginAs(w, u));
  return { user, body, token: body.token, claims: decodeJwt(body.token).claims };
}

/** Asserts a 401 whose body is exactly {"error": <non-empty string>}. */
async function expectTokenRefused(res) {
  const body = await expectJson(res, 401);
  assert.deepEqual(Object.keys(body), ["error"], JSON.stringify(body));
  assert.ok(typeof body.error === "string" && body.error.length > 0);
  return body;
}

describe("vinyl: login, token and profile", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "vinyl" } }, (worker) =>
    // The document's example account.
    worker.seedUser({ username: "juan", password: "mypassword123", role: "user" }),
  );

  // ---- the document's example -------------------------------------------------------------------------

  test("the document's curl (juan / mypassword123) answers 200 {token, nombre: juan, es_admin: false, es_demo: false}", async () => {
    const res = await w.post("/login", '{"nombre_usuario": "juan", "password": "mypassword123"}');
    const body = await expectJsonKeys(res, 200, ["es_admin", "es_demo", "nombre", "token"]);
    assert.equal(typeof body.token, "string");
    assert.deepEqual(body, { token: body.token, nombre: "juan", es_admin: false, es_demo: false });
  });

  test("the token's payload holds id (a number), nombre and rol", async () => {
    const body = await expectJson(await login(w, { nombre_usuario: "juan", password: "mypassword123" }), 200);
    const { header, claims } = decodeJwt(body.token);
    assert.equal(header.alg, "HS256");
    assertNumericId(claims.id, "claims.id");
    assert.equal(claims.nombre, "juan");
    assert.equal(claims.rol, "user");
  });

  test("the token is valid for 7 days: exp - iat = 604800", async () => {
    const { token } = await signedIn(w);
    assertLifetime(token, 604800);
  });

  test("nombre_usuario is trimmed: '  juan  ' logs in juan", async () => {
    const body = await expectJson(await login(w, { nombre_usuario: "  juan  ", password: "mypassword123" }), 200);
    assert.equal(body.nombre, "juan");
    assert.equal(decodeJwt(body.token).claims.nombre, "juan");
  });

  test("nombre_usuario is trimmed of tabs and newlines too", async () => {
    const body = await expectJson(await login(w, { nombre_usuario: "\tjuan\n", password: "mypassword123" }), 200);
    assert.equal(body.nombre, "juan");
  });

  test("the password is not trimmed: ' mypassword123 ' is 401", async () => {
    await expectJson(await login(w, { nombre_usuario: "juan", password: " mypassword123 " }), 401, BAD_CREDENTIALS);
  });

  test("an admin gets es_admin true and es_demo false, and rol admin in the token", async () => {
    const { body, claims } = await signedIn(w, { role: "admin" });
    assert.equal(body.es_admin, true);
    assert.equal(body.es_demo, false);
    assert.equal(claims.rol, "admin");
  });

  test("a demo account gets es_demo true and es_admin false, and rol demo in the token", async () => {
    const { body, claims } = await signedIn(w, { role: "demo" });
    assert.equal(body.es_demo, true);
    assert.equal(body.es_admin, false);
    assert.equal(claims.rol, "demo");
  });

  test("nombre is the username as stored", async () => {
    const { user, body } = await signedIn(w);
    assert.equal(body.nombre, user.username);
  });

  test("the user id is a number, the same on every login of a user, different between users", async () => {
    await expectIdsStablePerUser(w, PASSWORD, async (u) => decodeJwt((await expectJson(await loginAs(w, u), 200)).token).claims.id);
  });

  // ---- 400: missing fields --------------------------------------------------------------------------------

  for (const [what, body] of [
    ["no nombre_usuario", { password: "mypassword123" }],
    ["an empty nombre_usuario", { nombre_usuario: "", password: "mypassword123" }],
    ["a nombre_usuario of only spaces", { nombre_usuario: "   ", password: "mypassword123" }],
    ["no password", { nombre_usuario: "juan" }],
    ["an empty password", { nombre_usuario: "juan", password: "" }],
    ["an empty body", {}],
  ]) {
    test(`login with ${what} is 400 {error: Nombre y contraseña son requeridos.}`, async () => {
      await expectJson(await login(w, body), 400, REQUIRED);
    });
  }

  // ---- 401: invalid credentials ------------------------------------------------------------------------------

  credentialRefusalTests({
    refusal: BAD_CREDENTIALS,
    shown: "{error: Credenciales inválidas.}",
    field: "nombre_usuario",
    known: (password) => login(w, { nombre_usuario: "juan", password }),
    unknown: (password) => login(w, { nombre_usuario: uniqueName("nadie"), password }),
    wrong: "not my password",
    right: "mypassword123",
  });

  // ---- profile -------------------------------------------------------------------------------------------------

  test("GET /profile with the Bearer token answers 200 {id, nombre, rol} matching the token", async () => {
    const { user, token, claims } = await signedIn(w, { role: "demo" });
    await expectJson(await w.fetch("/profile", { headers: bearer(token) }), 200, { id: claims.id, nombre: user.username, rol: "demo" });
  });

  test("GET /profile without a token is 401 with an {error} body", async () => {
    await expectTokenRefused(await w.fetch("/profile"));
  });

  for (const [what, forge] of BAD_TOKENS) {
    test(`GET /profile with ${what} is 401 with an {error} body`, async () => {
      const { token } = await signedIn(w);
      await expectTokenRefused(await w.fetch("/profile", { headers: bearer(forge(token)) }));
    });
  }

  test("GET /profile with the token in the query string is 401", async () => {
    const { token } = await signedIn(w);
    await expectTokenRefused(await w.fetch(`/profile?token=${encodeURIComponent(token)}`));
  });

  // ---- roles on the admin API at the root ------------------------------------------------------------------------

  test("an admin on GET /admin/users answers 200 with the users", async () => {
    const { token } = await signedIn(w, { role: "admin" });
    const body = await expectUserList(await w.fetch("/admin/users?limit=100", { headers: bearer(token) }));
    assert.ok(JSON.stringify(body.users).includes('"juan"'));
  });

  test("a demo account on GET /admin/users answers 200 (read-only access)", async () => {
    const { token } = await signedIn(w, { role: "demo" });
    await expectUserList(await w.fetch("/admin/users", { headers: bearer(token) }));
  });

  test("a user on GET /admin/users is 403", async () => {
    const { token } = await signedIn(w, { role: "user" });
    const res = await w.fetch("/admin/users", { headers: bearer(token) });
    assert.equal(res.status, 403, await res.text());
  });

  test("GET /admin/users without a token is 401 with an {error} body", async () => {
    await expectTokenRefused(await w.fetch("/admin/users"));
  });

  test("an admin may create a user with POST /admin/users (201)", async () => {
    const { token } = await signedIn(w, { role: "admin" });
    const res = await w.post("/admin/users", { username: uniqueName("nuevo"), password: "a long passphrase", role: "user" }, bearer(token));
    assert.equal(res.status, 201, await res.text());
  });

  test("a demo account's POST /admin/users is 403 and creates nobody", async () => {
    const { token } = await signedIn(w, { role: "demo" });
    const name = uniqueName("nodemo");
    const res = await w.post("/admin/users", { username: name, password: "a long passphrase", role: "user" }, bearer(token));
    assert.equal(res.status, 403, await res.text());
    const row = await w.db.prepare("SELECT id FROM users WHERE username = ?1").bind(name).first();
    assert.equal(row, null);
  });

  test("a demo account's PATCH /admin/users/{id} is 403 and changes nothing", async () => {
    const { token } = await signedIn(w, { role: "demo" });
    const target = await w.seedUser({ username: uniqueName("tgt"), role: "user" });
    const res = await w.fetch(`/admin/users/${encodeURIComponent(target.id)}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", ...bearer(token) },
      body: JSON.stringify({ role: "admin" }),
    });
    assert.equal(res.status, 403, await res.text());
    const row = await w.db.prepare("SELECT role FROM users WHERE id = ?1").bind(target.id).first();
    assert.equal(row.role, "user");
  });

  test("a demo account's DELETE /admin/users/{id} is 403 and deletes nothing", async () => {
    const { token } = await signedIn(w, { role: "demo" });
    const target = await w.seedUser({ username: uniqueName("tgt"), role: "user" });
    const res = await w.fetch(`/admin/users/${encodeURIComponent(target.id)}`, { method: "DELETE", headers: bearer(token) });
    assert.equal(res.status, 403, await res.text());
    const row = await w.db.prepare("SELECT id FROM users WHERE id = ?1").bind(target.id).first();
    assert.ok(row, "the user still exists");
  });

  // ---- native endpoints at the root ------------------------------------------------------------------------------

  test("GET /sessions with a vinyl token lists the caller's sessions", async () => {
    const { token } = await signedIn(w);
    await expectOneSession(await w.fetch("/sessions", { headers: bearer(token) }));
  });

  test("GET /openapi.json documents /login and /profile with the root as servers[0].url", async () => {
    await expectOpenApi(w, "", ["/login", "/profile"]);
  });

  test("GET /health answers 200 {status: ok}", async () => {
    await expectJson(await w.fetch("/health"), 200, { status: "ok" });
  });
});

describe("vinyl: 10 login requests per 15 minutes per IP (the profile's own limit)", () => {
  // An empty RATE_LIMIT_LOGIN_IP is unset: the profile's documented limit applies.
  const w = suiteWorker({ bindings: { API_PROFILE: "vinyl", RATE_LIMIT_LOGIN_IP: "" } });

  const from = (ip) => ({ "CF-Connecting-IP": ip });

  test("10 requests of every kind (200, 400, 401) pass; the 11th, even a correct one, is 429 {error: Demasiados intentos...}", async () => {
    const user = await w.seedUser({ username: uniqueName("lim"), password: PASSWORD });
    await roomInWindow(900, 30);
    const ip = from("198.51.100.90");
    const ok = { nombre_usuario: user.username, password: PASSWORD };
    const plan = [
      [ok, 200],
      [{ nombre_usuario: user.username, password: "wrong wrong" }, 401],
      [{ password: PASSWORD }, 400],
      [ok, 200],
      [{ nombre_usuario: uniqueName("nadie"), password: PASSWORD }, 401],
      [{ nombre_usuario: "  ", password: PASSWORD }, 400],
      [ok, 200],
      [{ nombre_usuario: user.username, password: "" }, 400],
      [{ nombre_usuario: user.username, password: "wrong again" }, 401],
      [ok, 200],
    ];
    for (const [i, [body, status]] of plan.entries()) {
      const res = await login(w, body, ip);
      assert.equal(res.status, status, `request ${i + 1}: ${await res.text()}`);
    }
    await expectJson(await login(w, ok, ip), 429, THROTTLED);
  });

  test("successful logins count: 10 in a row pass, the 11th is 429", async () => {
    const user = await w.seedUser({ username: uniqueName("lim"), password: PASSWORD });
    await roomInWindow(900, 30);
    const ip = from("198.51.100.91");
    for (let i = 0; i < 10; i++) {
      const res = await login(w, { nombre_usuario: user.username, password: PASSWORD }, ip);
      assert.equal(res.status, 200, `login ${i + 1}: ${await res.text()}`);
    }
    await expectJson(await login(w, { nombre_usuario: user.username, password: PASSWORD }, ip), 429, THROTTLED);
  });

  test("400s count: 10 requests without fields pass as 400, the 11th is 429", async () => {
    await roomInWindow(900, 30);
    const ip = from("198.51.100.92");
    for (let i = 0; i < 10; i++) await expectJson(await login(w, {}, ip), 400, REQUIRED);
    await expectJson(await login(w, {}, ip), 429, THROTTLED);
  });

  test("an IP over the limit does not limit another IP", async () => {
    const user = await w.seedUser({ username: uniqueName("lim"), password: PASSWORD });
    await roomInWindow(900, 30);
    for (let i = 0; i < 11; i++) await login(w, { nombre_usuario: user.username, password: "wrong wrong" }, from("198.51.100.93"));
    await expectJson(await login(w, { nombre_usuario: user.username, password: PASSWORD }, from("198.51.100.93")), 429, THROTTLED);
    const body = await expectJson(await login(w, { nombre_usuario: user.username, password: PASSWORD }, from("198.51.100.94")), 200);
    assert.equal(body.nombre, user.username);
  });
});

describe("vinyl: an unexpected server error", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "vinyl" } });

  test("a body that is no JSON keeps its own 415 (and one over 16 KiB its 413) in the server-error body: a client error is no 500", async () => {
    const plain = await w.fetch("/login", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "juan" });
    await expectJson(plain, 415, SERVER_ERROR);
    await expectJson(await w.fetch("/login", { method: "POST" }), 415, SERVER_ERROR);
    await expectJson(await login(w, { nombre_usuario: "juan", password: "x".repeat(17 * 1024) }), 413, SERVER_ERROR);
  });

  test("login when the users table is gone is 500 {error: Error en el servidor.} naming nothing internal", async () => {
    await w.seedUser({ username: "juan", password: PASSWORD });
    await w.db.prepare("DROP TABLE users").run();
    const res = await login(w, { nombre_usuario: "juan", password: PASSWORD });
    await expectJson(res, 500, SERVER_ERROR);
  });
});
