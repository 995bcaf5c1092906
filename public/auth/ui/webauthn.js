// Passkeys in the browser (WebAuthn, docs/passkeys.md). The API speaks the WebAuthn Level 3 JSON forms
// (binary values as base64url without padding): the browser's own PublicKeyCredential.parse*FromJSON and
// credential.toJSON() turn them into the ArrayBuffers navigator.credentials wants and back; for browsers
// that lack them (before Chrome 129, Firefox 119, Safari 18.4), a small fallback below does the same.
// Nothing here logs: a credential's JSON is not secret, but the pages keep the console quiet anyway.

/** Whether this browser can use passkeys at all (WebAuthn needs a secure context: HTTPS or localhost). */
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && typeof navigator.credentials?.get === "function";
}

/** Whether the browser offers passkeys in the username field's autofill (WebAuthn Level 3 conditional mediation). */
export async function autofillAvailable() {
  if (!passkeysSupported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return false;
  try {
    return (await PublicKeyCredential.isConditionalMediationAvailable()) === true;
  } catch {
    return false;
  }
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buffer) {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list) => (Array.isArray(list) ? list.map((c) => ({ ...c, id: fromBase64url(c.id) })) : []);

/** PublicKeyCredentialCreationOptionsJSON -> the options of navigator.credentials.create. */
function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

/** PublicKeyCredentialRequestOptionsJSON -> the options of navigator.credentials.get. */
function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

/** A PublicKeyCredential -> RegistrationResponseJSON or AuthenticationResponseJSON (the WebAuthn Level 3 JSON forms). */
function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if ("attestationObject" in r) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: typeof credential.getClientExtensionResults === "function" ? credential.getClientExtensionResults() : {},
    ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
  };
}

/** A refusal of the browser or the authenticator, in words a person can act on; `reason` is the DOMException's name. */
export class PasskeyError extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

// The DOMException names of WebAuthn L3 §5.1.3 (create) and §5.1.4 (get). The browser's own message is
// not shown: it is written for developers.
const REASONS = {
  NotAllowedError: "The passkey request was cancelled or timed out, or this device has no passkey for this site.",
  AbortError: "The passkey request was cancelled.",
  InvalidStateError: "This device already holds a passkey for your account.",
  NotSupportedError: "This device has no authenticator that supports these passkeys.",
  SecurityError: "Passkeys cannot be used on this address: its domain does not match the site's passkey settings.",
  ConstraintError: "This authenticator cannot verify you (no PIN, fingerprint or screen lock is set up on it).",
  UnknownError: "The authenticator failed. Try again, or use another device.",
};

function refusal(error) {
  const reason = error?.name ?? "Error";
  return new PasskeyError(reason, REASONS[reason] ?? "The passkey request failed. Try again, or use another way to sign in.");
}

function notSupported() {
  return new PasskeyError("NotSupportedError", "This browser cannot use passkeys.");
}

/** Creates a passkey from the API's creation options; resolves to the RegistrationResponseJSON. */
export async function createPasskey(optionsJSON) {
  if (!passkeysSupported()) throw notSupported();
  let credential;
  try {
    credential = await navigator.credentials.create({ publicKey: creationOptions(optionsJSON) });
  } catch (e) {
    throw refusal(e);
  }
  if (!credential) throw refusal({ name: "NotAllowedError" });
  return credentialJSON(credential);
}

/**
 * Asks for an assertion with the API's request options; resolves to the AuthenticationResponseJSON.
 * `mediation: "conditional"` (with a `signal`) waits in the username field's autofill instead of a dialog.
 */
export async function getPasskey(optionsJSON, { mediation, signal } = {}) {
  if (!passkeysSupported()) throw notSupported();
  const request = { publicKey: requestOptions(optionsJSON) };
  if (mediation) request.mediation = mediation;
  if (signal) request.signal = signal;
  let credential;
  try {
    credential = await navigator.credentials.get(request);
  } catch (e) {
    throw refusal(e);
  }
  if (!credential) throw refusal({ name: "NotAllowedError" });
  return credentialJSON(credential);
}
