// The hosted pages (public/auth/ui/) in headless Chromium against the real Worker in Miniflare, in
// cookie mode: a person signs up, signs out and in, changes the password, resets a forgotten one
// through the mailed link, and ends another session, all through the pages; and the API's error
// `detail`s reach the page's aria-live region. Run by `make test` ("browser tests (Chromium)").
// A failing step leaves screenshots in target/test-logs/browser-*.png.
// UPDATE_SCREENSHOTS=1 also writes the README's screenshot, docs/sign-in.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { startSite, launchBrowser, withScreenshots, mailTo, uniqueName, ROOT, LOG_DIR } from "./site.mjs";

const APP_ORIGIN = "https://app.example.test";
let site;
let browser;
before(async () => {
  // One app origin is allowed as a return_to target (the pages ask the API: GET /auth/return-origins).
  [site, browser] = await Promise.all([startSite({ bindings: { CORS_ORIGINS: APP_ORIGIN } }), launchBrowser()]);
});
after(async () => {
  await Promise.all([browser?.close(), site?.close()]);
});

/** A fresh browser profile (no cookies) at the site; the test's body runs with screenshots on failure. */
async function inBrowser(name, fn, options = {}) {
  const context = await browser.newContext({ baseURL: site.url, ...options });
  const errors = [];
  context.on("page", (p) => p.on("pageerror", (e) => errors.push(String(e))));
  const page = await context.newPage();
  // Chromium logs every 4xx answer as "Failed to load resource"; the pages expect those. Anything else
  // (a CSP refusal, a script error) fails the test.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
  try {
    await withScreenshots(context, name, () => fn(page, context));
    // No CSP violation or script error on any page visited.
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

const message = (page) => page.locator("#message");

async function signIn(page, username, password) {
  await page.goto("/auth/ui/");
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Password", { exact: true }).press("Enter"); // the keyboard submits the form
  await page.waitForURL("**/auth/ui/account");
  await page.locator("body[data-ready=true]").waitFor();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/auth\/ui\/$/);
}

const apiLogin = (username, password, userAgent) =>
  fetch(`${site.url}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "User-Agent": userAgent },
    body: JSON.stringify({ username, password }),
  });

test("the pages are static files with a strict CSP; other paths still reach the Worker", async () => {
  const res = await fetch(`${site.url}/auth/ui/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/html/);
  assert.match(res.headers.get("content-security-policy"), /default-src 'none'; script-src 'self'/);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
  assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handler");
  assert.equal((await fetch(`${site.url}/health`)).status, 200);
  assert.equal((await fetch(`${site.url}/_headers`)).status, 404);
});

