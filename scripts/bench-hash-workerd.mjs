#!/usr/bin/env node
// Password hashes timed INSIDE workerd (Miniflare 4, the runtime of `wrangler dev` and of production
// Workers), against Node's native crypto.pbkdf2 (OpenSSL) PBKDF2-SHA512-220k in the same run.
//
//   cargo build --release --target wasm32-unknown-unknown -p edge-auth-kdf-bench   # the wasm module
//   node scripts/bench-hash-workerd.mjs [--rounds N] [--fresh N] [--only ID,ID] [--wasm PATH]
//
// Builds nothing but the bench Worker's bundle (esbuild, into a temporary directory): bench/hash-worker.mjs
// with the npm peers, plus the kdf-bench wasm as a CompiledWasm module. Steps:
//   (a) one warm-up request per row; each output is checked (Node's OpenSSL for PBKDF2 and scrypt, two
//       independent implementations against each other for Argon2id and bcrypt); a wrong one is marked;
//   (b) --rounds interleaved rounds (default 5): Node's crypto.pbkdf2 SHA-512-220k in this process, then
//       one request per row; medians;
//   (c) first hash of a fresh isolate: --fresh new workerd instances (default 5), each timing its first
//       `ours` and then three more (the steady state of that instance).
// Times: "CPU" = CPU time of the workerd process (all threads, /proc schedstat) during the request minus
// that of an empty request; "inside" = performance.now() around the hash in the Worker (local workerd's
// clock advances during computation; 1 ms resolution); "round trip" = the request's round trip from
// this process minus that of an empty request. Ratios are to Node's crypto.pbkdf2, sampled in the same
// rounds and beside each fresh instance. The steady-state target is judged on the median over every
// workerd process of the run (the rounds' instance and the fresh ones), since single processes differ.
// Linux only (/proc); loopback only; every loop is bounded (--rounds <= 50, --fresh <= 20).
// MINIFLARE_WORKERD_V8_FLAGS (space-separated V8 flags for workerd) is passed through by Miniflare.
import crypto from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { sched, workerdPids } from "./bench/http-worker.mjs";
import { argon2id as nobleArgon2id } from "@noble/hashes/argon2.js";

const require = createRequire(import.meta.url);
const WORKERD_VERSION = require("workerd/package.json").version;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const WASM_PATH = resolve(option("--wasm", join(TARGET_DIR, "wasm32-unknown-unknown/release/edge_auth_kdf_bench.wasm")));
const ROUNDS = Math.min(50, Math.max(1, Number(option("--rounds", "5"))));
const FRESH = Math.min(20, Math.max(0, Number(option("--fresh", "5"))));
const ONLY = option("--only", "").split(",").filter(Boolean);

const PASSWORD = Buffer.from("correct horse battery staple");
const SALT = Buffer.alloc(16, 0xa5);
const hex = (b) => Buffer.from(b).toString("hex");

