//! Every Workers KV key name the service uses, in one place. Deployed namespaces hold data under these
//! exact names, so a format here never changes without a migration (docs/storage.md describes
//! the namespace). Personal data (addresses, usernames, IPs) never appears in a name: such subjects are
//! hashed ([`subject_digest`]).
//!
//! | key | value | TTL | written by |
//! |---|---|---|---|
//! | `revoked-session:<session id>` | `1` | access-token lifetime + leeway + 1 s, at least 60 s | logout, logout-all, refresh-token reuse, session deletion, password change/reset, admin changes (`Revocations::write`, mirroring D1's `revocation_outbox`) |
//! | `user-not-before:<user id>` | unix seconds, decimal | as above | logout-all, password change/reset, admin disable/role change/delete/revoke (`Revocations::write`, likewise) |
//! | `rl:account:<digest>` | `rate_limit::Failures` as JSON, `{"n": failures, "t": last failure}` | `AccountPolicy::quiet_reset_seconds` (24 h) | failed login or wrong current password (`service::limits`) |
//! | `rl:<window>:<digest>:<window start>` | count, decimal | until the window ends, at least 60 s | `service::limits` ([`Window`]; `verify-email` counts resent verification mails per user) |
//! | `rl:global-failed-login` | `1` | 60 s (KV's minimum) | a failed password login that the optional global failed-login budget (the `LOGIN_FAILURE_LIMITER` binding) finds over budget (`service::limits`): password logins answer 429 before hashing while it lives |
//! | `health:probe` | never written | - | read by the health check only: a miss proves KV answers |
//! | `health:write:<nonce>` | the nonce | 60 s | `GET /health?deep=1`, which reads it back |
//!
//! KV refuses TTLs under 60 s, hence the floors.

use sha2::{Digest, Sha256};

/// The denylist entry of one session: its access tokens are refused while it lives.
pub fn revoked_session(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
}

/// The time before which every access token of a user is refused (logout-all and the like).
pub fn user_not_before(user_id: &str) -> String {
    format!("user-not-before:{user_id}")
}

/// Read by `GET /health` to see that KV answers; nothing writes it.
pub const HEALTH_PROBE: &str = "health:probe";

/// Written (TTL 60 s) and read back by `GET /health?deep=1`: a fresh random `nonce` each time.
pub fn health_write_probe(nonce: &str) -> String {
    format!("health:write:{nonce}")
}

/// The failed-login record of an account; `account` is `service::limits::account_subject`'s.
pub fn account_failures(account: &str) -> String {
    format!("rl:account:{}", subject_digest(account))
}

/// Present while the global failed-login budget is spent: every password login answers 429 before
/// any hashing until it expires. Read in the same bulk read as a login's other counters.
pub const GLOBAL_FAILED_LOGIN: &str = "rl:global-failed-login";

/// The fixed windows of request counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Failed logins per client IP (`RATE_LIMIT_LOGIN_IP`).
    LoginIp,
    /// Signups per client IP (`RATE_LIMIT_SIGNUP_IP`).
    SignupIp,
    /// Forgot-password requests per client IP (`RATE_LIMIT_FORGOT_IP`).
    ForgotIp,
    /// Forgot-password requests per address or username (`RATE_LIMIT_FORGOT_ADDRESS`).
    ForgotAddress,
    /// Verification mails resent per user (`RATE_LIMIT_VERIFY_EMAIL`), keyed by the user id.
    VerifyEmail,
}

impl Window {
    /// The name in the key.
    pub fn name(self) -> &'static str {
        match self {
            Window::LoginIp => "login-ip",
            Window::SignupIp => "signup-ip",
            Window::ForgotIp => "forgot-ip",
            Window::ForgotAddress => "forgot-address",
            Window::VerifyEmail => "verify-email",
        }
    }
}

/// The counter of `subject` (an IP, an address) in the window that starts at `window_start` (unix
/// seconds): a new window is a new key, so counters never need resetting.
pub fn window_counter(window: Window, subject: &str, window_start: i64) -> String {
    format!("rl:{}:{}:{window_start}", window.name(), subject_digest(subject))
}

/// The first 96 bits of SHA-256, hex: short, and keeps the subject out of the key name. Not a secret
/// derivation (a known IP can be hashed by anyone with KV access); it only keeps names from being
/// personal data in listings and logs.
pub fn subject_digest(subject: &str) -> String {
    Sha256::digest(subject.as_bytes())[..12].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expected name below is the format deployed namespaces already hold.

    #[test]
    fn revocation_keys_are_the_deployed_ones() {
        assert_eq!(revoked_session("teCfDeembls8RnCU84XhCw"), "revoked-session:teCfDeembls8RnCU84XhCw");
        assert_eq!(user_not_before("cy_Qf85n2t-36uoK3yhT4g"), "user-not-before:cy_Qf85n2t-36uoK3yhT4g");
        assert_eq!(HEALTH_PROBE, "health:probe");
        assert_eq!(GLOBAL_FAILED_LOGIN, "rl:global-failed-login");
    }

    #[test]
    fn rate_limit_keys_are_the_deployed_ones() {
        assert_eq!(account_failures("id:u1"), "rl:account:1f6620091de56462a558231c");
        assert_eq!(
            window_counter(Window::LoginIp, "203.0.113.9", 1_779_999_600),
            "rl:login-ip:d861b7e91033ebc1c1e8e7af:1779999600"
        );
        assert_eq!(
            window_counter(Window::ForgotAddress, "ana@example.com", 1_779_998_400),
            "rl:forgot-address:8e43ca37701228e74983efdb:1779998400"
        );
        let names: Vec<_> =
            [Window::LoginIp, Window::SignupIp, Window::ForgotIp, Window::ForgotAddress, Window::VerifyEmail]
                .map(Window::name)
                .into();
        assert_eq!(names, ["login-ip", "signup-ip", "forgot-ip", "forgot-address", "verify-email"]);
        assert_eq!(
            window_counter(Window::VerifyEmail, "u:cy_Qf85n2t-36uoK3yhT4g", 1_779_998_400),
            format!("rl:verify-email:{}:1779998400", subject_digest("u:cy_Qf85n2t-36uoK3yhT4g"))
        );
    }

    #[test]
    fn personal_data_never_appears_in_a_key() {
        for subject in ["203.0.113.9", "ana@example.com", "u:alice"] {
            let keys = [
                account_failures(subject),
                window_counter(Window::SignupIp, subject, 0),
                window_counter(Window::ForgotAddress, subject, 0),
            ];
            for key in keys {
                assert!(!key.contains(subject), "{key}");
                assert!(key.is_ascii() && !key.contains(' '), "{key}");
            }
        }
        assert_ne!(subject_digest("a"), subject_digest("b"));
        assert_eq!(subject_digest("a").len(), 24);
    }
}
