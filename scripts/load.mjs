// `make load`: load and cost of the built Worker in local workerd (Miniflare; setup shared with
// `make bench` in scripts/bench/http-worker.mjs), at the DEFAULT password cost (220,000) and the
// default limits, driven by autocannon on loopback. Prints tables; never passes or fails.
//
// Every scenario is RUNS short runs (LOAD_SECONDS each); the table shows medians over the runs and
// the status counts summed over them. Then the CPU of one failed login, from the workerd process's
// CPU time, and what bounds an attacker's spend. Every loop is bounded; 1.5-2 minutes on 2 cores with the defaults.
// Linux only (the CPU times come from /proc).
//   node scripts/load.mjs   (LOAD_SECONDS 1-10, default 3; LOAD_RUNS 1-9, default 3;
//                            LOAD_CONNECTIONS 1-50, default 10; LOAD_ATTACK_RATE 1-50, default 9;
//                            LOAD_BUDGET 1-1000, default 10)
import { cannon, DEFAULTS, sched, startBenchWorker, warm } from "./bench/http-worker.mjs";
import { createHmac, randomBytes } from "node:crypto";
import { phcHash, TEST_SECRET } from "../tests/http/helpers.mjs";

const setting = (name, fallback, min, max) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`load: ${name} must be an integer in ${min}-${max}`);
  return v;
};
const SECONDS = setting("LOAD_SECONDS", 3, 1, 10);
const RUNS = setting("LOAD_RUNS", 3, 1, 9);
const CONNECTIONS = setting("LOAD_CONNECTIONS", 10, 1, 50);
const ATTACK_RATE = setting("LOAD_ATTACK_RATE", 9, 1, 50);
const BUDGET = setting("LOAD_BUDGET", 10, 1, 1000);
/** Refresh tokens prepared per second of a run: more than a run can use (100-400/s seen on 2 cores);
 * should a run use them up, its further requests are 400s, in the statuses. */
const REFRESH_PER_SECOND = 1000;
/** Sequential requests per CPU measurement. */
const CPU_SAMPLES = 25;

