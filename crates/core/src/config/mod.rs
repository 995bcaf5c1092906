//! Configuration: every variable and secret is read here, once, validated, and turned into typed
//! values. The Worker passes a lookup function over its `env`; tests pass a map. Every problem is
//! collected and reported at once, so an operator fixes a deployment in one round.
//!
//! - [`durations`]: `900`, `15m`, `8h`, `7d` settings
//! - [`keys`]: `JWT_*` secrets and keys: what signs and verifies tokens, and the refresh-token keys
//! - [`limits`]: the rate limits
//! - [`edge`]: how the HTTP edge presents things (role labels, cookie names, CSRF for non-browsers,
//!   the user-data key)

use crate::password::{PasswordHasher, DEFAULT_ITERATIONS};
use crate::policy::{PasswordPolicy, DEFAULT_MIN_LENGTH};
use crate::roles;
use crate::session::{PresentedRefresh, RefreshKey, DEFAULT_GRACE_SECONDS};
use crate::token::TokenService;

mod durations;
pub mod edge;
pub mod email;
mod keys;
pub mod limits;
pub mod mfa;
pub mod webauthn;

use durations::duration_setting;
pub use durations::{parse_duration, MAX_DURATION_SECONDS};
pub use keys::decode_key;
pub use limits::Limits;

/// The reset link: the hosted reset page of this deployment (`public/auth/ui/`), under the base path.
pub const DEFAULT_RESET_URL_TEMPLATE: &str = "{origin}{base}/ui/reset-password?token={token}";

/// Validated configuration. Built once per isolate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Path prefix of the auth routes, e.g. `/auth` (no trailing slash).
    pub base_path: String,
    pub tokens: TokenService,
    pub hasher: PasswordHasher,
    /// Absolute refresh-token (session) lifetime in seconds.
    pub refresh_ttl_seconds: u64,
    /// Authenticates refresh tokens; derived from `JWT_SECRET`.
    pub refresh_key: RefreshKey,
    /// Refresh keys derived from `JWT_PREVIOUS_SECRETS`: still verify, never mint.
    pub previous_refresh_keys: Vec<RefreshKey>,
    /// How long after a rotation the previous refresh token still yields the current one (0: never).
    pub refresh_grace_seconds: u64,
    /// Cookie mode: tokens also travel in `__Host-`/`__Secure-` cookies (off by default).
    pub cookie_mode: bool,
    /// Origins allowed by CORS (and by the CSRF check in cookie mode); `*` allows any origin, without
    /// credentials, and is refused in cookie mode.
    pub cors_origins: Vec<String>,
    /// Every role name this deployment knows: the built-in ones plus `ROLES`.
    pub roles: Vec<String>,
    /// `development` enables dev conveniences (never in production).
    pub environment: Environment,
    /// Rules for new passwords.
    pub password_policy: PasswordPolicy,
    /// Self-service signup (`SIGNUP_ENABLED`, default on).
    pub signup_enabled: bool,
    /// The role every signup gets (`DEFAULT_ROLE`, default `user`; never `admin`).
    pub default_role: String,
    /// Lifetime of a password-reset token in seconds (`RESET_TOKEN_TTL`, default 30 min).
    pub reset_ttl_seconds: u64,
    /// How long the audit log keeps an event (`AUDIT_RETENTION`, default 90 days); the scheduled
    /// handler deletes older ones.
    pub audit_retention_seconds: u64,
    /// Link sent for a reset; `{token}` is replaced by the token and `{origin}` by the origin of the
    /// request that asked for it (`RESET_URL_TEMPLATE`).
    pub reset_url_template: String,
    /// Where reset emails are POSTed as signed JSON (`MAIL_WEBHOOK_URL`); `None` means no delivery
    /// (in development the link is logged instead).
    pub mail_webhook: Option<MailWebhook>,
    /// Rate limits (`RATE_LIMIT_*`, `LOGIN_*`).
    pub limits: Limits,
    /// Presentation settings of the HTTP edge.
    pub edge: edge::EdgeSettings,
    /// Second factors.
    pub mfa: mfa::MfaSettings,
    /// Passkeys: relying party, origins, user verification (`WEBAUTHN_*`).
    pub webauthn: webauthn::WebauthnSettings,
    /// Email verification (`REQUIRE_EMAIL_VERIFICATION`, `EMAIL_VERIFICATION_TTL`, ...).
    pub email: email::EmailSettings,
}

