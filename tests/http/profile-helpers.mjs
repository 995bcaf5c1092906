// Helpers shared by the compatibility-profile tests (tests/http/profile-*.test.mjs): the suite's Worker,
// exact JSON answers, the checks every profile makes in its own format (sign-in, stable user ids, credential
// refusals, sessions and user lists), forged tokens (expired, foreign secret, alg none, tampered), Set-Cookie
// parsing, rate-limit windows, the accounts profile's JWE, and the capture of outbound mail. Additive only:
// the native tests keep using helpers.mjs.
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { createDecipheriv, randomBytes } from "node:crypto";
import { b64url, decodeJwt, resign, startWorker, uniqueName, parseSetCookie, sleep, poll, capture, mailsTo } from "./helpers.mjs";

export { sleep, capture, mailsTo };

export const FOREIGN_SECRET = "another-secret-that-this-worker-never-saw-0123456789";
export const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);

// ---- the suite's Worker --------------------------------------------------------------------------------

/**
 * Starts a Worker with `options` (as for startWorker) before the tests of the enclosing describe, runs
 * `seed(worker)` on it, and closes it after them. Returns a stand-in that forwards every property to that
 * Worker, so the tests use it as the Worker itself (`w.post(...)`, `w.db`).
 */
export function suiteWorker(options, seed) {
  let worker;
  before(async () => {
    worker = await startWorker(options);
    await seed?.(worker);
  });
  after(async () => {
    await worker?.close();
  });
  return new Proxy(
    {},
    {
      get(_, prop) {
        if (worker === undefined) throw new Error(`the suite's Worker is used before it started (.${String(prop)})`);
        const value = worker[prop];
        return typeof value === "function" ? value.bind(worker) : value;
      },
    },
  );
}

// ---- answers -------------------------------------------------------------------------------------------

/** Reads `res` once: {status, text, body (parsed JSON or undefined), headers}. */
export async function read(res) {
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body, headers: res.headers };
}

