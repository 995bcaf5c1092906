//! `Passkeys` over D1 (`passkeys`, `webauthn_challenges`, migration 0007). A child module of
//! `d1_store`, sharing its helpers. Single use and "never the last factor" are decided inside one
//! statement each (`DELETE ... RETURNING`, a conditional `DELETE`), so concurrent requests cannot
//! both win.

use super::{all, first, n, opt, s, unavailable, D1Store, UserRow, USER_COLUMNS};
use edge_auth_core::b64::URL_SAFE_NO_PAD;
use edge_auth_core::ports::{PasskeyDeletion, PasskeyRecord, Passkeys, WebauthnChallenge, WebauthnPurpose};
use edge_auth_core::user::User;
use edge_auth_core::AuthError;
use serde::Deserialize;

const PASSKEY_COLUMNS: &str = "p.id AS p_id, p.user_id AS p_user_id, p.public_key AS p_public_key, \
    p.algorithm AS p_algorithm, p.sign_count AS p_sign_count, p.transports AS p_transports, \
    p.backup_eligible AS p_backup_eligible, p.backup_state AS p_backup_state, p.aaguid AS p_aaguid, \
    p.name AS p_name, p.created_at AS p_created_at, p.last_used_at AS p_last_used_at";

/// A `passkeys` row (PASSKEY_COLUMNS).
#[derive(Deserialize)]
struct PasskeyRow {
    p_id: String,
    p_user_id: String,
    p_public_key: String,
    p_algorithm: i64,
    p_sign_count: i64,
    p_transports: String,
    p_backup_eligible: i64,
    p_backup_state: i64,
    p_aaguid: String,
    p_name: String,
    p_created_at: i64,
    p_last_used_at: Option<i64>,
}

impl TryFrom<PasskeyRow> for PasskeyRecord {
    type Error = AuthError;
    fn try_from(r: PasskeyRow) -> Result<Self, AuthError> {
        let bad = |what: &str| AuthError::Unavailable(format!("D1 row: passkeys.{what} of {}", r.p_id));
        let public_key = URL_SAFE_NO_PAD.decode(&r.p_public_key).map_err(|_| bad("public_key"))?;
        let sign_count = u32::try_from(r.p_sign_count).map_err(|_| bad("sign_count"))?;
        Ok(PasskeyRecord {
            public_key,
            sign_count,
            algorithm: r.p_algorithm,
            transports: r.p_transports.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
            backup_eligible: r.p_backup_eligible != 0,
            backup_state: r.p_backup_state != 0,
            aaguid: r.p_aaguid,
            name: r.p_name,
            created_at: r.p_created_at,
            last_used_at: r.p_last_used_at,
            user_id: r.p_user_id,
            id: r.p_id,
        })
    }
}

/// A passkey joined with its user.
#[derive(Deserialize)]
struct PasskeyUserRow {
    #[serde(flatten)]
    passkey: PasskeyRow,
    #[serde(flatten)]
    user: UserRow,
}

/// A `webauthn_challenges` row.
#[derive(Deserialize)]
struct ChallengeRow {
    challenge_hash: String,
    purpose: String,
    user_id: Option<String>,
    mfa_token_hash: Option<String>,
    created_at: i64,
    expires_at: i64,
}

fn flag(v: bool) -> worker::wasm_bindgen::JsValue {
    n(i64::from(v))
}

