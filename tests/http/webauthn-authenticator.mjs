// A software WebAuthn authenticator and client, written from the specifications and independent of the
// project's Rust code, so the HTTP tests check the Worker against WebAuthn itself and not against a copy
// of its own parser. Key pairs and signatures come from node:crypto, CBOR from `cborg`.
//
// What it builds [WebAuthn Level 3 (W3C), section numbers below]:
// - the credential public key as a COSE_Key [RFC 9052 §7, RFC 9053 §2.1 / §2.2, RFC 8230 §4]:
//   EC2 P-256 for ES256 (-7), OKP Ed25519 for EdDSA (-8), RSA for RS256 (-257, which the Worker refuses);
// - authenticatorData [§6.1]: rpIdHash, flags (UP, UV, BE, BS, AT, ED), signCount, attested credential
//   data [§6.5.1] with AAGUID, and CBOR extensions;
// - the attestation object [§6.5.4] with fmt "none" [§8.7] or "packed" self-attestation [§8.2];
// - clientDataJSON [§5.8.1, serialised as §5.8.1.1 does];
// - assertion signatures [§6.3.3] over authenticatorData || SHA-256(clientDataJSON): ES256 as ASN.1 DER
//   [§6.5.5], Ed25519 raw [RFC 8032];
// - RegistrationResponseJSON / AuthenticationResponseJSON [§5.1.8 toJSON()], binary values base64url
//   without padding, from the server's PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON.
//
// Every check a relying party makes can be broken on purpose with a knob (see `create` and `get`).
import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign } from "node:crypto";
import { decode as cborDecode, encode as cborEncode } from "cborg";

/** Flag bits of authenticatorData [WebAuthn L3 §6.1]. */
export const FLAGS = Object.freeze({ UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 });

/** COSE algorithm identifiers [IANA COSE Algorithms; RFC 9053 §2.1, §2.2; RFC 8812 §2]. */
export const ALG = Object.freeze({ ES256: -7, EdDSA: -8, RS256: -257 });

/** The AAGUID of an authenticator that does not say what it is [WebAuthn L3 §6.5.1]. */
export const ZERO_AAGUID = Buffer.alloc(16);

/** The origin the tests' pages are on (WEBAUTHN_ORIGINS in the test bindings). */
export const DEFAULT_ORIGIN = "http://localhost:8787";

const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
const fromB64u = (text) => Buffer.from(text, "base64url");
const sha256 = (data) => createHash("sha256").update(data).digest();

/** A fresh key pair for a COSE algorithm: {alg, privateKey, publicKey}. */
export function newKeyPair(alg) {
  switch (alg) {
    case ALG.ES256:
      return { alg, ...generateKeyPairSync("ec", { namedCurve: "P-256" }) };
    case ALG.EdDSA:
      return { alg, ...generateKeyPairSync("ed25519") };
    case ALG.RS256:
      return { alg, ...generateKeyPairSync("rsa", { modulusLength: 2048 }) };
    default:
      throw new Error(`no key type for COSE algorithm ${alg}`);
  }
}

/**
 * The COSE_Key of a public key, CBOR-encoded with integer labels [RFC 9052 §7.1]:
 * EC2 {1: 2, 3: alg, -1: 1 (P-256), -2: x, -3: y} [RFC 9053 §7.1.1],
 * OKP {1: 1, 3: alg, -1: 6 (Ed25519), -2: x} [RFC 9053 §7.2],
 * RSA {1: 3, 3: alg, -1: n, -2: e} [RFC 8230 §4].
 * `alg` overrides label 3 (to lie about the algorithm).
 */
export function coseKey(keyPair, { alg = keyPair.alg } = {}) {
  const jwk = keyPair.publicKey.export({ format: "jwk" });
  let entries;
  if (jwk.kty === "EC") {
    entries = [[1, 2], [3, alg], [-1, 1], [-2, fromB64u(jwk.x)], [-3, fromB64u(jwk.y)]];
  } else if (jwk.kty === "OKP") {
    entries = [[1, 1], [3, alg], [-1, 6], [-2, fromB64u(jwk.x)]];
  } else if (jwk.kty === "RSA") {
    entries = [[1, 3], [3, alg], [-1, fromB64u(jwk.n)], [-2, fromB64u(jwk.e)]];
  } else {
    throw new Error(`no COSE form for ${jwk.kty}`);
  }
  return Buffer.from(cborEncode(new Map(entries)));
}

