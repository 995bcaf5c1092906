//! Cookie mode (off by default; `COOKIE_MODE=true`): the access token travels in a cookie for the
//! whole origin (HttpOnly, Secure, SameSite=Lax, Path=/; by default named with the `__Host-` prefix)
//! and the refresh token in one scoped to the auth base path (HttpOnly, Secure, SameSite=Strict; by
//! default `__Secure-`) [RFC 6265bis §4.1.3]. The names are settings (`ACCESS_COOKIE_NAME`,
//! `REFRESH_COOKIE_NAME`): a profile keeps the names its clients know.
//!
//! Our values are base64url and JWT characters, which need no escaping; we never read or write
//! `Expires` (only `Max-Age`), so the header is a one-line format.

use edge_auth_core::config::Config;
use edge_auth_core::service::TokenResponse;
use worker::{Headers, Request};

/// The value of the named cookie in the request's `Cookie` header (RFC 6265 §5.4: `name=value`
/// pairs separated by `; `).
pub fn read(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("Cookie").ok().flatten()?;
    find(&header, name)
}

fn find(header: &str, name: &str) -> Option<String> {
    header
        // `; ` between pairs [RFC 6265 §5.4]; `, ` too, which is how the Fetch API joins two `Cookie`
        // lines (curl -H twice). Our values (JWT and base64url characters) contain neither.
        .split([';', ','])
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` headers carrying both tokens.
pub fn set_tokens(headers: &Headers, config: &Config, tokens: &TokenResponse) {
    let access = build(&config.edge.access_cookie, &tokens.access_token, "/", "Lax", tokens.expires_in);
    let refresh = build(
        &config.edge.refresh_cookie,
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
    super::response::append(headers, "Set-Cookie", &build(&config.edge.access_cookie, "", "/", "Lax", 0));
    super::response::append(
        headers,
        "Set-Cookie",
        &build(&config.edge.refresh_cookie, "", refresh_path(config), "Strict", 0),
    );
}

/// The cookie of the D1 bookmark (`http::bookmark`): not a credential, so not a setting; scoped to the
/// base path like the refresh cookie, the only paths that read it.
pub const BOOKMARK_COOKIE: &str = "__Secure-edge-auth-d1-bookmark";
/// A bookmark matters only until the replicas have caught up, seconds in practice; ten minutes is a
/// wide margin, and a stale one costs nothing (it only asks for data at least that new).
const BOOKMARK_MAX_AGE_SECONDS: u64 = 600;

/// The `Set-Cookie` header of the D1 bookmark (its value is hex digits and dashes, `adapters::bookmark`).
pub fn set_bookmark(headers: &Headers, config: &Config, bookmark: &str) {
    let cookie = build(BOOKMARK_COOKIE, bookmark, refresh_path(config), "Lax", BOOKMARK_MAX_AGE_SECONDS);
    super::response::append(headers, "Set-Cookie", &cookie);
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
    use edge_auth_core::config::edge::{
        DEFAULT_ACCESS_COOKIE as ACCESS_COOKIE, DEFAULT_REFRESH_COOKIE as REFRESH_COOKIE,
    };

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; __Host-edge-auth-access=tok.en.x; __Host-edge-auth-accessX=no; b=\"q\"";
        assert_eq!(find(h, ACCESS_COOKIE).as_deref(), Some("tok.en.x"));
        assert_eq!(find(h, "b").as_deref(), Some("q"));
        assert_eq!(find(h, REFRESH_COOKIE), None);
        assert_eq!(find("__Secure-edge-auth-refresh=", REFRESH_COOKIE), None);
        assert_eq!(find("accessToken=a.b.c, refreshToken=rt1.x", "refreshToken").as_deref(), Some("rt1.x"));
    }

    #[test]
    fn set_cookie_carries_every_attribute() {
        assert_eq!(
            build(ACCESS_COOKIE, "v", "/", "Lax", 900),
            "__Host-edge-auth-access=v; Path=/; Max-Age=900; Secure; HttpOnly; SameSite=Lax"
        );
    }
}