/// The mail webhook and the secret that signs its requests.
#[derive(Clone)]
pub struct MailWebhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for MailWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailWebhook").field("url", &self.url).field("secret", &"<redacted>").finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A configuration problem, worded for the operator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    /// Reads every setting through `lookup` (variable name -> value). All problems are reported at once.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems: Vec<String> = Vec::new();
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        // `/` mounts the auth routes at the root (kept as the empty prefix).
        let base_path = get("BASE_PATH").unwrap_or_else(|| "/auth".into());
        if !base_path.starts_with('/')
            || base_path.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
        {
            problems.push(format!("BASE_PATH must be a path starting with '/', got {base_path:?}"));
        }
        let base_path = base_path.trim_end_matches('/').to_string();

        let access_ttl = duration_setting(&get, "ACCESS_TOKEN_TTL", 15 * 60, &mut problems);
        let refresh_ttl_seconds = duration_setting(&get, "REFRESH_TOKEN_TTL", 30 * 24 * 3600, &mut problems);

        let iterations = match get("PASSWORD_ITERATIONS") {
            None => DEFAULT_ITERATIONS,
            Some(v) => v.parse::<u32>().unwrap_or_else(|_| {
                problems.push(format!("PASSWORD_ITERATIONS must be a whole number, got {v:?}"));
                DEFAULT_ITERATIONS
            }),
        };
        let hasher = PasswordHasher::new(iterations)
            .map_err(|e| problems.push(format!("PASSWORD_ITERATIONS: {e}")))
            .ok();

        let mut roles_list: Vec<String> = roles::BUILT_IN.iter().map(|r| r.to_string()).collect();
        for role in get("ROLES").unwrap_or_default().split(',').map(str::trim).filter(|r| !r.is_empty()) {
            if !roles::is_valid_name(role) {
                problems.push(format!(
                    "ROLES: {role:?} is not a valid role name (lowercase letters, digits, '_' or '-')"
                ));
            } else if !roles_list.iter().any(|r| r == role) {
                roles_list.push(role.to_string());
            }
        }

        let refresh_grace_seconds = match get("REFRESH_GRACE_PERIOD").as_deref() {
            None => DEFAULT_GRACE_SECONDS,
            Some("0") | Some("0s") => 0,
            Some(v) => match parse_duration(v) {
                Some(secs) if secs <= 300 => secs,
                _ => {
                    problems.push(format!(
                        "REFRESH_GRACE_PERIOD must be a duration of 0 to 300 seconds, got {v:?}"
                    ));
                    DEFAULT_GRACE_SECONDS
                }
            },
        };
        let cookie_mode = bool_setting(&get, "COOKIE_MODE", false, &mut problems);
        let mut cors_origins = Vec::new();
        for origin in
            get("CORS_ORIGINS").unwrap_or_default().split(',').map(str::trim).filter(|o| !o.is_empty())
        {
            if origin == "*" {
                if cookie_mode {
                    problems.push("CORS_ORIGINS=* cannot be combined with COOKIE_MODE (credentials are never allowed for any origin)".into());
                }
            } else if !is_origin(origin) {
                problems.push(format!(
                    "CORS_ORIGINS: {origin:?} is not an origin such as https://app.example.com"
                ));
                continue;
            }
            cors_origins.push(origin.trim_end_matches('/').to_string());
        }

        let password_min = match get("PASSWORD_MIN_LENGTH") {
            None => DEFAULT_MIN_LENGTH,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (DEFAULT_MIN_LENGTH..=64).contains(&n) => n,
                _ => {
                    problems.push(format!("PASSWORD_MIN_LENGTH must be a number from 8 to 64, got {v:?}"));
                    DEFAULT_MIN_LENGTH
                }
            },
        };
        let pin = match get("PASSWORD_KIND").as_deref() {
            None | Some("password") => false,
            Some("pin") => true,
            Some(other) => {
                problems.push(format!("PASSWORD_KIND must be 'password' or 'pin', got {other:?}"));
                false
            }
        };
        let signup_enabled = bool_setting(&get, "SIGNUP_ENABLED", true, &mut problems);
        let default_role = get("DEFAULT_ROLE").unwrap_or_else(|| roles::USER.into());
        if default_role == roles::ADMIN || !roles_list.iter().any(|r| r == &default_role) {
            problems.push(format!(
                "DEFAULT_ROLE must be a known role other than admin (built-in or listed in ROLES), got {default_role:?}"
            ));
        }
        let reset_ttl_seconds = duration_setting(&get, "RESET_TOKEN_TTL", 30 * 60, &mut problems);
        let audit_retention_seconds = duration_setting(&get, "AUDIT_RETENTION", 90 * 86_400, &mut problems);
        let reset_url_template =
            get("RESET_URL_TEMPLATE").unwrap_or_else(|| DEFAULT_RESET_URL_TEMPLATE.into());
        if !reset_url_template.contains("{token}") {
            problems.push("RESET_URL_TEMPLATE must contain {token}".into());
        }
        let mail_webhook = match (get("MAIL_WEBHOOK_URL"), get("MAIL_WEBHOOK_SECRET")) {
            (None, _) => None,
            (Some(url), _) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                problems.push(format!("MAIL_WEBHOOK_URL must be an http(s) URL, got {url:?}"));
                None
            }
            (Some(_), None) => {
                problems.push(
                    "MAIL_WEBHOOK_SECRET must be set when MAIL_WEBHOOK_URL is (it signs every request)"
                        .into(),
                );
                None
            }
            (Some(url), Some(secret)) if secret.len() < 32 => {
                let _ = url;
                problems.push("MAIL_WEBHOOK_SECRET must be at least 32 bytes".into());
                None
            }
            (Some(url), Some(secret)) => Some(MailWebhook { url, secret }),
        };

        let limits = limits::read(&get, &mut problems);
        let edge = edge::read(&get, &mut problems);
        let mfa = mfa::read(&get, &mut problems);
        let email = email::read(&get, &mut problems);
        let webauthn = webauthn::read(&get, &mfa.issuer, &mut problems);
        let extra_claims = crate::token::ExtraClaims::parse(&get("JWT_EXTRA_CLAIMS").unwrap_or_default())
            .unwrap_or_else(|e| {
                problems.push(format!("JWT_EXTRA_CLAIMS: {e}"));
                Default::default()
            });

        let environment = match get("ENVIRONMENT").as_deref() {
            None | Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                problems.push(format!("ENVIRONMENT must be 'production' or 'development', got {other:?}"));
                Environment::Production
            }
        };

        let keys = keys::read(&get, &mut problems);
        let issuer = get("JWT_ISSUER").unwrap_or_else(|| "edge-auth".into());
        let audience = get("JWT_AUDIENCE").unwrap_or_else(|| "edge-auth".into());

        match (problems.is_empty(), keys, hasher) {
            (true, Some(keys), Some(hasher)) => Ok(Config {
                base_path,
                tokens: TokenService::new(issuer, audience, access_ttl, keys.signing, keys.previous)
                    .with_extra_claims(extra_claims),
                hasher,
                refresh_ttl_seconds,
                refresh_key: keys.refresh_key,
                previous_refresh_keys: keys.previous_refresh_keys,
                refresh_grace_seconds,
                cookie_mode,
                cors_origins,
                password_policy: PasswordPolicy { min_length: password_min, pin },
                signup_enabled,
                default_role,
                reset_ttl_seconds,
                audit_retention_seconds,
                reset_url_template,
                mail_webhook,
                limits,
                edge,
                mfa,
                webauthn,
                email,
                roles: roles_list,
                environment,
            }),
            _ => Err(ConfigError(problems.join("; "))),
        }
    }

    /// True when `token` is genuine under the current refresh key or a previous one.
    pub fn verify_refresh(&self, token: &PresentedRefresh, seed: &[u8]) -> bool {
        std::iter::once(&self.refresh_key).chain(&self.previous_refresh_keys).any(|k| k.verify(token, seed))
    }

    /// True when `role` is built in or listed in `ROLES`.
    pub fn knows_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// `scheme://host[:port]` with no path: what an `Origin` header carries.
