// Passkeys (WebAuthn) from outside, against docs/passkeys.md: registration options and registration
// (fmt "none" and "packed" self-attestation, ES256 and EdDSA), passkey sign-in with and without a
// username, the passkey as a second factor after a password, and managing passkeys. Every check the
// relying party must make [WebAuthn L3 §7.1 registration, §7.2 authentication] is broken once on purpose
// with the independent software authenticator of ./webauthn-authenticator.mjs.
//
// Expiry of a challenge (5 minutes) is tested by moving the stored challenge's times into the past in
// D1, not by waiting.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { atStartOfSecond, decodeJwt, expectProblem, expectTokens, parseSetCookie, startWorker, uniqueName } from "./helpers.mjs";
import { ALG, SoftAuthenticator, aaguidText } from "./webauthn-authenticator.mjs";
import { encode as cborEncode } from "cborg";

const ORIGIN = "http://localhost:8787";
const WEBAUTHN = { WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: ORIGIN };
const VIEW_KEYS = ["aaguid", "algorithm", "backup_eligible", "backup_state", "created_at", "id", "last_used_at", "name", "transports"];
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const b64uBytes = (text) => Buffer.from(text, "base64url");

// ---- a small client of the passkey endpoints ---------------------------------------------------------

/** The passkey endpoints of one Worker. */
function api(w) {
  const call = (method, path, { body, token, headers = {} } = {}) =>
    w.fetch(path, {
      method,
      headers: { ...(token ? bearer(token) : {}), ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    registerOptions: (token, body = {}) => call("POST", "/auth/passkeys/register/options", { body, token }),
    register: (token, credential, name) => call("POST", "/auth/passkeys/register", { body: name === undefined ? { credential } : { credential, name }, token }),
    loginOptions: (body = {}, headers) => call("POST", "/auth/passkeys/login/options", { body, headers }),
    login: (body, headers) => call("POST", "/auth/passkeys/login", { body, headers }),
    list: (token) => call("GET", "/auth/passkeys", { token }),
    rename: (token, id, name) => call("PATCH", `/auth/passkeys/${id}`, { body: { name }, token }),
    remove: (token, id) => call("DELETE", `/auth/passkeys/${id}`, { token }),
    verify: (body) => call("POST", "/auth/mfa/verify", { body }),
    passwordLogin: (user, headers) => call("POST", "/auth/login", { body: { username: user.username, password: user.password }, headers }),
  };
}

/** Asserts the status and returns the parsed JSON body. */
async function okJson(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `status of ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** Seeds a user, signs in with the password and registers one passkey with `create` knobs. */
async function userWithPasskey(w, { seed = {}, authenticator = {}, create = {}, name } = {}) {
  const { user, tokens } = await w.userWithToken({ username: uniqueName("pk"), ...seed });
  const a = new SoftAuthenticator(authenticator);
  const options = await okJson(await api(w).registerOptions(tokens.access_token));
  const { json, credential } = a.create(options, create);
  const view = await okJson(await api(w).register(tokens.access_token, json, name), 201);
  return { user, tokens, authenticator: a, credential, view };
}

/** Fresh request options (body `optionsBody`), one assertion with `get` knobs, POST /passkeys/login. */
async function passkeyLogin(w, a, { optionsBody = {}, get = {}, headers } = {}) {
  const options = await okJson(await api(w).loginOptions(optionsBody));
  return api(w).login({ credential: a.get(options, get) }, headers);
}

/** An access token of `user` whose auth_time is an hour old (moved back in D1, then refreshed). */
async function staleToken(w, user, tokens) {
  const old = Math.floor(Date.now() / 1000) - 3600;
  await w.db.prepare("UPDATE sessions SET auth_time = ?1 WHERE user_id = ?2").bind(old, user.id).run();
  const refreshed = await okJson(await w.post("/auth/refresh", { refresh_token: tokens.refresh_token }));
  assert.equal(decodeJwt(refreshed.access_token).claims.auth_time, old);
  return refreshed.access_token;
}

/** Moves every stored WebAuthn challenge's creation and expiry an hour into the past (whatever unit). */
async function expireAllChallenges(w) {
  const rows = (await w.db.prepare("SELECT * FROM webauthn_challenges").all()).results;
  assert.ok(rows.length > 0, "a stored challenge to expire");
  const columns = Object.keys(rows[0]).filter((c) => /expire|created/i.test(c));
  assert.ok(columns.some((c) => /expire/i.test(c)), `an expiry column in ${Object.keys(rows[0])}`);
  for (const column of columns) {
    const sample = rows[0][column];
    const pastSeconds = Math.floor(Date.now() / 1000) - 3600;
    const past =
      typeof sample === "number"
        ? sample > 1e12
          ? pastSeconds * 1000
          : pastSeconds
        : new Date(pastSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await w.db.prepare(`UPDATE webauthn_challenges SET "${column}" = ?1`).bind(past).run();
  }
}

/** Asserts 401 invalid_credentials; returns the body text. */
async function expectInvalidCredentials(res) {
  const text = await res.clone().text();
  await expectProblem(assert, res, 401, "invalid_credentials");
  return text;
}

/** The response headers minus those that differ per request. */
// Per-response values: the request id, the date, and the D1 bookmark (it moves with every write).
const stableHeaders = (res) =>
  [...res.headers].filter(([k]) => !["x-request-id", "date", "x-d1-bookmark"].includes(k.toLowerCase())).sort();

/** Asserts a passkey view and returns it. */
function expectView(view, { id, name = "Passkey", algorithm = ALG.ES256, aaguid = "00000000-0000-0000-0000-000000000000", backupEligible = false, backupState = false } = {}) {
  assert.deepEqual(Object.keys(view).sort(), VIEW_KEYS);
  if (id !== undefined) assert.equal(view.id, id);
  assert.match(view.id, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  assert.equal(view.name, name);
  assert.match(view.created_at, ISO_SECONDS);
  assert.ok(Math.abs(Date.parse(view.created_at) - Date.now()) < 120_000, `created_at ${view.created_at} is now`);
  assert.equal(view.last_used_at, null);
  assert.deepEqual(view.transports, ["internal"]);
  assert.equal(view.backup_eligible, backupEligible);
  assert.equal(view.backup_state, backupState);
  assert.equal(view.aaguid, aaguid);
  assert.equal(view.algorithm, algorithm);
  return view;
}

/** A COSE EC2 key whose point is not on P-256 (random coordinates). */
function offCurveCoseKey() {
  const x = randomBytes(32);
  const y = randomBytes(32);
  return Buffer.from(cborEncode(new Map([[1, 2], [3, ALG.ES256], [-1, 1], [-2, x], [-3, y]])));
}

/** A COSE EC2 key on P-384 (crv 2) that claims ES256, whose curve is P-256 only [RFC 9053 §2.1]. */
function p384CoseKey() {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
  return Buffer.from(cborEncode(new Map([[1, 2], [3, ALG.ES256], [-1, 2], [-2, b64uBytes(jwk.x)], [-3, b64uBytes(jwk.y)]])));
}

/** A COSE OKP key on X25519 (crv 4, a key-agreement curve) that claims EdDSA [RFC 9053 §7.2]. */
function x25519CoseKey() {
  const jwk = generateKeyPairSync("x25519").publicKey.export({ format: "jwk" });
  return Buffer.from(cborEncode(new Map([[1, 1], [3, ALG.EdDSA], [-1, 4], [-2, b64uBytes(jwk.x)]])));
}

/** A COSE OKP key with a 31-byte Ed25519 public key. */
function shortOkpCoseKey() {
  return Buffer.from(cborEncode(new Map([[1, 1], [3, ALG.EdDSA], [-1, 6], [-2, randomBytes(31)]])));
}

/** RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s) of a base32 secret (as tests/http/mfa.test.mjs computes it). */
function totp(base32, t = Date.now() / 1000) {
  let bits = "";
  for (const c of base32) bits += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(c).toString(2).padStart(5, "0");
  const secret = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const h = createHmac("sha1", secret).update(counter).digest();
  return String((h.readUInt32BE(h[19] & 0x0f) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Turns on TOTP for the holder of `token`; returns the base32 secret. */
async function enableTotp(worker, token) {
  const { secret } = await okJson(await worker.post("/auth/mfa/totp/setup", {}, bearer(token)));
  await okJson(await worker.post("/auth/mfa/totp/enable", { code: totp(secret, Date.now() / 1000 - 30) }, bearer(token)));
  return secret;
}

// ---- the main Worker: RP ID localhost, pages on http://localhost:8787 ---------------------------------

let w;
before(async () => {
  w = await startWorker({ bindings: WEBAUTHN });
});
after(() => w?.close());

describe("registration options", () => {
  test("the WebAuthn L3 creation options JSON: rp, user, a 32-byte challenge, -8 and -7, preferences, attestation none", async () => {
    const { user, tokens } = await w.userWithToken({ username: uniqueName("opt"), displayName: "Alice Example" });
    const res = await api(w).registerOptions(tokens.access_token);
    const options = await okJson(res);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(options.rp, { id: "localhost", name: "edge-auth" });
    assert.deepEqual(Object.keys(options.user).sort(), ["displayName", "id", "name"]);
    assert.equal(options.user.name, user.username);
    assert.equal(options.user.displayName, "Alice Example");
    assert.match(options.challenge, /^[A-Za-z0-9_-]+$/, "base64url without padding");
    const challenge = b64uBytes(options.challenge);
    assert.ok(challenge.length >= 16, "at least 16 bytes [WebAuthn L3 §13.4.3]");
    assert.equal(challenge.length, 32);
    assert.deepEqual(options.pubKeyCredParams, [
      { type: "public-key", alg: -8 },
      { type: "public-key", alg: -7 },
    ]);
    assert.equal(options.timeout, 300000);
    assert.deepEqual(options.excludeCredentials, []);
    assert.deepEqual(options.authenticatorSelection, { residentKey: "preferred", requireResidentKey: false, userVerification: "preferred" });
    assert.equal(options.attestation, "none");
    assert.deepEqual(options.extensions, { credProps: true });
  });

  test("user.id is the base64url of the UTF-8 of the user's id, the same on every call; the challenge is new each time", async () => {
    const { user, tokens } = await w.userWithToken({ username: uniqueName("uid") });
    const one = await okJson(await api(w).registerOptions(tokens.access_token));
    const two = await okJson(await api(w).registerOptions(tokens.access_token));
    assert.equal(one.user.id, Buffer.from(user.id, "utf8").toString("base64url"));
    assert.equal(two.user.id, one.user.id);
    assert.equal(b64uBytes(one.user.id).toString().includes(user.username), false, "no personal data in the handle");
    assert.notEqual(two.challenge, one.challenge);
  });

  test("excludeCredentials lists the passkeys already registered", async () => {
    const { tokens, view } = await userWithPasskey(w);
    const second = new SoftAuthenticator();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const ids = options.excludeCredentials.map((c) => c.id);
    assert.deepEqual(ids, [view.id]);
    assert.equal(options.excludeCredentials[0].type, "public-key");
    assert.deepEqual(options.excludeCredentials[0].transports, ["internal"]);
    const created = second.create(options);
    const secondView = await okJson(await api(w).register(tokens.access_token, created.json), 201);
    const again = await okJson(await api(w).registerOptions(tokens.access_token));
    assert.deepEqual(again.excludeCredentials.map((c) => c.id).sort(), [view.id, secondView.id].sort());
  });

  test("without a token: 401 token_missing for options and registration", async () => {
    await expectProblem(assert, await api(w).registerOptions(undefined), 401, "token_missing");
    await expectProblem(assert, await api(w).register(undefined, {}), 401, "token_missing");
  });

  test("a sign-in older than 10 minutes: 403 reauthentication_required", async () => {
    const { user, tokens } = await w.userWithToken();
    const stale = await staleToken(w, user, tokens);
    await expectProblem(assert, await api(w).registerOptions(stale), 403, "reauthentication_required");
  });
});

describe("registration", () => {
  for (const [label, alg] of [
    ["ES256", ALG.ES256],
    ["EdDSA", ALG.EdDSA],
  ]) {
    test(`fmt none, ${label}: 201 with the passkey view, and the list shows it`, async () => {
      const { tokens } = await w.userWithToken();
      const a = new SoftAuthenticator();
      const options = await okJson(await api(w).registerOptions(tokens.access_token));
      const { json } = a.create(options, { alg });
      const res = await api(w).register(tokens.access_token, json);
      const view = expectView(await okJson(res, 201), { id: json.id, algorithm: alg });
      const { passkeys } = await okJson(await api(w).list(tokens.access_token));
      assert.deepEqual(passkeys, [view]);
    });

    test(`fmt packed self-attestation, ${label}, with an AAGUID and a name: 201`, async () => {
      const aaguid = Buffer.from("0123456789abcdeffedcba9876543210", "hex");
      const { view } = await userWithPasskey(w, { authenticator: { aaguid }, create: { alg, fmt: "packed" }, name: "Work laptop" });
      expectView(view, { algorithm: alg, aaguid: aaguidText(aaguid), name: "Work laptop" });
      assert.equal(view.aaguid, "01234567-89ab-cdef-fedc-ba9876543210");
    });
  }

  test("an authenticator taking the server's first choice registers EdDSA (-8)", async () => {
    const { view } = await userWithPasskey(w);
    assert.equal(view.algorithm, ALG.EdDSA);
  });

  test("a backup-eligible, backed-up passkey shows backup_eligible and backup_state", async () => {
    const { view } = await userWithPasskey(w, { authenticator: { backupEligible: true, backupState: true } });
    expectView(view, { algorithm: view.algorithm, backupEligible: true, backupState: true });
  });

  test("extension outputs in authenticatorData (ED) are parsed past the key, not refused", async () => {
    const { view } = await userWithPasskey(w, { create: { alg: ALG.ES256, extensions: { credProtect: 2 } } });
    expectView(view, { algorithm: ALG.ES256 });
  });

  test("UV missing is accepted when user verification is preferred", async () => {
    const { view } = await userWithPasskey(w, { authenticator: { userVerification: false } });
    assert.equal(typeof view.id, "string");
  });

  test("a name of 64 characters is kept; 65 characters or an empty name is 400", async () => {
    const { tokens } = await w.userWithToken();
    const a = new SoftAuthenticator();
    for (const bad of ["", "x".repeat(65)]) {
      const options = await okJson(await api(w).registerOptions(tokens.access_token));
      const res = await api(w).register(tokens.access_token, a.create(options, { keep: false }).json, bad);
      assert.equal(res.status, 400, `name of ${bad.length}: ${await res.text()}`);
    }
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const view = await okJson(await api(w).register(tokens.access_token, a.create(options).json, "é".repeat(64)), 201);
    assert.equal(view.name, "é".repeat(64));
    assert.equal((await okJson(await api(w).list(tokens.access_token))).passkeys.length, 1);
  });

  // Each case breaks one check of WebAuthn L3 §7.1; each is 400 passkey_invalid and stores nothing.
  // [label, knobs, what the detail must name (docs/passkeys.md: "the detail names the failed check")]
  const refusals = [
    ["an origin not in WEBAUTHN_ORIGINS", { origin: "https://evil.example" }, /origin/i],
    ["the allowed host on another port", { origin: "http://localhost:8788" }, /origin/i],
    ["the allowed origin with a trailing slash (not an exact match)", { origin: `${ORIGIN}/` }, /origin/i],
    ["the allowed origin over https", { origin: "https://localhost:8787" }, /origin/i],
    ["the rpIdHash of another RP ID", { rpId: "example.com" }, /relying party|rp ?id/i],
    ["the rpIdHash of a subdomain of the RP ID", { rpId: "auth.localhost" }, /relying party|rp ?id/i],
    ["clientDataJSON.type webauthn.get", { type: "webauthn.get" }, /type/i],
    ["credential.type other than public-key", { credentialType: "password" }, /type/i],
    ["a challenge the server never issued", { challenge: randomBytes(32).toString("base64url") }, /challenge/i],
    ["UP (user present) missing", { up: false }, /presen|\bUP\b/i],
    ["no attested credential data (AT clear)", { attested: false }, /attested credential data/i],
    ["AT set but no attested credential data", { attested: false, at: true }, /attested credential data/i],
    ["an unsupported algorithm (RS256, -257)", { alg: ALG.RS256 }, /algorithm/i],
    ["a COSE key whose alg says EdDSA on a P-256 key", { alg: ALG.ES256, coseAlg: ALG.EdDSA }, /key|algorithm/i],
    ["a P-256 point that is not on the curve", { alg: ALG.ES256, publicKey: offCurveCoseKey() }, /key/i],
    ["an Ed25519 key of 31 bytes", { alg: ALG.EdDSA, publicKey: shortOkpCoseKey() }, /key/i],
    ["a P-384 key that claims ES256", { alg: ALG.ES256, publicKey: p384CoseKey() }, /key/i],
    ["an X25519 key that claims EdDSA", { alg: ALG.EdDSA, publicKey: x25519CoseKey() }, /key/i],
    ["fmt none with a non-empty attStmt [WebAuthn L3 §8.7]", { fmt: "none", attStmt: { sig: randomBytes(64) } }, /attestation/i],
    ["attestation format fido-u2f", { fmt: "fido-u2f", attStmt: { sig: randomBytes(70), x5c: [randomBytes(200)] } }, /attestation/i],
    ["attestation format tpm", { fmt: "tpm", attStmt: {} }, /attestation/i],
    ["packed self-attestation with one signature bit flipped", { alg: ALG.ES256, fmt: "packed", flipAttestationSignature: true }, /attestation|signature/i],
    ["packed self-attestation, EdDSA, one signature bit flipped", { alg: ALG.EdDSA, fmt: "packed", flipAttestationSignature: true }, /attestation|signature/i],
    ["packed with attStmt.alg not the key's algorithm", { alg: ALG.ES256, fmt: "packed", packedAlg: ALG.EdDSA }, /attestation|algorithm/i],
    ["packed with an x5c chain (full attestation is not accepted)", { alg: ALG.ES256, fmt: "packed", x5c: [randomBytes(300)] }, /attestation/i],
    ["a credential id of 1024 bytes (WebAuthn L3 §7.1: at most 1023)", { credentialId: randomBytes(1024) }, /id/i],
    ["id and rawId that are not the authenticator's credential id", { mutate: (j) => ({ ...j, id: randomBytes(32).toString("base64url"), rawId: randomBytes(32).toString("base64url") }) }, /id/i],
  ];
  for (const [label, { mutate = (j) => j, ...knobs }, names] of refusals) {
    test(`refused: ${label} (400 passkey_invalid naming the check, nothing stored)`, async () => {
      const { tokens } = await w.userWithToken();
      const options = await okJson(await api(w).registerOptions(tokens.access_token));
      const { json } = new SoftAuthenticator().create(options, knobs);
      const problem = await expectProblem(assert, await api(w).register(tokens.access_token, mutate(json)), 400, "passkey_invalid");
      assert.match(problem.detail, names);
      assert.deepEqual((await okJson(await api(w).list(tokens.access_token))).passkeys, []);
    });
  }

  test("refused: UV missing when WEBAUTHN_USER_VERIFICATION=required (and the options say required)", async () => {
    const strict = await startWorker({ bindings: { ...WEBAUTHN, WEBAUTHN_USER_VERIFICATION: "required" } });
    try {
      const { tokens } = await strict.userWithToken();
      const options = await okJson(await api(strict).registerOptions(tokens.access_token));
      assert.equal(options.authenticatorSelection.userVerification, "required");
      const a = new SoftAuthenticator();
      const { json } = a.create(options, { uv: false, keep: false });
      await expectProblem(assert, await api(strict).register(tokens.access_token, json), 400, "passkey_invalid");
      const again = await okJson(await api(strict).registerOptions(tokens.access_token));
      await okJson(await api(strict).register(tokens.access_token, a.create(again).json), 201);
    } finally {
      await strict.close();
    }
  });

  test("refused: a challenge used once already (replay of the options)", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    await okJson(await api(w).register(tokens.access_token, new SoftAuthenticator().create(options).json), 201);
    const replay = new SoftAuthenticator().create(options).json;
    await expectProblem(assert, await api(w).register(tokens.access_token, replay), 400, "passkey_invalid");
    assert.equal((await okJson(await api(w).list(tokens.access_token))).passkeys.length, 1);
  });

  test("refused: the same registration response sent twice", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const { json } = new SoftAuthenticator().create(options);
    await okJson(await api(w).register(tokens.access_token, json), 201);
    const res = await api(w).register(tokens.access_token, json);
    assert.ok([400, 409].includes(res.status), `400 passkey_invalid (challenge used) or 409, got ${res.status}`);
  });

  test("one challenge used by 5 concurrent registrations: exactly one 201", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const bodies = Array.from({ length: 5 }, () => new SoftAuthenticator().create(options).json);
    const results = await Promise.all(bodies.map((json) => api(w).register(tokens.access_token, json)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 400, 400, 400, 400]);
    assert.equal((await okJson(await api(w).list(tokens.access_token))).passkeys.length, 1);
  });

  test("refused: a challenge issued to another user", async () => {
    const alice = await w.userWithToken();
    const bob = await w.userWithToken();
    const bobsOptions = await okJson(await api(w).registerOptions(bob.tokens.access_token));
    const alicesOptions = await okJson(await api(w).registerOptions(alice.tokens.access_token));
    const { json } = new SoftAuthenticator().create(alicesOptions, { challenge: bobsOptions.challenge });
    await expectProblem(assert, await api(w).register(alice.tokens.access_token, json), 400, "passkey_invalid");
    assert.deepEqual((await okJson(await api(w).list(alice.tokens.access_token))).passkeys, []);
  });

  test("refused: a sign-in challenge (purpose login) used to register", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const loginOptions = await okJson(await api(w).loginOptions({}));
    const { json } = new SoftAuthenticator().create(options, { challenge: loginOptions.challenge });
    await expectProblem(assert, await api(w).register(tokens.access_token, json), 400, "passkey_invalid");
  });

  test("refused: an expired challenge (its stored times moved 1 hour back)", async () => {
    const fresh = await startWorker({ bindings: WEBAUTHN });
    try {
      const { tokens } = await fresh.userWithToken();
      const options = await okJson(await api(fresh).registerOptions(tokens.access_token));
      await expireAllChallenges(fresh);
      const { json } = new SoftAuthenticator().create(options);
      await expectProblem(assert, await api(fresh).register(tokens.access_token, json), 400, "passkey_invalid");
    } finally {
      await fresh.close();
    }
  });

  test("409 passkey_exists: a credential id registered to another user", async () => {
    const alice = await userWithPasskey(w);
    const bob = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(bob.tokens.access_token));
    const { json } = new SoftAuthenticator().create(options, { credentialId: alice.credential.id });
    await expectProblem(assert, await api(w).register(bob.tokens.access_token, json), 409, "passkey_exists");
    assert.deepEqual((await okJson(await api(w).list(bob.tokens.access_token))).passkeys, []);
    // Alice's passkey still signs her in, with her own key.
    const res = await passkeyLogin(w, alice.authenticator, { optionsBody: { username: alice.user.username } });
    await expectTokens(res, alice.user);
  });

  test("409 passkey_exists: the same credential id registered twice by its owner", async () => {
    const { tokens, authenticator, credential } = await userWithPasskey(w);
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const { json } = authenticator.create(options, { credentialId: credential.id, ignoreExclude: true, keep: false });
    await expectProblem(assert, await api(w).register(tokens.access_token, json), 409, "passkey_exists");
  });

  test("registration with an access token whose sign-in is older than 10 minutes: 403 reauthentication_required", async () => {
    const { user, tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const stale = await staleToken(w, user, tokens);
    const { json } = new SoftAuthenticator().create(options);
    await expectProblem(assert, await api(w).register(stale, json), 403, "reauthentication_required");
  });

  test("malformed bodies are 400, never 5xx", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const good = new SoftAuthenticator().create(options, { keep: false }).json;
    const bodies = [
      {},
      { credential: null },
      { credential: "x" },
      { credential: { ...good, response: undefined } },
      { credential: { ...good, id: "!!!" } },
      { credential: { ...good, response: { ...good.response, clientDataJSON: "not-json" } } },
      { credential: { ...good, response: { ...good.response, clientDataJSON: Buffer.from("[1,2]").toString("base64url") } } },
      { credential: { ...good, response: { ...good.response, attestationObject: "AAAA" } } },
      { credential: { ...good, response: { ...good.response, attestationObject: Buffer.from(cborEncode([1, 2])).toString("base64url") } } },
      { credential: { ...good, response: { ...good.response, attestationObject: Buffer.from(cborEncode({ fmt: "none", attStmt: {}, authData: new Uint8Array(10) })).toString("base64url") } } },
      { credential: good, name: 42 },
    ];
    for (const body of bodies) {
      const res = await w.post("/auth/passkeys/register", body, bearer(tokens.access_token));
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 120)} -> ${res.status} ${await res.text()}`);
    }
    assert.deepEqual((await okJson(await api(w).list(tokens.access_token))).passkeys, []);
  });
});

