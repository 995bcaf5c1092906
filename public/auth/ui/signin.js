// Sign in: username or email + password; a second step when the account has two-step verification
// (the API answers 401 `mfa_required` with an `mfa_token` and the allowed `methods`).
import { api, page, returnTo, onSubmit, values, showMessage, clearMessage, keepReturnTo } from "./app.js";

const signin = document.getElementById("signin");
const mfa = document.getElementById("mfa");
const totpBox = document.getElementById("mfa-totp");
const recoveryBox = document.getElementById("mfa-recovery");
const switcher = document.getElementById("mfa-switch");
let mfaToken = null;
let useRecovery = false;

keepReturnTo();
const done = async () => location.assign((await returnTo()) ?? page("account"));

function showMethod() {
  totpBox.hidden = useRecovery;
  recoveryBox.hidden = !useRecovery;
  document.getElementById("code").required = !useRecovery;
  document.getElementById("recovery_code").required = useRecovery;
  switcher.textContent = useRecovery ? "Use a code from the app instead" : "Use a recovery code instead";
  document.getElementById(useRecovery ? "recovery_code" : "code").focus();
}

onSubmit(signin, async () => {
  clearMessage();
  const { username, password } = values(signin);
  try {
    await api("POST", "/login", { username, password });
  } catch (e) {
    if (e.code !== "mfa_required" || !e.problem.mfa_token) throw e;
    mfaToken = e.problem.mfa_token;
    const methods = Array.isArray(e.problem.methods) ? e.problem.methods : ["totp"];
    useRecovery = !methods.includes("totp");
    switcher.hidden = !(methods.includes("totp") && methods.includes("recovery_code"));
    signin.hidden = true;
    mfa.hidden = false;
    showMessage(e.problem.detail || "Enter the code from your authenticator app.");
    showMethod();
    return;
  }
  await done();
});

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
