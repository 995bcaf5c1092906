// Response hygiene from outside [docs/security.md "Responses"; README.md "API"; RFC 6749 §5.1; RFC 9457]:
// every kind of response carries nosniff, no-referrer, a CSP of default-src 'none' and an X-Request-Id
// (Cloudflare's cf-ray when the request has one); token and error responses are never cached; and no
// password, token, secret or address the client sent comes back in a response, nor goes to the log.
//
// The Worker's console output reaches this process through Miniflare, which prints each workerd output
// line with console.log / console.error: the wrappers below keep a copy of every line (and still print
// it), so the log can be searched for what must never be in it.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, uniqueName, TEST_SECRET } from "./helpers.mjs";

const logLines = [];
for (const name of ["log", "error", "warn", "info"]) {
  const original = console[name].bind(console);
  console[name] = (...args) => {
    logLines.push(args.map(String).join(" "));
    original(...args);
  };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to 3 s) until the Worker's request log line for `requestId` has arrived. */
async function waitForLog(requestId) {
  for (let i = 0; i < 60; i++) {
    if (logLines.some((l) => l.includes(requestId))) return;
    await sleep(50);
  }
  throw new Error(`no log line with request id ${requestId}`);
}

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const GOOD_PASSWORD = "violet tangerine harbour";

