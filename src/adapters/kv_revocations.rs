//! `Revocations` over Workers KV.
//!
//! Key schema (also in README.md, "KV keys"):
//! | key                          | value                 | TTL                                   |
//! |------------------------------|-----------------------|---------------------------------------|
//! | `revoked-session:<sid>`      | `1`                   | access-token lifetime + leeway (>=60) |
//! | `user-not-before:<user id>`  | unix seconds, decimal | access-token lifetime + leeway (>=60) |
//!
//! KV is eventually consistent (a write can take 60 s or more to reach other locations) and allows
//! one write per second per key; these keys tolerate both: each is written rarely, and a late read
//! only lets an already-short-lived token live a little longer in a far location.

use super::unavailable;
use edge_auth_core::ports::{RevocationState, Revocations};
use edge_auth_core::AuthError;
use worker::kv::KvStore;

pub struct KvRevocations {
    kv: Result<KvStore, AuthError>,
}

fn session_key(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
}

fn user_key(user_id: &str) -> String {
    format!("user-not-before:{user_id}")
}

impl KvRevocations {
    pub fn new(kv: Result<KvStore, AuthError>) -> Self {
        KvRevocations { kv }
    }

    fn kv(&self) -> Result<&KvStore, AuthError> {
        self.kv.as_ref().map_err(Clone::clone)
    }

    async fn put(&self, key: &str, value: &str, ttl_seconds: u64) -> Result<(), AuthError> {
        self.kv()?
            .put(key, value)
            .map_err(unavailable("KV put"))?
            .expiration_ttl(ttl_seconds.max(60))
            .execute()
            .await
            .map_err(unavailable("KV put"))
    }
}

impl Revocations for KvRevocations {
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError> {
        let kv = self.kv()?;
        // Two reads, concurrently. A failure fails closed (503): an unknown revocation state must not
        // let a revoked token through.
        let (session, user) = futures_util::future::join(
            kv.get(&session_key(session_id)).text(),
            kv.get(&user_key(user_id)).text(),
        )
        .await;
        let session = session.map_err(unavailable("KV get"))?;
        let user = user.map_err(unavailable("KV get"))?;
        Ok(RevocationState {
            session_revoked: session.is_some(),
            user_not_before: user.and_then(|v| v.trim().parse::<i64>().ok()),
        })
    }

    async fn revoke_session(&self, session_id: &str, ttl_seconds: u64) -> Result<(), AuthError> {
        self.put(&session_key(session_id), "1", ttl_seconds).await
    }

    async fn revoke_sessions(&self, session_ids: &[String], ttl_seconds: u64) -> Result<(), AuthError> {
        let writes = session_ids.iter().map(|id| self.revoke_session(id, ttl_seconds));
        futures_util::future::join_all(writes).await.into_iter().collect()
    }

    async fn revoke_user_before(
        &self,
        user_id: &str,
        not_before: i64,
        ttl_seconds: u64,
    ) -> Result<(), AuthError> {
        self.put(&user_key(user_id), &not_before.to_string(), ttl_seconds).await
    }
}