describe("sign-in with a passkey", () => {
  test("request options with a username: rpId, timeout, userVerification, a fresh challenge, the user's passkeys", async () => {
    const { user, view } = await userWithPasskey(w);
    const options = await okJson(await api(w).loginOptions({ username: user.username }));
    assert.equal(options.rpId, "localhost");
    assert.equal(options.timeout, 300000);
    assert.equal(options.userVerification, "preferred");
    assert.equal(b64uBytes(options.challenge).length, 32);
    assert.deepEqual(options.allowCredentials.map((c) => [c.type, c.id]), [["public-key", view.id]]);
    const again = await okJson(await api(w).loginOptions({ username: user.username }));
    assert.notEqual(again.challenge, options.challenge);
  });

  test("with a username: the token response, amr [hwk], auth_time now, and the token opens /me", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const res = await passkeyLogin(w, authenticator, { optionsBody: { username: user.username } });
    const tokens = await expectTokens(res, user);
    const { claims } = decodeJwt(tokens.access_token);
    assert.deepEqual(claims.amr, ["hwk"]);
    assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 60, "auth_time is the passkey sign-in");
    assert.equal(claims.sub, user.id);
    assert.equal((await w.fetch("/auth/me", { headers: bearer(tokens.access_token) })).status, 200);
    const refreshed = await okJson(await w.post("/auth/refresh", { refresh_token: tokens.refresh_token }));
    assert.deepEqual(decodeJwt(refreshed.access_token).claims.amr, ["hwk"]);
  });

  test("with the email address as username", async () => {
    const email = `${uniqueName("mail")}@example.com`.toLowerCase();
    const { user, authenticator, view } = await userWithPasskey(w, { seed: { email } });
    const options = await okJson(await api(w).loginOptions({ username: email }));
    assert.deepEqual(options.allowCredentials.map((c) => c.id), [view.id]);
    await expectTokens(await api(w).login({ credential: authenticator.get(options) }), user);
  });

  test("usernameless: empty allowCredentials, the discoverable credential with its userHandle signs in", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const options = await okJson(await api(w).loginOptions({}));
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.rpId, "localhost");
    const credential = authenticator.get(options);
    assert.equal(b64uBytes(credential.response.userHandle).toString(), user.id);
    const tokens = await expectTokens(await api(w).login({ credential }), user);
    assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["hwk"]);
  });

  test("a response without userHandle (it is optional) signs in with a username", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    await expectTokens(await passkeyLogin(w, authenticator, { optionsBody: { username: user.username }, get: { userHandle: null } }), user);
  });

  test("EdDSA and ES256 passkeys both sign in, fmt none and packed alike", async () => {
    for (const create of [{ alg: ALG.ES256 }, { alg: ALG.EdDSA }, { alg: ALG.ES256, fmt: "packed" }, { alg: ALG.EdDSA, fmt: "packed" }]) {
      const { user, authenticator } = await userWithPasskey(w, { create });
      await expectTokens(await passkeyLogin(w, authenticator), user);
    }
  });

  test("a backup-eligible (synced) passkey gives amr [swk]", async () => {
    for (const flags of [{ backupEligible: true, backupState: true }, { backupEligible: true, backupState: false }]) {
      const { user, authenticator } = await userWithPasskey(w, { authenticator: flags });
      const tokens = await expectTokens(await passkeyLogin(w, authenticator), user);
      assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["swk"], JSON.stringify(flags));
    }
  });

  test("after a sign-in the passkey's last_used_at is set", async () => {
    const { user, tokens, authenticator } = await userWithPasskey(w);
    await expectTokens(await passkeyLogin(w, authenticator), user);
    const [view] = (await okJson(await api(w).list(tokens.access_token))).passkeys;
    assert.match(view.last_used_at, ISO_SECONDS);
    assert.ok(Math.abs(Date.parse(view.last_used_at) - Date.now()) < 120_000);
  });

  test("an authenticator that keeps its counter at 0 signs in again and again", async () => {
    const { user, authenticator } = await userWithPasskey(w, { create: { signCount: 0, counterStep: 0 } });
    for (let i = 0; i < 3; i++) await expectTokens(await passkeyLogin(w, authenticator), user);
  });

  test("extension outputs in the assertion's authenticatorData (ED) are accepted", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    await expectTokens(await passkeyLogin(w, authenticator, { get: { extensions: { credProtect: 2 } } }), user);
  });

  test("options for an unknown username look like those of a known user without passkeys", async () => {
    const known = await w.seedUser({ username: uniqueName("nokey") });
    const unknownName = uniqueName("ghost");
    const forKnown = await okJson(await api(w).loginOptions({ username: known.username }));
    const forUnknown = await okJson(await api(w).loginOptions({ username: unknownName }));
    assert.deepEqual(Object.keys(forUnknown).sort(), Object.keys(forKnown).sort());
    for (const options of [forKnown, forUnknown]) {
      assert.equal(options.allowCredentials.length, 1, "one made-up credential");
      assert.equal(options.allowCredentials[0].type, "public-key");
      assert.equal(options.rpId, "localhost");
      assert.equal(options.userVerification, "preferred");
    }
    assert.deepEqual(Object.keys(forUnknown.allowCredentials[0]).sort(), Object.keys(forKnown.allowCredentials[0]).sort());
    assert.deepEqual(forUnknown.allowCredentials[0].transports, forKnown.allowCredentials[0].transports);
    assert.equal(b64uBytes(forUnknown.allowCredentials[0].id).length, b64uBytes(forKnown.allowCredentials[0].id).length);
    // Derived from the name: the same on every call (a random one would give the game away), different per name.
    const again = await okJson(await api(w).loginOptions({ username: unknownName }));
    assert.equal(again.allowCredentials[0].id, forUnknown.allowCredentials[0].id);
    const knownAgain = await okJson(await api(w).loginOptions({ username: known.username }));
    assert.equal(knownAgain.allowCredentials[0].id, forKnown.allowCredentials[0].id);
    assert.notEqual(forUnknown.allowCredentials[0].id, forKnown.allowCredentials[0].id);
  });

  test("a made-up allowCredentials entry has the same members as a real one", async () => {
    const { user } = await userWithPasskey(w);
    const real = (await okJson(await api(w).loginOptions({ username: user.username }))).allowCredentials[0];
    const madeUp = (await okJson(await api(w).loginOptions({ username: uniqueName("ghost") }))).allowCredentials[0];
    assert.deepEqual(Object.keys(madeUp).sort(), Object.keys(real).sort());
    assert.equal(b64uBytes(madeUp.id).length >= 16, true, "as long as real credential ids are");
    assert.deepEqual(madeUp.transports, ["internal"], "the transports of a platform passkey (docs/passkeys.md)");
  });

  test("a passkey registered without transports: its allowCredentials entry has the members of a made-up one", async () => {
    const { user } = await userWithPasskey(w, { create: { transports: null } });
    const real = (await okJson(await api(w).loginOptions({ username: user.username }))).allowCredentials[0];
    const madeUp = (await okJson(await api(w).loginOptions({ username: uniqueName("ghost") }))).allowCredentials[0];
    assert.deepEqual(Object.keys(real).sort(), Object.keys(madeUp).sort(), "else the answer tells that the account exists");
  });

  test("a disabled account is 403 account_disabled after a valid assertion, 401 after an invalid one", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    await w.db.prepare("UPDATE users SET disabled = 1 WHERE id = ?1").bind(user.id).run();
    await expectInvalidCredentials(await passkeyLogin(w, authenticator, { get: { flipSignature: true } }));
    await expectProblem(assert, await passkeyLogin(w, authenticator), 403, "account_disabled");
  });

  test("malformed bodies are 400 or 401, never 5xx", async () => {
    const { authenticator } = await userWithPasskey(w);
    const options = await okJson(await api(w).loginOptions({}));
    const good = authenticator.get(options);
    for (const body of [
      {},
      { credential: null },
      { credential: "x" },
      { credential: { ...good, response: undefined } },
      { credential: { ...good, response: { ...good.response, authenticatorData: "AAAA" } } },
      { credential: { ...good, response: { ...good.response, clientDataJSON: "e30" } } },
      { credential: { ...good, response: { ...good.response, signature: "" } } },
      { credential: { ...good, id: "" } },
    ]) {
      const res = await w.post("/auth/passkeys/login", body);
      assert.ok([400, 401].includes(res.status), `${JSON.stringify(body).slice(0, 120)} -> ${res.status} ${await res.text()}`);
    }
    for (const body of [{ username: 42 }, { username: "x".repeat(10_000) }]) {
      const res = await w.post("/auth/passkeys/login/options", body);
      assert.ok(res.status < 500, `options ${JSON.stringify(body).slice(0, 60)} -> ${res.status}`);
    }
  });
});

