//! edge-auth: an authentication service for Cloudflare Workers.
//!
//! This crate is the thin shell around `edge-auth-core`: it reads the configuration once per isolate,
//! adapts D1 and KV to the core's ports (`adapters`), and maps HTTP to the use cases (`http`).
//! Nothing here decides anything about passwords or tokens. The platform layer is the `worker` crate.

mod adapters;
mod config;
mod error;
mod http;
mod log;
mod panic;

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

/// Runs once per isolate, when the module is instantiated (and again for a fresh instance after a
/// panic): installs the panic hook and the core's Unicode functions.
#[event(start)]
fn start() {
    panic::install_hook();
    adapters::text::install();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request_id = http::request_id(&req);
    // The request id is kept where the panic hook can read it, for as long as this request's future
    // is being polled (several requests interleave in one isolate).
    Ok(panic::with_request_id(request_id.clone(), http::handle(req, env, ctx, request_id)).await)
}

/// The cron trigger (wrangler.toml `[triggers]`, every minute): delivers the revocation outbox to KV,
/// so a revocation whose KV write failed reaches KV within about a minute of KV taking writes again,
/// whichever isolate recorded it; and deletes audit events past `AUDIT_RETENTION` (a bounded number).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let Ok(loaded) = config::load(&env) else {
        log::error("scheduled", "configuration invalid (see the request log)");
        return;
    };
    // The outbox is read and emptied exactly: at the primary.
    let platform = adapters::Platform::new(&env, loaded, &adapters::D1Start::Primary);
    let run = async {
        if let Err(e) = platform.flush_revocations().await {
            log::warn("revocation_outbox_flush", e.log_detail().unwrap_or_default());
        }
        if let Err(e) = platform.prune_audit().await {
            log::warn("audit_prune", e.log_detail().unwrap_or_default());
        }
        platform.finish().await;
    };
    panic::with_request_id("scheduled".to_string(), run).await;
}
