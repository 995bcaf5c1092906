//! The rate limits: fixed windows per client IP and address (`RATE_LIMIT_*`, `count/window` or
//! `off`), and the progressive delay per account (`LOGIN_*`).

use super::duration_setting;
use crate::rate_limit::{AccountPolicy, WindowLimit};

/// Every rate limit; `None` windows are switched off (`off`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Logins per client IP (`RATE_LIMIT_LOGIN_IP`, default 10/15m): failed ones, or every request
    /// (`RATE_LIMIT_LOGIN_IP_COUNTS`).
    pub login_ip: Option<WindowLimit>,
    /// What `login_ip` counts.
    pub login_ip_counts: LoginCounts,
    /// Signups per client IP (`RATE_LIMIT_SIGNUP_IP`, default 5/1h).
    pub signup_ip: Option<WindowLimit>,
    /// Forgot-password requests per client IP (`RATE_LIMIT_FORGOT_IP`, default 5/15m).
    pub forgot_ip: Option<WindowLimit>,
    /// Forgot-password requests per address (`RATE_LIMIT_FORGOT_ADDRESS`, default 3/1h).
    pub forgot_address: Option<WindowLimit>,
    /// Progressive delay per account (`LOGIN_FREE_FAILURES`, `LOGIN_MAX_DELAY`).
    pub account: AccountPolicy,
}

/// Reads every limit, the defaults where unset; problems are added to `problems`.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Limits {
    let window = |name: &str, default: &str, problems: &mut Vec<String>| {
        let raw = get(name).unwrap_or_else(|| default.to_string());
        WindowLimit::parse(&raw).unwrap_or_else(|e| {
            problems.push(format!("{name}: {e}"));
            None
        })
    };
    let login_ip = window("RATE_LIMIT_LOGIN_IP", "10/15m", problems);
    let login_ip_counts = match get("RATE_LIMIT_LOGIN_IP_COUNTS").as_deref() {
        None | Some("failures") => LoginCounts::Failures,
        Some("requests") => LoginCounts::Requests,
        Some(other) => {
            problems
                .push(format!("RATE_LIMIT_LOGIN_IP_COUNTS must be 'failures' or 'requests', got {other:?}"));
            LoginCounts::Failures
        }
    };
    let signup_ip = window("RATE_LIMIT_SIGNUP_IP", "5/1h", problems);
    let forgot_ip = window("RATE_LIMIT_FORGOT_IP", "5/15m", problems);
    let forgot_address = window("RATE_LIMIT_FORGOT_ADDRESS", "3/1h", problems);
    let mut account = AccountPolicy::default();
    if let Some(v) = get("LOGIN_FREE_FAILURES") {
        match v.parse::<u32>() {
            Ok(n) if n < account.hard_limit => account.free_failures = n,
            _ => problems.push(format!("LOGIN_FREE_FAILURES must be a number below 100, got {v:?}")),
        }
    }
    account.max_delay_seconds =
        duration_setting(&get, "LOGIN_MAX_DELAY", account.max_delay_seconds, problems);
    Limits { login_ip, login_ip_counts, signup_ip, forgot_ip, forgot_address, account }
}

/// What the per-IP login limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginCounts {
    /// Failed logins (the default: a user who types the right password is never slowed down).
    Failures,
    /// Every login request, whatever its outcome, even one refused as malformed (as systems that
    /// document "N requests per window" count them).
    Requests,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{config, SECRET};

    #[test]
    fn rate_limits_are_configurable_and_can_be_switched_off() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("RATE_LIMIT_LOGIN_IP", "5/1m"),
            ("RATE_LIMIT_SIGNUP_IP", "off"),
            ("LOGIN_FREE_FAILURES", "3"),
            ("LOGIN_MAX_DELAY", "5m"),
        ])
        .unwrap();
        assert_eq!(c.limits.login_ip, Some(WindowLimit { count: 5, window_seconds: 60 }));
        assert_eq!(c.limits.signup_ip, None);
        assert_eq!(c.limits.account.free_failures, 3);
        assert_eq!(c.limits.account.max_delay_seconds, 300);
        assert!(config(&[("JWT_SECRET", SECRET), ("RATE_LIMIT_LOGIN_IP", "5/30")]).is_err());
    }

    #[test]
    fn bad_limits_are_reported_with_their_setting() {
        for (name, value) in [
            ("RATE_LIMIT_FORGOT_IP", "many"),
            ("RATE_LIMIT_FORGOT_ADDRESS", "0/1h"),
            ("LOGIN_FREE_FAILURES", "100"),
            ("LOGIN_FREE_FAILURES", "-1"),
            ("LOGIN_MAX_DELAY", "forever"),
        ] {
            let e = config(&[("JWT_SECRET", SECRET), (name, value)]).unwrap_err();
            assert!(e.0.contains(name), "{name}={value}: {e}");
        }
    }
}