describe("sign-in refusals: all the same 401 invalid_credentials", () => {
  let alice;
  let bob;
  const bodies = [];
  let passwordRefusal;
  before(async () => {
    alice = await userWithPasskey(w);
    bob = await userWithPasskey(w);
    const res = await w.post("/auth/login", { username: alice.user.username, password: "wrong password entirely" });
    passwordRefusal = { text: await res.text(), headers: stableHeaders(res) };
  });

  /** One refused passkey login; keeps the response for the comparison at the end. */
  async function refused(res) {
    const text = await expectInvalidCredentials(res);
    bodies.push({ text, headers: stableHeaders(res) });
  }

  const cases = [
    ["one signature bit flipped", { get: { flipSignature: true } }],
    ["signed by another key", { get: "otherSigner" }],
    ["an origin not allowed", { get: { origin: "https://evil.example" } }],
    ["the allowed host on another port", { get: { origin: "http://localhost:8788" } }],
    ["the rpIdHash of another RP ID", { get: { rpId: "example.com" } }],
    ["clientDataJSON.type webauthn.create", { get: { type: "webauthn.create" } }],
    ["credential.type other than public-key", { get: { credentialType: "password" } }],
    ["a challenge the server never issued", { get: { challenge: randomBytes(32).toString("base64url") } }],
    ["UP (user present) missing", { get: { up: false } }],
    ["a userHandle of no user", { get: { userHandle: randomBytes(16) } }],
    ["Alice's credential with Bob's userHandle", { get: "bobsHandle" }],
    ["Alice's credential with Bob's userHandle, after options for Bob's username", { get: "bobsHandle", optionsBody: "bob" }],
    ["Alice's credential and handle, after options for Bob's username (not in allowCredentials)", { get: {}, optionsBody: "bob" }],
    ["authenticatorData cut short (no counter)", { get: "truncated" }],
    ["BE set for a passkey registered without it [WebAuthn L3 §7.2]", { get: { be: true, bs: true } }],
    ["BS set without BE [WebAuthn L3 §6.1.3]", { get: { be: false, bs: true } }],
  ];
  for (const [label, spec] of cases) {
    test(`refused: ${label}`, async () => {
      const optionsBody = spec.optionsBody === "bob" ? { username: bob.user.username } : {};
      const options = await okJson(await api(w).loginOptions(optionsBody));
      let credential;
      if (spec.get === "otherSigner") credential = alice.authenticator.get(options, { credential: alice.credential, signer: bob.credential });
      else if (spec.get === "bobsHandle") credential = alice.authenticator.get(options, { credential: alice.credential, userHandle: bob.credential.userHandle });
      else if (spec.get === "truncated") {
        credential = alice.authenticator.get(options, { credential: alice.credential });
        credential.response.authenticatorData = b64uBytes(credential.response.authenticatorData).subarray(0, 33).toString("base64url");
      } else credential = alice.authenticator.get(options, { credential: alice.credential, ...spec.get });
      await refused(await api(w).login({ credential }));
    });
  }

  test("refused: an unknown credential (never registered, correctly signed)", async () => {
    const stranger = new SoftAuthenticator();
    stranger.create({ rp: { id: "localhost" }, user: { id: "c3RyYW5nZXI" }, challenge: "AAAA", pubKeyCredParams: [{ type: "public-key", alg: -7 }] });
    const options = await okJson(await api(w).loginOptions({}));
    await refused(await api(w).login({ credential: stranger.get(options) }));
  });

  test("refused: a challenge used once already (the options replayed)", async () => {
    const options = await okJson(await api(w).loginOptions({}));
    await expectTokens(await api(w).login({ credential: alice.authenticator.get(options, { credential: alice.credential }) }), alice.user);
    await refused(await api(w).login({ credential: alice.authenticator.get(options, { credential: alice.credential }) }));
  });

  test("refused: the very same assertion sent again", async () => {
    const options = await okJson(await api(w).loginOptions({}));
    const credential = alice.authenticator.get(options, { credential: alice.credential });
    await expectTokens(await api(w).login({ credential }), alice.user);
    await refused(await api(w).login({ credential }));
  });

  test("refused: a registration challenge (purpose register) used to sign in", async () => {
    const reg = await okJson(await api(w).registerOptions(alice.tokens.access_token));
    const options = await okJson(await api(w).loginOptions({}));
    await refused(await api(w).login({ credential: alice.authenticator.get(options, { credential: alice.credential, challenge: reg.challenge }) }));
  });

  test("refused: an expired challenge (its stored times moved 1 hour back)", async () => {
    const fresh = await startWorker({ bindings: WEBAUTHN });
    try {
      const { user, authenticator } = await userWithPasskey(fresh);
      const options = await okJson(await api(fresh).loginOptions({}));
      await expireAllChallenges(fresh);
      await expectInvalidCredentials(await api(fresh).login({ credential: authenticator.get(options) }));
      await expectTokens(await passkeyLogin(fresh, authenticator), user);
    } finally {
      await fresh.close();
    }
  });

  test("the sign count: a lower or equal counter is refused, a higher one accepted, a refused one not stored", async () => {
    const { user, authenticator, credential } = await userWithPasskey(w, { create: { signCount: 5 } });
    for (const signCount of [3, 5]) {
      await refused(await passkeyLogin(w, authenticator, { get: { credential, signCount } }));
    }
    await expectTokens(await passkeyLogin(w, authenticator, { get: { credential, signCount: 6 } }), user);
    await refused(await passkeyLogin(w, authenticator, { get: { credential, signCount: 6 } }));
    // A bad signature carrying a huge counter must not raise the stored counter (that would lock out the owner).
    await refused(await passkeyLogin(w, authenticator, { get: { credential, signCount: 1_000_000, flipSignature: true } }));
    await expectTokens(await passkeyLogin(w, authenticator, { get: { credential, signCount: 7 } }), user);
  });

  test("the sign count: a counter that falls back to 0 after a non-zero one is refused [WebAuthn L3 §7.2]", async () => {
    // docs/passkeys.md says "both non-zero and the new one not above the stored one"; read literally,
    // 5 then 0 would pass. WebAuthn L3 (either non-zero) and the implementation refuse it: the safer
    // reading, kept here; the doc's wording is reported to the integrator.
    const { user, authenticator, credential } = await userWithPasskey(w, { create: { signCount: 5 } });
    await refused(await passkeyLogin(w, authenticator, { get: { credential, signCount: 0 } }));
    await expectTokens(await passkeyLogin(w, authenticator, { get: { credential, signCount: 6 } }), user);
  });

  test("refused: BE cleared for a passkey registered backup-eligible [WebAuthn L3 §7.2]", async () => {
    const synced = await userWithPasskey(w, { authenticator: { backupEligible: true, backupState: true } });
    await refused(await passkeyLogin(w, synced.authenticator, { get: { be: false, bs: false } }));
    await expectTokens(await passkeyLogin(w, synced.authenticator), synced.user);
  });

  test("refused with WEBAUTHN_USER_VERIFICATION=required: UV missing (and the options say required)", async () => {
    const strict = await startWorker({ bindings: { ...WEBAUTHN, WEBAUTHN_USER_VERIFICATION: "required" } });
    try {
      const { user, authenticator } = await userWithPasskey(strict);
      const options = await okJson(await api(strict).loginOptions({}));
      assert.equal(options.userVerification, "required");
      await expectInvalidCredentials(await api(strict).login({ credential: authenticator.get(options, { uv: false }) }));
      await expectTokens(await passkeyLogin(strict, authenticator), user);
    } finally {
      await strict.close();
    }
  });

  test("every refusal above has one and the same body and headers, those of a wrong password but for the text", async () => {
    assert.ok(bodies.length >= cases.length + 5, `collected ${bodies.length}`);
    for (const b of bodies) {
      assert.equal(b.text, bodies[0].text);
      assert.deepEqual(b.headers, bodies[0].headers);
    }
    // The same status, code and headers as a wrong password (the detail may speak of the passkey).
    const password = JSON.parse(passwordRefusal.text);
    const passkey = JSON.parse(bodies[0].text);
    assert.deepEqual(Object.keys(passkey).sort(), Object.keys(password).sort());
    assert.deepEqual([passkey.status, passkey.code, passkey.type], [password.status, password.code, password.type]);
    const withoutLength = (headers) => headers.filter(([k]) => k !== "content-length");
    assert.deepEqual(withoutLength(bodies[0].headers), withoutLength(passwordRefusal.headers));
  });

  test("after all that, Alice and Bob still sign in", async () => {
    await expectTokens(await passkeyLogin(w, alice.authenticator, { get: { credential: alice.credential } }), alice.user);
    await expectTokens(await passkeyLogin(w, bob.authenticator, { get: { credential: bob.credential } }), bob.user);
  });
});

