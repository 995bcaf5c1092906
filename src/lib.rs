//! edge-auth: an authentication service for Cloudflare Workers.
//!
//! This crate is the thin shell around `edge-auth-core`: it reads the configuration once per isolate,
//! adapts D1 and KV to the core's ports (`adapters`), and maps HTTP to the use cases (`http`).
//! Nothing here decides anything about passwords or tokens.

mod adapters;
mod config;
mod error;
mod http;
mod log;

use adapters::bindings::{Context, Env, JsResponse, Request};
use wasm_bindgen::prelude::wasm_bindgen;

// No panic hook: the release build makes a panic a bare trap (`-Cpanic=immediate-abort`,
// scripts/wasm-release-env.sh), so a hook would never run. js/guard.mjs logs the trap and answers 500.

/// The fetch handler, called by `js/entry.mjs` with the runtime's request, `env` and `ctx`. It never
/// fails: every error is already a problem response.
#[wasm_bindgen]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> JsResponse {
    http::handle(req, env, &ctx).await.into_js()
}
