// Signing keys from outside [RFC 8725 §3.1-3.2, §3.5; RFC 8037; RFC 9068; ASVS 9.1.1-9.1.3]: the JWKS in
// HS256 mode (empty: HMAC secrets are never published) and in EdDSA mode (one OKP/Ed25519 key per
// configured key), EdDSA tokens verified independently with node:crypto, rotation with
// JWT_PREVIOUS_PUBLIC_KEYS and JWT_PREVIOUS_SECRETS (access and refresh tokens outlive a key change; a
// worker without the old key refuses them), algorithm confusion in EdDSA mode, and invalid key
// configuration (503).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomBytes } from "node:crypto";
import { startWorker, expectProblem, decodeJwt, signJwt, TEST_SECRET } from "./helpers.mjs";

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);
const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const newSeed = () => randomBytes(32).toString("base64url");

/** An Ed25519 private key object from a raw 32-byte seed (PKCS#8 wrapping, RFC 8410). */
function privateKeyFromSeed(seedB64url) {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seedB64url, "base64url")]);
  return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

/** The public `x` (base64url) of a seed, computed by OpenSSL, not by the Worker. */
function publicXFromSeed(seedB64url) {
  return crypto.createPublicKey(privateKeyFromSeed(seedB64url)).export({ format: "jwk" }).x;
}

/** Signs header+claims with Ed25519 under `seed` (the Worker's own key when it is the configured one). */
function signEd(header, claims, seedB64url) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const sig = crypto.sign(null, Buffer.from(input), privateKeyFromSeed(seedB64url)).toString("base64url");
  return `${input}.${sig}`;
}

/** The kid the Worker derives for an HMAC secret (README: truncated SHA-256 under a label), independently. */
function hsKid(secret) {
  const digest = crypto.createHash("sha256").update("edge-auth kid v1\0").update(secret).digest();
  return `hs-${digest.subarray(0, 9).toString("base64url")}`;
}

/** Verifies a compact JWS with an OKP JWK using node:crypto only; returns {header, claims} or throws. */
function verifyWithJwk(token, jwk) {
  const [h, c, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  if (header.alg !== "EdDSA") throw new Error(`unexpected alg ${header.alg}`);
  const publicKey = crypto.createPublicKey({ key: jwk, format: "jwk" });
  const ok = crypto.verify(null, Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, "base64url"));
  if (!ok) throw new Error("bad signature");
  return { header, claims: JSON.parse(Buffer.from(c, "base64url").toString()) };
}

/**
 * A downstream service's guard, as a tiny function: verifies the token against the JWKS (by kid, EdDSA
 * only, typ at+jwt, unexpired) and checks the role claim. Returns an HTTP status: 200, 401 or 403.
 */
function downstreamGuard(token, jwks, requiredRole) {
  let verified;
  try {
    const { header } = decodeJwt(token);
    const jwk = jwks.keys.find((k) => k.kid === header.kid && k.alg === "EdDSA" && k.kty === "OKP");
    if (!jwk || header.typ !== "at+jwt") return 401;
    verified = verifyWithJwk(token, jwk);
  } catch {
    return 401;
  }
  if (!(verified.claims.exp > nowSeconds())) return 401;
  return verified.claims.role === requiredRole ? 200 : 403;
}

async function jwksOf(worker) {
  const res = await worker.fetch("/.well-known/jwks.json");
  assert.equal(res.status, 200);
  return res.json();
}

async function expectInvalid(res) {
  const body = await expectProblem(assert, res, 401, "token_invalid");
  assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/);
  return body;
}

/** Copies every row of `table` from one worker's D1 to another's. */
async function copyTable(from, to, table) {
  const { results } = await from.db.prepare(`SELECT * FROM ${table}`).all();
  for (const row of results) {
    const cols = Object.keys(row);
    const sql = `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(", ")})`;
    await to.db.prepare(sql).bind(...cols.map((c) => row[c])).run();
  }
  return results.length;
}

