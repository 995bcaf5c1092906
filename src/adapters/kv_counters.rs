//! `Counters` over Workers KV: rate-limit counters (key names: `edge_auth_core::kv_keys`; schema:
//! docs/storage.md), and the KV calls the revocation adapter shares.

use edge_auth_core::ports::Counters;
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::{KvError, KvStore};

/// KV refuses `expirationTtl` below 60 seconds.
const MIN_TTL_SECONDS: u64 = 60;

pub struct KvCounters {
    kv: Result<Rc<KvStore>, AuthError>,
}

impl KvCounters {
    pub fn new(kv: Result<Rc<KvStore>, AuthError>) -> Self {
        KvCounters { kv }
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
}
