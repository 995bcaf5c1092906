//! The KV mirror of D1's revocations. Every use case that ends sessions records the revocation in D1
//! together with its outbox row (one batch, see `ports::Store`), then writes it to KV here. A KV write
//! that fails is no error: D1 has the revocation, the endpoints that read D1 refuse the token already,
//! and the row stays in the outbox until a later delivery (`flush_revocations`: the scheduled handler,
//! and requests of an isolate that saw a failure) gets it into KV.

use super::Auth;
use crate::error::AuthError;
use crate::ports::{Counters, PendingRevocation, Revocation, Revocations, Store};

/// Rows read per round of a flush: one D1 read and at most this many concurrent KV writes.
pub const OUTBOX_BATCH: u32 = 50;
/// Rounds per flush: a bounded amount of work per invocation (at most 10 D1 reads, 20 D1 writes and
/// 500 KV writes), whatever the backlog; the next flush goes on where this one stopped.
const MAX_FLUSH_ROUNDS: usize = 10;

/// What a flush did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlushReport {
    /// Rows now in KV (and deleted from the outbox).
    pub delivered: usize,
    /// Rows whose tokens had all expired: deleted without a KV write.
    pub expired: usize,
    /// Rows whose KV write failed this time (they stay).
    pub failed: usize,
    /// Whether rows may remain (a write failed, or the rounds ran out).
    pub more: bool,
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// Until when a revocation recorded now must be in KV: the expiry of the last access token it
    /// covers (TTL plus clock leeway).
    pub(super) fn mirror_until(&self) -> i64 {
        self.now.saturating_add(self.revocation_ttl() as i64)
    }

    /// Writes revocations D1 has just recorded (with their outbox rows) to KV. Never fails: a row
    /// whose write failed waits in the outbox. KV: one write each, concurrently.
    pub(super) async fn mirror(&self, revocations: Vec<Revocation>) {
        let until = self.mirror_until();
        let pending: Vec<PendingRevocation> = revocations
            .into_iter()
            .map(|revocation| PendingRevocation { revocation, expires_at: until, attempts: 0 })
            .collect();
        // The outbox rows of a failed write stay; so does a delivered one whose delete failed (it is
        // only written to KV once more). Neither is the caller's error: D1 has the revocation.
        let _ = self.deliver(&pending).await;
    }

    /// Writes `pending` to KV, forgets the rows KV took and counts the failures. Returns (delivered,
    /// failed); an error only when the outbox could not be updated.
    async fn deliver(&self, pending: &[PendingRevocation]) -> Result<(usize, usize), AuthError> {
        if pending.is_empty() {
            return Ok((0, 0));
        }
        let entries: Vec<(Revocation, u64)> =
            pending.iter().map(|p| (p.revocation.clone(), self.ttl_until(p.expires_at))).collect();
        let results = self.revocations.write(&entries).await;
        let (mut delivered, mut failed) = (Vec::new(), Vec::new());
        for ((revocation, _), result) in entries.into_iter().zip(results) {
            match result {
                Ok(()) => delivered.push(revocation),
                Err(_) => failed.push(revocation),
            }
        }
        let counts = (delivered.len(), failed.len());
        let forgot = match delivered.is_empty() {
            true => Ok(()),
            false => self.store.forget_revocations(&delivered).await,
        };
        let counted = match failed.is_empty() {
            true => Ok(()),
            false => self.store.revocations_failed(&failed).await,
        };
        forgot.and(counted).map(|()| counts)
    }

    /// Delivers the outbox to KV: rounds of up to `OUTBOX_BATCH` rows, oldest first, until it is empty
    /// or a KV write fails (KV is still failing: the rest waits for the next flush). Rows whose tokens
    /// have all expired are deleted without a write. D1: one read per round, one write per round that
    /// had rows. KV: one write per live row.
    pub async fn flush_revocations(&self) -> Result<FlushReport, AuthError> {
        let mut report = FlushReport::default();
        for _ in 0..MAX_FLUSH_ROUNDS {
            let rows = self.store.outbox(OUTBOX_BATCH).await?;
            let full = rows.len() >= OUTBOX_BATCH as usize;
            let (live, expired): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.expires_at > self.now);
            if !expired.is_empty() {
                let gone: Vec<Revocation> = expired.into_iter().map(|r| r.revocation).collect();
                self.store.forget_revocations(&gone).await?;
                report.expired += gone.len();
            }
            let (delivered, failed) = self.deliver(&live).await?;
            report.delivered += delivered;
            report.failed += failed;
            if failed > 0 {
                report.more = true;
                return Ok(report);
            }
            if !full {
                return Ok(report);
            }
        }
        report.more = true;
        Ok(report)
    }

    /// The KV TTL of a revocation needed until `expires_at` (KV refuses less than 60 s).
    fn ttl_until(&self, expires_at: i64) -> u64 {
        (expires_at.saturating_sub(self.now).max(0) as u64).max(60)
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
