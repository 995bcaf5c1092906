// Routing, hygiene headers, leak-free errors, and the role guard (401 vs 403) on the admin user view.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, uniqueName } from "./helpers.mjs";

let w;
before(async () => {
  // `cajero` is a deployment-defined role (README.md "Roles").
  w = await startWorker({ bindings: { ROLES: "cajero" } });
});
after(async () => {
  await w?.close();
});

const USER_KEYS = ["created_at", "display_name", "email", "email_verified", "id", "role", "username"];
const ADMIN_KEYS = [...USER_KEYS, "disabled", "last_login_at", "updated_at"].sort();
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const INTERNAL = ["D1", "SQL", "sqlite", "panicked", "wasm", "RuntimeError"];

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const allowList = (res) => (res.headers.get("allow") ?? "").split(",").map((m) => m.trim().toUpperCase());

function assertNoInternals(text, what) {
  for (const word of INTERNAL) {
    assert.equal(text.toLowerCase().includes(word.toLowerCase()), false, `${what} mentions ${word}: ${text}`);
  }
}

// ---- routes ----------------------------------------------------------------------------------------

test("GET /health answers 200 {status: ok}", async () => {
  const res = await w.fetch("/health");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await res.json(), { status: "ok" });
});

test("GET /auth/openapi.json is an OpenAPI 3.1 document of the served paths, with servers[0] the base path", async () => {
  const res = await w.fetch("/auth/openapi.json");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/(openapi\+)?json/);
  const doc = await res.json();
  assert.equal(typeof doc.openapi, "string");
  assert.ok(doc.openapi.startsWith("3.1"), doc.openapi);
  for (const p of ["/login", "/profile", "/me", "/admin/users/{id}", "/health"]) {
    assert.ok(doc.paths && p in doc.paths, `path ${p} in ${Object.keys(doc.paths ?? {})}`);
  }
  assert.equal(doc.servers?.[0]?.url, "/auth");
});

test("an unknown path is 404 not_found", async () => {
  await expectProblem(assert, await w.fetch("/auth/no-such-endpoint"), 404, "not_found");
});

test("a path outside the base path is 404 not_found", async () => {
  await expectProblem(assert, await w.fetch("/login", { method: "POST" }), 404, "not_found");
});

test("GET /auth/login is 405 method_not_allowed with Allow naming POST", async () => {
  const res = await w.fetch("/auth/login");
  await expectProblem(assert, res, 405, "method_not_allowed");
  assert.ok(allowList(res).includes("POST"), res.headers.get("allow"));
  assert.equal(allowList(res).includes("GET"), false, res.headers.get("allow"));
});

test("DELETE /auth/profile is 405 method_not_allowed with Allow naming GET", async () => {
  const res = await w.fetch("/auth/profile", { method: "DELETE" });
  await expectProblem(assert, res, 405, "method_not_allowed");
  assert.ok(allowList(res).includes("GET"), res.headers.get("allow"));
  assert.equal(allowList(res).includes("DELETE"), false, res.headers.get("allow"));
});

test("HEAD /health is 200 with an empty body and the headers of GET", async () => {
  const get = await w.fetch("/health");
  await get.arrayBuffer();
  const res = await w.fetch("/health", { method: "HEAD" });
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, 0);
  assert.equal(res.headers.get("content-type"), get.headers.get("content-type"));
  assert.equal(res.headers.get("cache-control"), get.headers.get("cache-control"));
});

test("OPTIONS /auth/login is 204 with Allow naming POST", async () => {
  const res = await w.fetch("/auth/login", { method: "OPTIONS" });
  assert.equal(res.status, 204);
  assert.equal((await res.arrayBuffer()).byteLength, 0);
  assert.ok(allowList(res).includes("POST"), res.headers.get("allow"));
});

// ---- hygiene and leaks -----------------------------------------------------------------------------

test("every response, success or error, carries nosniff and no-referrer", async () => {
  const { user, tokens } = await w.userWithToken();
  const requests = [
    ["GET /health", () => w.fetch("/health")],
    ["HEAD /health", () => w.fetch("/health", { method: "HEAD" })],
    ["OPTIONS /auth/login", () => w.fetch("/auth/login", { method: "OPTIONS" })],
    ["GET /auth/openapi.json", () => w.fetch("/auth/openapi.json")],
    ["POST /auth/login 200", () => w.post("/auth/login", { username: user.username, password: user.password })],
    ["POST /auth/login 401", () => w.post("/auth/login", { username: user.username, password: "wrong password" })],
    ["POST /auth/login 400", () => w.post("/auth/login", "{")],
    ["POST /auth/login 413", () => w.post("/auth/login", JSON.stringify({ pad: "x".repeat(17000) }))],
    ["POST /auth/login 415", () => w.fetch("/auth/login", { method: "POST", body: Buffer.from("{}") })],
    ["GET /auth/profile 200", () => w.fetch("/auth/profile", bearer(tokens.access_token))],
    ["GET /auth/profile 401", () => w.fetch("/auth/profile")],
    ["GET /auth/admin/users/x 403", () => w.fetch(`/auth/admin/users/${user.id}`, bearer(tokens.access_token))],
    ["GET /nope 404", () => w.fetch("/nope")],
    ["GET /auth/login 405", () => w.fetch("/auth/login")],
  ];
  const statuses = new Set();
  for (const [name, send] of requests) {
    const res = await send();
    await res.arrayBuffer();
    statuses.add(res.status);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", name);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", name);
  }
  // The list really covers successes, empty answers and each kind of error.
  for (const s of [200, 204, 400, 401, 403, 404, 405, 413, 415]) assert.ok(statuses.has(s), `no ${s} in ${[...statuses]}`);
});

