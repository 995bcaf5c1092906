//! The admin API: `admin` may do everything, `demo` may read, every other role gets 403 [ASVS 7.4.2,
//! 7.4.5]. Disabling, deleting or changing the role of a user ends its sessions and outstanding
//! access tokens; the last active admin can never be demoted, disabled or deleted.

use super::accounts::{display_name, NewAccount};
use super::revocation_ttl;
use super::sessions::{end_all_sessions, MAX_SESSION_DENYLIST_WRITES};
use crate::b64::URL_SAFE_NO_PAD;
use crate::config::Config;
use crate::error::{AuthError, FieldError};
use crate::ports::{Revocations, Store, UserPatch, UserQuery};
use crate::roles::{self, Permission};
use crate::token::VerifiedAccess;
use crate::user::{AdminUserView, User};
use crate::validate::{self, Fields};
use serde::Serialize;
use serde_json::{Map, Value};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;
/// Most users accepted in one import request: what fits the 16 KiB body limit with real hashes
/// (about 100-160 users); import larger sets in batches.
pub const MAX_IMPORT: usize = 100;

/// `GET /auth/admin/users` answer.
#[derive(Debug, Serialize)]
pub struct UserPage {
    pub users: Vec<AdminUserView>,
    pub next_cursor: Option<String>,
}

/// `GET /auth/admin/users?limit=&cursor=&q=`: admin and demo.
pub async fn list_users(
    store: &impl Store,
    access: &VerifiedAccess,
    limit: Option<&str>,
    cursor: Option<&str>,
    search: Option<&str>,
) -> Result<UserPage, AuthError> {
    roles::require(&access.claims.role, Permission::ReadUsers)?;
    let limit = match limit {
        None | Some("") => DEFAULT_PAGE,
        Some(v) => v.parse::<u32>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
            AuthError::field(
                "limit",
                "invalid_value",
                format!("`limit` must be a number from 1 to {MAX_PAGE}."),
            )
        })?,
    };
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            AuthError::field("cursor", "invalid_value", "`cursor` is not a cursor returned by this API.")
        })?),
    };
    let search = search.map(str::trim).filter(|q| !q.is_empty()).map(|q| q.chars().take(100).collect());
    let mut users = store.list_users(&UserQuery { limit, after, search }).await?;
    let next_cursor = if users.len() > limit as usize {
        users.truncate(limit as usize);
        users.last().map(encode_cursor)
    } else {
        None
    };
    Ok(UserPage { users: users.iter().map(User::admin_view).collect(), next_cursor })
}

/// `GET /auth/admin/users/{id}`: admin and demo.
pub async fn get_user(
    store: &impl Store,
    access: &VerifiedAccess,
    id: &str,
) -> Result<AdminUserView, AuthError> {
    roles::require(&access.claims.role, Permission::ReadUsers)?;
    Ok(store.find_user(id).await?.ok_or(AuthError::NotFound)?.admin_view())
}

