// API_PROFILE=pin-cookies: the cookie-session API with name + PIN (seeds/002_1360fd679b6213e5.txt). Base
// path /auth; POST /login {name, pin} -> {"message": "Login successful"} and the cookies accessToken
// (15 min) and refreshToken (30 days); POST /refresh and POST /logout authenticated by those cookies;
// {"message": ...} bodies. The document's curl lines send no Origin: a client that is not a browser (no
// Origin, no Sec-Fetch-Site) is allowed; a cookie request from a foreign Origin is refused (CSRF).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { uniqueName } from "./helpers.mjs";
import {
  suiteWorker, expectIdsStablePerUser,
  expectJson, expectIdentical, expectOneSession, expectUserList, expectOpenApi, assertNumericId, assertLifetime,
  BAD_TOKENS, bearer, cookiesOf, cookieHeader,
} from "./profile-helpers.mjs";

const ACCESS = "accessToken";
const REFRESH = "refreshToken";
const EVIL = "https://evil.example";
const SELF = "http://localhost";
const LOGIN_OK = { message: "Login successful" };
const BAD_CREDENTIALS = { message: "Invalid credentials" };
const REFRESHED = { message: "Access token refreshed successfully" };
const INVALID_REFRESH = { message: "Invalid refresh token" };
const LOGGED_OUT = { message: "Logout successful" };
const UNAUTHORIZED = { message: "Unauthorized" };
const PIN = "4821";

