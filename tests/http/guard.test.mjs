// The JS guard around the Rust Worker: an exception escaping it (a panic) becomes a 500 problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { problemOnThrow } from "../../js/guard.mjs";

const request = () =>
  new Request("https://auth.example.com/auth/login?access_token=secret-in-query", {
    method: "POST",
    headers: { "cf-ray": "8a1b2c3d4e5f-AMS" },
  });

test("a handler that throws yields a 500 problem that hides the error", async () => {
  const logged = [];
  const res = await problemOnThrow(request(), () => {
    throw new WebAssembly.RuntimeError("unreachable executed: panicked at src/x.rs:1:1: boom D1_ERROR");
  }, (line) => logged.push(line));
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  const body = await res.json();
  assert.equal(body.code, "internal_error");
  assert.equal(body.status, 500);
  assert.equal(JSON.stringify(body).includes("boom"), false);
  assert.equal(JSON.stringify(body).includes("D1_ERROR"), false);
});

test("the panic is logged as one JSON line with the request id and without the query string", async () => {
  const logged = [];
  await problemOnThrow(request(), async () => {
    throw new Error("panicked at boom");
  }, (line) => logged.push(line));
  assert.equal(logged.length, 1);
  const entry = JSON.parse(logged[0]);
  assert.deepEqual(
    { level: entry.level, event: entry.event, request_id: entry.request_id, path: entry.path, method: entry.method },
    { level: "error", event: "panic", request_id: "8a1b2c3d4e5f-AMS", path: "/auth/login", method: "POST" },
  );
  assert.match(entry.message, /boom/);
  assert.equal(logged[0].includes("secret-in-query"), false);
});

test("a handler that succeeds is passed through untouched", async () => {
  const ok = new Response("fine", { status: 201 });
  const logged = [];
  const res = await problemOnThrow(request(), async () => ok, (line) => logged.push(line));
  assert.equal(res, ok);
  assert.equal(logged.length, 0);
});