describe("login rate limits apply to passkeys", () => {
  /** Waits, if needed, so at least `need` seconds are left in the current `window`-second window. */
  async function roomInWindow(window, need) {
    const left = window - ((Date.now() / 1000) % window);
    if (left < need) await new Promise((r) => setTimeout(r, Math.ceil((left + 0.25) * 1000)));
  }

  test("per IP (RATE_LIMIT_LOGIN_IP 3/1m): 3 failed passkey sign-ins, then even a valid one is 429; another IP is not affected", async () => {
    const limited = await startWorker({ bindings: { ...WEBAUTHN, RATE_LIMIT_LOGIN_IP: "3/1m", LOGIN_FREE_FAILURES: "99" } });
    try {
      const { user, authenticator } = await userWithPasskey(limited);
      const stranger = new SoftAuthenticator();
      stranger.create({ rp: { id: "localhost" }, user: { id: "eA" }, challenge: "AAAA", pubKeyCredParams: [{ type: "public-key", alg: -7 }] });
      const ipA = { "CF-Connecting-IP": "203.0.113.40" };
      await roomInWindow(60, 15);
      for (let i = 0; i < 3; i++) await expectInvalidCredentials(await passkeyLogin(limited, stranger, { headers: ipA }));
      const res = await passkeyLogin(limited, authenticator, { headers: ipA });
      await expectProblem(assert, res, 429, "rate_limited");
      assert.match(res.headers.get("retry-after") ?? "", /^[0-9]+$/);
      await expectTokens(await passkeyLogin(limited, authenticator, { headers: { "CF-Connecting-IP": "203.0.113.41" } }), user);
    } finally {
      await limited.close();
    }
  });

  test("per account (LOGIN_FREE_FAILURES 2): bad assertions of a known credential are throttled", async () => {
    const limited = await startWorker({ bindings: { ...WEBAUTHN, LOGIN_FREE_FAILURES: "2" } });
    try {
      const { authenticator } = await userWithPasskey(limited);
      await atStartOfSecond();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await passkeyLogin(limited, authenticator, { get: { flipSignature: true } })).status);
      assert.deepEqual(statuses.slice(0, 2), [401, 401]);
      assert.ok(statuses.slice(2).includes(429), statuses.join());
    } finally {
      await limited.close();
    }
  });
});

