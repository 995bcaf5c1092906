// Passkeys (docs/passkeys.md) through the hosted pages, in headless Chromium with a CDP virtual
// authenticator (a CTAP2 platform authenticator with resident keys and user verification that
// answers at once: automaticPresenceSimulation). Run by `make test`; by hand:
//   make build && node --test --test-force-exit tests/browser/passkeys.test.mjs
//
// Chromium's virtual environment answers an autofill (conditional mediation) request at once with the
// first passkey it holds, where a real browser waits for the person to pick one. The tests that drive
// the button and the second step therefore run with `pendingAutofill`: an init script that keeps every
// conditional request pending until it is aborted (a person who ignores the suggestion), which also
// records that the page aborts it before any modal request starts. The autofill test runs without it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, withScreenshots, uniqueName, totp } from "./site.mjs";

let site;
let browser;
before(async () => {
  [site, browser] = await Promise.all([
    // WebAuthn refuses IP addresses: the RP ID is localhost, and the only allowed origin the site's own.
    startSite({ urlBindings: (url) => ({ WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: url }) }),
    launchBrowser(),
  ]);
});
after(async () => {
  await Promise.all([browser?.close(), site?.close()]);
});

const PASSWORD = "passkey long passphrase";
const NO_PASSKEY = /cancelled or timed out, or this device has no passkey/;
const REJECTED = /This passkey was not accepted/;

/**
 * Keeps conditional requests pending until aborted, and reports every WebAuthn get to the test through
 * the window.__webauthnCall binding (the record outlives the page's navigation): the conditional ones,
 * their abort, and each modal one with whether a conditional one was still pending when it started.
 * (Init scripts also run in about:blank, which is no secure context and has no WebAuthn.)
 */
function pendingAutofill() {
  if (!window.isSecureContext || !navigator.credentials) return;
  const original = navigator.credentials.get.bind(navigator.credentials);
  const conditional = [];
  window.__autofillPending = () => conditional.some((c) => !c.aborted);
  navigator.credentials.get = (options) => {
    if (options?.mediation === "conditional") {
      const call = { aborted: false };
      conditional.push(call);
      window.__webauthnCall({ kind: "conditional", allowCredentials: options.publicKey?.allowCredentials?.length ?? 0 });
      return new Promise((_, reject) => {
        options.signal?.addEventListener("abort", () => {
          call.aborted = true;
          window.__webauthnCall({ kind: "conditional aborted" });
          reject(options.signal.reason);
        });
      });
    }
    window.__webauthnCall({ kind: "modal", whileConditionalPending: window.__autofillPending() });
    return original(options);
  };
}

/** A browser without the WebAuthn Level 3 JSON helpers: the pages' base64url fallback does their work. */
function withoutJSONHelpers() {
  if (!window.isSecureContext || !window.PublicKeyCredential) return;
  delete PublicKeyCredential.parseCreationOptionsFromJSON;
  delete PublicKeyCredential.parseRequestOptionsFromJSON;
  delete PublicKeyCredential.prototype.toJSON;
}

/** The virtual authenticator of `page` (WebAuthn CDP domain). */
async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    clear: () => cdp.send("WebAuthn.clearCredentials", { authenticatorId }),
  };
}

/** Reports every console call of the pages' scripts to the test (window.__consoleCall, a binding). */
function reportConsoleCalls() {
  for (const method of ["log", "info", "warn", "error", "debug", "trace", "dir", "table"]) {
    const original = console[method].bind(console);
    console[method] = (...args) => {
      window.__consoleCall(method);
      original(...args);
    };
  }
}

/**
 * A fresh browser profile with a virtual authenticator. Fails on any script error, CSP refusal or
 * console error other than Chromium's own "Failed to load resource" line for a 4xx answer, and on any
 * console call at all by the pages' scripts: they log nothing, so nothing secret reaches the console.
 * (Chromium's own warnings, such as the one about RS256 missing from pubKeyCredParams, are not calls.)
 */
async function inBrowser(name, fn, { initScripts = [] } = {}) {
  const context = await browser.newContext({ baseURL: site.url });
  const noise = [];
  const webauthnCalls = [];
  await context.exposeBinding("__consoleCall", (_source, method) => noise.push(`the page called console.${method}`));
  await context.exposeBinding("__webauthnCall", (_source, call) => webauthnCalls.push(call));
  await context.addInitScript(reportConsoleCalls);
  for (const script of initScripts) await context.addInitScript(script);
  context.on("page", (p) => p.on("pageerror", (e) => noise.push(String(e))));
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) noise.push(`console error: ${m.text()}`);
  });
  try {
    const authenticator = await addAuthenticator(page);
    await withScreenshots(context, name, () => fn(page, { authenticator, context, webauthnCalls }));
    assert.deepEqual(noise, []);
  } finally {
    await context.close();
  }
}

