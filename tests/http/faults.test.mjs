// Storage that fails, from outside: the Worker's D1 and KV bindings are wrapped in switches
// (tests/http/faults-entry.mjs) that make them fail the way the platform does. Whatever fails, every
// answer is a problem (503 for storage), never a raw 500 or a hang; a logout is done once D1 has it,
// D1 refuses the token where D1 is read, and once KV takes writes again (the next request, or the
// scheduled handler) no revoked token works anywhere. /health tells the truth, and names the failing
// part to an admin only.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { expectProblem, poll, startWorker } from "./helpers.mjs";

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const sidOf = (tokens) => tokens.refresh_token.split(".")[1];

/** The outbox row of a session, or null. */
const outboxRow = (worker, sid) =>
  worker.db.prepare("SELECT * FROM revocation_outbox WHERE kind = 'session' AND subject = ?1").bind(sid).first();

/** A 503 problem that names no part of the service (what anyone but an admin gets). */
async function expectAnonymous503(res) {
  const body = await expectProblem(assert, res, 503, "service_unavailable");
  assert.equal(body.failing, undefined);
  assert.equal(body.checks, undefined);
  for (const part of ["kv", "d1", "KV", "D1", "schema", "outbox", "migration"]) {
    assert.equal(JSON.stringify(body).includes(part), false, `no ${part} in ${JSON.stringify(body)}`);
  }
  return body;
}

/** A 503 problem for an admin, naming exactly `parts` as failing. */
async function expectAdmin503(res, parts) {
  const body = await expectProblem(assert, res, 503, "service_unavailable");
  assert.deepEqual([...body.failing].sort(), [...parts].sort(), JSON.stringify(body));
  for (const part of parts) assert.notEqual(body.checks[part], "ok");
  return body;
}

describe("KV refusing writes", () => {
  let worker;
  let admin;
  before(async () => {
    worker = await startWorker({ faults: true });
    admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
  });
  after(async () => {
    await worker.faults({ kv: "ok", d1: "ok" });
    await worker.close();
  });

  test("logout is 204 once D1 has it; D1 refuses the token at once; the scheduled run gets it into KV", async () => {
    const { tokens } = await worker.userWithToken();
    const sid = sidOf(tokens);
    await worker.faults({ kv: "writes" });
    assert.equal((await worker.post("/auth/logout", {}, bearer(tokens.access_token))).status, 204);
    const revoked = await worker.db.prepare("SELECT revoked_at FROM sessions WHERE id = ?1").bind(sid).first();
    assert.notEqual(revoked.revoked_at, null, "D1 has the revocation");
    assert.ok(await poll(async () => (await outboxRow(worker, sid))?.attempts >= 1), "the failed write is counted");
    assert.equal(await worker.kv.get(`revoked-session:${sid}`), null, "KV does not have it");
    // Everywhere D1 is read, the token is refused already.
    for (const path of ["/auth/profile", "/auth/me", "/auth/sessions"]) {
      await expectProblem(assert, await worker.fetch(path, { headers: bearer(tokens.access_token) }), 401, "token_invalid");
    }
    await expectProblem(assert, await worker.post("/auth/refresh", { refresh_token: tokens.refresh_token }), 401, "refresh_token_invalid");
    // /health says so: to anyone as a bare 503, to the admin by name.
    await expectAnonymous503(await worker.fetch("/health"));
    const body = await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), [
      "revocation_outbox",
      "kv_writes",
    ]);
    assert.match(body.checks.revocation_outbox, /wait/);
    assert.equal(body.checks.kv_read, "ok");

    await worker.faults({ kv: "ok" });
    const run = await worker.scheduled();
    assert.equal(run.outcome, "ok");
    assert.equal(await worker.kv.get(`revoked-session:${sid}`), "1");
    assert.equal(await outboxRow(worker, sid), null, "delivered rows leave the outbox");
    // Now KV refuses the token too, also where only KV is asked (logout authenticates from KV alone).
    await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(tokens.access_token)), 401, "token_invalid");
    const healthy = await worker.fetch("/health");
    assert.equal(healthy.status, 200);
    assert.deepEqual(await healthy.json(), { status: "ok" });
  });

  test("logout-all while KV refuses writes: every session refused where D1 is read, all in KV after recovery", async () => {
    const { user, tokens: first } = await worker.userWithToken();
    const second = (await worker.login(user.username, user.password)).body;
    await worker.faults({ kv: "writes" });
    assert.equal((await worker.post("/auth/logout-all", {}, bearer(first.access_token))).status, 204);
    for (const t of [first, second]) {
      await expectProblem(assert, await worker.fetch("/auth/profile", { headers: bearer(t.access_token) }), 401, "token_invalid");
    }
    const rows = await worker.db.prepare("SELECT kind, subject FROM revocation_outbox WHERE subject IN (?1, ?2, ?3)")
      .bind(user.id, sidOf(first), sidOf(second)).all();
    assert.equal(rows.results.length, 3, JSON.stringify(rows.results));
    await worker.faults({ kv: "ok" });
    assert.equal((await worker.scheduled()).outcome, "ok");
    assert.ok(Number(await worker.kv.get(`user-not-before:${user.id}`)) > 0);
    for (const t of [first, second]) {
      await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(t.access_token)), 401, "token_invalid");
    }
  });

  test("an admin's disable while KV refuses writes: the user's token is refused where D1 is read", async () => {
    const { user, tokens } = await worker.userWithToken();
    await worker.faults({ kv: "writes" });
    const res = await worker.fetch(`/auth/admin/users/${user.id}`, {
      method: "PATCH",
      headers: { ...bearer(admin), "Content-Type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    assert.equal(res.status, 200, await res.text());
    await expectProblem(assert, await worker.fetch("/auth/profile", { headers: bearer(tokens.access_token) }), 401, "token_invalid");
    await worker.faults({ kv: "ok" });
    await worker.scheduled();
    await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(tokens.access_token)), 401, "token_invalid");
  });

  test("a revoked admin token is refused by the admin API before KV has the revocation", async () => {
    const other = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
    await worker.faults({ kv: "writes" });
    assert.equal((await worker.post("/auth/logout", {}, bearer(other))).status, 204);
    await expectProblem(assert, await worker.fetch("/auth/admin/users", { headers: bearer(other) }), 401, "token_invalid");
    await worker.faults({ kv: "ok" });
    await worker.scheduled();
  });
});

