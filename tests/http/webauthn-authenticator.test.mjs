// The software authenticator of ./webauthn-authenticator.mjs checked on its own (no Worker): what it
// builds is parsed back here by hand, following WebAuthn L3 §6.1 / §6.5.1 / §6.5.4 and RFC 9052 §7, and
// its signatures are verified with node:crypto. So a passkey test that fails against the Worker fails
// because of the Worker, not because the authenticator got WebAuthn wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, verify } from "node:crypto";
import { ALG, FLAGS, SoftAuthenticator, coseKey, decodeCbor } from "./webauthn-authenticator.mjs";

const sha256 = (d) => createHash("sha256").update(d).digest();
const fromB64u = (t) => Buffer.from(t, "base64url");

const creationOptions = (overrides = {}) => ({
  rp: { id: "localhost", name: "edge-auth" },
  user: { id: Buffer.from("user-1").toString("base64url"), name: "alice", displayName: "Alice" },
  challenge: Buffer.alloc(32, 7).toString("base64url"),
  pubKeyCredParams: [
    { type: "public-key", alg: -8 },
    { type: "public-key", alg: -7 },
  ],
  excludeCredentials: [],
  extensions: { credProps: true },
  ...overrides,
});
const requestOptions = (overrides = {}) => ({ challenge: Buffer.alloc(32, 9).toString("base64url"), rpId: "localhost", allowCredentials: [], ...overrides });

/** authenticatorData parsed by hand [WebAuthn L3 §6.1, §6.5.1]. */
function parseAuthData(buf) {
  const out = { rpIdHash: buf.subarray(0, 32), flags: buf[32], signCount: buf.readUInt32BE(33) };
  if (out.flags & FLAGS.AT) {
    out.aaguid = buf.subarray(37, 53);
    const len = buf.readUInt16BE(53);
    out.credentialId = buf.subarray(55, 55 + len);
    out.publicKeyBytes = buf.subarray(55 + len);
  }
  return out;
}

/** A node:crypto public key from COSE_Key bytes (EC2 P-256 or OKP Ed25519) [RFC 9053 §7]. */
function publicKeyFromCose(bytes) {
  const m = decodeCbor(bytes);
  const b = (v) => Buffer.from(v).toString("base64url");
  if (m.get(1) === 2) return { alg: m.get(3), key: createPublicKey({ key: { kty: "EC", crv: "P-256", x: b(m.get(-2)), y: b(m.get(-3)) }, format: "jwk" }) };
  if (m.get(1) === 1) return { alg: m.get(3), key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b(m.get(-2)) }, format: "jwk" }) };
  throw new Error(`kty ${m.get(1)}`);
}

const verifyWith = ({ alg, key }, data, sig) =>
  alg === ALG.ES256 ? verify("sha256", data, { key, dsaEncoding: "der" }, sig) : verify(null, data, key, sig);

test("COSE_Key of a fixed P-256 key: the exact bytes of RFC 9052 §7 / RFC 9053 §7.1.1 (map of 5, labels 1, 3, -1, -2, -3)", () => {
  // RFC 7515 appendix A.3's P-256 key.
  const jwk = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", d: "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI" };
  const keyPair = { alg: ALG.ES256, privateKey: createPrivateKey({ key: jwk, format: "jwk" }), publicKey: createPublicKey({ key: jwk, format: "jwk" }) };
  const expected = Buffer.concat([
    Buffer.from("a5010203262001215820", "hex"),
    fromB64u(jwk.x),
    Buffer.from("225820", "hex"),
    fromB64u(jwk.y),
  ]);
  assert.equal(coseKey(keyPair).toString("hex"), expected.toString("hex"));
});

