// CORS from outside: preflight and actual responses for listed and unlisted origins, credentials only
// in cookie mode and never with "*", and a refusal to serve when cookie mode is combined with "*".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem } from "./helpers.mjs";

const APP = "https://app.example.com";
const EVIL = "https://evil.example";

/** Header mode, CORS_ORIGINS=https://app.example.com. */
let w;
/** Cookie mode, CORS_ORIGINS=https://app.example.com. */
let wc;
/** Header mode, CORS_ORIGINS=*. */
let ws;
before(async () => {
  [w, wc, ws] = await Promise.all([
    startWorker({ bindings: { CORS_ORIGINS: APP } }),
    startWorker({ bindings: { CORS_ORIGINS: APP, COOKIE_MODE: "true" } }),
    startWorker({ bindings: { CORS_ORIGINS: "*" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), wc?.close(), ws?.close()]);
});

const preflight = (worker, origin, method = "POST", path = "/auth/login") =>
  worker.fetch(path, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, content-type",
    },
  });

/** An actual cross-origin login (with valid credentials) from `origin`. */
async function loginFrom(worker, origin) {
  const user = await worker.seedUser();
  return worker.post("/auth/login", { username: user.username, password: user.password }, { Origin: origin });
}

/** The names of the Access-Control-* headers of a response. */
const acHeaders = (res) => [...res.headers.keys()].filter((k) => k.toLowerCase().startsWith("access-control-"));
/** Comma-separated header value as a lowercased list. */
const list = (value) => (value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);

// ---- header mode, listed origin -------------------------------------------------------------------------

test("a preflight from a listed origin answers 204 allowing exactly that origin", async () => {
  const res = await preflight(w, APP);
  assert.equal(res.status, 204, await res.clone().text());
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
});

test("a preflight from a listed origin allows POST", async () => {
  const res = await preflight(w, APP);
  assert.ok(list(res.headers.get("access-control-allow-methods")).includes("post"), res.headers.get("access-control-allow-methods"));
});

test("a preflight from a listed origin allows the Authorization and Content-Type headers", async () => {
  const res = await preflight(w, APP);
  const allowed = list(res.headers.get("access-control-allow-headers"));
  assert.ok(allowed.includes("authorization"), allowed.join(","));
  assert.ok(allowed.includes("content-type"), allowed.join(","));
});

test("a preflight from a listed origin sets Access-Control-Max-Age", async () => {
  const res = await preflight(w, APP);
  assert.match(res.headers.get("access-control-max-age") ?? "", /^\d+$/);
  assert.ok(Number(res.headers.get("access-control-max-age")) > 0);
});

test("a preflight answer varies on Origin", async () => {
  const res = await preflight(w, APP);
  assert.ok(list(res.headers.get("vary")).includes("origin"), res.headers.get("vary"));
});

test("in header mode a preflight from a listed origin does not allow credentials", async () => {
  const res = await preflight(w, APP);
  assert.equal(res.headers.get("access-control-allow-credentials"), null);
});

test("a preflight for the refresh endpoint from a listed origin allows POST", async () => {
  const res = await preflight(w, APP, "POST", "/auth/refresh");
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
  assert.ok(list(res.headers.get("access-control-allow-methods")).includes("post"));
});

// ---- header mode, unlisted origin ---------------------------------------------------------------------

test("a preflight from an unlisted origin carries no Access-Control-* header at all", async () => {
  const res = await preflight(w, EVIL);
  assert.deepEqual(acHeaders(res), []);
});

test("an origin that merely starts with a listed one is unlisted", async () => {
  const res = await preflight(w, `${APP}.evil.example`);
  assert.deepEqual(acHeaders(res), []);
});

// ---- header mode, actual requests -----------------------------------------------------------------------

test("an actual login from a listed origin carries Access-Control-Allow-Origin and Expose-Headers", async () => {
  const res = await loginFrom(w, APP);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
  assert.ok(res.headers.get("access-control-expose-headers"), "Access-Control-Expose-Headers is missing");
  assert.ok(list(res.headers.get("vary")).includes("origin"));
  assert.equal(res.headers.get("access-control-allow-credentials"), null);
});