/** Inserts a copy of the users row `id` of `from` into `to` (same id, so tokens' `sub` resolves; the
 * target database gives it a number of its own, as it does every new user). */
/** Copies a user and its sessions (the profile reads the token's session from D1) to another worker. */
async function copyUser(from, to, id) {
  const row = await from.db.prepare("SELECT * FROM users WHERE id = ?1").bind(id).first();
  assert.ok(row, `user ${id} exists in the source worker`);
  const insert = async (table, r) => {
    const cols = Object.keys(r).filter((c) => c !== "number");
    const sql = `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(", ")})`;
    await to.db.prepare(sql).bind(...cols.map((c) => r[c])).run();
  };
  await insert("users", row);
  const sessions = await from.db.prepare("SELECT * FROM sessions WHERE user_id = ?1").bind(id).all();
  for (const session of sessions.results) await insert("sessions", session);
}

// ---- HS256 (default) -------------------------------------------------------------------------------

describe("JWKS in HS256 mode", () => {
  let w;
  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.close();
  });

  test("GET /.well-known/jwks.json is 200 {\"keys\": []} as application/jwk-set+json", async () => {
    const res = await w.fetch("/.well-known/jwks.json");
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/jwk-set\+json/);
    assert.deepEqual(JSON.parse(text), { keys: [] });
  });

  test("the JWKS holds no secret material in any encoding", async () => {
    const text = await (await w.fetch("/.well-known/jwks.json")).text();
    const secret = Buffer.from(TEST_SECRET);
    for (const form of [
      TEST_SECRET,
      secret.toString("base64"),
      secret.toString("base64").replace(/=+$/, ""),
      secret.toString("base64url"),
      secret.toString("hex"),
      TEST_SECRET.slice(0, 16),
    ]) {
      assert.equal(text.includes(form), false, `JWKS contains ${form}`);
    }
    assert.equal(/"k"\s*:/.test(text), false, "no symmetric JWK (k)");
    assert.equal(/"oct"/.test(text), false, "no oct key");
  });
});

// ---- EdDSA -------------------------------------------------------------------------------------------

