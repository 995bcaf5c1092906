#!/usr/bin/env node
// Cold start of the built Worker in a fresh workerd, against a one-line JS Worker in the same run.
//
//   node scripts/bench-cold-start.mjs [--runs N] [--path /PATH]
//
// One sample = a new Miniflare from scratch (a new workerd process: config, script compile, isolate)
// until its first response to GET --path (default: a path no route matches, so the answer is a 404
// without D1/KV I/O; /health would add the local D1's first SQLite query); then it is disposed. The two
// Workers alternate, --runs times each (default 7), medians. Miniflare's own start-up (its loopback
// services, spawning workerd) is inside both numbers; the difference of the medians is what the Worker
// itself adds. A second table does the same with the bare `workerd` binary (npm package `workerd`, the
// one Miniflare runs) and a generated config, without Miniflare: process start until the first response
// on its socket, text bindings only (the 404 path needs no D1/KV). The entry module is wrangler.toml's `main`; its modules are found by following the
// relative static imports from there (so a change of build/ layout is picked up), with .wasm as
// compiled wasm modules. Bindings: wrangler.toml's [vars], its D1 and KV binding names (local,
// in-memory) and a bench JWT_SECRET, given to both Workers, so that Miniflare starts the same services
// for each and only the Worker's code differs. Builds nothing (`make build` first); loopback only.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const RUNS = Math.min(30, Math.max(1, Number(option("--runs", "7"))));
const PATH = option("--path", "/bench-cold-start-no-such-route");
const CEILING = 1.5;

// ---- wrangler.toml: the few keys this needs (top-level strings/arrays, [vars], binding names) ----
function readWranglerToml(file) {
  const config = { vars: {}, d1: [], kv: [], flags: [] };
  let table = "";
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = line.match(/^\[\[?\s*([^\]]+?)\s*\]\]?$/);
    if (header) {
      table = header[1];
      if (table === "d1_databases") config.d1.push({});
      if (table === "kv_namespaces") config.kv.push({});
      continue;
    }
    const kv = line.match(/^([A-Za-z0-9_]+)\s*=\s*(.*)$/);
    if (!kv) continue;
    const [, key, value] = kv;
    const string = value.match(/^"((?:[^"\\]|\\.)*)"$/)?.[1];
    if (table === "") {
      if (key === "main") config.main = string;
      if (key === "compatibility_date") config.compatibilityDate = string;
      if (key === "compatibility_flags") config.flags = [...value.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    } else if (table === "vars" && string !== undefined) {
      config.vars[key] = string;
    } else if (table === "d1_databases" && key === "binding") {
      config.d1.at(-1).binding = string;
    } else if (table === "kv_namespaces" && key === "binding") {
      config.kv.at(-1).binding = string;
    }
  }
  if (!config.main) throw new Error(`${file}: no top-level \`main\``);
  return config;
}

// ---- the module graph from `main`: relative static imports, followed ----
function moduleGraph(entry) {
  const modules = [];
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!existsSync(file)) {
      throw new Error(`${relative(ROOT, file)} is missing (imported from the Worker's entry); run \`make build\` first`);
    }
    if (file.endsWith(".wasm")) {
      modules.push({ type: "CompiledWasm", path: file });
      return;
    }
    const source = readFileSync(file, "utf8");
    modules.push({ type: file.endsWith(".cjs") ? "CommonJS" : "ESModule", path: file });
    // import x from "./y"; import source x from "./y.wasm"; import "./y"; export ... from "./y"
    const specifiers = [
      ...source.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:source\s+)?(?:[^'"();]*?\sfrom\s*)?["'](\.{1,2}\/[^"']+)["']/g),
    ].map((m) => m[1]);
    for (const specifier of specifiers) visit(resolve(dirname(file), specifier));
  };
  visit(entry);
  return modules;
}

const config = readWranglerToml(join(ROOT, "wrangler.toml"));
const entry = resolve(ROOT, config.main);
const modules = moduleGraph(entry);
const wasm = modules.filter((m) => m.type === "CompiledWasm");

const common = {
  compatibilityDate: config.compatibilityDate ?? "2026-07-01",
  compatibilityFlags: config.flags,
  bindings: { ...config.vars, JWT_SECRET: "bench-cold-start-secret-0123456789abcdef0123456789" },
  d1Databases: config.d1.map((d) => d.binding).filter(Boolean),
  kvNamespaces: config.kv.map((k) => k.binding).filter(Boolean),
  handleRuntimeStdio: (stdout, stderr) => {
    stdout.resume();
    stderr.resume();
  },
};
const workers = {
  js: () => ({
    ...common,
    modules: true,
    script: 'export default { fetch: () => new Response("ok") };',
  }),
  edgeAuth: () => ({
    ...common,
    modules,
    modulesRoot: ROOT,
  }),
};

