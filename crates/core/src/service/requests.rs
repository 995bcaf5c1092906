//! One typed request per endpoint, parsed from the JSON object body (or the query) with
//! `validate::Fields`: every field error of a body is reported at once, with the field names and codes
//! the API documents. The use cases take these types, never raw JSON.

use super::admin::decode_cursor;
use crate::config::Config;
use crate::error::{AuthError, FieldError};
use crate::ports::{UserPatch, UserQuery};
use crate::user::{PersonalDetails, User};
use crate::validate::{self, Fields, LoginName};
use serde_json::{Map, Value};

/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;
/// Admin user list page sizes.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;
/// Longest search string of the admin user list, in characters (longer ones are cut).
pub const MAX_SEARCH: usize = 100;
/// Most users accepted in one import request: what fits the 16 KiB body limit with real hashes
/// (about 100-160 users); import larger sets in batches.
pub const MAX_IMPORT: usize = 100;

/// The 400 of a request whose fields were checked one by one and all passed `Fields`, yet a value the
/// parser needs is missing: cannot happen, but is an answer rather than a panic.
fn invalid_fields() -> AuthError {
    AuthError::bad_request("The request has invalid fields.")
}

/// `POST /auth/login` `{username | email, password}`.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub name: LoginName,
    pub password: String,
}

impl LoginRequest {
    /// `{username, password}`; `email` is accepted in place of `username`.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let given = f.required_str_any(&["username", "email"]);
        let password = f.required_str("password");
        // Every name given is checked; the first (`username` before `email`) signs in.
        let names: Vec<LoginName> = given
            .into_iter()
            .filter_map(|(field, raw)| validate::login_name_in(field, raw).map_err(|e| f.push(e)).ok())
            .collect();
        let name = names.into_iter().next();
        if let Some(p) = password {
            if let Err(e) = validate::login_password("password", p) {
                f.push(e);
            }
        }
        f.finish()?;
        match (name, password) {
            (Some(name), Some(password)) => Ok(LoginRequest { name, password: password.to_string() }),
            _ => Err(invalid_fields()),
        }
    }
}

/// `POST /auth/refresh` `{refresh_token?}`: absent when the token travels in the cookie instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

impl RefreshRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        Ok(RefreshRequest { refresh_token: optional_refresh_token(body)? })
    }
}

/// `POST /auth/logout` `{refresh_token?}`: another session of the caller to end too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogoutRequest {
    pub refresh_token: Option<String>,
}

impl LogoutRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        Ok(LogoutRequest { refresh_token: optional_refresh_token(body)? })
    }
}

// Passwords and reset tokens must never reach a log line: these requests show every other field.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").field("name", &self.name).field("password", &"<redacted>").finish()
    }
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .finish()
    }
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePasswordRequest").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ResetPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPasswordRequest").finish_non_exhaustive()
    }
}

fn optional_refresh_token(body: &Map<String, Value>) -> Result<Option<String>, AuthError> {
    let mut f = Fields::new(body);
    // Nullable: `null` is "no token in the body" (cookie mode sends it in the cookie).
    let token = f.nullable_str("refresh_token").map(str::to_string);
    f.finish()?;
    Ok(token)
}

/// The fields of a new account (signup and admin creation), the password policy applied.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// Personal details (`first_name`, `last_name`, `phone`, `document_id`), each optional.
    pub details: PersonalDetails,
}

impl NewAccount {
    fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let username =
            f.required_str("username").and_then(|u| validate::username(u).map_err(|e| f.push(e)).ok());
        let password = f.required_str("password");
        let email = f.nullable_str("email").and_then(|e| validate::email(e).map_err(|e| f.push(e)).ok());
        let display_name = f
            .nullable_str("display_name")
            .and_then(|d| display_name(d).map_err(|e| f.push(e)).ok())
            .flatten();
        let mut detail = |name: &str| {
            f.nullable_str(name).and_then(|d| detail_text(name, d).map_err(|e| f.push(e)).ok()).flatten()
        };
        let details = PersonalDetails {
            first_name: detail("first_name"),
            last_name: detail("last_name"),
            phone: detail("phone"),
            document_id: detail("document_id"),
        };
        if let (Some(p), Some(u)) = (password, username.as_deref()) {
            if let Err(e) = config.password_policy.check("password", p, u) {
                f.push(e);
            }
        }
        f.finish()?;
        match (username, password) {
            (Some(username), Some(password)) => {
                Ok(NewAccount { username, password: password.to_string(), email, display_name, details })
            }
            _ => Err(invalid_fields()),
        }
    }

    /// The user to store: a fresh id, the password hashed at the configured cost.
    pub(crate) fn into_user(self, config: &Config, role: &str, now: i64) -> User {
        User {
            id: crate::random::id(),
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            role: role.to_string(),
            password_hash: config.hasher.hash(&self.password),
            disabled: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            number: None,
            details: self.details,
            email_verified_at: None,
            pending_email: None,
            second_factor: false,
            passkeys: false,
        }
    }
}