test("error bodies never name internals (D1, SQL, sqlite, panics, wasm)", async () => {
  const corrupt = await w.seedUser({ passwordHash: "$pbkdf2-sha512$i=notanumber$$" });
  const requests = [
    () => w.post("/auth/login", "{"),
    () => w.post("/auth/login", `{"username": ${"[".repeat(8000)}${"]".repeat(8000)}}`),
    () => w.post("/auth/login", { username: "x'; DROP TABLE users; --", password: "p" }),
    () => w.post("/auth/login", { username: corrupt.username, password: corrupt.password }),
    () => w.post("/auth/login", { username: "a".repeat(31), password: 5 }),
    () => w.fetch("/auth/profile", bearer("a.b.c")),
    () => w.fetch("/auth/profile", bearer("eyJhbGciOiJIUzI1NiJ9.e30.")),
    () => w.fetch("/auth/admin/users/%00%27", bearer("x")),
    () => w.fetch("/auth/nope"),
    () => w.fetch("/auth/login"),
  ];
  for (const send of requests) {
    const res = await send();
    const text = await res.text();
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${text}`);
    assertNoInternals(text, `status ${res.status}`);
  }
});

test("when D1 fails, the error is a problem that names nothing internal", async () => {
  const broken = await startWorker();
  try {
    await broken.db.prepare("DROP TABLE users").run();
    const res = await broken.post("/auth/login", { username: uniqueName(), password: "some password" });
    const text = await res.text();
    assert.ok([500, 503].includes(res.status), `status ${res.status}: ${text}`);
    assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const body = JSON.parse(text);
    assert.ok(["internal_error", "service_unavailable"].includes(body.code), body.code);
    assertNoInternals(text, "D1 failure");
    assert.equal(/no such table|users/i.test(text), false, text);
  } finally {
    await broken.close();
  }
});

// ---- role guard ------------------------------------------------------------------------------------

test("the admin user view without a token is 401 token_missing", async () => {
  const target = await w.seedUser();
  await expectProblem(assert, await w.fetch(`/auth/admin/users/${target.id}`), 401, "token_missing");
});

test("role user gets 403 forbidden on the admin user view", async () => {
  const target = await w.seedUser();
  const { tokens } = await w.userWithToken({ role: "user" });
  const res = await w.fetch(`/auth/admin/users/${target.id}`, bearer(tokens.access_token));
  const body = await expectProblem(assert, res, 403, "forbidden");
  assert.equal(res.headers.get("www-authenticate"), null);
  assert.equal(JSON.stringify(body).includes(target.username), false);
});

test("role user gets the same 403 for an id that does not exist (no existence oracle)", async () => {
  const { tokens } = await w.userWithToken({ role: "user" });
  await expectProblem(assert, await w.fetch("/auth/admin/users/no-such-id", bearer(tokens.access_token)), 403, "forbidden");
});

test("a deployment role such as cajero gets 403 forbidden on the admin user view", async () => {
  const target = await w.seedUser();
  const { tokens } = await w.userWithToken({ role: "cajero" });
  await expectProblem(assert, await w.fetch(`/auth/admin/users/${target.id}`, bearer(tokens.access_token)), 403, "forbidden");
});

test("role demo reads the admin user view, without any password hash", async () => {
  const target = await w.seedUser({ displayName: "Target", email: `${uniqueName("t")}@example.com` });
  const { tokens } = await w.userWithToken({ role: "demo" });
  const res = await w.fetch(`/auth/admin/users/${target.id}`, bearer(tokens.access_token));
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("cache-control"), "no-store");
  const text = await res.text();
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body).sort(), ADMIN_KEYS);
  assert.equal(body.id, target.id);
  assert.equal(body.username, target.username);
  assert.equal(body.email, target.email);
  assert.equal(body.display_name, "Target");
  assert.equal(body.role, "user");
  assert.equal(body.disabled, false);
  assert.match(body.updated_at, RFC3339);
  assert.match(body.created_at, RFC3339);
  assert.equal(body.last_login_at, null, "the target never logged in");
  assert.equal(/password|pbkdf2/i.test(text), false, text);
});

test("role admin reads the admin user view, with last_login_at after a login", async () => {
  const target = await w.seedUser({ disabled: 1 });
  const { tokens } = await w.userWithToken({ role: "admin" });
  const res = await w.fetch(`/auth/admin/users/${target.id}`, bearer(tokens.access_token));
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ADMIN_KEYS);
  assert.equal(body.id, target.id);
  assert.equal(body.disabled, true);
  assert.equal("password_hash" in body, false);

  const { user: me } = await w.userWithToken({ role: "user" });
  const seen = await (await w.fetch(`/auth/admin/users/${me.id}`, bearer(tokens.access_token))).json();
  assert.match(seen.last_login_at ?? "", RFC3339);
});

test("an unknown user id is 404 not_found for an admin", async () => {
  const { tokens } = await w.userWithToken({ role: "admin" });
  await expectProblem(assert, await w.fetch("/auth/admin/users/no-such-id", bearer(tokens.access_token)), 404, "not_found");
});

test("GET /auth/return-origins lists CORS_ORIGINS without the wildcard, for the hosted pages' return_to", async () => {
  const listed = await startWorker({ bindings: { CORS_ORIGINS: "https://app.example.com, *" } });
  try {
    const res = await listed.fetch("/auth/return-origins");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { origins: ["https://app.example.com"] });
  } finally {
    await listed.close();
  }
  const none = await startWorker();
  try {
    assert.deepEqual(await (await none.fetch("/auth/return-origins")).json(), { origins: [] });
  } finally {
    await none.close();
  }
});