// What each row computes, and the output it must give (hex), computed here by an independent
// implementation where one exists in Node. `peer` names another row whose output must be equal.
const pbkdf2 = (hash, c, len) => hex(crypto.pbkdf2Sync(PASSWORD, SALT, c, len, hash));
const argon = (m, t) => hex(nobleArgon2id(PASSWORD, SALT, { m, t, p: 1, dkLen: 32 }));
const ROWS = [
  { id: "ours", what: "**ours** (crates/kdf, wasm+simd128): PBKDF2-HMAC-SHA512, 220,000 iterations, 512 bits", expect: () => pbkdf2("sha512", 220_000, 64) },
  { id: "pbkdf2-crate", what: "`pbkdf2` crate + `sha2` (wasm): PBKDF2-HMAC-SHA512, 220,000, 512 bits", expect: () => pbkdf2("sha512", 220_000, 64) },
  { id: "wc-sha512-220k", what: "Web Crypto PBKDF2-SHA512, 220,000, 512 bits (production refuses >100,000)", expect: () => pbkdf2("sha512", 220_000, 64) },
  { id: "wc-sha256-600k", what: "Web Crypto PBKDF2-SHA256, 600,000, 256 bits (production refuses >100,000)", expect: () => pbkdf2("sha256", 600_000, 32) },
  { id: "wc-sha256-100k", what: "Web Crypto PBKDF2-SHA256, 100,000, 256 bits (production's cap; below OWASP)", expect: () => pbkdf2("sha256", 100_000, 32) },
  { id: "noble-pbkdf2", what: "@noble/hashes PBKDF2-HMAC-SHA512, 220,000, 512 bits (JS)", expect: () => pbkdf2("sha512", 220_000, 64) },
  { id: "noble-scrypt", what: "@noble/hashes scrypt N=2^17 r=8 p=1, 256 bits (JS; 128 MiB)", expect: () => hex(crypto.scryptSync(PASSWORD, SALT, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 2 ** 28 })) },
  { id: "noble-argon2id", what: "@noble/hashes Argon2id m=19 MiB t=2 p=1, 256 bits (JS)", expect: () => argon(19_456, 2) },
  { id: "argon2-crate-19m-t2", what: "`argon2` crate (wasm): Argon2id m=19 MiB t=2 p=1, 256 bits", expect: () => argon(19_456, 2) },
  { id: "argon2-crate-12m-t3", what: "`argon2` crate (wasm): Argon2id m=12 MiB t=3 p=1, 256 bits", expect: () => argon(12_288, 3) },
  { id: "argon2-crate-7m-t5", what: "`argon2` crate (wasm): Argon2id m=7 MiB t=5 p=1, 256 bits", expect: () => argon(7_168, 5) },
  { id: "bcryptjs-10", what: "bcryptjs bcrypt, cost 10 (2^10 EksBlowfish rounds), 184-bit hash (JS)", peer: "bcrypt-crate-10" },
  { id: "bcrypt-crate-10", what: "`bcrypt` crate (wasm): bcrypt, cost 10, 184-bit hash", peer: "bcryptjs-10" },
  { id: "hash-wasm-pbkdf2", what: "hash-wasm PBKDF2-HMAC-SHA512, 220,000, 512 bits", expect: () => pbkdf2("sha512", 220_000, 64) },
  { id: "hash-wasm-argon2id", what: "hash-wasm Argon2id m=19 MiB t=2 p=1, 256 bits", expect: () => argon(19_456, 2) },
].filter((r) => ONLY.length === 0 || ONLY.includes(r.id) || r.id === "ours");

