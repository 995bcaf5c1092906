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

use worker::{event, Context, Env, Request, Response};

// No panic hook: the release build makes a panic a bare trap (`-Cpanic=immediate-abort`,
// scripts/wasm-release-env.sh), so a hook would never run. js/guard.mjs logs the trap and answers 500.

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    Ok(http::handle(req, env, &ctx).await)
}
