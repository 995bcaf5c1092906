//! The audit log of auth events: which event a use case records, and with which detail. The use cases
//! call `Audit::record`, which only buffers (no I/O on the request's path); the Worker writes the
//! request's events after the response, in one D1 batch, adding what only it knows (the request id,
//! the client IP and user agent).
//!
//! An event's `detail` is a small JSON object built only here, from fixed keys: a reason code, the
//! method, the names of changed fields, counts. Never a password, token, code, link or secret, and
//! never what a client typed as a login name (a password typed into the username field is a classic
//! way secrets reach logs) [OWASP ASVS 5.0 16.2.5, 16.3.1; OWASP Logging Cheat Sheet "Data to exclude"].

use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::RefCell;

/// Every kind of event, by its stored name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    LoginSucceeded,
    LoginFailed,
    PasskeyLoginSucceeded,
    PasskeyLoginFailed,
    MfaSucceeded,
    MfaFailed,
    Logout,
    LogoutAll,
    SessionEnded,
    RefreshReuseDetected,
    Signup,
    PasswordChanged,
    PasswordChangeFailed,
    PasswordReset,
    TotpEnabled,
    TotpDisabled,
    RecoveryCodesRegenerated,
    PasskeyRegistered,
    PasskeyRenamed,
    PasskeyRemoved,
    EmailChangeRequested,
    EmailVerified,
    AdminUserCreated,
    AdminUserUpdated,
    AdminUserDeleted,
    AdminUsersImported,
    AdminSessionsRevoked,
    AdminMfaReset,
}

impl EventType {
    pub const ALL: [EventType; 28] = [
        EventType::LoginSucceeded,
        EventType::LoginFailed,
        EventType::PasskeyLoginSucceeded,
        EventType::PasskeyLoginFailed,
        EventType::MfaSucceeded,
        EventType::MfaFailed,
        EventType::Logout,
        EventType::LogoutAll,
        EventType::SessionEnded,
        EventType::RefreshReuseDetected,
        EventType::Signup,
        EventType::PasswordChanged,
        EventType::PasswordChangeFailed,
        EventType::PasswordReset,
        EventType::TotpEnabled,
        EventType::TotpDisabled,
        EventType::RecoveryCodesRegenerated,
        EventType::PasskeyRegistered,
        EventType::PasskeyRenamed,
        EventType::PasskeyRemoved,
        EventType::EmailChangeRequested,
        EventType::EmailVerified,
        EventType::AdminUserCreated,
        EventType::AdminUserUpdated,
        EventType::AdminUserDeleted,
        EventType::AdminUsersImported,
        EventType::AdminSessionsRevoked,
        EventType::AdminMfaReset,
    ];

    /// The sign-in steps a user sees in `GET /auth/me/sign-ins`.
    pub const SIGN_INS: [EventType; 6] = [
        EventType::LoginSucceeded,
        EventType::LoginFailed,
        EventType::PasskeyLoginSucceeded,
        EventType::PasskeyLoginFailed,
        EventType::MfaSucceeded,
        EventType::MfaFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LoginSucceeded => "login_succeeded",
            EventType::LoginFailed => "login_failed",
            EventType::PasskeyLoginSucceeded => "passkey_login_succeeded",
            EventType::PasskeyLoginFailed => "passkey_login_failed",
            EventType::MfaSucceeded => "mfa_succeeded",
            EventType::MfaFailed => "mfa_failed",
            EventType::Logout => "logout",
            EventType::LogoutAll => "logout_all",
            EventType::SessionEnded => "session_ended",
            EventType::RefreshReuseDetected => "refresh_reuse_detected",
            EventType::Signup => "signup",
            EventType::PasswordChanged => "password_changed",
            EventType::PasswordChangeFailed => "password_change_failed",
            EventType::PasswordReset => "password_reset",
            EventType::TotpEnabled => "totp_enabled",
            EventType::TotpDisabled => "totp_disabled",
            EventType::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            EventType::PasskeyRegistered => "passkey_registered",
            EventType::PasskeyRenamed => "passkey_renamed",
            EventType::PasskeyRemoved => "passkey_removed",
            EventType::EmailChangeRequested => "email_change_requested",
            EventType::EmailVerified => "email_verified",
            EventType::AdminUserCreated => "admin_user_created",
            EventType::AdminUserUpdated => "admin_user_updated",
            EventType::AdminUserDeleted => "admin_user_deleted",
            EventType::AdminUsersImported => "admin_users_imported",
            EventType::AdminSessionsRevoked => "admin_sessions_revoked",
            EventType::AdminMfaReset => "admin_mfa_reset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the event is a sign-in step that succeeded (for the user's list).
    pub fn succeeded(self) -> bool {
        matches!(self, EventType::LoginSucceeded | EventType::PasskeyLoginSucceeded | EventType::MfaSucceeded)
    }
}

/// One event as a use case records it. Time, request id, IP and user agent are the request's.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub kind: EventType,
    pub at: i64,
    /// Whom the event is about (unknown for a failed login of an unknown name).
    pub user_id: Option<String>,
    /// Who did it: the user, or the acting admin.
    pub actor_id: Option<String>,
    pub session_id: Option<String>,
    pub detail: Detail,
}

