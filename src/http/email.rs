//! Email verification's handlers: `PATCH /auth/me`, `POST /auth/verify-email`,
//! `POST /auth/verify-email/resend`, and the link after a signup. Mail goes out after the response
//! (`waitUntil`), like forgot-password's.

use super::usecases::origin;
use super::{body, response, Call};
use crate::adapters::Platform;
use edge_auth_core::email::Mail;
use edge_auth_core::service::{UpdateMeRequest, VerifyEmailRequest};
use edge_auth_core::user::User;
use edge_auth_core::AuthError;
use serde_json::json;
use worker::{Context, Response};

/// `PATCH /auth/me` `{email?, display_name?}`: 200 with the user object (its `email` is still the
/// old address while a new one waits for verification).
pub async fn update_me(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = UpdateMeRequest::parse(&body::json_object(&mut call.req).await?)?;
    let origin = origin(&call.req).unwrap_or_default();
    let auth = call.p.auth();
    let (user, mails) = auth.update_me(call.access()?, &request, &origin).await?;
    deliver_later(call.p, call.ctx, mails, auth.now);
    Ok(response::json(200, &user))
}

/// `POST /auth/verify-email` `{token}` (public: the token is the proof).
pub async fn verify_email(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = VerifyEmailRequest::parse(&body::json_object(&mut call.req).await?)?;
    call.p.auth().verify_email(&request).await?;
    Ok(response::json(200, &json!({"message": "Your email address is verified."})))
}

/// `POST /auth/verify-email/resend`: 204, with or without a mail (nothing to verify: none).
pub async fn resend(call: Call<'_>) -> Result<Response, AuthError> {
    let origin = origin(&call.req).unwrap_or_default();
    let auth = call.p.auth();
    if let Some(mail) = auth.resend_verification(call.access()?, &origin).await? {
        deliver_later(call.p, call.ctx, vec![Mail::Verify(mail)], auth.now);
    }
    Ok(response::no_content(&[]))
}

/// After a signup's response: the new account's link, when it has an address.
pub fn after_signup(p: &Platform, ctx: &Context, user: User, origin: String) {
    if user.email.is_none() {
        return;
    }
    let platform = p.clone();
    ctx.wait_until(async move {
        let auth = platform.auth();
        match auth.start_verification(&user, &origin).await {
            Ok(Some(mail)) => {
                crate::adapters::mailer::deliver_email(&platform.config, &Mail::Verify(mail), auth.now).await
            }
            Ok(None) => {}
            Err(e) => crate::log::error("verify_email", &format!("{e}: {}", e.log_detail().unwrap_or(""))),
        }
    });
}

fn deliver_later(p: &Platform, ctx: &Context, mails: Vec<Mail>, now: i64) {
    if mails.is_empty() {
        return;
    }
    let config = p.config.clone();
    ctx.wait_until(async move {
        for mail in &mails {
            crate::adapters::mailer::deliver_email(&config, mail, now).await;
        }
    });
}