describe("EdDSA mode", () => {
  const seed = newSeed();
  let w;
  let alice;
  let root;
  let jwks;
  before(async () => {
    w = await startWorker({ bindings: { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: seed } });
    alice = await w.userWithToken();
    root = await w.userWithToken({ role: "admin" });
    jwks = await jwksOf(w);
  });
  after(async () => {
    await w?.close();
  });

  test("login issues an EdDSA at+jwt whose kid starts with ed-", () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.typ, "at+jwt");
    assert.match(header.kid, /^ed-[A-Za-z0-9_-]+$/);
    assert.equal(claims.sub, alice.user.id);
    assert.equal(claims.username, alice.user.username);
    assert.equal(claims.role, "user");
  });

  test("the EdDSA token opens the profile", async () => {
    const res = await w.fetch("/auth/profile", bearer(alice.tokens.access_token));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).id, alice.user.id);
  });

  test("the JWKS has exactly one OKP/Ed25519 key: the token's kid, alg EdDSA, use sig, x of the configured seed", async () => {
    const res = await w.fetch("/.well-known/jwks.json");
    assert.match(res.headers.get("content-type") ?? "", /^application\/jwk-set\+json/);
    assert.equal(jwks.keys.length, 1, JSON.stringify(jwks));
    const [jwk] = jwks.keys;
    const { header } = decodeJwt(alice.tokens.access_token);
    assert.equal(jwk.kty, "OKP");
    assert.equal(jwk.crv, "Ed25519");
    assert.equal(jwk.kid, header.kid);
    assert.equal(jwk.alg, "EdDSA");
    assert.equal(jwk.use, "sig");
    assert.equal(jwk.x, publicXFromSeed(seed), "the public key is the one of JWT_PRIVATE_KEY");
    assert.equal(Buffer.from(jwk.x, "base64url").length, 32);
    assert.equal("d" in jwk, false, "no private part");
    const text = JSON.stringify(jwks);
    assert.equal(text.includes(seed), false, "the seed is not published");
    assert.equal(text.includes(Buffer.from(seed, "base64url").toString("hex")), false);
  });

  test("an independent library (node:crypto) verifies the Worker's token with the published key", () => {
    const [h, c, s] = alice.tokens.access_token.split(".");
    const publicKey = crypto.createPublicKey({ key: jwks.keys[0], format: "jwk" });
    assert.equal(crypto.verify(null, Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, "base64url")), true);
    // A changed payload fails the same check.
    const claims = JSON.parse(Buffer.from(c, "base64url").toString());
    const tampered = b64url({ ...claims, role: "admin" });
    assert.equal(crypto.verify(null, Buffer.from(`${h}.${tampered}`), publicKey, Buffer.from(s, "base64url")), false);
  });

  test("a downstream guard reading the role claim: admin allowed, user 403, garbage 401", () => {
    assert.equal(downstreamGuard(root.tokens.access_token, jwks, "admin"), 200);
    assert.equal(downstreamGuard(alice.tokens.access_token, jwks, "admin"), 403);
    assert.equal(downstreamGuard("not.a.token", jwks, "admin"), 401);
    const [h, c, s] = alice.tokens.access_token.split(".");
    const claims = JSON.parse(Buffer.from(c, "base64url").toString());
    assert.equal(downstreamGuard(`${h}.${b64url({ ...claims, role: "admin" })}.${s}`, jwks, "admin"), 401);
  });

  test("a token we sign ourselves with the configured seed is accepted (control for the forgeries below)", async () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    const now = nowSeconds();
    const token = signEd(header, { ...claims, jti: randomBytes(16).toString("base64url"), iat: now, exp: now + 900 }, seed);
    const res = await w.fetch("/auth/profile", bearer(token));
    assert.equal(res.status, 200, await res.clone().text());
  });

  // ---- algorithm confusion and key sources in EdDSA mode ----

  const fresh = () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    const now = nowSeconds();
    return { header: { ...header }, claims: { ...claims, jti: randomBytes(16).toString("base64url"), iat: now, exp: now + 900 } };
  };

  test("HS256 signed with the public key bytes as HMAC secret, with the Ed kid, is refused", async () => {
    const { header, claims } = fresh();
    const x = Buffer.from(jwks.keys[0].x, "base64url");
    const input = `${b64url({ ...header, alg: "HS256" })}.${b64url(claims)}`;
    const token = `${input}.${crypto.createHmac("sha256", x).update(input).digest("base64url")}`;
    await expectInvalid(await w.fetch("/auth/profile", bearer(token)));
  });

  test("HS256 signed with the public key's text forms (x, JWK JSON, PEM) as HMAC secret is refused", async () => {
    const { header, claims } = fresh();
    const jwk = jwks.keys[0];
    const pem = crypto.createPublicKey({ key: jwk, format: "jwk" }).export({ format: "pem", type: "spki" });
    for (const secret of [jwk.x, JSON.stringify(jwk), pem]) {
      const token = signJwt({ ...header, alg: "HS256" }, claims, secret);
      await expectInvalid(await w.fetch("/auth/profile", bearer(token)));
    }
  });

  test("HS256 signed with JWT_SECRET (still configured, for refresh tokens) with the Ed kid or an hs- kid is refused", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(signJwt({ ...header, alg: "HS256" }, claims, TEST_SECRET))));
    await expectInvalid(
      await w.fetch("/auth/profile", bearer(signJwt({ ...header, alg: "HS256", kid: hsKid(TEST_SECRET) }, claims, TEST_SECRET))),
    );
  });

  test("alg none is refused", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(`${b64url({ ...header, alg: "none" })}.${b64url(claims)}.`)));
  });

  test("an unknown kid is refused, even with a valid signature by the configured key", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(signEd({ ...header, kid: "ed-unknownkid00" }, claims, seed))));
  });

  test("a token signed by another Ed25519 key under the configured kid is refused", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(signEd(header, claims, newSeed()))));
  });

  test("a token without kid is refused", async () => {
    const { header, claims } = fresh();
    delete header.kid;
    await expectInvalid(await w.fetch("/auth/profile", bearer(signEd(header, claims, seed))));
  });

  test("a token typed JWT (not at+jwt) is refused", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(signEd({ ...header, typ: "JWT" }, claims, seed))));
  });

  /**
   * A token signed with the configured seed, padded to exactly `length` characters. A base64url segment
   * can never be 4k+1 characters long, so insignificant JSON whitespace in the header (a string
   * header, still valid JSON) shifts the total when the claims alone cannot reach the length.
   */
  function edTokenOfLength(length) {
    const { header, claims } = fresh();
    for (let spaces = 0; spaces < 3; spaces++) {
      const rawHeader = JSON.stringify(header).replace("{", `{${" ".repeat(spaces)}`);
      for (let n = 0; n < length; n++) {
        const token = signEd(rawHeader, { ...claims, pad: "x".repeat(n) }, seed);
        if (token.length === length) return token;
        if (token.length > length) break;
      }
    }
    throw new Error(`no token of length ${length}`);
  }

  test("a validly signed EdDSA token of exactly 4096 bytes is accepted; one of 4097 is refused", async () => {
    const ok = await w.fetch("/auth/profile", bearer(edTokenOfLength(4096)));
    assert.equal(ok.status, 200, await ok.clone().text());
    await expectInvalid(await w.fetch("/auth/profile", bearer(edTokenOfLength(4097))));
  });

  test("a token over 4096 bytes is refused", async () => {
    const { header, claims } = fresh();
    const token = signEd(header, { ...claims, pad: "y".repeat(5000) }, seed);
    assert.ok(token.length > 4096);
    await expectInvalid(await w.fetch("/auth/profile", bearer(token)));
  });

  for (const [name, value] of [
    ["jku", "https://evil.example/jwks.json"],
    ["x5u", "https://evil.example/cert.pem"],
    ["jwk", { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }],
    ["crit", ["exp"]],
  ]) {
    test(`a validly signed EdDSA token whose header carries ${name} is refused`, async () => {
      const { header, claims } = fresh();
      await expectInvalid(await w.fetch("/auth/profile", bearer(signEd({ ...header, [name]: value }, claims, seed))));
    });
  }

  test("an embedded jwk naming the attacker's own key (signed by it) is refused", async () => {
    const { header, claims } = fresh();
    const attackerSeed = newSeed();
    const attackerJwk = { kty: "OKP", crv: "Ed25519", x: publicXFromSeed(attackerSeed) };
    await expectInvalid(
      await w.fetch("/auth/profile", bearer(signEd({ ...header, jwk: attackerJwk }, claims, attackerSeed))),
    );
  });
});

