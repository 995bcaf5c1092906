// Bad input on POST /auth/login: media type (415), size (413), syntax and shape (400), per-field errors.
// Nothing a client sends may become a 5xx.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, decodeJwt, uniqueName, expectFieldError } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.close();
});

const LIMIT = 16 * 1024;

/** POST /auth/login with a raw body and exactly the headers given (no Content-Type unless named). */
function rawLogin(body, headers = {}) {
  return w.fetch("/auth/login", { method: "POST", headers, body });
}

/** A JSON object of exactly `size` bytes: a login for an unknown user padded with an ignored field. */
function paddedLogin(size) {
  const base = { username: uniqueName("ghost"), password: "not the password", pad: "" };
  const empty = JSON.stringify(base).length;
  const body = JSON.stringify({ ...base, pad: "x".repeat(size - empty) });
  assert.equal(Buffer.byteLength(body), size);
  return body;
}


// ---- media type ------------------------------------------------------------------------------------

test("a body without Content-Type is 415 unsupported_media_type", async () => {
  const user = await w.seedUser();
  const body = Buffer.from(JSON.stringify({ username: user.username, password: user.password }));
  await expectProblem(assert, await rawLogin(body), 415, "unsupported_media_type");
});

test("a JSON body sent as text/plain is 415 unsupported_media_type", async () => {
  const user = await w.seedUser();
  const body = JSON.stringify({ username: user.username, password: user.password });
  await expectProblem(assert, await rawLogin(body, { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
});

test("Content-Type application/json; charset=utf-8 is accepted", async () => {
  const user = await w.seedUser();
  const body = JSON.stringify({ username: user.username, password: user.password });
  const res = await rawLogin(body, { "Content-Type": "application/json; charset=utf-8" });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).user.id, user.id);
});

// ---- syntax and shape ------------------------------------------------------------------------------

test("malformed JSON is 400 invalid_request", async () => {
  await expectProblem(assert, await w.post("/auth/login", '{"username": "alice", "password": '), 400, "invalid_request");
});

test("an empty body is 400 invalid_request", async () => {
  await expectProblem(assert, await w.post("/auth/login", ""), 400, "invalid_request");
});

for (const [what, text] of [
  ["a JSON array", '["alice", "secret-password"]'],
  ["a JSON string", '"alice"'],
  ["a JSON number", "42"],
  ["JSON null", "null"],
]) {
  test(`${what} as the body is 400 invalid_request`, async () => {
    await expectProblem(assert, await w.post("/auth/login", text), 400, "invalid_request");
  });
}

// ---- size ------------------------------------------------------------------------------------------

test("a valid JSON body over 16 KiB is 413 payload_too_large", async () => {
  const body = paddedLogin(17000);
  await expectProblem(assert, await w.post("/auth/login", body), 413, "payload_too_large");
});

test("a body of exactly 16 KiB is read, not refused as too large", async () => {
  const body = paddedLogin(LIMIT);
  await expectProblem(assert, await w.post("/auth/login", body), 401, "invalid_credentials");
});

test("a body over 16 KiB streamed without Content-Length is still 413", async () => {
  const bytes = new TextEncoder().encode(paddedLogin(17000));
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000));
      controller.close();
    },
  });
  const res = await w.fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: stream,
    duplex: "half",
  });
  await expectProblem(assert, res, 413, "payload_too_large");
});

// ---- fields ----------------------------------------------------------------------------------------

test("missing username and password are both listed in errors[] as missing", async () => {
  const { errors } = await expectFieldError(await w.post("/auth/login", {}), "username", "missing");
  assert.ok(errors.some((e) => e.field === "password" && e.code === "missing"), JSON.stringify(errors));
});

test("a username that is a number is invalid_type", async () => {
  await expectFieldError(await w.post("/auth/login", { username: 12345, password: "some password" }), "username", "invalid_type");
});

test("a username of 2 characters is invalid_length", async () => {
  await expectFieldError(await w.post("/auth/login", { username: "ab", password: "some password" }), "username", "invalid_length");
});

test("a username of 31 characters is invalid_length", async () => {
  const res = await w.post("/auth/login", { username: "a".repeat(31), password: "some password" });
  await expectFieldError(res, "username", "invalid_length");
});

