// Rate limits from outside [NIST SP 800-63B §3.2.2; ASVS 6.1.1, 6.3.1; docs/security.md "Login and
// enumeration"]: fixed windows per client IP (login failures, signups, forgot-password) and per address
// (forgot-password), a progressive delay per account that never locks the owner out for long, the same
// treatment of unknown and known accounts, KV key names free of personal data, refusal of a window
// shorter than KV's 60 s minimum TTL, and the optional Cloudflare Rate Limiting binding.
//
// The client IP is the CF-Connecting-IP header, set per request. Fixed windows are aligned to their
// length (a "3/1m" window ends on the minute), so each test that counts in a window first makes sure it
// is not about to cross a boundary (see `roomInWindow`).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, uniqueName } from "./helpers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = "correct horse battery";
const WRONG = "wrong password entirely";

/** Waits, if needed, so that at least `needSeconds` are left in the current `windowSeconds` window. */
async function roomInWindow(windowSeconds, needSeconds) {
  const now = Date.now() / 1000;
  const left = windowSeconds - (now % windowSeconds);
  if (left < needSeconds) await sleep(Math.ceil((left + 0.25) * 1000));
}

/** Waits until just after the start of the next wall-clock second (the Worker counts in whole seconds). */
async function startOfSecond() {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

const ip = (worker, path, body, address) => worker.post(path, body, { "CF-Connecting-IP": address });
const login = (worker, username, password, address = "198.51.100.1") =>
  ip(worker, "/auth/login", { username, password }, address);

/** Asserts a 429 rate_limited problem with an integer Retry-After; returns the seconds. */
async function expectRateLimited(res) {
  await expectProblem(assert, res, 429, "rate_limited");
  const raw = res.headers.get("retry-after");
  assert.ok(raw !== null, "429 carries Retry-After");
  assert.match(raw, /^[0-9]+$/, `Retry-After is integer seconds, got ${raw}`);
  return Number(raw);
}

/** Asserts a 401 invalid_credentials; returns the raw body text. */
async function expectInvalidCredentials(res) {
  const text = await res.clone().text();
  await expectProblem(assert, res, 401, "invalid_credentials");
  return text;
}

// ---- per client IP ---------------------------------------------------------------------------------

describe("login failures per client IP (RATE_LIMIT_LOGIN_IP 3/1m)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_LOGIN_IP: "3/1m", LOGIN_FREE_FAILURES: "99" } });
  });
  after(async () => {
    await w?.close();
  });

  test("3 failures from IP A are 401; the 4th from A is 429 even with the right password; IP B still logs in", async () => {
    const user = await w.seedUser();
    await roomInWindow(60, 15);
    for (let i = 0; i < 3; i++) {
      await expectInvalidCredentials(await login(w, uniqueName("ghost"), WRONG, "203.0.113.10"));
    }
    const res = await login(w, user.username, user.password, "203.0.113.10");
    assert.equal(res.headers.get("content-type")?.startsWith("application/problem+json"), true);
    const retryAfter = await expectRateLimited(res);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} within the 60 s window`);

    const other = await login(w, user.username, user.password, "203.0.113.11");
    assert.equal(other.status, 200, await other.clone().text());
    assert.equal(typeof (await other.json()).access_token, "string");
  });

  test("successful logins are not counted: 5 in a row from one IP all succeed", async () => {
    const user = await w.seedUser();
    await roomInWindow(60, 15);
    for (let i = 0; i < 5; i++) {
      const res = await login(w, user.username, user.password, "203.0.113.20");
      assert.equal(res.status, 200, `login ${i + 1}: ${await res.clone().text()}`);
    }
  });

  test("the limit counts per IP, not per account: failures against one user from IP D do not block IP E", async () => {
    const user = await w.seedUser();
    await roomInWindow(60, 15);
    for (let i = 0; i < 3; i++) {
      await expectInvalidCredentials(await login(w, user.username, WRONG, "203.0.113.30"));
    }
    await expectRateLimited(await login(w, user.username, WRONG, "203.0.113.30"));
    const res = await login(w, user.username, user.password, "203.0.113.31");
    assert.equal(res.status, 200, await res.clone().text());
  });
});

// ---- per account: progressive delay ----------------------------------------------------------------

describe("progressive delay per account (LOGIN_FREE_FAILURES 3, IP limit off)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_LOGIN_IP: "off", LOGIN_FREE_FAILURES: "3" } });
  });
  after(async () => {
    await w?.close();
  });

  test("3 failures from 3 IPs are free; the next attempt (right password, new IP) waits; after Retry-After it works and resets the count", async () => {
    const user = await w.seedUser();
    // The first delay is 1 s counted from the last failure in whole seconds: start on a fresh second so
    // the 4th attempt lands within it.
    await startOfSecond();
    for (const [i, address] of ["192.0.2.1", "192.0.2.2", "192.0.2.3"].entries()) {
      const res = await login(w, user.username, WRONG, address);
      await expectInvalidCredentials(res).catch((e) => {
        throw new Error(`failure ${i + 1}: ${e.message}`);
      });
    }
    const retryAfter = await expectRateLimited(await login(w, user.username, user.password, "192.0.2.4"));
    assert.ok(retryAfter >= 1, `Retry-After ${retryAfter} >= 1`);
    assert.ok(retryAfter <= 2, `the first delay is short (1 s), got ${retryAfter}`);

    await sleep(retryAfter * 1000 + 100);
    const ok = await login(w, user.username, user.password, "192.0.2.5");
    assert.equal(ok.status, 200, await ok.clone().text());

    // The success cleared the failures: 3 more wrong passwords are free again.
    for (let i = 0; i < 3; i++) {
      const res = await login(w, user.username, WRONG, `192.0.2.${10 + i}`);
      assert.equal(res.status, 401, `failure ${i + 1} after the reset: ${await res.clone().text()}`);
    }
  });

  test("a denied attempt is not itself counted as a failure, and the delay doubles per further failure", async () => {
    const user = await w.seedUser();
    await startOfSecond();
    for (let i = 0; i < 3; i++) await expectInvalidCredentials(await login(w, user.username, WRONG));
    const first = await expectRateLimited(await login(w, user.username, WRONG));
    assert.ok(first >= 1 && first <= 2, `first delay ${first}`);
    await sleep(first * 1000 + 100);
    // The 4th real failure: the next wait is 2 s.
    await expectInvalidCredentials(await login(w, user.username, WRONG));
    const second = await expectRateLimited(await login(w, user.username, WRONG));
    assert.ok(second >= 1 && second <= 2, `second delay ${second} (2 s from the last failure)`);
  });
});

describe("the owner is never locked out for long (LOGIN_MAX_DELAY 60, LOGIN_FREE_FAILURES 3)", () => {
  let w;
  before(async () => {
    w = await startWorker({
      bindings: { RATE_LIMIT_LOGIN_IP: "off", LOGIN_FREE_FAILURES: "3", LOGIN_MAX_DELAY: "60" },
    });
  });
  after(async () => {
    await w?.close();
  });

  test("after 10 consecutive failures the wait is at most 60 s", async () => {
    const user = await w.seedUser();
    // Reaching 10 real failures would take 1+2+4+8+16+32 s of waiting; instead make one real failure,
    // then set the account's record (README "KV keys": {"n": failures, "t": last failure}) to 10
    // failures just now.
    await expectInvalidCredentials(await login(w, user.username, WRONG));
    const { keys } = await w.kv.list();
    const accountKeys = keys.filter((k) => k.name.startsWith("rl:account:"));
    assert.equal(accountKeys.length, 1, `one account record in ${JSON.stringify(keys)}`);
    const now = Math.floor(Date.now() / 1000);
    await w.kv.put(accountKeys[0].name, JSON.stringify({ n: 10, t: now }), { expirationTtl: 3600 });

    const retryAfter = await expectRateLimited(await login(w, user.username, user.password));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} is within the 60 s cap`);
    assert.ok(retryAfter >= 55, `the capped delay is in force (about 60 s), got ${retryAfter}`);
  });
});

