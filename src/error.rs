//! Turns the one error type into an RFC 9457 problem response: `application/problem+json`,
//! `Cache-Control: no-store`, `WWW-Authenticate: Bearer error="..."` on 401 (RFC 6750 §3),
//! `Retry-After` on 429, `Allow` on 405. Internal detail is logged, never sent.

use crate::http::response::{json_response, set, CacheControl};
use edge_auth_core::AuthError;
use serde_json::json;
use worker::Response;

pub fn problem_response(err: &AuthError) -> Response {
    problem_with(err, serde_json::Map::new())
}

/// A problem with extension members of its own (RFC 9457 §3.2), e.g. the failing parts of `/health`.
pub fn problem_with(err: &AuthError, extra: serde_json::Map<String, serde_json::Value>) -> Response {
    if let Some(detail) = err.log_detail() {
        crate::log::error(err.code(), detail);
    }
    let mut body = json!({
        "type": format!("urn:edge-auth:problem:{}", err.code()),
        "title": err.title(),
        "status": err.status(),
        "detail": err.public_detail(),
        "code": err.code(),
    });
    if !err.field_errors().is_empty() {
        body["errors"] = json!(err.field_errors());
    }
    match err {
        AuthError::MfaRequired { mfa_token, methods } => {
            body["mfa_token"] = json!(mfa_token);
            body["methods"] = json!(methods);
        }
        AuthError::MfaEnrollmentRequired { mfa_token } => body["mfa_token"] = json!(mfa_token),
        _ => {}
    }
    for (name, value) in extra {
        body[name] = value;
    }
    let response = json_response(err.status(), &body, "application/problem+json", CacheControl::NoStore);
    let headers = response.headers();
    if let Some(bearer_error) = err.bearer_error() {
        let value = format!("Bearer realm=\"edge-auth\", error=\"{bearer_error}\"");
        set(headers, "WWW-Authenticate", &value);
    }
    match err {
        AuthError::RateLimited { retry_after } => {
            set(headers, "Retry-After", &retry_after.to_string());
        }
        AuthError::MethodNotAllowed { allow } => {
            set(headers, "Allow", &allow.join(", "));
        }
        _ => {}
    }
    response
}
