// The account page's Passkeys section (docs/passkeys.md, "Managing passkeys"): the list with rename and
// remove, and "Add a passkey" (register options -> navigator.credentials.create -> register).
import { api, onSubmit, values, showMessage, showError, clearMessage } from "./app.js";
import { passkeysSupported, createPasskey } from "./webauthn.js";

const $ = (id) => document.getElementById(id);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

// What the API's refusals mean here, when its `detail` would not tell the person what to do.
function explain(e, action) {
  if (e?.code === "reauthentication_required") {
    return new Error(`Sign in again to ${action} a passkey: for your security, this needs a sign-in within the last 10 minutes.`);
  }
  if (e?.code === "last_factor") {
    return new Error("This passkey is the last way to sign in to your account (it has no password): add another passkey or set a password before removing it.");
  }
  if (e?.code === "passkey_exists") return new Error("This passkey is registered already.");
  if (e?.status === 404 && action !== "add") return new Error("That passkey is no longer on your account.");
  return e;
}

function describe(passkey) {
  const used = passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : "never used";
  // BS flag (WebAuthn L3 §6.1): the key is backed up, so it syncs to the person's other devices.
  const synced = passkey.backup_state ? "synced" : "not synced";
  return { used, synced };
}

function renameForm(passkey, li) {
  const form = document.createElement("form");
  form.noValidate = true;
  const id = `rename-${passkey.id}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = `New name for "${passkey.name}"`;
  const input = document.createElement("input");
  input.id = id;
  input.name = "name";
  input.maxLength = 64;
  input.required = true;
  input.autocomplete = "off";
  input.value = passkey.name;
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save name";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  cancel.addEventListener("click", () => {
    form.remove();
    li.querySelector(".actions").hidden = false;
  });
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(save, cancel);
  form.append(label, input, actions);
  onSubmit(form, async () => {
    clearMessage();
    const { name } = values(form);
    if (!name) throw new Error("Give the passkey a name (up to 64 characters).");
    let view;
    try {
      view = await api("PATCH", `/passkeys/${encodeURIComponent(passkey.id)}`, { name });
    } catch (e) {
      throw explain(e, "rename");
    }
    await loadPasskeys();
    showMessage(`Passkey renamed to "${view?.name ?? name}".`);
  });
  return form;
}

function item(passkey) {
  const li = document.createElement("li");
  li.dataset.passkeyId = passkey.id;
  const text = document.createElement("div");
  const name = document.createElement("strong");
  name.className = "passkey-name";
  name.textContent = passkey.name;
  const { used, synced } = describe(passkey);
  const badge = document.createElement("span");
  badge.className = "badge passkey-sync";
  badge.textContent = synced;
  const meta = document.createElement("span");
  meta.className = "meta passkey-meta";
  meta.textContent = `Added ${when(passkey.created_at)}; ${used}`;
  text.append(name, " ", badge, document.createElement("br"), meta);

  const actions = document.createElement("div");
  actions.className = "actions";
  const rename = document.createElement("button");
  rename.type = "button";
  rename.textContent = "Rename";
  rename.setAttribute("aria-label", `Rename the passkey "${passkey.name}"`);
  rename.addEventListener("click", () => {
    actions.hidden = true;
    const form = renameForm(passkey, li);
    li.append(form);
    form.querySelector("input").focus();
  });
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove the passkey "${passkey.name}"`);
  remove.addEventListener("click", async () => {
    clearMessage();
    remove.disabled = true;
    try {
      await api("DELETE", `/passkeys/${encodeURIComponent(passkey.id)}`);
      await loadPasskeys();
      showMessage(`Passkey "${passkey.name}" removed. It no longer signs you in (delete it from your device too).`);
    } catch (e) {
      remove.disabled = false;
      showError(explain(e, "remove"));
      if (e?.status === 404) await loadPasskeys().catch(() => {});
    }
  });
  actions.append(rename, remove);
  li.append(text, actions);
  return li;
}

/** Fills the list from `GET /passkeys` (newest first). */
export async function loadPasskeys() {
  const { passkeys } = await api("GET", "/passkeys");
  const list = Array.isArray(passkeys) ? passkeys : [];
  $("passkeys").replaceChildren(...list.map(item));
  $("passkeys-empty").hidden = list.length > 0;
}

/** Wires the section: the add form where the browser can make passkeys, then the list. */
export async function startPasskeys() {
  const supported = passkeysSupported();
  $("passkey-form").hidden = !supported;
  $("passkeys-unsupported").hidden = supported;
  onSubmit($("passkey-form"), async (form) => {
    clearMessage();
    const { name } = values(form);
    let options;
    try {
      options = await api("POST", "/passkeys/register/options", {});
    } catch (e) {
      throw explain(e, "add");
    }
    const credential = await createPasskey(options);
    let view;
    try {
      view = await api("POST", "/passkeys/register", name ? { credential, name } : { credential });
    } catch (e) {
      throw explain(e, "add");
    }
    form.reset();
    await loadPasskeys();
    showMessage(`Passkey "${view?.name ?? (name || "Passkey")}" added. You can now sign in with it.`);
  });
  await loadPasskeys();
}