describe("a low cap, observed with real failures only (LOGIN_MAX_DELAY 2, LOGIN_FREE_FAILURES 1)", () => {
  let w;
  before(async () => {
    w = await startWorker({
      bindings: { RATE_LIMIT_LOGIN_IP: "off", LOGIN_FREE_FAILURES: "1", LOGIN_MAX_DELAY: "2" },
    });
  });
  after(async () => {
    await w?.close();
  });

  test("every wait stays within the cap, however many failures", async () => {
    const user = await w.seedUser();
    await startOfSecond();
    await expectInvalidCredentials(await login(w, user.username, WRONG));
    for (let i = 0; i < 4; i++) {
      const retryAfter = await expectRateLimited(await login(w, user.username, WRONG));
      assert.ok(retryAfter >= 1 && retryAfter <= 2, `wait ${i + 1}: ${retryAfter} s within the 2 s cap`);
      await sleep(retryAfter * 1000 + 100);
      await expectInvalidCredentials(await login(w, user.username, WRONG));
    }
    const retryAfter = await expectRateLimited(await login(w, user.username, user.password));
    await sleep(retryAfter * 1000 + 100);
    const ok = await login(w, user.username, user.password);
    assert.equal(ok.status, 200, await ok.clone().text());
  });
});

// ---- unknown and known accounts look the same ------------------------------------------------------

