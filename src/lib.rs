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

#[event(start)]
fn start() {
    // Rust panics reach the Workers log with their message instead of a bare "unreachable".
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    Ok(http::handle(req, env, &ctx).await)
}
