//! The use cases, written against the ports. Each takes `now` (unix seconds) from the caller.

use crate::config::Config;
use crate::error::AuthError;
use crate::password::Verification;
use crate::ports::UserStore;
use crate::token::{Subject, VerifiedAccess};
use crate::user::UserView;
use crate::validate::{self, Fields, LoginName};
use serde::Serialize;
use serde_json::{Map, Value};

/// The token response of API.md (field names from RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    pub user: UserView,
}

/// A parsed, validated login request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub name: LoginName,
    pub password: String,
}

impl LoginRequest {
    /// `{username, password}`; `email` is accepted in place of `username`.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let name = f.required_str_any(&["username", "email"]);
        let password = f.required_str("password");
        let name = name.and_then(|n| validate::login_name(n).map_err(|e| f.push(e)).ok());
        if let Some(p) = password {
            if let Err(e) = validate::login_password("password", p) {
                f.push(e);
            }
        }
        f.finish()?;
        match (name, password) {
            (Some(name), Some(password)) => Ok(LoginRequest { name, password: password.to_string() }),
            _ => Err(AuthError::bad_request("The request has invalid fields.")),
        }
    }
}

/// `POST /auth/login`.
///
/// Unknown user and wrong password give the same error after the same hashing work (a dummy hash at
/// the configured cost) [ASVS 6.3.8]; `account_disabled` is only told after a correct password.
pub async fn login(
    config: &Config,
    users: &impl UserStore,
    request: &LoginRequest,
    now: i64,
) -> Result<TokenResponse, AuthError> {
    let user = users.find_by_login(&request.name).await?;
    let Some(user) = user else {
        config.hasher.verify_dummy(&request.password);
        return Err(AuthError::InvalidCredentials);
    };
    let needs_rehash = match config.hasher.verify(&request.password, &user.password_hash) {
        Verification::Match { needs_rehash } => needs_rehash,
        Verification::Mismatch => return Err(AuthError::InvalidCredentials),
        Verification::Unusable => {
            // Log-worthy (a corrupt row), but the client sees what any wrong password gets.
            return Err(AuthError::InvalidCredentials);
        }
    };
    if user.disabled {
        return Err(AuthError::AccountDisabled);
    }
    let new_hash = needs_rehash.then(|| config.hasher.hash(&request.password));
    users.record_login(&user.id, now, new_hash.as_deref()).await?;

    let session_id = crate::random::id();
    let issued = config.tokens.issue(
        &Subject { user_id: &user.id, session_id: &session_id, role: &user.role, username: &user.username },
        now,
    )?;
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        refresh_token: None,
        refresh_expires_in: None,
        user: user.view(),
    })
}

