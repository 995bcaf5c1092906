//! Settings of the HTTP edge that change how things are presented, never what is decided: role
//! labels, cookie names, what a cookie request must show against CSRF, and the key that encrypts the
//! user data some profiles return. The compatibility profiles set them (their documents fix them);
//! any deployment may.

use super::decode_key;
use crate::roles;

/// The cookies of cookie mode, by default with the `__Host-`/`__Secure-` prefixes [RFC 6265bis §4.1.3].
pub const DEFAULT_ACCESS_COOKIE: &str = "__Host-edge-auth-access";
pub const DEFAULT_REFRESH_COOKIE: &str = "__Secure-edge-auth-refresh";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSettings {
    /// `ROLE_LABELS` (`role=Label,...`): the name a profile shows for a role (e.g. `Administrador`).
    pub role_labels: Vec<(String, String)>,
    /// `ACCESS_COOKIE_NAME`, `REFRESH_COOKIE_NAME`.
    pub access_cookie: String,
    pub refresh_cookie: String,
    /// `CSRF_ALLOW_NON_BROWSER`: a cookie request with neither `Origin` nor `Sec-Fetch-Site` is let
    /// through. Every browser that can be made to send a cross-site request sends one of them (Fetch
    /// Metadata, and `Origin` on every cross-site POST), so such a request comes from a program that
    /// holds the cookie itself (curl, a terminal), which no forged page can be; the same rule as Go's
    /// `net/http.CrossOriginProtection`. Off by default: the native API asks browsers for proof.
    pub csrf_allow_non_browser: bool,
    /// `USER_DATA_KEY` (secret; 32 bytes, base64url): encrypts the user data of the `accounts`
    /// profile's login (JWE `dir` + `A256GCM`).
    pub user_data_key: Option<UserDataKey>,
}

/// A 256-bit AES key; never shown in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct UserDataKey(pub [u8; 32]);

impl std::fmt::Debug for UserDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserDataKey(..)")
    }
}

impl EdgeSettings {
    /// The label of `role`: the last one configured for it (a deployment's labels come after its
    /// profile's), else the role's own name.
    pub fn role_label<'a>(&'a self, role: &'a str) -> &'a str {
        self.role_labels.iter().rfind(|(r, _)| r == role).map_or(role, |(_, label)| label.as_str())
    }
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> EdgeSettings {
    let mut role_labels = Vec::new();
    for pair in get("ROLE_LABELS").unwrap_or_default().split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((role, label)) if roles::is_valid_name(role.trim()) && !label.trim().is_empty() => {
                role_labels.push((role.trim().to_string(), label.trim().to_string()))
            }
            _ => problems.push(format!("ROLE_LABELS: {pair:?} is not role=Label")),
        }
    }
    let cookie = |name: &str, default: &str, problems: &mut Vec<String>| {
        let value = get(name).unwrap_or_else(|| default.to_string());
        // A cookie name is an RFC 7230 token [RFC 6265 §4.1.1].
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if value.bytes().all(token) {
            value
        } else {
            problems.push(format!("{name} must be a cookie name (letters, digits, -_.), got {value:?}"));
            default.to_string()
        }
    };
    let access_cookie = cookie("ACCESS_COOKIE_NAME", DEFAULT_ACCESS_COOKIE, problems);
    let refresh_cookie = cookie("REFRESH_COOKIE_NAME", DEFAULT_REFRESH_COOKIE, problems);
    if access_cookie == refresh_cookie {
        problems.push("ACCESS_COOKIE_NAME and REFRESH_COOKIE_NAME must differ".into());
    }
    let csrf_allow_non_browser = super::bool_setting(get, "CSRF_ALLOW_NON_BROWSER", false, problems);
    let user_data_key = get("USER_DATA_KEY").and_then(|v| match decode_key(&v) {
        Ok(bytes) => match <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(key) => Some(UserDataKey(key)),
            Err(_) => {
                problems.push(
                    "USER_DATA_KEY must be 32 bytes (base64url), e.g. `openssl rand -base64 32`".into(),
                );
                None
            }
        },
        Err(e) => {
            problems.push(format!("USER_DATA_KEY: {e}"));
            None
        }
    });
    EdgeSettings { role_labels, access_cookie, refresh_cookie, csrf_allow_non_browser, user_data_key }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{config, SECRET};

    #[test]
    fn labels_cookies_and_the_user_data_key_are_read_and_checked() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("ROLE_LABELS", "admin=Administrador, cajero=Cajero"),
            ("ACCESS_COOKIE_NAME", "accessToken"),
            ("REFRESH_COOKIE_NAME", "refreshToken"),
            ("CSRF_ALLOW_NON_BROWSER", "true"),
            ("USER_DATA_KEY", key),
            ("ROLES", "cajero"),
        ])
        .unwrap();
        assert_eq!(c.edge.role_label("admin"), "Administrador");
        assert_eq!(c.edge.role_label("user"), "user", "unlabelled roles show their name");
        assert_eq!(
            (c.edge.access_cookie.as_str(), c.edge.refresh_cookie.as_str()),
            ("accessToken", "refreshToken")
        );
        assert!(c.edge.csrf_allow_non_browser);
        assert_eq!(c.edge.user_data_key.as_ref().unwrap().0[31], 31);
        assert!(!format!("{:?}", c.edge).contains("31"), "the key is not in Debug output");
        let defaults = config(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(defaults.edge.access_cookie, super::DEFAULT_ACCESS_COOKIE);
        assert!(!defaults.edge.csrf_allow_non_browser && defaults.edge.user_data_key.is_none());
    }

    #[test]
    fn malformed_settings_are_refused() {
        for (name, value) in [
            ("ROLE_LABELS", "admin"),
            ("ROLE_LABELS", "Admin Role=X"),
            ("ACCESS_COOKIE_NAME", "a b"),
            ("REFRESH_COOKIE_NAME", "__Host-edge-auth-access"),
            ("USER_DATA_KEY", "c2hvcnQ"),
            ("CSRF_ALLOW_NON_BROWSER", "maybe"),
        ] {
            assert!(config(&[("JWT_SECRET", SECRET), (name, value)]).is_err(), "{name}={value}");
        }
    }
}