describe("a passkey as the second factor after a password", () => {
  test("the password step answers 401 mfa_required with methods containing webauthn", async () => {
    const { user } = await userWithPasskey(w);
    const body = await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    assert.ok(Array.isArray(body.methods) && body.methods.includes("webauthn"), JSON.stringify(body.methods));
    assert.match(body.mfa_token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.access_token, undefined);
  });

  test("options with the mfa_token list the user's passkeys; /mfa/verify gives tokens with amr [pwd, hwk]", async () => {
    const { user, authenticator, view } = await userWithPasskey(w);
    const { mfa_token } = await (await api(w).passwordLogin(user)).json();
    const options = await okJson(await api(w).loginOptions({ mfa_token }));
    assert.deepEqual(options.allowCredentials.map((c) => c.id), [view.id]);
    assert.equal(options.rpId, "localhost");
    const tokens = await expectTokens(await api(w).verify({ mfa_token, credential: authenticator.get(options) }), user);
    const { claims } = decodeJwt(tokens.access_token);
    assert.deepEqual(claims.amr, ["pwd", "hwk"]);
    assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 60);
    // The mfa_token is spent.
    const options2 = await okJson(await api(w).loginOptions({}));
    const res = await api(w).verify({ mfa_token, credential: authenticator.get(options2) });
    assert.equal(res.status, 401);
  });

  test("POST /passkeys/login {mfa_token, credential} finishes the login too; a synced passkey gives [pwd, swk]", async () => {
    const { user, authenticator } = await userWithPasskey(w, { authenticator: { backupEligible: true, backupState: true } });
    const { mfa_token } = await (await api(w).passwordLogin(user)).json();
    const options = await okJson(await api(w).loginOptions({ mfa_token }));
    const tokens = await expectTokens(await api(w).login({ mfa_token, credential: authenticator.get(options) }), user);
    assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["pwd", "swk"]);
  });

  const bad = [
    ["one signature bit flipped", (a, o) => a.get(o, { flipSignature: true })],
    ["a wrong origin", (a, o) => a.get(o, { origin: "https://evil.example" })],
    ["the rpIdHash of another RP ID", (a, o) => a.get(o, { rpId: "example.com" })],
    ["UP missing", (a, o) => a.get(o, { up: false })],
  ];
  for (const [label, make] of bad) {
    test(`a bad assertion (${label}) is 401 mfa_code_invalid`, async () => {
      const { user, authenticator } = await userWithPasskey(w);
      const { mfa_token } = await (await api(w).passwordLogin(user)).json();
      const options = await okJson(await api(w).loginOptions({ mfa_token }));
      await expectProblem(assert, await api(w).verify({ mfa_token, credential: make(authenticator, options) }), 401, "mfa_code_invalid");
    });
  }

  test("another user's passkey does not finish this user's login (401 mfa_code_invalid)", async () => {
    const alice = await userWithPasskey(w);
    const bob = await userWithPasskey(w);
    const { mfa_token } = await (await api(w).passwordLogin(alice.user)).json();
    const options = await okJson(await api(w).loginOptions({ mfa_token }));
    const credential = bob.authenticator.get(options, { credential: bob.credential });
    await expectProblem(assert, await api(w).verify({ mfa_token, credential }), 401, "mfa_code_invalid");
  });

  test("a challenge not bound to this pending login is refused: a first-factor one, or another login's", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const first = await (await api(w).passwordLogin(user)).json();
    const second = await (await api(w).passwordLogin(user)).json();
    const plain = await okJson(await api(w).loginOptions({}));
    await expectProblem(assert, await api(w).verify({ mfa_token: first.mfa_token, credential: authenticator.get(plain) }), 401, "mfa_code_invalid");
    const forSecond = await okJson(await api(w).loginOptions({ mfa_token: second.mfa_token }));
    await expectProblem(assert, await api(w).verify({ mfa_token: first.mfa_token, credential: authenticator.get(forSecond) }), 401, "mfa_code_invalid");
  });

  test("a second-factor challenge does not sign in as a first factor (without the mfa_token)", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const { mfa_token } = await (await api(w).passwordLogin(user)).json();
    const options = await okJson(await api(w).loginOptions({ mfa_token }));
    await expectInvalidCredentials(await api(w).login({ credential: authenticator.get(options) }));
  });

  test("with TOTP and a passkey, methods list both, and either finishes the login", async () => {
    const { user, tokens, authenticator } = await userWithPasskey(w);
    const secret = await enableTotp(w, tokens.access_token);
    const first = await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    assert.deepEqual([...first.methods].sort(), ["recovery_code", "totp", "webauthn"]);
    await expectTokens(await api(w).verify({ mfa_token: first.mfa_token, code: totp(secret) }), user);
    const second = await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    const options = await okJson(await api(w).loginOptions({ mfa_token: second.mfa_token }));
    const done = await expectTokens(await api(w).verify({ mfa_token: second.mfa_token, credential: authenticator.get(options) }), user);
    assert.deepEqual(decodeJwt(done.access_token).claims.amr, ["pwd", "hwk"]);
  });

  test("options with the mfa_token of an account without passkeys: 409 mfa_not_enabled; an unknown mfa_token: 401 mfa_token_invalid", async () => {
    const { user, tokens } = await w.userWithToken();
    await enableTotp(w, tokens.access_token);
    const pending = await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    assert.equal(pending.methods.includes("webauthn"), false);
    await expectProblem(assert, await api(w).loginOptions({ mfa_token: pending.mfa_token }), 409, "mfa_not_enabled");
    await expectProblem(assert, await api(w).loginOptions({ mfa_token: "A".repeat(43) }), 401, "mfa_token_invalid");
  });

  test("an unknown mfa_token is 401 mfa_token_invalid", async () => {
    const { authenticator } = await userWithPasskey(w);
    const options = await okJson(await api(w).loginOptions({}));
    await expectProblem(assert, await api(w).verify({ mfa_token: "A".repeat(43), credential: authenticator.get(options) }), 401, "mfa_token_invalid");
  });

  test("bad assertions count like failed logins (LOGIN_FREE_FAILURES 2: 429 after two)", async () => {
    const limited = await startWorker({ bindings: { ...WEBAUTHN, LOGIN_FREE_FAILURES: "2" } });
    try {
      const { user, authenticator } = await userWithPasskey(limited);
      const { mfa_token } = await (await api(limited).passwordLogin(user)).json();
      await atStartOfSecond();
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const options = await okJson(await api(limited).loginOptions({ mfa_token }));
        statuses.push((await api(limited).verify({ mfa_token, credential: authenticator.get(options, { flipSignature: true }) })).status);
      }
      assert.deepEqual(statuses.slice(0, 2), [401, 401]);
      assert.ok(statuses.slice(2).includes(429), statuses.join());
    } finally {
      await limited.close();
    }
  });

  test("MFA_REQUIRED_ROLES=admin: the enrolment mfa_token registers a passkey, which then is the second factor", async () => {
    const strict = await startWorker({ bindings: { ...WEBAUTHN, MFA_REQUIRED_ROLES: "admin" } });
    try {
      const admin = await strict.seedUser({ role: "admin", username: uniqueName("admin") });
      const enrolment = await expectProblem(assert, await api(strict).passwordLogin(admin), 403, "mfa_enrollment_required");
      const a = new SoftAuthenticator();
      const options = await okJson(await api(strict).registerOptions(enrolment.mfa_token));
      await okJson(await api(strict).register(enrolment.mfa_token, a.create(options).json), 201);
      const pending = await expectProblem(assert, await api(strict).passwordLogin(admin), 401, "mfa_required");
      assert.ok(pending.methods.includes("webauthn"));
      const requestOptions = await okJson(await api(strict).loginOptions({ mfa_token: pending.mfa_token }));
      const tokens = await expectTokens(await api(strict).verify({ mfa_token: pending.mfa_token, credential: a.get(requestOptions) }), admin);
      assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["pwd", "hwk"]);
      assert.equal((await strict.fetch("/auth/admin/users", { headers: bearer(tokens.access_token) })).status, 200);
    } finally {
      await strict.close();
    }
  });
});

