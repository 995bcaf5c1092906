// Test harness: the built Worker (js/entry.mjs around build/index.js + build/index_bg.wasm) in Miniflare v4, with an
// in-memory D1 (migrations applied from migrations/*.sql) and KV, and helpers to seed users and forge
// tokens. Everything is checked from outside, over HTTP, as a client would.
import { Miniflare } from "miniflare";
import nodeAssert from "node:assert/strict";
import { createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TEST_SECRET = "test-secret-for-miniflare-only-0123456789abcdef";
/** The key that seals TOTP secrets in the tests (32 bytes, base64url). */
export const TEST_MFA_KEY = Buffer.alloc(32, 0x4d).toString("base64url");
/** Low hash cost for speed: tests only. The default stays 220,000. */
export const TEST_ITERATIONS = 1000;

/** Starts the Worker. `bindings` override the test defaults (all strings, like wrangler vars).
 * `faults: true` puts switchable failing D1 and KV bindings in front (`worker.faults`); `migrations:
 * false` leaves D1 empty.
 * `ratelimits` (optional) is passed to Miniflare as is, e.g.
 * `{ AUTH_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 2, period: 60 } } }`. */
export async function startWorker({
  bindings = {},
  outboundService,
  ratelimits,
  handleRuntimeStdio,
  faults = false,
  migrations = true,
} = {}) {
  const mf = new Miniflare({
    // The same entry as wrangler.toml's `main`: js/entry.mjs around the Rust Worker that
    // worker-build wrote (build/index.js imports build/index_bg.wasm). With `faults`, the test-only
    // tests/http/faults-entry.mjs comes first: the same Worker with switchable failing bindings
    // (`worker.faults({kv, d1})`).
    modules: [
      ...(faults ? [{ type: "ESModule", path: path.join(ROOT, "tests/http/faults-entry.mjs") }] : []),
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
    outboundService,
    ...(ratelimits === undefined ? {} : { ratelimits }),
    ...(handleRuntimeStdio === undefined ? {} : { handleRuntimeStdio }),
    bindings: {
      JWT_SECRET: TEST_SECRET,
      MFA_ENCRYPTION_KEY: TEST_MFA_KEY,
      PASSWORD_ITERATIONS: String(TEST_ITERATIONS),
      ENVIRONMENT: "development",
      // Rate limits are off by default so unrelated tests can fail logins freely; the rate-limit tests
      // switch them on with their own bindings.
      RATE_LIMIT_LOGIN_IP: "off",
      RATE_LIMIT_SIGNUP_IP: "off",
      RATE_LIMIT_FORGOT_IP: "off",
      RATE_LIMIT_FORGOT_ADDRESS: "off",
      LOGIN_FREE_FAILURES: "99",
      ...bindings,
    },
  });
  await mf.ready;
  const db = await mf.getD1Database("DB");
  if (migrations) await applyMigrations(db);
  const kv = await mf.getKVNamespace("AUTH_KV");
  return new Worker(mf, db, kv);
}

/** Applies migrations/*.sql in order and records each in `d1_migrations`, as `wrangler d1 migrations
 * apply` does (the same table, the same names), so `GET /health` finds the schema it expects. */
export async function applyMigrations(db) {
  await db
    .prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, " +
        "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )
    .run();
  const dir = path.join(ROOT, "migrations");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const statement of sqlStatements(readFileSync(path.join(dir, file), "utf8"))) {
      await db.prepare(statement).run();
    }
    await db.prepare("INSERT INTO d1_migrations (name) VALUES (?1)").bind(file).run();
  }
}

/** The statements of a migration file: each ends with `;` at the end of a line, except inside a
 * trigger, whose body (`BEGIN ... END;`) has statements of its own. Comments are dropped. */