describe("after KV recovers, the next request delivers the outbox", () => {
  test("no scheduled run needed: a request after recovery flushes it after its response", async () => {
    const worker = await startWorker({ faults: true });
    try {
      const { tokens } = await worker.userWithToken();
      const sid = sidOf(tokens);
      await worker.faults({ kv: "writes" });
      assert.equal((await worker.post("/auth/logout", {}, bearer(tokens.access_token))).status, 204);
      assert.ok(await poll(async () => (await outboxRow(worker, sid))?.attempts >= 1));
      await worker.faults({ kv: "ok" });
      assert.equal((await worker.fetch("/health")).status, 503, "the row still waits");
      assert.ok(await poll(async () => (await worker.kv.get(`revoked-session:${sid}`)) === "1"), "delivered");
      assert.ok(await poll(async () => (await outboxRow(worker, sid)) === null), "and forgotten");
      await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(tokens.access_token)), 401, "token_invalid");
    } finally {
      await worker.close();
    }
  });
});

describe("KV down", () => {
  let worker;
  let admin;
  let user;
  let tokens;
  before(async () => {
    // With the login limit on, as in production: a login reads its counters from KV.
    worker = await startWorker({ faults: true, bindings: { RATE_LIMIT_LOGIN_IP: "10/15m" } });
    admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
    ({ user, tokens } = await worker.userWithToken());
    await worker.faults({ kv: "down" });
  });
  after(() => worker.close());

  test("a login is a 503 problem: the rate limit fails closed", async () => {
    const res = await worker.post("/auth/login", { username: user.username, password: user.password });
    await expectProblem(assert, res, 503, "service_unavailable");
  });

  test("authenticated requests are 503 problems, never a 500 or a hang", async () => {
    for (const [method, path] of [["GET", "/auth/profile"], ["GET", "/auth/sessions"], ["POST", "/auth/logout"], ["POST", "/auth/logout-all"]]) {
      const res = await worker.fetch(path, { method, headers: bearer(tokens.access_token) });
      await expectProblem(assert, res, 503, "service_unavailable");
    }
  });

  test("/health is 503: a bare problem for anyone, kv_read named for the admin", async () => {
    await expectAnonymous503(await worker.fetch("/health"));
    await expectAnonymous503(await worker.fetch("/health", { headers: bearer(tokens.access_token) }));
    await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["kv_read"]);
  });
});

