//! Configuration: every variable and secret is read here, once, validated, and turned into typed
//! values. The Worker passes a lookup function over its `env`; tests pass a map.

use crate::b64::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use crate::password::{PasswordHasher, DEFAULT_ITERATIONS};
use crate::policy::{PasswordPolicy, DEFAULT_MIN_LENGTH};
use crate::rate_limit::{AccountPolicy, WindowLimit};
use crate::roles;
use crate::session::{PresentedRefresh, RefreshKey, DEFAULT_GRACE_SECONDS};
use crate::token::{EdPublicKey, EdSigningKey, HmacKey, SigningKey, TokenService, VerifyingKey};

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
    /// Link sent for a reset; `{token}` is replaced by the token and `{origin}` by the origin of the
    /// request that asked for it (`RESET_URL_TEMPLATE`).
    pub reset_url_template: String,
    /// Where reset emails are POSTed as signed JSON (`MAIL_WEBHOOK_URL`); `None` means no delivery
    /// (in development the link is logged instead).
    pub mail_webhook: Option<MailWebhook>,
    /// Rate limits (`RATE_LIMIT_*`, `LOGIN_*`).
    pub limits: Limits,
}

/// Every rate limit; `None` windows are switched off (`off`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Failed logins per client IP (`RATE_LIMIT_LOGIN_IP`, default 10/15m).
    pub login_ip: Option<WindowLimit>,
    /// Signups per client IP (`RATE_LIMIT_SIGNUP_IP`, default 5/1h).
    pub signup_ip: Option<WindowLimit>,
    /// Forgot-password requests per client IP (`RATE_LIMIT_FORGOT_IP`, default 5/15m).
    pub forgot_ip: Option<WindowLimit>,
    /// Forgot-password requests per address (`RATE_LIMIT_FORGOT_ADDRESS`, default 3/1h).
    pub forgot_address: Option<WindowLimit>,
    /// Progressive delay per account (`LOGIN_FREE_FAILURES`, `LOGIN_MAX_DELAY`).
    pub account: AccountPolicy,
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

        let base_path = get("BASE_PATH").unwrap_or_else(|| "/auth".into());
        let base_path = base_path.trim_end_matches('/').to_string();
        if !base_path.starts_with('/')
            || base_path.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
        {
            problems.push(format!("BASE_PATH must be a path starting with '/', got {base_path:?}"));
        }

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
        let signup_enabled = bool_setting(&get, "SIGNUP_ENABLED", true, &mut problems);
        let default_role = get("DEFAULT_ROLE").unwrap_or_else(|| roles::USER.into());
        if default_role == roles::ADMIN || !roles_list.iter().any(|r| r == &default_role) {
            problems.push(format!(
                "DEFAULT_ROLE must be a known role other than admin (built-in or listed in ROLES), got {default_role:?}"
            ));
        }
        let reset_ttl_seconds = duration_setting(&get, "RESET_TOKEN_TTL", 30 * 60, &mut problems);
        let reset_url_template =
            get("RESET_URL_TEMPLATE").unwrap_or_else(|| "{origin}/reset-password?token={token}".into());
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

        let window = |name: &str, default: &str, problems: &mut Vec<String>| {
            let raw = get(name).unwrap_or_else(|| default.to_string());
            WindowLimit::parse(&raw).unwrap_or_else(|e| {
                problems.push(format!("{name}: {e}"));
                None
            })
        };
        let login_ip = window("RATE_LIMIT_LOGIN_IP", "10/15m", &mut problems);
        let signup_ip = window("RATE_LIMIT_SIGNUP_IP", "5/1h", &mut problems);
        let forgot_ip = window("RATE_LIMIT_FORGOT_IP", "5/15m", &mut problems);
        let forgot_address = window("RATE_LIMIT_FORGOT_ADDRESS", "3/1h", &mut problems);
        let mut account = AccountPolicy::default();
        if let Some(v) = get("LOGIN_FREE_FAILURES") {
            match v.parse::<u32>() {
                Ok(n) if n < account.hard_limit => account.free_failures = n,
                _ => problems.push(format!("LOGIN_FREE_FAILURES must be a number below 100, got {v:?}")),
            }
        }
        account.max_delay_seconds =
            duration_setting(&get, "LOGIN_MAX_DELAY", account.max_delay_seconds, &mut problems);
        let limits = Limits { login_ip, signup_ip, forgot_ip, forgot_address, account };

        let environment = match get("ENVIRONMENT").as_deref() {
            None | Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                problems.push(format!("ENVIRONMENT must be 'production' or 'development', got {other:?}"));
                Environment::Production
            }
        };

        // JWT_SECRET is always required: it signs HS256 tokens and is the root of the refresh-token key.
        let secret = match get("JWT_SECRET") {
            None => {
                problems.push(
                    "JWT_SECRET is not set: set it with `wrangler secret put JWT_SECRET` (32+ random bytes)"
                        .into(),
                );
                None
            }
            Some(s) => HmacKey::new(s.as_bytes())
                .map(|k| (k, RefreshKey::derive(s.as_bytes())))
                .map_err(|e| problems.push(format!("JWT_SECRET: {e}")))
                .ok(),
        };
        let mut previous: Vec<VerifyingKey> = Vec::new();
        let mut previous_refresh_keys = Vec::new();
        for (i, s) in get("JWT_PREVIOUS_SECRETS").unwrap_or_default().split(',').map(str::trim).enumerate() {
            if s.is_empty() {
                continue;
            }
            match HmacKey::new(s.as_bytes()) {
                Ok(k) => {
                    previous.push(VerifyingKey::Hs256(k));
                    previous_refresh_keys.push(RefreshKey::derive(s.as_bytes()));
                }
                Err(e) => problems.push(format!("JWT_PREVIOUS_SECRETS entry {}: {e}", i + 1)),
            }
        }
        for (i, s) in
            get("JWT_PREVIOUS_PUBLIC_KEYS").unwrap_or_default().split(',').map(str::trim).enumerate()
        {
            if s.is_empty() {
                continue;
            }
            match decode_key(s).and_then(|b| EdPublicKey::from_bytes(&b)) {
                Ok(k) => previous.push(VerifyingKey::EdDsa(k)),
                Err(e) => problems.push(format!("JWT_PREVIOUS_PUBLIC_KEYS entry {}: {e}", i + 1)),
            }
        }
        let signing = match (get("JWT_ALGORITHM").as_deref(), &secret) {
            (None | Some("HS256"), Some((hmac, _))) => Some(SigningKey::Hs256(hmac.clone())),
            (Some("EdDSA"), _) => match get("JWT_PRIVATE_KEY")
                .map(|k| decode_key(&k).and_then(|b| EdSigningKey::from_private(&b)))
            {
                Some(Ok(k)) => Some(SigningKey::EdDsa(k)),
                Some(Err(e)) => {
                    problems.push(format!("JWT_PRIVATE_KEY: {e}"));
                    None
                }
                None => {
                    problems.push("JWT_ALGORITHM=EdDSA needs the secret JWT_PRIVATE_KEY (make one with `edge-auth-cli gen-ed25519-key`)".into());
                    None
                }
            },
            (Some(other), _) if other != "HS256" => {
                problems.push(format!("JWT_ALGORITHM must be HS256 or EdDSA, got {other:?}"));
                None
            }
            _ => None,
        };
        let issuer = get("JWT_ISSUER").unwrap_or_else(|| "edge-auth".into());
        let audience = get("JWT_AUDIENCE").unwrap_or_else(|| "edge-auth".into());

        match (problems.is_empty(), signing, secret, hasher) {
            (true, Some(signing), Some((_, refresh_key)), Some(hasher)) => Ok(Config {
                base_path,
                tokens: TokenService::new(issuer, audience, access_ttl, signing, previous),
                hasher,
                refresh_ttl_seconds,
                refresh_key,
                previous_refresh_keys,
                refresh_grace_seconds,
                cookie_mode,
                cors_origins,
                password_policy: PasswordPolicy { min_length: password_min },
                signup_enabled,
                default_role,
                reset_ttl_seconds,
                reset_url_template,
                mail_webhook,
                limits,
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

/// A key given as base64url or standard base64, padded or not.
pub fn decode_key(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).map_err(|_| "not base64url".to_string())
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

fn duration_setting(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    problems: &mut Vec<String>,
) -> u64 {
    match get(name) {
        None => default,
        Some(v) => parse_duration(&v).unwrap_or_else(|| {
            problems.push(format!("{name} must be a duration such as 900, 900s, 15m, 8h or 7d, got {v:?}"));
            default
        }),
    }
}

/// The longest duration a setting accepts (ten years).
pub const MAX_DURATION_SECONDS: u64 = 10 * 365 * 86_400;

/// Parses a positive duration: a whole number with an optional unit `s`, `m`, `h` or `d`
/// (`900`, `15m`, `8h`, `10h`, `7d`). Returns seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    // At most ten years: token expiry and the dates the API shows (`user::rfc3339`, years 0000-9999)
    // stay far inside their ranges.
    n.checked_mul(factor).filter(|v| *v > 0 && *v <= MAX_DURATION_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn durations_accept_seconds_minutes_hours_and_days() {
        assert_eq!(parse_duration("900"), Some(900));
        assert_eq!(parse_duration("900s"), Some(900));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("8h"), Some(28_800));
        assert_eq!(parse_duration("10h"), Some(36_000));
        assert_eq!(parse_duration("7d"), Some(604_800));
        for bad in ["", "0", "-5m", "15 minutes", "1.5h", "h", "99999999999999999999d", "100000000d", "3651d"]
        {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
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
        assert!(c.mail_webhook.is_none());
        assert_eq!(c.limits.login_ip, Some(WindowLimit { count: 10, window_seconds: 900 }));
        assert_eq!(c.limits.account.hard_limit, 100);
    }

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
    fn account_settings_are_read_and_checked() {
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("ROLES", "cajero"),
            ("DEFAULT_ROLE", "cajero"),
            ("SIGNUP_ENABLED", "false"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("RESET_TOKEN_TTL", "10m"),
            ("MAIL_WEBHOOK_URL", "https://mail.example.com/hook"),
            ("MAIL_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(c.default_role, "cajero");
        assert!(!c.signup_enabled);
        assert_eq!(c.password_policy.min_length, 12);
        assert_eq!(c.reset_ttl_seconds, 600);
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
    fn eddsa_mode_reads_the_private_key_and_previous_public_keys() {
        let seed = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let old =
            EdSigningKey::from_private(&[8u8; 32]).unwrap().public().jwk()["x"].as_str().unwrap().to_string();
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_PRIVATE_KEY", &seed),
            ("JWT_PREVIOUS_PUBLIC_KEYS", &old),
        ])
        .unwrap();
        assert_eq!(c.tokens.algorithm(), "EdDSA");
        assert_eq!(c.tokens.jwks()["keys"].as_array().unwrap().len(), 2);
        for bad in [
            vec![("JWT_ALGORITHM", "EdDSA")],
            vec![("JWT_ALGORITHM", "EdDSA"), ("JWT_PRIVATE_KEY", "c2hvcnQ")],
            vec![("JWT_ALGORITHM", "RS256")],
            vec![("JWT_ALGORITHM", "none")],
            vec![("JWT_PREVIOUS_PUBLIC_KEYS", "AAAA")],
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
    fn a_missing_or_short_secret_is_a_config_error_that_names_it() {
        let e = config(&[]).unwrap_err();
        assert!(e.0.contains("JWT_SECRET is not set"), "{e}");
        let e = config(&[("JWT_SECRET", "short")]).unwrap_err();
        assert!(e.0.contains("at least 32 bytes"), "{e}");
        assert!(!e.0.contains("short\""), "the secret itself must not be echoed: {e}");
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
