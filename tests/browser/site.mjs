// Harness of the browser tests: the built Worker and the hosted pages (public/, Workers Static Assets)
// served by Miniflare on a real port, like `wrangler dev`; and headless Chromium driven by
// playwright-core. The Worker runs in cookie mode with the low test hash cost of tests/http/helpers.mjs.
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createHmac } from "node:crypto";
import { applyMigrations, TEST_ITERATIONS, TEST_MFA_KEY, TEST_SECRET } from "../http/helpers.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const LOG_DIR = path.join(ROOT, "target/test-logs");
export const HOOK_URL = "https://mail.test/hook";
export const HOOK_SECRET = "mail-webhook-secret-for-browser-tests-0123456789";
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** wrangler.toml's [assets] section (flat `key = "value"` lines), so the test serves what deploys. */
function assetsConfig() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[assets\]\s*$/m)[1]?.split(/^\[/m)[0];
  if (section === undefined) throw new Error("wrangler.toml has no [assets] section");
  const out = {};
  for (const m of section.matchAll(/^\s*([a-z_]+)\s*=\s*"?([^"\n#]*?)"?\s*(#.*)?$/gm)) out[m[1]] = m[2];
  return out;
}

/**
 * Starts Miniflare on a free port. Returns {url, mf, db, mail, close}: `url` is http://localhost:<port>
 * (localhost, a secure context for Chromium, so the `__Host-`/`Secure` cookies of cookie mode work over
 * plain HTTP); `mail` collects the parsed bodies of the mail webhook (reset links).
 * `urlBindings(url)` gives bindings that need the site's URL (WEBAUTHN_ORIGINS): Miniflare picks the
 * port when it starts (port 0), so they are set by a restart with the new bindings, which keeps the port.
 */
export async function startSite({ bindings = {}, urlBindings } = {}) {
  const assets = assetsConfig();
  const mail = [];
  const options = {
    modules: [
      { type: "ESModule", path: path.join(ROOT, "js/entry.mjs") },
      { type: "ESModule", path: path.join(ROOT, "js/guard.mjs") },
      { type: "ESModule", path: path.join(ROOT, "build/index.js") },
      { type: "CompiledWasm", path: path.join(ROOT, "build/index_bg.wasm") },
    ],
    modulesRoot: ROOT,
    compatibilityDate: "2026-07-01",
    d1Databases: ["DB"],
    kvNamespaces: ["AUTH_KV"],
    cf: false,
    // The Worker's JSON log lines only with BROWSER_TEST_LOGS=1 (they would drown the test report).
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        if (process.env.BROWSER_TEST_LOGS === "1") stream.pipe(process.stderr);
        else stream.resume();
      }
    },
    host: "localhost",
    port: 0,
    assets: {
      directory: path.join(ROOT, assets.directory),
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: assets.run_worker_first === "true" },
      assetConfig: {
        html_handling: assets.html_handling ?? "auto-trailing-slash",
        not_found_handling: assets.not_found_handling ?? "none",
      },
    },
    outboundService: async (request) => {
      if (request.url === HOOK_URL) mail.push(JSON.parse(await request.text()));
      return new Response("ok");
    },
    bindings: {
      JWT_SECRET: TEST_SECRET,
      MFA_ENCRYPTION_KEY: TEST_MFA_KEY,
      PASSWORD_ITERATIONS: String(TEST_ITERATIONS),
      ENVIRONMENT: "development",
      COOKIE_MODE: "true",
      MAIL_WEBHOOK_URL: HOOK_URL,
      MAIL_WEBHOOK_SECRET: HOOK_SECRET,
      // The reset link opens the hosted page (the default template points at {origin}/reset-password).
      RATE_LIMIT_LOGIN_IP: "off",
      RATE_LIMIT_SIGNUP_IP: "off",
      RATE_LIMIT_FORGOT_IP: "off",
      RATE_LIMIT_FORGOT_ADDRESS: "off",
      LOGIN_FREE_FAILURES: "99",
      ...bindings,
    },
  };
  const mf = new Miniflare(options);
  const ready = await mf.ready;
  const url = `http://localhost:${ready.port}`;
  if (urlBindings) {
    // Still port 0: on a restart, Miniflare asks the runtime for the port it had (its #getSocketAddress).
    await mf.setOptions({ ...options, bindings: { ...options.bindings, ...urlBindings(url) } });
    const again = await mf.ready;
    if (again.port !== ready.port) throw new Error(`the site moved from port ${ready.port} to ${again.port}`);
  }
  const db = await mf.getD1Database("DB");
  await applyMigrations(db);
  return { url, mf, db, mail, close: () => mf.dispose() };
}

/** Headless Chromium from Debian (scripts/setup.sh installs it), without network chatter of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * Runs `fn()`; when it throws, saves a screenshot of every open page of `context` into
 * target/test-logs/browser-<name>-<n>.png (and the page's URL and message region into the error).
 */
export async function withScreenshots(context, name, fn) {
  try {
    return await fn();
  } catch (error) {
    mkdirSync(LOG_DIR, { recursive: true });
    const pages = context.pages();
    for (const [i, p] of pages.entries()) {
      const file = path.join(LOG_DIR, `browser-${name.replace(/[^a-z0-9]+/gi, "-")}-${i}.png`);
      try {
        await p.screenshot({ path: file, fullPage: true });
        const message = await p.locator("#message").textContent({ timeout: 500 }).catch(() => "");
        error.message += `\n  page ${i}: ${p.url()} message: ${JSON.stringify(message)} screenshot: ${file}`;
      } catch {}
    }
    throw error;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for the mail webhook to carry a message to `email`; returns it. */
export async function mailTo(site, email, after = 0, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const found = site.mail.filter((m) => m.to === email).slice(after);
    if (found.length > 0) return found[found.length - 1];
    if (Date.now() > end) throw new Error(`no mail to ${email} within ${ms} ms`);
    await sleep(25);
  }
}

let n = 0;
/** A username unique within this run. */
export const uniqueName = (prefix = "ui") => `${prefix}${process.pid % 10000}x${++n}`;

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at `time` (ms). */
export function totp(secret, time = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
