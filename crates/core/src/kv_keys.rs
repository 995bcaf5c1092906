//! TEMPORARY (main only, replaced by the core branch's module on merge).
pub const HEALTH_PROBE: &str = "health:probe";
pub fn revoked_session(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
}
pub fn user_not_before(user_id: &str) -> String {
    format!("user-not-before:{user_id}")
}