async function signUp() {
  const username = uniqueName("pk");
  const res = await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(res.status, 201);
  return username;
}

const message = (page) => page.locator("#message");

async function submitPassword(page, username, { goto = true } = {}) {
  if (goto) await page.goto("/auth/ui/");
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function onAccountPage(page) {
  await page.waitForURL("**/auth/ui/account");
  await page.locator("body[data-ready=true]").waitFor();
  // The list, or the API's error (fails fast while the endpoints are missing).
  await page.locator("#passkeys-empty:not([hidden]), #passkeys li, #message.error").first().waitFor();
  if (await page.locator("#message.error").count()) throw new Error(`account page: ${await message(page).textContent()}`);
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/auth\/ui\/$/);
}

/** Adds a passkey on the account page; returns its list item. */
async function addPasskey(page, name) {
  const before = await page.locator("#passkeys li").count();
  if (name) await page.getByLabel("Name of the new passkey").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.locator("#message.ok", { hasText: "added" }).or(page.locator("#message.error")).waitFor();
  if (await page.locator("#message.error").count()) throw new Error(`add a passkey: ${await message(page).textContent()}`);
  assert.equal(await page.locator("#passkeys li").count(), before + 1);
  return page.locator("#passkeys li").first();
}

/** Whether the browser holds a session: the API's answer to GET /auth/me with the context's cookies. */
const meStatus = async (page) => (await page.request.get("/auth/me")).status();

/** The `amr` claim of the access token in the context's (HttpOnly) access cookie. */
async function amr(context) {
  const cookie = (await context.cookies()).find((c) => c.name.endsWith("edge-auth-access"));
  assert.ok(cookie, "an access cookie is set");
  return JSON.parse(Buffer.from(cookie.value.split(".")[1], "base64url").toString()).amr;
}

/** Waits until the sign-in page's autofill request is pending (pendingAutofill). */
const autofillPending = (page) => page.waitForFunction(() => window.__autofillPending?.() === true);

/**
 * The WebAuthn requests since `from` (an index into `calls`): at least one modal one, and each started
 * only after the pending autofill request had been aborted.
 */
function assertAutofillAbortedFirst(calls, from) {
  const since = calls.slice(from);
  assert.ok(since.some((c) => c.kind === "modal"), `a modal request was made: ${JSON.stringify(since)}`);
  assert.ok(since.some((c) => c.kind === "conditional aborted"), `the autofill request was aborted: ${JSON.stringify(since)}`);
  assert.deepEqual(since.filter((c) => c.kind === "modal" && c.whileConditionalPending), [], "no modal request while the autofill one was pending");
  assert.deepEqual(since.filter((c) => c.kind === "conditional" && c.allowCredentials !== 0), [], "the autofill options name no user");
}

