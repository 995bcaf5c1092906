//! Response helpers. Every response gets the hygiene headers; token-bearing, personal and error
//! responses are never cached [RFC 6749 §5.1].

use serde::Serialize;
use worker::{Headers, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheControl {
    /// Tokens, personal data, errors.
    NoStore,
    /// Public documents (OpenAPI), cacheable for a few minutes.
    Public,
}

/// A JSON response with the given status, media type and caching.
pub fn json_response(
    status: u16,
    body: &impl Serialize,
    content_type: &str,
    cache: CacheControl,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    raw_json(status, bytes, content_type, cache)
}

/// A response of JSON already serialised.
pub fn raw_json(status: u16, bytes: Vec<u8>, content_type: &str, cache: CacheControl) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", content_type);
    let _ = headers.set(
        "Cache-Control",
        match cache {
            CacheControl::NoStore => "no-store",
            CacheControl::Public => "public, max-age=300",
        },
    );
    if cache == CacheControl::NoStore {
        let _ = headers.set("Pragma", "no-cache");
    }
    with_hygiene(&headers);
    Response::builder().with_status(status).with_headers(headers).fixed(bytes)
}

/// `application/json`, not cacheable.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    json_response(status, body, "application/json", CacheControl::NoStore)
}

/// An empty response (204).
pub fn no_content(extra: &[(&str, &str)]) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Cache-Control", "no-store");
    for (name, value) in extra {
        let _ = headers.set(name, value);
    }
    with_hygiene(&headers);
    Response::builder().with_status(204).with_headers(headers).empty()
}

/// Headers every JSON API response carries: no MIME sniffing, no referrer leaks, and a CSP that lets a
/// browser do nothing with the body but read it.
fn with_hygiene(headers: &Headers) {
    let _ = headers.set("X-Content-Type-Options", "nosniff");
    let _ = headers.set("Referrer-Policy", "no-referrer");
    let _ = headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}