if (!existsSync(WASM_PATH)) {
  console.error(`bench-hash-workerd: ${WASM_PATH} is missing; build it first with\n` +
    "  cargo build --release --target wasm32-unknown-unknown -p edge-auth-kdf-bench");
  process.exit(2);
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- the bench Worker: bundle and start ----
const dir = mkdtempSync(join(tmpdir(), "edge-auth-bench-hash-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
await build({
  entryPoints: [join(ROOT, "bench/hash-worker.mjs")],
  outfile: join(dir, "worker.mjs"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  // bcryptjs imports Node's "crypto" (only for random salts, unused here): workerd's node:crypto.
  alias: { crypto: "node:crypto" },
  external: ["./kdf.wasm", "node:*"],
  logLevel: "error",
});
writeFileSync(join(dir, "kdf.wasm"), readFileSync(WASM_PATH));

// CPU time of a process (all threads) and its run-queue wait, from Linux schedstat
// (scripts/bench/http-worker.mjs). The machine may be shared, so CPU time is the steadier measure;
// wall time is shown as well, and the run-queue wait says how much of a wall time was other
// processes' doing.
const cpuMs = (pid) => sched(pid).cpu;

const startWorker = async () => {
  const before = new Set(workerdPids());
  const mf = new Miniflare({
    modules: [
      { type: "ESModule", path: join(dir, "worker.mjs") },
      { type: "CompiledWasm", path: join(dir, "kdf.wasm") },
    ],
    modulesRoot: dir,
    compatibilityDate: "2026-07-01",
    compatibilityFlags: ["nodejs_compat"],
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
  });
  await mf.ready;
  const pid = workerdPids().find((p) => !before.has(p));
  if (!pid) throw new Error("bench-hash-workerd: cannot find the workerd process Miniflare started");
  const get = async (path) => {
    const s0 = sched(pid);
    const t0 = performance.now();
    const res = await mf.dispatchFetch(`http://bench${path}`);
    const body = await res.json();
    const s1 = sched(pid);
    return { ...body, rt: performance.now() - t0, cpu: s1.cpu - s0.cpu, runq: s1.wait - s0.wait };
  };
  return { mf, get };
};

// Node's own PBKDF2 (OpenSSL, on libuv's thread pool): wall and CPU time of this process.
const nodeNative = () =>
  new Promise((resolveRun, reject) => {
    const c0 = cpuMs(process.pid);
    const t0 = performance.now();
    crypto.pbkdf2(PASSWORD, SALT, 220_000, 64, "sha512", (err) =>
      err ? reject(err) : resolveRun({ wall: performance.now() - t0, cpu: cpuMs(process.pid) - c0 }));
  });

// The same wasm module in Node's V8 (a plain instantiation; for the workerd-vs-Node comparison).
const nodeOurs = (() => {
  const x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM_PATH)), {}).exports;
  const view = new DataView(x.memory.buffer, x.input_ptr(), x.input_cap());
  view.setUint32(0, PASSWORD.length, true);
  view.setUint32(4, SALT.length, true);
  new Uint8Array(x.memory.buffer, x.input_ptr() + 8).set([...PASSWORD, ...SALT]);
  return () => {
    const c0 = cpuMs(process.pid);
    const t0 = performance.now();
    x.ours(220_000);
    return { wall: performance.now() - t0, cpu: cpuMs(process.pid) - c0 };
  };
})();

const { mf, get } = await startWorker();
// Empty-request round trips, to subtract.
for (let i = 0; i < 20; i++) await get("/empty");
const empties = [];
for (let i = 0; i < 21; i++) empties.push(await get("/empty"));
const emptyRt = median(empties.map((e) => e.rt));
const emptyCpu = median(empties.map((e) => e.cpu));

// (a) warm-up and correctness
const outputs = {};
for (const row of ROWS) {
  const r = await get(`/hash?row=${row.id}`);
  row.samples = [];
  if (r.error) {
    row.error = r.error;
    continue;
  }
  outputs[row.id] = r.out;
}
for (const row of ROWS) {
  if (row.error) continue;
  const expected = row.expect ? row.expect() : outputs[row.peer];
  row.checked = row.expect ? "Node/OpenSSL or @noble in Node" : `equals ${row.peer}`;
  if (expected !== undefined && outputs[row.id] !== expected) row.wrong = true;
}

// (b) interleaved rounds
const native = [];
const nodeOursMs = [];
nodeOurs(); // warm-up (tier-up)
await nodeNative();
for (let round = 0; round < ROUNDS; round++) {
  native.push(await nodeNative());
  nodeOursMs.push(nodeOurs());
  for (const row of ROWS) {
    if (row.error) continue;
    const r = await get(`/hash?row=${row.id}`);
    row.samples.push({ inside: r.ms, rt: r.rt - emptyRt, cpu: r.cpu - emptyCpu, runq: r.runq });
  }
}
await mf.dispose();

// (c) first hash of fresh isolates
const fresh = [];
for (let i = 0; i < FRESH; i++) {
  const w = await startWorker();
  const first = await w.get("/hash?row=ours");
  const later = [];
  for (let j = 0; j < 3; j++) later.push(await w.get("/hash?row=ours"));
  await w.mf.dispose();
  native.push(await nodeNative()); // the reference keeps being sampled alongside
  fresh.push({
    first: first.ms,
    steady: median(later.map((l) => l.ms)),
    firstCpu: first.cpu - emptyCpu,
    steadyCpu: median(later.map((l) => l.cpu - emptyCpu)),
    firstRunq: first.runq,
  });
}

// ---- table ----
const base = median(native.map((n) => n.cpu));
const baseWall = median(native.map((n) => n.wall));
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
console.log(`Node ${process.version} (V8 ${process.versions.v8}) vs workerd ${WORKERD_VERSION} via Miniflare 4 ` +
  `(${process.env.MINIFLARE_WORKERD_V8_FLAGS ? `V8 flags: ${process.env.MINIFLARE_WORKERD_V8_FLAGS}` : "default V8 flags"}); ` +
  `${ROUNDS} interleaved rounds, medians. Password "correct horse battery staple" (28 B), salt 16 B.\n` +
  `CPU = CPU time of the workerd process (all threads) during the request minus that of an empty request ` +
  `(${fmt(emptyCpu, 2)} ms); wall = performance.now() around the hash inside the Worker; round trip = ` +
  `from this process, minus an empty request's (${fmt(emptyRt, 2)} ms). Ratios to Node's crypto.pbkdf2 ` +
  `PBKDF2-SHA512-220k, sampled once per round and once per fresh instance (${fmt(base)} ms CPU, ${fmt(baseWall)} ms wall).\n`);
console.log("| row: what it computes | ms CPU | ms wall (inside) | ms round trip | ratio (CPU) | ratio (wall) |");
console.log("|---|---:|---:|---:|---:|---:|");
console.log(`| **reference**: Node crypto.pbkdf2 (OpenSSL, native, in Node): PBKDF2-HMAC-SHA512, 220,000, 512 bits | ${fmt(base)} | ${fmt(baseWall)} | | 1.00 | 1.00 |`);
const no = { cpu: median(nodeOursMs.map((n) => n.cpu)), wall: median(nodeOursMs.map((n) => n.wall)) };
console.log(`| ours, same wasm module, in Node's V8 (for the workerd-vs-Node comparison) | ${fmt(no.cpu)} | ${fmt(no.wall)} | | ${fmt(no.cpu / base, 2)} | ${fmt(no.wall / baseWall, 2)} |`);
for (const row of ROWS) {
  if (row.error) {
    console.log(`| ${row.what} | cannot run in workerd: \`${row.error}\` | | | | |`);
    continue;
  }
  const inside = median(row.samples.map((x) => x.inside));
  const rt = median(row.samples.map((x) => x.rt));
  const cpu = median(row.samples.map((x) => x.cpu));
  const mark = row.wrong ? " **WRONG OUTPUT**" : "";
  row.cpu = cpu;
  row.wall = inside;
  console.log(`| ${row.what}${mark} | ${fmt(cpu)} | ${fmt(inside)} | ${fmt(rt)} | ${fmt(cpu / base, 2)} | ${fmt(inside / baseWall, 2)} |`);
}
const ours = ROWS.find((r) => r.id === "ours");
const runq = median(ROWS.flatMap((r) => r.samples.map((x) => x.runq)));
console.log(`\nworkerd's threads waited for a CPU (run queue) a median ${fmt(runq, 2)} ms per hash request of the rounds.`);
console.log(`Outputs checked: ${ROWS.filter((r) => !r.error && !r.wrong).length} rows equal their reference` +
  (ROWS.some((r) => r.wrong) ? `; WRONG: ${ROWS.filter((r) => r.wrong).map((r) => r.id).join(", ")}` : "") + ".");
let firstWall = NaN;
let firstCpu = NaN;
if (fresh.length > 0) {
  firstWall = median(fresh.map((f) => f.first / f.steady));
  firstCpu = median(fresh.map((f) => f.firstCpu / f.steadyCpu));
  console.log(`\nFirst \`ours\` hash of a fresh workerd isolate (${fresh.length} fresh instances): ` +
    `${fmt(median(fresh.map((f) => f.first)))} ms wall (runs: ${fresh.map((f) => fmt(f.first)).join(", ")}), ` +
    `${fmt(median(fresh.map((f) => f.firstCpu)))} ms CPU incl. V8's compile threads; the next three of the same ` +
    `instances: ${fmt(median(fresh.map((f) => f.steady)))} ms wall, ${fmt(median(fresh.map((f) => f.steadyCpu)))} ms CPU. ` +
    `workerd's threads waited for a CPU (run queue) ${fresh.map((f) => fmt(f.firstRunq)).join(", ")} ms during those ` +
    "first hashes (more than a few ms: the machine was busy, and the wall ratio overstates the first hash).");
}
console.log("\n| target (ratios of this run) | measured | limit | |");
console.log("|---|---:|---:|---|");
const verdict = (x, limit) => (x <= limit ? "met" : "NOT met");
// The steady state of ours differs from one workerd process to the next by up to ~10% on this kind of
// machine (code and data placement; a shared host), so the target uses the median over every process
// of the run: the rounds' instance and each fresh instance (its hashes 2-4).
const perProcessCpu = [ours.cpu, ...fresh.map((f) => f.steadyCpu)];
const perProcessWall = [ours.wall, ...fresh.map((f) => f.steady)];
const r1 = median(perProcessCpu) / base;
const r1w = median(perProcessWall) / baseWall;
console.log(`| ours in workerd / Node crypto.pbkdf2 SHA-512-220k (CPU; median over the ${perProcessCpu.length} workerd processes: ${perProcessCpu.map((x) => fmt(x)).join(", ")} ms) | ${fmt(r1, 2)} | 1.00 | ${verdict(r1, 1)} |`);
console.log(`| the same (wall: ${perProcessWall.map((x) => fmt(x)).join(", ")} ms) | ${fmt(r1w, 2)} | 1.00 | ${verdict(r1w, 1)} |`);
if (fresh.length > 0) {
  console.log(`| first hash of a fresh isolate / the next three (wall, median of ratios) | ${fmt(firstWall, 2)} | 1.20 | ${verdict(firstWall, 1.2)} |`);
  console.log(`| the same (CPU, incl. compile threads) | ${fmt(firstCpu, 2)} | 1.20 | ${verdict(firstCpu, 1.2)} |`);
}
process.exit(0);
