// What the HTTP benchmarks share (scripts/bench-http.mjs, scripts/load.mjs): the built Worker (build/)
// in local workerd through Miniflare (the same workerd binary as `wrangler dev`, without wrangler's
// dev proxy in front) at the DEFAULT password cost and the default limits, reachable on a loopback
// port; the workerd process behind it, for its CPU time; and autocannon as a promise.
import autocannon from "autocannon";
import { readdirSync, readFileSync } from "node:fs";
import { startWorker } from "../../tests/http/helpers.mjs";

/** The default hash cost (crates/core/src/password.rs) and the default limits
 * (crates/core/src/config/limits.rs), spelled out because the test harness switches limits off. */
export const DEFAULTS = {
  PASSWORD_ITERATIONS: "220000",
  RATE_LIMIT_LOGIN_IP: "10/15m",
  RATE_LIMIT_SIGNUP_IP: "5/1h",
  RATE_LIMIT_FORGOT_IP: "5/15m",
  RATE_LIMIT_FORGOT_ADDRESS: "3/1h",
  LOGIN_FREE_FAILURES: "5",
  LOGIN_MAX_DELAY: "15m",
  ENVIRONMENT: "production",
};

/** The Worker logs one line per request; these drop them so tables stay readable. */
const quiet = (stdout, stderr) => {
  stdout.resume();
  stderr.resume();
};

/** Starts the built Worker with `DEFAULTS` (overridden by `bindings`) and `ratelimits` (Miniflare's
 * option, as in tests/http/helpers.mjs). Returns the harness `w`, its loopback `base` URL and the
 * `pid` of the workerd process Miniflare started for it. */
export async function startBenchWorker({ bindings = {}, ratelimits } = {}) {
  const before = new Set(workerdPids());
  const w = await startWorker({ bindings: { ...DEFAULTS, ...bindings }, ratelimits, handleRuntimeStdio: quiet });
  const base = (await w.mf.ready).toString().replace(/\/$/, "");
  const pid = workerdPids().find((p) => !before.has(p));
  return { w, base, pid };
}

/** autocannon as a promise. */
export function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** CPU time of a process, all its threads, in ms, and the time its threads spent runnable but
 * waiting for a CPU (Linux schedstat: nanoseconds on CPU, nanoseconds on the run queue, per thread). */
export function sched(pid) {
  let cpu = 0;
  let wait = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [c, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
      cpu += c;
      wait += w;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { cpu: cpu / 1e6, wait: wait / 1e6 };
}

/** The workerd processes that are children of this process. */
export function workerdPids() {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return stat.includes("(workerd)") && Number(fields[1]) === process.pid;
      } catch {
        return false;
      }
    });
}

/** Warms an isolate: the first requests compile and tier up the wasm. */
export async function warm(base, count = 50) {
  for (let i = 0; i < count; i++) await fetch(`${base}/.well-known/jwks.json`).then((r) => r.arrayBuffer());
}