describe("HS256 mode refuses EdDSA tokens", () => {
  let w;
  let alice;
  before(async () => {
    w = await startWorker();
    alice = await w.userWithToken();
  });
  after(async () => {
    await w?.close();
  });

  const fresh = () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    const now = nowSeconds();
    return { header: { ...header }, claims: { ...claims, jti: randomBytes(16).toString("base64url"), iat: now, exp: now + 900 } };
  };

  test("alg EdDSA with the hs- kid, signed by an Ed25519 key, is refused", async () => {
    const { header, claims } = fresh();
    await expectInvalid(await w.fetch("/auth/profile", bearer(signEd({ ...header, alg: "EdDSA" }, claims, newSeed()))));
  });

  test("alg EdDSA with the hs- kid and an HMAC-SHA256 signature under the secret is refused", async () => {
    const { header, claims } = fresh();
    const input = `${b64url({ ...header, alg: "EdDSA" })}.${b64url(claims)}`;
    const token = `${input}.${crypto.createHmac("sha256", TEST_SECRET).update(input).digest("base64url")}`;
    await expectInvalid(await w.fetch("/auth/profile", bearer(token)));
  });

  test("an EdDSA token with an ed- kid is refused (no Ed25519 key is configured)", async () => {
    const { header, claims } = fresh();
    await expectInvalid(
      await w.fetch("/auth/profile", bearer(signEd({ ...header, alg: "EdDSA", kid: "ed-AAAAAAAAAAAA" }, claims, newSeed()))),
    );
  });

  test("the hs- kid of the token is derived from the secret as documented", () => {
    assert.equal(decodeJwt(alice.tokens.access_token).header.kid, hsKid(TEST_SECRET));
  });
});