test("registration, fmt none: clientDataJSON, attestationObject and authenticatorData as WebAuthn L3 lays them out", () => {
  const a = new SoftAuthenticator({ origin: "http://localhost:8787" });
  const options = creationOptions();
  const { json, credential } = a.create(options);
  assert.equal(json.type, "public-key");
  assert.equal(json.id, json.rawId);
  assert.match(json.id, /^[A-Za-z0-9_-]+$/);
  const clientData = fromB64u(json.response.clientDataJSON).toString();
  assert.equal(clientData, `{"type":"webauthn.create","challenge":"${options.challenge}","origin":"http://localhost:8787","crossOrigin":false}`);
  const att = decodeCbor(fromB64u(json.response.attestationObject));
  assert.deepEqual([...att.keys()], ["fmt", "attStmt", "authData"]);
  assert.equal(att.get("fmt"), "none");
  assert.equal(att.get("attStmt").size, 0);
  const authData = Buffer.from(att.get("authData"));
  assert.deepEqual(authData, fromB64u(json.response.authenticatorData));
  const parsed = parseAuthData(authData);
  assert.deepEqual(parsed.rpIdHash, sha256("localhost"));
  assert.equal(parsed.flags, FLAGS.UP | FLAGS.UV | FLAGS.AT);
  assert.equal(parsed.signCount, 0);
  assert.deepEqual(parsed.aaguid, Buffer.alloc(16));
  assert.deepEqual(parsed.credentialId, fromB64u(json.id));
  const { alg, key } = publicKeyFromCose(parsed.publicKeyBytes);
  assert.equal(alg, ALG.EdDSA, "the server's first choice");
  assert.equal(key.export({ format: "der", type: "spki" }).toString("base64url"), json.response.publicKey);
  assert.deepEqual(credential.userHandle, Buffer.from("user-1"));
  assert.deepEqual(json.clientExtensionResults, { credProps: { rk: true } });
});

for (const alg of [ALG.ES256, ALG.EdDSA]) {
  test(`packed self-attestation (alg ${alg}): attStmt {alg, sig}, sig verifies over authData || SHA-256(clientDataJSON); a flipped bit does not`, () => {
    for (const flip of [false, true]) {
      const { json } = new SoftAuthenticator().create(creationOptions(), { alg, fmt: "packed", flipAttestationSignature: flip });
      const att = decodeCbor(fromB64u(json.response.attestationObject));
      assert.equal(att.get("fmt"), "packed");
      const stmt = att.get("attStmt");
      assert.deepEqual([...stmt.keys()].sort(), ["alg", "sig"]);
      assert.equal(stmt.get("alg"), alg);
      const authData = Buffer.from(att.get("authData"));
      const key = publicKeyFromCose(parseAuthData(authData).publicKeyBytes);
      const signed = Buffer.concat([authData, sha256(fromB64u(json.response.clientDataJSON))]);
      assert.equal(verifyWith(key, signed, Buffer.from(stmt.get("sig"))), !flip);
    }
  });

  test(`assertion (alg ${alg}): signature over authData || SHA-256(clientDataJSON), counter counts up, userHandle`, () => {
    const a = new SoftAuthenticator();
    const { json: reg } = a.create(creationOptions(), { alg, signCount: 10 });
    const key = publicKeyFromCose(parseAuthData(Buffer.from(decodeCbor(fromB64u(reg.response.attestationObject)).get("authData"))).publicKeyBytes);
    const options = requestOptions({ allowCredentials: [{ type: "public-key", id: reg.id }] });
    const one = a.get(options);
    const two = a.get(options);
    for (const [assertion, count] of [[one, 11], [two, 12]]) {
      assert.equal(assertion.id, reg.id);
      const authData = fromB64u(assertion.response.authenticatorData);
      const parsed = parseAuthData(authData);
      assert.equal(authData.length, 37, "no attested data in an assertion");
      assert.deepEqual(parsed.rpIdHash, sha256("localhost"));
      assert.equal(parsed.flags, FLAGS.UP | FLAGS.UV);
      assert.equal(parsed.signCount, count);
      const clientData = JSON.parse(fromB64u(assertion.response.clientDataJSON));
      assert.deepEqual(clientData, { type: "webauthn.get", challenge: options.challenge, origin: "http://localhost:8787", crossOrigin: false });
      const signed = Buffer.concat([authData, sha256(fromB64u(assertion.response.clientDataJSON))]);
      assert.equal(verifyWith(key, signed, fromB64u(assertion.response.signature)), true);
      assert.equal(fromB64u(assertion.response.userHandle).toString(), "user-1");
    }
    const flipped = a.get(options, { flipSignature: true });
    const signed = Buffer.concat([fromB64u(flipped.response.authenticatorData), sha256(fromB64u(flipped.response.clientDataJSON))]);
    assert.equal(verifyWith(key, signed, fromB64u(flipped.response.signature)), false);
  });
}

