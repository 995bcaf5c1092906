#!/usr/bin/env node
// Compares builds of the kdf-bench module (e.g. two shapes of crates/kdf) hash by hash, interleaved,
// inside ONE workerd isolate (one module instance each) and in this Node process, so that the
// variants see the same machine state; separate processes differ by 10-30% from each other on a
// shared host, more than the differences being looked for. Prints the minimum and the median of each.
//
//   CARGO_TARGET_DIR=/tmp/variant cargo build --release --target wasm32-unknown-unknown -p edge-auth-kdf-bench
//   node scripts/bench/kdf-variants.mjs [--hashes N] A.wasm B.wasm ...
//
// Each module's `ours` (PBKDF2-HMAC-SHA512, 220,000 iterations, 512 bits) is checked against Node's
// OpenSSL before timing; Node's crypto.pbkdf2Sync of the same is timed alongside. Run it under another
// Node (e.g. a newer V8) to compare V8 versions: the workerd column does not depend on it.
import crypto from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Miniflare } from "miniflare";

const args = process.argv.slice(2);
const at = args.indexOf("--hashes");
const HASHES = Math.min(200, Math.max(3, at >= 0 ? Number(args[at + 1]) : 20));
const files = args.filter((a, i) => !a.startsWith("--") && (at < 0 || i !== at + 1));
if (files.length === 0) {
  console.error("usage: node scripts/bench/kdf-variants.mjs [--hashes N] A.wasm [B.wasm ...]");
  process.exit(2);
}
const ITERATIONS = 220_000;
const PASSWORD = Buffer.from("correct horse battery staple");
const SALT = Buffer.alloc(16, 0xa5);
const expected = crypto.pbkdf2Sync(PASSWORD, SALT, ITERATIONS, 64, "sha512");

// The same set-up in both engines: write password and salt into the module's input buffer.
const setInput = `(x) => {
  const view = new DataView(x.memory.buffer, x.input_ptr(), x.input_cap());
  view.setUint32(0, 28, true);
  view.setUint32(4, 16, true);
  new Uint8Array(x.memory.buffer, x.input_ptr() + 8).set([...new TextEncoder().encode("correct horse battery staple"), ...new Uint8Array(16).fill(0xa5)]);
}`;
const worker = `${files.map((_, i) => `import m${i} from "./k${i}.wasm";`).join("\n")}
const setInput = ${setInput};
const xs = [${files.map((_, i) => `m${i}`).join(", ")}].map((m) => { const x = new WebAssembly.Instance(m, {}).exports; setInput(x); return x; });
export default {
  async fetch() {
    const times = xs.map(() => 0);
    xs.forEach((x, j) => { const t0 = performance.now(); x.ours(${ITERATIONS}); times[j] = performance.now() - t0; });
    return Response.json(times);
  },
};`;
const dir = mkdtempSync(join(tmpdir(), "edge-auth-kdf-variants-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const mf = new Miniflare({
  modulesRoot: dir,
  compatibilityDate: "2026-07-01",
  modules: [
    { type: "ESModule", path: join(dir, "worker.mjs"), contents: worker },
    ...files.map((f, i) => ({ type: "CompiledWasm", path: join(dir, `k${i}.wasm`), contents: readFileSync(f) })),
  ],
});
await mf.ready;

const node = files.map((f) => {
  const x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), {}).exports;
  new Function(`return ${setInput}`)()(x);
  if (x.ours(ITERATIONS) !== 0 || !Buffer.from(new Uint8Array(x.memory.buffer, x.output_ptr(), 64)).equals(expected)) {
    console.error(`kdf-variants: ${f} does not compute PBKDF2-HMAC-SHA512 as OpenSSL does`);
    process.exit(1);
  }
  return x;
});
await (await mf.dispatchFetch("http://bench/")).json(); // warm-up: tier-up in workerd

const inWorkerd = files.map(() => []);
const inNode = files.map(() => []);
const openssl = [];
for (let r = 0; r < HASHES; r++) {
  (await (await mf.dispatchFetch("http://bench/")).json()).forEach((t, j) => inWorkerd[j].push(t));
  node.forEach((x, j) => {
    const t0 = performance.now();
    x.ours(ITERATIONS);
    inNode[j].push(performance.now() - t0);
  });
  const t0 = performance.now();
  crypto.pbkdf2Sync(PASSWORD, SALT, ITERATIONS, 64, "sha512");
  openssl.push(performance.now() - t0);
}
await mf.dispose();

const min = (xs) => Math.min(...xs).toFixed(1);
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(1);
console.log(`PBKDF2-HMAC-SHA512, ${ITERATIONS} iterations, 512 bits; ${HASHES} hashes per variant, interleaved; ms.`);
console.log(`Node ${process.version} (V8 ${process.versions.v8}); workerd via Miniflare (1 ms clock).\n`);
console.log("| variant | Node min | Node median | workerd min | workerd median |");
console.log("|---|---:|---:|---:|---:|");
files.forEach((f, j) => console.log(`| ${basename(f)} | ${min(inNode[j])} | ${med(inNode[j])} | ${min(inWorkerd[j])} | ${med(inWorkerd[j])} |`));
console.log(`| Node crypto.pbkdf2Sync (OpenSSL) | ${min(openssl)} | ${med(openssl)} | | |`);
process.exit(0);