test("an actual error response to a listed origin also carries Access-Control-Allow-Origin", async () => {
  const res = await w.post("/auth/login", { username: "nobody-here", password: "wrong password" }, { Origin: APP });
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
  await expectProblem(assert, res, 401, "invalid_credentials");
});

test("an actual login from an unlisted origin carries no Access-Control-* header", async () => {
  const res = await loginFrom(w, EVIL);
  assert.equal(res.status, 200);
  assert.deepEqual(acHeaders(res), []);
});

test("an actual response varies on Origin even for an unlisted origin", async () => {
  const res = await loginFrom(w, EVIL);
  assert.ok(list(res.headers.get("vary")).includes("origin"), res.headers.get("vary"));
});

// ---- cookie mode -----------------------------------------------------------------------------------------

test("in cookie mode a preflight from the listed origin allows credentials for exactly that origin", async () => {
  const res = await preflight(wc, APP);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
});

test("in cookie mode an actual login from the listed origin allows credentials for exactly that origin", async () => {
  const res = await loginFrom(wc, APP);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
});

test("in cookie mode a preflight from an unlisted origin carries no Access-Control-* header", async () => {
  const res = await preflight(wc, EVIL);
  assert.deepEqual(acHeaders(res), []);
});

test("in cookie mode an actual login from an unlisted origin carries no Access-Control-* header", async () => {
  const res = await loginFrom(wc, EVIL);
  assert.deepEqual(acHeaders(res), []);
});

test("no response that allows credentials ever allows the origin *", async () => {
  const responses = [
    await preflight(w, APP),
    await loginFrom(w, APP),
    await preflight(wc, APP),
    await loginFrom(wc, APP),
    await preflight(ws, APP),
    await loginFrom(ws, APP),
  ];
  for (const res of responses) {
    if (res.headers.get("access-control-allow-credentials") !== null) {
      assert.notEqual(res.headers.get("access-control-allow-origin"), "*");
    }
  }
  assert.ok(responses.some((r) => r.headers.get("access-control-allow-credentials") === "true"), "control: some response allows credentials");
});

// ---- wildcard ---------------------------------------------------------------------------------------------

test("with CORS_ORIGINS * a preflight allows the origin * without credentials", async () => {
  const res = await preflight(ws, EVIL);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("access-control-allow-credentials"), null);
  assert.ok(list(res.headers.get("access-control-allow-methods")).includes("post"));
});

test("with CORS_ORIGINS * an actual login allows the origin * without credentials", async () => {
  const res = await loginFrom(ws, EVIL);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("access-control-allow-credentials"), null);
});

// ---- cookie mode with * is refused ---------------------------------------------------------------------------

test("with COOKIE_MODE true and CORS_ORIGINS * every request answers 503 service_unavailable", async () => {
  const bad = await startWorker({ bindings: { COOKIE_MODE: "true", CORS_ORIGINS: "*" } });
  try {
    const user = await bad.seedUser();
    const requests = [
      ["GET /health", () => bad.fetch("/health")],
      ["OPTIONS /auth/login", () => preflight(bad, APP)],
      ["POST /auth/login", () => bad.post("/auth/login", { username: user.username, password: user.password }, { Origin: APP })],
      ["GET /auth/profile", () => bad.fetch("/auth/profile", { headers: { Authorization: "Bearer a.b.c" } })],
      ["POST /auth/refresh", () => bad.post("/auth/refresh", { refresh_token: "rt1.x.0.y" }, { Origin: APP })],
    ];
    for (const [name, send] of requests) {
      const res = await send();
      assert.equal(res.status, 503, name);
      const body = await expectProblem(assert, res.clone(), 503, "service_unavailable");
      assert.equal(JSON.stringify(body).includes("CORS_ORIGINS"), false, `${name} names a setting`);
      assert.equal(res.headers.get("access-control-allow-origin"), null, `${name} allows an origin`);
      assert.equal(res.headers.get("access-control-allow-credentials"), null, `${name} allows credentials`);
    }
  } finally {
    await bad.close();
  }
});