describe("unknown user and wrong password are limited alike (LOGIN_FREE_FAILURES 2)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_LOGIN_IP: "off", LOGIN_FREE_FAILURES: "2" } });
  });
  after(async () => {
    await w?.close();
  });

  test("two failures then 429, for an unknown username as for a known one; the 401 bodies are byte-identical", async () => {
    const known = await w.seedUser();
    const unknown = uniqueName("nobody");
    await startOfSecond();
    const bodies = { known: [], unknown: [] };
    for (let i = 0; i < 2; i++) {
      bodies.known.push(await expectInvalidCredentials(await login(w, known.username, WRONG)));
      bodies.unknown.push(await expectInvalidCredentials(await login(w, unknown, WRONG)));
    }
    const knownLimited = await login(w, known.username, known.password);
    const unknownLimited = await login(w, unknown, WRONG);
    const ra1 = await expectRateLimited(knownLimited);
    const ra2 = await expectRateLimited(unknownLimited);
    assert.ok(ra1 >= 1 && ra2 >= 1);
    for (const b of [...bodies.known, ...bodies.unknown]) assert.equal(b, bodies.known[0], "byte-identical 401 bodies");
  });

  test("unknown user and wrong password give the same 401 headers too (apart from the request id and the D1 bookmark's value)", async () => {
    const known = await w.seedUser();
    const a = await login(w, known.username, WRONG, "192.0.2.77");
    const b = await login(w, uniqueName("nobody"), WRONG, "192.0.2.78");
    // Both carry a D1 bookmark (both read D1); its value is the database's position, which every
    // request moves on (tests/http/replicas.test.mjs).
    for (const res of [a, b]) assert.match(res.headers.get("x-d1-bookmark") ?? "", /^[0-9a-f-]+$/);
    const strip = (res) =>
      [...res.headers]
        .filter(([k]) => !["x-request-id", "date", "x-d1-bookmark"].includes(k.toLowerCase()))
        .sort();
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.deepEqual(strip(a), strip(b));
    assert.equal(await a.text(), await b.text());
  });
});