impl Passkeys for D1Store {
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, AuthError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys p WHERE p.user_id = ?1 ORDER BY p.created_at DESC, p.rowid DESC"
        );
        all::<PasskeyRow>(self.statement(&sql, &[s(user_id)])?)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn find_passkey(&self, id: &str) -> Result<Option<(PasskeyRecord, User)>, AuthError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS}, {USER_COLUMNS} FROM passkeys p JOIN users u ON u.id = p.user_id \
             WHERE p.id = ?1"
        );
        match first::<PasskeyUserRow>(self.statement(&sql, &[s(id)])?).await? {
            Some(r) => Ok(Some((r.passkey.try_into()?, User::from(r.user)))),
            None => Ok(None),
        }
    }

    async fn add_passkey(&self, p: &PasskeyRecord) -> Result<bool, AuthError> {
        // ON CONFLICT DO NOTHING: a credential id registered already (to anyone) changes nothing.
        let changed = self
            .changes(
                "INSERT INTO passkeys (id, user_id, public_key, algorithm, sign_count, transports, \
                 backup_eligible, backup_state, aaguid, name, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO NOTHING",
                &[
                    s(&p.id),
                    s(&p.user_id),
                    s(&URL_SAFE_NO_PAD.encode(&p.public_key)),
                    n(p.algorithm),
                    n(i64::from(p.sign_count)),
                    s(&p.transports.join(",")),
                    flag(p.backup_eligible),
                    flag(p.backup_state),
                    s(&p.aaguid),
                    s(&p.name),
                    n(p.created_at),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn use_passkey(
        &self,
        id: &str,
        from: u32,
        to: u32,
        backup_state: bool,
        now: i64,
    ) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE passkeys SET sign_count = ?3, backup_state = ?4, last_used_at = ?5 \
                 WHERE id = ?1 AND sign_count = ?2",
                &[s(id), n(i64::from(from)), n(i64::from(to)), flag(backup_state), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE passkeys SET name = ?3 WHERE id = ?1 AND user_id = ?2",
                &[s(id), s(user_id), s(name)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<PasskeyDeletion, AuthError> {
        // One statement decides: the row goes only if the account keeps a password or another passkey.
        let changed = self
            .changes(
                "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2 AND ( \
                   EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash <> '') \
                   OR (SELECT COUNT(*) FROM passkeys WHERE user_id = ?2) > 1)",
                &[s(id), s(user_id)],
            )
            .await?;
        if changed == 1 {
            return Ok(PasskeyDeletion::Deleted);
        }
        let still = first::<serde_json::Value>(self.statement(
            "SELECT 1 AS one FROM passkeys WHERE id = ?1 AND user_id = ?2",
            &[s(id), s(user_id)],
        )?)
        .await?;
        Ok(if still.is_some() { PasskeyDeletion::LastFactor } else { PasskeyDeletion::NotFound })
    }

    async fn remove_passkeys(&self, user_id: &str) -> Result<(), AuthError> {
        let batch = vec![
            self.statement("DELETE FROM passkeys WHERE user_id = ?1", &[s(user_id)])?,
            self.statement("DELETE FROM webauthn_challenges WHERE user_id = ?1", &[s(user_id)])?,
        ];
        self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn create_webauthn_challenge(&self, c: &WebauthnChallenge) -> Result<(), AuthError> {
        // Expired challenges are swept by the same batch: the table stays small without a cron job.
        let batch = vec![
            self.statement("DELETE FROM webauthn_challenges WHERE expires_at <= ?1", &[n(c.created_at)])?,
            self.statement(
                "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, mfa_token_hash, \
                 created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[
                    s(&c.challenge_hash),
                    s(c.purpose.as_str()),
                    opt(c.user_id.as_deref()),
                    opt(c.mfa_token_hash.as_deref()),
                    n(c.created_at),
                    n(c.expires_at),
                ],
            )?,
        ];
        self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn take_webauthn_challenge(
        &self,
        challenge_hash: &str,
        now: i64,
    ) -> Result<Option<WebauthnChallenge>, AuthError> {
        let statement = self.statement(
            "DELETE FROM webauthn_challenges WHERE challenge_hash = ?1 AND expires_at > ?2 \
             RETURNING challenge_hash, purpose, user_id, mfa_token_hash, created_at, expires_at",
            &[s(challenge_hash), n(now)],
        )?;
        let Some(r) = first::<ChallengeRow>(statement).await? else { return Ok(None) };
        let purpose = WebauthnPurpose::parse(&r.purpose).ok_or_else(|| {
            AuthError::Unavailable(format!("D1 row: webauthn_challenges.purpose {:?}", r.purpose))
        })?;
        Ok(Some(WebauthnChallenge {
            challenge_hash: r.challenge_hash,
            purpose,
            user_id: r.user_id,
            mfa_token_hash: r.mfa_token_hash,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }
}