// ---- rotation ----------------------------------------------------------------------------------------

describe("EdDSA rotation with JWT_PREVIOUS_PUBLIC_KEYS", () => {
  const k1 = newSeed();
  const k2 = newSeed();
  let w1;
  let w2;
  let w3;
  let alice;
  let x1;
  let kid1;
  before(async () => {
    w1 = await startWorker({ bindings: { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: k1 } });
    alice = await w1.userWithToken();
    const jwks1 = await jwksOf(w1);
    assert.equal(jwks1.keys.length, 1);
    x1 = jwks1.keys[0].x;
    kid1 = jwks1.keys[0].kid;
    [w2, w3] = await Promise.all([
      startWorker({ bindings: { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: k2, JWT_PREVIOUS_PUBLIC_KEYS: x1 } }),
      startWorker({ bindings: { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: k2 } }),
    ]);
    await copyUser(w1, w2, alice.user.id);
    await copyUser(w1, w3, alice.user.id);
  });
  after(async () => {
    await Promise.all([w1?.close(), w2?.close(), w3?.close()]);
  });

  test("a token signed with K1 still opens the profile on the worker that signs with K2 and lists K1 as previous", async () => {
    assert.equal(decodeJwt(alice.tokens.access_token).header.kid, kid1);
    const res = await w2.fetch("/auth/profile", bearer(alice.tokens.access_token));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).id, alice.user.id);
  });

  test("the new worker's JWKS lists both keys, the current one first", async () => {
    const jwks = await jwksOf(w2);
    assert.equal(jwks.keys.length, 2, JSON.stringify(jwks));
    const xs = jwks.keys.map((k) => k.x);
    assert.equal(xs[0], publicXFromSeed(k2));
    assert.equal(xs[1], x1);
    assert.ok(jwks.keys.some((k) => k.kid === kid1));
    for (const k of jwks.keys) {
      assert.equal(k.kty, "OKP");
      assert.equal(k.crv, "Ed25519");
      assert.equal(k.alg, "EdDSA");
      assert.equal(k.use, "sig");
    }
    assert.notEqual(jwks.keys[0].kid, jwks.keys[1].kid);
  });

  test("new tokens on the new worker are signed with K2", async () => {
    const bob = await w2.userWithToken();
    const { header } = decodeJwt(bob.tokens.access_token);
    const jwks = await jwksOf(w2);
    assert.equal(header.kid, jwks.keys[0].kid);
    assert.notEqual(header.kid, kid1);
    verifyWithJwk(bob.tokens.access_token, jwks.keys[0]);
  });

  test("a worker with K2 and no previous key refuses the old token", async () => {
    await expectInvalid(await w3.fetch("/auth/profile", bearer(alice.tokens.access_token)));
  });

  test("a previous key only verifies: a token signed with K2's kid but K1's key is refused", async () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    const jwks = await jwksOf(w2);
    await expectInvalid(await w2.fetch("/auth/profile", bearer(signEd({ ...header, kid: jwks.keys[0].kid }, claims, k1))));
  });
});

