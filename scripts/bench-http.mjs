// HTTP benchmark through local workerd (Miniflare runs the same workerd binary as `wrangler dev`,
// without wrangler's dev proxy in front), driven by autocannon from this process. The Worker is the
// built one (build/), at the DEFAULT password cost, with the default rate limits (the setup is
// scripts/bench/http-worker.mjs, shared with `make load`). Prints markdown.
//   node scripts/bench-http.mjs          (BENCH_SECONDS, BENCH_CONNECTIONS to change the load)
import { cannon, startBenchWorker, warm } from "./bench/http-worker.mjs";
import { phcHash } from "../tests/http/helpers.mjs";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const { w, base } = await startBenchWorker();
const password = "a long benchmark passphrase";
await w.seedUser({ username: "bench", password, role: "admin", passwordHash: phcHash(password, 220000) });
const loginBody = JSON.stringify({ username: "bench", password });
const token = (await w.login("bench", password)).body.access_token;

const run = (opts) => cannon({ duration: DURATION, connections: CONNECTIONS, ...opts });

await warm(base);

const cases = [
  { name: "GET /.well-known/jwks.json (no I/O)", opts: { url: `${base}/.well-known/jwks.json` } },
  {
    name: "GET /auth/profile (verify, 2 KV reads, 1 D1 read)",
    opts: { url: `${base}/auth/profile`, headers: { authorization: `Bearer ${token}` } },
  },
  {
    name: "POST /auth/login (220,000 iterations)",
    opts: {
      url: `${base}/auth/login`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: loginBody,
      connections: 1,
    },
  },
];

const rows = [];
for (const c of cases) {
  const r = await run(c.opts);
  rows.push({ name: c.name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors });
}
await w.close();
console.log(`| HTTP, local workerd (${DURATION} s each, ${CONNECTIONS} connections; login 1) | requests/s | p50 ms | p99 ms | non-2xx |`);
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.bad} |`);
console.log(`| profile / no-I/O requests/s | ${(rows[1].rps / rows[0].rps).toFixed(2)} | | | |`);

// The hash as the Worker ships it (its own wasm build, wasm-opt and all): one login at a time at the
// default cost minus the same at 1,000 iterations, each its own instance, medians of 9 after 3 warm-ups.
const loginMs = async (iterations) => {
  const { w: v } = await startBenchWorker({ bindings: { PASSWORD_ITERATIONS: String(iterations) } });
  await v.seedUser({ username: "bench", password, role: "user", passwordHash: phcHash(password, iterations) });
  for (let i = 0; i < 3; i++) await v.login("bench", password);
  const times = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    const r = await v.login("bench", password);
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`bench-http: login answered ${r.status}`);
  }
  await v.close();
  return times.sort((a, b) => a - b)[4];
};
const cheap = await loginMs(1000);
const full = await loginMs(220000);
console.log(`\n| one login at a time, round trip (median of 9) | ms |`);
console.log("|---|---:|");
console.log(`| POST /auth/login, stored hash PBKDF2-HMAC-SHA512 1,000 iterations | ${cheap.toFixed(1)} |`);
console.log(`| POST /auth/login, stored hash PBKDF2-HMAC-SHA512 220,000 iterations | ${full.toFixed(1)} |`);
console.log(`| difference: 219,000 iterations of the Worker's own hash build | ${(full - cheap).toFixed(1)} |`);
