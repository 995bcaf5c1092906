// Turns an exception escaping the Rust Worker (a panic traps the wasm instance; the runtime then
// resets it) into the same RFC 9457 problem every other error is, and logs it as one JSON line.
// Kept free of `cloudflare:workers` imports so node:test can exercise it directly.

const PROBLEM = {
  type: "urn:edge-auth:problem:internal_error",
  title: "Internal error",
  status: 500,
  detail: "An unexpected error occurred.",
  code: "internal_error",
};

/** Calls `handler(request)`; if it throws, logs the error and answers a 500 problem instead. */
export async function problemOnThrow(request, handler, log = console.error) {
  try {
    return await handler(request);
  } catch (error) {
    const requestId = request.headers.get("cf-ray") ?? undefined;
    // The message of a Rust panic is its text (never a secret: the code puts none in panics); the
    // request's path is logged without its query string, which could carry a token.
    log(
      JSON.stringify({
        level: "error",
        event: "panic",
        request_id: requestId,
        method: request.method,
        path: new URL(request.url).pathname,
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
 * Wraps `call` (the Rust fetch handler) so that after it throws a WebAssembly.RuntimeError (a Rust
 * panic is a wasm trap, `unreachable`), `reset` (wasm-bindgen's `__wbg_reset_state`, a fresh
 * instance) runs before the next call: the trapped instance's memory may be mid-update and is never
 * used again. Calls already running on it fail, and problemOnThrow answers them with a 500.
 */
export function resetAfterTrap(call, reset) {
  let trapped = false;
  return async (...args) => {
    if (trapped) {
      trapped = false;
      reset();
    }
    try {
      return await call(...args);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) trapped = true;
      throw error;
    }
  };
}