describe("HS256 rotation with JWT_PREVIOUS_SECRETS", () => {
  const s1 = randomBytes(48).toString("base64");
  const s2 = randomBytes(48).toString("base64");
  let w1;
  let w2;
  let w3;
  let alice;
  before(async () => {
    w1 = await startWorker({ bindings: { JWT_SECRET: s1 } });
    alice = await w1.userWithToken();
    [w2, w3] = await Promise.all([
      startWorker({ bindings: { JWT_SECRET: s2, JWT_PREVIOUS_SECRETS: s1 } }),
      startWorker({ bindings: { JWT_SECRET: s2 } }),
    ]);
    for (const target of [w2, w3]) {
      assert.ok((await copyTable(w1, target, "users")) >= 1);
      assert.ok((await copyTable(w1, target, "sessions")) >= 1);
    }
  });
  after(async () => {
    await Promise.all([w1?.close(), w2?.close(), w3?.close()]);
  });

  test("the old access token (S1) still opens the profile on the worker with S2 and S1 as previous", async () => {
    assert.equal(decodeJwt(alice.tokens.access_token).header.kid, hsKid(s1));
    const res = await w2.fetch("/auth/profile", bearer(alice.tokens.access_token));
    assert.equal(res.status, 200, await res.clone().text());
  });

  test("the JWKS stays empty with previous HMAC secrets", async () => {
    assert.deepEqual(await jwksOf(w2), { keys: [] });
  });

  test("a worker with S2 only refuses the old access token", async () => {
    await expectInvalid(await w3.fetch("/auth/profile", bearer(alice.tokens.access_token)));
  });

  test("a worker with S2 only refuses the old refresh token", async () => {
    const res = await w3.post("/auth/refresh", { refresh_token: alice.tokens.refresh_token });
    await expectProblem(assert, res, 401, "refresh_token_invalid");
  });

  test("the old refresh token (S1) refreshes on the worker with S2: the new access token carries S2's kid", async () => {
    const res = await w2.post("/auth/refresh", { refresh_token: alice.tokens.refresh_token });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text);
    const { header } = decodeJwt(body.access_token);
    assert.equal(header.alg, "HS256");
    assert.equal(header.kid, hsKid(s2));
    assert.notEqual(body.refresh_token, alice.tokens.refresh_token, "rotated");
    const profile = await w2.fetch("/auth/profile", bearer(body.access_token));
    assert.equal(profile.status, 200, await profile.clone().text());
    // The rotated refresh token is minted with S2's key: it refreshes again on a worker with S2.
    const again = await w2.post("/auth/refresh", { refresh_token: body.refresh_token });
    assert.equal(again.status, 200, await again.clone().text());
  });

  test("a previous secret only verifies: an HS256 token forged with S1 under S2's kid is refused", async () => {
    const { header, claims } = decodeJwt(alice.tokens.access_token);
    const now = nowSeconds();
    const token = signJwt({ ...header, kid: hsKid(s2) }, { ...claims, jti: "j-forged", iat: now, exp: now + 900 }, s1);
    await expectInvalid(await w2.fetch("/auth/profile", bearer(token)));
  });
});

// ---- the 64-byte private key form -------------------------------------------------------------------

