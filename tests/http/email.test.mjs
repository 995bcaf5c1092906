// Email verification from outside: the link after signup (signed webhook, or the dev log without one),
// PATCH /auth/me keeping a new address pending until verified and telling the old one (no token),
// POST /auth/verify-email burning a hashed, single-use, expiring token, the per-user resend limit, and
// REQUIRE_EMAIL_VERIFICATION (403 only after a correct password; unverified addresses are no login name).
//
// Mail goes out after the response (waitUntil): the tests poll for the webhook call or the log line.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { startWorker, expectProblem, expectFieldError, uniqueName, expectTokens } from "./helpers.mjs";

const HOOK = { MAIL_WEBHOOK_URL: "https://mail.test/hook", MAIL_WEBHOOK_SECRET: "mail-webhook-secret-for-tests-0123456789abcdef" };
const USER_KEYS = ["created_at", "display_name", "email", "email_verified", "id", "role", "username"];
const PASSWORD = "correct horse battery";

const outbound = { mail: [], required: [], dev: [], ttl: [] };
const capture = (list) => async (request) => {
  list.push({ url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
  return new Response("ok");
};

/** Webhook, defaults (verification optional). */
let wm;
/** Webhook, REQUIRE_EMAIL_VERIFICATION=true. */
let wr;
/** Development, no webhook: links go to the log. */
let wdev;
/** Webhook, links live 1 s. */
let wttl;
/** Production, no webhook: links are never logged. */
let wprod;
let devLog = "";
let prodLog = "";
before(async () => {
  [wm, wr, wdev, wttl, wprod] = await Promise.all([
    startWorker({ bindings: { ...HOOK, RATE_LIMIT_VERIFY_EMAIL: "3/1h" }, outboundService: capture(outbound.mail) }),
    startWorker({ bindings: { ...HOOK, REQUIRE_EMAIL_VERIFICATION: "true" }, outboundService: capture(outbound.required) }),
    startWorker({
      bindings: { ENVIRONMENT: "development" },
      outboundService: capture(outbound.dev),
      handleRuntimeStdio(stdout, stderr) {
        stdout.on("data", (c) => (devLog += c));
        stderr.on("data", (c) => (devLog += c));
      },
    }),
    startWorker({ bindings: { ...HOOK, EMAIL_VERIFICATION_TTL: "1" }, outboundService: capture(outbound.ttl) }),
    startWorker({
      bindings: { ENVIRONMENT: "production" },
      handleRuntimeStdio(stdout, stderr) {
        stdout.on("data", (c) => (prodLog += c));
        stderr.on("data", (c) => (prodLog += c));
      },
    }),
  ]);
});
after(async () => {
  await Promise.all([wm?.close(), wr?.close(), wdev?.close(), wttl?.close(), wprod?.close()]);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bearer = (token) => (token ? { Authorization: `Bearer ${token}` } : {});
const patchMe = (w, token, body) =>
  w.fetch("/auth/me", { method: "PATCH", headers: { "Content-Type": "application/json", ...bearer(token) }, body: JSON.stringify(body) });
const verify = (w, token) => w.post("/auth/verify-email", { token });
const resend = (w, token) => w.fetch("/auth/verify-email/resend", { method: "POST", headers: bearer(token) });
const me = async (w, token) => (await w.fetch("/auth/me", { headers: bearer(token) })).json();

async function poll(probe, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(20);
  }
}

/** Parsed webhook calls to `to` (of `type` when given). */
const mailsTo = (list, to, type) =>
  list.map((c) => ({ ...c, json: JSON.parse(c.body) })).filter((c) => c.json.to === to && (!type || c.json.type === type));

async function waitForMail(list, to, type = "verify_email", count = 1) {
  const calls = await poll(() => (mailsTo(list, to, type).length >= count ? mailsTo(list, to, type) : undefined));
  assert.ok(calls, `no ${type} webhook call #${count} for ${to} within 3 s`);
  return calls[count - 1];
}

const tokenOf = (link) => new URL(link).searchParams.get("token");

/** Signs up a fresh account with an address on `w`; returns {name, email, tokens}. */
async function signup(w, extra = {}) {
  const name = uniqueName("em");
  const email = `${name.toLowerCase()}@example.com`;
  const res = await w.post("/auth/signup", { username: name, password: PASSWORD, email, ...extra });
  assert.equal(res.status, 201, await res.clone().text());
  return { name, email, tokens: await res.json() };
}

// ==== signup, the link, verify ================================================================================

test("signup sends a signed verify_email webhook; the link verifies once; only its hash is in D1", async () => {
  const { email, tokens } = await signup(wm);
  assert.deepEqual(Object.keys(tokens.user).sort(), USER_KEYS);
  assert.equal(tokens.user.email_verified, false);
  const call = await waitForMail(outbound.mail, email);
  assert.equal(call.url, HOOK.MAIL_WEBHOOK_URL);
  assert.deepEqual(Object.keys(call.json).sort(), ["expires_at", "link", "to", "type", "username"]);
  const [, t, v1] = call.headers["x-edge-auth-signature"].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
  assert.equal(v1, createHmac("sha256", HOOK.MAIL_WEBHOOK_SECRET).update(`${t}.${call.body}`).digest("hex"));
  assert.ok(call.json.link.startsWith("http://localhost/auth/ui/verify-email?token="), call.json.link);
  const expires = Date.parse(call.json.expires_at) / 1000;
  assert.ok(Math.abs(expires - (Date.now() / 1000 + 86400)) < 30, "24 h by default");
  const token = tokenOf(call.json.link);
  const row = await wm.db.prepare("SELECT * FROM email_verifications WHERE user_id = ?1").bind(tokens.user.id).first();
  assert.equal(row.token_hash, createHash("sha256").update(token).digest("hex"));
  assert.equal(row.used_at, null);
  assert.ok(!JSON.stringify(row).includes(token), "the token itself is never stored");

  const res = await verify(wm, token);
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { message: "Your email address is verified." });
  assert.equal((await me(wm, tokens.access_token)).email_verified, true);
  await expectProblem(assert, await verify(wm, token), 400, "verification_token_invalid");
});

test("concurrent uses of one link: exactly one succeeds", async () => {
  const { email } = await signup(wm);
  const token = tokenOf((await waitForMail(outbound.mail, email)).json.link);
  const results = await Promise.all(Array.from({ length: 5 }, () => verify(wm, token)));
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400]);
});

