//! Cookie mode (off by default; `COOKIE_MODE=true`): the access token travels in a `__Host-` cookie
//! (HttpOnly, Secure, SameSite=Lax, Path=/) and the refresh token in a `__Secure-` cookie scoped to
//! the auth base path (HttpOnly, Secure, SameSite=Strict) [RFC 6265bis §4.1.3].

use cookie::{Cookie, SameSite};
use edge_auth_core::config::Config;
use edge_auth_core::service::TokenResponse;
use worker::{Headers, Request};

pub const ACCESS_COOKIE: &str = "__Host-edge-auth-access";
pub const REFRESH_COOKIE: &str = "__Secure-edge-auth-refresh";

/// The value of the named cookie in the request's `Cookie` header.
pub fn read(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("Cookie").ok().flatten()?;
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` headers carrying both tokens.
pub fn set_tokens(headers: &Headers, config: &Config, tokens: &TokenResponse) {
    let access = build(ACCESS_COOKIE, &tokens.access_token, "/", SameSite::Lax, tokens.expires_in as i64);
    let refresh = build(
        REFRESH_COOKIE,
        &tokens.refresh_token,
        refresh_path(config),
        SameSite::Strict,
        tokens.refresh_expires_in as i64,
    );
    let _ = headers.append("Set-Cookie", &access);
    let _ = headers.append("Set-Cookie", &refresh);
}

/// `Set-Cookie` headers that delete both cookies.
pub fn clear_tokens(headers: &Headers, config: &Config) {
    let _ = headers.append("Set-Cookie", &build(ACCESS_COOKIE, "", "/", SameSite::Lax, 0));
    let _ =
        headers.append("Set-Cookie", &build(REFRESH_COOKIE, "", refresh_path(config), SameSite::Strict, 0));
}

fn refresh_path(config: &Config) -> &str {
    if config.base_path.is_empty() {
        "/"
    } else {
        &config.base_path
    }
}

fn build(name: &'static str, value: &str, path: &str, same_site: SameSite, max_age_seconds: i64) -> String {
    Cookie::build((name, value.to_string()))
        .path(path.to_string())
        .secure(true)
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}