describe("EdDSA mode with JWT_PRIVATE_KEY as 64 bytes (seed, then public key: libsodium's and Go's form)", () => {
  const seed = newSeed();
  const full = Buffer.concat([Buffer.from(seed, "base64url"), Buffer.from(publicXFromSeed(seed), "base64url")]);
  let w;
  before(async () => {
    w = await startWorker({ bindings: { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: full.toString("base64url") } });
  });
  after(async () => {
    await w?.close();
  });

  test("publishes the same key as the bare seed, and its tokens verify with node:crypto", async () => {
    const jwks = await jwksOf(w);
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].x, publicXFromSeed(seed));
    const alice = await w.userWithToken();
    const { header, claims } = verifyWithJwk(alice.tokens.access_token, jwks.keys[0]);
    assert.equal(header.kid, jwks.keys[0].kid);
    assert.equal(claims.sub, alice.user.id);
    const res = await w.fetch("/auth/profile", bearer(alice.tokens.access_token));
    assert.equal(res.status, 200, await res.clone().text());
  });

  test("a token signed by the seed with node:crypto is accepted, one with a flipped signature bit is not", async () => {
    const kid = (await jwksOf(w)).keys[0].kid;
    const alice = await w.userWithToken();
    const { claims } = decodeJwt(alice.tokens.access_token);
    const token = signEd({ alg: "EdDSA", typ: "at+jwt", kid }, claims, seed);
    assert.equal((await w.fetch("/auth/profile", bearer(token))).status, 200);
    const [h, c, sig] = token.split(".");
    const bytes = Buffer.from(sig, "base64url");
    bytes[5] ^= 1;
    await expectInvalid(await w.fetch("/auth/profile", bearer(`${h}.${c}.${bytes.toString("base64url")}`)));
  });
});

test("JWT_ALGORITHM and JWT_PRIVATE_KEY are read trimmed, as every setting is: \"EdDSA \" with a seed signs EdDSA", async () => {
  const seed = newSeed();
  const w = await startWorker({ bindings: { JWT_ALGORITHM: "EdDSA ", JWT_PRIVATE_KEY: ` ${seed}\n` } });
  try {
    const jwks = await jwksOf(w);
    assert.equal(jwks.keys.length, 1, JSON.stringify(jwks));
    assert.equal(jwks.keys[0].x, publicXFromSeed(seed));
    const alice = await w.userWithToken();
    assert.equal(verifyWithJwk(alice.tokens.access_token, jwks.keys[0]).header.alg, "EdDSA");
    assert.equal((await w.fetch("/auth/profile", bearer(alice.tokens.access_token))).status, 200);
  } finally {
    await w.close();
  }
});

// ---- invalid key configuration -----------------------------------------------------------------------

for (const [label, bindings] of [
  ["JWT_ALGORITHM EdDSA without JWT_PRIVATE_KEY", { JWT_ALGORITHM: "EdDSA" }],
  ["JWT_ALGORITHM none", { JWT_ALGORITHM: "none" }],
  ["JWT_ALGORITHM RS256", { JWT_ALGORITHM: "RS256" }],
  ["JWT_ALGORITHM HS512", { JWT_ALGORITHM: "HS512" }],
  ["JWT_PRIVATE_KEY of 16 bytes", { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: randomBytes(16).toString("base64url") }],
  ["JWT_PRIVATE_KEY of 64 bytes whose public half is another key's", {
    JWT_ALGORITHM: "EdDSA",
    JWT_PRIVATE_KEY: Buffer.concat([randomBytes(32), Buffer.from(publicXFromSeed(newSeed()), "base64url")]).toString("base64url"),
  }],
  ["JWT_PRIVATE_KEY of 48 bytes", { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: randomBytes(48).toString("base64url") }],
  ["JWT_PREVIOUS_PUBLIC_KEYS not a key", { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: newSeed(), JWT_PREVIOUS_PUBLIC_KEYS: "not-a-key" }],
  ["JWT_PREVIOUS_SECRETS shorter than 32 bytes", { JWT_PREVIOUS_SECRETS: "short-old-password" }],
]) {
  test(`${label}: every request is 503`, async () => {
    const w = await startWorker({ bindings });
    try {
      for (const [method, path, body] of [
        ["GET", "/health"],
        ["GET", "/.well-known/jwks.json"],
        ["GET", "/auth/profile"],
        ["POST", "/auth/login", { username: "someone", password: "correct horse battery" }],
      ]) {
        const res = body ? await w.post(path, body) : await w.fetch(path, { method });
        const text = await res.text();
        assert.equal(res.status, 503, `${method} ${path}: ${text}`);
        assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
        assert.equal(/JWT_|private|secret/i.test(text), false, `no configuration detail in ${text}`);
      }
    } finally {
      await w.close();
    }
  });
}
