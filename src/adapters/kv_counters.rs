//! `Counters` over Workers KV: rate-limit counters (key names: `edge_auth_core::kv_keys`; schema:
//! docs/storage.md), and the KV calls the revocation adapter shares; the global failed-login budget
//! over the optional Rate Limiting binding.

use edge_auth_core::ports::Counters;
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::{KvError, KvStore, RateLimiter};

/// KV refuses `expirationTtl` below 60 seconds.
const MIN_TTL_SECONDS: u64 = 60;

/// The one key every failed password login counts under: the budget is global (per Cloudflare
/// location: the binding counts per location).
const FAILED_LOGIN_BUDGET_KEY: &str = "failed-login";

thread_local! {
    /// Until when (unix seconds) this isolate knows the failed-login budget to be spent (a Worker
    /// isolate is one thread; a new isolate starts at 0 and learns from the KV flag).
    static BUDGET_SPENT_UNTIL: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

pub struct KvCounters {
    kv: Result<Rc<KvStore>, AuthError>,
    failed_login_limiter: Option<Rc<RateLimiter>>,
}

impl KvCounters {
    pub fn new(kv: Result<Rc<KvStore>, AuthError>, failed_login_limiter: Option<Rc<RateLimiter>>) -> Self {
        KvCounters { kv, failed_login_limiter }
    }

    fn kv(&self) -> Result<&KvStore, AuthError> {
        self.kv.as_deref().map_err(Clone::clone)
    }
}

fn failed(what: &'static str) -> impl Fn(KvError) -> AuthError {
    move |e| AuthError::Unavailable(format!("{what}: {e}"))
}

/// The values of `keys` as text, in order, in one bulk read (`None` where absent).
pub(super) async fn get_many(kv: &KvStore, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
    let mut found = kv.get_bulk(keys).text().await.map_err(failed("KV get"))?;
    Ok(keys.iter().map(|k| found.remove(*k).flatten()).collect())
}

/// Writes `value` under `key`, expiring after `ttl_seconds` (at least KV's minimum).
pub(super) async fn put(kv: &KvStore, key: &str, value: &str, ttl_seconds: u64) -> Result<(), AuthError> {
    let result = kv
        .put(key, value)
        .map_err(failed("KV put"))?
        .expiration_ttl(ttl_seconds.max(MIN_TTL_SECONDS))
        .execute()
        .await
        .map_err(failed("KV put"));
    super::later::note_write(super::later::Store::Kv, result.is_ok());
    result
}

impl Counters for KvCounters {
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
        get_many(self.kv()?, keys).await
    }

    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError> {
        let kv = self.kv()?;
        let writes = entries.iter().map(|(key, value, ttl)| put(kv, key, value, *ttl));
        futures_util::future::join_all(writes).await.into_iter().collect()
    }

    async fn delete(&self, key: &str) -> Result<(), AuthError> {
        let result = self.kv()?.delete(key).await.map_err(failed("KV delete"));
        super::later::note_write(super::later::Store::Kv, result.is_ok());
        result
    }

    fn has_failed_login_budget(&self) -> bool {
        self.failed_login_limiter.is_some()
    }

    async fn spend_failed_login(&self) -> Result<bool, AuthError> {
        let Some(limiter) = &self.failed_login_limiter else { return Ok(true) };
        let outcome = limiter
            .limit(FAILED_LOGIN_BUDGET_KEY.to_string())
            .await
            .map_err(|e| AuthError::Unavailable(format!("failed-login limiter: {e}")))?;
        Ok(outcome.success)
    }

    fn failed_login_budget_spent_until(&self) -> i64 {
        BUDGET_SPENT_UNTIL.with(|c| c.get())
    }

    fn set_failed_login_budget_spent_until(&self, until: i64) {
        BUDGET_SPENT_UNTIL.with(|c| c.set(until));
    }
}