describe("KV footprint of a login (RATE_LIMIT_LOGIN_IP 10/15m)", () => {
  const bindings = { RATE_LIMIT_LOGIN_IP: "10/15m", LOGIN_FREE_FAILURES: "5" };
  const ADDRESS = "203.0.113.99";
  let wKnown;
  let wUnknown;
  before(async () => {
    [wKnown, wUnknown] = await Promise.all([startWorker({ bindings }), startWorker({ bindings })]);
  });
  after(async () => {
    await Promise.all([wKnown?.close(), wUnknown?.close()]);
  });

  const names = async (worker) => (await worker.kv.list()).keys.map((k) => k.name).sort();

  test("one failed login writes the same number of keys for a known and an unknown user, none naming the user, email or IP", async () => {
    const email = `${uniqueName("mail")}@example.com`;
    const known = await wKnown.seedUser({ email });
    const unknownName = uniqueName("nobody");
    assert.deepEqual(await names(wKnown), []);
    assert.deepEqual(await names(wUnknown), []);

    await expectInvalidCredentials(await login(wKnown, known.username, WRONG, ADDRESS));
    await expectInvalidCredentials(await login(wUnknown, unknownName, WRONG, ADDRESS));
    const knownKeys = await names(wKnown);
    const unknownKeys = await names(wUnknown);
    assert.ok(knownKeys.length > 0, "a failure is recorded");
    assert.equal(knownKeys.length, unknownKeys.length, `${JSON.stringify(knownKeys)} vs ${JSON.stringify(unknownKeys)}`);

    // And by email address, on the known worker.
    await expectInvalidCredentials(await ip(wKnown, "/auth/login", { email, password: WRONG }, ADDRESS));
    const all = [...(await names(wKnown)), ...unknownKeys];
    for (const name of all) {
      const lower = name.toLowerCase();
      for (const secret of [known.username, unknownName, email, email.split("@")[0], ADDRESS]) {
        assert.equal(lower.includes(secret.toLowerCase()), false, `KV key ${name} contains ${secret}`);
      }
      assert.equal(name.includes(Buffer.from(ADDRESS).toString("base64")), false, `KV key ${name} encodes the IP`);
    }
  });

  test("a successful login (no earlier failures) writes no KV key", async () => {
    const user = await wKnown.seedUser();
    const before = await names(wKnown);
    const res = await login(wKnown, user.username, user.password, "203.0.113.98");
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await names(wKnown), before);
  });
});

// ---- signup and forgot-password --------------------------------------------------------------------

describe("signups per client IP (RATE_LIMIT_SIGNUP_IP 2/1h)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_SIGNUP_IP: "2/1h" } });
  });
  after(async () => {
    await w?.close();
  });

  const signup = (address) =>
    ip(w, "/auth/signup", { username: uniqueName("signup"), password: "violet tangerine harbour" }, address);

  test("2 signups from one IP are 201, the third is 429; another IP still signs up", async () => {
    await roomInWindow(3600, 20);
    for (let i = 0; i < 2; i++) {
      const res = await signup("198.51.100.50");
      assert.equal(res.status, 201, `signup ${i + 1}: ${await res.clone().text()}`);
    }
    const retryAfter = await expectRateLimited(await signup("198.51.100.50"));
    assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    const other = await signup("198.51.100.51");
    assert.equal(other.status, 201, await other.clone().text());
  });
});

