// API_PROFILE=pharmacy: the Botica Nova Salud API (seeds/001_850af2fb8b6a147a.txt). Base path /api/auth;
// POST /login {username, password} -> {token, usuario: {id, nombre, cargo}}; HS256 tokens of 8 hours;
// {"error": ...} bodies ("Token requerido" / "Token inválido"). The documented departure: unknown user and
// wrong password both answer {"error": "Usuario o contraseña incorrectos"}, never the document's two
// messages, which tell which accounts exist.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { decodeJwt, uniqueName } from "./helpers.mjs";
import {
  suiteWorker, seedAndSignIn, expectIdsStablePerUser, credentialRefusalTests, roomInWindow,
  read, expectJson, expectJsonKeys, expectOneSession, expectUserList, expectOpenApi, assertNumericId, assertLifetime,
  BAD_TOKENS, bearer, tamperedToken,
} from "./profile-helpers.mjs";

const BASE = "/api/auth";
const BAD_CREDENTIALS = { error: "Usuario o contraseña incorrectos" };
const REQUIRED = { error: "Usuario y contraseña son requeridos" };
const TOKEN_REQUIRED = { error: "Token requerido" };
const TOKEN_INVALID = { error: "Token inválido" };
const THROTTLED = { error: "Demasiados intentos, intente más tarde" };
const PASSWORD = "farmacia secreta 1";

const login = (w, body, headers) => w.post(`${BASE}/login`, body, headers);
const profile = (w, headers = {}) => w.fetch(`${BASE}/profile`, { headers });

const loginAs = (w, user) => login(w, { username: user.username, password: user.password });

/** Seeds a user and logs in; returns {user, body, token}. */
async function signedIn(w, options = {}) {
  const { user, body } = await seedAndSignIn(w, { username: uniqueName("far"), password: PASSWORD, ...options }, (u) => loginAs(w, u));
  return { user, body, token: body.token };
}