test(
  "a passkey: added on the account page, a sign-in without a username, the second step after a password, renamed, removed, then refused",
  { timeout: 120000 },
  async () => {
    const username = await signUp();
    await inBrowser(
      "passkey-flow",
      async (page, { authenticator, context, webauthnCalls }) => {
        await submitPassword(page, username);
        await onAccountPage(page);
        assert.equal(await page.locator("#passkeys-empty").isVisible(), true);

        // Add: register options -> create -> register {credential, name}.
        const item = await addPasskey(page, "Laptop");
        assert.equal((await item.locator(".passkey-name").textContent()).trim(), "Laptop");
        assert.match(await item.textContent(), /never used/);
        assert.equal((await item.locator(".passkey-sync").textContent()).trim(), "not synced");
        const held = await authenticator.credentials();
        assert.equal(held.length, 1);
        assert.equal(held[0].isResidentCredential, true, "a discoverable credential (usernameless sign-in)");
        const me = await (await page.request.get("/auth/me")).json();
        assert.equal(Buffer.from(held[0].userHandle, "base64").toString("utf8"), me.id, "user.id is the UTF-8 of the user's id");

        // The same authenticator again: excludeCredentials makes it refuse, and the page says why.
        await page.getByRole("button", { name: "Add a passkey" }).click();
        await page.locator("#message.error", { hasText: "already holds a passkey" }).waitFor();
        assert.equal(await page.locator("#passkeys li").count(), 1);
        assert.equal((await authenticator.credentials()).length, 1);

        // Sign out; sign in with the passkey alone: no username typed.
        await signOut(page);
        await autofillPending(page);
        assert.equal(await page.getByLabel("Username or email").inputValue(), "", "no username typed");
        let mark = webauthnCalls.length;
        await page.getByRole("button", { name: "Sign in with a passkey" }).click();
        await onAccountPage(page);
        assertAutofillAbortedFirst(webauthnCalls, mark);
        assert.equal(await meStatus(page), 200);
        assert.deepEqual(await amr(context), ["hwk"]);
        const used = page.locator("#passkeys li").first();
        assert.match(await used.textContent(), /last used /);
        assert.doesNotMatch(await used.textContent(), /never used/);

        // The password now needs a second step, and the passkey is offered beside the code field.
        await signOut(page);
        await autofillPending(page);
        mark = webauthnCalls.length;
        const login = page.waitForResponse((r) => new URL(r.url()).pathname === "/auth/login");
        await submitPassword(page, username, { goto: false });
        const pending = await (await login).json();
        assert.equal(pending.code, "mfa_required");
        assert.ok(pending.methods.includes("webauthn"), JSON.stringify(pending.methods));
        const usePasskey = page.getByRole("button", { name: "Use a passkey" });
        await usePasskey.waitFor();
        assert.match(await message(page).textContent(), /confirm it is you with your passkey/);
        assert.equal(await page.getByLabel("6-digit code from your authenticator app").isVisible(), false, "no code field: the account has no app");
        assert.equal(await meStatus(page), 401, "no session before the second step");
        await usePasskey.click();
        await onAccountPage(page);
        assertAutofillAbortedFirst(webauthnCalls, mark);
        assert.deepEqual(await amr(context), ["pwd", "hwk"]);

        // Rename.
        await page.getByRole("button", { name: 'Rename the passkey "Laptop"' }).click();
        await page.getByLabel('New name for "Laptop"').fill("Work laptop");
        await page.getByRole("button", { name: "Save name" }).click();
        await page.locator("#message.ok", { hasText: "renamed" }).waitFor();
        assert.equal((await page.locator("#passkeys li .passkey-name").textContent()).trim(), "Work laptop");

        // Remove (the sign-in above was a minute ago at most): the list is empty.
        await page.getByRole("button", { name: 'Remove the passkey "Work laptop"' }).click();
        await page.locator("#message.ok", { hasText: "removed" }).waitFor();
        assert.equal(await page.locator("#passkeys li").count(), 0);
        assert.equal(await page.locator("#passkeys-empty").isVisible(), true);

        // The authenticator still holds the key, but the API no longer knows it: refused, no session.
        await signOut(page);
        assert.equal((await authenticator.credentials()).length, 1);
        await autofillPending(page);
        await page.getByRole("button", { name: "Sign in with a passkey" }).click();
        await page.locator("#message.error").waitFor();
        assert.match(await message(page).textContent(), REJECTED);
        assert.match(page.url(), /\/auth\/ui\/$/);
        assert.equal(await meStatus(page), 401);
        // And the password alone signs in again: no second factor left.
        await submitPassword(page, username);
        await onAccountPage(page);
      },
      { initScripts: [pendingAutofill] },
    );
  },
);

test("refused in the browser: with the authenticator's passkey gone, neither sign-in nor the second step yields a session", { timeout: 120000 }, async () => {
  const username = await signUp();
  await inBrowser("passkey-refusal", async (page, { authenticator }) => {
    await submitPassword(page, username);
    await onAccountPage(page);
    await addPasskey(page);
    // Cleared before signing out: the sign-in page's autofill then has nothing to offer (and says nothing).
    await authenticator.clear();
    assert.equal((await authenticator.credentials()).length, 0);
    await signOut(page);

    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.locator("#message.error").waitFor();
    assert.match(await message(page).textContent(), NO_PASSKEY);
    assert.match(page.url(), /\/auth\/ui\/$/);
    assert.equal(await meStatus(page), 401);
    // The button works again after a refusal (it is not left disabled).
    assert.equal(await page.getByRole("button", { name: "Sign in with a passkey" }).isEnabled(), true);

    // The second step: the passkey is offered (the account has one), the authenticator has nothing.
    await submitPassword(page, username);
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.locator("#message.error").waitFor();
    assert.match(await message(page).textContent(), NO_PASSKEY);
    assert.equal(await meStatus(page), 401);
  });
});

