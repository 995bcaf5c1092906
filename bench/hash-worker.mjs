// The bench Worker for scripts/bench-hash-workerd.mjs: password hashes timed INSIDE workerd.
// Bundled with esbuild by the driver (the npm peers are bare imports); `./kdf.wasm` stays external and is
// the crates/kdf-bench module, given to Miniflare as a CompiledWasm module (how workerd loads wasm).
//
//   GET /empty           answers at once (the driver subtracts its round trip)
//   GET /hash?row=ID     runs one hash of row ID over the fixed input; answers
//                        {"ms": time inside the Worker (performance.now()), "out": hex of the output}
//                        or {"error": "..."} when the row cannot run here (hash-wasm)
// Every row hashes the same password and salt; what each row computes is in ROWS in the driver.
import kdfModule from "./kdf.wasm";
import { pbkdf2 as noblePbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { argon2id } from "@noble/hashes/argon2.js";
import bcryptjs from "bcryptjs";
import * as hashWasm from "hash-wasm";

const PASSWORD = new TextEncoder().encode("correct horse battery staple");
const SALT = new Uint8Array(16).fill(0xa5);
// bcrypt's salt in its own base64 alphabet: the same 16 bytes (0xa5 x 16) as the bcrypt crate gets.
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const bcryptB64 = (bytes) => {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    out += BCRYPT_ALPHABET[a >> 2] + BCRYPT_ALPHABET[((a & 3) << 4) | (b >> 4)];
    if (i + 1 < bytes.length) out += BCRYPT_ALPHABET[((b & 15) << 2) | (c >> 6)];
    if (i + 2 < bytes.length) out += BCRYPT_ALPHABET[c & 63];
  }
  return out;
};
const bcryptDecode = (text) => {
  const bytes = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    acc = (acc << 6) | BCRYPT_ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
};

// The wasm module, instantiated at start-up as the real Worker does. No imports (crates/kdf-bench).
const kdf = new WebAssembly.Instance(kdfModule, {}).exports;
{
  const view = new DataView(kdf.memory.buffer, kdf.input_ptr(), kdf.input_cap());
  view.setUint32(0, PASSWORD.length, true);
  view.setUint32(4, SALT.length, true);
  new Uint8Array(kdf.memory.buffer, kdf.input_ptr() + 8).set([...PASSWORD, ...SALT]);
}
const wasmOut = (status, len) => {
  if (status !== 0) throw new Error("wasm export rejected its input");
  return new Uint8Array(kdf.memory.buffer, kdf.output_ptr(), len).slice();
};

const webCrypto = async (hash, iterations, bits) => {
  const key = await crypto.subtle.importKey("raw", PASSWORD, "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash, salt: SALT, iterations }, key, bits));
};

const ROWS = {
  ours: () => wasmOut(kdf.ours(220_000), 64),
  "pbkdf2-crate": () => wasmOut(kdf.crate(220_000), 64),
  "bcrypt-crate-10": () => wasmOut(kdf.bcrypt_hash(10), 23),
  "argon2-crate-19m-t2": () => wasmOut(kdf.argon2id(19_456, 2, 1), 32),
  "argon2-crate-12m-t3": () => wasmOut(kdf.argon2id(12_288, 3, 1), 32),
  "argon2-crate-7m-t5": () => wasmOut(kdf.argon2id(7_168, 5, 1), 32),
  "noble-pbkdf2": () => noblePbkdf2(sha512, PASSWORD, SALT, { c: 220_000, dkLen: 64 }),
  "noble-scrypt": () => scrypt(PASSWORD, SALT, { N: 2 ** 17, r: 8, p: 1, dkLen: 32, maxmem: 2 ** 28 }),
  "noble-argon2id": () => argon2id(PASSWORD, SALT, { m: 19_456, t: 2, p: 1, dkLen: 32 }),
  "bcryptjs-10": () => bcryptDecode(bcryptjs.hashSync("correct horse battery staple", `$2b$10$${bcryptB64(SALT)}`).slice(29)),
  "wc-sha256-100k": () => webCrypto("SHA-256", 100_000, 256),
  "wc-sha256-600k": () => webCrypto("SHA-256", 600_000, 256),
  "wc-sha512-220k": () => webCrypto("SHA-512", 220_000, 512),
  "hash-wasm-pbkdf2": () =>
    hashWasm.pbkdf2({
      password: PASSWORD,
      salt: SALT,
      iterations: 220_000,
      hashLength: 64,
      hashFunction: hashWasm.createSHA512(),
      outputType: "binary",
    }),
  "hash-wasm-argon2id": () =>
    hashWasm.argon2id({
      password: PASSWORD,
      salt: SALT,
      parallelism: 1,
      iterations: 2,
      memorySize: 19_456,
      hashLength: 32,
      outputType: "binary",
    }),
};

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/empty") return new Response("{}");
    if (url.pathname !== "/hash") return new Response("not found", { status: 404 });
    const run = ROWS[url.searchParams.get("row")];
    if (!run) return new Response("unknown row", { status: 400 });
    try {
      const t0 = performance.now();
      const out = await run();
      const ms = performance.now() - t0;
      return Response.json({ ms, out: hex(out) });
    } catch (error) {
      return Response.json({ error: String(error?.message ?? error) });
    }
  },
};