fn is_origin(s: &str) -> bool {
    let s = s.trim_end_matches('/');
    match s.split_once("://") {
        Some((scheme, host)) => {
            matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains(['/', '?', '#', ' '])
        }
        None => false,
    }
}

fn bool_setting(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
    problems: &mut Vec<String>,
) -> bool {
    match get(name).as_deref() {
        None => default,
        Some("true") | Some("on") | Some("1") | Some("yes") => true,
        Some("false") | Some("off") | Some("0") | Some("no") => false,
        Some(other) => {
            problems.push(format!("{name} must be true or false, got {other:?}"));
            default
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(super) const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

    pub(super) fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_secure_ones() {
        let c = config(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(c.base_path, "/auth");
        assert_eq!(c.tokens.ttl_seconds(), 900);
        assert_eq!(c.refresh_ttl_seconds, 2_592_000);
        assert_eq!(c.hasher.iterations(), 220_000);
        assert_eq!(c.environment, Environment::Production);
        assert_eq!(c.roles, vec!["admin", "user", "demo"]);
        assert_eq!(c.refresh_grace_seconds, 30);
        assert!(!c.cookie_mode);
        assert!(c.cors_origins.is_empty());
        assert_eq!(c.password_policy.min_length, 8);
        assert!(c.signup_enabled);
        assert_eq!(c.default_role, "user");
        assert_eq!(c.reset_ttl_seconds, 1800);
        assert_eq!(c.audit_retention_seconds, 90 * 86_400);
        assert!(c.mail_webhook.is_none());
        assert_eq!(
            c.limits.login_ip,
            Some(crate::rate_limit::WindowLimit { count: 10, window_seconds: 900 })
        );
        assert_eq!(c.limits.account.hard_limit, 100);
    }

    #[test]
    fn account_settings_are_read_and_checked() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("ROLES", "cajero"),
            ("DEFAULT_ROLE", "cajero"),
            ("SIGNUP_ENABLED", "false"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("RESET_TOKEN_TTL", "10m"),
            ("AUDIT_RETENTION", "30d"),
            ("MAIL_WEBHOOK_URL", "https://mail.example.com/hook"),
            ("MAIL_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(c.default_role, "cajero");
        assert!(!c.signup_enabled);
        assert_eq!(c.password_policy.min_length, 12);
        assert_eq!(c.reset_ttl_seconds, 600);
        assert_eq!(c.audit_retention_seconds, 30 * 86_400);
        assert!(config(&[("JWT_SECRET", SECRET), ("AUDIT_RETENTION", "forever")]).is_err());
        assert_eq!(c.mail_webhook.as_ref().unwrap().url, "https://mail.example.com/hook");
        assert!(!format!("{:?}", c.mail_webhook).contains("0123456789abcdef"));
        for bad in [
            vec![("DEFAULT_ROLE", "admin")],
            vec![("DEFAULT_ROLE", "ghost")],
            vec![("PASSWORD_MIN_LENGTH", "4")],
            // 7 too: the common-password set leaves out entries shorter than 8 (common_passwords.rs).
            vec![("PASSWORD_MIN_LENGTH", "7")],
            vec![("RESET_URL_TEMPLATE", "https://app/reset")],
            vec![("MAIL_WEBHOOK_URL", "https://mail.example.com/hook")],
            vec![("SIGNUP_ENABLED", "maybe")],
        ] {
            let mut pairs = vec![("JWT_SECRET", SECRET)];
            pairs.extend(bad.iter().copied());
            assert!(config(&pairs).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn session_settings_are_read() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("REFRESH_GRACE_PERIOD", "0"),
            ("COOKIE_MODE", "true"),
            ("CORS_ORIGINS", "https://app.example.com, http://localhost:5173/"),
        ])
        .unwrap();
        assert_eq!(c.refresh_grace_seconds, 0);
        assert!(c.cookie_mode);
        assert_eq!(c.cors_origins, vec!["https://app.example.com", "http://localhost:5173"]);
    }

    #[test]
    fn a_wildcard_origin_with_cookies_and_malformed_origins_are_refused() {
        let e =
            config(&[("JWT_SECRET", SECRET), ("COOKIE_MODE", "true"), ("CORS_ORIGINS", "*")]).unwrap_err();
        assert!(e.0.contains("CORS_ORIGINS=*"), "{e}");
        let e = config(&[("JWT_SECRET", SECRET), ("CORS_ORIGINS", "app.example.com")]).unwrap_err();
        assert!(e.0.contains("not an origin"), "{e}");
        let e = config(&[("JWT_SECRET", SECRET), ("CORS_ORIGINS", "https://a.example/path")]).unwrap_err();
        assert!(e.0.contains("not an origin"), "{e}");
        assert!(config(&[("JWT_SECRET", SECRET), ("CORS_ORIGINS", "*")]).is_ok());
    }

    #[test]
    fn every_setting_is_read_and_validated() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("BASE_PATH", "/api/auth/"),
            ("ACCESS_TOKEN_TTL", "8h"),
            ("REFRESH_TOKEN_TTL", "7d"),
            ("PASSWORD_ITERATIONS", "1000"),
            ("ROLES", "cajero, supervisor"),
            ("ENVIRONMENT", "development"),
        ])
        .unwrap();
        assert_eq!(c.base_path, "/api/auth");
        assert_eq!(c.tokens.ttl_seconds(), 28_800);
        assert_eq!(c.refresh_ttl_seconds, 604_800);
        assert_eq!(c.hasher.iterations(), 1000);
        assert!(c.knows_role("cajero") && c.knows_role("supervisor") && c.knows_role("admin"));
        assert!(!c.knows_role("root"));
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn all_problems_are_reported_together() {
        let e = config(&[
            ("BASE_PATH", "auth"),
            ("ACCESS_TOKEN_TTL", "soon"),
            ("PASSWORD_ITERATIONS", "10"),
            ("ROLES", "Bad Role"),
            ("ENVIRONMENT", "staging"),
        ])
        .unwrap_err();
        for needle in
            ["BASE_PATH", "ACCESS_TOKEN_TTL", "PASSWORD_ITERATIONS", "ROLES", "ENVIRONMENT", "JWT_SECRET"]
        {
            assert!(e.0.contains(needle), "{needle} missing from {e}");
        }
    }
}
