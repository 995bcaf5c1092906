//! Structured JSON log lines. Callers pass only what is safe to log: never a password, token, reset
//! link or secret.

use serde_json::json;

fn emit(level: &str, event: &str, message: &str) {
    let line = json!({"level": level, "event": event, "message": message});
    crate::adapters::bindings::console_log(&line.to_string());
}

pub fn warn(event: &str, message: &str) {
    emit("warn", event, message);
}

pub fn error(event: &str, message: &str) {
    emit("error", event, message);
}

/// One line per request: who asked what and how it ended. The path has no query string (which could
/// carry a token) and no body is ever logged.
pub fn request(request_id: &str, method: &str, path: &str, status: u16, code: Option<&str>, millis: u64) {
    let level = match status {
        500.. => "error",
        400.. => "warn",
        _ => "info",
    };
    let line = json!({"level": level, "event": "request", "request_id": request_id, "method": method,
                      "path": path, "status": status, "code": code, "ms": millis});
    crate::adapters::bindings::console_log(&line.to_string());
}
