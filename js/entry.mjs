// The Worker's entry point (wrangler.toml's `main`): the Rust fetch handler (build/index.js, written
// by `make build`), with every exception that escapes it turned into a 500 problem and a wasm
// instance that trapped replaced before the next request (both in guard.mjs).
import { WorkerEntrypoint } from "cloudflare:workers";
import { fetch as rustFetch, __wbg_reset_state as resetWasm } from "../build/index.js";
import openapi from "../build/openapi.mjs";
import { problemOnThrow, resetAfterTrap } from "./guard.mjs";

// The OpenAPI document (docs/openapi.json, minified by `make build`) is served by the Rust Worker but
// kept out of its wasm, where it would be a sixth of the module (BENCHMARKS.md, "Size"). It reaches
// Rust as one more entry of `env`, under a name no deployment variable uses.
const OPENAPI_ENV_KEY = "EDGE_AUTH_OPENAPI_DOCUMENT";
const withDocuments = new WeakMap();

function envWithDocuments(env) {
  let extended = withDocuments.get(env);
  if (extended === undefined) {
    extended = { ...env, [OPENAPI_ENV_KEY]: openapi };
    withDocuments.set(env, extended);
  }
  return extended;
}

// A fresh wasm instance after a panic (guard.mjs).
const rust = resetAfterTrap(rustFetch, resetWasm);

export default class EdgeAuth extends WorkerEntrypoint {
  async fetch(request) {
    return problemOnThrow(request, (r) => rust(r, envWithDocuments(this.env), this.ctx));
  }
}
