// Sign in: username or email + password; a second step when the account has two-step verification
// (the API answers 401 `mfa_required` with an `mfa_token` and the allowed `methods`: a code, a recovery
// code, a passkey). Or a passkey alone (docs/passkeys.md): the "Sign in with a passkey" button asks the
// browser's dialog for any passkey of this site (usernameless: the options name no user), and where the
// browser offers it, the username field's autofill lists the passkeys too (conditional mediation).
import { api, page, returnTo, onSubmit, onClick, values, showMessage, showError, clearMessage, keepReturnTo } from "./app.js";
import { passkeysSupported, autofillAvailable, getPasskey, PasskeyError } from "./webauthn.js";

const signin = document.getElementById("signin");
const mfa = document.getElementById("mfa");
const totpBox = document.getElementById("mfa-totp");
const recoveryBox = document.getElementById("mfa-recovery");
const switcher = document.getElementById("mfa-switch");
const verify = document.getElementById("mfa-verify");
const passkeyBox = document.getElementById("passkey");
const mfaPasskey = document.getElementById("mfa-passkey");
let mfaToken = null;
let useRecovery = false;
let hasCode = true;

keepReturnTo();
const done = async () => location.assign((await returnTo()) ?? page("account"));

function showMethod() {
  totpBox.hidden = !hasCode || useRecovery;
  recoveryBox.hidden = !hasCode || !useRecovery;
  verify.hidden = !hasCode;
  document.getElementById("code").required = hasCode && !useRecovery;
  document.getElementById("recovery_code").required = hasCode && useRecovery;
  switcher.textContent = useRecovery ? "Use a code from the app instead" : "Use a recovery code instead";
  (hasCode ? document.getElementById(useRecovery ? "recovery_code" : "code") : mfaPasskey).focus();
}

// The API answers every failed passkey sign-in with `invalid_credentials` and a failed passkey second
// step with `mfa_code_invalid` (whose `detail` speaks of codes): one message for both, with the likely
// cause a person can act on.
const REJECTED = "This passkey was not accepted. It may have been removed from your account: sign in with your password instead.";
function passkeyRefused(e) {
  return e?.code === "invalid_credentials" || e?.code === "mfa_code_invalid" ? new PasskeyError("rejected", REJECTED) : e;
}

// --- The autofill (WebAuthn Level 3 conditional mediation: isConditionalMediationAvailable()) ---------
// Its request waits, without any dialog, until the person picks a passkey in the username field's
// suggestions. A browser allows one WebAuthn request at a time, so it is aborted (and its end awaited)
// before any other one starts: the passkey button, the second step's passkey, or a password sign-in.
let autofill = null; // {controller, ended: Promise}

async function stopAutofill() {
  const current = autofill;
  autofill = null;
  if (!current) return;
  current.controller.abort();
  await current.ended;
}

const autofillReady = autofillAvailable();

function startAutofill() {
  if (signin.hidden || autofill) return;
  const controller = new AbortController();
  const ended = autofillReady.then((available) => (available ? waitForAutofill(controller.signal) : undefined));
  autofill = { controller, ended };
}

async function waitForAutofill(signal) {
  let credential;
  try {
    const options = await api("POST", "/passkeys/login/options", {});
    if (signal.aborted) return;
    credential = await getPasskey(options, { mediation: "conditional", signal });
  } catch {
    // Nothing to say: aborted, or the browser has nothing to offer. The button still works.
    return;
  }
  if (signal.aborted) return;
  autofill = null;
  clearMessage();
  signin.setAttribute("aria-busy", "true");
  try {
    await api("POST", "/passkeys/login", { credential });
    await done();
  } catch (e) {
    // Not restarted here: a passkey the API refuses would only be offered and refused again.
    showError(passkeyRefused(e));
  } finally {
    signin.removeAttribute("aria-busy");
  }
}

// --- Password, then the second step ---------------------------------------------------------------------
onSubmit(signin, async () => {
  clearMessage();
  await stopAutofill();
  const { username, password } = values(signin);
  try {
    await api("POST", "/login", { username, password });
  } catch (e) {
    if (e.code !== "mfa_required" || !e.problem.mfa_token) {
      startAutofill();
      throw e;
    }
    mfaToken = e.problem.mfa_token;
    const methods = Array.isArray(e.problem.methods) ? e.problem.methods : ["totp"];
    hasCode = methods.includes("totp") || methods.includes("recovery_code");
    useRecovery = !methods.includes("totp");
    switcher.hidden = !(methods.includes("totp") && methods.includes("recovery_code"));
    mfaPasskey.hidden = !(methods.includes("webauthn") && passkeysSupported());
    signin.hidden = true;
    passkeyBox.hidden = true;
    mfa.hidden = false;
    showMethod();
    if (!hasCode && mfaPasskey.hidden) {
      throw new Error("Your account's second step is a passkey, and this browser cannot use passkeys. Use a browser that can, or ask an administrator to reset your second step.");
    }
    showMessage(secondStepMessage(e.problem.detail));
    return;
  }
  await done();
});

// The API's `detail` speaks of codes (it predates passkeys): a passkey-only second step says its own.
function secondStepMessage(detail) {
  const passkey = !mfaPasskey.hidden;
  if (!hasCode) return "The password is right; now confirm it is you with your passkey.";
  const text = detail || "The password is right; enter a code from your authenticator app.";
  return passkey ? `${text} Or use a passkey.` : text;
}

switcher.addEventListener("click", () => {
  useRecovery = !useRecovery;
  showMethod();
});

onSubmit(mfa, async () => {
  clearMessage();
  const { code, recovery_code } = values(mfa);
  const body = useRecovery ? { mfa_token: mfaToken, recovery_code } : { mfa_token: mfaToken, code: code.replace(/\s+/g, "") };
  await api("POST", "/mfa/verify", body);
  await done();
});

// The second step with a passkey: options bound to this pending login, then the assertion.
onClick(mfaPasskey, async () => {
  clearMessage();
  await stopAutofill();
  const options = await api("POST", "/passkeys/login/options", { mfa_token: mfaToken });
  const credential = await getPasskey(options);
  try {
    await api("POST", "/mfa/verify", { mfa_token: mfaToken, credential });
  } catch (e) {
    throw passkeyRefused(e);
  }
  await done();
});

// --- A passkey alone ----------------------------------------------------------------------------------
const passkeyButton = document.getElementById("passkey-signin");
onClick(passkeyButton, async () => {
  clearMessage();
  await stopAutofill();
  try {
    const options = await api("POST", "/passkeys/login/options", {});
    const credential = await getPasskey(options);
    try {
      await api("POST", "/passkeys/login", { credential });
    } catch (e) {
      throw passkeyRefused(e);
    }
  } catch (e) {
    startAutofill();
    throw e;
  }
  await done();
});

if (passkeysSupported()) {
  passkeyBox.hidden = false;
  startAutofill();
}