describe("a passkey without user verification is one factor (docs/passkeys.md \"User verification\")", () => {
  test("an account without other factors signs in with amr [hwk]", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const tokens = await expectTokens(await passkeyLogin(w, authenticator, { get: { uv: false } }), user);
    assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["hwk"]);
  });

  test("an account with an authenticator app: 401 mfa_required for TOTP, then amr [hwk, otp]; with UV the passkey alone signs in", async () => {
    const { user, tokens, authenticator } = await userWithPasskey(w);
    const secret = await enableTotp(w, tokens.access_token);
    const res = await passkeyLogin(w, authenticator, { get: { uv: false } });
    const pending = await expectProblem(assert, res, 401, "mfa_required");
    assert.deepEqual(pending.methods, ["totp", "recovery_code"]);
    assert.equal(pending.access_token, undefined);
    await expectProblem(assert, await api(w).verify({ mfa_token: pending.mfa_token, code: "000000" }), 401, "mfa_code_invalid");
    const done = await expectTokens(await api(w).verify({ mfa_token: pending.mfa_token, code: totp(secret) }), user);
    assert.deepEqual(decodeJwt(done.access_token).claims.amr, ["hwk", "otp"]);
    const verified = await expectTokens(await passkeyLogin(w, authenticator), user);
    assert.deepEqual(decodeJwt(verified.access_token).claims.amr, ["hwk"]);
  });

  test("MFA_REQUIRED_ROLES=admin: without UV an admin is 403 user_verification_required (with an app: mfa_required); with UV signs in", async () => {
    const strict = await startWorker({ bindings: { ...WEBAUTHN, MFA_REQUIRED_ROLES: "admin" } });
    try {
      const admin = await strict.seedUser({ role: "admin", username: uniqueName("admin") });
      const enrolment = await expectProblem(assert, await api(strict).passwordLogin(admin), 403, "mfa_enrollment_required");
      const a = new SoftAuthenticator();
      const options = await okJson(await api(strict).registerOptions(enrolment.mfa_token));
      await okJson(await api(strict).register(enrolment.mfa_token, a.create(options).json), 201);
      const refused = await passkeyLogin(strict, a, { get: { uv: false } });
      const body = await expectProblem(assert, refused, 403, "user_verification_required");
      assert.equal(body.access_token, undefined);
      const tokens = await expectTokens(await passkeyLogin(strict, a), admin);
      assert.deepEqual(decodeJwt(tokens.access_token).claims.amr, ["hwk"]);
      // An admin who also has an authenticator app gives its code instead.
      await enableTotp(strict, tokens.access_token);
      await expectProblem(assert, await passkeyLogin(strict, a, { get: { uv: false } }), 401, "mfa_required");
      // A plain user of the same Worker signs in without UV.
      const plainUser = await userWithPasskey(strict);
      await expectTokens(await passkeyLogin(strict, plainUser.authenticator, { get: { uv: false } }), plainUser.user);
    } finally {
      await strict.close();
    }
  });

  test("the pending login of a passkey without UV is not finished by a passkey again (the same factor twice)", async () => {
    const { tokens, authenticator } = await userWithPasskey(w);
    await enableTotp(w, tokens.access_token);
    const pending = await expectProblem(assert, await passkeyLogin(w, authenticator, { get: { uv: false } }), 401, "mfa_required");
    assert.equal(pending.methods.includes("webauthn"), false);
    for (const uv of [false, true]) {
      const options = await api(w).loginOptions({ mfa_token: pending.mfa_token });
      if (options.status !== 200) continue; // refusing the options is as good
      const requestOptions = await options.json();
      const viaVerify = await api(w).verify({ mfa_token: pending.mfa_token, credential: authenticator.get(requestOptions, { uv }) });
      assert.equal(viaVerify.status, 401, `uv ${uv}: ${await viaVerify.text()}`);
      const again = await okJson(await api(w).loginOptions({ mfa_token: pending.mfa_token }));
      const viaLogin = await api(w).login({ mfa_token: pending.mfa_token, credential: authenticator.get(again, { uv }) });
      assert.equal(viaLogin.status, 401, `uv ${uv}: ${await viaLogin.text()}`);
    }
  });

  test("mfa_required after a passkey without UV does not say the password was right (no password was given)", async () => {
    // A page shows the detail as is: after a passkey step it must not speak of a password.
    const { tokens, authenticator } = await userWithPasskey(w);
    await enableTotp(w, tokens.access_token);
    const pending = await expectProblem(assert, await passkeyLogin(w, authenticator, { get: { uv: false } }), 401, "mfa_required");
    assert.doesNotMatch(pending.detail, /password/i);
  });

  test("a refused assertion is refused the same way whether or not UV is set (no mfa_required for a bad signature)", async () => {
    const { tokens, authenticator } = await userWithPasskey(w);
    await enableTotp(w, tokens.access_token);
    await expectInvalidCredentials(await passkeyLogin(w, authenticator, { get: { uv: false, flipSignature: true } }));
  });
});

