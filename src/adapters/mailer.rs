//! Delivers password-reset mail: a signed JSON POST to `MAIL_WEBHOOK_URL`; without a webhook, the link
//! is written to the log in development only (never in production, where it would be a credential in
//! the log).

use edge_auth_core::config::{Config, Environment};
use edge_auth_core::email::Mail;
use edge_auth_core::mail::{signature, ResetMail, SIGNATURE_HEADER};
use serde_json::json;
use worker::{Fetch, Headers, Method, Request, RequestInit};

pub async fn deliver_reset(config: &Config, mail: &ResetMail, now: i64) {
    let Some(hook) = &config.mail_webhook else {
        if config.environment == Environment::Development {
            crate::log::info(
                "password_reset_link",
                json!({"username": mail.username, "to": mail.to, "link": mail.link,
                       "note": "development only: no MAIL_WEBHOOK_URL"}),
            );
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
    match post(&hook.url, &[("Content-Type", "application/json"), (SIGNATURE_HEADER, &signed)], body).await {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => crate::log::error("password_reset", &format!("mail webhook answered {status}")),
        Err(e) => crate::log::error("password_reset", &format!("mail webhook failed: {e}")),
    }
}

/// Delivers a mail of email verification (`verify_email`, `email_change_notice`) like reset mail:
/// signed webhook; without one, in development, the dev log (`email_verification_link`, or
/// `email_change_notice` without any link); in production a missing webhook is an error line.
pub async fn deliver_email(config: &Config, mail: &Mail, now: i64) {
    let Some(hook) = &config.mail_webhook else {
        if config.environment == Environment::Development {
            let fields = match mail {
                Mail::Verify(m) => (
                    "email_verification_link",
                    json!({"username": m.username, "to": m.to, "link": m.link,
                           "note": "development only: no MAIL_WEBHOOK_URL"}),
                ),
                Mail::ChangeNotice(m) => (
                    "email_change_notice",
                    json!({"username": m.username, "to": m.to, "new_email": m.new_email,
                           "note": "development only: no MAIL_WEBHOOK_URL"}),
                ),
            };
            crate::log::info(fields.0, fields.1);
        } else {
            crate::log::error(mail.kind(), "a mail is due but MAIL_WEBHOOK_URL is not configured");
        }
        return;
    };
    let body = serde_json::to_string(mail).unwrap_or_default();
    let signed = signature(&hook.secret, now, &body);
    match post(&hook.url, &[("Content-Type", "application/json"), (SIGNATURE_HEADER, &signed)], body).await {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => crate::log::error(mail.kind(), &format!("mail webhook answered {status}")),
        Err(e) => crate::log::error(mail.kind(), &format!("mail webhook failed: {e}")),
    }
}

/// POSTs `body` to `url`; returns the response status.
async fn post(url: &str, headers: &[(&str, &str)], body: String) -> worker::Result<u16> {
    let header_map = Headers::new();
    for (name, value) in headers {
        header_map.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(header_map).with_body(Some(body.into()));
    let request = Request::new_with_init(url, &init)?;
    Ok(Fetch::Request(request).send().await?.status_code())
}