const PASSWORD = "a long benchmark passphrase";
const WRONG = "not the password at all";
const started = performance.now();
/** Progress on stderr, so that stdout is only the tables. */
const progress = (what) => console.error(`load: ${((performance.now() - started) / 1000).toFixed(1)} s: ${what}`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// A client IP no request has used before (CF-Connecting-IP: the Worker's client IP), and an
// unknown login name no request has used before: every such failure costs a full hash, and no
// per-IP or per-account counter ever reaches its limit. That is the attacker the per-IP limit
// alone cannot stop.
let fresh = 0;
const freshIp = () => {
  fresh += 1;
  return `10.${(fresh >> 16) & 255}.${(fresh >> 8) & 255}.${fresh & 255}`;
};
const sprayName = () => `spray${fresh}x${process.pid % 1000}`;
const json = { "content-type": "application/json" };
const failedLogin = () => {
  const ip = freshIp();
  return { headers: { ...json, "cf-connecting-ip": ip }, body: JSON.stringify({ username: sprayName(), password: WRONG }) };
};

/** The Worker under load (default cost and limits), a signed-in user for the profile rows. */
const main = await startBenchWorker();
if (main.pid === undefined) throw new Error("load: cannot find the workerd process Miniflare started");
/** The workerd processes started so far, to wait for before each run. */
const workerdPids = [main.pid];
const workerd = () => workerdPids;
await main.w.seedUser({ username: "bench", password: PASSWORD, passwordHash: phcHash(PASSWORD, 220000) });
const token = (await main.w.login("bench", PASSWORD)).body.access_token;
await warm(main.base);

// ---- refresh tokens, prepared ------------------------------------------------------------------
// Each refresh request presents the unused generation-0 token of a session of its own (a token used
// twice would end its session: reuse detection). One real login gives a session row; its copies get
// new ids and seeds, and their tokens are minted here in the documented format
// (crates/core/src/session.rs: rt1.<id>.<g>.<HMAC-SHA256(key, label | id | seed | g)>, the key derived
// from JWT_SECRET), as tests/http/sessions.test.mjs does. A 401 in the refresh row would say the
// format changed. Logins at 220,000 iterations would cost ~80 ms each; this costs D1 inserts only.
const refreshKey = createHmac("sha256", TEST_SECRET).update("edge-auth refresh-token key v1").digest();
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
function mintRefreshToken(sessionId, seed) {
  const generation = Buffer.alloc(8); // generation 0, big-endian u64
  const mac = createHmac("sha256", refreshKey)
    .update(Buffer.concat([Buffer.from("edge-auth refresh v1"), u32(sessionId.length), Buffer.from(sessionId), u32(seed.length), seed, generation]))
    .digest("base64url");
  return `rt1.${sessionId}.0.${mac}`;
}
const template = await main.w.db.prepare("SELECT * FROM sessions LIMIT 1").first();
const refreshTokens = [];
const prepared = RUNS * SECONDS * REFRESH_PER_SECOND;
// One INSERT ... SELECT per 1,000 copies, over a JSON array of their ids and seeds (row-by-row
// inserts through Miniflare take ~10 ms each here).
const otherColumns = Object.keys(template).filter((c) => c !== "id" && c !== "seed");
const copySql = `INSERT INTO sessions (id, seed, ${otherColumns.join(", ")})
  SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.seed'), ${otherColumns.map((c) => `t.${c}`).join(", ")}
  FROM json_each(?1) AS j, (SELECT * FROM sessions WHERE id = ?2) AS t`;
for (let i = 0; i < prepared; i += 1000) {
  const copies = [];
  for (let j = i; j < Math.min(i + 1000, prepared); j++) {
    const id = randomBytes(16).toString("base64url");
    const seed = randomBytes(32);
    copies.push({ id, seed: seed.toString("base64url") });
    refreshTokens.push(mintRefreshToken(id, seed));
  }
  await main.w.db.prepare(copySql).bind(JSON.stringify(copies), template.id).run();
}
progress(`${refreshTokens.length} sessions prepared`);

/** Copies the rows of `table` (all TEXT/INTEGER columns) from one D1 to another, 100 per batch,
 * without the columns in `omit` (the user `number`, which the target assigns itself). */
async function copyRows(from, to, table, where, binds, omit = []) {
  const { results } = await from.prepare(`SELECT * FROM ${table} ${where}`).bind(...binds).all();
  for (let i = 0; i < results.length; i += 100) {
    const statements = results.slice(i, i + 100).map((row) => {
      const cols = Object.keys(row).filter((c) => !omit.includes(c));
      const sql = `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map((_, j) => `?${j + 1}`).join(", ")})`;
      return to.prepare(sql).bind(...cols.map((c) => row[c]));
    });
    await to.batch(statements);
  }
}

// ---- the scenarios ------------------------------------------------------------------------------

/** One autocannon run with the workerd process's CPU time around it. */
async function measured(pid, opts) {
  const s0 = sched(pid);
  const r = await cannon({ duration: SECONDS, connections: CONNECTIONS, ...opts });
  const s1 = sched(pid);
  return { r, cpu: s1.cpu - s0.cpu, wait: s1.wait - s0.wait };
}

/** The summary of one run: requests/s over the whole run, latency, status counts. */
const summary = ({ r, cpu, wait = 0 }) => {
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)]));
  if (r.errors) statuses.errors = r.errors;
  if (r.timeouts) statuses.timeouts = r.timeouts;
  const done = Object.values(statuses).reduce((a, b) => a + b, 0);
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, statuses, done, cpu, busy: cpu / (r.duration * 1000), waiting: wait / (r.duration * 1000) };
};

const rows = [];
/** Adds a row: medians over the runs; status counts and CPU summed. `cpuPerRequest` divides the
 * process's CPU by this row's requests (left out where two loads share the process); `busy` is the
 * process's CPU time / run time (cores busy). */
