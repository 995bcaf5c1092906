//! `Outbox` over D1 (`revocation_outbox`, migration 0008), and the health check's queries. The rows
//! themselves are queued by the revocations in `d1_store.rs`, in their own batches; here they are
//! read, deleted once KV has them, and counted when a KV write failed. The deletes and counts wait
//! for the response (`Later`) when the request lets them.

use super::{all, changed, first, mismatch, n, noted, s, unavailable, D1Store};
use edge_auth_core::ports::{Outbox, PendingRevocation, Revocation};
use edge_auth_core::AuthError;
use futures_util::FutureExt;
use serde::Deserialize;

/// The upsert of an outbox row queued again before KV had it: the user's time and the row's expiry only
/// ever rise (a later logout-all covers everything an earlier one did).
pub(super) const UPSERT: &str = "ON CONFLICT (kind, subject) DO UPDATE SET \
    value = MAX(revocation_outbox.value, excluded.value), \
    expires_at = MAX(revocation_outbox.expires_at, excluded.expires_at)";

/// A `revocation_outbox` row.
#[derive(Deserialize)]
struct OutboxRow {
    kind: String,
    subject: String,
    value: i64,
    expires_at: i64,
    attempts: i64,
}

impl TryFrom<OutboxRow> for PendingRevocation {
    type Error = AuthError;

    fn try_from(r: OutboxRow) -> Result<Self, AuthError> {
        let revocation = match r.kind.as_str() {
            "session" => Revocation::Session(r.subject),
            "user" => Revocation::UserBefore { user_id: r.subject, not_before: r.value },
            _ => return Err(mismatch("revocation_outbox.kind is neither session nor user")),
        };
        Ok(PendingRevocation { revocation, expires_at: r.expires_at, attempts: r.attempts.max(0) as u32 })
    }
}

/// The outbox key and value of a revocation.
fn row_of(revocation: &Revocation) -> (&'static str, &str, i64) {
    match revocation {
        Revocation::Session(id) => ("session", id, 1),
        Revocation::UserBefore { user_id, not_before } => ("user", user_id, *not_before),
    }
}

impl D1Store {
    /// Runs `statements` as one batch, now or after the response; a failure is logged (the rows then
    /// stay, and are only written to KV once more).
    async fn bookkeeping(&self, what: &'static str, statements: Vec<worker::D1PreparedStatement>) {
        let Ok(db) = self.db.clone() else { return };
        let work = async move {
            if let Err(e) = noted(db.batch(statements).await) {
                crate::log::warn("revocation_outbox", unavailable(what)(e).log_detail().unwrap_or_default());
            }
        };
        self.later.run(work.boxed_local()).await;
    }
}

impl Outbox for D1Store {
    async fn outbox(&self, limit: u32) -> Result<Vec<PendingRevocation>, AuthError> {
        let statement = self.statement(
            "SELECT kind, subject, value, expires_at, attempts FROM revocation_outbox \
             ORDER BY created_at, kind, subject LIMIT ?1",
            &[n(i64::from(limit))],
        )?;
        all::<OutboxRow>(statement).await?.into_iter().map(PendingRevocation::try_from).collect()
    }

    async fn forget_revocations(&self, done: &[Revocation]) -> Result<(), AuthError> {
        // `value = ?3`: a user row whose time was raised since is not the one delivered, and stays.
        let statements = done
            .iter()
            .map(|r| {
                let (kind, subject, value) = row_of(r);
                self.statement(
                    "DELETE FROM revocation_outbox WHERE kind = ?1 AND subject = ?2 AND value = ?3",
                    &[s(kind), s(subject), n(value)],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.bookkeeping("D1 outbox delete", statements).await;
        Ok(())
    }

    async fn revocations_failed(&self, failed: &[Revocation]) -> Result<(), AuthError> {
        super::super::later::note_backlog();
        let statements = failed
            .iter()
            .map(|r| {
                let (kind, subject, _) = row_of(r);
                self.statement(
                    "UPDATE revocation_outbox SET attempts = attempts + 1 WHERE kind = ?1 AND subject = ?2",
                    &[s(kind), s(subject)],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.bookkeeping("D1 outbox count", statements).await;
        Ok(())
    }
}

/// What D1 says about its schema and the outbox, for `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    /// Whether `d1_migrations` (the table wrangler records applied migrations in) answers.
    pub migrations_recorded: bool,
    /// The latest migration recorded there, by name.
    pub latest_migration: Option<String>,
    /// Whether the tables every request reads answer (`users`, `sessions`, `revocation_outbox`).
    pub tables_ok: bool,
    /// Revocations whose KV write failed and that KV still needs (None when the tables do not answer).
    pub failed_revocations: Option<u64>,
}

#[derive(Deserialize)]
struct SchemaRow {
    latest: Option<String>,
    failing: Option<i64>,
}

impl D1Store {
    /// The schema's state in one read: the latest applied migration, and (touching the tables every
    /// request needs, without reading a row of them) the revocations still waiting after a failed KV
    /// write. When that fails, a second read tells the recorded migrations alone, and a third whether
    /// D1 answers at all. An error means D1 does not answer.
    pub async fn schema_state(&self, now: i64) -> Result<SchemaState, AuthError> {
        let full = self.statement(
            "SELECT (SELECT MAX(name) FROM d1_migrations) AS latest, \
             (SELECT COUNT(*) FROM revocation_outbox WHERE attempts > 0 AND expires_at > ?1) AS failing \
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE 0) AND NOT EXISTS (SELECT 1 FROM sessions WHERE 0)",
            &[n(now)],
        )?;
        if let Ok(Some(row)) = first::<SchemaRow>(full).await {
            let failing = row.failing.map(|f| f.max(0) as u64);
            return Ok(SchemaState {
                migrations_recorded: true,
                latest_migration: row.latest,
                tables_ok: true,
                failed_revocations: failing,
            });
        }
        let migrations =
            self.statement("SELECT MAX(name) AS latest, NULL AS failing FROM d1_migrations", &[])?;
        let (migrations_recorded, latest_migration) = match first::<SchemaRow>(migrations).await {
            Ok(row) => (true, row.and_then(|r| r.latest)),
            Err(_) => {
                first::<serde_json::Value>(self.statement("SELECT 1 AS one", &[])?).await?;
                (false, None)
            }
        };
        Ok(SchemaState { migrations_recorded, latest_migration, tables_ok: false, failed_revocations: None })
    }

    /// Writes `nonce` into the probe row and reads it back (`GET /health?deep=1`). D1: one write, one read.
    pub async fn probe_write(&self, nonce: &str, now: i64) -> Result<(), AuthError> {
        let write = self.statement(
            "INSERT INTO health_probe (id, nonce, written_at) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET nonce = excluded.nonce, written_at = excluded.written_at",
            &[s(nonce), n(now)],
        )?;
        let result = noted(write.run().await).map_err(unavailable("D1 probe write"))?;
        if changed(&result) != 1 {
            return Err(AuthError::Unavailable("D1 probe write changed no row".into()));
        }
        #[derive(Deserialize)]
        struct NonceRow {
            nonce: String,
        }
        let read = self.statement("SELECT nonce FROM health_probe WHERE id = 1", &[])?;
        match first::<NonceRow>(read).await? {
            Some(row) if row.nonce == nonce => Ok(()),
            _ => Err(AuthError::Unavailable("D1 probe read did not return the value just written".into())),
        }
    }
}
