// Cookie mode (COOKIE_MODE=true) from outside: the two cookies and their attributes, authentication by
// cookie, the CSRF origin check on cookie-authenticated state changes, and that the default mode
// ignores cookies entirely.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, parseSetCookie } from "./helpers.mjs";

const APP = "https://app.example.com";
const EVIL = "https://evil.example";
const SELF = "http://localhost";
const ACCESS = "__Host-edge-auth-access";
const REFRESH = "__Secure-edge-auth-refresh";
const BOOKMARK_COOKIE = "__Secure-edge-auth-d1-bookmark";

/** COOKIE_MODE=true, CORS_ORIGINS=https://app.example.com. */
let w;
/** Default mode (no cookies). */
let plain;
before(async () => {
  [w, plain] = await Promise.all([
    startWorker({ bindings: { COOKIE_MODE: "true", CORS_ORIGINS: APP } }),
    startWorker(),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), plain?.close()]);
});

/** The token cookies among the Set-Cookie headers of `res`, parsed, keyed by cookie name (asserting no
 * name repeats). The D1 bookmark's cookie is no token (tests/http/replicas.test.mjs) and is left out. */
function cookiesOf(res) {
  const list = res.headers.getSetCookie().map(parseSetCookie).filter((c) => c.name !== BOOKMARK_COOKIE);
  const byName = Object.fromEntries(list.map((c) => [c.name, c]));
  assert.equal(Object.keys(byName).length, list.length, "a cookie is set twice");
  return { list, byName };
}

/** Seeds a user and logs in on the cookie-mode Worker; returns {user, tokens, res}. */
async function cookieLogin() {
  const user = await w.seedUser();
  const res = await w.post("/auth/login", { username: user.username, password: user.password });
  assert.equal(res.status, 200, await res.clone().text());
  return { user, res, tokens: await res.clone().json() };
}

const cookieHeader = (pairs) => ({ Cookie: Object.entries(pairs).map(([k, v]) => `${k}=${v}`).join("; ") });
const profileByCookie = (accessToken) => w.fetch("/auth/profile", { headers: cookieHeader({ [ACCESS]: accessToken }) });
const refreshByCookie = (refreshToken, headers = {}) =>
  w.fetch("/auth/refresh", { method: "POST", headers: { ...cookieHeader({ [REFRESH]: refreshToken }), ...headers } });
const logoutByCookie = (tokens, headers = {}) =>
  w.fetch("/auth/logout", {
    method: "POST",
    headers: { ...cookieHeader({ [ACCESS]: tokens.access_token, [REFRESH]: tokens.refresh_token }), ...headers },
  });

/** Asserts a refresh answered 200 with a rotated token pair in both body and cookies. */
async function expectRefreshedWithCookies(res, previous) {
  const text = await res.text();
  assert.equal(res.status, 200, `status of ${text}`);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = JSON.parse(text);
  assert.notEqual(body.refresh_token, previous.refresh_token);
  const { byName } = cookiesOf(res);
  assert.deepEqual(Object.keys(byName).sort(), [REFRESH, ACCESS].sort());
  assert.equal(byName[ACCESS].value, body.access_token);
  assert.equal(byName[REFRESH].value, body.refresh_token);
  return body;
}

// ---- the cookies set at login --------------------------------------------------------------------------

test("login in cookie mode sets exactly two cookies: the access and the refresh cookie", async () => {
  const { res } = await cookieLogin();
  const { list } = cookiesOf(res);
  assert.equal(list.length, 2);
  assert.deepEqual(list.map((c) => c.name).sort(), [REFRESH, ACCESS].sort());
});

test("the access cookie carries the access token with Path=/, Secure, HttpOnly, SameSite=Lax, Max-Age=900 and no Domain", async () => {
  const { res, tokens } = await cookieLogin();
  const c = cookiesOf(res).byName[ACCESS];
  assert.equal(c.value, tokens.access_token);
  assert.equal(c.attrs.path, "/");
  assert.equal(c.attrs.secure, true);
  assert.equal(c.attrs.httponly, true);
  assert.equal(c.attrs.samesite, "Lax");
  assert.equal(c.attrs["max-age"], "900");
  assert.equal("domain" in c.attrs, false);
});

