//! Structured JSON log lines, one per event, through the Workers console (`wrangler tail` shows them).
//! Callers pass only what is safe to log: never a password, token, reset link or secret.

use serde_json::{json, Value};

fn emit(line: &Value) {
    worker::console_log!("{line}");
}

fn event(level: &str, event: &str, message: &str) {
    emit(&json!({"level": level, "event": event, "message": message}));
}

pub fn info(event_name: &str, fields: Value) {
    let mut line = json!({"level": "info", "event": event_name});
    if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
        line.extend(fields);
    }
    emit(&line);
}

pub fn warn(event_name: &str, message: &str) {
    event("warn", event_name, message);
}

pub fn error(event_name: &str, message: &str) {
    event("error", event_name, message);
}

/// A panic, just before the instance traps.
pub fn panic(request_id: Option<&str>, message: &str, location: Option<&str>) {
    let line = json!({"level": "error", "event": "panic", "request_id": request_id, "message": message,
                      "location": location});
    worker::console_error!("{line}");
}

/// One line per request: who asked what and how it ended. The path has no query string (which could
/// carry a token) and no body is ever logged.
pub fn request(request_id: &str, method: &str, path: &str, status: u16, code: Option<&str>, millis: u64) {
    let level = match status {
        500.. => "error",
        400.. => "warn",
        _ => "info",
    };
    emit(&json!({"level": level, "event": "request", "request_id": request_id, "method": method,
                 "path": path, "status": status, "code": code, "ms": millis}));
}
