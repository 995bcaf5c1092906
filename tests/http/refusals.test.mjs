// Refusals that must not depend on what else a request got wrong.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.close();
});

test("a caller without the admin role gets 403 on admin writes before its body is even read", async () => {
  const { tokens } = await w.userWithToken({ role: "demo" });
  const auth = { Authorization: `Bearer ${tokens.access_token}` };
  const cases = [
    ["POST", "/auth/admin/users", { "Content-Type": "text/plain" }, "not json"],
    ["POST", "/auth/admin/users/import", { "Content-Type": "application/json" }, "{broken"],
    ["PATCH", "/auth/admin/users/someone", { "Content-Type": "application/json" }, "[]"],
  ];
  for (const [method, path, headers, body] of cases) {
    const res = await w.fetch(path, { method, headers: { ...auth, ...headers }, body });
    await expectProblem(assert, res, 403, "forbidden");
  }
});

test("an Authorization header with the Bearer scheme and no token is token_missing", async () => {
  for (const value of ["Bearer", "Bearer ", "bearer"]) {
    const res = await w.fetch("/auth/profile", { headers: { Authorization: value } });
    await expectProblem(assert, res, 401, "token_missing");
  }
});

test("a wrong password against an imported unsalted hash costs as much as against an unknown user", async () => {
  // Not a timing test: it checks the outcome is the same 401 body; the unit test
  // `a_wrong_password_against_a_cheaper_hash_still_costs_a_full_hash` counts the hash work.
  const user = await w.seedUser({ passwordHash: "sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" });
  const wrong = await w.post("/auth/login", { username: user.username, password: "not it" });
  const unknown = await w.post("/auth/login", { username: "nobody-here-xyz", password: "not it" });
  assert.deepEqual(
    await expectProblem(assert, wrong, 401, "invalid_credentials"),
    await expectProblem(assert, unknown, 401, "invalid_credentials"),
  );
});
