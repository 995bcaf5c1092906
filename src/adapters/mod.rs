//! Adapters: the only code that names D1, KV, the Rate Limiting binding, outbound fetch, the
//! platform clock or the JavaScript engine's Unicode functions, all through the `worker` crate. Platform errors become `AuthError::Unavailable`
//! with the detail kept for the log.

mod d1_session;
mod d1_store;
mod kv_counters;
mod kv_revocations;
pub mod later;
pub mod mailer;
pub mod text;

use edge_auth_core::audit::{AuditBuffer, RequestMeta};
use edge_auth_core::config::Config;
use edge_auth_core::ports::AuditLog;
use edge_auth_core::service::Auth;
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::{Env, KvStore, RateLimiter};

pub use d1_session::{bookmark, D1Start};
pub use d1_store::{D1Store, SchemaState};
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
    /// The request's one D1 session (every store of the request shares it), opened where the route
    /// said (`http::routes::reads`).
    db: Result<Rc<d1_session::D1Handle>, AuthError>,
    kv: Result<Rc<KvStore>, AuthError>,
    limiter: Option<Rc<RateLimiter>>,
    failed_login_limiter: Option<Rc<RateLimiter>>,
}

impl Bindings {
    fn resolve(env: &Env, start: &D1Start) -> Self {
        let missing = |name: &str| AuthError::Unavailable(format!("binding {name} is not configured"));
        let open = |db| Rc::new(d1_session::D1Handle::open(db, start));
        Bindings {
            db: env.d1(D1_BINDING).map(open).map_err(|_| missing(D1_BINDING)),
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
    /// D1 bookkeeping that waits for the response (`later::Later`), run by `after_response`.
    later: later::Later,
    /// The audit events this request's use cases recorded, written after the response.
    audit: Rc<AuditBuffer>,
    /// What each of those events gets from the request (request id, IP, user agent).
    meta: Rc<RequestMeta>,
    /// A KV revocation write had failed in this isolate before this request began (a failure of the
    /// request's own is not retried right after it: KV is most likely still failing).
    backlog_before: bool,
}

impl Platform {
    /// The platform of one request (or scheduled run), its D1 session starting at `start`.
    pub fn new(env: &Env, loaded: crate::config::Loaded, start: &D1Start) -> Self {
        Platform {
            config: loaded.config,
            profile: loaded.profile,
            bindings: Bindings::resolve(env, start),
            later: later::Later::queue(),
            audit: Rc::default(),
            meta: Rc::default(),
            backlog_before: later::backlog(),
        }
    }

    /// The request's id and client, for its audit events.
    pub fn for_request(self, meta: RequestMeta) -> Self {
        Platform { meta: Rc::new(meta), ..self }
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
            audit: &*self.audit,
            now: self.now(),
        }
    }

    /// The D1 bookmark of this request's session: `None` when it ran no statement (or the runtime
    /// gives none). Taken after the handler, it covers the request's own writes.
    pub fn d1_bookmark(&self) -> Option<String> {
        self.bindings.db.as_ref().ok().and_then(|db| db.bookmark())
    }

    pub fn store(&self) -> D1Store {
        D1Store::new(self.bindings.db.clone(), self.later.clone())
    }

    /// The use cases over adapters whose D1 writes all run at once (a flush reads the outbox again
    /// after each round, so its deletes must have happened).
    fn auth_now(&self) -> Auth<'_, D1Store, KvRevocations, KvCounters> {
        Auth { store: D1Store::new(self.bindings.db.clone(), later::Later::Now), ..self.auth() }
    }

    /// Delivers the revocation outbox to KV (the scheduled handler; requests after a failure).
    pub async fn flush_revocations(&self) -> Result<edge_auth_core::service::FlushReport, AuthError> {
        let report = self.auth_now().flush_revocations().await?;
        if report.delivered + report.expired + report.failed > 0 {
            let fields = serde_json::json!({"delivered": report.delivered, "expired": report.expired,
                                            "failed": report.failed, "more": report.more});
            crate::log::info("revocation_outbox_flush", fields);
        }
        Ok(report)
    }

    /// After the response (`waitUntil`): the D1 bookkeeping this request queued, then, when this
    /// isolate saw a KV revocation write fail before this request and no flush is running or paused,
    /// a flush of the outbox.
    pub fn after_response(&self, ctx: &worker::Context) {
        let flush = self.backlog_before && later::begin_flush(self.now());
        let events = self.audit.take();
        if !flush && self.later.is_empty() && events.is_empty() {
            return;
        }
        let p = self.clone();
        ctx.wait_until(async move {
            let audit = p.write_audit(events);
            futures_util::future::join(p.later.drain(), audit).await;
            if flush {
                let outcome = p.flush_revocations().await;
                if let Err(e) = &outcome {
                    crate::log::warn("revocation_outbox_flush", e.log_detail().unwrap_or_default());
                }
                let (empty, failed) = match outcome {
                    Ok(r) => (!r.more, r.failed > 0),
                    Err(_) => (false, true),
                };
                later::end_flush(p.now(), empty, failed);
            }
        });
    }

    /// Runs what waits for the response now (the scheduled handler has no response).
    pub async fn finish(&self) {
        self.later.drain().await;
        self.write_audit(self.audit.take()).await;
    }

    /// Appends the request's audit events in one D1 batch. A failure is logged (without the events'
    /// contents): the answer has gone already, and an audit outage must not fail sign-ins.
    async fn write_audit(&self, events: Vec<edge_auth_core::audit::AuditEvent>) {
        if events.is_empty() {
            return;
        }
        if let Err(e) = self.store().append_events(&events, &self.meta).await {
            let message = format!("{} events lost: {}", events.len(), e.log_detail().unwrap_or_default());
            crate::log::warn("audit_write", &message);
        }
    }

    /// Deletes audit events past `AUDIT_RETENTION`, a bounded number per run (the scheduled handler).
    pub async fn prune_audit(&self) -> Result<u32, AuthError> {
        let deleted = self.auth_now().prune_audit().await?;
        if deleted > 0 {
            crate::log::info("audit_prune", serde_json::json!({"deleted": deleted}));
        }
        Ok(deleted)
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

    /// What D1 says about its schema (one read) and whether KV answers a read (one read), concurrently.
    pub async fn probe_storage(&self) -> (Result<SchemaState, AuthError>, Result<(), AuthError>) {
        let store = self.store();
        let revocations = self.revocations();
        futures_util::future::join(store.schema_state(self.now()), revocations.ping()).await
    }

    /// Writes and reads back one D1 row and one KV key, concurrently (`GET /health?deep=1`).
    pub async fn probe_writes(&self) -> (Result<(), AuthError>, Result<(), AuthError>) {
        let nonce = edge_auth_core::random::token(16);
        let (store, revocations) = (self.store(), self.revocations());
        futures_util::future::join(store.probe_write(&nonce, self.now()), revocations.probe_write(&nonce))
            .await
    }
}
