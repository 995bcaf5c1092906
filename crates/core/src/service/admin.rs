//! The admin API: `admin` may do everything, `demo` may read, every other role gets 403 [ASVS 7.4.2,
//! 7.4.5]. The Worker checks the permission before it reads a body; each use case checks it again
//! (defence in depth: a caller that forgets cannot open the API). Disabling, deleting or changing the
//! role of a user ends its sessions and outstanding access tokens; the last active admin can never be
//! demoted, disabled or deleted. Every admin request also reads the caller's session from D1 (one read),
//! so an admin token whose session was ended is refused here even before KV has the revocation.

use super::{Auth, CreateUserRequest, ImportRequest, ListUsersQuery, UpdateUserRequest};
use crate::audit::{Detail, EventType};
use crate::b64::URL_SAFE_NO_PAD;
use crate::error::AuthError;
use crate::ports::{Counters, Revocations, Store};
use crate::roles::{self, Permission};
use crate::token::VerifiedAccess;
use crate::user::{AdminUserView, User};
use serde::Serialize;

/// `GET /auth/admin/users` answer.
#[derive(Debug, Serialize)]
pub struct UserPage {
    pub users: Vec<AdminUserView>,
    pub next_cursor: Option<String>,
}

/// `POST /auth/admin/users/import` answer.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: u32,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub username: String,
    pub code: &'static str,
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// `GET /auth/admin/users?limit=&cursor=&q=`: admin and demo.
    pub async fn list_users(
        &self,
        access: &VerifiedAccess,
        query: &ListUsersQuery,
    ) -> Result<UserPage, AuthError> {
        self.admin(access, Permission::ReadUsers).await?;
        let limit = query.limit() as usize;
        let mut users = self.store.list_users(&query.query).await?;
        let next_cursor = if users.len() > limit {
            users.truncate(limit);
            users.last().map(encode_cursor)
        } else {
            None
        };
        Ok(UserPage { users: users.iter().map(User::admin_view).collect(), next_cursor })
    }

    /// `GET /auth/admin/users/{id}`: admin and demo.
    pub async fn get_user(&self, access: &VerifiedAccess, id: &str) -> Result<AdminUserView, AuthError> {
        self.admin(access, Permission::ReadUsers).await?;
        Ok(self.store.find_user(id).await?.ok_or(AuthError::NotFound)?.admin_view())
    }

    /// `POST /auth/admin/users`: admin; any known role; the password policy applies.
    pub async fn create_user(
        &self,
        access: &VerifiedAccess,
        request: &CreateUserRequest,
    ) -> Result<AdminUserView, AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        let mut user = request.account.clone().into_user(self.config, &request.role, self.now);
        user.number = Some(self.store.create_user(&user, None).await?);
        self.record_admin(access, EventType::AdminUserCreated, Some(&user.id), Detail::default());
        Ok(user.admin_view())
    }

    /// `PATCH /auth/admin/users/{id}`: admin.
    pub async fn update_user(
        &self,
        access: &VerifiedAccess,
        id: &str,
        request: &UpdateUserRequest,
    ) -> Result<AdminUserView, AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        let patch = &request.patch;
        let before = self.store.find_user(id).await?.ok_or(AuthError::NotFound)?;
        self.store.update_user(id, patch, self.now).await?.into_result()?;
        self.record_admin(
            access,
            EventType::AdminUserUpdated,
            Some(id),
            Detail { fields: patch_fields(patch), ..Detail::default() },
        );
        let role_changed = patch.role.as_deref().is_some_and(|r| r != before.role);
        if role_changed || patch.disabled == Some(true) {
            self.end_all_sessions(id, None).await?;
        }
        Ok(self.store.find_user(id).await?.ok_or(AuthError::NotFound)?.admin_view())
    }

    /// `DELETE /auth/admin/users/{id}`: admin; never the last active admin.
    pub async fn delete_user(&self, access: &VerifiedAccess, id: &str) -> Result<(), AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        // The outbox rows of the user and of its live sessions are queued in the delete's batch, before
        // the cascade takes the sessions away; they outlive the user until KV has them.
        let (outcome, sessions) = self.store.delete_user(id, self.now, self.mirror_until()).await?;
        outcome.into_result()?;
        self.record_admin(access, EventType::AdminUserDeleted, Some(id), Detail::default());
        self.mirror_user_revocation(id, &sessions).await;
        Ok(())
    }

    /// `POST /auth/admin/users/{id}/revoke-sessions`: admin.
    pub async fn revoke_sessions(&self, access: &VerifiedAccess, id: &str) -> Result<(), AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        self.store.find_user(id).await?.ok_or(AuthError::NotFound)?;
        let ended = self.end_all_sessions(id, None).await;
        if ended.is_ok() {
            self.record_admin(access, EventType::AdminSessionsRevoked, Some(id), Detail::default());
        }
        ended.map(drop)
    }

    /// `POST /auth/admin/users/import`: admin. What cannot be imported is reported, not fatal; a taken
    /// username or email is found by D1's constraints, one user at a time.
    pub async fn import_users(
        &self,
        access: &VerifiedAccess,
        request: &ImportRequest,
    ) -> Result<ImportReport, AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        let mut report = ImportReport { imported: 0, skipped: Vec::new() };
        for entry in &request.entries {
            let skip = |code| Skipped { username: entry.username.clone(), code };
            match &entry.user {
                Ok(user) => match self.store.create_user(&user.clone().into_user(self.now), None).await {
                    Ok(_) => report.imported += 1,
                    Err(AuthError::UsernameTaken) => report.skipped.push(skip("username_taken")),
                    Err(AuthError::EmailTaken) => report.skipped.push(skip("email_taken")),
                    Err(e) => return Err(e),
                },
                Err(code) => report.skipped.push(skip(code)),
            }
        }
        let skipped = u32::try_from(report.skipped.len()).ok();
        let detail = Detail { count: Some(report.imported), skipped, ..Detail::default() };
        self.record_admin(access, EventType::AdminUsersImported, None, detail);
        Ok(report)
    }
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// The caller's role has `permission` (403 otherwise), and D1 says the caller's session is live
    /// (401 otherwise: KV may not have its revocation yet).
    pub(super) async fn admin(
        &self,
        access: &VerifiedAccess,
        permission: Permission,
    ) -> Result<(), AuthError> {
        roles::require(&access.claims.role, permission)?;
        self.caller(access).await.map(drop)
    }
}

/// The names of the fields an admin change touches (never their values: an email is personal data,
/// the log keeps only that it changed).
fn patch_fields(patch: &crate::ports::UserPatch) -> Vec<&'static str> {
    let given = [
        ("role", patch.role.is_some()),
        ("disabled", patch.disabled.is_some()),
        ("display_name", patch.display_name.is_some()),
        ("email", patch.email.is_some()),
    ];
    given.into_iter().filter(|(_, set)| *set).map(|(name, _)| name).collect()
}

/// The next page starts after this user: `created_at:id`, base64url (opaque to clients).
pub(super) fn encode_cursor(user: &User) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", user.created_at, user.id))
}

pub(super) fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = raw.split_once(':')?;
    Some((at.parse().ok()?, id.to_string()))
}
