//! `Revocations` over Workers KV (key names: `edge_auth_core::kv_keys`; schema: docs/storage.md).
//!
//! KV is eventually consistent (a write can take 60 s or more to reach other locations) and allows
//! one write per second per key; these keys tolerate both: each is written rarely, and a late read
//! only lets an already-short-lived token live a little longer in a far location.

use super::kv_counters::{get_many, put};
use edge_auth_core::kv_keys;
use edge_auth_core::ports::{RevocationState, Revocations};
use edge_auth_core::AuthError;
use std::rc::Rc;
use worker::KvStore;

pub struct KvRevocations {
    kv: Result<Rc<KvStore>, AuthError>,
}

impl KvRevocations {
    pub fn new(kv: Result<Rc<KvStore>, AuthError>) -> Self {
        KvRevocations { kv }
    }

    fn kv(&self) -> Result<&KvStore, AuthError> {
        self.kv.as_deref().map_err(Clone::clone)
    }

    /// A trivial read, for the health check.
    pub async fn ping(&self) -> Result<(), AuthError> {
        get_many(self.kv()?, &[kv_keys::HEALTH_PROBE]).await.map(drop)
    }
}

impl Revocations for KvRevocations {
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError> {
        // Both keys in one bulk read. A failure fails closed (503): an unknown revocation state must
        // not let a revoked token through.
        let keys = [kv_keys::revoked_session(session_id), kv_keys::user_not_before(user_id)];
        let mut values = get_many(self.kv()?, &[&keys[0], &keys[1]]).await?.into_iter();
        let (session, user) = (values.next().flatten(), values.next().flatten());
        Ok(RevocationState {
            session_revoked: session.is_some(),
            user_not_before: user.and_then(|v| v.trim().parse::<i64>().ok()),
        })
    }

    async fn revoke_session(&self, session_id: &str, ttl_seconds: u64) -> Result<(), AuthError> {
        put(self.kv()?, &kv_keys::revoked_session(session_id), "1", ttl_seconds).await
    }

    async fn revoke_sessions(&self, session_ids: &[String], ttl_seconds: u64) -> Result<(), AuthError> {
        let kv = self.kv()?;
        let writes = session_ids
            .iter()
            .map(|id| async move { put(kv, &kv_keys::revoked_session(id), "1", ttl_seconds).await });
        futures_util::future::join_all(writes).await.into_iter().collect()
    }

    async fn revoke_user_before(
        &self,
        user_id: &str,
        not_before: i64,
        ttl_seconds: u64,
    ) -> Result<(), AuthError> {
        put(self.kv()?, &kv_keys::user_not_before(user_id), &not_before.to_string(), ttl_seconds).await
    }
}