describe("managing passkeys", () => {
  test("the list is newest first", async () => {
    const { tokens, view: first } = await userWithPasskey(w, { name: "first" });
    await atStartOfSecond();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const second = await okJson(await api(w).register(tokens.access_token, new SoftAuthenticator().create(options).json, "second"), 201);
    const res = await api(w).list(tokens.access_token);
    const { passkeys } = await okJson(res);
    assert.deepEqual(passkeys.map((p) => p.name), ["second", "first"]);
    assert.deepEqual(passkeys.map((p) => p.id), [second.id, first.id]);
    for (const p of passkeys) assert.deepEqual(Object.keys(p).sort(), VIEW_KEYS);
  });

  test("an empty list for a user without passkeys; 401 without a token", async () => {
    const { tokens } = await w.userWithToken();
    assert.deepEqual(await okJson(await api(w).list(tokens.access_token)), { passkeys: [] });
    await expectProblem(assert, await api(w).list(undefined), 401, "token_missing");
  });

  test("rename: 200 with the view, the list shows the new name; bad names are 400", async () => {
    const { tokens, view } = await userWithPasskey(w);
    const renamed = await okJson(await api(w).rename(tokens.access_token, view.id, "YubiKey 5"));
    assert.deepEqual(renamed, { ...view, name: "YubiKey 5" });
    assert.equal((await okJson(await api(w).list(tokens.access_token))).passkeys[0].name, "YubiKey 5");
    for (const name of ["", "x".repeat(65), 7, null]) {
      const res = await api(w).rename(tokens.access_token, view.id, name);
      assert.equal(res.status, 400, `name ${JSON.stringify(name)}: ${await res.text()}`);
    }
    assert.equal((await okJson(await api(w).list(tokens.access_token))).passkeys[0].name, "YubiKey 5");
  });

  test("another user's passkey is 404 for rename and delete, and stays as it was", async () => {
    const alice = await userWithPasskey(w);
    const bob = await w.userWithToken();
    await expectProblem(assert, await api(w).rename(bob.tokens.access_token, alice.view.id, "mine now"), 404, "not_found");
    await expectProblem(assert, await api(w).remove(bob.tokens.access_token, alice.view.id), 404, "not_found");
    await expectProblem(assert, await api(w).remove(bob.tokens.access_token, randomBytes(32).toString("base64url")), 404, "not_found");
    const { passkeys } = await okJson(await api(w).list(alice.tokens.access_token));
    assert.deepEqual(passkeys, [alice.view]);
  });

  test("delete: 204, gone from the list, no longer signs in, and the password login has one step again", async () => {
    const { user, tokens, authenticator, view } = await userWithPasskey(w);
    await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    const res = await api(w).remove(tokens.access_token, view.id);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    assert.deepEqual((await okJson(await api(w).list(tokens.access_token))).passkeys, []);
    await expectInvalidCredentials(await passkeyLogin(w, authenticator));
    await expectTokens(await api(w).passwordLogin(user), user);
    await expectProblem(assert, await api(w).remove(tokens.access_token, view.id), 404, "not_found");
  });

  test("deleting one of two passkeys: the other still signs in, and the password login still asks for it", async () => {
    const { user, tokens, view } = await userWithPasskey(w);
    const other = new SoftAuthenticator();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    await okJson(await api(w).register(tokens.access_token, other.create(options).json), 201);
    assert.equal((await api(w).remove(tokens.access_token, view.id)).status, 204);
    const pending = await expectProblem(assert, await api(w).passwordLogin(user), 401, "mfa_required");
    assert.ok(pending.methods.includes("webauthn"));
    await expectTokens(await passkeyLogin(w, other), user);
  });

  test("409 last_factor: an account without a password keeps its last passkey; with two, one may go", async () => {
    const { user, tokens, view } = await userWithPasskey(w);
    // No endpoint makes an account without a password yet; the Worker counts an empty password_hash as
    // none (its delete checks `password_hash <> ''`), so the test empties it in D1.
    await w.db.prepare("UPDATE users SET password_hash = '' WHERE id = ?1").bind(user.id).run();
    await expectInvalidCredentials(await api(w).passwordLogin(user));
    await expectProblem(assert, await api(w).remove(tokens.access_token, view.id), 409, "last_factor");
    const other = new SoftAuthenticator();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const second = await okJson(await api(w).register(tokens.access_token, other.create(options).json), 201);
    assert.equal((await api(w).remove(tokens.access_token, view.id)).status, 204);
    await expectProblem(assert, await api(w).remove(tokens.access_token, second.id), 409, "last_factor");
    await expectTokens(await passkeyLogin(w, other), user);
  });

  test("delete with a sign-in older than 10 minutes: 403 reauthentication_required, and the passkey stays", async () => {
    const { user, tokens, view, authenticator } = await userWithPasskey(w);
    const stale = await staleToken(w, user, tokens);
    await expectProblem(assert, await api(w).remove(stale, view.id), 403, "reauthentication_required");
    await expectTokens(await passkeyLogin(w, authenticator), user);
  });

  test("rename and delete without a token: 401 token_missing", async () => {
    const { view } = await userWithPasskey(w);
    await expectProblem(assert, await api(w).rename(undefined, view.id, "x"), 401, "token_missing");
    await expectProblem(assert, await api(w).remove(undefined, view.id), 401, "token_missing");
  });

  test("a passkey sign-in is a recent sign-in: it can delete a passkey and register another", async () => {
    const { user, authenticator, view } = await userWithPasskey(w);
    const tokens = await expectTokens(await passkeyLogin(w, authenticator), user);
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    await okJson(await api(w).register(tokens.access_token, new SoftAuthenticator().create(options).json), 201);
    assert.equal((await api(w).remove(tokens.access_token, view.id)).status, 204);
  });

  test("an admin's DELETE /admin/users/{id}/mfa removes the user's passkeys", async () => {
    const { user, authenticator } = await userWithPasskey(w);
    const admin = await w.userWithToken({ role: "admin" });
    const res = await w.fetch(`/auth/admin/users/${user.id}/mfa`, { method: "DELETE", headers: bearer(admin.tokens.access_token) });
    assert.equal(res.status, 204);
    await expectInvalidCredentials(await passkeyLogin(w, authenticator));
    const tokens = await expectTokens(await api(w).passwordLogin(user), user);
    assert.deepEqual((await okJson(await api(w).list(tokens.access_token))).passkeys, []);
  });
});

