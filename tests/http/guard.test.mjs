// The JS guard around the Rust Worker: an exception escaping it (a panic) becomes a 500 problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { problemOnThrow, resetAfterTrap } from "../../js/guard.mjs";

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

test("after a wasm trap the instance is reset once, before the next call, and not after other errors", async () => {
  let resets = 0;
  let next = () => "ok";
  const call = resetAfterTrap(async (x) => next(x), () => resets++);
  assert.equal(await call(1), "ok");
  assert.equal(resets, 0);
  next = () => {
    throw new Error("an ordinary exception, e.g. a rejected fetch");
  };
  await assert.rejects(call(2), /ordinary/);
  next = () => "ok";
  assert.equal(await call(3), "ok");
  assert.equal(resets, 0, "an ordinary error does not replace the instance");
  next = () => {
    throw new WebAssembly.RuntimeError("unreachable");
  };
  await assert.rejects(call(4), WebAssembly.RuntimeError);
  assert.equal(resets, 0, "the reset waits for the next call");
  next = (x) => `fresh ${x}`;
  assert.equal(await call(5), "fresh 5");
  assert.equal(resets, 1);
  assert.equal(await call(6), "fresh 6");
  assert.equal(resets, 1, "one reset per trap");
});

test("the trap still reaches problemOnThrow, which answers 500", async () => {
  const call = resetAfterTrap(async () => {
    throw new WebAssembly.RuntimeError("unreachable");
  }, () => {});
  const res = await problemOnThrow(request(), call, () => {});
  assert.equal(res.status, 500);
  assert.equal((await res.json()).code, "internal_error");
});
