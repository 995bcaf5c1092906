//! Reading a JSON request body: media type (415), size (413), syntax and shape (400). Nothing a client
//! sends can become a 500 here.

use edge_auth_core::AuthError;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use worker::Request;

/// Largest accepted body (16 KiB, the documented contract): a login or signup is a few hundred bytes;
/// bulk imports are split into requests that fit (`service::admin`).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Reads the body as a JSON object.
pub async fn json_object(req: &mut Request) -> Result<Map<String, Value>, AuthError> {
    let content_type = req.headers().get("Content-Type").ok().flatten().unwrap_or_default();
    if !is_json_media_type(&content_type) {
        return Err(AuthError::UnsupportedMediaType);
    }
    let bytes = read_capped(req).await?;
    parse_object(&bytes)
}

/// Like `json_object`, but an empty body is an empty object, whatever the `Content-Type` (HTTP
/// clients often send `application/json` with no body): for endpoints whose body is optional
/// (refresh by cookie, logout).
pub async fn optional_json_object(req: &mut Request) -> Result<Map<String, Value>, AuthError> {
    let content_type = req.headers().get("Content-Type").ok().flatten().unwrap_or_default();
    let bytes = read_capped(req).await?;
    if bytes.is_empty() {
        Ok(Map::new())
    } else if !is_json_media_type(&content_type) {
        Err(AuthError::UnsupportedMediaType)
    } else {
        parse_object(&bytes)
    }
}

/// The body, read chunk by chunk and abandoned (413) as soon as it passes the limit: a chunked upload
/// has no `Content-Length` to refuse it by, and buffering it whole would let anyone fill the isolate's
/// memory.
async fn read_capped(req: &mut Request) -> Result<Vec<u8>, AuthError> {
    // A declared length over the limit is refused before anything is read.
    let declared =
        req.headers().get("Content-Length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(AuthError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    let Ok(mut stream) = req.stream() else { return Ok(Vec::new()) }; // no body at all
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AuthError::bad_request("The request body could not be read."))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            // Dropping the stream cancels the rest of the upload.
            return Err(AuthError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `application/json`, with or without parameters such as `charset`, any case.
fn is_json_media_type(value: &str) -> bool {
    value.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, AuthError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AuthError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuthError::bad_request("The request body must be a JSON object.")),
        Err(_) => Err(AuthError::bad_request("The request body is not valid JSON.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised_with_parameters_and_any_case() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/jsonp"));
        assert!(!is_json_media_type(""));
    }

    #[test]
    fn bodies_are_objects_within_the_limit() {
        assert!(parse_object(br#"{"a":1}"#).is_ok());
        assert_eq!(parse_object(b"[1]").unwrap_err().status(), 400);
        assert_eq!(parse_object(b"{").unwrap_err().status(), 400);
        assert_eq!(parse_object(b"").unwrap_err().status(), 400);
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse_object(big.as_bytes()).unwrap_err().status(), 413);
    }
}
