// What a panic leaves behind. The Rust Worker is built with `panic = "abort"`, so a panic traps its wasm
// instance: the panic hook (src/panic.rs, with console_error_panic_hook) logs it, js/guard.mjs answers
// the 500 problem, and worker-build's shim gives the next request a fresh instance. Proven twice: on
// problemOnThrow alone, and over HTTP through the panic probe route (development + PANIC_PROBE=on).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { failOnTrap, problemOnThrow } from "../../js/guard.mjs";
import { expectProblem, startWorker } from "./helpers.mjs";

const PROBE = "/__edge-auth/panic";

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

test("the exception is logged as one JSON line with the request id and without the query string", async () => {
  const logged = [];
  await problemOnThrow(request(), async () => {
    throw new WebAssembly.RuntimeError("unreachable");
  }, (line) => logged.push(line));
  assert.equal(logged.length, 1);
  const entry = JSON.parse(logged[0]);
  assert.deepEqual(
    { level: entry.level, event: entry.event, request_id: entry.request_id, path: entry.path, trap: entry.trap },
    { level: "error", event: "uncaught_exception", request_id: "8a1b2c3d4e5f-AMS", path: "/auth/login", trap: true },
  );
  assert.equal(logged[0].includes("secret-in-query"), false);
});

test("a handler that succeeds is passed through untouched", async () => {
  const ok = new Response("fine", { status: 201 });
  const logged = [];
  const res = await problemOnThrow(request(), async () => ok, (line) => logged.push(line));
  assert.equal(res, ok);
  assert.equal(logged.length, 0);
});

test("a trap reported to the error event fails every pending request, and nothing else does", async () => {
  const target = new EventTarget();
  const watch = failOnTrap(target);
  const never = () => new Promise(() => {});
  const [a, b] = [watch(never()), watch(never())];
  const done = await watch(Promise.resolve("done"));
  assert.equal(done, "done");
  const other = new Event("error");
  other.error = new TypeError("not a trap");
  target.dispatchEvent(other);
  const trap = new Event("error");
  trap.error = new WebAssembly.RuntimeError("unreachable");
  target.dispatchEvent(trap);
  await assert.rejects(a, WebAssembly.RuntimeError);
  await assert.rejects(b, WebAssembly.RuntimeError);
  const later = watch(Promise.resolve("later"));
  assert.equal(await later, "later", "requests after the trap are not affected");
});

/** Collects the runtime's stdout and stderr, where the Worker's console lines go. */
function logCollector() {
  let text = "";
  return {
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (chunk) => (text += chunk));
      stderr.on("data", (chunk) => (text += chunk));
    },
    /** The JSON lines logged so far that match `filter`. */
    lines(filter) {
      return text
        .split("\n")
        .map((line) => line.slice(line.indexOf("{")))
        .filter((line) => line.startsWith("{"))
        .flatMap((line) => {
          try {
            return [JSON.parse(line)];
          } catch {
            return [];
          }
        })
        .filter(filter);
    },
    async waitFor(filter, count = 1) {
      for (let i = 0; i < 100; i++) {
        if (this.lines(filter).length >= count) return this.lines(filter);
        await new Promise((r) => setTimeout(r, 50));
      }
      return this.lines(filter);
    },
  };
}

describe("a panic inside the Worker", () => {
  let worker;
  const logs = logCollector();
  before(async () => {
    worker = await startWorker({ bindings: { PANIC_PROBE: "on" }, handleRuntimeStdio: logs.handleRuntimeStdio });
  });
  after(() => worker.close());

  test("answers the 500 problem, logs message, location and request id as one JSON line, and the next request gets a fresh instance", async () => {
    const before = await worker.fetch("/health");
    assert.equal(before.status, 200);
    const res = await worker.fetch(PROBE, { headers: { "cf-ray": "70a1b2c3d4e5f607-AMS" } });
    await expectProblem(assert, res, 500, "internal_error");
    const panics = await logs.waitFor((l) => l.event === "panic");
    assert.equal(panics.length, 1, "exactly one panic line");
    assert.equal(panics[0].request_id, "70a1b2c3d4e5f607-AMS");
    assert.equal(panics[0].level, "error");
    assert.match(panics[0].message, /deliberate panic/);
    assert.match(panics[0].location, /^src\/http\/mod\.rs:\d+:\d+$/);
    // The next request is served, by a fresh instance (the shim logs that it reinitialises).
    const next = await worker.fetch("/health");
    assert.equal(next.status, 200);
    assert.deepEqual(await next.json(), { status: "ok" });
    const login = await worker.post("/auth/login", { username: "nobody", password: "wrong password 1" });
    assert.equal(login.status, 401, "the fresh instance serves real work");
  });

  test("a second panic is logged too: the fresh instance has the hook again", async () => {
    const res = await worker.fetch(PROBE, { headers: { "cf-ray": "70a1b2c3d4e5f608-AMS" } });
    await expectProblem(assert, res, 500, "internal_error");
    const panics = await logs.waitFor((l) => l.event === "panic" && l.request_id === "70a1b2c3d4e5f608-AMS");
    assert.equal(panics.length, 1);
    assert.equal((await worker.fetch("/health")).status, 200);
  });
});

describe("the panic probe route", () => {
  test("does not exist without PANIC_PROBE=on", async () => {
    const worker = await startWorker();
    try {
      await expectProblem(assert, await worker.fetch(PROBE), 404, "not_found");
    } finally {
      await worker.close();
    }
  });

  test("does not exist in production even with PANIC_PROBE=on", async () => {
    const worker = await startWorker({ bindings: { PANIC_PROBE: "on", ENVIRONMENT: "production" } });
    try {
      await expectProblem(assert, await worker.fetch(PROBE), 404, "not_found");
    } finally {
      await worker.close();
    }
  });
});