test("bad, unknown and expired tokens are 400; bad bodies are 400 with field errors, never 5xx", async () => {
  await expectProblem(assert, await verify(wm, "not-a-token"), 400, "verification_token_invalid");
  await expectProblem(assert, await verify(wm, "x".repeat(5000)), 400, "verification_token_invalid");
  await expectProblem(assert, await verify(wm, ""), 400, "verification_token_invalid");
  await expectFieldError(await wm.post("/auth/verify-email", {}), "token", "missing");
  await expectFieldError(await wm.post("/auth/verify-email", { token: 7 }), "token", "invalid_type");
  await expectProblem(assert, await wm.post("/auth/verify-email", "[1]"), 400, "invalid_request");
  await expectProblem(assert, await wm.post("/auth/verify-email", "{"), 400, "invalid_request");
  const res = await wm.fetch("/auth/verify-email", { method: "POST", body: "{}", headers: { "Content-Type": "text/plain" } });
  await expectProblem(assert, res, 415, "unsupported_media_type");

  const { email, tokens } = await signup(wttl);
  const token = tokenOf((await waitForMail(outbound.ttl, email)).json.link);
  await sleep(2100);
  await expectProblem(assert, await verify(wttl, token), 400, "verification_token_invalid");
  assert.equal((await me(wttl, tokens.access_token)).email_verified, false);
});