test("the refresh cookie carries the refresh token with Path=/auth, Secure, HttpOnly, SameSite=Strict, Max-Age=2592000", async () => {
  const { res, tokens } = await cookieLogin();
  const c = cookiesOf(res).byName[REFRESH];
  assert.equal(c.value, tokens.refresh_token);
  assert.equal(c.attrs.path, "/auth");
  assert.equal(c.attrs.secure, true);
  assert.equal(c.attrs.httponly, true);
  assert.equal(c.attrs.samesite, "Strict");
  assert.equal(c.attrs["max-age"], "2592000");
  assert.equal("domain" in c.attrs, false);
});

test("the login body in cookie mode still carries both tokens", async () => {
  const { tokens, user } = await cookieLogin();
  assert.equal(tokens.token_type, "Bearer");
  assert.equal(typeof tokens.access_token, "string");
  assert.match(tokens.refresh_token, /^rt1\./);
  assert.equal(tokens.expires_in, 900);
  assert.equal(tokens.refresh_expires_in, 2592000);
  assert.equal(tokens.user.id, user.id);
});

// ---- authentication by cookie ----------------------------------------------------------------------------

test("the access cookie alone (no Authorization header) opens the profile", async () => {
  const { tokens, user } = await cookieLogin();
  const res = await profileByCookie(tokens.access_token);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).id, user.id);
});

// ---- refresh by cookie and its CSRF check -----------------------------------------------------------------

test("refresh with only the refresh cookie from the allowed Origin answers 200 with new cookies", async () => {
  const { tokens } = await cookieLogin();
  const body = await expectRefreshedWithCookies(await refreshByCookie(tokens.refresh_token, { Origin: APP }), tokens);
  const res = await profileByCookie(body.access_token);
  assert.equal(res.status, 200);
});

test("refresh with only the refresh cookie from the Worker's own Origin answers 200 with new cookies", async () => {
  const { tokens } = await cookieLogin();
  await expectRefreshedWithCookies(await refreshByCookie(tokens.refresh_token, { Origin: SELF }), tokens);
});

test("refresh by cookie from an unlisted Origin is 403 csrf_rejected", async () => {
  const { tokens } = await cookieLogin();
  await expectProblem(assert, await refreshByCookie(tokens.refresh_token, { Origin: EVIL }), 403, "csrf_rejected");
});

test("a refresh by cookie rejected for CSRF does not rotate the token", async () => {
  const { tokens } = await cookieLogin();
  await expectProblem(assert, await refreshByCookie(tokens.refresh_token, { Origin: EVIL }), 403, "csrf_rejected");
  const body = await expectRefreshedWithCookies(await refreshByCookie(tokens.refresh_token, { Origin: APP }), tokens);
  assert.match(body.refresh_token, /^rt1\.[^.]+\.1\./);
});

test("refresh by cookie with neither Origin nor Sec-Fetch-Site is 403 csrf_rejected", async () => {
  const { tokens } = await cookieLogin();
  await expectProblem(assert, await refreshByCookie(tokens.refresh_token), 403, "csrf_rejected");
});

test("refresh by cookie without Origin but with Sec-Fetch-Site: same-origin answers 200", async () => {
  const { tokens } = await cookieLogin();
  await expectRefreshedWithCookies(await refreshByCookie(tokens.refresh_token, { "Sec-Fetch-Site": "same-origin" }), tokens);
});

test("refresh by cookie without Origin and with Sec-Fetch-Site: cross-site is 403 csrf_rejected", async () => {
  const { tokens } = await cookieLogin();
  await expectProblem(
    assert,
    await refreshByCookie(tokens.refresh_token, { "Sec-Fetch-Site": "cross-site" }),
    403,
    "csrf_rejected",
  );
});

// ---- logout by cookie --------------------------------------------------------------------------------------

