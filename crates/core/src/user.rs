//! The user record and the views of it that leave the server. A password hash is never in a view.

use chrono::{DateTime, SecondsFormat};
use serde::Serialize;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants RFC 3339 can write (four-digit years,
/// RFC 3339 §5.6 `date-fullyear`). Times outside are shown as the nearest end.
pub const MIN_RFC3339: i64 = -62_167_219_200;
pub const MAX_RFC3339: i64 = 253_402_300_799;

/// Unix seconds as the API shows them: RFC 3339 in UTC, whole seconds, `Z`, e.g. `2026-11-22T04:05:06Z`.
///
/// Clamped to years 0000-9999 so that the result is always valid RFC 3339: the times shown come from
/// our own clock and lifetimes of at most ten years (`crate::config::durations`), so only a damaged row
/// gets there, and chrono alone would write a signed five-digit year.
pub fn rfc3339(unix_seconds: i64) -> String {
    let t = unix_seconds.clamp(MIN_RFC3339, MAX_RFC3339);
    // Inside chrono's range by the clamp, so `from_timestamp` always answers.
    DateTime::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Personal details a profile may collect at signup (the `accounts` profile: first and last name,
/// phone, document id). Free text, never used to decide anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonalDetails {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub document_id: Option<String>,
}

/// A user as stored in D1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    /// The stable integer id D1 assigns at creation (`users.number`), for the profiles whose clients
    /// expect a number; `None` only before the user is stored.
    pub number: Option<i64>,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    pub details: PersonalDetails,
    /// When `email` was verified (`users.email_verified_at`, migration 0006); `None`: unverified.
    pub email_verified_at: Option<i64>,
    /// A requested new address, kept apart until its link is followed (`users.pending_email`).
    pub pending_email: Option<String>,
    /// Whether the user has an enabled TOTP authenticator: read with the user, so that a login needs
    /// no second query to know whether to ask for it.
    pub second_factor: bool,
    /// Whether the user has at least one passkey (read with the user, like `second_factor`).
    pub passkeys: bool,
}

/// The user object of every response (docs/openapi.json), as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// True when `email` is set and its owner followed a verification link (migration 0006).
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub role: String,
    pub created_at: String,
    /// Not in the native user object; the compatibility profiles show it (as `id`).
    #[serde(skip)]
    pub number: Option<i64>,
    /// Not in the native user object; the `accounts` profile shows it, encrypted.
    #[serde(skip)]
    pub details: PersonalDetails,
}

/// The admin view: the user object plus account state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminUserView {
    #[serde(flatten)]
    pub user: UserView,
    pub disabled: bool,
    pub updated_at: String,
    pub last_login_at: Option<String>,
}

impl User {
    /// True when the user has an address and it was verified.
    pub fn email_verified(&self) -> bool {
        self.email.is_some() && self.email_verified_at.is_some()
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            created_at: rfc3339(self.created_at),
            number: self.number,
            details: self.details.clone(),
        }
    }

    pub fn admin_view(&self) -> AdminUserView {
        AdminUserView {
            user: self.view(),
            disabled: self.disabled,
            updated_at: rfc3339(self.updated_at),
            last_login_at: self.last_login_at.map(rfc3339),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_with_a_z_suffix() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_780_000_000), "2026-05-28T20:26:40Z");
    }

    #[test]
    fn known_dates_leap_days_and_year_ends() {
        for (t, text) in [
            (-1, "1969-12-31T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"), // 2000 is a leap year (divisible by 400)
            (951_868_799, "2000-02-29T23:59:59Z"),
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (1_735_689_599, "2024-12-31T23:59:59Z"), // day 366 of a leap year
            (1_735_689_600, "2025-01-01T00:00:00Z"),
            (4_107_456_000, "2100-02-28T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"), // 2100 is not (divisible by 100, not 400)
            (2_147_483_647, "2038-01-19T03:14:07Z"),
            (-2_208_988_800, "1900-01-01T00:00:00Z"),
            (MIN_RFC3339, "0000-01-01T00:00:00Z"),
            (MAX_RFC3339, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(t), text, "{t}");
        }
    }

    #[test]
    fn times_outside_four_digit_years_are_shown_as_the_nearest_end() {
        assert_eq!(rfc3339(MAX_RFC3339 + 1), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(MIN_RFC3339 - 1), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn no_view_contains_the_password_hash() {
        let u = User {
            id: "u1".into(),
            username: "alice".into(),
            email: None,
            display_name: Some("Alice".into()),
            role: "user".into(),
            password_hash: "$pbkdf2-sha512$i=1000,l=64$c2FsdA$SECRET".into(),
            disabled: false,
            created_at: 0,
            updated_at: 60,
            last_login_at: None,
            number: Some(1),
            details: Default::default(),
            email_verified_at: None,
            pending_email: Some("new@example.com".into()),
            second_factor: false,
            passkeys: false,
        };
        let plain = serde_json::to_string(&u.view()).unwrap();
        let admin = serde_json::to_string(&u.admin_view()).unwrap();
        for json in [&plain, &admin] {
            assert!(!json.contains("SECRET") && !json.contains("password"), "{json}");
            assert!(!json.contains("new@example.com"), "a pending address is not shown: {json}");
        }
        assert_eq!(
            plain,
            r#"{"id":"u1","username":"alice","email":null,"email_verified":false,"display_name":"Alice","role":"user","created_at":"1970-01-01T00:00:00Z"}"#
        );
        assert!(
            admin.contains(r#""disabled":false,"updated_at":"1970-01-01T00:01:00Z","last_login_at":null"#)
        );
    }
}
