// The optional global failed-login budget (docs/security.md "Login and enumeration", rule L9): the
// LOGIN_FAILURE_LIMITER Rate Limiting binding counts failed password logins, whatever their IP; the
// failure that finds it spent writes the KV flag `rl:global-failed-login` (60 s), and while the flag
// lives every password login answers 429 before any hashing: a correct password is refused too, and
// nothing more is counted. The isolate that found the budget spent also remembers it for as long (a
// memo checked right before hashing). Without the binding the flag is never read.
//
// The client IP is the CF-Connecting-IP header, rotated per request as an attacker would. Miniflare's
// rate limiter counts in windows aligned to the period, so the tests first make sure one is not about
// to end.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, expectProblem } from "./helpers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FLAG = "rl:global-failed-login";
const WRONG = "wrong password entirely";

async function roomInWindow(windowSeconds, needSeconds) {
  const left = windowSeconds - ((Date.now() / 1000) % windowSeconds);
  if (left < needSeconds) await sleep(Math.ceil((left + 0.25) * 1000));
}

let nextIp = 1;
/** A login from an IP no request used before. */
const login = (worker, username, password) =>
  worker.post("/auth/login", { username, password }, { "CF-Connecting-IP": `203.0.113.${nextIp++}` });

/** The KV key of an account's failure record (kv_keys::account_failures: 96 bits of SHA-256, hex). */
const accountKey = (userId) => `rl:account:${createHash("sha256").update(`id:${userId}`).digest("hex").slice(0, 24)}`;

describe("the LOGIN_FAILURE_LIMITER binding (2 failures per 60 s), every KV limit off", () => {
  let w;
  before(async () => {
    w = await startWorker({
      ratelimits: { LOGIN_FAILURE_LIMITER: { namespace_id: "1002", simple: { limit: 2, period: 60 } } },
    });
  });
  after(async () => {
    await w?.close();
  });

  test("the third failure, from a third IP, writes the flag; then even the right password is 429 before hashing", async () => {
    const user = await w.seedUser();
    await roomInWindow(60, 20);
    for (let i = 0; i < 3; i++) {
      const res = await login(w, user.username, WRONG);
      // The third is over the budget, but its hash was paid: it gets its true answer.
      await expectProblem(assert, res, 401, "invalid_credentials");
      assert.equal(await w.kv.get(FLAG), i < 2 ? null : "1", `flag after failure ${i + 1}`);
    }
    const failures = JSON.parse(await w.kv.get(accountKey(user.id)));
    assert.equal(failures.n, 3, "each failure counted per account");

    // The right password, a wrong one and an unknown user, each from a new IP: all refused.
    for (const [name, password] of [[user.username, user.password], [user.username, WRONG], ["nobody-here", WRONG]]) {
      const res = await login(w, name, password);
      await expectProblem(assert, res, 429, "rate_limited");
      assert.equal(res.headers.get("retry-after"), "60");
    }
    // Refused before the password was looked at: no failure counted, no login recorded.
    assert.equal(JSON.parse(await w.kv.get(accountKey(user.id))).n, 3);
    const row = await w.db.prepare("SELECT last_login_at FROM users WHERE id = ?1").bind(user.id).first();
    assert.equal(row.last_login_at, null);

    // With the KV flag gone, the isolate that found the budget spent still refuses, before hashing,
    // until the flag would have expired: its memo (for logins already past their KV read in a burst).
    await w.kv.delete(FLAG);
    await expectProblem(assert, await login(w, user.username, user.password), 429, "rate_limited");
    assert.equal(JSON.parse(await w.kv.get(accountKey(user.id))).n, 3);
  });
});

describe("without the LOGIN_FAILURE_LIMITER binding", () => {
  let w;
  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.close();
  });

  test("a flag left in KV is not read and failures write none", async () => {
    const user = await w.seedUser();
    await w.kv.put(FLAG, "1", { expirationTtl: 60 });
    const ok = await login(w, user.username, user.password);
    assert.equal(ok.status, 200, await ok.clone().text());
    await w.kv.delete(FLAG);
    for (let i = 0; i < 4; i++) await expectProblem(assert, await login(w, user.username, WRONG), 401, "invalid_credentials");
    assert.equal(await w.kv.get(FLAG), null);
  });
});