test("logout authenticated by cookie from an unlisted Origin is 403 csrf_rejected and the session keeps working", async () => {
  const { tokens, user } = await cookieLogin();
  await expectProblem(assert, await logoutByCookie(tokens, { Origin: EVIL }), 403, "csrf_rejected");
  const res = await profileByCookie(tokens.access_token);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).id, user.id);
});

test("logout authenticated by cookie from the allowed Origin answers 204 and clears both cookies", async () => {
  const { tokens } = await cookieLogin();
  const res = await logoutByCookie(tokens, { Origin: APP });
  assert.equal(res.status, 204, await res.clone().text());
  const { byName } = cookiesOf(res);
  assert.deepEqual(Object.keys(byName).sort(), [REFRESH, ACCESS].sort());
  assert.equal(byName[ACCESS].value, "");
  assert.equal(byName[ACCESS].attrs["max-age"], "0");
  assert.equal(byName[ACCESS].attrs.path, "/");
  assert.equal(byName[REFRESH].value, "");
  assert.equal(byName[REFRESH].attrs["max-age"], "0");
  assert.equal(byName[REFRESH].attrs.path, "/auth");
});

test("after a logout by cookie the access token stops working, by cookie and by header", async () => {
  const { tokens } = await cookieLogin();
  assert.equal((await logoutByCookie(tokens, { Origin: APP })).status, 204);
  await expectProblem(assert, await profileByCookie(tokens.access_token), 401, "token_invalid");
  const res = await w.fetch("/auth/profile", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  await expectProblem(assert, res, 401, "token_invalid");
});

test("after a logout by cookie the refresh cookie is refused", async () => {
  const { tokens } = await cookieLogin();
  assert.equal((await logoutByCookie(tokens, { Origin: APP })).status, 204);
  await expectProblem(assert, await refreshByCookie(tokens.refresh_token, { Origin: APP }), 401, "refresh_token_invalid");
});

// ---- the Authorization header wins -----------------------------------------------------------------------------

test("in cookie mode a bearer-authenticated logout from an unlisted Origin is not CSRF-rejected", async () => {
  const { tokens } = await cookieLogin();
  const res = await w.fetch("/auth/logout", {
    method: "POST",
    headers: { Authorization: `Bearer ${tokens.access_token}`, Origin: EVIL },
  });
  assert.equal(res.status, 204, await res.clone().text());
  const after = await w.fetch("/auth/profile", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  await expectProblem(assert, after, 401, "token_invalid");
});

test("in cookie mode the Authorization header is used even when an access cookie is also sent", async () => {
  const a = await cookieLogin();
  const b = await cookieLogin();
  const res = await w.fetch("/auth/profile", {
    headers: { Authorization: `Bearer ${a.tokens.access_token}`, ...cookieHeader({ [ACCESS]: b.tokens.access_token }) },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).id, a.user.id);
});

// ---- default mode ignores cookies -------------------------------------------------------------------------------

test("in the default mode login sets no cookie", async () => {
  const user = await plain.seedUser();
  const res = await plain.post("/auth/login", { username: user.username, password: user.password });
  assert.equal(res.status, 200);
  assert.deepEqual(res.headers.getSetCookie(), []);
});

test("in the default mode the access cookie alone is ignored: 401 token_missing", async () => {
  const { tokens } = await plain.userWithToken();
  const res = await plain.fetch("/auth/profile", { headers: cookieHeader({ [ACCESS]: tokens.access_token }) });
  await expectProblem(assert, res, 401, "token_missing");
});

test("in the default mode the refresh cookie alone is ignored: 400 refresh_token missing", async () => {
  const { tokens } = await plain.userWithToken();
  const res = await plain.fetch("/auth/refresh", {
    method: "POST",
    headers: { ...cookieHeader({ [REFRESH]: tokens.refresh_token }), Origin: "http://localhost" },
  });
  const body = await expectProblem(assert, res, 400, "invalid_request");
  assert.deepEqual(body.errors.map((e) => [e.field, e.code]), [["refresh_token", "missing"]]);
});