export function sqlStatements(sql) {
  const statements = [];
  let current = [];
  let inTrigger = false;
  for (const raw of sql.split("\n")) {
    const line = raw.replace(/--.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    current.push(line);
    if (/^\s*CREATE\s+TRIGGER\b/i.test(line)) inTrigger = true;
    const ends = inTrigger ? /^\s*END\s*;$/i.test(line) : line.endsWith(";");
    if (ends) {
      statements.push(current.join("\n").replace(/;$/, ""));
      current = [];
      inTrigger = false;
    }
  }
  if (current.length > 0) statements.push(current.join("\n"));
  return statements;
}

/** A PHC string exactly as the Worker stores it, computed independently with Node's OpenSSL. */
export function phcHash(password, iterations = TEST_ITERATIONS, salt = randomBytes(16)) {
  const hash = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 64, "sha512");
  const b64 = (b) => b.toString("base64").replace(/=+$/, "");
  return `$pbkdf2-sha512$i=${iterations},l=64$${b64(salt)}$${b64(hash)}`;
}

let counter = 0;
/** A username unique within this process (3-30 chars). */
export function uniqueName(prefix = "user") {
  counter += 1;
  return `${prefix}${process.pid % 10000}x${counter}`.slice(0, 30);
}

class Worker {
  constructor(mf, db, kv) {
    this.mf = mf;
    this.db = db;
    this.kv = kv;
  }

  /** dispatchFetch with a path relative to the Worker's origin. */
  fetch(urlPath, init = {}) {
    return this.mf.dispatchFetch(`http://localhost${urlPath}`, { redirect: "manual", ...init });
  }

