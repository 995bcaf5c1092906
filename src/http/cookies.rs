//! Cookie mode (off by default; `COOKIE_MODE=true`): the access token travels in a `__Host-` cookie
//! (HttpOnly, Secure, SameSite=Lax, Path=/) and the refresh token in a `__Secure-` cookie scoped to
//! the auth base path (HttpOnly, Secure, SameSite=Strict) [RFC 6265bis §4.1.3].
//!
//! Written here rather than with the `cookie` crate: that crate links the `time` crate's date parser
//! and formatter (~50 KB of wasm) for `Expires`, which we never read or write; our values are
//! base64url and JWT characters, which need no escaping.

use edge_auth_core::config::Config;
use edge_auth_core::service::TokenResponse;
use worker::{Headers, Request};

pub const ACCESS_COOKIE: &str = "__Host-edge-auth-access";
pub const REFRESH_COOKIE: &str = "__Secure-edge-auth-refresh";

/// The value of the named cookie in the request's `Cookie` header (RFC 6265 §5.4: `name=value`
/// pairs separated by `; `).
pub fn read(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("Cookie").ok().flatten()?;
    find(&header, name)
}

fn find(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` headers carrying both tokens.
pub fn set_tokens(headers: &Headers, config: &Config, tokens: &TokenResponse) {
    let access = build(ACCESS_COOKIE, &tokens.access_token, "/", "Lax", tokens.expires_in);
    let refresh = build(
        REFRESH_COOKIE,
        &tokens.refresh_token,
        refresh_path(config),
        "Strict",
        tokens.refresh_expires_in,
    );
    super::response::append(headers, "Set-Cookie", &access);
    super::response::append(headers, "Set-Cookie", &refresh);
}

/// `Set-Cookie` headers that delete both cookies.
pub fn clear_tokens(headers: &Headers, config: &Config) {
    super::response::append(headers, "Set-Cookie", &build(ACCESS_COOKIE, "", "/", "Lax", 0));
    super::response::append(
        headers,
        "Set-Cookie",
        &build(REFRESH_COOKIE, "", refresh_path(config), "Strict", 0),
    );
}

fn refresh_path(config: &Config) -> &str {
    if config.base_path.is_empty() {
        "/"
    } else {
        &config.base_path
    }
}

fn build(name: &str, value: &str, path: &str, same_site: &str, max_age_seconds: u64) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age_seconds}; Secure; HttpOnly; SameSite={same_site}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; __Host-edge-auth-access=tok.en.x; __Host-edge-auth-accessX=no; b=\"q\"";
        assert_eq!(find(h, ACCESS_COOKIE).as_deref(), Some("tok.en.x"));
        assert_eq!(find(h, "b").as_deref(), Some("q"));
        assert_eq!(find(h, REFRESH_COOKIE), None);
        assert_eq!(find("__Secure-edge-auth-refresh=", REFRESH_COOKIE), None);
    }

    #[test]
    fn set_cookie_carries_every_attribute() {
        assert_eq!(
            build(ACCESS_COOKIE, "v", "/", "Lax", 900),
            "__Host-edge-auth-access=v; Path=/; Max-Age=900; Secure; HttpOnly; SameSite=Lax"
        );
    }
}