/** Asserts the headers every response must carry. */
function expectHygiene(res, label) {
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${label}: X-Content-Type-Options`);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer", `${label}: Referrer-Policy`);
  assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/, `${label}: CSP`);
  assert.match(res.headers.get("x-request-id") ?? "", /^\S{1,64}$/, `${label}: X-Request-Id`);
}

function expectNoStore(res, label) {
  assert.equal(res.headers.get("cache-control"), "no-store", `${label}: Cache-Control`);
}

// ---- headers on every response kind -----------------------------------------------------------------

describe("hygiene headers on every response kind", () => {
  let w;
  let limited;
  let broken;
  let alice;
  before(async () => {
    [w, limited, broken] = await Promise.all([
      startWorker(),
      startWorker({ bindings: { RATE_LIMIT_LOGIN_IP: "1/1h" } }),
      startWorker({ bindings: { JWT_ALGORITHM: "none" } }),
    ]);
    alice = await w.userWithToken();
  });
  after(async () => {
    await Promise.all([w?.close(), limited?.close(), broken?.close()]);
  });

  /** [label, status, request, token or error response?] */
  const cases = () => [
    ["200 health", 200, () => w.fetch("/health"), false],
    ["200 profile", 200, () => w.fetch("/auth/profile", { headers: bearer(alice.tokens.access_token) }), true],
    ["200 login (token)", 200, () => w.post("/auth/login", { username: alice.user.username, password: alice.user.password }), true],
    ["200 jwks", 200, () => w.fetch("/.well-known/jwks.json"), false],
    ["200 openapi", 200, () => w.fetch("/auth/openapi.json"), false],
    ["201 signup (token)", 201, () => w.post("/auth/signup", { username: uniqueName("hyg"), password: GOOD_PASSWORD }), true],
    ["202 forgot-password", 202, () => w.post("/auth/forgot-password", { email: "nobody@example.com" }), false],
    [
      "204 logout",
      204,
      async () => {
        const { tokens } = await w.userWithToken();
        return w.post("/auth/logout", {}, bearer(tokens.access_token));
      },
      false,
    ],
    [
      "204 OPTIONS",
      204,
      () => w.fetch("/auth/login", { method: "OPTIONS" }),
      false,
    ],
    ["400 malformed JSON", 400, () => w.post("/auth/login", "{not json"), true],
    ["401 no token", 401, () => w.fetch("/auth/profile"), true],
    ["401 wrong password", 401, () => w.post("/auth/login", { username: alice.user.username, password: "not the password" }), true],
    ["404 unknown path", 404, () => w.fetch("/auth/no-such-endpoint"), true],
    ["405 wrong method", 405, () => w.fetch("/auth/login"), true],
    ["413 body too large", 413, () => w.post("/auth/login", JSON.stringify({ username: "x", password: "p".repeat(17 * 1024) })), true],
    [
      "415 wrong content type",
      415,
      () => w.fetch("/auth/login", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hi" }),
      true,
    ],
    [
      "429 rate limited",
      429,
      async () => {
        const headers = { "CF-Connecting-IP": "203.0.113.5" };
        await limited.post("/auth/login", { username: uniqueName("ghost"), password: "not the password" }, headers);
        return limited.post("/auth/login", { username: uniqueName("ghost"), password: "not the password" }, headers);
      },
      true,
    ],
    ["503 invalid configuration", 503, () => broken.fetch("/health"), true],
  ];

  for (const [label, status, request, noStore] of cases()) {
    test(`${label}: nosniff, no-referrer, CSP default-src 'none', X-Request-Id${noStore ? ", no-store" : ""}`, async () => {
      const res = await request();
      const text = await res.text();
      assert.equal(res.status, status, `${label}: ${text}`);
      expectHygiene(res, label);
      if (noStore) expectNoStore(res, label);
      if (status >= 400) assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/, label);
      if (status === 429) assert.match(res.headers.get("retry-after") ?? "", /^[0-9]+$/);
      if (status === 405) assert.match(res.headers.get("allow") ?? "", /POST/);
    });
  }

  test("the refresh token response is no-store", async () => {
    const { tokens } = await w.userWithToken();
    const res = await w.post("/auth/refresh", { refresh_token: tokens.refresh_token });
    assert.equal(res.status, 200, await res.clone().text());
    expectHygiene(res, "refresh");
    expectNoStore(res, "refresh");
  });

  test("X-Request-Id differs between requests that carry no cf-ray", async () => {
    const ids = new Set();
    for (let i = 0; i < 5; i++) ids.add((await w.fetch("/health")).headers.get("x-request-id"));
    assert.equal(ids.size, 5);
  });

  for (const [label, request] of [
    ["200", (h) => w.fetch("/health", { headers: h })],
    ["401", (h) => w.fetch("/auth/profile", { headers: h })],
    ["404", (h) => w.fetch("/auth/nothing-here", { headers: h })],
    ["503", (h) => broken.fetch("/health", { headers: h })],
  ]) {
    test(`X-Request-Id equals the cf-ray request header (${label})`, async () => {
      const ray = `8f${Math.random().toString(16).slice(2, 14)}-AMS`;
      const res = await request({ "cf-ray": ray });
      await res.arrayBuffer();
      assert.equal(res.headers.get("x-request-id"), ray);
    });
  }

  test("the request log line carries the same id as X-Request-Id", async () => {
    const ray = `7e${Math.random().toString(16).slice(2, 14)}-FRA`;
    const res = await w.fetch("/health", { headers: { "cf-ray": ray } });
    await res.arrayBuffer();
    await waitForLog(ray);
    const line = logLines.find((l) => l.includes(ray));
    const parsed = JSON.parse(line.slice(line.indexOf("{")));
    assert.equal(parsed.request_id, ray);
    assert.equal(parsed.status, 200);
  });
});

// ---- nothing sent comes back, nor reaches the log ------------------------------------------------------

describe("no echo of passwords, tokens, secrets or addresses", () => {
  const SECRET_PASSWORD = "hunter2-super-secret";
  const BOGUS_REFRESH = "bogus-refresh-token-Zq8vK2mP4xN7wR1tY6uH";
  const BOGUS_BEARER = "eyJhbGciOiJIUzI1NiJ9.bogus-bearer-Qw3rTy9uIo.sigsigsig";
  const BOGUS_RESET = "bogus-reset-token-Lk5jH3gF1dS9aP0oI8uY";
  let w;
  let prod;
  let alice;
  const responses = [];

  before(async () => {
    [w, prod] = await Promise.all([startWorker(), startWorker({ bindings: { ENVIRONMENT: "production" } })]);
    alice = await w.userWithToken({ email: `${uniqueName("alice")}@example.com` });
  });
  after(async () => {
    await Promise.all([w?.close(), prod?.close()]);
  });

  /** Sends a request, keeps the response text and headers for the checks, returns them. */
  async function send(label, promise) {
    const res = await promise;
    const text = await res.text();
    const entry = { label, status: res.status, text, headers: [...res.headers], id: res.headers.get("x-request-id") };
    responses.push(entry);
    return entry;
  }

  function assertAbsent(needle, entries = responses) {
    for (const r of entries) {
      assert.equal(r.text.includes(needle), false, `${r.label} (${r.status}) body contains ${needle}: ${r.text}`);
      for (const [k, v] of r.headers) {
        assert.equal(v.includes(needle), false, `${r.label} header ${k} contains ${needle}`);
      }
    }
  }

  test("login with a secret password and garbage fields: no response contains the password", async () => {
    const login = (body, headers) => w.post("/auth/login", body, headers);
    const r = [];
    r.push(await send("login unknown user", login({ username: uniqueName("ghost"), password: SECRET_PASSWORD, junk: { a: [1, SECRET_PASSWORD] }, role: "admin" })));
    r.push(await send("login wrong password", login({ username: alice.user.username, password: SECRET_PASSWORD, extra: SECRET_PASSWORD })));
    r.push(await send("login by email", login({ email: alice.user.email, password: SECRET_PASSWORD })));
    r.push(await send("login bad username", login({ username: "no spaces allowed!", password: SECRET_PASSWORD })));
    r.push(await send("login password array", login({ username: alice.user.username, password: [SECRET_PASSWORD] })));
    r.push(await send("login password object", login({ username: alice.user.username, password: { value: SECRET_PASSWORD } })));
    r.push(await send("login password too long", login({ username: alice.user.username, password: SECRET_PASSWORD.repeat(200) })));
    r.push(await send("login missing username", login({ password: SECRET_PASSWORD })));
    r.push(await send("login malformed JSON", login(`{"username": "x", "password": "${SECRET_PASSWORD}",`)));
    r.push(await send("login JSON array", login(`["${SECRET_PASSWORD}"]`)));
    r.push(
      await send(
        "login text/plain",
        w.fetch("/auth/login", { method: "POST", headers: { "Content-Type": "text/plain" }, body: `password=${SECRET_PASSWORD}` }),
      ),
    );
    r.push(await send("login oversize", login(JSON.stringify({ username: "x", password: SECRET_PASSWORD, pad: "p".repeat(17 * 1024) }))));
    for (const x of r) assert.ok(x.status >= 400 && x.status < 500, `${x.label}: ${x.status} ${x.text}`);
    assertAbsent(SECRET_PASSWORD, r);
    assertAbsent("hunter2", r);
  });

  test("signup, change-password and admin create with the secret password: no echo", async () => {
    const r = [];
    r.push(await send("signup common password", w.post("/auth/signup", { username: uniqueName("s"), password: "password123" })));
    r.push(await send("signup short password", w.post("/auth/signup", { username: uniqueName("s"), password: "hunter2" })));
    const name = uniqueName("hunter");
    r.push(await send("signup password = username", w.post("/auth/signup", { username: name, password: name })));
    r.push(await send("signup bad email", w.post("/auth/signup", { username: uniqueName("s"), password: SECRET_PASSWORD, email: `x${SECRET_PASSWORD}` })));
    r.push(
      await send(
        "change-password wrong current",
        w.fetch("/auth/change-password", {
          method: "PUT",
          headers: { "Content-Type": "application/json", ...bearer(alice.tokens.access_token) },
          body: JSON.stringify({ current_password: SECRET_PASSWORD, new_password: `${SECRET_PASSWORD}-new` }),
        }),
      ),
    );
    for (const x of r) assert.ok(x.status >= 400 && x.status < 500, `${x.label}: ${x.status} ${x.text}`);
    assertAbsent(SECRET_PASSWORD, r);
    assertAbsent("password123", r);
    assertAbsent(`${name}"`, r.filter((x) => x.label === "signup password = username"));
  });

  test("a bogus refresh token, bearer token or reset token is never echoed", async () => {
    const r = [];
    r.push(await send("refresh bogus", w.post("/auth/refresh", { refresh_token: BOGUS_REFRESH })));
    r.push(await send("refresh bogus, number", w.post("/auth/refresh", { refresh_token: 12345678901234 })));
    r.push(await send("refresh extra fields", w.post("/auth/refresh", { refresh_token: BOGUS_REFRESH, password: SECRET_PASSWORD })));
    r.push(await send("logout bogus refresh", w.post("/auth/logout", { refresh_token: BOGUS_REFRESH }, bearer(alice.tokens.access_token))));
    r.push(await send("profile bogus bearer", w.fetch("/auth/profile", { headers: bearer(BOGUS_BEARER) })));
    r.push(await send("profile bogus scheme", w.fetch("/auth/profile", { headers: { Authorization: `Token ${BOGUS_BEARER}` } })));
    r.push(await send("reset bogus", w.post("/auth/reset-password", { token: BOGUS_RESET, new_password: `${SECRET_PASSWORD}-x` })));
    for (const x of r.filter((x) => x.label !== "logout bogus refresh")) {
      assert.ok(x.status >= 400 && x.status < 500, `${x.label}: ${x.status} ${x.text}`);
    }
    for (const needle of [BOGUS_REFRESH, "Zq8vK2mP4xN7wR1tY6uH", BOGUS_BEARER, "bogus-bearer", BOGUS_RESET, "12345678901234", SECRET_PASSWORD]) {
      assertAbsent(needle, r);
    }
  });

  test("forgot-password answers 202 with a body that never contains the address, the same for known and unknown", async () => {
    const unknownEmail = `${uniqueName("unknown")}@example.org`;
    const known = await send("forgot known", w.post("/auth/forgot-password", { email: alice.user.email }));
    const unknown = await send("forgot unknown", w.post("/auth/forgot-password", { email: unknownEmail }));
    const byName = await send("forgot by username", w.post("/auth/forgot-password", { username: alice.user.username }));
    for (const x of [known, unknown, byName]) assert.equal(x.status, 202, `${x.label}: ${x.text}`);
    assert.equal(known.text, unknown.text);
    assert.equal(byName.text, known.text);
    for (const needle of [alice.user.email, alice.user.email.split("@")[0], unknownEmail, unknownEmail.split("@")[0], alice.user.username]) {
      assertAbsent(needle, [known, unknown, byName]);
    }
  });

  test("no response so far contains the JWT secret", () => {
    assert.ok(responses.length > 20);
    assertAbsent(TEST_SECRET);
    assertAbsent(Buffer.from(TEST_SECRET).toString("base64"));
  });

  test("the Worker's log never contains the password, the bogus tokens, the issued tokens or the secret", async () => {
    // Every request above has its request log line (by X-Request-Id) before the log is searched.
    for (const r of responses) if (r.id) await waitForLog(r.id);
    await sleep(200);
    assert.ok(logLines.length > 0, "log lines were captured");
    const log = logLines.join("\n");
    for (const needle of [
      SECRET_PASSWORD,
      "hunter2",
      "password123",
      BOGUS_REFRESH,
      BOGUS_BEARER,
      BOGUS_RESET,
      alice.tokens.access_token,
      alice.tokens.access_token.split(".")[2],
      alice.tokens.refresh_token,
      alice.user.password,
      TEST_SECRET,
    ]) {
      assert.equal(log.includes(needle), false, `the log contains ${needle}`);
    }
  });

  test("in production, forgot-password writes neither the address nor a reset link to the log", async () => {
    const email = `${uniqueName("prod")}@example.com`;
    await prod.seedUser({ email });
    const start = logLines.length;
    const res = await prod.post("/auth/forgot-password", { email });
    const text = await res.text();
    assert.equal(res.status, 202, text);
    assert.equal(text.includes(email), false);
    await waitForLog(res.headers.get("x-request-id"));
    // The lookup and the (missing) mail delivery run after the response: give them time to log.
    await sleep(1000);
    const log = logLines.slice(start).join("\n");
    assert.equal(log.includes(email), false, `the production log contains the address: ${log}`);
    assert.equal(/reset-password|token=/i.test(log), false, `the production log contains a reset link: ${log}`);
  });
});
