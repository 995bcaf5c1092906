//! Adapters: the only code that names D1, KV or the platform clock. Platform errors become
//! `AuthError::Unavailable` with the detail kept for the log.

pub mod bindings;
mod d1_store;
mod join;
mod kv_counters;
mod kv_revocations;
pub mod mailer;

use bindings::Env;
use edge_auth_core::config::Config;
use edge_auth_core::AuthError;
use std::rc::Rc;

pub use d1_store::D1Store;
use join::join_all;
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
        self.env.text(OPENAPI_ENV_KEY)
    }

    /// Now, in unix seconds, from the Workers clock.
    pub fn now(&self) -> i64 {
        (bindings::now_millis() / 1000) as i64
    }

    pub fn store(&self) -> D1Store {
        D1Store::new(bindings::binding(&self.env, D1_BINDING))
    }

    pub fn revocations(&self) -> KvRevocations {
        KvRevocations::new(bindings::binding(&self.env, KV_BINDING))
    }

    pub fn counters(&self) -> KvCounters {
        KvCounters::new(bindings::binding(&self.env, KV_BINDING))
    }

    /// The optional Rate Limiting binding (`[[ratelimits]]` in wrangler.toml), keyed by `key`:
    /// 429 when it says no. Without the binding, nothing is checked. Its limits are per Cloudflare
    /// location and eventually consistent too; it is a cheap first filter, not a quota.
    pub async fn edge_rate_limit(&self, key: &str) -> Result<(), AuthError> {
        let Ok(limiter) = bindings::binding::<bindings::RateLimiter>(&self.env, RATE_LIMITER_BINDING) else {
            return Ok(());
        };
        if limiter.allows(key).await? {
            Ok(())
        } else {
            Err(AuthError::RateLimited { retry_after: 60 })
        }
    }

    /// Asks D1 and KV a trivial question each, concurrently.
    pub async fn check_storage(&self) -> Result<(), AuthError> {
        let d1 = async {
            let db: bindings::D1Database = bindings::binding(&self.env, D1_BINDING)?;
            db.statement("SELECT 1", &[])?.first_row().await.map(drop)
        };
        let kv = async {
            let kv: bindings::KvNamespace = bindings::binding(&self.env, KV_BINDING)?;
            kv.text("health:probe").await.map(drop)
        };
        let (d1, kv) = futures_util::future::join(d1, kv).await;
        d1.and(kv)
    }
}