describe("forgot-password per IP (2/15m) and per address (2/1h)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_FORGOT_IP: "2/15m", RATE_LIMIT_FORGOT_ADDRESS: "2/1h" } });
  });
  after(async () => {
    await w?.close();
  });

  const forgot = (email, address) => ip(w, "/auth/forgot-password", { email }, address);

  test("the third request from one IP (different addresses) is 429", async () => {
    await roomInWindow(900, 20);
    for (let i = 0; i < 2; i++) {
      const res = await forgot(`${uniqueName("fip")}@example.com`, "198.51.100.60");
      assert.equal(res.status, 202, `request ${i + 1}: ${await res.clone().text()}`);
    }
    await expectRateLimited(await forgot(`${uniqueName("fip")}@example.com`, "198.51.100.60"));
    const other = await forgot(`${uniqueName("fip")}@example.com`, "198.51.100.61");
    assert.equal(other.status, 202, await other.clone().text());
  });

  test("the third request for one address (from different IPs) is 429, for a known and an unknown address alike", async () => {
    await roomInWindow(3600, 20);
    const knownEmail = `${uniqueName("known")}@example.com`;
    await w.seedUser({ email: knownEmail });
    const unknownEmail = `${uniqueName("unknown")}@example.com`;
    const statuses = {};
    let n = 0;
    for (const [label, email] of [
      ["known", knownEmail],
      ["unknown", unknownEmail],
    ]) {
      statuses[label] = [];
      for (let i = 0; i < 3; i++) {
        n += 1;
        const res = await forgot(email, `198.51.100.${100 + n}`);
        statuses[label].push(res.status);
        if (i === 2) await expectRateLimited(res);
        else assert.equal(res.status, 202, `${label} request ${i + 1}: ${await res.clone().text()}`);
      }
    }
    assert.deepEqual(statuses.known, [202, 202, 429]);
    assert.deepEqual(statuses.unknown, statuses.known);
  });

  test("the address limit ignores case (FOO@example.com is foo@example.com)", async () => {
    await roomInWindow(3600, 20);
    const local = uniqueName("case");
    assert.equal((await forgot(`${local}@example.com`, "198.51.100.201")).status, 202);
    assert.equal((await forgot(`${local.toUpperCase()}@EXAMPLE.COM`, "198.51.100.202")).status, 202);
    await expectRateLimited(await forgot(`${local}@Example.com`, "198.51.100.203"));
  });
});

// ---- configuration ---------------------------------------------------------------------------------

describe("a window shorter than 60 s is a configuration error (RATE_LIMIT_LOGIN_IP 10/30)", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { RATE_LIMIT_LOGIN_IP: "10/30" } });
  });
  after(async () => {
    await w?.close();
  });

  test("every request is 503", async () => {
    const requests = [
      () => w.fetch("/health"),
      () => w.fetch("/.well-known/jwks.json"),
      () => w.fetch("/auth/openapi.json"),
      () => w.fetch("/auth/profile"),
      () => w.post("/auth/login", { username: "someone", password: PASSWORD }),
      () => w.post("/auth/signup", { username: uniqueName(), password: "violet tangerine harbour" }),
      () => w.fetch("/no/such/path"),
    ];
    for (const request of requests) {
      const res = await request();
      const text = await res.text();
      assert.equal(res.status, 503, `status of ${text}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
      assert.equal(text.includes("RATE_LIMIT_LOGIN_IP"), false, "no configuration detail leaks");
    }
  });
});

for (const [name, value] of [
  ["RATE_LIMIT_SIGNUP_IP", "0/1h"],
  ["RATE_LIMIT_FORGOT_IP", "five per minute"],
  ["LOGIN_FREE_FAILURES", "100"],
]) {
  test(`an invalid ${name} (${JSON.stringify(value)}) makes every request 503`, async () => {
    const w = await startWorker({ bindings: { [name]: value } });
    try {
      assert.equal((await w.fetch("/health")).status, 503);
      assert.equal((await w.post("/auth/login", { username: "someone", password: PASSWORD })).status, 503);
    } finally {
      await w.close();
    }
  });
}

// ---- the Cloudflare Rate Limiting binding ----------------------------------------------------------

describe("the AUTH_RATE_LIMITER binding (limit 2 per 60 s), with every KV limit off", () => {
  let w;
  before(async () => {
    w = await startWorker({
      ratelimits: { AUTH_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 2, period: 60 } } },
    });
  });
  after(async () => {
    await w?.close();
  });

  test("the third login attempt from one IP is 429, even with the right password; another IP is not affected", async () => {
    const user = await w.seedUser();
    await roomInWindow(60, 15);
    for (let i = 0; i < 2; i++) {
      const res = await login(w, user.username, user.password, "192.0.2.200");
      assert.equal(res.status, 200, `attempt ${i + 1}: ${await res.clone().text()}`);
    }
    const retryAfter = await expectRateLimited(await login(w, user.username, user.password, "192.0.2.200"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const other = await login(w, user.username, user.password, "192.0.2.201");
    assert.equal(other.status, 200, await other.clone().text());
  });
});