/** Signs `data` as the COSE algorithm of `keyPair` requires: ES256 DER [WebAuthn L3 §6.5.5], Ed25519 raw. */
export function signWith(keyPair, data) {
  switch (keyPair.alg) {
    case ALG.ES256:
      return cryptoSign("sha256", data, { key: keyPair.privateKey, dsaEncoding: "der" });
    case ALG.EdDSA:
      return cryptoSign(null, data, keyPair.privateKey);
    case ALG.RS256:
      return cryptoSign("sha256", data, keyPair.privateKey);
    default:
      throw new Error(`cannot sign with COSE algorithm ${keyPair.alg}`);
  }
}

/** The flags byte from booleans. */
export function flagsByte({ up = false, uv = false, be = false, bs = false, at = false, ed = false }) {
  return (up ? FLAGS.UP : 0) | (uv ? FLAGS.UV : 0) | (be ? FLAGS.BE : 0) | (bs ? FLAGS.BS : 0) | (at ? FLAGS.AT : 0) | (ed ? FLAGS.ED : 0);
}

/**
 * authenticatorData [WebAuthn L3 §6.1]: SHA-256(rpId) (32) | flags (1) | signCount (4, big-endian) |
 * attested credential data [§6.5.1] when given | CBOR map of extension outputs when given.
 * `flags` is the byte as is (so a test can set AT without data, or ED without extensions).
 */
export function authenticatorData({ rpId, flags, signCount = 0, attested, extensions, trailing }) {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(signCount >>> 0);
  const parts = [sha256(rpId), Buffer.from([flags]), counter];
  if (attested) parts.push(attestedCredentialData(attested));
  if (extensions) parts.push(Buffer.from(cborEncode(extensions)));
  if (trailing) parts.push(Buffer.from(trailing));
  return Buffer.concat(parts);
}

/** Attested credential data [WebAuthn L3 §6.5.1]: AAGUID (16) | L (2, big-endian) | credentialId (L) | COSE_Key. */
export function attestedCredentialData({ aaguid, credentialId, publicKey }) {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(credentialId.length);
  return Buffer.concat([Buffer.from(aaguid), length, credentialId, publicKey]);
}

/**
 * clientDataJSON [WebAuthn L3 §5.8.1], members in the order of the limited serialisation of §5.8.1.1
 * (type, challenge, origin, crossOrigin, then topOrigin when cross-origin).
 */
export function clientDataJSON({ type, challenge, origin, crossOrigin = false, topOrigin, extra = {} }) {
  const data = { type, challenge, origin, crossOrigin };
  if (topOrigin !== undefined) data.topOrigin = topOrigin;
  return Buffer.from(JSON.stringify({ ...data, ...extra }));
}

