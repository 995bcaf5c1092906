//! Response helpers. Every response gets the hygiene headers; token-bearing, personal and error
//! responses are never cached [RFC 6749 §5.1].

use serde::Serialize;
use worker::{Headers, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheControl {
    /// Tokens, personal data, errors.
    NoStore,
    /// Public documents (OpenAPI, JWKS), cacheable for a few minutes.
    Public,
}

/// Sets a header we chose. Our names and values are always valid, so the runtime cannot refuse them.
pub fn set(headers: &Headers, name: &str, value: &str) {
    let _ = headers.set(name, value);
}

/// Adds a value (for `Set-Cookie` and `Vary`, which must not replace earlier ones).
pub fn append(headers: &Headers, name: &str, value: &str) {
    let _ = headers.append(name, value);
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
    set(&headers, "Content-Type", content_type);
    set(
        &headers,
        "Cache-Control",
        match cache {
            CacheControl::NoStore => "no-store",
            CacheControl::Public => "public, max-age=300",
        },
    );
    if cache == CacheControl::NoStore {
        set(&headers, "Pragma", "no-cache");
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
    set(&headers, "Cache-Control", "no-store");
    for (name, value) in extra {
        set(&headers, name, value);
    }
    with_hygiene(&headers);
    Response::builder().with_status(204).with_headers(headers).empty()
}

/// The same status and headers without the body (for `HEAD`).
pub fn without_body(response: Response) -> Response {
    let (builder, _) = response.into_parts();
    builder.empty()
}

/// Headers every JSON API response carries: no MIME sniffing, no referrer leaks, and a CSP that lets a
/// browser do nothing with the body but read it.
fn with_hygiene(headers: &Headers) {
    set(headers, "X-Content-Type-Options", "nosniff");
    set(headers, "Referrer-Policy", "no-referrer");
    set(headers, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}
