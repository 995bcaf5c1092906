//! Response helpers. Every response gets the hygiene headers; token-bearing, personal and error
//! responses are never cached [RFC 6749 §5.1].

use crate::adapters::bindings::{Headers, JsResponse};
use serde::Serialize;

/// A response being built: status, headers (a JavaScript `Headers`, so `Set-Cookie` values stay
/// separate) and body. `into_js` hands it to the runtime.
pub struct Response {
    status: u16,
    headers: Headers,
    body: Option<Vec<u8>>,
}

impl Response {
    pub fn status_code(&self) -> u16 {
        self.status
    }

    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same status and headers without the body (for `HEAD`).
    pub fn without_body(mut self) -> Self {
        self.body = None;
        self
    }

    pub fn into_js(self) -> JsResponse {
        JsResponse::new(self.status, &self.headers, self.body.as_deref())
    }
}

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
    headers.set("Content-Type", content_type);
    headers.set(
        "Cache-Control",
        match cache {
            CacheControl::NoStore => "no-store",
            CacheControl::Public => "public, max-age=300",
        },
    );
    if cache == CacheControl::NoStore {
        headers.set("Pragma", "no-cache");
    }
    with_hygiene(&headers);
    Response { status, headers, body: Some(bytes) }
}

/// `application/json`, not cacheable.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    json_response(status, body, "application/json", CacheControl::NoStore)
}

/// An empty response (204).
pub fn no_content(extra: &[(&str, &str)]) -> Response {
    let headers = Headers::new();
    headers.set("Cache-Control", "no-store");
    for (name, value) in extra {
        headers.set(name, value);
    }
    with_hygiene(&headers);
    Response { status: 204, headers, body: None }
}

/// Headers every JSON API response carries: no MIME sniffing, no referrer leaks, and a CSP that lets a
/// browser do nothing with the body but read it.
fn with_hygiene(headers: &Headers) {
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}