/// `POST /auth/signup` `{username, password, email?, display_name?}`. A `role` is ignored: signups get
/// `DEFAULT_ROLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupRequest {
    pub account: NewAccount,
}

impl SignupRequest {
    /// `SignupDisabled` comes before any field error, as it always has: with signup off, the body does
    /// not matter. Needs the configuration for the password policy.
    pub fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
        if !config.signup_enabled {
            return Err(AuthError::SignupDisabled);
        }
        Ok(SignupRequest { account: NewAccount::parse(config, body)? })
    }
}

/// `PUT /auth/change-password` `{current_password, new_password}`. The policy for the new password is
/// applied after the current one is verified (a wrong current password must count as a failure first).
#[derive(Clone, PartialEq, Eq)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

impl ChangePasswordRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let current = f.required_str("current_password");
        let new = f.required_str("new_password");
        f.finish()?;
        Ok(ChangePasswordRequest {
            current_password: current.unwrap_or_default().to_string(),
            new_password: new.unwrap_or_default().to_string(),
        })
    }
}

/// `POST /auth/forgot-password` `{email}` or `{username}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgotRequest(pub(super) LoginName);

impl ForgotRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let given = f.required_str_any(&["email", "username"]);
        // Every name given is checked; the first (`email` before `username`) is the one used.
        let names: Vec<LoginName> = given
            .into_iter()
            .filter_map(|(field, raw)| validate::login_name_in(field, raw).map_err(|e| f.push(e)).ok())
            .collect();
        f.finish()?;
        names.into_iter().next().map(ForgotRequest).ok_or_else(invalid_fields)
    }

    /// What the per-address limit counts: the address, or the username case-folded.
    pub(super) fn address(&self) -> String {
        match &self.0 {
            LoginName::Email(e) => e.clone(),
            LoginName::Username(u) => u.to_ascii_lowercase(),
        }
    }
}

/// `POST /auth/reset-password` `{token, new_password}`.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
}

impl ResetPasswordRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let token = f.required_str("token");
        let new = f.required_str("new_password");
        f.finish()?;
        Ok(ResetPasswordRequest {
            token: token.unwrap_or_default().to_string(),
            new_password: new.unwrap_or_default().to_string(),
        })
    }
}

/// `GET /auth/admin/users?limit=&cursor=&q=`.
///
/// The caller's permission is not part of parsing: the Worker checks `Permission::ReadUsers` first, so
/// a caller without it gets 403 and learns nothing from a 400 (the use case checks again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUsersQuery {
    pub(super) query: UserQuery,
}

impl ListUsersQuery {
    /// From the query parameters `limit`, `cursor` and `q` (each absent or empty for the default).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>, search: Option<&str>) -> Result<Self, AuthError> {
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
        // No name, address or display name holds a control character, and D1 would end a LIKE
        // pattern at a NUL (matching unrelated users): such a search is refused, not run.
        if search.is_some_and(|q| q.chars().any(is_search_control)) {
            return Err(AuthError::field(
                "q",
                "invalid_format",
                "`q` must not contain control characters (U+0000-U+001F, U+007F).",
            ));
        }
        let search =
            search.map(str::trim).filter(|q| !q.is_empty()).map(|q| q.chars().take(MAX_SEARCH).collect());
        Ok(ListUsersQuery { query: UserQuery { limit, after, search } })
    }

    pub fn limit(&self) -> u32 {
        self.query.limit
    }
}

/// The characters a search may not hold: the C0 controls and DEL (the documented `q` pattern).
fn is_search_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}')
}

