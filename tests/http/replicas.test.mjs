// D1 read replication from outside: where each request's D1 session starts (the test entry
// tests/http/faults-entry.mjs records every `withSession` argument), the bookmark's round trip in the
// `X-D1-Bookmark` header and, in cookie mode, its cookie, and that a bookmark that does not look like
// D1's is ignored, never an error. Miniflare has one database and no replicas, so these tests prove
// the choice of start, not a replica's lag (docs/storage.md, "Read replication", says why each start
// is safe).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { expectProblem, parseSetCookie, resign, startWorker } from "./helpers.mjs";

const APP = "https://app.example.com";
const HEADER = "x-d1-bookmark";
const COOKIE = "__Secure-edge-auth-d1-bookmark";
const ACCESS = "__Host-edge-auth-access";
const BOOKMARK = /^[0-9a-f]+(-[0-9a-f]+)+$/;

/** Header mode. */
let w;
/** Cookie mode. */
let c;
before(async () => {
  [w, c] = await Promise.all([
    startWorker({ faults: true, bindings: { CORS_ORIGINS: APP } }),
    startWorker({ faults: true, bindings: { COOKIE_MODE: "true", CORS_ORIGINS: APP } }),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), c?.close()]);
});

/** The `withSession` arguments recorded since the last call, in order. */
async function sessionsOf(worker) {
  const res = await worker.fetch("/__d1-sessions", { method: "POST" });
  assert.equal(res.status, 200);
  return res.json();
}

/** Runs `request` on `worker` and returns [response, the withSession arguments it made]. */
async function recorded(worker, request) {
  await sessionsOf(worker);
  const res = await request();
  await res.arrayBuffer();
  return [res, await sessionsOf(worker)];
}

const bearer = (token, extra = {}) => ({ headers: { Authorization: `Bearer ${token}`, ...extra } });

