// API_PROFILE=accounts: the signup / reset API (seeds/004_ac4928849fffb94d.txt). Base path /auth;
// {success, message, data} envelopes; login by email -> {token, user: <JWE of the user data>, expires_in
// 36000}; signup with profile fields (201); PUT /change-password; forgot-password and
// verify-and-change-password; 10-hour tokens; 5 login attempts per minute per IP; the user data
// encrypted with AES-256 (a compact JWE, alg dir, enc A256GCM, under USER_DATA_KEY).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { uniqueName } from "./helpers.mjs";
import {
  suiteWorker, seedAndSignIn, credentialRefusalTests, roomInWindow,
  read, expectJson, expectJsonKeys, expectIdentical, expectOneSession, expectUserList, expectOpenApi, assertNumericId, assertLifetime,
  BAD_TOKENS, bearer,
  openJwe, randomKey, capture, mailsTo, sleep, resetTokenFromMail, HOOK_URL, HOOK_SECRET,
} from "./profile-helpers.mjs";

const USER_KEYS = ["document_id", "email", "first_name", "id", "last_name", "phone", "role"];
const BAD_CREDENTIALS = { success: false, message: "Credenciales inválidas" };
const PASSWORD = "contraseña123";
const NEW_PASSWORD = "nueva_contraseña123";

