// Shared by every hosted page: the API client, the message region and the return_to rule.
// The pages call the JSON API on their own origin in cookie mode (COOKIE_MODE=true): the tokens live in
// HttpOnly cookies the pages never see, and the browser's Origin header passes the API's CSRF check.

/** The API base path, from where the pages are served: /auth/ui/account -> /auth (BASE_PATH). */
export const BASE = location.pathname.replace(/\/ui(\/[^/]*)?$/, "");

/** The page URL of `name` ("" is the sign-in page), next to the current page. */
export const page = (name) => new URL(name === "" ? "./" : name, location.href).pathname;

/** An error answer of the API (application/problem+json), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code;
  }
}

async function send(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, { detail: "The server could not be reached. Check your connection and try again." });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { detail: `Unexpected answer from the server (HTTP ${res.status}).` };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const EXPIRED = new Set(["token_expired", "token_missing"]);

/** Calls the API; a signed-in call whose access cookie has expired refreshes once and is retried. */
export async function api(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401 || !EXPIRED.has(e.code) || path === "/refresh") throw e;
    try {
      await send("POST", "/refresh");
    } catch {
      throw e;
    }
    return send(method, path, body);
  }
}

const region = () => document.getElementById("message");

/** Shows an error in the aria-live region: the problem's `detail`, and each field error. */
export function showError(error) {
  const el = region();
  el.className = "message error";
  el.replaceChildren();
  const p = document.createElement("p");
  p.textContent = error instanceof ApiError ? error.message : String(error?.message ?? error);
  el.append(p);
  const fields = error instanceof ApiError && Array.isArray(error.problem.errors) ? error.problem.errors : [];
  if (fields.length > 0) {
    const ul = document.createElement("ul");
    for (const f of fields) {
      const li = document.createElement("li");
      li.textContent = f.message || `${f.field}: ${f.code}`;
      ul.append(li);
    }
    el.append(ul);
  }
}

/** Shows a success or information message in the aria-live region. */
export function showMessage(text) {
  const el = region();
  el.className = "message ok";
  el.replaceChildren();
  const p = document.createElement("p");
  p.textContent = text;
  el.append(p);
}

export function clearMessage() {
  const el = region();
  el.className = "message";
  el.replaceChildren();
}

/**
 * The `return_to` of this page's URL when it is safe to follow, else null: a path on this origin (it
 * starts with one "/", not "//" nor "/\", which browsers read as another host, and resolves to this
 * origin), or an http(s) URL whose origin the API lists as allowed (`GET <base>/return-origins`, the
 * deployment's CORS_ORIGINS). Anything else is ignored.
 */
export async function returnTo() {
  const value = new URLSearchParams(location.search).get("return_to");
  const path = safePath(value);
  if (path !== null || typeof value !== "string") return path;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password) return null;
  try {
    const { origins } = await send("GET", "/return-origins");
    return Array.isArray(origins) && origins.includes(url.origin) ? url.href : null;
  } catch {
    return null;
  }
}

/** The raw `return_to`, to hand on to another page (checked where it is followed). */
function rawReturnTo() {
  const value = new URLSearchParams(location.search).get("return_to");
  return typeof value === "string" && value.length <= 2048 ? value : null;
}

export function safePath(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  try {
    const url = new URL(value, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

/** The `token` query parameter, removed from the address bar (and so from history) once read. */
export function takeToken() {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  if (token !== null) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
  }
  return token;
}

/** Runs `handler(form)` on submit with the button disabled meanwhile; errors go to the live region. */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    form.setAttribute("aria-busy", "true");
    try {
      await handler(form);
    } catch (e) {
      showError(e);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      form.removeAttribute("aria-busy");
    }
  });
}

/** Runs `handler()` on click with the button disabled meanwhile; errors go to the live region. */
export function onClick(button, handler) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await handler();
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
}

/** The form's field values by name, trimmed except passwords. */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "password" ? el.value : el.value.trim();
  }
  return out;
}

/** Makes every `a[data-keep-return]` keep the page's `return_to` (sign-in <-> sign-up). */
export function keepReturnTo() {
  const target = rawReturnTo();
  if (!target) return;
  for (const a of document.querySelectorAll("a[data-keep-return]")) {
    const url = new URL(a.href);
    url.searchParams.set("return_to", target);
    a.href = url.pathname + url.search;
  }
}