describe("the bookmark travels back and forth", () => {
  test("a login (a write) starts at the primary and answers a D1 bookmark in X-D1-Bookmark", async () => {
    const user = await w.seedUser();
    const [res, sessions] = await recorded(w, () =>
      w.post("/auth/login", { username: user.username, password: user.password }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(sessions, ["first-primary"]);
    assert.match(res.headers.get(HEADER) ?? "", BOOKMARK);
  });

  test("the bookmark given back on the next read starts its session there, and a newer one comes back", async () => {
    const { tokens } = await w.userWithToken();
    const login = await w.post("/auth/refresh", { refresh_token: tokens.refresh_token });
    const bookmark = login.headers.get(HEADER);
    assert.match(bookmark ?? "", BOOKMARK);
    const access = (await login.json()).access_token;
    const [res, sessions] = await recorded(w, () => w.fetch("/auth/me", bearer(access, { "X-D1-Bookmark": bookmark })));
    assert.equal(res.status, 200);
    assert.deepEqual(sessions, [bookmark]);
    assert.match(res.headers.get(HEADER) ?? "", BOOKMARK);
  });

  test("without a bookmark a read that may lag starts at the nearest replica", async () => {
    const { tokens } = await w.userWithToken();
    const [res, sessions] = await recorded(w, () => w.fetch("/auth/me", bearer(tokens.access_token)));
    assert.equal(res.status, 200);
    assert.deepEqual(sessions, ["first-unconstrained"]);
  });

  for (const [what, garbage] of [
    ["punctuation", "garbage!!"],
    ["a constraint name", "first-primary"],
    ["too long", "0".repeat(129)],
    ["dashes only", "----"],
    ["an inner space", "0000 0001"],
    ["SQL", "1' OR '1'='1"],
  ]) {
    test(`a garbage bookmark (${what}) is ignored: 200, the session starts at the nearest replica`, async () => {
      const { tokens } = await w.userWithToken();
      const [res, sessions] = await recorded(w, () =>
        w.fetch("/auth/me", bearer(tokens.access_token, { "X-D1-Bookmark": garbage })),
      );
      assert.equal(res.status, 200);
      assert.deepEqual(sessions, ["first-unconstrained"]);
    });
  }

  test("a bookmark sent to a route that must be exact is ignored: the session starts at the primary", async () => {
    const { user, tokens } = await w.userWithToken();
    const bookmark = "00000000-00000001-00000000-00000000000000000000000000000000";
    const cases = [
      () => w.post("/auth/login", { username: user.username, password: user.password }, { "X-D1-Bookmark": bookmark }),
      () => w.post("/auth/refresh", { refresh_token: tokens.refresh_token }, { "X-D1-Bookmark": bookmark }),
      () => w.post("/auth/logout", {}, { Authorization: `Bearer ${tokens.access_token}`, "X-D1-Bookmark": bookmark }),
    ];
    for (const request of cases) {
      const [res, sessions] = await recorded(w, request);
      assert.ok(res.status < 500, `status ${res.status}`);
      assert.deepEqual(sessions, ["first-primary"]);
    }
  });

  test("a route that reads no D1 answers no bookmark", async () => {
    for (const path of ["/.well-known/jwks.json", "/auth/openapi.json", "/auth/return-origins"]) {
      const res = await w.fetch(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get(HEADER), null, path);
    }
  });

  test("a read that misses on a lagging session reads again at the primary (a row written a moment ago)", async () => {
    const { tokens } = await w.userWithToken();
    // A valid signature over a session id D1 does not have: the lagging read misses, the primary too.
    const unknown = resign(tokens.access_token, (_, claims) => {
      claims.sid = "AAAAAAAAAAAAAAAAAAAAAA";
    });
    const [res, sessions] = await recorded(w, () => w.fetch("/auth/me", bearer(unknown)));
    assert.equal(res.status, 401);
    assert.deepEqual(sessions, ["first-unconstrained", "first-primary"]);
  });

  test("a revoked token stays refused on a lagging route, with or without the bookmark of its logout", async () => {
    const { tokens } = await w.userWithToken();
    const logout = await w.post("/auth/logout", {}, { Authorization: `Bearer ${tokens.access_token}` });
    assert.equal(logout.status, 204);
    const bookmark = logout.headers.get(HEADER);
    assert.match(bookmark ?? "", BOOKMARK);
    await expectProblem(assert, await w.fetch("/auth/me", bearer(tokens.access_token)), 401, "token_invalid");
    const res = await w.fetch("/auth/me", bearer(tokens.access_token, { "X-D1-Bookmark": bookmark }));
    await expectProblem(assert, res, 401, "token_invalid");
  });

  test("the scheduled handler reads the outbox at the primary", async () => {
    await sessionsOf(w);
    await w.scheduled();
    assert.deepEqual(await sessionsOf(w), ["first-primary"]);
  });
});

describe("where each route's session starts (routes::reads)", () => {
  const NEAREST = "first-unconstrained";
  const PRIMARY = "first-primary";
  // [method, path, start]; bodies are empty: a refused request opened its session all the same.
  const ROUTES = [
    ["GET", "/auth/me", NEAREST],
    ["GET", "/auth/profile", NEAREST],
    ["GET", "/auth/sessions", NEAREST],
    ["GET", "/auth/passkeys", NEAREST],
    ["GET", "/auth/me/sign-ins", NEAREST],
    ["POST", "/auth/passkeys/register/options", NEAREST],
    ["POST", "/auth/passkeys/login/options", NEAREST],
    ["POST", "/auth/login", PRIMARY],
    ["POST", "/auth/refresh", PRIMARY],
    ["POST", "/auth/logout", PRIMARY],
    ["POST", "/auth/logout-all", PRIMARY],
    ["DELETE", "/auth/sessions/xyz", PRIMARY],
    ["PATCH", "/auth/me", PRIMARY],
    ["POST", "/auth/signup", PRIMARY],
    ["PUT", "/auth/change-password", PRIMARY],
    ["POST", "/auth/forgot-password", PRIMARY],
    ["POST", "/auth/reset-password", PRIMARY],
    ["POST", "/auth/verify-email", PRIMARY],
    ["POST", "/auth/verify-email/resend", PRIMARY],
    ["GET", "/auth/admin/users", PRIMARY],
    ["GET", "/auth/admin/users/xyz", PRIMARY],
    ["GET", "/auth/admin/events", PRIMARY],
    ["POST", "/auth/admin/users", PRIMARY],
    ["POST", "/auth/admin/users/import", PRIMARY],
    ["PATCH", "/auth/admin/users/xyz", PRIMARY],
    ["DELETE", "/auth/admin/users/xyz", PRIMARY],
    ["POST", "/auth/admin/users/xyz/revoke-sessions", PRIMARY],
    ["DELETE", "/auth/admin/users/xyz/mfa", PRIMARY],
    ["POST", "/auth/mfa/totp/setup", PRIMARY],
    ["POST", "/auth/mfa/totp/enable", PRIMARY],
    ["POST", "/auth/mfa/totp/disable", PRIMARY],
    ["POST", "/auth/mfa/recovery-codes", PRIMARY],
    ["POST", "/auth/mfa/verify", PRIMARY],
    ["POST", "/auth/passkeys/register", PRIMARY],
    ["POST", "/auth/passkeys/login", PRIMARY],
    ["PATCH", "/auth/passkeys/xyz", PRIMARY],
    ["DELETE", "/auth/passkeys/xyz", PRIMARY],
    ["GET", "/health", PRIMARY],
    ["GET", "/auth/openapi.json", NEAREST],
    ["GET", "/auth/return-origins", NEAREST],
    ["GET", "/.well-known/jwks.json", NEAREST],
  ];

  test("the table covers every route of the OpenAPI document", async () => {
    const doc = await (await w.fetch("/auth/openapi.json")).json();
    const named = new Set(ROUTES.map(([m, p]) => `${m} ${p.replace(/\/xyz\b/g, "/{id}").replace(/^\/auth/, "")}`));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).filter((k) => ["get", "post", "put", "patch", "delete"].includes(k))) {
        assert.ok(named.has(`${method.toUpperCase()} ${path}`), `${method.toUpperCase()} ${path} is not in ROUTES`);
      }
    }
  });

  for (const [method, path, start] of ROUTES) {
    test(`${method} ${path} starts at ${start === PRIMARY ? "the primary" : "the nearest replica"}`, async () => {
      const { tokens } = await w.userWithToken();
      const init = { method, headers: { Authorization: `Bearer ${tokens.access_token}` } };
      if (method !== "GET") Object.assign(init, { body: "{}", headers: { ...init.headers, "Content-Type": "application/json" } });
      const [res, sessions] = await recorded(w, () => w.fetch(path, init));
      assert.ok(res.status < 500 || path === "/health", `${method} ${path}: ${res.status}`);
      assert.equal(sessions[0], start, `${method} ${path}: ${JSON.stringify(sessions)}`);
      assert.ok(sessions.length === 1 || sessions[1] === PRIMARY, JSON.stringify(sessions));
    });
  }
});