test("without a webhook, in development, the link goes to the dev log as email_verification_link", async () => {
  const { name, email, tokens } = await signup(wdev);
  const line = await poll(() =>
    devLog
      .split("\n")
      .map((l) => l.slice(l.indexOf("{")))
      .filter((l) => l.startsWith("{"))
      .map((l) => { try { return JSON.parse(l); } catch { return null; } })
      .find((l) => l && l.event === "email_verification_link" && l.to === email),
  );
  assert.ok(line, "an email_verification_link line");
  assert.equal(line.level, "info");
  assert.equal(line.username, name);
  assert.equal(outbound.dev.length, 0, "nothing was sent out");
  assert.equal((await verify(wdev, tokenOf(line.link))).status, 200);
  assert.equal((await me(wdev, tokens.access_token)).email_verified, true);
});

// ==== PATCH /auth/me ==========================================================================================

test("PATCH /auth/me keeps the old address until the new one is verified; the old one gets a notice without any token", async () => {
  const { name, email, tokens } = await signup(wm);
  const access = tokens.access_token;
  const fresh = `${name.toLowerCase()}.new@example.com`;
  const res = await patchMe(wm, access, { email: fresh.toUpperCase(), display_name: "New Name" });
  assert.equal(res.status, 200, await res.clone().text());
  const user = await res.json();
  assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
  assert.equal(user.email, email, "the old address stays");
  assert.equal(user.display_name, "New Name");

  const link = await waitForMail(outbound.mail, fresh);
  const notice = await waitForMail(outbound.mail, email, "email_change_notice");
  assert.deepEqual(Object.keys(notice.json).sort(), ["new_email", "requested_at", "to", "type", "username"]);
  assert.equal(notice.json.new_email, fresh);
  const newToken = tokenOf(link.json.link);
  assert.ok(!notice.body.includes(newToken) && !/token|link|http/.test(notice.body), notice.body);
  const signupToken = tokenOf((await waitForMail(outbound.mail, email)).json.link);

  // Still the old address: login by it works, by the new one not yet.
  assert.equal((await wm.login(email, PASSWORD)).status, 200);
  await expectProblem(assert, await wm.post("/auth/login", { email: fresh, password: PASSWORD }), 401, "invalid_credentials");
  // The signup link (for the old address) died with the new one.
  await expectProblem(assert, await verify(wm, signupToken), 400, "verification_token_invalid");

  assert.equal((await verify(wm, newToken)).status, 200);
  const after = await me(wm, access);
  assert.equal(after.email, fresh);
  assert.equal(after.email_verified, true);
  assert.equal((await wm.login(fresh, PASSWORD)).status, 200);
  await expectProblem(assert, await wm.post("/auth/login", { email, password: PASSWORD }), 401, "invalid_credentials");
});

test("PATCH /auth/me without a token is 401; bad fields are 400 with field errors; a taken address is 409", async () => {
  await expectProblem(assert, await patchMe(wm, null, { email: "a@example.com" }), 401, "token_missing");
  const { tokens } = await signup(wm);
  const other = await signup(wm);
  await expectFieldError(await patchMe(wm, tokens.access_token, { email: "nope" }), "email", "invalid_format");
  await expectFieldError(await patchMe(wm, tokens.access_token, { email: null }), "email", "invalid_type");
  await expectFieldError(await patchMe(wm, tokens.access_token, { display_name: 5 }), "display_name", "invalid_type");
  await expectFieldError(await patchMe(wm, tokens.access_token, { display_name: "x".repeat(101) }), "display_name", "invalid_format");
  await expectProblem(assert, await wm.fetch("/auth/me", { method: "PATCH", headers: bearer(tokens.access_token), body: "[]" }), 415, "unsupported_media_type");
  await expectProblem(assert, await patchMe(wm, tokens.access_token, { email: other.email.toUpperCase() }), 409, "email_taken");
  const unchanged = await patchMe(wm, tokens.access_token, {});
  assert.equal(unchanged.status, 200);
});