/** Asserts an error envelope {success: false, message: <non-empty string>} with `status` (or one of `status`). */
async function expectFailure(res, status) {
  const { text, body } = await read(res);
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(res.status), `status ${res.status} in ${statuses}: ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, text);
  assert.deepEqual(Object.keys(body ?? {}).sort(), ["message", "success"], text);
  assert.equal(body.success, false);
  assert.ok(typeof body.message === "string" && body.message.length > 0, text);
  return body;
}

/** A fresh signup body with the document's fields and a unique email. */
function signupBody(overrides = {}) {
  const tag = uniqueName("acc").toLowerCase();
  return {
    email: `${tag}@email.com`,
    password: PASSWORD,
    first_name: "Ana",
    last_name: "Gómez",
    phone: "+57 300 555 0101",
    document_id: `CC${tag.replace(/[^0-9]/g, "")}`,
    ...overrides,
  };
}

describe("accounts: login, signup, passwords and the encrypted user data", () => {
  const key = randomKey();
  const mail = [];
  const w = suiteWorker(
    {
      bindings: { API_PROFILE: "accounts", USER_DATA_KEY: key, MAIL_WEBHOOK_URL: HOOK_URL, MAIL_WEBHOOK_SECRET: HOOK_SECRET },
      outboundService: capture(mail),
    },
    // The document's login example account.
    (worker) => worker.seedUser({ username: uniqueName("usuario"), email: "usuario@email.com", password: PASSWORD, role: "user" }),
  );

  const login = (email, password, headers) => w.post("/auth/login", { email, password }, headers);
  const changePassword = (token, body) =>
    w.fetch("/auth/change-password", {
      method: "PUT",
      headers: { "Content-Type": "application/json", ...(token ? bearer(token) : {}) },
      body: JSON.stringify(body),
    });
  const forgot = (email) => w.post("/auth/forgot-password", { email });
  const verifyAndChange = (token, newPassword) => w.post("/auth/verify-and-change-password", { token, new_password: newPassword });

  /** Seeds a user with an email and logs in; returns {user, body, token, data (the opened JWE payload)}. */
  async function signedIn(options = {}) {
    const tag = uniqueName("acc").toLowerCase();
    const seed = { username: tag, email: `${tag}@example.com`, password: PASSWORD, ...options };
    const { user, body } = await seedAndSignIn(w, seed, (u) => login(u.email, u.password));
    return { user, body, token: body.data.token, data: openJwe(body.data.user, key).payload };
  }

  /** Signs up `body` and returns the 201 envelope. */
  async function signup(body) {
    const res = await w.post("/auth/signup", body);
    const { text, body: parsed } = await read(res);
    assert.equal(res.status, 201, text);
    return parsed;
  }

  // ---- login ----------------------------------------------------------------------------------------------

  test("the document's login example answers 200 {success: true, message: Login exitoso, data: {token, user, expires_in: 36000}}", async () => {
    const res = await w.post("/auth/login", '{\n"email": "usuario@email.com",\n"password": "contraseña123"\n}');
    const body = await expectJsonKeys(res, 200, ["data", "message", "success"]);
    assert.equal(body.success, true);
    assert.equal(body.message, "Login exitoso");
    assert.deepEqual(Object.keys(body.data).sort(), ["expires_in", "token", "user"]);
    assert.equal(body.data.expires_in, 36000);
    assert.equal(typeof body.data.token, "string");
    assert.equal(typeof body.data.user, "string");
  });

  test("the token is a JWT valid for 10 hours: exp - iat = 36000", async () => {
    const { token } = await signedIn();
    assert.equal(token.split(".").length, 3);
    assertLifetime(token, 36000);
  });

  test("data.user is a compact JWE (alg dir, enc A256GCM) that opens under USER_DATA_KEY to the user's data", async () => {
    const { user, data } = await signedIn({ role: "admin" });
    assert.deepEqual(Object.keys(data).sort(), USER_KEYS);
    assertNumericId(data.id);
    assert.equal(data.email, user.email);
    assert.equal(data.role, "admin");
  });

  test("data.user does not show the user's data in clear", async () => {
    const { user, body } = await signedIn();
    const jwe = body.data.user;
    const ciphertext = Buffer.from(jwe.split(".")[3], "base64url").toString("latin1");
    for (const text of [jwe, ciphertext]) {
      assert.equal(text.includes(user.email), false, text);
      assert.equal(text.includes(user.username), false, text);
    }
  });

  test("two logins encrypt the user data with different IVs", async () => {
    const { user } = await signedIn();
    const a = (await expectJson(await login(user.email, PASSWORD), 200)).data.user;
    const b = (await expectJson(await login(user.email, PASSWORD), 200)).data.user;
    assert.notEqual(a.split(".")[2], b.split(".")[2]);
  });

  test("the user id is a number, the same on every login of a user, different between users", async () => {
    const a = await signedIn();
    const again = openJwe((await expectJson(await login(a.user.email, PASSWORD), 200)).data.user, key).payload;
    const b = await signedIn();
    assertNumericId(a.data.id);
    assert.equal(again.id, a.data.id);
    assert.notEqual(b.data.id, a.data.id);
  });

  credentialRefusalTests({
    refusal: BAD_CREDENTIALS,
    shown: "{success: false, message: Credenciales inválidas}",
    field: "email",
    who: "email",
    known: (password) => login("usuario@email.com", password),
    unknown: (password) => login(`${uniqueName("nadie")}@email.com`, password),
    wrong: "contraseña124",
    right: PASSWORD,
  });

  for (const [what, body] of [
    ["no email", { password: PASSWORD }],
    ["no password", { email: "usuario@email.com" }],
    ["an empty body", {}],
  ]) {
    test(`login with ${what} is refused in the envelope {success: false, message}`, async () => {
      await expectFailure(await w.post("/auth/login", body), [400, 401]);
    });
  }

  test("a body that is not JSON is refused in the envelope {success: false, message}", async () => {
    await expectFailure(await w.post("/auth/login", "{"), 400);
  });

  // ---- profile and tokens ---------------------------------------------------------------------------------------

  test("GET /auth/profile with the Bearer token answers 200", async () => {
    const { token } = await signedIn();
    const res = await w.fetch("/auth/profile", { headers: bearer(token) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  });

  test("GET /auth/profile without a token is 401 {success: false, message}", async () => {
    await expectFailure(await w.fetch("/auth/profile"), 401);
  });

  for (const [what, forge] of BAD_TOKENS) {
    test(`GET /auth/profile with ${what} is 401 {success: false, message}`, async () => {
      const { token } = await signedIn();
      await expectFailure(await w.fetch("/auth/profile", { headers: bearer(forge(token)) }), 401);
    });
  }

  // ---- signup ------------------------------------------------------------------------------------------------------

  test("the document's signup example answers 201 {success: true, message: Usuario creado exitosamente, data: {token, user_id}}", async () => {
    const res = await w.post(
      "/auth/signup",
      `{
"email": "nuevo@email.com",
"password": "contraseña123",
"first_name": "Juan",
"last_name": "Pérez",
"phone": "+57 310 123 4567",
"document_id": "12345678"
}`,
    );
    const body = await expectJsonKeys(res, 201, ["data", "message", "success"]);
    assert.equal(body.success, true);
    assert.equal(body.message, "Usuario creado exitosamente");
    assert.deepEqual(Object.keys(body.data).sort(), ["token", "user_id"]);
    assert.equal(typeof body.data.token, "string");
    assertNumericId(body.data.user_id, "data.user_id");
  });

  test("after a signup with the document's fields, login returns user data equal to what was signed up", async () => {
    const fields = signupBody({ first_name: "Juan", last_name: "Pérez", phone: "+57 310 123 4567" });
    await signup(fields);
    const body = await expectJson(await login(fields.email, fields.password), 200);
    const { payload } = openJwe(body.data.user, key);
    assert.deepEqual(Object.keys(payload).sort(), USER_KEYS);
    const { id, role, ...signedUp } = payload;
    assertNumericId(id);
    assert.equal(typeof role, "string");
    const { password, ...expected } = fields;
    assert.ok(password);
    assert.deepEqual(signedUp, expected);
  });

  test("the signup's user_id is the id in the user data of its logins", async () => {
    const fields = signupBody();
    const created = await signup(fields);
    const body = await expectJson(await login(fields.email, fields.password), 200);
    assert.equal(openJwe(body.data.user, key).payload.id, created.data.user_id);
  });

  test("the signup token is valid for 10 hours and opens the profile", async () => {
    const created = await signup(signupBody());
    assertLifetime(created.data.token, 36000);
    const res = await w.fetch("/auth/profile", { headers: bearer(created.data.token) });
    assert.equal(res.status, 200, await res.text());
  });

  test("signing up the same email again is 409 {success: false, message}", async () => {
    const fields = signupBody();
    await signup(fields);
    await expectFailure(await w.post("/auth/signup", { ...fields, document_id: "99999999" }), 409);
  });

  test("signing up the same email in another case is 409 {success: false, message}", async () => {
    const fields = signupBody();
    await signup(fields);
    await expectFailure(await w.post("/auth/signup", { ...fields, email: fields.email.toUpperCase() }), 409);
  });

  test("signup without an email is 400 {success: false, message}", async () => {
    const { email, ...rest } = signupBody();
    assert.ok(email);
    await expectFailure(await w.post("/auth/signup", rest), 400);
  });

  test("signup with a 3-character password is 400 {success: false, message} and creates nobody", async () => {
    const fields = signupBody({ password: "abc" });
    await expectFailure(await w.post("/auth/signup", fields), 400);
    await expectJson(await login(fields.email, "abc"), 401, BAD_CREDENTIALS);
  });

  // ---- change-password ------------------------------------------------------------------------------------------------

  test("PUT /auth/change-password answers 200 {success: true, message: Contraseña actualizada exitosamente}", async () => {
    const { token } = await signedIn();
    await expectJson(await changePassword(token, { current_password: PASSWORD, new_password: NEW_PASSWORD }), 200, {
      success: true,
      message: "Contraseña actualizada exitosamente",
    });
  });

  test("after change-password the new password logs in and the old one does not", async () => {
    const { user, token } = await signedIn();
    assert.equal((await changePassword(token, { current_password: PASSWORD, new_password: NEW_PASSWORD })).status, 200);
    assert.equal((await login(user.email, NEW_PASSWORD)).status, 200);
    await expectJson(await login(user.email, PASSWORD), 401, BAD_CREDENTIALS);
  });

  test("change-password with a wrong current password is 401 {success: false, message} and changes nothing", async () => {
    const { user, token } = await signedIn();
    await expectFailure(await changePassword(token, { current_password: "contraseña_actual", new_password: NEW_PASSWORD }), 401);
    assert.equal((await login(user.email, PASSWORD)).status, 200);
    await expectJson(await login(user.email, NEW_PASSWORD), 401, BAD_CREDENTIALS);
  });

  test("change-password without a Bearer token is 401 {success: false, message}", async () => {
    await expectFailure(await changePassword(null, { current_password: PASSWORD, new_password: NEW_PASSWORD }), 401);
  });

  test("change-password with an expired token is 401 {success: false, message} and changes nothing", async () => {
    const { user, token } = await signedIn();
    const [, forge] = BAD_TOKENS.find(([name]) => name === "an expired token");
    await expectFailure(await changePassword(forge(token), { current_password: PASSWORD, new_password: NEW_PASSWORD }), 401);
    assert.equal((await login(user.email, PASSWORD)).status, 200);
  });

  test("change-password to a 3-character password is 400 {success: false, message} and changes nothing", async () => {
    const { user, token } = await signedIn();
    await expectFailure(await changePassword(token, { current_password: PASSWORD, new_password: "abc" }), 400);
    assert.equal((await login(user.email, PASSWORD)).status, 200);
  });

  // ---- forgot-password and verify-and-change-password ------------------------------------------------------------------

  test("the document's forgot-password example answers 200 {success: true, message: Email de recuperación enviado}", async () => {
    const res = await w.post("/auth/forgot-password", '{\n"email": "usuario@email.com"\n}');
    await expectJson(res, 200, { success: true, message: "Email de recuperación enviado" });
  });

  test("forgot-password answers byte-identically for a known and an unknown address", async () => {
    const { user } = await signedIn();
    await expectIdentical(await forgot(user.email), await forgot(`${uniqueName("nadie")}@email.com`), 200);
  });

  test("forgot-password for a known address sends a reset link to the mail webhook; an unknown address sends nothing", async () => {
    const { user } = await signedIn();
    const unknown = `${uniqueName("nadie")}@email.com`;
    assert.equal((await forgot(unknown)).status, 200);
    assert.equal((await forgot(user.email)).status, 200);
    const token = await resetTokenFromMail(mail, user.email);
    assert.ok(token.length >= 16);
    await sleep(300);
    assert.equal(mailsTo(mail, unknown).length, 0);
    assert.ok(mail.every((c) => c.url === HOOK_URL && c.method === "POST"));
  });

  test("verify-and-change-password with the mailed token answers 200 {success: true, message: Contraseña restablecida exitosamente}", async () => {
    const { user } = await signedIn();
    assert.equal((await forgot(user.email)).status, 200);
    const token = await resetTokenFromMail(mail, user.email);
    await expectJson(await verifyAndChange(token, NEW_PASSWORD), 200, { success: true, message: "Contraseña restablecida exitosamente" });
  });

  test("after verify-and-change-password the new password logs in and the old one does not", async () => {
    const { user } = await signedIn();
    assert.equal((await forgot(user.email)).status, 200);
    const token = await resetTokenFromMail(mail, user.email);
    assert.equal((await verifyAndChange(token, NEW_PASSWORD)).status, 200);
    assert.equal((await login(user.email, NEW_PASSWORD)).status, 200);
    await expectJson(await login(user.email, PASSWORD), 401, BAD_CREDENTIALS);
  });

  test("after verify-and-change-password a token issued before the reset is 401 {success: false, message}", async () => {
    const { user, token } = await signedIn();
    assert.equal((await w.fetch("/auth/profile", { headers: bearer(token) })).status, 200);
    assert.equal((await forgot(user.email)).status, 200);
    const resetToken = await resetTokenFromMail(mail, user.email);
    assert.equal((await verifyAndChange(resetToken, NEW_PASSWORD)).status, 200);
    await expectFailure(await w.fetch("/auth/profile", { headers: bearer(token) }), 401);
  });

  test("the same reset token a second time is 400 {success: false, message} and the password stays the first one", async () => {
    const { user } = await signedIn();
    assert.equal((await forgot(user.email)).status, 200);
    const token = await resetTokenFromMail(mail, user.email);
    assert.equal((await verifyAndChange(token, NEW_PASSWORD)).status, 200);
    await expectFailure(await verifyAndChange(token, "otra_contraseña456"), 400);
    assert.equal((await login(user.email, NEW_PASSWORD)).status, 200);
    await expectJson(await login(user.email, "otra_contraseña456"), 401, BAD_CREDENTIALS);
  });

  test("verify-and-change-password with an unknown token is 400 {success: false, message}", async () => {
    await expectFailure(await verifyAndChange("reset_token_here", NEW_PASSWORD), 400);
  });

  test("verify-and-change-password to a 3-character password is 400 {success: false, message} and keeps the token usable", async () => {
    const { user } = await signedIn();
    assert.equal((await forgot(user.email)).status, 200);
    const token = await resetTokenFromMail(mail, user.email);
    await expectFailure(await verifyAndChange(token, "abc"), 400);
    assert.equal((await verifyAndChange(token, NEW_PASSWORD)).status, 200);
  });

  // ---- native endpoints under /auth -----------------------------------------------------------------------------------

  test("GET /auth/sessions with an accounts token lists the caller's sessions", async () => {
    const { token } = await signedIn();
    await expectOneSession(await w.fetch("/auth/sessions", { headers: bearer(token) }));
  });

  test("an admin's accounts token opens GET /auth/admin/users", async () => {
    const { token } = await signedIn({ role: "admin" });
    await expectUserList(await w.fetch("/auth/admin/users", { headers: bearer(token) }));
  });

  test("a user's accounts token on GET /auth/admin/users is 403 {success: false, message}", async () => {
    const { token } = await signedIn({ role: "user" });
    await expectFailure(await w.fetch("/auth/admin/users", { headers: bearer(token) }), 403);
  });

  test("GET /auth/openapi.json documents the five endpoints with servers[0].url /auth", async () => {
    await expectOpenApi(w, "/auth", ["/login", "/signup", "/change-password", "/forgot-password", "/verify-and-change-password"]);
  });

  test("GET /health answers 200 {status: ok}", async () => {
    await expectJson(await w.fetch("/health"), 200, { status: "ok" });
  });
});

describe("accounts: 5 login attempts per minute per IP (the profile's own limit)", () => {
  const key = randomKey();
  // An empty RATE_LIMIT_LOGIN_IP is unset: the profile's documented limit applies.
  const w = suiteWorker({ bindings: { API_PROFILE: "accounts", USER_DATA_KEY: key, RATE_LIMIT_LOGIN_IP: "" } });

  const login = (email, password, ip) => w.post("/auth/login", { email, password }, { "CF-Connecting-IP": ip });

  test("5 failed attempts from one IP are 401; the 6th, even with the right password, is 429 {success: false, message}", async () => {
    const tag = uniqueName("lim").toLowerCase();
    const user = await w.seedUser({ username: tag, email: `${tag}@example.com`, password: PASSWORD });
    await roomInWindow(60, 15);
    for (let i = 0; i < 5; i++) {
      await expectJson(await login(user.email, "wrong wrong", "203.0.113.60"), 401, BAD_CREDENTIALS);
    }
    await expectFailure(await login(user.email, PASSWORD, "203.0.113.60"), 429);
  });

  test("another IP still logs in while one IP is limited", async () => {
    const tag = uniqueName("lim").toLowerCase();
    const user = await w.seedUser({ username: tag, email: `${tag}@example.com`, password: PASSWORD });
    await roomInWindow(60, 15);
    for (let i = 0; i < 5; i++) await login(user.email, "wrong wrong", "203.0.113.61");
    await expectFailure(await login(user.email, "wrong wrong", "203.0.113.61"), 429);
    const body = await expectJson(await login(user.email, PASSWORD, "203.0.113.62"), 200);
    assert.equal(body.success, true);
    assert.equal(openJwe(body.data.user, key).payload.email, user.email);
  });
});