describe("pharmacy: login, profile and tokens", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pharmacy" } }, (worker) =>
    // The document's example account.
    worker.seedUser({ username: "admin", password: "admin123", displayName: "Admin Usuario", role: "admin" }),
  );

  // ---- the document's example -------------------------------------------------------------------------

  test("the document's curl (admin / admin123) answers 200 {token, usuario: {id, nombre: Admin Usuario, cargo: Administrador}}", async () => {
    const res = await w.post(
      `${BASE}/login`,
      `{
    "username": "admin",
    "password": "admin123"
  }`,
    );
    const body = await expectJsonKeys(res, 200, ["token", "usuario"]);
    assert.equal(typeof body.token, "string");
    assert.deepEqual(Object.keys(body.usuario).sort(), ["cargo", "id", "nombre"]);
    assertNumericId(body.usuario.id, "usuario.id");
    assert.deepEqual(body.usuario, { id: body.usuario.id, nombre: "Admin Usuario", cargo: "Administrador" });
  });

  test("the token is an HS256 JWT valid for 8 hours: exp - iat = 28800", async () => {
    const { token } = await signedIn(w);
    assert.equal(decodeJwt(token).header.alg, "HS256");
    assertLifetime(token, 28800);
  });

  test("nombre is the display name when the user has one", async () => {
    const { body } = await signedIn(w, { displayName: "María Pérez" });
    assert.equal(body.usuario.nombre, "María Pérez");
  });

  test("nombre is the username when the user has no display name", async () => {
    const { user, body } = await signedIn(w, { displayName: null });
    assert.equal(body.usuario.nombre, user.username);
  });

  for (const [role, cargo] of [
    ["admin", "Administrador"],
    ["cajero", "Cajero"],
    ["user", "Usuario"],
    ["demo", "Demo"],
  ]) {
    test(`the role ${role} is the cargo ${cargo}`, async () => {
      const { body } = await signedIn(w, { role });
      assert.equal(body.usuario.cargo, cargo);
    });
  }

  test("the user id is a number, the same on every login of a user, different between users", async () => {
    await expectIdsStablePerUser(w, PASSWORD, async (u) => (await expectJson(await loginAs(w, u), 200)).usuario.id);
  });

  // ---- refusals at login --------------------------------------------------------------------------------

  credentialRefusalTests({
    refusal: BAD_CREDENTIALS,
    shown: "{error: Usuario o contraseña incorrectos}",
    field: "username",
    known: (password) => login(w, { username: "admin", password }),
    unknown: (password) => login(w, { username: uniqueName("nadie"), password }),
    wrong: "admin1234",
    right: "admin123",
  });

  test("neither of the document's revealing messages (Usuario no encontrado, Contraseña incorrecta) is ever sent", async () => {
    for (const body of [
      { username: "admin", password: "wrong wrong" },
      { username: uniqueName("nadie"), password: "wrong wrong" },
    ]) {
      const { status, text } = await read(await login(w, body));
      assert.equal(status, 401, text);
      assert.equal(text.includes("no encontrado"), false, text);
      assert.equal(text.includes("Contraseña incorrecta"), false, text);
    }
  });

  for (const [what, body] of [
    ["no username", { password: "admin123" }],
    ["no password", { username: "admin" }],
    ["an empty body", {}],
  ]) {
    test(`login with ${what} is 400 {error: Usuario y contraseña son requeridos}`, async () => {
      await expectJson(await login(w, body), 400, REQUIRED);
    });
  }

  // ---- profile -----------------------------------------------------------------------------------------------

  test("GET /api/auth/profile with the Bearer token answers 200 {usuario: {id, nombre, cargo}} of the login", async () => {
    const { body, token } = await signedIn(w, { role: "cajero", displayName: "Caja Uno" });
    await expectJson(await profile(w, bearer(token)), 200, {
      usuario: { id: body.usuario.id, nombre: "Caja Uno", cargo: "Cajero" },
    });
  });

  test("GET /api/auth/profile without an Authorization header is 401 {error: Token requerido}", async () => {
    await expectJson(await profile(w), 401, TOKEN_REQUIRED);
  });

  test("GET /api/auth/profile with an empty Authorization header is 401 {error: Token requerido}", async () => {
    await expectJson(await profile(w, { Authorization: "" }), 401, TOKEN_REQUIRED);
  });

  test("GET /api/auth/profile with Authorization: Bearer and no token is 401 {error: Token requerido}", async () => {
    await expectJson(await profile(w, { Authorization: "Bearer " }), 401, TOKEN_REQUIRED);
  });

  for (const [what, forge] of BAD_TOKENS) {
    test(`GET /api/auth/profile with ${what} is 401 {error: Token inválido}`, async () => {
      const { token } = await signedIn(w);
      await expectJson(await profile(w, bearer(forge(token))), 401, TOKEN_INVALID);
    });
  }

  test("a token whose claims were changed (signature kept) is 401 {error: Token inválido}", async () => {
    const { token } = await signedIn(w, { role: "cajero" });
    const forged = tamperedToken(token, (c) => {
      c.exp += 86400;
    });
    await expectJson(await profile(w, bearer(forged)), 401, TOKEN_INVALID);
  });

  // ---- roles and native endpoints under /api/auth ---------------------------------------------------------------

  test("an admin on GET /api/auth/admin/users answers 200 with the users", async () => {
    const { token } = await signedIn(w, { role: "admin" });
    const body = await expectUserList(await w.fetch(`${BASE}/admin/users?limit=100`, { headers: bearer(token) }));
    assert.ok(JSON.stringify(body.users).includes('"admin"'));
  });

  test("a cajero on GET /api/auth/admin/users is 403 with an {error} body", async () => {
    const { token } = await signedIn(w, { role: "cajero" });
    const body = await expectJson(await w.fetch(`${BASE}/admin/users`, { headers: bearer(token) }), 403);
    assert.deepEqual(Object.keys(body), ["error"], JSON.stringify(body));
    assert.equal(typeof body.error, "string");
  });

  test("GET /api/auth/admin/users without a token is 401 {error: Token requerido}", async () => {
    await expectJson(await w.fetch(`${BASE}/admin/users`), 401, TOKEN_REQUIRED);
  });

  test("a user imported with the pharmacy's SHA-256 hash logs in with its password", async () => {
    const { token } = await signedIn(w, { role: "admin" });
    const name = uniqueName("imp");
    const pw = "cajero123";
    const hash = `sha256:${createHash("sha256").update(pw).digest("hex")}`;
    const res = await w.post(`${BASE}/admin/users/import`, { users: [{ username: name, role: "cajero", password_hash: hash }] }, bearer(token));
    assert.equal(res.status, 200, await res.text());
    const body = await expectJson(await login(w, { username: name, password: pw }), 200);
    assert.equal(body.usuario.cargo, "Cajero");
  });

  test("GET /api/auth/sessions with a pharmacy token lists the caller's sessions", async () => {
    const { token } = await signedIn(w);
    await expectOneSession(await w.fetch(`${BASE}/sessions`, { headers: bearer(token) }));
  });

  test("GET /api/auth/openapi.json documents /login and /profile with servers[0].url /api/auth", async () => {
    await expectOpenApi(w, BASE, ["/login", "/profile"]);
  });

  test("GET /health stays at /health and answers 200 {status: ok}", async () => {
    await expectJson(await w.fetch("/health"), 200, { status: "ok" });
  });
});

