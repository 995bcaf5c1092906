//! CORS for the origins in `CORS_ORIGINS`, and the CSRF origin check of cookie mode.
//!
//! Unlisted origins get no CORS headers at all (the browser then refuses to expose the response).
//! Credentials are allowed only in cookie mode, and never together with `*` (config refuses that).

use edge_auth_core::config::Config;
use edge_auth_core::AuthError;
use worker::{Headers, Request};

/// How long a browser may cache a preflight answer (Chromium caps it at 2 hours).
const PREFLIGHT_MAX_AGE: &str = "600";
/// `X-D1-Bookmark`: a client sends back the bookmark it was given (`http::bookmark`).
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, X-D1-Bookmark";
const EXPOSED_HEADERS: &str = "WWW-Authenticate, Retry-After, X-D1-Bookmark";

/// The `Origin` header, when present.
pub fn request_origin(req: &Request) -> Option<String> {
    req.headers().get("Origin").ok().flatten().filter(|o| !o.is_empty())
}

/// What to send as `Access-Control-Allow-Origin` for `origin`, if it is allowed at all.
fn allow_origin<'a>(config: &Config, origin: &'a str) -> Option<&'a str> {
    if config.cors_origins.iter().any(|o| o == origin) {
        Some(origin)
    } else if config.cors_origins.iter().any(|o| o == "*") {
        Some("*")
    } else {
        None
    }
}

/// Adds the CORS headers of an actual (non-preflight) response.
pub fn decorate(headers: &Headers, config: &Config, origin: Option<&str>) {
    super::response::append(headers, "Vary", "Origin");
    let Some(allowed) = origin.and_then(|o| allow_origin(config, o)) else { return };
    super::response::set(headers, "Access-Control-Allow-Origin", allowed);
    super::response::set(headers, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
    if config.cookie_mode && allowed != "*" {
        super::response::set(headers, "Access-Control-Allow-Credentials", "true");
    }
}

/// Adds the headers of a preflight answer for an allowed origin.
pub fn preflight(headers: &Headers, config: &Config, origin: Option<&str>, methods: &[&str]) {
    if origin.and_then(|o| allow_origin(config, o)).is_none() {
        return;
    }
    super::response::set(headers, "Access-Control-Allow-Methods", &methods.join(", "));
    super::response::set(headers, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
    super::response::set(headers, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
}

/// CSRF defence for state-changing requests authenticated by cookie [RFC 6265bis §8.8; OWASP CSRF
/// Prevention CS, "Verifying Origin"]: the `Origin` must be this origin or a listed one (never via
/// `*`); without `Origin`, only `Sec-Fetch-Site: same-origin` is accepted.
pub fn check_csrf(req: &Request, config: &Config) -> Result<(), AuthError> {
    let own = super::usecases::origin(req);
    match request_origin(req) {
        Some(origin) => {
            let same = own.as_deref() == Some(origin.as_str());
            if same || config.cors_origins.iter().any(|o| o == &origin) {
                Ok(())
            } else {
                Err(AuthError::CsrfRejected)
            }
        }
        None => match req.headers().get("Sec-Fetch-Site").ok().flatten().as_deref() {
            Some("same-origin") => Ok(()),
            // Neither header: not a browser (`CSRF_ALLOW_NON_BROWSER`, config/edge.rs says why).
            None if config.edge.csrf_allow_non_browser => Ok(()),
            _ => Err(AuthError::CsrfRejected),
        },
    }
}

/// Methods that change state and so need the CSRF check when authenticated by cookie.
pub fn is_unsafe(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}
