//! `Counters` over Workers KV: rate-limit counters (key schema in README.md, "KV keys").

use super::unavailable;
use edge_auth_core::ports::Counters;
use edge_auth_core::AuthError;
use worker::kv::KvStore;

pub struct KvCounters {
    kv: Result<KvStore, AuthError>,
}

impl KvCounters {
    pub fn new(kv: Result<KvStore, AuthError>) -> Self {
        KvCounters { kv }
    }

    fn kv(&self) -> Result<&KvStore, AuthError> {
        self.kv.as_ref().map_err(Clone::clone)
    }
}

impl Counters for KvCounters {
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
        let kv = self.kv()?;
        let reads = keys.iter().map(|k| kv.get(k).text());
        futures_util::future::join_all(reads)
            .await
            .into_iter()
            .map(|r| r.map_err(unavailable("KV get")))
            .collect()
    }

    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError> {
        let kv = self.kv()?;
        let writes = entries.iter().map(|(key, value, ttl)| async move {
            kv.put(key, value.as_str())
                .map_err(unavailable("KV put"))?
                .expiration_ttl((*ttl).max(60))
                .execute()
                .await
                .map_err(unavailable("KV put"))
        });
        futures_util::future::join_all(writes).await.into_iter().collect()
    }

    async fn delete(&self, key: &str) -> Result<(), AuthError> {
        self.kv()?.delete(key).await.map_err(unavailable("KV delete"))
    }
}