/// `POST /auth/admin/users` `{username, password, role, email?, display_name?}`: any known role, the
/// password policy applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUserRequest {
    pub account: NewAccount,
    pub role: String,
}

impl CreateUserRequest {
    /// The account's field errors and the role's, together.
    pub fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let role = f.required_str("role").and_then(|r| known_role(config, r).map_err(|e| f.push(e)).ok());
        let account = NewAccount::parse(config, body);
        match (account, f.finish()) {
            (Ok(account), Ok(())) => Ok(CreateUserRequest { account, role: role.unwrap_or_default() }),
            (
                Err(AuthError::InvalidRequest { detail, mut errors }),
                Err(AuthError::InvalidRequest { errors: more, .. }),
            ) => {
                errors.extend(more);
                Err(AuthError::InvalidRequest { detail, errors })
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

/// `PATCH /auth/admin/users/{id}` `{role?, disabled?, display_name?, email?}`: only the members given
/// change; `null` clears `display_name` and `email`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateUserRequest {
    pub patch: UserPatch,
}

impl UpdateUserRequest {
    pub fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let mut patch = UserPatch::default();
        if body.contains_key("role") {
            patch.role =
                f.required_str("role").and_then(|r| known_role(config, r).map_err(|e| f.push(e)).ok());
        }
        match body.get("disabled") {
            None => {}
            Some(Value::Bool(b)) => patch.disabled = Some(*b),
            Some(_) => {
                f.push(FieldError::new("disabled", "invalid_type", "`disabled` must be true or false."))
            }
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
        Ok(UpdateUserRequest { patch })
    }
}

/// `POST /auth/admin/users/import` `{users: [{username, email?, role?, display_name?, password_hash}]}`.
/// Only the list itself can fail the request; each entry is judged on its own and, when it cannot be
/// imported, reported with a code instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    pub entries: Vec<ImportEntry>,
}

/// One entry of an import: the username as given (for the report) and the user, or why it is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportEntry {
    pub username: String,
    pub user: Result<ImportedUser, &'static str>,
}

/// A user to import, with the hash of the system it comes from (upgraded at its next login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: String,
    /// `email_verified` of the entry (default false): the old system already verified the address.
    pub email_verified: bool,
}

impl ImportRequest {
    pub fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
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
        let entries = users
            .iter()
            .map(|entry| ImportEntry {
                username: entry.get("username").and_then(Value::as_str).unwrap_or_default().to_string(),
                user: ImportedUser::parse(config, entry),
            })
            .collect();
        Ok(ImportRequest { entries })
    }
}

impl ImportedUser {
    fn parse(config: &Config, entry: &Value) -> Result<Self, &'static str> {
        let obj = entry.as_object().ok_or("invalid_entry")?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str);
        let username = validate::username(text("username").ok_or("invalid_username")?)
            .map_err(|_| "invalid_username")?;
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
        let email_verified = match obj.get("email_verified") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b && email.is_some(),
            Some(_) => return Err("invalid_email_verified"),
        };
        Ok(ImportedUser {
            username,
            email,
            display_name,
            role,
            password_hash: hash.to_string(),
            email_verified,
        })
    }

    pub(crate) fn into_user(self, now: i64) -> User {
        User {
            id: crate::random::id(),
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            role: self.role,
            password_hash: self.password_hash,
            disabled: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            number: None,
            details: Default::default(),
            email_verified_at: self.email_verified.then_some(now),
            pending_email: None,
            second_factor: false,
            passkeys: false,
        }
    }
}

