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

use super::bindings::KvNamespace;
use super::join_all;
use edge_auth_core::ports::{RevocationState, Revocations};
use edge_auth_core::AuthError;

pub struct KvRevocations {
    kv: Result<KvNamespace, AuthError>,
}

fn session_key(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
}

fn user_key(user_id: &str) -> String {
    format!("user-not-before:{user_id}")
}

impl KvRevocations {
    pub fn new(kv: Result<KvNamespace, AuthError>) -> Self {
        KvRevocations { kv }
    }

    fn kv(&self) -> Result<&KvNamespace, AuthError> {
        self.kv.as_ref().map_err(Clone::clone)
    }

    async fn put(&self, key: &str, value: &str, ttl_seconds: u64) -> Result<(), AuthError> {
        self.kv()?.put_text(key, value, ttl_seconds).await
    }
}

impl Revocations for KvRevocations {
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError> {
        let kv = self.kv()?;
        // Two reads, concurrently. A failure fails closed (503): an unknown revocation state must not
        // let a revoked token through.
        let (session_key, user_key) = (session_key(session_id), user_key(user_id));
        let mut reads = join_all([kv.text(&session_key), kv.text(&user_key)]).await.into_iter();
        let session = reads.next().unwrap_or(Ok(None))?;
        let user = reads.next().unwrap_or(Ok(None))?;
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
        join_all(writes).await.into_iter().collect()
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
