//! `Counters` over Workers KV: rate-limit counters (key schema in README.md, "KV keys").

use super::bindings::KvNamespace;
use super::join_all;
use edge_auth_core::ports::Counters;
use edge_auth_core::AuthError;

pub struct KvCounters {
    kv: Result<KvNamespace, AuthError>,
}

impl KvCounters {
    pub fn new(kv: Result<KvNamespace, AuthError>) -> Self {
        KvCounters { kv }
    }

    fn kv(&self) -> Result<&KvNamespace, AuthError> {
        self.kv.as_ref().map_err(Clone::clone)
    }
}

impl Counters for KvCounters {
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
        let kv = self.kv()?;
        join_all(keys.iter().map(|k| kv.text(k))).await.into_iter().collect()
    }

    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError> {
        let kv = self.kv()?;
        let writes = entries.iter().map(|(key, value, ttl)| kv.put_text(key, value, *ttl));
        join_all(writes).await.into_iter().collect()
    }

    async fn delete(&self, key: &str) -> Result<(), AuthError> {
        self.kv()?.delete(key).await
    }
}
