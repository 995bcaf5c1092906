// The Worker's entry point: the Rust Worker built by worker-build (build/index.js), with every
// exception that escapes it turned into a 500 problem (see guard.mjs).
import RustWorker from "../build/index.js";
import openapi from "../build/openapi.mjs";
import { problemOnThrow } from "./guard.mjs";

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

export default class EdgeAuth extends RustWorker {
  async fetch(request) {
    // worker-build's fetch reads `this.env` and `this.ctx`; it is given the extended env instead.
    const target = { env: envWithDocuments(this.env), ctx: this.ctx };
    return problemOnThrow(request, (r) => super.fetch.call(target, r));
  }
}
