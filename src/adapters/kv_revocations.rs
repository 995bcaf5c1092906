//! `Revocations` over Workers KV (key names: `edge_auth_core::kv_keys`; schema: docs/storage.md).
//!
//! KV is eventually consistent (a write can take 60 s or more to reach other locations) and allows
//! one write per second per key; these keys tolerate both: each is written rarely, and a late read
//! only lets an already-short-lived token live a little longer in a far location. D1 holds every
//! revocation first (the outbox, `d1_outbox.rs`); a failed write here is retried from there.

use super::kv_counters::{get_many, put};
use edge_auth_core::kv_keys;
use edge_auth_core::ports::{Revocation, RevocationState, Revocations};
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

    /// Writes `nonce` under a key of its own (`GET /health?deep=1`; a fresh key each time, since KV
    /// takes one write per second per key) and reads it back. KV: one write, one read.
    pub async fn probe_write(&self, nonce: &str) -> Result<(), AuthError> {
        let kv = self.kv()?;
        let key = kv_keys::health_write_probe(nonce);
        put(kv, &key, nonce, 60).await?;
        match get_many(kv, &[&key]).await?.pop().flatten() {
            Some(value) if value == nonce => Ok(()),
            _ => Err(AuthError::Unavailable("KV probe read did not return the value just written".into())),
        }
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

    async fn write(&self, entries: &[(Revocation, u64)]) -> Vec<Result<(), AuthError>> {
        let kv = match self.kv() {
            Ok(kv) => kv,
            Err(e) => return entries.iter().map(|_| Err(e.clone())).collect(),
        };
        let writes = entries.iter().map(|(revocation, ttl)| async move {
            let (key, value) = match revocation {
                Revocation::Session(id) => (kv_keys::revoked_session(id), "1".to_string()),
                Revocation::UserBefore { user_id, not_before } => {
                    (kv_keys::user_not_before(user_id), not_before.to_string())
                }
            };
            put(kv, &key, &value, *ttl).await
        });
        let results = futures_util::future::join_all(writes).await;
        if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
            let failed = results.iter().filter(|r| r.is_err()).count();
            let detail = e.log_detail().unwrap_or_default();
            let message = format!(
                "{failed} of {} KV revocation writes failed (kept in D1's outbox): {detail}",
                results.len()
            );
            crate::log::warn("revocation_mirror", &message);
        }
        results
    }
}
