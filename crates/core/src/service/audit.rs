//! The audit log's use cases: recording (every other use case calls `record_*`, which buffers), the
//! admin's reading (`GET /auth/admin/events`), the user's own recent sign-ins (`GET /auth/me/sign-ins`)
//! and the retention's pruning (the scheduled handler).

use super::Auth;
use crate::audit::{detail_value, AuditEvent, Detail, EventQuery, EventType, StoredEvent};
use crate::b64::URL_SAFE_NO_PAD;
use crate::error::{AuthError, FieldError};
use crate::ports::{Counters, Revocations, Store};
use crate::roles::Permission;
use crate::token::VerifiedAccess;
use crate::user::rfc3339;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;

/// Audit log page sizes.
pub const DEFAULT_EVENTS_PAGE: u32 = 50;
pub const MAX_EVENTS_PAGE: u32 = 100;
/// How many sign-ins `GET /auth/me/sign-ins` shows.
pub const SIGN_IN_LIST: u32 = 20;
/// At most this many expired events are deleted per scheduled run (one bounded statement, so a large
/// backlog after a retention change is worked off over several runs, never in one long write).
pub const PRUNE_BATCH: u32 = 1000;
/// Longest `user` filter accepted (our ids are 22 characters).
const MAX_USER_FILTER: usize = 64;

/// What a sign-in use case learned on its way, for its event: whose account, which session.
#[derive(Debug, Default)]
pub(super) struct Trail {
    user: RefCell<Option<String>>,
    session: RefCell<Option<String>>,
}

impl Trail {
    pub(super) fn user(&self, id: &str) {
        *self.user.borrow_mut() = Some(id.to_string());
    }

    pub(super) fn session(&self, id: &str) {
        *self.session.borrow_mut() = Some(id.to_string());
    }
}

/// One event of `GET /auth/admin/events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    pub session_id: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Value,
}

impl From<StoredEvent> for EventView {
    fn from(e: StoredEvent) -> Self {
        EventView {
            id: e.id,
            at: rfc3339(e.at),
            detail: detail_value(&e.detail),
            kind: e.kind,
            user_id: e.user_id,
            actor_id: e.actor_id,
            session_id: e.session_id,
            request_id: e.request_id,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

/// `GET /auth/admin/events` answer.
#[derive(Debug, Serialize)]
pub struct EventPage {
    pub events: Vec<EventView>,
    pub next_cursor: Option<String>,
}

/// One entry of `GET /auth/me/sign-ins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignInView {
    pub at: String,
    /// `password`, `passkey`, `totp`, `recovery_code`.
    pub method: String,
    /// The step was accepted. A correct password whose second step is pending is `success: false`
    /// with `reason: mfa_required`.
    pub success: bool,
    pub reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignInList {
    pub sign_ins: Vec<SignInView>,
}

/// `GET /auth/admin/events?user=&type=&since=&cursor=&limit=`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsQuery(pub(super) EventQuery);

impl EventsQuery {
    /// Each parameter absent or empty for no filter; every bad one is reported at once.
    pub fn parse(
        user: Option<&str>,
        kind: Option<&str>,
        since: Option<&str>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, AuthError> {
        let mut errors = Vec::new();
        let mut given = |name: &str, v: Option<&str>| -> Option<String> {
            let v = v.filter(|v| !v.is_empty())?;
            if v.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    name,
                    "invalid_value",
                    format!("`{name}` must not hold control characters."),
                ));
                return None;
            }
            Some(v.to_string())
        };
        let (user, kind, since, cursor, limit) = (
            given("user", user),
            given("type", kind),
            given("since", since),
            given("cursor", cursor),
            given("limit", limit),
        );
        let mut query = EventQuery {
            limit: DEFAULT_EVENTS_PAGE,
            before_id: None,
            user_id: None,
            kinds: Vec::new(),
            since: None,
        };
        if let Some(u) = user {
            // User ids are base64url (`crate::random::id`).
            let shaped = u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if u.chars().count() > MAX_USER_FILTER || !shaped {
                errors.push(FieldError::new("user", "invalid_value", "`user` is not a user id."));
            } else {
                query.user_id = Some(u);
            }
        }
        if let Some(k) = kind {
            // A comma-separated list of types.
            match k.split(',').map(|t| EventType::parse(t.trim())).collect::<Option<Vec<_>>>() {
                Some(kinds) => query.kinds = kinds,
                None => errors.push(FieldError::new(
                    "type",
                    "invalid_value",
                    "`type` must be event types from the documentation, comma-separated.",
                )),
            }
        }
        if let Some(s) = since {
            match parse_time(&s) {
                Some(t) => query.since = Some(t),
                None => errors.push(FieldError::new(
                    "since",
                    "invalid_value",
                    "`since` must be an RFC 3339 time (2026-01-31T00:00:00Z) or unix seconds.",
                )),
            }
        }
        if let Some(c) = cursor {
            match decode_event_cursor(&c) {
                Some(id) => query.before_id = Some(id),
                None => errors.push(FieldError::new(
                    "cursor",
                    "invalid_value",
                    "`cursor` is not a cursor returned by this API.",
                )),
            }
        }
        if let Some(l) = limit {
            match l.parse::<u32>().ok().filter(|n| (1..=MAX_EVENTS_PAGE).contains(n)) {
                Some(n) => query.limit = n,
                None => errors.push(FieldError::new(
                    "limit",
                    "invalid_value",
                    format!("`limit` must be a number from 1 to {MAX_EVENTS_PAGE}."),
                )),
            }
        }
        if errors.is_empty() {
            Ok(EventsQuery(query))
        } else {
            Err(AuthError::InvalidRequest { detail: "The request has invalid fields.".into(), errors })
        }
    }
}

/// An RFC 3339 time, or whole unix seconds.
fn parse_time(s: &str) -> Option<i64> {
    // Digits only (no sign): what the document's pattern says.
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok();
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// The next page starts below this event id, base64url (opaque to clients).
fn encode_event_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("e:{id}"))
}

