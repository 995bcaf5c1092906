//! One D1 session per request (D1 read replication, the Sessions API): every statement of a request
//! goes through it, so its reads are sequentially consistent (each sees at least what the previous
//! one saw), and its bookmark, taken after the handler, lets the client's next request read its own
//! writes on whichever replica serves it.
//!
//! Where the session starts is the route's decision (`http::routes::reads`); this module only opens
//! it. A read of a row that a request may have just created elsewhere (a session after login, an
//! `mfa_token`'s challenge) that a lagging replica does not have yet is read again at the primary
//! (`D1Handle::to_primary`): a replica may miss a row, but what it has is never newer than the truth,
//! and a miss must not answer 401 for a token that is valid (docs/storage.md, "Read replication").

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result};

/// The Sessions API's constraint for a session whose first query must see the primary's latest data.
pub const FIRST_PRIMARY: &str = "first-primary";
/// The constraint for a session whose first query may be served by the nearest replica.
pub const FIRST_UNCONSTRAINED: &str = "first-unconstrained";

/// Where a request's D1 session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum D1Start {
    /// At the primary: the first query sees every committed write.
    Primary,
    /// At the nearest replica, however far behind.
    Nearest,
    /// At a replica at least as new as this bookmark (validated by `bookmark`).
    Bookmark(String),
}

impl D1Start {
    /// What `withSession` is given.
    pub fn as_str(&self) -> &str {
        match self {
            D1Start::Primary => FIRST_PRIMARY,
            D1Start::Nearest => FIRST_UNCONSTRAINED,
            D1Start::Bookmark(b) => b,
        }
    }
}

/// The longest bookmark accepted from a client. D1's are four dash-separated hex groups (59
/// characters, `00000005-0000000e-00004f8c-ffa0d82b…`); the margin allows a longer format later.
const MAX_BOOKMARK_LEN: usize = 128;

/// A client's bookmark when it looks like one D1 issues: 1-128 characters of hex digits and dashes,
/// with at least one digit. Anything else (and so a constraint name such as `first-primary`, whose
/// letters are not hex) is `None`: ignored, never an error.
pub fn bookmark(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.len() <= MAX_BOOKMARK_LEN
        && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && value.bytes().any(|b| b.is_ascii_hexdigit());
    ok.then(|| value.to_string())
}

/// The request's D1: its session, or the plain database where the runtime has no `withSession`.
pub struct D1Handle {
    db: D1Database,
    /// `None`: `withSession` is missing or refused even `first-primary` (an older local runtime);
    /// statements then go to the database itself, and there is no bookmark.
    session: RefCell<Option<Rc<D1DatabaseSession>>>,
    /// The session did not start at the primary, and has not been moved there.
    may_lag: Cell<bool>,
}

impl D1Handle {
    /// Opens the session at `start`. A bookmark D1 refuses falls back to the nearest replica.
    pub fn open(db: D1Database, start: &D1Start) -> Self {
        let session = db
            .with_session(Some(start.as_str()))
            .ok()
            .or_else(|| match start {
                D1Start::Bookmark(_) => db.with_session(Some(FIRST_UNCONSTRAINED)).ok(),
                _ => None,
            })
            .map(Rc::new);
        let may_lag = session.is_some() && *start != D1Start::Primary;
        D1Handle { db, session: RefCell::new(session), may_lag: Cell::new(may_lag) }
    }

    pub fn prepare(&self, sql: &str) -> D1PreparedStatement {
        match &*self.session.borrow() {
            Some(session) => session.prepare(sql),
            None => self.db.prepare(sql),
        }
    }

    pub async fn batch(&self, statements: Vec<D1PreparedStatement>) -> worker::Result<Vec<D1Result>> {
        // The session is cloned out of the cell: no borrow is held across the await.
        let session = self.session.borrow().clone();
        match session {
            Some(session) => session.batch(statements).await,
            None => self.db.batch(statements).await,
        }
    }

    /// Whether a read may have come from a replica that lags.
    pub fn may_lag(&self) -> bool {
        self.may_lag.get()
    }

    /// Moves the request to a new session at the primary: what follows sees every committed write.
    pub fn to_primary(&self) {
        if let Ok(session) = self.db.with_session(Some(FIRST_PRIMARY)) {
            *self.session.borrow_mut() = Some(Rc::new(session));
        }
        self.may_lag.set(false);
    }

    /// The session's latest bookmark: `None` when no statement ran (or the runtime gives none).
    pub fn bookmark(&self) -> Option<String> {
        self.session.borrow().as_ref().and_then(|s| s.get_bookmark().ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmarks_like_d1_issues_are_kept() {
        let real = "00000005-0000000e-00004f8c-ffa0d82b2d0bc1e4e63bb7e49f2d8a7a";
        assert_eq!(bookmark(real).as_deref(), Some(real));
        let local = "00000000-00000001-00000000-00000000000000000000000000000000";
        assert_eq!(bookmark(local).as_deref(), Some(local));
        assert_eq!(bookmark(&"a".repeat(MAX_BOOKMARK_LEN)).map(|b| b.len()), Some(MAX_BOOKMARK_LEN));
    }

    #[test]
    fn anything_else_is_ignored() {
        for garbage in [
            "",
            "-",
            "---",
            "garbage!!",
            FIRST_PRIMARY,
            FIRST_UNCONSTRAINED,
            "0000 0001",
            "0000\n0001",
            "0000;0001",
            "ab%00cd",
            "é0",
        ] {
            assert_eq!(bookmark(garbage), None, "{garbage:?}");
        }
        assert_eq!(bookmark(&"a".repeat(MAX_BOOKMARK_LEN + 1)), None);
    }

    #[test]
    fn starts_name_the_sessions_api_constraints() {
        assert_eq!(D1Start::Primary.as_str(), "first-primary");
        assert_eq!(D1Start::Nearest.as_str(), "first-unconstrained");
        assert_eq!(D1Start::Bookmark("00ab-01".into()).as_str(), "00ab-01");
    }
}