test("ES256 signatures are ASN.1 DER SEQUENCE of two INTEGERs [WebAuthn L3 §6.5.5]", () => {
  const a = new SoftAuthenticator();
  a.create(creationOptions(), { alg: ALG.ES256 });
  const sig = fromB64u(a.get(requestOptions()).response.signature);
  assert.equal(sig[0], 0x30);
  assert.equal(sig[1], sig.length - 2);
  assert.equal(sig[2], 0x02);
});

test("knobs: each one changes exactly what it names", () => {
  const a = new SoftAuthenticator();
  const options = creationOptions();
  const flagsOf = (json) => parseAuthData(fromB64u(json.response.authenticatorData)).flags;
  assert.equal(flagsOf(a.create(options, { up: false, keep: false }).json) & FLAGS.UP, 0);
  assert.equal(flagsOf(a.create(options, { uv: false, keep: false }).json) & FLAGS.UV, 0);
  assert.equal(flagsOf(a.create(options, { be: false, bs: true, keep: false }).json) & (FLAGS.BE | FLAGS.BS), FLAGS.BS);
  assert.equal(flagsOf(a.create(options, { extensions: { credProtect: 2 }, keep: false }).json) & FLAGS.ED, FLAGS.ED);
  assert.equal(flagsOf(a.create(options, { attested: false, keep: false }).json) & FLAGS.AT, 0);
  const other = a.create(options, { rpId: "example.com", origin: "https://evil.example", type: "webauthn.get", keep: false }).json;
  assert.deepEqual(parseAuthData(fromB64u(other.response.authenticatorData)).rpIdHash, sha256("example.com"));
  const cd = JSON.parse(fromB64u(other.response.clientDataJSON));
  assert.deepEqual([cd.origin, cd.type], ["https://evil.example", "webauthn.get"]);
  const cross = JSON.parse(fromB64u(a.create(options, { crossOrigin: true, topOrigin: "https://evil.example", keep: false }).json.response.clientDataJSON));
  assert.deepEqual([cross.crossOrigin, cross.topOrigin], [true, "https://evil.example"]);
  const rsa = a.create(options, { alg: ALG.RS256, keep: false }).json;
  const rsaKey = decodeCbor(parseAuthData(Buffer.from(decodeCbor(fromB64u(rsa.response.attestationObject)).get("authData"))).publicKeyBytes);
  assert.deepEqual([rsaKey.get(1), rsaKey.get(3)], [3, ALG.RS256]);

  const { credential } = a.create(options);
  const noHandle = a.get(requestOptions(), { userHandle: null });
  assert.equal("userHandle" in noHandle.response, false);
  const low = a.get(requestOptions(), { signCount: 3 });
  assert.equal(parseAuthData(fromB64u(low.response.authenticatorData)).signCount, 3);
  assert.equal(credential.signCount, 3);
});

test("an authenticator holding an excluded credential refuses to create another [WebAuthn L3 §6.3.2]", () => {
  const a = new SoftAuthenticator();
  const { json } = a.create(creationOptions());
  assert.throws(() => a.create(creationOptions({ excludeCredentials: [{ type: "public-key", id: json.id }] })), /InvalidStateError/);
  assert.throws(() => new SoftAuthenticator().get(requestOptions()), /NotAllowedError/);
});