function addRow(name, runs, { cpuPerRequest = true, busy = true } = {}) {
  const statuses = {};
  for (const s of runs) for (const [k, v] of Object.entries(s.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const done = runs.reduce((a, s) => a + s.done, 0);
  const cpu = runs.reduce((a, s) => a + s.cpu, 0);
  rows.push({
    name,
    rps: median(runs.map((s) => s.rps)),
    p50: median(runs.map((s) => s.p50)),
    p99: median(runs.map((s) => s.p99)),
    statuses,
    cpu: cpuPerRequest && done > 0 ? cpu / done : undefined,
    busy: busy ? median(runs.map((s) => s.busy)) : undefined,
    waiting: busy ? median(runs.map((s) => s.waiting)) : undefined,
  });
  progress(name.trim());
  return rows.at(-1);
}

const profile = { url: `${main.base}/auth/profile`, headers: { authorization: `Bearer ${token}` } };

/** Waits (at most 10 s) until the workerd process `pid` is idle: requests a run left queued (an
 * autocannon run ends at its duration, but the Worker still hashes what it has received) must not
 * burn CPU in the next run. Idle = under 10 ms of CPU in 200 ms. */
async function settle(pid) {
  for (let i = 0; i < 50; i++) {
    const c0 = sched(pid).cpu;
    await new Promise((r) => setTimeout(r, 200));
    if (sched(pid).cpu - c0 < 10) return;
  }
}

/** RUNS runs of `fn`, each after every workerd process of the run is idle. */
const repeat = async (fn) => {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    for (const pid of workerd()) await settle(pid);
    out.push(await fn(i));
  }
  return out;
};

addRow("health", await repeat(async () => summary(await measured(main.pid, { url: `${main.base}/health` }))));
const profileAlone = addRow("profile", await repeat(async () => summary(await measured(main.pid, profile))));

let next = 0;
const nextRefresh = () => refreshTokens[next++] ?? "used-up";
addRow(
  "refresh",
  await repeat(async () =>
    summary(
      await measured(main.pid, {
        url: `${main.base}/auth/refresh`,
        method: "POST",
        headers: json,
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh_token: nextRefresh() }) }) }],
      }),
    ),
  ),
);

// 1 in 10: the right password of `bench` from its usual IP; 9 in 10: a failure, new name, new IP.
let mixCount = 0;
const mixRequest = (req) => {
  mixCount += 1;
  if (mixCount % 10 === 0) {
    return { ...req, headers: { ...json, "cf-connecting-ip": "192.0.2.10" }, body: JSON.stringify({ username: "bench", password: PASSWORD }) };
  }
  return { ...req, ...failedLogin() };
};
addRow(
  "login mix",
  await repeat(async () =>
    summary(
      await measured(main.pid, {
        url: `${main.base}/auth/login`,
        method: "POST",
        connections: 2,
        requests: [{ setupRequest: mixRequest }],
      }),
    ),
  ),
);

/** Profile under load while failed logins arrive at ATTACK_RATE per second beside it. */
async function profileBesideFailures(target, label) {
  const runs = await repeat(async () => {
    const s0 = sched(target.pid);
    const [p, a] = await Promise.all([
      cannon({ duration: SECONDS, connections: CONNECTIONS, ...profile, url: `${target.base}/auth/profile` }),
      // One connection per failed login a second, so that the rate, not a connection waiting for its
      // answer, sets the pace.
      cannon({
        duration: SECONDS,
        connections: ATTACK_RATE,
        overallRate: ATTACK_RATE,
        url: `${target.base}/auth/login`,
        method: "POST",
        requests: [{ setupRequest: (req) => ({ ...req, ...failedLogin() }) }],
      }),
    ]);
    const s1 = sched(target.pid);
    // Both loads share the process: its CPU goes on the profile row, as cores busy only.
    return { p: summary({ r: p, cpu: s1.cpu - s0.cpu, wait: s1.wait - s0.wait }), a: summary({ r: a, cpu: 0 }) };
  });
  const p = addRow(`profile, beside failed logins ${label}`, runs.map((x) => x.p), { cpuPerRequest: false });
  addRow(`  the failed logins beside it ${label}`, runs.map((x) => x.a), { cpuPerRequest: false, busy: false });
  return p;
}

const attacked = await profileBesideFailures(main, `at ${ATTACK_RATE}/s`);

