// The Worker's entry point (wrangler.toml's `main`): the Rust Worker as worker-build writes it
// (build/index.js, a WorkerEntrypoint), with one addition: a request that a Rust panic breaks (the
// panic traps the wasm instance) still gets the RFC 9457 problem every other error is, instead of the
// runtime's bare 500 after it decides the request hung (guard.mjs). worker-build's shim and the
// `worker` crate give the next request a fresh instance; the Rust panic hook has already logged the
// panic with its request id (src/panic.rs).
import RustWorker from "../build/index.js";
import { failOnTrap, problemOnThrow } from "./guard.mjs";

const watch = failOnTrap();

export default class EdgeAuth extends RustWorker {
  async fetch(request) {
    return problemOnThrow(request, (r) => watch(super.fetch(r)));
  }
}