/** The UUID text form of 16 AAGUID bytes (8-4-4-4-12 lowercase hex). */
export function aaguidText(bytes) {
  const h = Buffer.from(bytes).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Decodes CBOR with Maps (COSE keys have integer labels) and strict duplicate-key refusal. */
export const decodeCbor = (bytes) => cborDecode(new Uint8Array(bytes), { useMaps: true, rejectDuplicateMapKeys: true });

/**
 * One software authenticator with its client (the browser part): it keeps the credentials it created
 * and answers the server's options like navigator.credentials.create() / get() followed by toJSON().
 */
export class SoftAuthenticator {
  /**
   * @param {object} [o]
   * @param {string} [o.origin] the origin of the page the client runs on
   * @param {Buffer} [o.aaguid] 16 bytes
   * @param {string[]} [o.transports]
   * @param {boolean} [o.backupEligible] BE of its credentials (a synced passkey, RFC 8176 "swk")
   * @param {boolean} [o.backupState] BS of its credentials
   * @param {boolean} [o.userVerification] whether it sets UV (a PIN or biometric check happened)
   */
  constructor({ origin = DEFAULT_ORIGIN, aaguid = ZERO_AAGUID, transports = ["internal"], backupEligible = false, backupState = false, userVerification = true } = {}) {
    Object.assign(this, { origin, aaguid, transports, backupEligible, backupState, userVerification });
    /** The credentials created, oldest first. */
    this.credentials = [];
  }

  /**
   * Answers PublicKeyCredentialCreationOptionsJSON [WebAuthn L3 §5.4] with a RegistrationResponseJSON.
   * Returns {json, credential}; the credential is kept for `get` unless `keep: false`.
   *
   * Knobs (each breaks or varies one thing the relying party checks):
   * origin, crossOrigin, topOrigin, type (clientData.type), challenge (base64url text), clientDataExtra;
   * rpId (hashed into rpIdHash); up, uv, be, bs, at, ed (flags; default from the authenticator);
   * flags (the whole byte, overriding the booleans); alg (key type: -7, -8, -257), coseAlg (label 3 only),
   * publicKey (raw COSE_Key bytes); attested (false: no attested credential data); extensions (CBOR map,
   * sets ED); trailing (bytes after everything); credentialId (Buffer), signCount (initial counter),
   * counterStep (added per assertion; 0 for authenticators that keep 0); fmt ("none" | "packed" | other);
   * attStmt (replaces the statement), packedAlg (attStmt.alg), x5c (array of Buffers: full attestation),
   * flipAttestationSignature; credentialType (PublicKeyCredential.type), transports (null: none given),
   * ignoreExclude; keep.
   */
  create(options, knobs = {}) {
    const rpId = knobs.rpId ?? options.rp?.id;
    const alg = knobs.alg ?? pickAlgorithm(options.pubKeyCredParams);
    const excluded = (options.excludeCredentials ?? []).map((c) => c.id);
    if (!knobs.ignoreExclude && this.credentials.some((c) => excluded.includes(b64u(c.id)))) {
      // §6.3.2: an authenticator holding an excluded credential refuses (InvalidStateError).
      throw new Error("InvalidStateError: this authenticator already holds an excluded credential");
    }
    const keyPair = newKeyPair(alg);
    const credentialId = knobs.credentialId ?? randomBytes(32);
    const publicKey = knobs.publicKey ?? coseKey(keyPair, { alg: knobs.coseAlg ?? alg });
    const be = knobs.be ?? this.backupEligible;
    const bs = knobs.bs ?? this.backupState;
    const signCount = knobs.signCount ?? 0;
    const attested = knobs.attested === false ? undefined : { aaguid: this.aaguid, credentialId, publicKey };
    const flags =
      knobs.flags ??
      flagsByte({
        up: knobs.up ?? true,
        uv: knobs.uv ?? this.userVerification,
        be,
        bs,
        at: knobs.at ?? attested !== undefined,
        ed: knobs.ed ?? knobs.extensions !== undefined,
      });
    const authData = authenticatorData({ rpId, flags, signCount, attested, extensions: knobs.extensions, trailing: knobs.trailing });
    const clientData = clientDataJSON({
      type: knobs.type ?? "webauthn.create",
      challenge: knobs.challenge ?? options.challenge,
      origin: knobs.origin ?? this.origin,
      crossOrigin: knobs.crossOrigin ?? false,
      topOrigin: knobs.topOrigin,
      extra: knobs.clientDataExtra,
    });
    const fmt = knobs.fmt ?? "none";
    let attStmt = knobs.attStmt;
    if (attStmt === undefined) {
      if (fmt === "packed") {
        // §8.2 self-attestation: the credential's own key signs authData || clientDataHash, no x5c.
        const sig = signWith(keyPair, Buffer.concat([authData, sha256(clientData)]));
        if (knobs.flipAttestationSignature) sig[sig.length - 1] ^= 0x01;
        attStmt = { alg: knobs.packedAlg ?? alg, sig };
        if (knobs.x5c) attStmt.x5c = knobs.x5c;
      } else {
        attStmt = {};
      }
    }
    const attestationObject = Buffer.from(cborEncode({ fmt, attStmt, authData }));
    const credential = {
      id: credentialId,
      rpId,
      userHandle: fromB64u(options.user?.id ?? ""),
      keyPair,
      alg,
      signCount,
      counterStep: knobs.counterStep ?? 1,
      backupEligible: be,
      backupState: bs,
    };
    if (knobs.keep !== false) this.credentials.push(credential);
    const json = {
      id: b64u(credentialId),
      rawId: b64u(credentialId),
      type: knobs.credentialType ?? "public-key",
      response: {
        clientDataJSON: b64u(clientData),
        attestationObject: b64u(attestationObject),
        // The L3 toJSON() conveniences; a relying party must take the key from the attestation object.
        authenticatorData: b64u(authData),
        publicKeyAlgorithm: alg,
        publicKey: b64u(keyPair.publicKey.export({ format: "der", type: "spki" })),
        ...(knobs.transports === null ? {} : { transports: knobs.transports ?? this.transports }),
      },
      clientExtensionResults: options.extensions?.credProps ? { credProps: { rk: true } } : {},
      authenticatorAttachment: "platform",
    };
    return { json, credential };
  }

  /**
   * Answers PublicKeyCredentialRequestOptionsJSON [WebAuthn L3 §5.5] with an AuthenticationResponseJSON.
   * The credential is `knobs.credential`, else the first one of allowCredentials this authenticator holds,
   * else (empty allowCredentials: a discoverable credential) the newest one for the RP ID.
   *
   * Knobs: credential; origin, crossOrigin, topOrigin, type, challenge, clientDataExtra; rpId (hashed);
   * up, uv, be, bs, ed, flags (whole byte); signCount (this value, else the stored one plus counterStep);
   * extensions; trailing; flipSignature (one bit of the signature), signer (another credential's key signs);
   * userHandle (Buffer or base64url text; null leaves it out; default the credential's user handle);
   * credentialId (the id sent, Buffer); credentialType.
   */
  get(options, knobs = {}) {
    const credential = knobs.credential ?? this.#choose(options);
    const signCount = knobs.signCount ?? credential.signCount + credential.counterStep;
    credential.signCount = signCount;
    const flags =
      knobs.flags ??
      flagsByte({
        up: knobs.up ?? true,
        uv: knobs.uv ?? this.userVerification,
        be: knobs.be ?? credential.backupEligible,
        bs: knobs.bs ?? credential.backupState,
        ed: knobs.ed ?? knobs.extensions !== undefined,
      });
    const authData = authenticatorData({
      rpId: knobs.rpId ?? options.rpId ?? credential.rpId,
      flags,
      signCount,
      extensions: knobs.extensions,
      trailing: knobs.trailing,
    });
    const clientData = clientDataJSON({
      type: knobs.type ?? "webauthn.get",
      challenge: knobs.challenge ?? options.challenge,
      origin: knobs.origin ?? this.origin,
      crossOrigin: knobs.crossOrigin ?? false,
      topOrigin: knobs.topOrigin,
      extra: knobs.clientDataExtra,
    });
    const signature = signWith((knobs.signer ?? credential).keyPair, Buffer.concat([authData, sha256(clientData)]));
    if (knobs.flipSignature) signature[Math.floor(signature.length / 2)] ^= 0x01;
    const userHandle = knobs.userHandle === undefined ? credential.userHandle : knobs.userHandle;
    const id = knobs.credentialId ?? credential.id;
    const response = { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature) };
    if (userHandle !== null) response.userHandle = typeof userHandle === "string" ? userHandle : b64u(userHandle);
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: knobs.credentialType ?? "public-key",
      response,
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  #choose(options) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    if (allowed.length > 0) {
      const found = this.credentials.find((c) => allowed.includes(b64u(c.id)));
      if (!found) throw new Error("NotAllowedError: none of allowCredentials is on this authenticator");
      return found;
    }
    const forRp = this.credentials.filter((c) => c.rpId === options.rpId);
    if (forRp.length === 0) throw new Error(`NotAllowedError: no discoverable credential for ${options.rpId}`);
    return forRp[forRp.length - 1];
  }
}

/** The first algorithm of pubKeyCredParams this authenticator has (the server's order of preference). */
function pickAlgorithm(params = []) {
  const known = new Set([ALG.ES256, ALG.EdDSA]);
  const found = params.find((p) => p.type === "public-key" && known.has(p.alg));
  if (!found) throw new Error("NotSupportedError: no supported algorithm in pubKeyCredParams");
  return found.alg;
}