fn decode_event_cursor(cursor: &str) -> Option<i64> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    raw.strip_prefix("e:")?.parse().ok().filter(|id| *id > 0)
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// Buffers one event (no I/O: the Worker writes the request's events after the response).
    pub(super) fn record(
        &self,
        kind: EventType,
        user_id: Option<&str>,
        actor_id: Option<&str>,
        session_id: Option<&str>,
        detail: Detail,
    ) {
        self.audit.record(AuditEvent {
            kind,
            at: self.now,
            user_id: user_id.map(str::to_string),
            actor_id: actor_id.map(str::to_string),
            session_id: session_id.filter(|s| !s.is_empty()).map(str::to_string),
            detail,
        });
    }

    /// An event of the caller about its own account.
    pub(super) fn record_own(&self, access: &VerifiedAccess, kind: EventType, detail: Detail) {
        let user = access.claims.sub.as_str();
        self.record(kind, Some(user), Some(user), Some(&access.claims.sid), detail);
    }

    /// An admin's action on the account `user_id`.
    pub(super) fn record_admin(
        &self,
        access: &VerifiedAccess,
        kind: EventType,
        user_id: Option<&str>,
        detail: Detail,
    ) {
        self.record(kind, user_id, Some(&access.claims.sub), Some(&access.claims.sid), detail);
    }

    /// The outcome of a sign-in step: `success` with its session, or `failure` with the error's code
    /// as the reason (`mfa_required` when the first step passed and a second is due).
    pub(super) fn record_sign_in<T>(
        &self,
        (success, failure): (EventType, EventType),
        method: &'static str,
        trail: Trail,
        result: &Result<T, AuthError>,
    ) {
        let user = trail.user.into_inner();
        let session = trail.session.into_inner();
        let (kind, detail) = match result {
            Ok(_) => (success, Detail::method(method)),
            Err(e) => (failure, Detail::reason(e.code()).with_method(method)),
        };
        self.record(kind, user.as_deref(), user.as_deref(), session.as_deref(), detail);
    }

    /// `GET /auth/admin/events`: admin and demo. D1: one read (and the caller's session).
    pub async fn list_events(
        &self,
        access: &VerifiedAccess,
        query: &EventsQuery,
    ) -> Result<EventPage, AuthError> {
        self.admin(access, Permission::ReadUsers).await?;
        let limit = query.0.limit as usize;
        let mut events = self.store.list_events(&query.0).await?;
        let next_cursor = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| encode_event_cursor(e.id))
        } else {
            None
        };
        Ok(EventPage { events: events.into_iter().map(EventView::from).collect(), next_cursor })
    }

    /// `GET /auth/me/sign-ins`: the caller's last 20 sign-in steps, successes and refusals. D1: two
    /// reads (the caller's session, the events).
    pub async fn my_sign_ins(&self, access: &VerifiedAccess) -> Result<SignInList, AuthError> {
        let user = self.caller(access).await?;
        let query = EventQuery {
            limit: SIGN_IN_LIST,
            before_id: None,
            user_id: Some(user.id),
            kinds: EventType::SIGN_INS.to_vec(),
            since: None,
        };
        let events = self.store.list_events(&query).await?;
        Ok(SignInList {
            sign_ins: events.into_iter().take(SIGN_IN_LIST as usize).map(sign_in_view).collect(),
        })
    }

    /// The scheduled handler: deletes up to `PRUNE_BATCH` events older than `AUDIT_RETENTION`.
    pub async fn prune_audit(&self) -> Result<u32, AuthError> {
        let before = self.now.saturating_sub(self.config.audit_retention_seconds as i64);
        self.store.prune_events(before, PRUNE_BATCH).await
    }
}