describe("pin-cookies: login, refresh, logout and profile by cookie", () => {
  const w = suiteWorker({ bindings: { API_PROFILE: "pin-cookies" } }, (worker) =>
    // The document's example account.
    worker.seedUser({ username: "admin", password: "1234", role: "admin" }),
  );

  const login = (name, pin, headers) => w.post("/auth/login", { name, pin }, headers);

  /** Seeds a PIN user and logs in; returns {user, res, access, refresh} (the cookie values). */
  async function loggedIn(options = {}) {
    const user = await w.seedUser({ username: uniqueName("pin"), password: PIN, ...options });
    const res = await login(user.username, user.password);
    assert.equal(res.status, 200, await res.clone().text());
    const cookies = cookiesOf(res);
    assert.ok(cookies[ACCESS] && cookies[REFRESH], `both cookies in ${res.headers.getSetCookie()}`);
    return { user, res, access: cookies[ACCESS].value, refresh: cookies[REFRESH].value };
  }

  const profileByCookie = (access, headers = {}) => w.fetch("/auth/profile", { headers: { ...cookieHeader({ [ACCESS]: access }), ...headers } });
  const refreshBy = (cookies, headers = {}) => w.fetch("/auth/refresh", { method: "POST", headers: { ...cookieHeader(cookies), ...headers } });
  const logoutBy = (cookies, headers = {}) => w.fetch("/auth/logout", { method: "POST", headers: { ...cookieHeader(cookies), ...headers } });

  /** The headers of the document's curl lines: one Cookie header per cookie (-H 'Cookie: ...' twice). */
  function curlCookies(access, refresh) {
    const h = new Headers();
    h.append("Cookie", `${ACCESS}=${access}`);
    h.append("Cookie", `${REFRESH}=${refresh}`);
    return h;
  }

  /** `value` with one character near its middle (not a separator) replaced by another base64url character. */
  function changeOneCharacter(value) {
    let i = Math.floor(value.length / 2);
    while (!/[A-Za-z0-9]/.test(value[i])) i += 1;
    return value.slice(0, i) + (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
  }

  // ---- login --------------------------------------------------------------------------------------------

  test("the document's curl (admin / 1234) answers 200 {message: Login successful}", async () => {
    const res = await w.post(
      "/auth/login",
      `{
"name": "admin",
"pin": "1234"
}`,
    );
    await expectJson(res, 200, LOGIN_OK);
  });

  test("login sets exactly two cookies, accessToken and refreshToken", async () => {
    const { res } = await loggedIn();
    assert.deepEqual(Object.keys(cookiesOf(res)).sort(), [ACCESS, REFRESH].sort());
  });

  for (const [name, lifetime, maxAge, path, sameSite] of [
    [ACCESS, "15 minutes", "900", "/", "Lax"],
    [REFRESH, "30 days", "2592000", "/auth", "Strict"],
  ]) {
    test(`the ${name} cookie lives ${lifetime}: Max-Age=${maxAge}, HttpOnly, Secure, Path=${path}, SameSite=${sameSite}`, async () => {
      const { res } = await loggedIn();
      const c = cookiesOf(res)[name];
      assert.equal(c.attrs["max-age"], maxAge);
      assert.equal(c.attrs.httponly, true);
      assert.equal(c.attrs.secure, true);
      assert.equal(c.attrs.path, path);
      assert.equal(String(c.attrs.samesite).toLowerCase(), sameSite.toLowerCase());
    });
  }

  test("the accessToken cookie is a JWT valid for 900 seconds; the refreshToken is a different value", async () => {
    const { access, refresh } = await loggedIn();
    assert.equal(access.split(".").length, 3);
    assertLifetime(access, 900);
    assert.ok(refresh.length >= 16, refresh);
    assert.notEqual(refresh, access);
  });

  test("a wrong PIN is 401 {message: Invalid credentials} and sets no cookie", async () => {
    const user = await w.seedUser({ username: uniqueName("pin"), password: PIN });
    const res = await login(user.username, "0000");
    assert.deepEqual(res.headers.getSetCookie(), []);
    await expectJson(res, 401, BAD_CREDENTIALS);
  });

  test("an unknown name is 401 {message: Invalid credentials}", async () => {
    await expectJson(await login(uniqueName("ghost"), "1234"), 401, BAD_CREDENTIALS);
  });

  test("unknown name and wrong PIN get byte-identical 401 answers", async () => {
    await expectIdentical(await login("admin", "9999"), await login(uniqueName("ghost"), "9999"), 401);
  });

  for (const [what, body] of [
    ["no pin", { name: "admin" }],
    ["no name", { pin: "1234" }],
  ]) {
    test(`login with ${what} is refused with a {message} body and no cookie`, async () => {
      const res = await w.post("/auth/login", body);
      assert.deepEqual(res.headers.getSetCookie(), []);
      const parsed = await expectJson(res, res.status);
      assert.ok(res.status === 400 || res.status === 401, `status ${res.status}`);
      assert.deepEqual(Object.keys(parsed), ["message"], JSON.stringify(parsed));
      assert.equal(typeof parsed.message, "string");
    });
  }

  // ---- profile -------------------------------------------------------------------------------------------

  test("GET /auth/profile with the accessToken cookie answers 200 {id, name, role}", async () => {
    const { access, user } = await loggedIn({ role: "user" });
    const body = await expectJson(await profileByCookie(access), 200);
    assert.deepEqual(Object.keys(body).sort(), ["id", "name", "role"]);
    assertNumericId(body.id);
    assert.deepEqual(body, { id: body.id, name: user.username, role: "user" });
  });

  test("GET /auth/profile with the access token as Bearer answers the same 200", async () => {
    const { access } = await loggedIn();
    const byCookie = await expectJson(await profileByCookie(access), 200);
    await expectJson(await w.fetch("/auth/profile", { headers: bearer(access) }), 200, byCookie);
  });

  test("the user id is a number, the same on every login of a user, different between users", async () => {
    await expectIdsStablePerUser(w, PIN, async (u) => {
      const res = await login(u.username, u.password);
      assert.equal(res.status, 200);
      return (await expectJson(await profileByCookie(cookiesOf(res)[ACCESS].value), 200)).id;
    });
  });

  test("GET /auth/profile without a cookie is 401 {message: Unauthorized}", async () => {
    await expectJson(await w.fetch("/auth/profile"), 401, UNAUTHORIZED);
  });

  for (const [what, forge] of BAD_TOKENS) {
    test(`GET /auth/profile with ${what} in the accessToken cookie is 401 {message: Unauthorized}`, async () => {
      const { access } = await loggedIn();
      await expectJson(await profileByCookie(forge(access)), 401, UNAUTHORIZED);
    });
  }

  test("the refresh token in the accessToken cookie is 401 {message: Unauthorized}", async () => {
    const { refresh } = await loggedIn();
    await expectJson(await profileByCookie(refresh), 401, UNAUTHORIZED);
  });

  // ---- refresh -------------------------------------------------------------------------------------------

  test("the document's refresh curl (two Cookie headers, no Origin) answers 200 {message: Access token refreshed successfully}", async () => {
    const { access, refresh } = await loggedIn();
    const res = await w.fetch("/auth/refresh", { method: "POST", headers: curlCookies(access, refresh) });
    await expectJson(res, 200, REFRESHED);
  });

  test("refresh sets a new accessToken cookie (Max-Age=900) that opens the profile", async () => {
    const { refresh, user } = await loggedIn();
    const res = await refreshBy({ [REFRESH]: refresh });
    const c = cookiesOf(res)[ACCESS];
    await expectJson(res, 200, REFRESHED);
    assert.ok(c, "a new accessToken cookie");
    assert.equal(c.attrs["max-age"], "900");
    assert.equal(c.attrs.httponly, true);
    assertLifetime(c.value, 900);
    const body = await expectJson(await profileByCookie(c.value), 200);
    assert.equal(body.name, user.username);
  });

  test("refresh rotates the refreshToken cookie: a new value that refreshes again", async () => {
    const { refresh } = await loggedIn();
    const res = await refreshBy({ [REFRESH]: refresh });
    assert.equal(res.status, 200);
    const next = cookiesOf(res)[REFRESH];
    assert.ok(next, "a rotated refreshToken cookie");
    assert.notEqual(next.value, refresh);
    assert.equal(next.attrs.httponly, true);
    assert.equal(next.attrs["max-age"] !== undefined && Number(next.attrs["max-age"]) > 0, true);
    await expectJson(await refreshBy({ [REFRESH]: next.value }), 200, REFRESHED);
  });

  test("the previous refreshToken replayed within 30 seconds still answers 200 (grace window)", async () => {
    const { refresh } = await loggedIn();
    await expectJson(await refreshBy({ [REFRESH]: refresh }), 200, REFRESHED);
    await expectJson(await refreshBy({ [REFRESH]: refresh }), 200, REFRESHED);
  });

  test("refresh without a refreshToken cookie is 401 {message: Invalid refresh token}", async () => {
    await expectJson(await w.fetch("/auth/refresh", { method: "POST" }), 401, INVALID_REFRESH);
  });

  test("refresh with only the accessToken cookie is 401 {message: Invalid refresh token}", async () => {
    const { access } = await loggedIn();
    await expectJson(await refreshBy({ [ACCESS]: access }), 401, INVALID_REFRESH);
  });

  for (const [what, value] of [
    ["a garbage refreshToken", "not-a-refresh-token"],
    ["a refreshToken with one character changed", null],
  ]) {
    test(`refresh with ${what} is 401 {message: Invalid refresh token}`, async () => {
      const { refresh } = await loggedIn();
      const forged = value ?? changeOneCharacter(refresh);
      await expectJson(await refreshBy({ [REFRESH]: forged }), 401, INVALID_REFRESH);
    });
  }

  test("refresh with the access token in the refreshToken cookie is 401 {message: Invalid refresh token}", async () => {
    const { access } = await loggedIn();
    await expectJson(await refreshBy({ [REFRESH]: access }), 401, INVALID_REFRESH);
  });

  test("refresh by cookie from the Worker's own Origin answers 200", async () => {
    const { refresh } = await loggedIn();
    await expectJson(await refreshBy({ [REFRESH]: refresh }, { Origin: SELF }), 200, REFRESHED);
  });

  test("refresh by cookie from a foreign Origin is 403 and sets no cookie", async () => {
    const { refresh } = await loggedIn();
    const res = await refreshBy({ [REFRESH]: refresh }, { Origin: EVIL });
    assert.equal(res.status, 403, await res.clone().text());
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  test("refresh by cookie with Sec-Fetch-Site: cross-site and no Origin is 403", async () => {
    const { refresh } = await loggedIn();
    const res = await refreshBy({ [REFRESH]: refresh }, { "Sec-Fetch-Site": "cross-site" });
    assert.equal(res.status, 403, await res.text());
  });

  // ---- logout --------------------------------------------------------------------------------------------

  test("the document's logout curl (two Cookie headers, no Origin) answers 200 {message: Logout successful}", async () => {
    const { access, refresh } = await loggedIn();
    const res = await w.fetch("/auth/logout", { method: "POST", headers: curlCookies(access, refresh) });
    await expectJson(res, 200, LOGGED_OUT);
  });

  test("logout clears both cookies: accessToken (Path=/) and refreshToken (Path=/auth) with Max-Age=0", async () => {
    const { access, refresh } = await loggedIn();
    const res = await logoutBy({ [ACCESS]: access, [REFRESH]: refresh });
    assert.equal(res.status, 200, await res.clone().text());
    const cookies = cookiesOf(res);
    assert.deepEqual(Object.keys(cookies).sort(), [ACCESS, REFRESH].sort());
    assert.equal(cookies[ACCESS].value, "");
    assert.equal(cookies[ACCESS].attrs["max-age"], "0");
    assert.equal(cookies[ACCESS].attrs.path, "/");
    assert.equal(cookies[REFRESH].value, "");
    assert.equal(cookies[REFRESH].attrs["max-age"], "0");
    assert.equal(cookies[REFRESH].attrs.path, "/auth");
  });

  test("after logout the old accessToken cookie is 401 {message: Unauthorized} on GET /auth/profile", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await profileByCookie(access), 200);
    await expectJson(await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }), 200, LOGGED_OUT);
    await expectJson(await profileByCookie(access), 401, UNAUTHORIZED);
  });

  test("after logout the old access token is 401 as Bearer too", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }), 200, LOGGED_OUT);
    await expectJson(await w.fetch("/auth/profile", { headers: bearer(access) }), 401, UNAUTHORIZED);
  });

  test("after logout the refreshToken cookie is 401 {message: Invalid refresh token}", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }), 200, LOGGED_OUT);
    await expectJson(await refreshBy({ [REFRESH]: refresh }), 401, INVALID_REFRESH);
  });

  test("logout with only the accessToken cookie still revokes the session's refresh token", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [ACCESS]: access }), 200, LOGGED_OUT);
    await expectJson(await refreshBy({ [REFRESH]: refresh }), 401, INVALID_REFRESH);
  });

  test("a refreshed session is ended by logout with the new cookies: the rotated refreshToken is refused", async () => {
    const { refresh } = await loggedIn();
    const res = await refreshBy({ [REFRESH]: refresh });
    assert.equal(res.status, 200);
    const cookies = cookiesOf(res);
    await expectJson(await logoutBy({ [ACCESS]: cookies[ACCESS].value, [REFRESH]: cookies[REFRESH].value }), 200, LOGGED_OUT);
    await expectJson(await refreshBy({ [REFRESH]: cookies[REFRESH].value }), 401, INVALID_REFRESH);
    await expectJson(await profileByCookie(cookies[ACCESS].value), 401, UNAUTHORIZED);
  });

  test("logout without any cookie is 401 {message: Unauthorized}", async () => {
    await expectJson(await w.fetch("/auth/logout", { method: "POST" }), 401, UNAUTHORIZED);
  });

  test("logout with only a refreshToken cookie (no access token) is 401 {message: Unauthorized} and the session lives on", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [REFRESH]: refresh }), 401, UNAUTHORIZED);
    await expectJson(await profileByCookie(access), 200);
  });

  test("logout with an expired accessToken cookie is 401 {message: Unauthorized}", async () => {
    const { access, refresh } = await loggedIn();
    const [, forge] = BAD_TOKENS.find(([name]) => name === "an expired token");
    await expectJson(await logoutBy({ [ACCESS]: forge(access), [REFRESH]: refresh }), 401, UNAUTHORIZED);
  });

  test("logout by cookie from a foreign Origin is 403 and the session keeps working", async () => {
    const { access, refresh } = await loggedIn();
    const res = await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }, { Origin: EVIL });
    assert.equal(res.status, 403, await res.clone().text());
    assert.deepEqual(res.headers.getSetCookie(), []);
    await expectJson(await profileByCookie(access), 200);
    await expectJson(await refreshBy({ [REFRESH]: refresh }), 200, REFRESHED);
  });

  test("logout by cookie from the Worker's own Origin answers 200", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }, { Origin: SELF }), 200, LOGGED_OUT);
  });

  // ---- native endpoints under /auth ----------------------------------------------------------------------

  test("GET /auth/sessions with the accessToken cookie lists the caller's sessions", async () => {
    const { access } = await loggedIn();
    await expectOneSession(await w.fetch("/auth/sessions", { headers: cookieHeader({ [ACCESS]: access }) }));
  });

  test("GET /auth/sessions with the access cookie of a logged-out session is 401 {message: Unauthorized}", async () => {
    const { access, refresh } = await loggedIn();
    await expectJson(await logoutBy({ [ACCESS]: access, [REFRESH]: refresh }), 200, LOGGED_OUT);
    await expectJson(await w.fetch("/auth/sessions", { headers: cookieHeader({ [ACCESS]: access }) }), 401, UNAUTHORIZED);
  });

  test("an admin's accessToken cookie opens GET /auth/admin/users", async () => {
    const { access } = await loggedIn({ role: "admin" });
    await expectUserList(await w.fetch("/auth/admin/users", { headers: cookieHeader({ [ACCESS]: access }) }));
  });

  test("a user's accessToken cookie on GET /auth/admin/users is 403", async () => {
    const { access } = await loggedIn({ role: "user" });
    const res = await w.fetch("/auth/admin/users", { headers: cookieHeader({ [ACCESS]: access }) });
    assert.equal(res.status, 403, await res.text());
  });

  test("GET /auth/openapi.json documents /login, /refresh, /logout and /profile with servers[0].url /auth", async () => {
    await expectOpenApi(w, "/auth", ["/login", "/refresh", "/logout", "/profile"]);
  });

  test("GET /health answers 200 {status: ok}", async () => {
    await expectJson(await w.fetch("/health"), 200, { status: "ok" });
  });
});
