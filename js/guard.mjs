// Turns an exception escaping the Rust Worker (a panic traps the wasm instance) into the same
// RFC 9457 problem every other error is. Kept free of `cloudflare:workers` imports so node:test can
// exercise it directly.
//
// A Rust panic usually happens while wasm-bindgen-futures polls the request's future from a
// microtask, not inside the call that started it: the trap is then an uncaught exception (the
// global "error" event) and the request's promise never settles. `failOnTrap` turns that event into
// a rejection of every request still running, since none of them can finish on the trapped instance.

const PROBLEM = {
  type: "urn:edge-auth:problem:internal_error",
  title: "Internal error",
  status: 500,
  detail: "An unexpected error occurred.",
  code: "internal_error",
};

/** Calls `handler(request)`; if it throws, logs one line and answers a 500 problem instead. */
export async function problemOnThrow(request, handler, log = console.error) {
  try {
    return await handler(request);
  } catch (error) {
    // A Rust panic has logged its message, location and request id already ("event":"panic"); this
    // line records how the request ended. The path is logged without its query string, which could
    // carry a token; the error's text is not sent to the client.
    log(
      JSON.stringify({
        level: "error",
        event: "uncaught_exception",
        request_id: request.headers.get("cf-ray") ?? undefined,
        method: request.method,
        path: new URL(request.url).pathname,
        trap: error instanceof WebAssembly.RuntimeError,
        message: String(error?.message ?? error),
      }),
    );
    return new Response(JSON.stringify(PROBLEM), {
      status: 500,
      headers: {
        "Content-Type": "application/problem+json",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
      },
    });
  }
}

/**
 * Returns `watch(promise)`: the same promise, except that it rejects when a WebAssembly trap reaches
 * `target`'s "error" event while it is pending.
 */
export function failOnTrap(target = globalThis) {
  const pending = new Set();
  target.addEventListener("error", (event) => {
    if (!(event.error instanceof WebAssembly.RuntimeError)) return;
    for (const reject of pending) reject(event.error);
    pending.clear();
  });
  return (promise) =>
    new Promise((resolve, reject) => {
      pending.add(reject);
      promise.then(resolve, reject).finally(() => pending.delete(reject));
    });
}
