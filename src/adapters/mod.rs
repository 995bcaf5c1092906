//! Adapters: the only code that names D1, KV, the Rate Limiting binding, outbound fetch, the
//! platform clock or the JavaScript engine's Unicode functions, all through the `worker` crate. Platform errors become `AuthError::Unavailable`
//! with the detail kept for the log.

mod d1_store;
mod kv_counters;
mod kv_revocations;
pub mod mailer;
pub mod text;

use edge_auth_core::config::Config;
use edge_auth_core::service::Auth;
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::{D1Database, Env, KvStore, RateLimiter};

pub use d1_store::D1Store;
pub use kv_counters::KvCounters;
pub use kv_revocations::KvRevocations;

/// Binding names (wrangler.toml).
pub const D1_BINDING: &str = "DB";
pub const KV_BINDING: &str = "AUTH_KV";
/// Optional Cloudflare Rate Limiting binding, an extra layer in front of the KV counters.
pub const RATE_LIMITER_BINDING: &str = "AUTH_RATE_LIMITER";
/// Optional Rate Limiting binding: the global failed-login budget (README.md, "Abuse protection").
/// Without it there is no budget.
pub const FAILED_LOGIN_LIMITER_BINDING: &str = "LOGIN_FAILURE_LIMITER";

/// The request's bindings, resolved once when the request starts. A missing D1 or KV binding is
/// kept as its error, so only the endpoints that need it answer 503.
#[derive(Clone)]
struct Bindings {
    db: Result<Rc<D1Database>, AuthError>,
    kv: Result<Rc<KvStore>, AuthError>,
    limiter: Option<Rc<RateLimiter>>,
    failed_login_limiter: Option<Rc<RateLimiter>>,
}

impl Bindings {
    fn resolve(env: &Env) -> Self {
        let missing = |name: &str| AuthError::Unavailable(format!("binding {name} is not configured"));
        Bindings {
            db: env.d1(D1_BINDING).map(Rc::new).map_err(|_| missing(D1_BINDING)),
            kv: env.kv(KV_BINDING).map(Rc::new).map_err(|_| missing(KV_BINDING)),
            limiter: env.rate_limiter(RATE_LIMITER_BINDING).ok().map(Rc::new),
            failed_login_limiter: env.rate_limiter(FAILED_LOGIN_LIMITER_BINDING).ok().map(Rc::new),
        }
    }
}

/// What a request handler can reach: configuration, bindings, clock. Cheap to clone (for work after
/// the response, in `waitUntil`).
#[derive(Clone)]
pub struct Platform {
    pub config: Rc<Config>,
    /// The compatibility profile (`API_PROFILE`), if any.
    pub profile: Option<Rc<crate::http::profiles::spec::Profile>>,
    bindings: Bindings,
}

impl Platform {
    pub fn new(env: &Env, loaded: crate::config::Loaded) -> Self {
        Platform { config: loaded.config, profile: loaded.profile, bindings: Bindings::resolve(env) }
    }

    /// Now, in unix seconds, from the Workers clock (it advances only across I/O).
    pub fn now(&self) -> i64 {
        (worker::Date::now().as_millis() / 1000) as i64
    }

    /// The use cases, over this request's adapters, at the current time.
    pub fn auth(&self) -> Auth<'_, D1Store, KvRevocations, KvCounters> {
        Auth {
            config: &self.config,
            store: self.store(),
            revocations: self.revocations(),
            counters: self.counters(),
            now: self.now(),
        }
    }

    pub fn store(&self) -> D1Store {
        D1Store::new(self.bindings.db.clone())
    }

    pub fn revocations(&self) -> KvRevocations {
        KvRevocations::new(self.bindings.kv.clone())
    }

    pub fn counters(&self) -> KvCounters {
        KvCounters::new(self.bindings.kv.clone(), self.bindings.failed_login_limiter.clone())
    }

    /// The optional Rate Limiting binding (`[[ratelimits]]` in wrangler.toml), keyed by `key`:
    /// 429 when it says no. Without the binding, nothing is checked. Its limits are per Cloudflare
    /// location and eventually consistent too; it is a cheap first filter, not a quota.
    pub async fn edge_rate_limit(&self, key: &str) -> Result<(), AuthError> {
        let Some(limiter) = &self.bindings.limiter else { return Ok(()) };
        // The crate reads the answer's `success`; an answer without it is an error, so a 503.
        let outcome = limiter
            .limit(key.to_string())
            .await
            .map_err(|e| AuthError::Unavailable(format!("rate limiter: {e}")))?;
        if outcome.success {
            Ok(())
        } else {
            Err(AuthError::RateLimited { retry_after: 60 })
        }
    }

    /// Asks D1 and KV a trivial question each, concurrently.
    pub async fn check_storage(&self) -> Result<(), AuthError> {
        let (d1, kv) = futures_util::future::join(self.store().ping(), self.revocations().ping()).await;
        d1.and(kv)
    }
}