  /** POST a JSON body. */
  post(urlPath, body, headers = {}) {
    return this.fetch(urlPath, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  /** Inserts a user directly into D1. Returns the row as inserted (with the plain password). */
  async seedUser({
    username = uniqueName(),
    password = "correct horse battery",
    email = null,
    role = "user",
    disabled = 0,
    displayName = null,
    passwordHash,
  } = {}) {
    const id = randomBytes(16).toString("base64url");
    const hash = passwordHash ?? phcHash(password);
    await this.db
      .prepare(
        "INSERT INTO users (id, username, email, display_name, role, password_hash, disabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      )
      .bind(id, username, email, displayName, role, hash, disabled)
      .run();
    return { id, username, password, email, role };
  }

  /** Logs in and returns the parsed token response (asserting nothing). */
  async login(username, password) {
    const res = await this.post("/auth/login", { username, password });
    return { status: res.status, body: await res.json() };
  }

  /** Seeds a user and logs in; returns {user, tokens}. */
  async userWithToken(options = {}) {
    const user = await this.seedUser(options);
    const { status, body } = await this.login(user.username, user.password);
    if (status !== 200) throw new Error(`login of seeded user failed: ${status} ${JSON.stringify(body)}`);
    return { user, tokens: body };
  }

  /** Flips the failing bindings of a worker started with `faults: true` (tests/http/faults-entry.mjs). */
  async faults(switches) {
    const res = await this.post("/__faults", switches);
    if (res.status !== 200) throw new Error(`this worker has no fault switches (status ${res.status})`);
    return res.json();
  }

  /** Runs the scheduled handler once, as the cron trigger does; returns its outcome. */
  async scheduled() {
    const worker = await this.mf.getWorker();
    return worker.scheduled({ cron: "* * * * *" });
  }

  async close() {
    await this.mf.dispose();
  }
}

/** base64url of a string, or of the JSON of any other value. */
export const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Decodes a JWT's header and claims without verifying. */
export function decodeJwt(token) {
  const [h, c] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    claims: JSON.parse(Buffer.from(c, "base64url").toString()),
  };
}

/** Signs header+claims with HMAC-SHA256 (or HS384/HS512 when `alg` says so) under `secret`. */
export function signJwt(header, claims, secret = TEST_SECRET) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const algo = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[header.alg] ?? "sha256";
  const sig = createHmac(algo, secret).update(input).digest("base64url");
  return `${input}.${sig}`;
}

/** Re-signs a real token after `mutate(header, claims)` changed it. */
export function resign(token, mutate, secret = TEST_SECRET) {
  const { header, claims } = decodeJwt(token);
  mutate(header, claims);
  return signJwt(header, claims, secret);
}

/** Asserts the shape every problem response shares; returns the parsed body. */
export async function expectProblem(assert, res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `status of ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = JSON.parse(text);
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(typeof body.title, "string");
  assert.equal(typeof body.detail, "string");
  assert.equal(typeof body.type, "string");
  if (status === 401) {
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer .*error="[a-z_]+"/);
  }
  return body;
}

/**
 * Asserts a 400 `invalid_request` whose `errors` contain `{field, code}` (code optional) and whose every
 * entry has a non-empty string `field`, `code` and `message`; returns the parsed body.
 */
export async function expectFieldError(res, field, code) {
  const body = await expectProblem(nodeAssert, res, 400, "invalid_request");
  nodeAssert.ok(Array.isArray(body.errors), `errors[] in ${JSON.stringify(body)}`);
  for (const e of body.errors) {
    nodeAssert.equal(typeof e.field, "string");
    nodeAssert.equal(typeof e.code, "string");
    nodeAssert.equal(typeof e.message, "string");
    nodeAssert.ok(e.message.length > 0);
  }
  const match = body.errors.find((e) => e.field === field && (code === undefined || e.code === code));
  nodeAssert.ok(match, `expected {field: ${field}, code: ${code}} in ${JSON.stringify(body.errors)}`);
  return body;
}

/** The fields of every token response, sorted. */
export const TOKEN_KEYS = ["access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type", "user"];

/** Waits until the wall clock is just past a whole second, so what follows happens within one second. */
export async function atStartOfSecond() {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

/** Asserts a 200 token response (all fields, default lifetimes, no-store) and returns it. */
export async function expectTokens(res, user) {
  const text = await res.text();
  nodeAssert.equal(res.status, 200, `status of ${text}`);
  nodeAssert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  nodeAssert.equal(res.headers.get("cache-control"), "no-store");
  const body = JSON.parse(text);
  nodeAssert.deepEqual(Object.keys(body).sort(), TOKEN_KEYS);
  nodeAssert.equal(body.token_type, "Bearer");
  nodeAssert.equal(body.expires_in, 900);
  nodeAssert.equal(typeof body.access_token, "string");
  nodeAssert.match(body.refresh_token, /^rt1\./);
  nodeAssert.equal(typeof body.refresh_expires_in, "number");
  if (user) nodeAssert.equal(body.user.id, user.id);
  return body;
}

/** Parses one Set-Cookie header: {name, value, attrs} with attribute names lowercased. */
export function parseSetCookie(header) {
  const [pair, ...rest] = header.split(";").map((s) => s.trim());
  const eq = pair.indexOf("=");
  const attrs = {};
  for (const a of rest.filter(Boolean)) {
    const i = a.indexOf("=");
    const key = (i < 0 ? a : a.slice(0, i)).toLowerCase();
    attrs[key] = i < 0 ? true : a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

/** Waits `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 20 ms for up to `ms` (2 s unless told); returns its first truthy value, or undefined. */
export async function poll(probe, ms = 2000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) return undefined;
    await sleep(20);
  }
}

/** An outboundService for Miniflare that records every request into `list` and answers 200. */
export const capture = (list) => async (request) => {
  list.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body: await request.text() });
  return new Response("ok");
};

/** The webhook calls in `list` addressed to `email`. */
export const mailsTo = (list, email) =>
  list.filter((c) => {
    try {
      return JSON.parse(c.body).to === email;
    } catch {
      return false;
    }
  });

/** Asserts that `token` opens the profile of `user`. */
export async function expectProfileOk(worker, token, user) {
  const res = await worker.fetch("/auth/profile", { headers: { Authorization: `Bearer ${token}` } });
  nodeAssert.equal(res.status, 200, await res.clone().text());
  nodeAssert.equal((await res.json()).id, user.id);
}
