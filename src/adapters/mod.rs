//! Adapters: the only code that names D1, KV or the platform clock. Platform errors become
//! `AuthError::Unavailable` with the detail kept for the log.

mod d1_store;
mod kv_counters;
mod kv_revocations;
pub mod mailer;

use edge_auth_core::config::Config;
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::Env;

pub use d1_store::D1Store;
pub use kv_counters::KvCounters;
pub use kv_revocations::KvRevocations;

/// Binding names (wrangler.toml).
pub const D1_BINDING: &str = "DB";
pub const KV_BINDING: &str = "AUTH_KV";
/// Where `js/entry.mjs` puts the OpenAPI document in `env` (`OPENAPI_ENV_KEY` there).
const OPENAPI_ENV_KEY: &str = "EDGE_AUTH_OPENAPI_DOCUMENT";
/// Optional Cloudflare Rate Limiting binding, an extra layer in front of the KV counters.
pub const RATE_LIMITER_BINDING: &str = "AUTH_RATE_LIMITER";

/// What a request handler can reach: configuration, bindings, clock. Cheap to clone (for work after
/// the response, in `waitUntil`).
#[derive(Clone)]
pub struct Platform {
    pub config: Rc<Config>,
    env: Env,
}

impl Platform {
    pub fn new(env: Env, config: Rc<Config>) -> Self {
        Platform { config, env }
    }

    /// The OpenAPI document as JSON text, which `js/entry.mjs` adds to `env` (it is not in the wasm).
    pub fn openapi_document(&self) -> Option<String> {
        self.env.var(OPENAPI_ENV_KEY).ok().map(|v| v.to_string())
    }

    /// Now, in unix seconds, from the Workers clock.
    pub fn now(&self) -> i64 {
        (worker::Date::now().as_millis() / 1000) as i64
    }

    pub fn store(&self) -> D1Store {
        D1Store::new(self.env.d1(D1_BINDING).map_err(unavailable("D1 binding")))
    }

    pub fn revocations(&self) -> KvRevocations {
        KvRevocations::new(self.env.kv(KV_BINDING).map_err(unavailable("KV binding")))
    }

    pub fn counters(&self) -> KvCounters {
        KvCounters::new(self.env.kv(KV_BINDING).map_err(unavailable("KV binding")))
    }

    /// The optional Rate Limiting binding (`[[ratelimits]]` in wrangler.toml), keyed by `key`:
    /// 429 when it says no. Without the binding, nothing is checked. Its limits are per Cloudflare
    /// location and eventually consistent too; it is a cheap first filter, not a quota.
    pub async fn edge_rate_limit(&self, key: &str) -> Result<(), AuthError> {
        let Ok(limiter) = self.env.rate_limiter(RATE_LIMITER_BINDING) else { return Ok(()) };
        match limiter.limit(key.to_string()).await {
            Ok(outcome) if !outcome.success => Err(AuthError::RateLimited { retry_after: 60 }),
            Ok(_) => Ok(()),
            Err(e) => Err(AuthError::Unavailable(format!("rate limiter: {e}"))),
        }
    }

    /// Asks D1 and KV a trivial question each, concurrently.
    pub async fn check_storage(&self) -> Result<(), AuthError> {
        let d1 = async {
            let db = self.env.d1(D1_BINDING).map_err(unavailable("D1 binding"))?;
            db.prepare("SELECT 1").first::<serde_json::Value>(None).await.map_err(unavailable("D1"))?;
            Ok::<(), AuthError>(())
        };
        let kv = async {
            let kv = self.env.kv(KV_BINDING).map_err(unavailable("KV binding"))?;
            kv.get("health:probe").text().await.map_err(unavailable("KV"))?;
            Ok::<(), AuthError>(())
        };
        let (d1, kv) = futures_util::future::join(d1, kv).await;
        d1.and(kv)
    }
}

/// Maps a platform error to a 503 with the cause kept for the log.
pub fn unavailable<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> AuthError {
    move |e| AuthError::Unavailable(format!("{what}: {e}"))
}