describe("D1 read-only", () => {
  let worker;
  let admin;
  let user;
  let tokens;
  before(async () => {
    worker = await startWorker({ faults: true });
    admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
    ({ user, tokens } = await worker.userWithToken());
    await worker.faults({ d1: "readonly" });
  });
  after(() => worker.close());

  test("login, refresh and logout are 503 problems; reads still work", async () => {
    await expectProblem(assert, await worker.post("/auth/login", { username: user.username, password: user.password }), 503, "service_unavailable");
    await expectProblem(assert, await worker.post("/auth/refresh", { refresh_token: tokens.refresh_token }), 503, "service_unavailable");
    await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(tokens.access_token)), 503, "service_unavailable");
    assert.equal((await worker.fetch("/auth/profile", { headers: bearer(tokens.access_token) })).status, 200);
  });

  test("/health is 503 after the failed writes, d1_writes named for the admin; the deep check names d1_write", async () => {
    await expectAnonymous503(await worker.fetch("/health"));
    await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1_writes"]);
    await expectAdmin503(await worker.fetch("/health?deep=1", { headers: bearer(admin) }), ["d1_write", "d1_writes"]);
  });

  test("once D1 takes writes again, the next write clears it", async () => {
    await worker.faults({ d1: "ok" });
    assert.equal((await worker.post("/auth/login", { username: user.username, password: user.password })).status, 200);
    assert.equal((await worker.fetch("/health")).status, 200);
    await worker.faults({ d1: "readonly" });
  });

  test("the deep check is for admins only", async () => {
    await expectProblem(assert, await worker.fetch("/health?deep=1"), 401, "token_missing");
    await expectProblem(assert, await worker.fetch("/health?deep=1", { headers: bearer(tokens.access_token) }), 403, "forbidden");
  });
});

describe("D1 down", () => {
  test("every endpoint is a 503 problem; /health names d1 for the admin only", async () => {
    const worker = await startWorker({ faults: true });
    try {
      const admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
      const { user, tokens } = await worker.userWithToken();
      await worker.faults({ d1: "down" });
      await expectProblem(assert, await worker.post("/auth/login", { username: user.username, password: user.password }), 503, "service_unavailable");
      await expectProblem(assert, await worker.fetch("/auth/profile", { headers: bearer(tokens.access_token) }), 503, "service_unavailable");
      await expectProblem(assert, await worker.post("/auth/logout", {}, bearer(tokens.access_token)), 503, "service_unavailable");
      await expectAnonymous503(await worker.fetch("/health"));
      await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1", "d1_writes"]);
    } finally {
      await worker.close();
    }
  });
});

describe("the D1 schema", () => {
  test("a healthy deployment: the admin sees every part ok, the deep check writes one row and one key", async () => {
    const worker = await startWorker();
    try {
      const admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
      const res = await worker.fetch("/health?deep=1", { headers: bearer(admin) });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.status, "ok");
      for (const part of ["d1", "d1_schema", "d1_tables", "revocation_outbox", "kv_read", "d1_write", "kv_write"]) {
        assert.equal(body.checks[part], "ok", part);
      }
      const row = await worker.db.prepare("SELECT nonce FROM health_probe WHERE id = 1").first();
      assert.match(row.nonce, /^[A-Za-z0-9_-]{16,}$/);
      assert.equal(await worker.kv.get(`health:write:${row.nonce}`), row.nonce);
    } finally {
      await worker.close();
    }
  });

  test("no migrations applied: 503, d1_schema named for the admin only", async () => {
    // An admin's token from another deployment with the same secret: this D1 has no tables to check
    // its session against, so its signature decides (and KV knows no revocation of it).
    const source = await startWorker();
    const admin = (await source.userWithToken({ role: "admin" })).tokens.access_token;
    await source.close();
    const worker = await startWorker({ migrations: false });
    try {
      await expectAnonymous503(await worker.fetch("/health"));
      const body = await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1_schema"]);
      assert.match(body.checks.d1_schema, /d1_migrations/);
      assert.equal(body.checks.kv_read, "ok");
    } finally {
      await worker.close();
    }
  });

  test("a migration missing from the record (the schema is behind): d1_schema names both migrations", async () => {
    const worker = await startWorker();
    try {
      const admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
      await worker.db.prepare("DELETE FROM d1_migrations WHERE name = (SELECT MAX(name) FROM d1_migrations)").run();
      await expectAnonymous503(await worker.fetch("/health"));
      const body = await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1_schema"]);
      assert.match(body.checks.d1_schema, /0009_audit_events\.sql/);
      await worker.db.prepare("DROP TABLE d1_migrations").run();
      const gone = await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1_schema"]);
      assert.match(gone.checks.d1_schema, /d1_migrations/);
    } finally {
      await worker.close();
    }
  });

  test("a table gone (no such table: users) although the record says current: 503, d1_tables", async () => {
    const worker = await startWorker();
    try {
      const admin = (await worker.userWithToken({ role: "admin" })).tokens.access_token;
      await worker.db.prepare("DROP TABLE users").run();
      await expectAnonymous503(await worker.fetch("/health"));
      // D1 cannot read the admin's session (no users table to join), so the token's signature decides.
      const body = await expectAdmin503(await worker.fetch("/health", { headers: bearer(admin) }), ["d1_tables"]);
      assert.equal(body.checks.d1_schema, "ok");
    } finally {
      await worker.close();
    }
  });
});
