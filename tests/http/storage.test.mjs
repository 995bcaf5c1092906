// A D1 row the Worker cannot read as the schema says (a column of another type, a session seed that is
// not base64url, a negative generation) is a 503 problem, like every other storage failure: never a
// 500, never a silent default (an empty seed or generation 0 would mint refresh tokens from nothing),
// and never a leak of SQL or column names.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { expectProblem, startWorker } from "./helpers.mjs";

describe("rows that do not match the schema", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(() => worker.close());

  async function expectUnavailable(res) {
    const body = await expectProblem(assert, res, 503, "service_unavailable");
    const text = JSON.stringify(body);
    for (const leak of ["seed", "generation", "sessions", "users", "SELECT", "D1", "column"]) {
      assert.equal(text.includes(leak), false, `the problem must not mention ${leak}`);
    }
  }

  test("control: an intact session refreshes", async () => {
    const { tokens } = await worker.userWithToken();
    const res = await worker.post("/auth/refresh", { refresh_token: tokens.refresh_token });
    assert.equal(res.status, 200);
  });

  test("a session seed that is not base64url: refresh is 503, not a token from an empty seed", async () => {
    const { tokens } = await worker.userWithToken();
    const sid = tokens.refresh_token.split(".")[1];
    await worker.db.prepare("UPDATE sessions SET seed = '***not base64***' WHERE id = ?1").bind(sid).run();
    await expectUnavailable(await worker.post("/auth/refresh", { refresh_token: tokens.refresh_token }));
  });

  test("a negative generation: refresh is 503, not generation 0", async () => {
    const { tokens } = await worker.userWithToken();
    const sid = tokens.refresh_token.split(".")[1];
    await worker.db.prepare("UPDATE sessions SET generation = -1 WHERE id = ?1").bind(sid).run();
    await expectUnavailable(await worker.post("/auth/refresh", { refresh_token: tokens.refresh_token }));
  });

  test("a text where an integer column is read: profile is 503", async () => {
    const { user, tokens } = await worker.userWithToken();
    await worker.db.prepare("UPDATE users SET created_at = 'yesterday' WHERE id = ?1").bind(user.id).run();
    const res = await worker.fetch("/auth/profile", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    await expectUnavailable(res);
  });

  test("a text in a session's integer column: sessions list is 503", async () => {
    const { tokens } = await worker.userWithToken();
    const sid = tokens.refresh_token.split(".")[1];
    await worker.db.prepare("UPDATE sessions SET rotated_at = 'soon' WHERE id = ?1").bind(sid).run();
    const res = await worker.fetch("/auth/sessions", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    await expectUnavailable(res);
  });

  test("a missing table: login is 503", async () => {
    const other = await startWorker();
    try {
      const seeded = await other.seedUser();
      await other.db.prepare("DROP TABLE sessions").run();
      await expectUnavailable(await other.post("/auth/login", { username: seeded.username, password: seeded.password }));
    } finally {
      await other.close();
    }
  });
});

describe("user numbers (the integer ids the compatibility profiles show)", () => {
  test("are assigned in creation order, to every writer's inserts, and never reused after a delete", async () => {
    const worker = await startWorker();
    try {
      const number = async (id) => (await worker.db.prepare("SELECT number FROM users WHERE id = ?1").bind(id).first()).number;
      const a = await worker.seedUser();
      const b = await worker.seedUser();
      assert.equal(await number(b.id), (await number(a.id)) + 1);
      await worker.db.prepare("DELETE FROM users WHERE id = ?1").bind(b.id).run();
      // Through the Worker's own insert (signup), not the test's.
      const res = await worker.post("/auth/signup", { username: "numbered", password: "a fresh correct horse" });
      assert.equal(res.status, 201);
      const c = await worker.db.prepare("SELECT id, number FROM users WHERE username = 'numbered'").first();
      assert.equal(c.number, (await number(a.id)) + 2, "the deleted user's number is not handed out again");
      // A row inserted with an explicit number (a hand-made copy) is never collided with later.
      await worker.db
        .prepare("INSERT INTO users (id, username, password_hash, number) VALUES ('copied', 'copied-user', 'x', ?1)")
        .bind(c.number + 5)
        .run();
      const d = await worker.seedUser();
      assert.equal(await number(d.id), c.number + 6);
    } finally {
      await worker.close();
    }
  });
});
