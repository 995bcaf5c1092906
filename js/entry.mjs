// The Worker's entry point: the Rust Worker built by worker-build (build/index.js), with every
// exception that escapes it turned into a 500 problem (see guard.mjs).
import RustWorker from "../build/index.js";
import { problemOnThrow } from "./guard.mjs";

export default class EdgeAuth extends RustWorker {
  async fetch(request) {
    return problemOnThrow(request, (r) => super.fetch(r));
  }
}