/// `POST /auth/admin/users`: admin; any known role; the password policy applies.
pub async fn create_user(
    config: &Config,
    store: &impl Store,
    access: &VerifiedAccess,
    body: &Map<String, Value>,
    now: i64,
) -> Result<AdminUserView, AuthError> {
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let mut f = Fields::new(body);
    let role = f.required_str("role").and_then(|r| known_role(config, r).map_err(|e| f.push(e)).ok());
    let account = NewAccount::parse(config, body);
    let role_result = f.finish();
    let (account, role) = match (account, role_result) {
        (Ok(a), Ok(())) => (a, role.unwrap_or_default()),
        (
            Err(AuthError::InvalidRequest { detail, mut errors }),
            Err(AuthError::InvalidRequest { errors: more, .. }),
        ) => {
            errors.extend(more);
            return Err(AuthError::InvalidRequest { detail, errors });
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let user = account.into_user(config, &role, now);
    store.create_user(&user, None).await?;
    Ok(user.admin_view())
}

/// `PATCH /auth/admin/users/{id}` `{role?, disabled?, display_name?, email?}`: admin.
pub async fn update_user(
    config: &Config,
    store: &impl Store,
    revocations: &impl Revocations,
    access: &VerifiedAccess,
    id: &str,
    body: &Map<String, Value>,
    now: i64,
) -> Result<AdminUserView, AuthError> {
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let patch = parse_patch(config, body)?;
    let before = store.find_user(id).await?.ok_or(AuthError::NotFound)?;
    store.update_user(id, &patch, now).await?.into_result()?;
    let role_changed = patch.role.as_deref().is_some_and(|r| r != before.role);
    if role_changed || patch.disabled == Some(true) {
        end_all_sessions(config, store, revocations, id, None, now).await?;
    }
    Ok(store.find_user(id).await?.ok_or(AuthError::NotFound)?.admin_view())
}

/// `DELETE /auth/admin/users/{id}`: admin; never the last active admin.
pub async fn delete_user(
    config: &Config,
    store: &impl Store,
    revocations: &impl Revocations,
    access: &VerifiedAccess,
    id: &str,
    now: i64,
) -> Result<(), AuthError> {
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    // Listed before the delete cascades them away, so their tokens can be denylisted too.
    let sessions: Vec<String> = store
        .list_sessions(id, now)
        .await?
        .into_iter()
        .map(|s| s.id)
        .take(MAX_SESSION_DENYLIST_WRITES)
        .collect();
    store.delete_user(id).await?.into_result()?;
    revocations.revoke_user_before(id, now, revocation_ttl(config)).await?;
    revocations.revoke_sessions(&sessions, revocation_ttl(config)).await
}

/// `POST /auth/admin/users/{id}/revoke-sessions`: admin.
pub async fn revoke_sessions(
    config: &Config,
    store: &impl Store,
    revocations: &impl Revocations,
    access: &VerifiedAccess,
    id: &str,
    now: i64,
) -> Result<(), AuthError> {
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    store.find_user(id).await?.ok_or(AuthError::NotFound)?;
    end_all_sessions(config, store, revocations, id, None, now).await
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

/// `POST /auth/admin/users/import` `{users: [{username, email?, role?, password_hash}]}`: admin.
/// Each user is validated on its own; what cannot be imported is reported, not fatal.
pub async fn import_users(
    config: &Config,
    store: &impl Store,
    access: &VerifiedAccess,
    body: &Map<String, Value>,
    now: i64,
) -> Result<ImportReport, AuthError> {
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let users = match body.get("users") {
        Some(Value::Array(users)) if users.len() <= MAX_IMPORT => users,
        Some(Value::Array(_)) => {
            return Err(AuthError::field(
                "users",
                "too_many",
                format!("At most {MAX_IMPORT} users per request."),
            ))
        }
        Some(_) => return Err(AuthError::field("users", "invalid_type", "`users` must be an array.")),
        None => return Err(AuthError::field("users", "missing", "`users` is required.")),
    };
    let mut report = ImportReport { imported: 0, skipped: Vec::new() };
    for entry in users {
        let name = entry.get("username").and_then(Value::as_str).unwrap_or_default().to_string();
        match import_one(config, entry, now) {
            Ok(user) => match store.create_user(&user, None).await {
                Ok(()) => report.imported += 1,
                Err(AuthError::UsernameTaken) => {
                    report.skipped.push(Skipped { username: name, code: "username_taken" })
                }
                Err(AuthError::EmailTaken) => {
                    report.skipped.push(Skipped { username: name, code: "email_taken" })
                }
                Err(e) => return Err(e),
            },
            Err(code) => report.skipped.push(Skipped { username: name, code }),
        }
    }
    Ok(report)
}

fn import_one(config: &Config, entry: &Value, now: i64) -> Result<User, &'static str> {
    let obj = entry.as_object().ok_or("invalid_entry")?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    let username =
        validate::username(text("username").ok_or("invalid_username")?).map_err(|_| "invalid_username")?;
    let email = match obj.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(validate::email(e).map_err(|_| "invalid_email")?),
        Some(_) => return Err("invalid_email"),
    };
    let role = match text("role") {
        None => config.default_role.clone(),
        Some(r) if config.knows_role(r) => r.to_string(),
        Some(_) => return Err("unknown_role"),
    };
    let hash = text("password_hash").ok_or("unsupported_hash")?;
    crate::password::check_importable(hash)?;
    let display_name = text("display_name").and_then(|d| display_name(d).ok().flatten());
    Ok(User {
        id: crate::random::id(),
        username,
        email,
        display_name,
        role,
        password_hash: hash.to_string(),
        disabled: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    })
}

fn known_role(config: &Config, role: &str) -> Result<String, FieldError> {
    if config.knows_role(role) {
        Ok(role.to_string())
    } else {
        Err(FieldError::new(
            "role",
            "unknown_role",
            format!("`role` must be one of: {}.", config.roles.join(", ")),
        ))
    }
}

fn parse_patch(config: &Config, body: &Map<String, Value>) -> Result<UserPatch, AuthError> {
    let mut f = Fields::new(body);
    let mut patch = UserPatch::default();
    if body.contains_key("role") {
        patch.role = f.required_str("role").and_then(|r| known_role(config, r).map_err(|e| f.push(e)).ok());
    }
    match body.get("disabled") {
        None => {}
        Some(Value::Bool(b)) => patch.disabled = Some(*b),
        Some(_) => f.push(FieldError::new("disabled", "invalid_type", "`disabled` must be true or false.")),
    }
    match body.get("display_name") {
        None => {}
        Some(Value::Null) => patch.display_name = Some(None),
        Some(Value::String(d)) => match display_name(d) {
            Ok(d) => patch.display_name = Some(d),
            Err(e) => f.push(e),
        },
        Some(_) => f.push(FieldError::new(
            "display_name",
            "invalid_type",
            "`display_name` must be a string or null.",
        )),
    }
    match body.get("email") {
        None => {}
        Some(Value::Null) => patch.email = Some(None),
        Some(Value::String(e)) => match validate::email(e) {
            Ok(e) => patch.email = Some(Some(e)),
            Err(err) => f.push(err),
        },
        Some(_) => f.push(FieldError::new("email", "invalid_type", "`email` must be a string or null.")),
    }
    f.finish()?;
    Ok(patch)
}

fn encode_cursor(user: &User) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", user.created_at, user.id))
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = raw.split_once(':')?;
    Some((at.parse().ok()?, id.to_string()))
}