/// `GET /auth/profile`: the caller, read fresh from D1. A deleted or disabled user is 401 even while
/// the token has not expired.
pub async fn profile(users: &impl UserStore, access: &VerifiedAccess) -> Result<UserView, AuthError> {
    match users.find_by_id(&access.claims.sub).await? {
        Some(user) if !user.disabled => Ok(user.view()),
        _ => Err(AuthError::TokenInvalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, config, MemoryUsers};
    use serde_json::json;

    const NOW: i64 = 1_780_000_000;

    fn login_req(name: &str, password: &str) -> LoginRequest {
        LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap()).unwrap()
    }

    #[test]
    fn a_correct_password_returns_a_verifiable_token_and_records_the_login() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        let r = block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).unwrap();
        assert_eq!(r.token_type, "Bearer");
        assert_eq!(r.expires_in, 900);
        assert_eq!(r.user.username, "alice");
        let v = c.tokens.verify(&r.access_token, NOW).unwrap();
        assert_eq!(v.claims.sub, r.user.id);
        assert_eq!(users.get("alice").last_login_at, Some(NOW));
    }

    #[test]
    fn login_by_email_and_by_differently_cased_username_works() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "Alice", "correct horse", "user");
        assert!(block_on(login(&c, &users, &login_req("ALICE", "correct horse"), NOW)).is_ok());
        assert!(block_on(login(&c, &users, &login_req("Alice@Example.com", "correct horse"), NOW)).is_ok());
    }

    #[test]
    fn unknown_user_and_wrong_password_are_the_same_error_after_the_same_hash_work() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        let before = edge_auth_kdf_calls();
        let wrong = block_on(login(&c, &users, &login_req("alice", "wrong"), NOW)).unwrap_err();
        let after_wrong = edge_auth_kdf_calls();
        let unknown = block_on(login(&c, &users, &login_req("mallory", "wrong"), NOW)).unwrap_err();
        let after_unknown = edge_auth_kdf_calls();
        assert_eq!(wrong, AuthError::InvalidCredentials);
        assert_eq!(unknown, AuthError::InvalidCredentials);
        assert_eq!(
            after_wrong - before,
            after_unknown - after_wrong,
            "both paths hash the same number of times"
        );
        assert_eq!(users.get("alice").last_login_at, None);
    }

    #[test]
    fn a_disabled_account_is_only_revealed_after_a_correct_password() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        users.update("alice", |u| u.disabled = true);
        assert_eq!(
            block_on(login(&c, &users, &login_req("alice", "nope"), NOW)).unwrap_err(),
            AuthError::InvalidCredentials
        );
        assert_eq!(
            block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).unwrap_err(),
            AuthError::AccountDisabled
        );
    }

    #[test]
    fn a_hash_below_the_configured_cost_is_upgraded_at_login() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        let weak = crate::password::PasswordHasher::new(1_000).unwrap().hash("correct horse");
        users.update("alice", |u| u.password_hash = weak.clone());
        block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).unwrap();
        let stored = users.get("alice").password_hash;
        assert!(stored.contains(&format!("i={}", c.hasher.iterations())), "{stored}");
        assert!(block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).is_ok());
    }

    #[test]
    fn a_corrupt_stored_hash_is_invalid_credentials_not_a_crash() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        users.update("alice", |u| u.password_hash = "garbage".into());
        assert_eq!(
            block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).unwrap_err(),
            AuthError::InvalidCredentials
        );
    }

    #[test]
    fn login_requests_report_every_bad_field() {
        let parse = |v: serde_json::Value| LoginRequest::parse(v.as_object().unwrap());
        let e = parse(json!({})).unwrap_err();
        let fields: Vec<_> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["username", "password"]);
        let e = parse(json!({"username": ["a"], "password": 1})).unwrap_err();
        assert!(e.field_errors().iter().all(|f| f.code == "invalid_type"));
        let e = parse(json!({"username": "ab", "password": "x"})).unwrap_err();
        assert_eq!(e.field_errors()[0].code, "invalid_length");
        assert!(parse(json!({"email": "a@b.co", "password": "x", "role": "admin"})).is_ok());
    }

    #[test]
    fn the_profile_is_read_fresh_and_refused_for_disabled_or_deleted_users() {
        let c = config();
        let users = MemoryUsers::with_user(&c, "alice", "correct horse", "user");
        let r = block_on(login(&c, &users, &login_req("alice", "correct horse"), NOW)).unwrap();
        let access = c.tokens.verify(&r.access_token, NOW).unwrap();
        users.update("alice", |u| u.display_name = Some("Alice A.".into()));
        assert_eq!(block_on(profile(&users, &access)).unwrap().display_name.as_deref(), Some("Alice A."));
        users.update("alice", |u| u.disabled = true);
        assert_eq!(block_on(profile(&users, &access)).unwrap_err(), AuthError::TokenInvalid);
        users.remove("alice");
        assert_eq!(block_on(profile(&users, &access)).unwrap_err(), AuthError::TokenInvalid);
    }

    fn edge_auth_kdf_calls() -> u64 {
        crate::password::verification_count()
    }
}