/** Asserts `res` is `status` with a JSON content type and exactly `expected` as body; returns the body. */
export async function expectJson(res, status, expected) {
  const { text, body } = await read(res);
  assert.equal(res.status, status, `status of ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, `content-type of ${text}`);
  if (expected !== undefined) assert.deepEqual(body, expected, text);
  return body;
}

/** Asserts `res` is `status` with a JSON object body whose keys are exactly `keys`; returns the body. */
export async function expectJsonKeys(res, status, keys) {
  const body = await expectJson(res, status);
  assert.equal(typeof body, "object", JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), [...keys].sort(), JSON.stringify(body));
  return body;
}

/** Asserts that two responses both have `status`, the same content type and byte-identical bodies. */
export async function expectIdentical(a, b, status) {
  const [ra, rb] = [await read(a), await read(b)];
  assert.equal(ra.status, status, ra.text);
  assert.equal(rb.status, status, rb.text);
  assert.equal(ra.headers.get("content-type"), rb.headers.get("content-type"));
  assert.equal(ra.text, rb.text);
  return ra;
}

/** A number that can serve as a user id: a positive safe integer. */
export function assertNumericId(id, what = "id") {
  assert.equal(typeof id, "number", `${what} is a JSON number, got ${JSON.stringify(id)}`);
  assert.ok(Number.isSafeInteger(id) && id > 0, `${what} is a positive integer, got ${id}`);
}

/** Asserts exp - iat of a JWT and that iat is now. Returns the claims. */
export function assertLifetime(token, seconds) {
  const { claims } = decodeJwt(token);
  assert.equal(typeof claims.iat, "number");
  assert.equal(typeof claims.exp, "number");
  assert.equal(claims.exp - claims.iat, seconds);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60, `iat ${claims.iat} is now`);
  return claims;
}

/** Asserts a 200 GET /sessions answer that lists exactly one session (the caller's). */
export async function expectOneSession(res) {
  const body = await expectJson(res, 200);
  assert.ok(Array.isArray(body.sessions), JSON.stringify(body));
  assert.equal(body.sessions.length, 1);
}

/** Asserts a 200 GET /admin/users answer with a users array; returns the body. */
export async function expectUserList(res) {
  const body = await expectJson(res, 200);
  assert.ok(Array.isArray(body.users), JSON.stringify(body));
  return body;
}

// ---- checks every profile makes in its own format ------------------------------------------------------

/** Seeds a user (`seed` as for seedUser), logs it in with `login(user)` and asserts a 200; returns {user, body}. */
export async function seedAndSignIn(w, seed, login) {
  const user = await w.seedUser(seed);
  const { status, text, body } = await read(await login(user));
  assert.equal(status, 200, text);
  return { user, body };
}

/**
 * Seeds two users with `password` and asserts that the id `idOf(user)` reads from a login of a user is a
 * numeric id, the same on two logins of one user and different for the other.
 */
export async function expectIdsStablePerUser(w, password, idOf) {
  const a = await w.seedUser({ username: uniqueName("ida"), password });
  const b = await w.seedUser({ username: uniqueName("idb"), password });
  const ids = [];
  for (const u of [a, a, b]) {
    const id = await idOf(u);
    assertNumericId(id);
    ids.push(id);
  }
  assert.equal(ids[0], ids[1]);
  assert.notEqual(ids[0], ids[2]);
}

/**
 * The three credential-refusal tests, in the profile's format: `known(password)` logs in an existing user and
 * `unknown(password)` a user that does not exist. A `wrong` password for the known user and the `right` one
 * (some account's) for the unknown user are both 401 `refusal`; the two refusals of `wrong` are byte-identical.
 * `shown` is `refusal` as the test names spell it, `field` the login field's name, `who` the test's word for it.
 */
export function credentialRefusalTests({ refusal, shown, field, who = "user", known, unknown, wrong, right }) {
  test(`a wrong password is 401 ${shown}`, async () => {
    await expectJson(await known(wrong), 401, refusal);
  });

  test(`an unknown ${field} is 401 ${shown}`, async () => {
    await expectJson(await unknown(right), 401, refusal);
  });

  test(`unknown ${who} and wrong password get byte-identical 401 answers`, async () => {
    await expectIdentical(await known(wrong), await unknown(wrong), 401);
  });
}

// ---- forged tokens -----------------------------------------------------------------------------------

/** The real token, re-signed (right secret) with exp an hour ago: expired beyond any clock skew. */
export function expiredToken(token) {
  const t = now();
  return resign(token, (_, claims) => Object.assign(claims, { iat: t - 7200, exp: t - 3600 }));
}

/** The real token's header and claims, signed with a secret the Worker does not know. */
export const foreignToken = (token) => resign(token, () => {}, FOREIGN_SECRET);

/** The real token's claims under {"alg":"none"} and an empty signature. */
export function algNoneToken(token) {
  const { header, claims } = decodeJwt(token);
  return `${b64url({ ...header, alg: "none" })}.${b64url(claims)}.`;
}

/** The real token with its claims changed by `mutate` but its original signature kept. */
export function tamperedToken(token, mutate) {
  const [, , sig] = token.split(".");
  const { header, claims } = decodeJwt(token);
  mutate(claims);
  return `${b64url(header)}.${b64url(claims)}.${sig}`;
}

/** The forged tokens every profile refuses: [name, build(realToken)], so tests can be named up front. */
export const BAD_TOKENS = [
  ["an expired token", expiredToken],
  ["a token signed with another secret", foreignToken],
  ["an alg none token", algNoneToken],
  ["a token whose signature is cut off", (t) => t.split(".").slice(0, 2).join(".") + "."],
  ["a malformed token", () => "not-a-jwt"],
  ["three garbage segments", () => "abc.def.ghi"],
];

// ---- cookies ------------------------------------------------------------------------------------------

/** The token cookies among the Set-Cookie headers of `res`, parsed, keyed by name (asserting no name
 * repeats). edge-auth's D1 bookmark cookie is no token (tests/http/replicas.test.mjs) and is left out. */
export function cookiesOf(res) {
  const list = res.headers.getSetCookie().map(parseSetCookie).filter((c) => c.name !== "__Secure-edge-auth-d1-bookmark");
  const byName = Object.fromEntries(list.map((c) => [c.name, c]));
  assert.equal(Object.keys(byName).length, list.length, `a cookie is set twice: ${res.headers.getSetCookie()}`);
  return byName;
}

/** A single Cookie header from {name: value}. */
export const cookieHeader = (pairs) => ({
  Cookie: Object.entries(pairs)
    .map(([k, v]) => `${k}=${v}`)
    .join("; "),
});

// ---- rate-limit windows --------------------------------------------------------------------------------

/** Waits, if needed, so that at least `needSeconds` are left in the current `windowSeconds` window. */
export async function roomInWindow(windowSeconds, needSeconds) {
  const t = Date.now() / 1000;
  const left = windowSeconds - (t % windowSeconds);
  if (left < needSeconds) await sleep(Math.ceil((left + 0.25) * 1000));
}

// ---- the accounts profile's JWE -------------------------------------------------------------------------

/** A random 32-byte key, base64url, for USER_DATA_KEY. */
export const randomKey = () => randomBytes(32).toString("base64url");

/**
 * Opens a compact JWE {"alg":"dir","enc":"A256GCM"} with the base64url 32-byte `keyB64url`: asserts the
 * five parts (the second empty) and the header; returns {header, payload (parsed JSON)}.
 */
export function openJwe(compact, keyB64url) {
  assert.equal(typeof compact, "string");
  const parts = compact.split(".");
  assert.equal(parts.length, 5, `compact JWE has 5 parts: ${compact}`);
  const [protectedB64, encryptedKey, ivB64, ctB64, tagB64] = parts;
  assert.equal(encryptedKey, "", "alg dir: the encrypted key is empty");
  const header = JSON.parse(Buffer.from(protectedB64, "base64url").toString());
  assert.equal(header.alg, "dir");
  assert.equal(header.enc, "A256GCM");
  const key = Buffer.from(keyB64url, "base64url");
  assert.equal(key.length, 32);
  const iv = Buffer.from(ivB64, "base64url");
  assert.equal(iv.length, 12, "A256GCM iv is 96 bits");
  const tag = Buffer.from(tagB64, "base64url");
  assert.equal(tag.length, 16, "A256GCM tag is 128 bits");
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(Buffer.from(protectedB64, "ascii"));
  decipher.setAuthTag(tag);
  const plain = Buffer.concat([decipher.update(Buffer.from(ctB64, "base64url")), decipher.final()]);
  return { header, payload: JSON.parse(plain.toString("utf8")) };
}

// ---- outbound mail ----------------------------------------------------------------------------------------

export const HOOK_URL = "https://mail.test/hook";
export const HOOK_SECRET = "mail-webhook-secret-for-profile-tests-0123456789";

/** Waits for the first webhook call to `email` and returns the reset token of its link. */
export async function resetTokenFromMail(list, email) {
  const call = await poll(() => mailsTo(list, email)[0], 3000);
  assert.ok(call, `no webhook call for ${email} within 3 s`);
  const { link } = JSON.parse(call.body);
  assert.equal(typeof link, "string", call.body);
  const token = new URL(link).searchParams.get("token");
  assert.ok(token, `a token in ${link}`);
  return token;
}

// ---- OpenAPI ------------------------------------------------------------------------------------------------

/** Asserts GET `<base>/openapi.json` is an OpenAPI document whose servers[0].url is `base` and whose paths hold `paths`. */
export async function expectOpenApi(worker, base, paths) {
  const res = await worker.fetch(`${base}/openapi.json`);
  const { text, body: doc } = await read(res);
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/(openapi\+)?json/);
  assert.equal(typeof doc.openapi, "string");
  assert.ok(doc.openapi.startsWith("3."), doc.openapi);
  const server = doc.servers?.[0]?.url;
  if (base === "") assert.ok(server === "" || server === "/", `servers[0].url of the root is "/" or "", got ${server}`);
  else assert.equal(server, base);
  for (const p of paths) {
    assert.ok(doc.paths && p in doc.paths, `path ${p} in ${Object.keys(doc.paths ?? {})}`);
  }
  return doc;
}