/// A display name: trimmed, at most 100 characters, no control characters; empty means none.
pub(super) fn display_name(raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.chars().count() > DISPLAY_NAME_MAX || s.chars().any(char::is_control) {
        return Err(FieldError::new(
            "display_name",
            "invalid_format",
            format!(
                "`display_name` must be at most {DISPLAY_NAME_MAX} characters without control characters."
            ),
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
}

/// Longest personal detail accepted (a name, a phone number, a document id), in characters.
pub const DETAIL_MAX: usize = 100;

/// A personal detail: trimmed, at most `DETAIL_MAX` characters, no control characters; empty is none.
fn detail_text(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.chars().count() > DETAIL_MAX || s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid_format",
            format!("`{field}` must be at most {DETAIL_MAX} characters without control characters."),
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{config, config_with};
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// (field, code) of every field error, in order.
    fn errors(e: AuthError) -> Vec<(String, &'static str)> {
        assert!(matches!(e, AuthError::InvalidRequest { .. }), "{e:?}");
        e.field_errors().iter().map(|f| (f.field.clone(), f.code)).collect()
    }

    fn pairs(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(f, c)| (f.to_string(), *c)).collect()
    }

    #[test]
    fn login_requests_report_every_bad_field() {
        let parse = |v: Value| LoginRequest::parse(&obj(v));
        let e = parse(json!({})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("username", "missing"), ("password", "missing")]));
        let e = parse(json!({"username": ["a"], "password": 1})).unwrap_err();
        assert!(e.field_errors().iter().all(|f| f.code == "invalid_type"));
        let e = parse(json!({"username": "ab", "password": "x"})).unwrap_err();
        assert_eq!(e.field_errors()[0].code, "invalid_length");
        let e = parse(json!({"username": "alice", "password": ""})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("password", "missing")]));
        let ok = parse(json!({"email": "A@B.co", "password": "x", "role": "admin"})).unwrap();
        assert_eq!(ok, LoginRequest { name: LoginName::Email("a@b.co".into()), password: "x".into() });
    }

    #[test]
    fn a_login_reports_each_name_on_its_own_field() {
        let parse = |v: Value| LoginRequest::parse(&obj(v));
        let e = parse(json!({"email": "", "password": "x"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("email", "invalid_format")]));
        let e = parse(json!({"email": "alice", "password": "x"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("email", "invalid_format")]), "an email field holds an address");
        let e = parse(json!({"email": "a@b.co", "username": null, "password": "x"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("username", "invalid_type")]));
        let e = parse(json!({"username": "alice", "email": 5, "password": "x"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("email", "invalid_type")]));
        let e = parse(json!({"username": "alice", "email": "nope", "password": "x"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("email", "invalid_format")]));
        let ok = parse(json!({"username": "alice", "email": "bob@b.co", "password": "x"})).unwrap();
        assert_eq!(ok.name, LoginName::Username("alice".into()), "username first");
        assert_eq!(
            errors(parse(json!({"password": null})).unwrap_err()),
            pairs(&[("username", "missing"), ("password", "missing")])
        );
    }

    #[test]
    fn debug_output_never_shows_a_password_or_reset_token() {
        let c = config();
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            LoginRequest::parse(&obj(json!({"username": "ana", "password": "hunter2-secret"}))).unwrap(),
            SignupRequest::parse(&c, &obj(json!({"username": "ana", "password": "hunter2-secret-long"})))
                .unwrap(),
            ChangePasswordRequest::parse(&obj(
                json!({"current_password": "hunter2-secret", "new_password": "x"})
            ))
            .unwrap(),
            ResetPasswordRequest::parse(&obj(json!({"token": "reset-token-value", "new_password": "y"})))
                .unwrap(),
        );
        assert!(!shown.contains("hunter2") && !shown.contains("reset-token-value"), "{shown}");
        assert!(shown.contains("ana"), "the rest is still there: {shown}");
    }

    #[test]
    fn refresh_and_logout_take_an_optional_string_token() {
        assert_eq!(RefreshRequest::parse(&obj(json!({}))).unwrap().refresh_token, None);
        assert_eq!(RefreshRequest::parse(&obj(json!({"refresh_token": null}))).unwrap().refresh_token, None);
        assert_eq!(LogoutRequest::parse(&obj(json!({"refresh_token": null}))).unwrap().refresh_token, None);
        assert_eq!(
            LogoutRequest::parse(&obj(json!({"refresh_token": "rt1.x"}))).unwrap().refresh_token.as_deref(),
            Some("rt1.x")
        );
        for body in [json!({"refresh_token": 1}), json!({"refresh_token": ["rt1"]})] {
            let e = RefreshRequest::parse(&obj(body.clone())).unwrap_err();
            assert_eq!(errors(e), pairs(&[("refresh_token", "invalid_type")]), "{body}");
            let e = LogoutRequest::parse(&obj(body)).unwrap_err();
            assert_eq!(errors(e), pairs(&[("refresh_token", "invalid_type")]));
        }
    }

    #[test]
    fn a_signup_gets_the_policy_and_never_a_role() {
        let c = config();
        let body = json!({"username": " ana ", "password": "a long passphrase", "email": "Ana@Example.com",
                          "display_name": "  Ana  ", "role": "admin"});
        let r = SignupRequest::parse(&c, &obj(body)).unwrap();
        assert_eq!(r.account.username, "ana");
        assert_eq!(r.account.email.as_deref(), Some("ana@example.com"));
        assert_eq!(r.account.display_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn signup_field_errors_are_reported_together() {
        let c = config();
        let e = SignupRequest::parse(&c, &obj(json!({}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("username", "missing"), ("password", "missing")]));
        let body = json!({"username": "ana", "password": "short", "email": "nope", "display_name": 1});
        let e = SignupRequest::parse(&c, &obj(body)).unwrap_err();
        let fields: Vec<String> = errors(e).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["email", "display_name", "password"]);
        let e = SignupRequest::parse(&c, &obj(json!({"username": "a b", "password": "a long passphrase"})));
        assert_eq!(errors(e.unwrap_err()), pairs(&[("username", "invalid_format")]));
        let long = "x".repeat(DISPLAY_NAME_MAX + 1);
        let body = json!({"username": "ana", "password": "a long passphrase", "display_name": long});
        assert_eq!(
            errors(SignupRequest::parse(&c, &obj(body)).unwrap_err()),
            pairs(&[("display_name", "invalid_format")])
        );
        let body = json!({"username": "ana", "password": "a long passphrase", "display_name": "a\u{7}b"});
        assert!(SignupRequest::parse(&c, &obj(body)).is_err(), "control characters");
    }

    #[test]
    fn signup_disabled_comes_before_any_field_error() {
        let c = config_with(&[("SIGNUP_ENABLED", "false")]);
        assert_eq!(SignupRequest::parse(&c, &obj(json!({}))).unwrap_err(), AuthError::SignupDisabled);
        let body = json!({"username": "ana", "password": "a long passphrase"});
        assert_eq!(SignupRequest::parse(&c, &obj(body)).unwrap_err(), AuthError::SignupDisabled);
    }

    #[test]
    fn change_and_reset_need_both_of_their_fields_as_strings() {
        let e = ChangePasswordRequest::parse(&obj(json!({}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("current_password", "missing"), ("new_password", "missing")]));
        let e = ChangePasswordRequest::parse(&obj(json!({"current_password": 1, "new_password": "x"})));
        assert_eq!(errors(e.unwrap_err()), pairs(&[("current_password", "invalid_type")]));
        let ok = ChangePasswordRequest::parse(&obj(json!({"current_password": " a ", "new_password": "b"})));
        assert_eq!(ok.unwrap().current_password, " a ", "passwords are never trimmed");
        let e = ResetPasswordRequest::parse(&obj(json!({"new_password": null}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("token", "missing"), ("new_password", "missing")]));
        let e = ResetPasswordRequest::parse(&obj(json!({"token": {}, "new_password": "x"}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("token", "invalid_type")]));
        let ok = ResetPasswordRequest::parse(&obj(json!({"token": "t", "new_password": "n"}))).unwrap();
        assert_eq!((ok.token.as_str(), ok.new_password.as_str()), ("t", "n"));
    }

    #[test]
    fn forgot_requests_name_an_address_or_a_username() {
        let parse = |v: Value| ForgotRequest::parse(&obj(v));
        assert_eq!(parse(json!({"email": "Ana@Example.com"})).unwrap().address(), "ana@example.com");
        assert_eq!(parse(json!({"username": "Ana"})).unwrap().address(), "ana");
        assert_eq!(errors(parse(json!({})).unwrap_err()), pairs(&[("email", "missing")]));
        assert_eq!(
            errors(parse(json!({"email": "nope"})).unwrap_err()),
            pairs(&[("email", "invalid_format")])
        );
        assert_eq!(
            errors(parse(json!({"username": "a"})).unwrap_err()),
            pairs(&[("username", "invalid_length")])
        );
        assert_eq!(
            errors(parse(json!({"username": "a@"})).unwrap_err()),
            pairs(&[("username", "invalid_format")])
        );
        assert_eq!(errors(parse(json!({"email": 1})).unwrap_err()), pairs(&[("email", "invalid_type")]));
        for wrong in [json!({}), json!(null), json!(3)] {
            let e = parse(json!({"email": "ana@example.com", "username": wrong})).unwrap_err();
            assert_eq!(errors(e), pairs(&[("username", "invalid_type")]), "{wrong}");
        }
        let e = parse(json!({"email": "ana@example.com", "username": "a"})).unwrap_err();
        assert_eq!(errors(e), pairs(&[("username", "invalid_length")]), "both are checked");
        assert_eq!(errors(parse(json!({"email": ""})).unwrap_err()), pairs(&[("email", "invalid_format")]));
    }

    #[test]
    fn a_search_with_a_control_character_is_refused_on_q() {
        for bad in ["\u{0}zzz", "ana\u{0}", "a\tb", "\n", "x\u{1f}", "del\u{7f}"] {
            let e = ListUsersQuery::parse(None, None, Some(bad)).unwrap_err();
            assert_eq!(errors(e), pairs(&[("q", "invalid_format")]), "{bad:?}");
        }
        for ok in ["ana", "  ana  ", "é\u{80}", "a b"] {
            assert!(ListUsersQuery::parse(None, None, Some(ok)).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn list_queries_bound_the_page_and_check_the_cursor() {
        let q = ListUsersQuery::parse(None, None, None).unwrap();
        assert_eq!(q.query, UserQuery { limit: DEFAULT_PAGE, after: None, search: None });
        let q = ListUsersQuery::parse(Some("100"), Some(""), Some("  ana  ")).unwrap();
        assert_eq!((q.limit(), q.query.search.as_deref()), (100, Some("ana")));
        let long = "é".repeat(MAX_SEARCH + 5);
        let q = ListUsersQuery::parse(Some(""), None, Some(&long)).unwrap();
        assert_eq!(q.query.search.unwrap().chars().count(), MAX_SEARCH);
        assert_eq!(ListUsersQuery::parse(None, None, Some("   ")).unwrap().query.search, None);
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            let e = ListUsersQuery::parse(Some(bad), None, None).unwrap_err();
            assert_eq!(errors(e), pairs(&[("limit", "invalid_value")]), "{bad}");
        }
        for bad in ["!!", "bm90LWEtY3Vyc29y", "Onx4"] {
            let e = ListUsersQuery::parse(None, Some(bad), None).unwrap_err();
            assert_eq!(errors(e), pairs(&[("cursor", "invalid_value")]), "{bad}");
        }
        let user = crate::user::User {
            id: "u1".into(),
            username: "a".into(),
            email: None,
            display_name: None,
            role: "user".into(),
            password_hash: String::new(),
            disabled: false,
            created_at: 1_700_000_000,
            updated_at: 0,
            last_login_at: None,
            number: None,
            details: Default::default(),
            email_verified_at: None,
            pending_email: None,
            second_factor: false,
            passkeys: false,
        };
        let cursor = super::super::admin::encode_cursor(&user);
        let q = ListUsersQuery::parse(None, Some(&cursor), None).unwrap();
        assert_eq!(q.query.after, Some((1_700_000_000, "u1".into())));
    }

    #[test]
    fn a_created_user_needs_a_known_role_and_reports_it_with_the_account_errors() {
        let c = config_with(&[("ROLES", "cajero")]);
        let body = json!({"username": "caja1", "password": "a long passphrase", "role": "cajero"});
        let r = CreateUserRequest::parse(&c, &obj(body)).unwrap();
        assert_eq!((r.account.username.as_str(), r.role.as_str()), ("caja1", "cajero"));
        let e =
            CreateUserRequest::parse(&c, &obj(json!({"username": "caja1", "password": "x"}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("password", "too_short"), ("role", "missing")]));
        let body = json!({"username": "c", "password": "a long passphrase", "role": "root"});
        let e = CreateUserRequest::parse(&c, &obj(body)).unwrap_err();
        assert_eq!(errors(e), pairs(&[("username", "invalid_length"), ("role", "unknown_role")]));
        let body = json!({"username": "caja1", "password": "a long passphrase", "role": "ghost"});
        let e = CreateUserRequest::parse(&c, &obj(body)).unwrap_err();
        assert_eq!(errors(e), pairs(&[("role", "unknown_role")]));
        assert!(e_message(&c).contains("admin, user, demo, cajero"));
    }

    fn e_message(c: &Config) -> String {
        let body = json!({"username": "caja1", "password": "a long passphrase", "role": "ghost"});
        CreateUserRequest::parse(c, &obj(body)).unwrap_err().field_errors()[0].message.clone()
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let c = config();
        assert_eq!(UpdateUserRequest::parse(&c, &obj(json!({}))).unwrap().patch, UserPatch::default());
        let body = json!({"role": "demo", "disabled": true, "display_name": null, "email": "B@C.de"});
        let p = UpdateUserRequest::parse(&c, &obj(body)).unwrap().patch;
        assert_eq!(
            p,
            UserPatch {
                role: Some("demo".into()),
                disabled: Some(true),
                display_name: Some(None),
                email: Some(Some("b@c.de".into()))
            }
        );
        let p =
            UpdateUserRequest::parse(&c, &obj(json!({"email": null, "display_name": " X "}))).unwrap().patch;
        assert_eq!((p.email, p.display_name), (Some(None), Some(Some("X".into()))));
    }

    #[test]
    fn update_field_errors_are_reported_together() {
        let c = config();
        let body = json!({"role": "ghost", "disabled": "yes", "display_name": 5, "email": "nope"});
        let e = UpdateUserRequest::parse(&c, &obj(body)).unwrap_err();
        assert_eq!(
            errors(e),
            pairs(&[
                ("role", "unknown_role"),
                ("disabled", "invalid_type"),
                ("display_name", "invalid_type"),
                ("email", "invalid_format")
            ])
        );
        let e = UpdateUserRequest::parse(&c, &obj(json!({"role": null, "email": 1}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("role", "missing"), ("email", "invalid_type")]));
    }

    #[test]
    fn an_import_list_must_be_an_array_of_at_most_the_maximum() {
        let c = config();
        let e = ImportRequest::parse(&c, &obj(json!({}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("users", "missing")]));
        let e = ImportRequest::parse(&c, &obj(json!({"users": {"username": "a"}}))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("users", "invalid_type")]));
        let many: Vec<Value> = (0..=MAX_IMPORT).map(|i| json!({"username": format!("user{i}")})).collect();
        let e = ImportRequest::parse(&c, &obj(json!({ "users": many }))).unwrap_err();
        assert_eq!(errors(e), pairs(&[("users", "too_many")]));
        assert!(ImportRequest::parse(&c, &obj(json!({ "users": many[..MAX_IMPORT] }))).is_ok());
        assert_eq!(ImportRequest::parse(&c, &obj(json!({"users": []}))).unwrap().entries, vec![]);
    }

    #[test]
    fn each_import_entry_is_judged_on_its_own() {
        let c = config_with(&[("ROLES", "cajero")]);
        let sha = format!("sha256:{}", "ab".repeat(32));
        let body = json!({"users": [
            {"username": "old1", "password_hash": sha, "email": "Old1@Example.com", "role": "cajero", "display_name": " Old "},
            {"username": "old2", "password_hash": sha},
            "not an object",
            {"username": "x", "password_hash": sha},
            {"password_hash": sha},
            {"username": "old3", "password_hash": sha, "email": "nope"},
            {"username": "old4", "password_hash": sha, "email": 7},
            {"username": "old5", "password_hash": sha, "role": "root"},
            {"username": "old6", "password_hash": "plaintext"},
            {"username": "old7"},
        ]});
        let entries = ImportRequest::parse(&c, &obj(body)).unwrap().entries;
        let first = entries[0].user.clone().unwrap();
        assert_eq!(
            (first.email.as_deref(), first.role.as_str(), first.display_name.as_deref()),
            (Some("old1@example.com"), "cajero", Some("Old"))
        );
        assert_eq!(entries[1].user.as_ref().unwrap().role, "user", "the default role");
        let verdicts: Vec<(&str, Result<(), &str>)> = entries
            .iter()
            .map(|e| (e.username.as_str(), e.user.as_ref().map(drop).map_err(|c| *c)))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("old1", Ok(())),
                ("old2", Ok(())),
                ("", Err("invalid_entry")),
                ("x", Err("invalid_username")),
                ("", Err("invalid_username")),
                ("old3", Err("invalid_email")),
                ("old4", Err("invalid_email")),
                ("old5", Err("unknown_role")),
                ("old6", Err("unsupported_hash")),
                ("old7", Err("unsupported_hash")),
            ]
        );
    }
}