describe("pharmacy: ROLE_LABELS cajero=Cajera,admin=Jefe", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pharmacy", ROLE_LABELS: "cajero=Cajera,admin=Jefe" } });

  test("a cajero's cargo is Cajera at login and in the profile", async () => {
    const { body, token } = await signedIn(w, { role: "cajero" });
    assert.equal(body.usuario.cargo, "Cajera");
    const res = await expectJson(await profile(w, bearer(token)), 200);
    assert.equal(res.usuario.cargo, "Cajera");
  });

  test("an admin's cargo is Jefe", async () => {
    const { body } = await signedIn(w, { role: "admin" });
    assert.equal(body.usuario.cargo, "Jefe");
  });

  test("a role not named in ROLE_LABELS keeps its default label (user -> Usuario)", async () => {
    const { body } = await signedIn(w, { role: "user" });
    assert.equal(body.usuario.cargo, "Usuario");
  });
});

describe("pharmacy: too many attempts (RATE_LIMIT_LOGIN_IP 3/1m set explicitly)", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pharmacy", RATE_LIMIT_LOGIN_IP: "3/1m" } });

  test("over the limit login is 429 {error: Demasiados intentos, intente más tarde}, even with the right password", async () => {
    const user = await w.seedUser({ username: uniqueName("lim"), password: PASSWORD });
    await roomInWindow(60, 15);
    const ip = { "CF-Connecting-IP": "203.0.113.80" };
    for (let i = 0; i < 3; i++) {
      await expectJson(await login(w, { username: user.username, password: "wrong wrong" }, ip), 401, BAD_CREDENTIALS);
    }
    await expectJson(await login(w, { username: user.username, password: user.password }, ip), 429, THROTTLED);
  });

  test("another IP still logs in", async () => {
    const user = await w.seedUser({ username: uniqueName("lim"), password: PASSWORD });
    await roomInWindow(60, 15);
    const ip = { "CF-Connecting-IP": "203.0.113.81" };
    for (let i = 0; i < 3; i++) await login(w, { username: user.username, password: "wrong wrong" }, ip);
    await expectJson(await login(w, { username: user.username, password: "wrong wrong" }, ip), 429, THROTTLED);
    const res = await login(w, { username: user.username, password: user.password }, { "CF-Connecting-IP": "203.0.113.82" });
    assert.equal(res.status, 200, await res.text());
  });
});