test("a pending address someone else takes before verification is 409 email_taken at verification", async () => {
  const a = await signup(wm);
  const target = `${uniqueName("race").toLowerCase()}@example.com`;
  assert.equal((await patchMe(wm, a.tokens.access_token, { email: target })).status, 200);
  const token = tokenOf((await waitForMail(outbound.mail, target)).json.link);
  const b = await wm.post("/auth/signup", { username: uniqueName("taker"), password: PASSWORD, email: target });
  assert.equal(b.status, 201);
  await expectProblem(assert, await verify(wm, token), 409, "email_taken");
  assert.equal((await me(wm, a.tokens.access_token)).email, a.email);
});

// ==== resend ==================================================================================================

test("resend: 204 with a fresh link (the older one dies), rate limited per user (429), 401 unauthenticated", async () => {
  await expectProblem(assert, await resend(wm, null), 401, "token_missing");
  const { email, tokens } = await signup(wm);
  const first = tokenOf((await waitForMail(outbound.mail, email)).json.link);
  const r1 = await resend(wm, tokens.access_token);
  assert.equal(r1.status, 204);
  const second = tokenOf((await waitForMail(outbound.mail, email, "verify_email", 2)).json.link);
  assert.notEqual(first, second);
  await expectProblem(assert, await verify(wm, first), 400, "verification_token_invalid");
  assert.equal((await resend(wm, tokens.access_token)).status, 204);
  assert.equal((await resend(wm, tokens.access_token)).status, 204);
  const limited = await resend(wm, tokens.access_token);
  await expectProblem(assert, limited, 429, "rate_limited");
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
  // Another user is not limited by this one.
  const other = await signup(wm);
  assert.equal((await resend(wm, other.tokens.access_token)).status, 204);
});

test("resend for a verified account with nothing pending is 204 without mail", async () => {
  const { email, tokens } = await signup(wm);
  const token = tokenOf((await waitForMail(outbound.mail, email)).json.link);
  assert.equal((await verify(wm, token)).status, 200);
  for (let i = 0; i < 4; i++) assert.equal((await resend(wm, tokens.access_token)).status, 204, "never 429: nothing is counted");
  await sleep(300);
  assert.equal(mailsTo(outbound.mail, email, "verify_email").length, 1);
});

// ==== REQUIRE_EMAIL_VERIFICATION ==============================================================================

test("REQUIRE_EMAIL_VERIFICATION: 403 email_not_verified only after a correct password; the address logs in only once verified", async () => {
  const { name, email } = await signup(wr);
  await expectProblem(assert, await wr.post("/auth/login", { username: name, password: "wrong password" }), 401, "invalid_credentials");
  await expectProblem(assert, await wr.post("/auth/login", { username: uniqueName("ghost"), password: PASSWORD }), 401, "invalid_credentials");
  await expectProblem(assert, await wr.post("/auth/login", { username: name, password: PASSWORD }), 403, "email_not_verified");
  // The unverified address is not a login name: the same answer as an unknown user.
  const byAddress = await expectProblem(assert, await wr.post("/auth/login", { email, password: PASSWORD }), 401, "invalid_credentials");
  const unknown = await expectProblem(assert, await wr.post("/auth/login", { email: `nobody-${name}@example.com`, password: PASSWORD }), 401, "invalid_credentials");
  assert.deepEqual(byAddress, unknown);
  const token = tokenOf((await waitForMail(outbound.required, email)).json.link);
  assert.equal((await verify(wr, token)).status, 200);
  await expectTokens(await wr.post("/auth/login", { username: name, password: PASSWORD }));
  await expectTokens(await wr.post("/auth/login", { email, password: PASSWORD }));
});