describe("defaults without WEBAUTHN_* settings: the RP ID and origin of the request URL", () => {
  let plain;
  before(async () => {
    plain = await startWorker();
  });
  after(() => plain?.close());

  test("rp.id is the request's host, the request's origin is allowed and the :8787 one is not", async () => {
    const { tokens } = await plain.userWithToken();
    const options = await okJson(await api(plain).registerOptions(tokens.access_token));
    assert.equal(options.rp.id, "localhost");
    const a = new SoftAuthenticator({ origin: "http://localhost" });
    await expectProblem(assert, await api(plain).register(tokens.access_token, a.create(options, { origin: ORIGIN, keep: false }).json), 400, "passkey_invalid");
    const again = await okJson(await api(plain).registerOptions(tokens.access_token));
    await okJson(await api(plain).register(tokens.access_token, a.create(again).json), 201);
  });
});

describe("cookie mode (COOKIE_MODE=true, pages on the allowed origin)", () => {
  const ACCESS = "__Host-edge-auth-access";
  const REFRESH = "__Secure-edge-auth-refresh";
  let c;
  before(async () => {
    c = await startWorker({ bindings: { ...WEBAUTHN, COOKIE_MODE: "true", CORS_ORIGINS: ORIGIN } });
  });
  after(() => c?.close());

  const cookiesOf = (res) => Object.fromEntries(res.headers.getSetCookie().map(parseSetCookie).map((k) => [k.name, k]));
  const byCookie = (method, path, access, { body, origin = ORIGIN } = {}) =>
    c.fetch(path, {
      method,
      headers: { Cookie: `${ACCESS}=${access}`, Origin: origin, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("registration by session cookie from the allowed origin; a cross-site Origin is 403 csrf_rejected", async () => {
    const { tokens } = await c.userWithToken();
    const a = new SoftAuthenticator();
    await expectProblem(assert, await byCookie("POST", "/auth/passkeys/register/options", tokens.access_token, { body: {}, origin: "https://evil.example" }), 403, "csrf_rejected");
    const options = await okJson(await byCookie("POST", "/auth/passkeys/register/options", tokens.access_token, { body: {} }));
    const { json } = a.create(options);
    await expectProblem(assert, await byCookie("POST", "/auth/passkeys/register", tokens.access_token, { body: { credential: json }, origin: "https://evil.example" }), 403, "csrf_rejected");
    const view = await okJson(await byCookie("POST", "/auth/passkeys/register", tokens.access_token, { body: { credential: json } }), 201);
    await expectProblem(assert, await byCookie("DELETE", `/auth/passkeys/${view.id}`, tokens.access_token, { origin: "https://evil.example" }), 403, "csrf_rejected");
    assert.equal((await okJson(await byCookie("GET", "/auth/passkeys", tokens.access_token))).passkeys.length, 1);
  });

  test("a passkey sign-in sets the access and refresh cookies", async () => {
    const { user, authenticator } = await userWithPasskey(c);
    const options = await okJson(await api(c).loginOptions({}, { Origin: ORIGIN }));
    const res = await api(c).login({ credential: authenticator.get(options) }, { Origin: ORIGIN });
    const text = await res.clone().text();
    assert.equal(res.status, 200, text);
    const cookies = cookiesOf(res);
    assert.ok(cookies[ACCESS] && cookies[REFRESH], `cookies ${Object.keys(cookies)}`);
    assert.equal(cookies[ACCESS].attrs.httponly, true);
    const me = await c.fetch("/auth/me", { headers: { Cookie: `${ACCESS}=${cookies[ACCESS].value}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).id, user.id);
  });
});

// Checks WebAuthn L3 asks of a relying party that docs/passkeys.md does not list by name.
describe("WebAuthn L3 checks beyond the contract's list", () => {
  test("registration: BS set without BE is refused [WebAuthn L3 §6.1.3, §7.1]", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const { json } = new SoftAuthenticator().create(options, { be: false, bs: true });
    await expectProblem(assert, await api(w).register(tokens.access_token, json), 400, "passkey_invalid");
  });

  test("registration: crossOrigin true from an unlisted top origin is refused [WebAuthn L3 §7.1]", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const { json } = new SoftAuthenticator().create(options, { crossOrigin: true, topOrigin: "https://evil.example" });
    await expectProblem(assert, await api(w).register(tokens.access_token, json), 400, "passkey_invalid");
  });

  test("sign-in: crossOrigin true from an unlisted top origin is refused [WebAuthn L3 §7.2]", async () => {
    const { authenticator } = await userWithPasskey(w);
    await expectInvalidCredentials(await passkeyLogin(w, authenticator, { get: { crossOrigin: true, topOrigin: "https://evil.example" } }));
  });

  test("usernameless sign-in without a userHandle is refused [WebAuthn L3 §7.2]", async () => {
    const { authenticator } = await userWithPasskey(w);
    await expectInvalidCredentials(await passkeyLogin(w, authenticator, { get: { userHandle: null } }));
  });

  test("registration: bytes after the credential public key without ED are refused (malformed authenticatorData)", async () => {
    const { tokens } = await w.userWithToken();
    const options = await okJson(await api(w).registerOptions(tokens.access_token));
    const { json } = new SoftAuthenticator().create(options, { trailing: Buffer.from([0xa0]) });
    await expectProblem(assert, await api(w).register(tokens.access_token, json), 400, "passkey_invalid");
  });
});
