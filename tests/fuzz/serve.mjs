// Serves the built Worker in Miniflare on a loopback port for the contract fuzzer (scripts/fuzz.sh):
// the harness of the HTTP tests (tests/http/helpers.mjs) with two seeded accounts, an admin and a normal
// user, each signed in once to prove the sign-in works. Writes into OUT_DIR:
//   server.json      {url, openapi, admin_token, user_token}
//   auth-admin.toml  the fuzzer's dynamic sign-in as the admin (a fresh token whenever one is refused)
//   auth-user.toml   the same as the normal user
// then prints "ready" and serves until SIGTERM or SIGINT.
//
//   node tests/fuzz/serve.mjs OUT_DIR [PROFILE]     PROFILE: an API_PROFILE (profiles/*.json), or none
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startWorker } from "../http/helpers.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [outDir, profileName] = process.argv.slice(2);
if (!outDir) throw new Error("usage: node tests/fuzz/serve.mjs OUT_DIR [PROFILE]");
const profile = profileName && JSON.parse(readFileSync(path.join(ROOT, "profiles", `${profileName}.json`), "utf8"));

// Secrets of this throw-away instance only. The harness switches the rate limits off (a fuzzer is one
// client sending thousands of requests); every other setting of the profile applies as deployed.
const bindings = profile ? { API_PROFILE: profile.name, USER_DATA_KEY: Buffer.alloc(32, 0x55).toString("base64url") } : {};
// A PIN profile signs in with digits; every other deployment with a passphrase.
const secret = profile?.settings?.PASSWORD_KIND === "pin" ? "482915" : "fuzzing passphrase 1";

// The Worker's own log lines go to stderr (the fuzzer's log), stdout says only "ready".
const worker = await startWorker({
  bindings,
  handleRuntimeStdio: (out, err) => {
    out.pipe(process.stderr);
    err.pipe(process.stderr);
  },
});
const url = new URL(await worker.mf.ready).origin;
const base = (profile?.settings?.BASE_PATH ?? "/auth").replace(/\/$/, "");
const login = profile?.endpoints.find((e) => e.does === "login") ?? {
  path: "/login",
  request: { username: { from: "username" }, password: { from: "password" } },
};

const admin = await worker.seedUser({ username: "fuzzadmin", password: secret, role: "admin", email: "fuzzadmin@example.com" });
const user = await worker.seedUser({ username: "fuzzuser", password: secret, role: "user", email: "fuzzuser@example.com" });
const adminLogin = await signIn(admin);
const userLogin = await signIn(user);

writeFileSync(
  path.join(outDir, "server.json"),
  JSON.stringify({ url, openapi: `${url}${base}/openapi.json`, admin_token: adminLogin.token, user_token: userLogin.token }),
);
writeFileSync(path.join(outDir, "auth-admin.toml"), authToml(adminLogin));
writeFileSync(path.join(outDir, "auth-user.toml"), authToml(userLogin));
process.stdout.write("ready\n");

/** Signs `account` in through the login the deployment serves (the profile's, when it has one); returns
 * the body sent, the access token and where it was found. */
async function signIn(account) {
  const body = {};
  for (const [native, spec] of Object.entries(login.request)) {
    body[spec.from] = { username: account.username, email: account.email, password: account.password }[native];
  }
  const res = await worker.post(`${base}${login.path}`, body);
  const text = await res.text();
  if (!res.ok) throw new Error(`sign-in of ${account.username} failed: ${res.status} ${text}`);
  // The token is in the body (its place differs per profile) or, in cookie mode, in its cookie.
  const jwt = /^[\w-]+\.[\w-]+\.[\w-]+$/;
  const pointer = findString(JSON.parse(text), (v) => jwt.test(v), "");
  if (pointer !== undefined) return { body, token: pointer.value, from: "body", selector: pointer.path };
  for (const cookie of res.headers.getSetCookie()) {
    const [name, ...rest] = cookie.split(";")[0].split("=");
    if (jwt.test(rest.join("="))) return { body, token: rest.join("="), from: "cookie", selector: name };
  }
  throw new Error(`no access token in the sign-in answer of ${account.username}`);
}

/** The JSON pointer and value of the first string in `value` that `test` accepts. */
function findString(value, test, at) {
  if (typeof value === "string") return test(value) ? { path: at, value } : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = findString(inner, test, `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    if (found) return found;
  }
  return undefined;
}

/** Schemathesis's dynamic bearer auth: sign in again whenever a token is refused (a logout ended it). */
function authToml({ body, from, selector }) {
  const payload = Object.entries(body)
    .map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`)
    .join(", ");
  return [
    "[auth.dynamic.openapi.bearerAuth]",
    `path = ${JSON.stringify(login.path)}`,
    `payload = { ${payload} }`,
    `extract_from = ${JSON.stringify(from)}`,
    `extract_selector = ${JSON.stringify(selector)}`,
    "",
  ].join("\n");
}

async function close() {
  await worker.close();
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, close);
