//! Structured JSON log lines. Callers pass only what is safe to log: never a password, token, reset
//! link or secret.

use serde_json::json;

fn emit(level: &str, event: &str, message: &str) {
    let line = json!({"level": level, "event": event, "message": message});
    worker::console_log!("{line}");
}

pub fn warn(event: &str, message: &str) {
    emit("warn", event, message);
}

pub fn error(event: &str, message: &str) {
    emit("error", event, message);
}
