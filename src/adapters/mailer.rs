//! Delivers password-reset mail: a signed JSON POST to `MAIL_WEBHOOK_URL`; without a webhook, the link
//! is written to the log in development only (never in production, where it would be a credential in
//! the log).

use edge_auth_core::config::{Config, Environment};
use edge_auth_core::mail::{signature, ResetMail, SIGNATURE_HEADER};
use serde_json::json;

pub async fn deliver_reset(config: &Config, mail: &ResetMail, now: i64) {
    let Some(hook) = &config.mail_webhook else {
        if config.environment == Environment::Development {
            let line = json!({"level": "info", "event": "password_reset_link", "username": mail.username,
                              "to": mail.to, "link": mail.link, "note": "development only: no MAIL_WEBHOOK_URL"});
            crate::adapters::bindings::console_log(&line.to_string());
        } else {
            crate::log::error(
                "password_reset",
                "a reset was requested but MAIL_WEBHOOK_URL is not configured",
            );
        }
        return;
    };
    let body = serde_json::to_string(mail).unwrap_or_default();
    let signed = signature(&hook.secret, now, &body);
    let headers = [("Content-Type", "application/json"), (SIGNATURE_HEADER, signed.as_str())];
    let result = super::bindings::post(&hook.url, &headers, &body).await;
    match result {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => crate::log::error("password_reset", &format!("mail webhook answered {status}")),
        Err(e) => crate::log::error("password_reset", &format!("mail webhook failed: {e}")),
    }
}