describe("CORS lets a listed origin read and send the bookmark", () => {
  test("an actual response exposes X-D1-Bookmark", async () => {
    const user = await w.seedUser();
    const res = await w.post("/auth/login", { username: user.username, password: user.password }, { Origin: APP });
    assert.equal(res.status, 200);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/,\s*/);
    assert.ok(exposed.includes(HEADER), `exposed: ${exposed}`);
  });

  test("a preflight allows the X-D1-Bookmark request header", async () => {
    const res = await w.fetch("/auth/me", {
      method: "OPTIONS",
      headers: { Origin: APP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-d1-bookmark" },
    });
    assert.equal(res.status, 204);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    assert.ok(allowed.includes(HEADER), `allowed: ${allowed}`);
  });
});

describe("cookie mode", () => {
  const cookieOf = (res, name) => res.headers.getSetCookie().map(parseSetCookie).find((x) => x.name === name);

  async function cookieLogin() {
    const user = await c.seedUser();
    const res = await c.post("/auth/login", { username: user.username, password: user.password });
    assert.equal(res.status, 200);
    return { res, tokens: await res.json() };
  }

  test("a login sets the bookmark cookie: the header's value, HttpOnly, Secure, SameSite=Lax, Path=/auth", async () => {
    const { res } = await cookieLogin();
    const cookie = cookieOf(res, COOKIE);
    assert.ok(cookie, `no bookmark cookie in ${res.headers.getSetCookie()}`);
    assert.equal(cookie.value, res.headers.get(HEADER));
    assert.match(cookie.value, BOOKMARK);
    assert.equal(cookie.attrs.httponly, true);
    assert.equal(cookie.attrs.secure, true);
    assert.equal(cookie.attrs.samesite, "Lax");
    assert.equal(cookie.attrs.path, "/auth");
    assert.equal(cookie.attrs.domain, undefined);
    assert.ok(Number(cookie.attrs["max-age"]) > 0);
  });

  test("the cookie brought back starts the next read's session at its bookmark", async () => {
    const { res, tokens } = await cookieLogin();
    const bookmark = cookieOf(res, COOKIE).value;
    const cookies = `${ACCESS}=${tokens.access_token}; ${COOKIE}=${bookmark}`;
    const [me, sessions] = await recorded(c, () => c.fetch("/auth/me", { headers: { Cookie: cookies } }));
    assert.equal(me.status, 200);
    assert.deepEqual(sessions, [bookmark]);
  });

  test("the header wins over the cookie, and a garbage cookie is ignored", async () => {
    const { res, tokens } = await cookieLogin();
    const bookmark = cookieOf(res, COOKIE).value;
    const other = "00000000-00000001-00000000-00000000000000000000000000000000";
    const headers = { Cookie: `${ACCESS}=${tokens.access_token}; ${COOKIE}=${bookmark}`, "X-D1-Bookmark": other };
    const [, first] = await recorded(c, () => c.fetch("/auth/me", { headers }));
    assert.deepEqual(first, [other]);
    const garbage = { Cookie: `${ACCESS}=${tokens.access_token}; ${COOKIE}=not!a!bookmark` };
    const [me, second] = await recorded(c, () => c.fetch("/auth/me", { headers: garbage }));
    assert.equal(me.status, 200);
    assert.deepEqual(second, ["first-unconstrained"]);
  });

  test("a refused request sets no cookie, the bookmark header still comes back", async () => {
    const user = await c.seedUser();
    const res = await c.post("/auth/login", { username: user.username, password: "wrong password here" });
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.match(res.headers.get(HEADER) ?? "", BOOKMARK);
  });

  test("in header mode no bookmark cookie is set", async () => {
    const user = await w.seedUser();
    const res = await w.post("/auth/login", { username: user.username, password: user.password });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  test("in header mode the bookmark cookie is not read", async () => {
    const { tokens } = await w.userWithToken();
    const bookmark = "00000000-00000001-00000000-00000000000000000000000000000000";
    const [, sessions] = await recorded(w, () =>
      w.fetch("/auth/me", bearer(tokens.access_token, { Cookie: `${COOKIE}=${bookmark}` })),
    );
    assert.deepEqual(sessions, ["first-unconstrained"]);
  });
});