// The same beside a global failed-login budget of BUDGET per 60 s (the LOGIN_FAILURE_LIMITER
// binding): once it is spent, the failures are 429 before any hashing. Another instance (its budget
// and flag are its own), with its own profile row, since one workerd process can be 10-30% slower
// than another here; the token of `bench` verifies there too (same JWT_SECRET, rows copied).
const budgeted = await startBenchWorker({
  ratelimits: { LOGIN_FAILURE_LIMITER: { namespace_id: "2001", simple: { limit: BUDGET, period: 60 } } },
});
workerdPids.push(budgeted.pid);
await copyRows(main.w.db, budgeted.w.db, "users", "WHERE username = ?1", ["bench"], ["number"]);
await copyRows(main.w.db, budgeted.w.db, "sessions", "WHERE id = ?1", [template.id]);
await warm(budgeted.base);
const budgetedAlone = addRow(
  `profile, with a budget of ${BUDGET}/60 s, alone`,
  await repeat(async () => summary(await measured(budgeted.pid, { ...profile, url: `${budgeted.base}/auth/profile` }))),
);
// Spend the budget first, one failure at a time, so the runs measure what the budget is for: the
// time its flag lives. (Spending it under load costs more hashes than BUDGET + 1: the failures a
// saturated isolate has queued for the CPU when the budget is found spent have read KV already, and
// are hashed; the runs below started while that happened would mostly measure the queue.)
let spentAt = 0;
for (let i = 0; i < BUDGET + 10; i++) {
  const { headers, body } = failedLogin();
  const res = await fetch(`${budgeted.base}/auth/login`, { method: "POST", headers, body });
  await res.arrayBuffer();
  spentAt = i + 1;
  if (res.status === 429) break;
}
const shielded = await profileBesideFailures(budgeted, `at ${ATTACK_RATE}/s, budget ${BUDGET}/60 s spent`);
// Measured now, while the flag lives (60 s from when it was written).
await settle(budgeted.pid);
const refused = await cpuPerRequest(budgeted, failedLogin);

