// Configuration from outside: a broken secret makes every route a 503 that names nothing internal; a
// custom base path and a token lifetime in hours take effect. Each test starts (and closes) its own Worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, decodeJwt } from "./helpers.mjs";

/** Runs `fn` with a Worker started with `bindings`, closing it afterwards. */
async function withWorker(bindings, fn) {
  const w = await startWorker({ bindings });
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

/** Every route of a misconfigured Worker: a 503 service_unavailable problem naming no setting or secret. */
async function expectAllUnavailable(w, secret) {
  const user = await w.seedUser();
  const requests = [
    ["GET /health", () => w.fetch("/health")],
    ["POST /auth/login", () => w.post("/auth/login", { username: user.username, password: user.password })],
    ["GET /auth/profile", () => w.fetch("/auth/profile", { headers: { Authorization: "Bearer a.b.c" } })],
  ];
  for (const [name, send] of requests) {
    const res = await send();
    const body = await expectProblem(assert, res.clone(), 503, "service_unavailable");
    const text = await res.text();
    assert.equal(text.includes("JWT_SECRET"), false, `${name}: ${text}`);
    if (secret) assert.equal(text.includes(secret), false, `${name} echoes the secret: ${text}`);
    assert.equal(body.status, 503, name);
  }
}

test("an empty JWT_SECRET makes every route answer 503 service_unavailable without naming the secret", async () => {
  await withWorker({ JWT_SECRET: "" }, (w) => expectAllUnavailable(w));
});

test("a JWT_SECRET of 10 characters makes every route answer 503 service_unavailable", async () => {
  const secret = "tenchars10";
  assert.equal(secret.length, 10);
  await withWorker({ JWT_SECRET: secret }, (w) => expectAllUnavailable(w, secret));
});

test("BASE_PATH /api/auth serves login under /api/auth and no longer under /auth", async () => {
  await withWorker({ BASE_PATH: "/api/auth" }, async (w) => {
    const user = await w.seedUser();
    const res = await w.post("/api/auth/login", { username: user.username, password: user.password });
    assert.equal(res.status, 200, await res.clone().text());
    const tokens = await res.json();
    assert.equal(tokens.user.id, user.id);

    const profile = await w.fetch("/api/auth/profile", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(profile.status, 200);
    assert.equal((await profile.json()).id, user.id);

    await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: user.password }), 404, "not_found");
  });
});

test("BASE_PATH /api/auth is the server URL of the OpenAPI document", async () => {
  await withWorker({ BASE_PATH: "/api/auth" }, async (w) => {
    const res = await w.fetch("/api/auth/openapi.json");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).servers?.[0]?.url, "/api/auth");
  });
});

test("ACCESS_TOKEN_TTL 8h gives expires_in 28800 and exp - iat = 28800", async () => {
  await withWorker({ ACCESS_TOKEN_TTL: "8h" }, async (w) => {
    const { tokens } = await w.userWithToken();
    assert.equal(tokens.expires_in, 28800);
    const { claims } = decodeJwt(tokens.access_token);
    assert.equal(claims.exp - claims.iat, 28800);
    assert.ok(Math.abs(claims.exp - (Date.now() / 1000 + 28800)) < 60);
  });
});