/// The allowed contents of `detail`: fixed keys, values the core chose (codes, field names, counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// The refusal's error code (`invalid_credentials`, `rate_limited`, `mfa_required`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// How the step was made: `password`, `passkey`, `totp`, `recovery_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// The names of the fields an admin (or the user) changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
    /// How many: users imported, sessions ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// How many import entries were skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u32>,
}

impl Detail {
    pub fn reason(code: &'static str) -> Self {
        Detail { reason: Some(code), ..Detail::default() }
    }

    pub fn method(method: &'static str) -> Self {
        Detail { method: Some(method), ..Detail::default() }
    }

    pub fn with_method(self, method: &'static str) -> Self {
        Detail { method: Some(method), ..self }
    }

    /// The JSON text stored in `audit_events.detail`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Where the use cases put their events: synchronous, no I/O (the Worker writes them after the
/// response).
pub trait Audit {
    fn record(&self, event: AuditEvent);
}

/// The events of one request, kept until the Worker writes them (and in the core's tests).
#[derive(Debug, Default)]
pub struct AuditBuffer(RefCell<Vec<AuditEvent>>);

impl AuditBuffer {
    /// Takes every event recorded so far.
    pub fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut self.0.borrow_mut())
    }

    /// The events recorded so far (tests).
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0.borrow().clone()
    }
}

impl Audit for AuditBuffer {
    fn record(&self, event: AuditEvent) {
        self.0.borrow_mut().push(event);
    }
}

/// What the request adds to each of its events (the Worker knows it, the core does not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An event as stored: `id` grows with every insert, so it orders the log (newest first is
/// `id DESC`) and is the keyset pagination's cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    pub session_id: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The stored JSON text of the detail.
    pub detail: String,
}

/// A page request of the audit log: newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub limit: u32,
    /// Only events with a smaller id (the cursor).
    pub before_id: Option<i64>,
    pub user_id: Option<String>,
    /// Any of these types (empty: every type).
    pub kinds: Vec<EventType>,
    /// Only events at or after this time (unix seconds).
    pub since: Option<i64>,
}

/// The detail as a JSON value (an unreadable stored one shows as `{}`).
pub fn detail_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_from_its_name_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert!(names.insert(t.as_str()), "{t:?}");
        }
        assert_eq!(EventType::parse("LOGIN_SUCCEEDED"), None);
        assert_eq!(EventType::parse(""), None);
    }

    #[test]
    fn a_detail_shows_only_what_was_set() {
        assert_eq!(Detail::default().to_json(), "{}");
        assert_eq!(Detail::reason("rate_limited").to_json(), r#"{"reason":"rate_limited"}"#);
        let d = Detail { fields: vec!["role", "disabled"], ..Detail::method("password") };
        assert_eq!(d.to_json(), r#"{"method":"password","fields":["role","disabled"]}"#);
        assert_eq!(detail_value("not json"), serde_json::json!({}));
        assert_eq!(detail_value("[1]"), serde_json::json!({}));
    }

    #[test]
    fn a_buffer_hands_its_events_over_once() {
        let b = AuditBuffer::default();
        let e = AuditEvent {
            kind: EventType::Logout,
            at: 1,
            user_id: None,
            actor_id: None,
            session_id: None,
            detail: Detail::default(),
        };
        b.record(e.clone());
        assert_eq!(b.take(), vec![e]);
        assert!(b.take().is_empty());
    }
}