async function coldStart(options) {
  const t0 = performance.now();
  const mf = new Miniflare(options());
  await mf.ready;
  const ready = performance.now();
  const res = await mf.dispatchFetch(`http://localhost${PATH}`);
  await res.arrayBuffer();
  const done = performance.now();
  await mf.dispose();
  return { total: done - t0, firstRequest: done - ready, status: res.status };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- bare workerd: a generated config, the binary spawned directly ----
const WORKERD_BIN = createRequire(import.meta.url)("workerd").default;
const capnpString = (text) => JSON.stringify(text);
const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
const bareDir = mkdtempSync(join(tmpdir(), "edge-auth-cold-start-"));
process.on("exit", () => rmSync(bareDir, { recursive: true, force: true }));
writeFileSync(join(bareDir, "js-worker.mjs"), 'export default { fetch: () => new Response("ok") };\n');
// workerd embeds files relative to the config's directory (no ".."), so the Worker's modules are copied
// under it with their paths relative to the repository; module names are those paths, as in Miniflare.
for (const m of modules) {
  const copy = join(bareDir, relative(ROOT, m.path));
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(m.path, copy);
}
const bareConfigs = {
  js: { modules: [{ name: "js-worker.mjs", type: "ESModule" }] },
  edgeAuth: { modules: modules.map((m) => ({ name: relative(ROOT, m.path), type: m.type })) },
};
function bareConfig(name, port) {
  const kind = { ESModule: "esModule", CommonJS: "commonJsModule", CompiledWasm: "wasm" };
  const mods = bareConfigs[name].modules
    .map((m) => `(name = ${capnpString(m.name)}, ${kind[m.type]} = embed ${capnpString(m.name)})`)
    .join(", ");
  const vars = Object.entries({ ...config.vars, JWT_SECRET: "bench-cold-start-secret-0123456789abcdef0123456789" })
    .map(([k, v]) => `(name = ${capnpString(k)}, text = ${capnpString(v)})`)
    .join(", ");
  const flags = config.flags.map(capnpString).join(", ");
  const file = join(bareDir, `${name}-${port}.capnp`);
  writeFileSync(file, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = (
    modules = [${mods}],
    compatibilityDate = ${capnpString(config.compatibilityDate ?? "2026-07-01")},
    compatibilityFlags = [${flags}],
    bindings = [${vars}],
  ))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
`);
  return file;
}
async function bareColdStart(name) {
  const port = await freePort();
  const file = bareConfig(name, port);
  const t0 = performance.now();
  const child = spawn(WORKERD_BIN, ["serve", file, "--experimental"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let exited = false;
  child.once("exit", () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`workerd exited before answering:\n${stderr}`);
      if (performance.now() - t0 > 20_000) throw new Error(`workerd did not answer within 20 s:\n${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}${PATH}`);
        await res.arrayBuffer();
        return { total: performance.now() - t0, status: res.status };
      } catch {
        await new Promise((r) => setTimeout(r, 2)); // not listening yet
      }
    }
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => (exited ? r() : child.once("exit", r)));
  }
}

const samples = { js: [], edgeAuth: [] };
await coldStart(workers.js); // warm the file cache and Miniflare's own first-use costs, not counted
const bare = { js: [], edgeAuth: [] };
await bareColdStart("js");
for (let i = 0; i < RUNS; i++) {
  for (const name of ["js", "edgeAuth"]) samples[name].push(await coldStart(workers[name]));
  for (const name of ["js", "edgeAuth"]) bare[name].push(await bareColdStart(name));
}

const fmt = (x) => x.toFixed(1);
const row = (name, label) => {
  const s = samples[name];
  return `| ${label} | ${fmt(median(s.map((x) => x.total)))} | ${fmt(median(s.map((x) => x.firstRequest)))} | ${[...new Set(s.map((x) => x.status))].join(", ")} |`;
};
console.log(`Cold start: new Miniflare (fresh workerd process) until the first response to GET ${PATH}; ` +
  `${RUNS} alternating runs each, medians. Entry: wrangler.toml main = ${config.main} ` +
  `(${modules.length} modules; wasm: ${wasm.map((m) => relative(ROOT, m.path)).join(", ") || "none"}).\n`);
console.log("| Worker | ms to first response | of which: ready -> response | status |");
console.log("|---|---:|---:|---|");
console.log(row("js", "one-line JS Worker (`new Response(\"ok\")`)"));
console.log(row("edgeAuth", `edge-auth (${config.main})`));
const js = median(samples.js.map((x) => x.total));
const ea = median(samples.edgeAuth.map((x) => x.total));
const bjs = median(bare.js.map((x) => x.total));
const bea = median(bare.edgeAuth.map((x) => x.total));
console.log(`\nBare workerd (${WORKERD_BIN.split("/").slice(-4).join("/")} serve, generated config, text bindings only): ` +
  "spawn until the first response on its socket.\n");
console.log("| Worker | ms to first response | status |");
console.log("|---|---:|---|");
console.log(`| one-line JS Worker | ${fmt(bjs)} | ${[...new Set(bare.js.map((x) => x.status))].join(", ")} |`);
console.log(`| edge-auth (${config.main}) | ${fmt(bea)} | ${[...new Set(bare.edgeAuth.map((x) => x.status))].join(", ")} |`);
console.log(`\n| ceiling | measured | limit | |\n|---|---:|---:|---|`);
const verdict = (r) => (r <= CEILING ? "within" : "OVER");
console.log(`| cold start, edge-auth / JS Worker (Miniflare) | ${(ea / js).toFixed(2)} (${ea >= js ? "+" : ""}${fmt(ea - js)} ms) | ${CEILING} | ${verdict(ea / js)} |`);
console.log(`| cold start, edge-auth / JS Worker (bare workerd) | ${(bea / bjs).toFixed(2)} (${bea >= bjs ? "+" : ""}${fmt(bea - bjs)} ms) | ${CEILING} | ${verdict(bea / bjs)} |`);
process.exit(0);