test("with an authenticator app and a passkey, the second step offers both: the code field and the passkey beside it", { timeout: 120000 }, async () => {
  const username = await signUp();
  await inBrowser(
    "passkey-with-totp",
    async (page, { context, webauthnCalls }) => {
      await submitPassword(page, username);
      await onAccountPage(page);
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.locator("#totp-form:not([hidden])").waitFor();
      const secret = (await page.locator("#totp-secret").textContent()).trim();
      await page.getByLabel("6-digit code from the app").fill(totp(secret));
      await page.getByRole("button", { name: "Turn on two-step verification" }).click();
      await page.locator("#recovery").waitFor();
      await addPasskey(page, "Key");
      await signOut(page);

      await autofillPending(page);
      const mark = webauthnCalls.length;
      const login = page.waitForResponse((r) => new URL(r.url()).pathname === "/auth/login");
      await submitPassword(page, username, { goto: false });
      assert.deepEqual([...(await (await login).json()).methods].sort(), ["recovery_code", "totp", "webauthn"]);
      const code = page.getByLabel("6-digit code from your authenticator app");
      await code.waitFor();
      assert.equal(await page.getByRole("button", { name: "Use a passkey" }).isVisible(), true);
      assert.equal(await page.getByRole("button", { name: "Verify" }).isVisible(), true);
      assert.match(await message(page).textContent(), /Or use a passkey\.$/);
      await page.getByRole("button", { name: "Use a passkey" }).click();
      await onAccountPage(page);
      assertAutofillAbortedFirst(webauthnCalls, mark);
      assert.deepEqual(await amr(context), ["pwd", "hwk"]);
    },
    { initScripts: [pendingAutofill] },
  );
});

test("autofill: the username field offers the passkey (conditional mediation) and signs in", { timeout: 120000 }, async () => {
  const username = await signUp();
  await inBrowser("passkey-autofill", async (page) => {
    await submitPassword(page, username);
    await onAccountPage(page);
    await addPasskey(page);
    await signOut(page);
    // The virtual authenticator answers the conditional request with its passkey, as a person picking it
    // from the username field's suggestions would: no click, no username.
    assert.equal(await page.getByLabel("Username or email").getAttribute("autocomplete"), "username webauthn");
    await onAccountPage(page);
    assert.match(await page.locator("#passkeys li").first().textContent(), /last used /);
  });
});

test("without PublicKeyCredential.parse*FromJSON and toJSON, the pages' own base64url conversions register and sign in", { timeout: 120000 }, async () => {
  const username = await signUp();
  await inBrowser(
    "passkey-fallback",
    async (page, { authenticator, context }) => {
      await submitPassword(page, username);
      await onAccountPage(page);
      assert.deepEqual(
        await page.evaluate(() => [typeof PublicKeyCredential.parseCreationOptionsFromJSON, typeof PublicKeyCredential.parseRequestOptionsFromJSON, typeof PublicKeyCredential.prototype.toJSON]),
        ["undefined", "undefined", "undefined"],
      );
      await addPasskey(page, "Fallback key");
      await signOut(page);
      await autofillPending(page);
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await onAccountPage(page);
      assert.deepEqual(await amr(context), ["hwk"]);
    },
    { initScripts: [pendingAutofill, withoutJSONHelpers] },
  );
});

// These two answers are the API's (docs/passkeys.md, DELETE /passkeys/{id}) but are served by the test:
// the 10-minute window of reauthentication_required cannot pass without waiting (no timed tests), and no
// API call makes an account without a password (last_factor). The page must explain both.
const problem = (status, code, title, detail) => ({
  status,
  contentType: "application/problem+json",
  body: JSON.stringify({ type: `urn:edge-auth:problem:${code}`, title, status, code, detail }),
});

test("the account page explains a removal the API refuses (reauthentication_required, last_factor) and keeps the passkey", { timeout: 120000 }, async () => {
  const username = await signUp();
  await inBrowser(
    "passkey-remove-refused",
    async (page) => {
      await submitPassword(page, username);
      await onAccountPage(page);
      await addPasskey(page, "Phone");
      let answer = problem(403, "reauthentication_required", "Recent authentication required", "Sign in again, or give a current code, to make this change.");
      await page.route("**/auth/passkeys/*", (route) => (route.request().method() === "DELETE" ? route.fulfill(answer) : route.continue()));
      const remove = page.getByRole("button", { name: 'Remove the passkey "Phone"' });

      await remove.click();
      await page.locator("#message.error", { hasText: "Sign in again to remove a passkey" }).waitFor();
      assert.equal(await page.locator("#passkeys li").count(), 1);
      assert.equal(await remove.isEnabled(), true);

      answer = problem(409, "last_factor", "Last sign-in method", "This is the account's last way to sign in.");
      await remove.click();
      await page.locator("#message.error", { hasText: "last way to sign in" }).waitFor();
      assert.equal(await page.locator("#passkeys li").count(), 1);

      // The real API, once the test stops answering for it: removed.
      await page.unroute("**/auth/passkeys/*");
      await remove.click();
      await page.locator("#message.ok", { hasText: "removed" }).waitFor();
      assert.equal(await page.locator("#passkeys li").count(), 0);
    },
    { initScripts: [pendingAutofill] },
  );
});
