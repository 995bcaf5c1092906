// The signed-in person's account: profile, email, password, two-step verification, passkeys (passkeys.js),
// recent sign-ins, sessions, sign out.
import { api, page, onSubmit, values, showMessage, showError, clearMessage } from "./app.js";
import { startPasskeys } from "./passkeys.js";

const $ = (id) => document.getElementById(id);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function toSignIn() {
  location.replace(`${page("")}?return_to=${encodeURIComponent(location.pathname)}`);
}

function showProfile(user) {
  $("username").textContent = user.username;
  $("email").textContent = user.email ?? "none";
  $("display_name").textContent = user.display_name ?? "none";
  $("role").textContent = user.role;
  $("created_at").textContent = when(user.created_at);
  const status = $("email-status");
  if (user.email && typeof user.email_verified === "boolean") {
    status.hidden = false;
    status.textContent = user.email_verified ? "verified" : "not verified";
  } else {
    status.hidden = true;
  }
  const mfaOn = user.mfa_enabled === true || (Array.isArray(user.mfa_methods) && user.mfa_methods.length > 0);
  if (mfaOn) {
    $("mfa-state").textContent = "Two-step verification is on.";
    $("totp-start").hidden = true;
  }
}

async function loadSessions() {
  const { sessions } = await api("GET", "/sessions");
  const list = $("sessions");
  list.replaceChildren();
  for (const s of sessions) {
    const li = document.createElement("li");
    li.dataset.sessionId = s.id;
    const text = document.createElement("div");
    const what = document.createElement("strong");
    what.textContent = s.current ? "This session" : s.user_agent || "Unknown device";
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `Signed in ${when(s.created_at)}${s.ip ? ` from ${s.ip}` : ""}; last active ${when(s.last_used_at)}`;
    text.append(what, document.createElement("br"), meta);
    li.append(text);
    if (!s.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.textContent = "End this session";
      end.setAttribute("aria-label", `End the session signed in ${when(s.created_at)}`);
      end.addEventListener("click", async () => {
        end.disabled = true;
        try {
          await api("DELETE", `/sessions/${encodeURIComponent(s.id)}`);
          await loadSessions();
          showMessage("The session has ended.");
        } catch (e) {
          end.disabled = false;
          showError(e);
        }
      });
      li.append(end);
    }
    list.append(li);
  }
}

// How each sign-in step reads (`method` of GET /me/sign-ins), and what a refusal meant.
const METHODS = { password: "Password", passkey: "Passkey", totp: "Authenticator code", recovery_code: "Recovery code" };
const REASONS = {
  invalid_credentials: "wrong password or passkey",
  mfa_required: "password accepted, second step asked",
  mfa_enrollment_required: "password accepted, two-step set-up asked",
  mfa_code_invalid: "wrong code",
  rate_limited: "too many attempts",
  account_disabled: "account disabled",
  email_not_verified: "email not verified",
};

/** Fills "Recent sign-ins" from `GET /me/sign-ins` (newest first, at most 20). */
async function loadSignIns() {
  const { sign_ins } = await api("GET", "/me/sign-ins");
  const list = Array.isArray(sign_ins) ? sign_ins : [];
  $("sign-ins").replaceChildren(
    ...list.map((s) => {
      const li = document.createElement("li");
      li.dataset.success = String(s.success === true);
      const what = document.createElement("strong");
      const method = METHODS[s.method] ?? s.method;
      what.textContent = s.success ? `${method}: signed in` : `${method}: refused`;
      const meta = document.createElement("span");
      meta.className = "meta";
      const why = !s.success && s.reason ? ` (${REASONS[s.reason] ?? s.reason})` : "";
      const from = s.ip ? ` from ${s.ip}` : "";
      const agent = s.user_agent ? `; ${s.user_agent}` : "";
      meta.textContent = `${when(s.at)}${from}${why}${agent}`;
      const text = document.createElement("div");
      text.append(what, document.createElement("br"), meta);
      li.append(text);
      return li;
    }),
  );
  $("sign-ins-empty").hidden = list.length > 0;
}

async function start() {
  let user;
  try {
    user = await api("GET", "/me");
  } catch (e) {
    if (e.status === 401) return toSignIn();
    return showError(e);
  }
  showProfile(user);
  document.body.dataset.ready = "true";
  const loaded = await Promise.allSettled([startPasskeys(), loadSessions(), loadSignIns()]);
  const failed = loaded.find((r) => r.status === "rejected");
  if (failed) showError(failed.reason);
}

$("signout").addEventListener("click", async () => {
  try {
    await api("POST", "/logout");
  } catch (e) {
    if (e.status !== 401) return showError(e);
  }
  location.assign(page(""));
});

onSubmit($("email-form"), async (form) => {
  clearMessage();
  const { email } = values(form);
  const user = await api("PATCH", "/me", { email });
  if (user && user.username) showProfile(user);
  form.reset();
  showMessage(
    user && user.email_verified === false
      ? "Email address changed. Check your inbox for the link that verifies it."
      : "Email address changed.",
  );
});

onSubmit($("password-form"), async (form) => {
  clearMessage();
  const { current_password, new_password } = values(form);
  await api("PUT", "/change-password", { current_password, new_password });
  form.reset();
  showMessage("Password changed. Every other session has been signed out.");
  await loadSessions();
});

$("totp-start").addEventListener("click", async () => {
  clearMessage();
  try {
    const setup = await api("POST", "/mfa/totp/setup");
    // The SVG goes into an <img> as a data: URL, never into the DOM: an image cannot run script.
    $("totp-qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`;
    $("totp-secret").textContent = setup.secret;
    $("totp-form").hidden = false;
    $("totp-start").hidden = true;
    $("totp-code").focus();
  } catch (e) {
    showError(e);
  }
});

onSubmit($("totp-form"), async (form) => {
  clearMessage();
  const code = values(form).code.replace(/\s+/g, "");
  const { recovery_codes } = await api("POST", "/mfa/totp/enable", { code });
  form.hidden = true;
  const list = $("recovery-codes");
  list.replaceChildren(
    ...recovery_codes.map((c) => {
      const li = document.createElement("li");
      li.textContent = c;
      return li;
    }),
  );
  $("recovery").hidden = false;
  $("mfa-state").textContent = "Two-step verification is on.";
  showMessage("Two-step verification is on. Save your recovery codes now.");
  $("recovery-title").focus();
});

start();
