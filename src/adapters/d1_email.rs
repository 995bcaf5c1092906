//! `EmailStore` over D1 (`email_verifications`, `users.email_verified_at`, `users.pending_email`,
//! migration 0006). A child module of `d1_store`, sharing its helpers.

use super::{changes, conflict, first, n, opt, s, unavailable, D1Store, UserRow, USER_COLUMNS};
use edge_auth_core::email::{EmailStore, ProfilePatch, VerificationRecord};
use edge_auth_core::user::User;
use edge_auth_core::AuthError;
use serde::Deserialize;

/// An `email_verifications` row joined with its user.
#[derive(Deserialize)]
struct VerificationUserRow {
    v_token_hash: String,
    v_user_id: String,
    v_email: String,
    v_created_at: i64,
    v_expires_at: i64,
    v_used_at: Option<i64>,
    #[serde(flatten)]
    user: UserRow,
}

impl EmailStore for D1Store {
    async fn create_verification(&self, record: &VerificationRecord) -> Result<(), AuthError> {
        // One batch: the user's older links die with the new one's insert.
        let batch = vec![
            self.statement("DELETE FROM email_verifications WHERE user_id = ?1", &[s(&record.user_id)])?,
            self.statement(
                "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                &[
                    s(&record.token_hash),
                    s(&record.user_id),
                    s(&record.email),
                    n(record.created_at),
                    n(record.expires_at),
                ],
            )?,
        ];
        self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn find_verification(
        &self,
        token_hash: &str,
    ) -> Result<Option<(VerificationRecord, User)>, AuthError> {
        let sql = format!(
            "SELECT v.token_hash AS v_token_hash, v.user_id AS v_user_id, v.email AS v_email, \
             v.created_at AS v_created_at, v.expires_at AS v_expires_at, v.used_at AS v_used_at, \
             {USER_COLUMNS} FROM email_verifications v JOIN users u ON u.id = v.user_id \
             WHERE v.token_hash = ?1"
        );
        let row = first::<VerificationUserRow>(self.statement(&sql, &[s(token_hash)])?).await?;
        Ok(row.map(|r| {
            let record = VerificationRecord {
                token_hash: r.v_token_hash,
                user_id: r.v_user_id,
                email: r.v_email,
                created_at: r.v_created_at,
                expires_at: r.v_expires_at,
                used_at: r.v_used_at,
            };
            (record, User::from(r.user))
        }))
    }

    async fn consume_verification(
        &self,
        token_hash: &str,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<bool, AuthError> {
        // One transaction. The first UPDATE decides (exactly one concurrent caller changes the row);
        // the second applies only a token burnt at `now` and is idempotent (a concurrent loser within
        // the same second re-applies the same values). SQLite evaluates every SET expression on the
        // old row, so `email` takes the old `pending_email`. A UNIQUE violation on `users.email` rolls
        // both back: 409, and the link stays unused.
        let burn = self.statement(
            "UPDATE email_verifications SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL \
             AND expires_at > ?2",
            &[s(token_hash), n(now)],
        )?;
        let apply = self.statement(
            "UPDATE users SET \
               email = CASE WHEN pending_email = ?3 THEN pending_email ELSE email END, \
               pending_email = CASE WHEN pending_email = ?3 THEN NULL ELSE pending_email END, \
               email_verified_at = ?2, updated_at = ?2 \
             WHERE id = ?4 AND (email = ?3 OR pending_email = ?3) \
               AND EXISTS (SELECT 1 FROM email_verifications \
                           WHERE token_hash = ?1 AND user_id = ?4 AND used_at = ?2)",
            &[s(token_hash), n(now), s(email), s(user_id)],
        )?;
        let results = self.batch(vec![burn, apply]).await.map_err(conflict)?;
        let burnt = results
            .first()
            .map(|r| r.meta().map(|m| m.and_then(|m| m.changes).unwrap_or(0)))
            .transpose()
            .map_err(unavailable("D1 batch meta"))?
            .unwrap_or(0);
        Ok(burnt == 1)
    }

    async fn update_profile(&self, user_id: &str, patch: &ProfilePatch, now: i64) -> Result<(), AuthError> {
        let flag = |b: bool| n(b as i64);
        let statement = self.statement(
            "UPDATE users SET display_name = CASE WHEN ?2 THEN ?3 ELSE display_name END, \
             pending_email = CASE WHEN ?4 THEN ?5 ELSE pending_email END, updated_at = ?6 WHERE id = ?1",
            &[
                s(user_id),
                flag(patch.display_name.is_some()),
                opt(patch.display_name.clone().flatten().as_deref()),
                flag(patch.pending_email.is_some()),
                opt(patch.pending_email.clone().flatten().as_deref()),
                n(now),
            ],
        )?;
        changes(statement).await.map_err(unavailable("D1 write"))?;
        Ok(())
    }
}