test("a username with an inner space is invalid_format", async () => {
  await expectFieldError(await w.post("/auth/login", { username: "al ice", password: "some password" }), "username", "invalid_format");
});

test("a username with ';' is invalid_format", async () => {
  const res = await w.post("/auth/login", { username: "alice';--", password: "some password" });
  await expectFieldError(res, "username", "invalid_format");
});

test("an empty password is 400 naming the password field", async () => {
  const user = await w.seedUser();
  await expectFieldError(await w.post("/auth/login", { username: user.username, password: "" }), "password");
});

test("a password of 257 characters is 400 too_long", async () => {
  const user = await w.seedUser();
  const res = await w.post("/auth/login", { username: user.username, password: "p".repeat(257) });
  await expectFieldError(res, "password", "too_long");
});

test("a password of 256 characters is not refused as input", async () => {
  const res = await w.post("/auth/login", { username: uniqueName("ghost"), password: "p".repeat(256) });
  await expectProblem(assert, res, 401, "invalid_credentials");
});

test("a user whose password has 256 characters can log in with it", async () => {
  const user = await w.seedUser({ password: "Long passphrase ".repeat(16) });
  assert.equal(user.password.length, 256);
  const res = await w.post("/auth/login", { username: user.username, password: user.password });
  assert.equal(res.status, 200, await res.clone().text());
});

test("unknown fields such as role are ignored: login succeeds and the role stays the stored one", async () => {
  const user = await w.seedUser({ role: "user" });
  const res = await w.post("/auth/login", {
    username: user.username,
    password: user.password,
    role: "admin",
    sub: "someone-else",
    is_admin: true,
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.equal(body.user.role, "user");
  assert.equal(body.user.id, user.id);
  const { claims } = decodeJwt(body.access_token);
  assert.equal(claims.role, "user");
  assert.equal(claims.sub, user.id);
  const row = await w.db.prepare("SELECT role FROM users WHERE id = ?1").bind(user.id).first();
  assert.equal(row.role, "user");
});

// ---- never a 5xx -----------------------------------------------------------------------------------

test("a body of invalid UTF-8 bytes is a 400, never a 5xx", async () => {
  const prefix = Buffer.from('{"username": "');
  const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]);
  const suffix = Buffer.from('", "password": "some password"}');
  const res = await rawLogin(Buffer.concat([prefix, bad, suffix]), { "Content-Type": "application/json" });
  assert.ok(res.status < 500, `status ${res.status}`);
  await expectProblem(assert, res, 400, "invalid_request");
});

// 10000 levels would be over 16 KiB and stop at the 413; 8000 fit, so the JSON parser itself meets them.
test("8000 nested arrays within the size limit are a 400, never a 5xx", async () => {
  const body = `{"username": ${"[".repeat(8000)}${"]".repeat(8000)}, "password": "some password"}`;
  assert.ok(Buffer.byteLength(body) <= LIMIT);
  const res = await w.post("/auth/login", body);
  assert.ok(res.status < 500, `status ${res.status}`);
  await expectProblem(assert, res, 400, "invalid_request");
});

test("2500 nested objects within the size limit are a 400, never a 5xx", async () => {
  const body = `{"username": ${'{"a":'.repeat(2500)}1${"}".repeat(2500)}, "password": "some password"}`;
  assert.ok(Buffer.byteLength(body) <= LIMIT);
  const res = await w.post("/auth/login", body);
  assert.ok(res.status < 500, `status ${res.status}`);
  await expectProblem(assert, res, 400, "invalid_request");
});

test("10000 nested arrays are refused without a 5xx", async () => {
  const res = await w.post("/auth/login", `${"[".repeat(10000)}${"]".repeat(10000)}`);
  assert.ok(res.status < 500, `status ${res.status}`);
  assert.ok([400, 413].includes(res.status), `status ${res.status}`);
  await res.arrayBuffer();
});

test("the Worker still answers normally after the hostile bodies", async () => {
  await (await w.post("/auth/login", `${"[".repeat(8000)}${"]".repeat(8000)}`)).arrayBuffer();
  const user = await w.seedUser();
  assert.equal((await w.login(user.username, user.password)).status, 200);
});