test("sign up, sign out, sign in, change password, forgot and reset by the mailed link, end another session", async () => {
  const username = uniqueName();
  const email = `${username}@example.com`;
  const first = "first long passphrase";
  const second = "second long passphrase";
  const third = "third long passphrase";
  await inBrowser("journey", async (page) => {
    // Sign up: lands on the account page, signed in.
    await page.goto("/auth/ui/");
    mkdirSync(LOG_DIR, { recursive: true });
    await page.screenshot({ path: path.join(LOG_DIR, "sign-in.png") });
    if (process.env.UPDATE_SCREENSHOTS === "1") await page.locator("main").screenshot({ path: path.join(ROOT, "docs/sign-in.png") });
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL("**/auth/ui/signup");
    await page.getByLabel("Username", { exact: true }).fill(username);
    await page.getByLabel(/^Email/).fill(email);
    await page.getByLabel("Password", { exact: true }).fill(first);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/auth/ui/account");
    await assert.doesNotReject(page.locator("#username", { hasText: username }).waitFor());
    assert.equal(await page.locator("#email").textContent(), email);

    // The tokens are in HttpOnly cookies the page's script cannot read.
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === "__Host-edge-auth-access" && c.httpOnly), JSON.stringify(cookies));
    assert.equal(await page.evaluate(() => document.cookie), "");

    await signOut(page);
    await page.goto("/auth/ui/account");
    await page.waitForURL(/\/auth\/ui\/\?return_to=/); // signed out: the account page sends to sign-in

    await signIn(page, username, first);
    assert.equal(await page.locator("#username").textContent(), username);

    // Change password.
    await page.getByLabel("Current password").fill(first);
    await page.getByLabel("New password").fill(second);
    await page.getByRole("button", { name: "Change password" }).click();
    await message(page).filter({ hasText: "Password changed" }).waitFor();
    // The change answered with a fresh session's cookies: the page still works, with that one session.
    await page.reload();
    await page.locator("#sessions li", { hasText: "This session" }).waitFor();
    assert.equal(await page.locator("#sessions li").count(), 1);
    await signOut(page);

    // Forgot password -> the mailed link -> reset.
    const before = site.mail.filter((m) => m.to === email).length;
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Email or username").fill(email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await message(page).filter({ hasText: "If an account matches" }).waitFor();
    const mail = await mailTo(site, email, before);
    assert.ok(mail.link.startsWith(`${site.url}/auth/ui/reset-password`), mail.link);
    await page.goto(mail.link);
    await page.waitForURL("**/auth/ui/reset-password*");
    assert.ok(!page.url().includes("token="), `the token leaves the address bar: ${page.url()}`);
    await page.getByLabel("New password", { exact: true }).fill(third);
    await page.getByLabel("Repeat the new password").fill(third);
    await page.getByRole("button", { name: "Set new password" }).click();
    await message(page).filter({ hasText: "Your password has been changed" }).waitFor();

    // The same link a second time: the API's detail for a used token.
    await page.goto(mail.link);
    await page.getByLabel("New password", { exact: true }).fill("fourth long passphrase");
    await page.getByLabel("Repeat the new password").fill("fourth long passphrase");
    await page.getByRole("button", { name: "Set new password" }).click();
    const probe = await fetch(`${site.url}/auth/reset-password`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: new URL(mail.link).searchParams.get("token"), new_password: "fourth long passphrase" }),
    });
    const problem = await probe.json();
    assert.equal(problem.code, "reset_token_invalid");
    await message(page).filter({ hasText: problem.detail }).waitFor();
    assert.match(await message(page).getAttribute("class"), /error/);

    // Sign in with the new password; another session (made through the API) is listed and ended.
    await signIn(page, username, third);
    const other = await apiLogin(username, third, "OtherDevice/1.0");
    assert.equal(other.status, 200);
    await page.reload();
    const sessions = page.locator("#sessions li");
    await page.locator("#sessions li", { hasText: "OtherDevice/1.0" }).waitFor();
    assert.equal(await sessions.count(), 2);
    await page.locator("#sessions li", { hasText: "OtherDevice/1.0" }).getByRole("button", { name: /^End the session/ }).click();
    await message(page).filter({ hasText: "The session has ended" }).waitFor();
    assert.equal(await sessions.count(), 1);
    await page.locator("#sessions li", { hasText: "This session" }).waitFor();
    const refreshed = await fetch(`${site.url}/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: (await other.json()).refresh_token }),
    });
    assert.equal(refreshed.status, 401, "the ended session cannot refresh");

    // Recent sign-ins: a wrong password (through the API, from another device) is listed as refused,
    // next to the page's own sign-in, and neither shows the password typed.
    assert.equal((await apiLogin(username, "a wrong guess 123", "WrongGuess/1.0")).status, 401);
    // Events are written after the response: reload until the page's list has it (a few tries).
    const refused = page.locator("#sign-ins li", { hasText: "WrongGuess/1.0" });
    for (let i = 0; i < 5 && (await refused.count()) === 0; i += 1) {
      await page.reload();
      await page.locator("#sign-ins li").first().waitFor();
    }
    await refused.waitFor();
    assert.match(await refused.textContent(), /Password: refused.*wrong password/s);
    assert.equal(await refused.getAttribute("data-success"), "false");
    assert.ok((await page.locator('#sign-ins li[data-success="true"]').count()) >= 1, "the successful sign-ins are listed");
    assert.equal((await page.locator("#sign-ins").textContent()).includes("a wrong guess"), false);
  });
});

test("a wrong password shows the API's detail in the live region", async () => {
  const username = uniqueName();
  const signup = await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: "the right passphrase" }),
  });
  assert.equal(signup.status, 201);
  const wrong = await apiLogin(username, "not the password", "node");
  const problem = await wrong.json();
  assert.equal(problem.code, "invalid_credentials");
  await inBrowser("wrong-password", async (page) => {
    await page.goto("/auth/ui/");
    await page.getByLabel("Username or email").fill(username);
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const region = message(page);
    await region.filter({ hasText: problem.detail }).waitFor();
    assert.equal(await region.getAttribute("aria-live"), "polite");
    assert.match(page.url(), /\/auth\/ui\/$/);
  });
});

test("return_to: a same-origin path is followed after sign-in, another origin is not", async () => {
  const username = uniqueName();
  const password = "return to passphrase";
  await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  await inBrowser("return-to", async (page) => {
    for (const evil of ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x"]) {
      await page.goto(`/auth/ui/?return_to=${encodeURIComponent(evil)}`);
      await page.getByLabel("Username or email").fill(username);
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL("**/auth/ui/account");
    }
    await page.goto(`/auth/ui/?return_to=${encodeURIComponent("/auth/ui/verify-email?from=test")}`);
    await page.getByLabel("Username or email").fill(username);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/auth/ui/verify-email?from=test");
  });
});

test("return_to: an origin listed in CORS_ORIGINS is followed after sign-in", async () => {
  const username = uniqueName();
  const password = "return to the app passphrase";
  await fetch(`${site.url}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  await inBrowser("return-to-app", async (page) => {
    // The app itself is not running here: its pages are answered by the browser's router.
    await page.route(`${APP_ORIGIN}/**`, (route) => route.fulfill({ contentType: "text/html", body: "<p>back in the app</p>" }));
    await page.goto(`/auth/ui/?return_to=${encodeURIComponent(`${APP_ORIGIN}/done?x=1`)}`);
    await page.getByLabel("Username or email").fill(username);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${APP_ORIGIN}/done?x=1`);
  });
});

test("on a phone-sized screen the sign-up page fits without sideways scrolling and labels every input", async () => {
  await inBrowser(
    "phone",
    async (page) => {
      await page.goto("/auth/ui/signup");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `overflows by ${overflow}px`);
      // Every input has a label.
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input")].filter((i) => i.labels.length === 0).map((i) => i.id),
      );
      assert.deepEqual(unlabelled, []);
    },
    { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  );
});

test("keyboard: Tab walks the sign-in page in order, with a visible focus ring", async () => {
  await inBrowser("keyboard", async (page) => {
    await page.goto("/auth/ui/");
    const seen = [];
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press("Tab");
      seen.push(
        await page.evaluate(() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return { what: el.id || el.textContent.trim(), outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 };
        }),
      );
    }
    assert.deepEqual(
      seen.map((s) => s.what),
      ["username", "password", "Sign in", "passkey-signin", "Forgot your password?", "Create an account"],
    );
    assert.ok(seen.every((s) => s.outline), JSON.stringify(seen));
  });
});
