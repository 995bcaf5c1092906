// A test-only entry point: the Worker exactly as deployed (js/entry.mjs), with its D1 and KV
// bindings wrapped in switches a test flips through `POST /__faults` (this module only; wrangler.toml's
// `main` never loads it). The wrappers fail the way the platform does: a rejected promise from the
// binding's own methods, so the Rust Worker sees the errors it would see in production.
//   kv: "ok" | "writes" (put and delete fail, reads work: a write quota, a write outage) | "down"
//   d1: "ok" | "readonly" (statements that write fail, as SQLite's SQLITE_READONLY) | "down"
// The D1 binding also records the argument of every `withSession` (read replication: where each
// request's session starts); `POST /__d1-sessions` answers the list and empties it. A session is
// wrapped like the database, so the faults reach statements prepared on it.
import EdgeAuth from "../../js/entry.mjs";

const faults = { kv: "ok", d1: "ok" };
/** The arguments of `withSession`, in call order. */
const sessions = [];

const rejected = (message) => Promise.reject(new Error(message));

/** A KV namespace whose methods fail while `faults.kv` says so. */
function faultyKv(kv) {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function" || prop === "constructor") return value;
      const writes = prop === "put" || prop === "delete";
      return (...args) => {
        if (faults.kv === "down" || (faults.kv === "writes" && writes)) {
          return rejected(`KV ${String(prop)} failed: 503 injected fault`);
        }
        return value.apply(target, args);
      };
    },
  });
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;
const STUB = Symbol("failing statement");

/** A prepared statement that fails when run, as D1 does for a statement it cannot execute. */
function failingStatement(message) {
  const stub = {
    [STUB]: true,
    bind: () => stub,
    first: () => rejected(message),
    all: () => rejected(message),
    run: () => rejected(message),
    raw: () => rejected(message),
  };
  return stub;
}

/** A D1 database that fails (every statement, or those that write) while `faults.d1` says so. */
function faultyD1(db) {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql) => {
          if (faults.d1 === "down") return failingStatement("D1_ERROR: Network connection lost.");
          if (faults.d1 === "readonly" && WRITE.test(sql)) {
            return failingStatement("D1_ERROR: attempt to write a readonly database: SQLITE_READONLY");
          }
          return target.prepare(sql);
        };
      }
      if (prop === "withSession") {
        return (constraintOrBookmark) => {
          sessions.push(constraintOrBookmark ?? null);
          return faultyD1(target.withSession(constraintOrBookmark));
        };
      }
      if (prop === "batch") {
        return (statements) => {
          if (faults.d1 === "down") return rejected("D1_ERROR: Network connection lost.");
          const stub = statements.find((s) => s[STUB]);
          return stub ? stub.run() : target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" && prop !== "constructor" ? value.bind(target) : value;
    },
  });
}

export default class FaultyEdgeAuth extends EdgeAuth {
  constructor(ctx, env) {
    super(ctx, { ...env, DB: faultyD1(env.DB), AUTH_KV: faultyKv(env.AUTH_KV) });
  }

  async fetch(request) {
    if (new URL(request.url).pathname === "/__d1-sessions") {
      return Response.json(sessions.splice(0));
    }
    if (new URL(request.url).pathname === "/__faults") {
      Object.assign(faults, await request.json());
      return Response.json(faults);
    }
    return super.fetch(request);
  }
}