fn sign_in_view(e: StoredEvent) -> SignInView {
    let detail = detail_value(&e.detail);
    let text = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_string);
    let kind = EventType::parse(&e.kind);
    let fallback = match kind {
        Some(EventType::PasskeyLoginSucceeded | EventType::PasskeyLoginFailed) => "passkey",
        _ => "password",
    };
    SignInView {
        at: rfc3339(e.at),
        method: text("method").unwrap_or_else(|| fallback.to_string()),
        success: kind.is_some_and(EventType::succeeded),
        reason: text("reason"),
        ip: e.ip,
        user_agent: e.user_agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: AuthError) -> Vec<(String, &'static str)> {
        e.field_errors().iter().map(|f| (f.field.clone(), f.code)).collect()
    }

    #[test]
    fn an_empty_query_is_the_first_page_of_everything() {
        let q = EventsQuery::parse(None, Some(""), None, Some(""), None).unwrap().0;
        assert_eq!(
            q,
            EventQuery {
                limit: DEFAULT_EVENTS_PAGE,
                before_id: None,
                user_id: None,
                kinds: vec![],
                since: None
            }
        );
    }

    #[test]
    fn filters_are_read() {
        let cursor = encode_event_cursor(42);
        let q = EventsQuery::parse(
            Some("u1"),
            Some("login_failed, logout"),
            Some("2026-01-31T00:00:00Z"),
            Some(&cursor),
            Some("10"),
        )
        .unwrap()
        .0;
        assert_eq!(q.user_id.as_deref(), Some("u1"));
        assert_eq!(q.kinds, vec![EventType::LoginFailed, EventType::Logout]);
        assert_eq!(q.since, Some(1_769_817_600));
        assert_eq!((q.before_id, q.limit), (Some(42), 10));
        assert_eq!(
            EventsQuery::parse(None, None, Some("1769817600"), None, None).unwrap().0.since,
            Some(1_769_817_600)
        );
    }

    #[test]
    fn every_bad_parameter_is_reported_at_once() {
        let e = EventsQuery::parse(Some("a\u{0}b"), Some("nope"), Some("yesterday"), Some("!!"), Some("0"))
            .unwrap_err();
        assert_eq!(
            codes(e),
            [
                ("user", "invalid_value"),
                ("type", "invalid_value"),
                ("since", "invalid_value"),
                ("cursor", "invalid_value"),
                ("limit", "invalid_value")
            ]
            .map(|(f, c)| (f.to_string(), c))
        );
        for bad in ["101", "-1", "x"] {
            assert!(EventsQuery::parse(None, None, None, None, Some(bad)).is_err(), "{bad}");
        }
        let long = "u".repeat(MAX_USER_FILTER + 1);
        assert!(EventsQuery::parse(Some(&long), None, None, None, None).is_err());
        assert!(EventsQuery::parse(None, Some("logout\n"), None, None, None).is_err(), "control character");
        assert!(EventsQuery::parse(None, Some("logout,"), None, None, None).is_err(), "empty type");
        assert!(EventsQuery::parse(None, None, Some("-5"), None, None).is_err());
        // A user cursor is not an event cursor.
        let other = URL_SAFE_NO_PAD.encode("1700000000:u1");
        assert!(EventsQuery::parse(None, None, None, Some(&other), None).is_err());
    }
}