test("REQUIRE_EMAIL_VERIFICATION: signup needs an address; an account without one (admin-made) logs in", async () => {
  await expectFieldError(await wr.post("/auth/signup", { username: uniqueName("noaddr"), password: PASSWORD }), "email", "missing");
  const seeded = await wr.seedUser();
  assert.equal((await wr.login(seeded.username, seeded.password)).status, 200);
  const withAddress = await wr.seedUser({ email: `${uniqueName("seed").toLowerCase()}@example.com` });
  await expectProblem(assert, await wr.post("/auth/login", { username: withAddress.username, password: withAddress.password }), 403, "email_not_verified");
});

test("without REQUIRE_EMAIL_VERIFICATION an unverified account logs in by username and by address", async () => {
  const { name, email } = await signup(wm);
  assert.equal((await wm.login(name, PASSWORD)).status, 200);
  assert.equal((await wm.login(email, PASSWORD)).status, 200);
});

// ==== import and admin views ==================================================================================

test("import keeps email_verified; the admin view shows it", async () => {
  const admin = await wm.userWithToken({ role: "admin" });
  const token = admin.tokens.access_token;
  const sha = `sha256:${createHash("sha256").update(PASSWORD).digest("hex")}`;
  const a = uniqueName("impv");
  const b = uniqueName("impu");
  const res = await wm.post(
    "/auth/admin/users/import",
    { users: [
      { username: a, password_hash: sha, email: `${a.toLowerCase()}@example.com`, email_verified: true },
      { username: b, password_hash: sha, email: `${b.toLowerCase()}@example.com` },
      { username: uniqueName("impx"), password_hash: sha, email: `${uniqueName("x").toLowerCase()}@example.com`, email_verified: "yes" },
    ] },
    bearer(token),
  );
  assert.equal(res.status, 200, await res.clone().text());
  const report = await res.json();
  assert.equal(report.imported, 2);
  assert.deepEqual(report.skipped.map((s) => s.code), ["invalid_email_verified"]);
  const list = await (await wm.fetch(`/auth/admin/users?q=imp`, { headers: bearer(token) })).json();
  const byName = Object.fromEntries(list.users.map((u) => [u.username, u]));
  assert.equal(byName[a].email_verified, true);
  assert.equal(byName[b].email_verified, false);
  const login = await wm.login(a, PASSWORD);
  assert.equal(login.body.user.email_verified, true);
});

test("in production without a webhook, no verification link or token reaches the log", async () => {
  const start = prodLog.length;
  const { tokens } = await signup(wprod);
  assert.equal((await patchMe(wprod, tokens.access_token, { email: `${uniqueName("p").toLowerCase()}@example.com` })).status, 200);
  assert.equal((await resend(wprod, tokens.access_token)).status, 204);
  const row = await poll(() => wprod.db.prepare("SELECT token_hash FROM email_verifications WHERE user_id = ?1").bind(tokens.user.id).first());
  assert.ok(row, "a link was issued");
  await sleep(500);
  const log = prodLog.slice(start);
  assert.equal(/verify-email\?token=|email_verification_link|token=/.test(log), false, `a link in the production log: ${log}`);
  assert.match(log, /MAIL_WEBHOOK_URL is not configured/);
});

test("an admin changing an address clears its verification", async () => {
  const { email, tokens } = await signup(wm);
  assert.equal((await verify(wm, tokenOf((await waitForMail(outbound.mail, email)).json.link))).status, 200);
  const admin = await wm.userWithToken({ role: "admin" });
  const res = await wm.fetch(`/auth/admin/users/${tokens.user.id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json", ...bearer(admin.tokens.access_token) },
    body: JSON.stringify({ email: `${uniqueName("adm").toLowerCase()}@example.com` }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).email_verified, false);
  const same = await wm.fetch(`/auth/admin/users/${tokens.user.id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json", ...bearer(admin.tokens.access_token) },
    body: JSON.stringify({ display_name: "kept" }),
  });
  assert.equal((await same.json()).email_verified, false);
});
