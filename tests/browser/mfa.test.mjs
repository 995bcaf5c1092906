// TOTP enrolment, the second sign-in step (a code, a recovery code once and never twice) and email
// verification through the hosted pages, in headless Chromium (run by `make test`). By hand:
//   node --test --test-force-exit tests/browser/mfa.test.mjs
//
// The contracts they drive: setup -> 200 {otpauth_uri, secret, qr_svg};
// enable {code} -> 200 {recovery_codes: [10 strings]}; login of an MFA account -> 401 problem
// {code: "mfa_required", mfa_token, methods: ["totp", "recovery_code"]}; verify {mfa_token, code |
// recovery_code} -> 200 token response (cookies set); the verification mail is a webhook body whose
// `link` carries `?token=` and whose `type` mentions "verif"; the link's page is /auth/ui/verify-email.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, withScreenshots, uniqueName, totp } from "./site.mjs";

let site;
let browser;
before(async () => {
  [site, browser] = await Promise.all([
    startSite({ bindings: { EMAIL_VERIFY_URL_TEMPLATE: "{origin}/auth/ui/verify-email.html?token={token}" } }),
    launchBrowser(),
  ]);
});
after(async () => {
  await Promise.all([browser?.close(), site?.close()]);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Waits for the next 30-second TOTP step, so a code is never one the server has already seen. */
const nextStep = () => sleep(30000 - (Date.now() % 30000) + 200);

async function inBrowser(name, fn) {
  const context = await browser.newContext({ baseURL: site.url });
  try {
    await withScreenshots(context, name, async () => fn(await context.newPage()));
  } finally {
    await context.close();
  }
}

async function submitCredentials(page, username, password) {
  await page.goto("/auth/ui/");
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("TOTP: enrol on the account page, then sign in with a code and with a recovery code", { timeout: 120000 }, async () => {
  const username = uniqueName("mfa");
  const password = "mfa long passphrase";
  const res = await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 201);
  await inBrowser("mfa", async (page) => {
    await submitCredentials(page, username, password);
    await page.waitForURL("**/auth/ui/account");
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    // Fail fast with the API's answer while the endpoint is missing.
    await page.locator("#totp-form:not([hidden]), #message.error").first().waitFor();
    if (await page.locator("#message.error").count()) throw new Error(`setup: ${await page.locator("#message").textContent()}`);
    const qr = page.locator("#totp-qr");
    await qr.waitFor();
    assert.match(await qr.getAttribute("src"), /^data:image\/svg\+xml/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), "the QR code renders");
    const secret = (await page.locator("#totp-secret").textContent()).trim();
    assert.match(secret, /^[A-Z2-7]{16,}=*$/);
    await page.getByLabel("6-digit code from the app").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on two-step verification" }).click();
    const codes = page.locator("#recovery-codes li");
    await page.locator("#recovery").waitFor();
    assert.equal(await codes.count(), 10);
    const recovery = (await codes.allTextContents()).map((c) => c.trim());

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/auth\/ui\/$/);

    // Password, then a code from the app.
    await nextStep();
    await submitCredentials(page, username, password);
    await page.getByLabel("6-digit code from your authenticator app").fill(totp(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/auth/ui/account");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/auth\/ui\/$/);

    // A wrong code: the API's detail.
    await submitCredentials(page, username, password);
    await page.getByLabel("6-digit code from your authenticator app").fill(totp(secret) === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.locator("#message.error").waitFor();

    // A recovery code instead.
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(recovery[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/auth/ui/account");

    // The same recovery code a second time: refused, with the API's detail.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/auth\/ui\/$/);
    await submitCredentials(page, username, password);
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(recovery[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    const refused = page.locator("#message.error");
    await refused.waitFor();
    assert.match(await refused.textContent(), /code is not valid/);
    assert.match(page.url(), /\/auth\/ui\/$/, "still on the sign-in page");
  });
});

test("verify email: the mailed link confirms the address", async () => {
  const username = uniqueName("ve");
  const email = `${username}@example.com`;
  const res = await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: "verify long passphrase", email }),
  });
  assert.equal(res.status, 201);
  const end = Date.now() + 5000;
  let mail;
  while (!(mail = site.mail.find((m) => m.to === email && /verif/i.test(m.type ?? "")))) {
    if (Date.now() > end) throw new Error(`no verification mail: ${JSON.stringify(site.mail)}`);
    await sleep(25);
  }
  const token = new URL(mail.link).searchParams.get("token");
  await inBrowser("verify-email", async (page) => {
    await page.goto(`/auth/ui/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await page.locator("#message.ok", { hasText: "verified" }).waitFor();
    // The same link again: the API's error.
    await page.goto(`/auth/ui/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await page.locator("#message.error").waitFor();
  });
});
