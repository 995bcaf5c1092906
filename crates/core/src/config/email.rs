//! Email verification settings: `REQUIRE_EMAIL_VERIFICATION`, `EMAIL_VERIFICATION_TTL`,
//! `VERIFY_EMAIL_URL_TEMPLATE` and `RATE_LIMIT_VERIFY_EMAIL`.

use super::{bool_setting, duration_setting};
use crate::rate_limit::WindowLimit;

/// The default link: the hosted page under the base path.
pub const DEFAULT_VERIFY_URL_TEMPLATE: &str = "{origin}{base}/ui/verify-email?token={token}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// `REQUIRE_EMAIL_VERIFICATION` (default false): an unverified account's correct password answers
    /// 403 `email_not_verified`, an address logs in (and receives reset links) only once verified, and
    /// signup needs an address.
    pub require_verification: bool,
    /// Lifetime of a verification link in seconds (`EMAIL_VERIFICATION_TTL`, default 24 h).
    pub verification_ttl_seconds: u64,
    /// The link mailed (`VERIFY_EMAIL_URL_TEMPLATE`): `{token}`, `{origin}` (of the request) and
    /// `{base}` (`BASE_PATH`) are filled in.
    pub verify_url_template: String,
    /// `POST /auth/verify-email/resend` per user (`RATE_LIMIT_VERIFY_EMAIL`, default 3/1h).
    pub resend_limit: Option<WindowLimit>,
}

impl EmailSettings {
    /// The link for `token`, asked for at `origin`, the API under `base`.
    pub fn link(&self, origin: &str, base: &str, token: &str) -> String {
        self.verify_url_template.replace("{origin}", origin).replace("{base}", base).replace("{token}", token)
    }
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> EmailSettings {
    let require_verification = bool_setting(get, "REQUIRE_EMAIL_VERIFICATION", false, problems);
    let verification_ttl_seconds = duration_setting(get, "EMAIL_VERIFICATION_TTL", 24 * 3600, problems);
    let verify_url_template =
        get("VERIFY_EMAIL_URL_TEMPLATE").unwrap_or_else(|| DEFAULT_VERIFY_URL_TEMPLATE.into());
    if !verify_url_template.contains("{token}") {
        problems.push("VERIFY_EMAIL_URL_TEMPLATE must contain {token}".into());
    }
    let resend_limit = WindowLimit::parse(&get("RATE_LIMIT_VERIFY_EMAIL").unwrap_or_else(|| "3/1h".into()))
        .unwrap_or_else(|e| {
            problems.push(format!("RATE_LIMIT_VERIFY_EMAIL: {e}"));
            None
        });
    EmailSettings { require_verification, verification_ttl_seconds, verify_url_template, resend_limit }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{config, SECRET};
    use crate::rate_limit::WindowLimit;

    #[test]
    fn defaults_leave_verification_optional_with_day_long_links() {
        let c = config(&[("JWT_SECRET", SECRET)]).unwrap();
        assert!(!c.email.require_verification);
        assert_eq!(c.email.verification_ttl_seconds, 86_400);
        assert_eq!(c.email.resend_limit, Some(WindowLimit { count: 3, window_seconds: 3600 }));
        assert_eq!(
            c.email.link("https://a.example", "/auth", "T0K"),
            "https://a.example/auth/ui/verify-email?token=T0K"
        );
    }

    #[test]
    fn settings_are_read_and_checked() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("REQUIRE_EMAIL_VERIFICATION", "true"),
            ("EMAIL_VERIFICATION_TTL", "2h"),
            ("VERIFY_EMAIL_URL_TEMPLATE", "https://app.test/v?t={token}"),
            ("RATE_LIMIT_VERIFY_EMAIL", "off"),
        ])
        .unwrap();
        assert!(c.email.require_verification);
        assert_eq!(c.email.verification_ttl_seconds, 7200);
        assert_eq!(c.email.resend_limit, None);
        assert_eq!(c.email.link("o", "/b", "x"), "https://app.test/v?t=x");
        for bad in [
            ("REQUIRE_EMAIL_VERIFICATION", "maybe"),
            ("EMAIL_VERIFICATION_TTL", "soon"),
            ("VERIFY_EMAIL_URL_TEMPLATE", "https://app.test/v"),
            ("RATE_LIMIT_VERIFY_EMAIL", "3"),
        ] {
            let e = config(&[("JWT_SECRET", SECRET), bad]).unwrap_err();
            assert!(e.0.contains(bad.0), "{e}");
        }
    }
}