// ---- CPU per request, sequential, one at a time --------------------------------------------------
// CPU = the workerd process's CPU time (all threads, schedstat) from just before a request is sent
// until its answer is read, per request; medians of CPU_SAMPLES. Local D1 and KV run inside the same
// workerd process, so their CPU is in every number; a failed login at 1,000 iterations (a side
// instance) has the same I/O and almost no hash, so the difference is the cost of 219,000 iterations.
async function cpuPerRequest(target, make) {
  const cpu = [];
  const wall = [];
  const statuses = {};
  for (let i = 0; i < CPU_SAMPLES; i++) {
    const { headers, body } = make();
    const s0 = sched(target.pid).cpu;
    const t0 = performance.now();
    const res = await fetch(`${target.base}/auth/login`, { method: "POST", headers, body });
    await res.arrayBuffer();
    wall.push(performance.now() - t0);
    cpu.push(sched(target.pid).cpu - s0);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  return { cpu: median(cpu), wall: median(wall), statuses };
}
const side = await startBenchWorker({ bindings: { PASSWORD_ITERATIONS: "1000" } });
await warm(side.base);
for (const pid of workerd()) await settle(pid);
const failed220k = await cpuPerRequest(main, failedLogin);
const failed1k = await cpuPerRequest(side, failedLogin);

progress("CPU per request");
await Promise.all([main.w.close(), side.w.close(), budgeted.w.close()]);

// ---- output -------------------------------------------------------------------------------------
const statusText = (s) =>
  Object.entries(s)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
console.log(
  `| scenario (${RUNS} runs of ${SECONDS} s, ${CONNECTIONS} connections unless said) | requests/s | p50 ms | p99 ms | workerd CPU ms/request | workerd cores busy | workerd cores waiting | statuses (all runs) |`,
);
console.log("|---|---:|---:|---:|---:|---:|---:|---|");
const fixed = (x, digits) => (x === undefined ? "" : x.toFixed(digits));
for (const r of rows) {
  console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${fixed(r.cpu, 1)} | ${fixed(r.busy, 2)} | ${fixed(r.waiting, 2)} | ${statusText(r.statuses)} |`);
}
const pct = (x) => `${(100 * x).toFixed(0)}%`;
console.log(`| profile beside ${ATTACK_RATE} failed logins/s / profile alone | ${pct(attacked.rps / profileAlone.rps)} | | | | | | |`);
console.log(`| the same with the budget / profile alone in that instance | ${pct(shielded.rps / budgetedAlone.rps)} | | | | | | |`);
const defaults = Object.entries(DEFAULTS).map(([k, v]) => `${k}=${v}`).join(", ");
console.log(`
What each row computes (autocannon on loopback; ${defaults}):
- health: GET /health (D1 SELECT 1, one KV read).
- profile: GET /auth/profile with a bearer token (HS256 verify, one bulk KV read of revocations, one D1
  read of the token's session joined with its user).
- refresh: POST /auth/refresh, each request the unused generation-0 token of a session of its own
  (prepared: ${refreshTokens.length}; one D1 read, one conditional D1 update).
- login mix: POST /auth/login on 2 connections; 1 in 10 the right password of a user from a fixed IP,
  9 in 10 a wrong password for a new unknown name from a new IP (each a full hash: no per-IP or
  per-account counter fills, the spray the per-IP limit alone does not stop).
- profile, beside failed logins: the profile load and, at the same time, failed logins like the mix's
  offered at ${ATTACK_RATE}/s (autocannon overallRate, ${ATTACK_RATE} connections); the indented row counts those
  answered within the runs.
- with a budget: the same in another instance with the LOGIN_FAILURE_LIMITER binding (${BUDGET} failures
  per 60 s), spent first by failures one at a time (the first 429 was failure ${spentAt}: ${spentAt - 1} hashed);
  for the flag's 60 s logins are 429 before hashing; "alone" is that instance's profile load before.
- requests/s: answered requests / run time (median of the runs); p50/p99: autocannon's latency
  percentiles (medians of the runs); workerd CPU ms/request: the workerd process's CPU time (all
  threads, local D1 and KV included; Linux schedstat) over the runs / requests answered; cores busy:
  that CPU time / run time (the Worker's isolate runs on one thread); cores waiting: the time
  workerd's threads were runnable but waited for a CPU / run time (other processes' doing: the
  machine is shared); statuses: summed over the runs.
`);
console.log("| one request at a time (median of " + CPU_SAMPLES + ") | workerd CPU ms | round trip ms | statuses |");
console.log("|---|---:|---:|---|");
console.log(`| failed login, unknown name, new IP, 220,000 iterations | ${failed220k.cpu.toFixed(1)} | ${failed220k.wall.toFixed(1)} | ${statusText(failed220k.statuses)} |`);
console.log(`| the same at 1,000 iterations (same I/O) | ${failed1k.cpu.toFixed(1)} | ${failed1k.wall.toFixed(1)} | ${statusText(failed1k.statuses)} |`);
console.log(`| difference: 219,000 iterations, the hash a failure costs | ${(failed220k.cpu - failed1k.cpu).toFixed(1)} | ${(failed220k.wall - failed1k.wall).toFixed(1)} | |`);
console.log(`| refused while the budget's flag lives (429 before hashing) | ${refused.cpu.toFixed(1)} | ${refused.wall.toFixed(1)} | ${statusText(refused.statuses)} |`);

// What bounds an attacker: the per-IP window (failures), the budget; numbers from this run's CPU.
const hashS = failed220k.cpu / 1000;
const [ipLimit, ipWindow] = DEFAULTS.RATE_LIMIT_LOGIN_IP.split("/");
const windowMinutes = Number(ipWindow.slice(0, -1)) * { s: 1 / 60, m: 1, h: 60 }[ipWindow.at(-1)];
const perIpPerMinute = Number(ipLimit) / windowMinutes;
console.log(`
| attacker: failed logins with new names (${failed220k.cpu.toFixed(0)} ms of CPU each, measured above) | hashes per minute, at most | CPU-seconds per minute |
|---|---:|---:|`);
for (const ips of [1, 100, 10000]) {
  const h = ips * perIpPerMinute;
  console.log(`| ${ips.toLocaleString("en")} IP${ips > 1 ? "s" : ""}, RATE_LIMIT_LOGIN_IP=${DEFAULTS.RATE_LIMIT_LOGIN_IP} | ${h.toFixed(1)} | ${(h * hashS).toFixed(1)} |`);
}
// The failure that finds the budget spent has been hashed already: budget + 1 per flag lifetime.
for (const budget of [...new Set([BUDGET, 600])]) {
  console.log(`| any number of IPs, LOGIN_FAILURE_LIMITER ${budget}/60 s (per Cloudflare location) | ${budget + 1} + queued | ${((budget + 1) * hashS).toFixed(1)} + queued |`);
}
console.log(`
Per IP: RATE_LIMIT_LOGIN_IP counts failures in fixed windows, so an IP gets ${ipLimit} hashes per window (up to
twice that across a window boundary), then 429 before hashing. The account delay (LOGIN_FREE_FAILURES,
LOGIN_MAX_DELAY) bounds guesses at one account, not the hashing of a spray over made-up names (each
name is an account counter of its own). With the budget: ${"`"}queued${"`"} = the failures an isolate has
already queued for its CPU (past their KV read) when it learns the budget is spent; each isolate then
stops at once (its memo), whatever KV shows it. Per location: the binding counts per Cloudflare location.`);
