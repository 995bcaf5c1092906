//! One named `async fn` per endpoint: parse the typed request, call the use case, render.

use super::usecases::{self, Outcome, UseCase};
use super::{cookies, response, Call};
use crate::adapters::Platform;
use edge_auth_core::service::TokenResponse;
use edge_auth_core::AuthError;
use serde_json::json;
use worker::Response;

/// The OpenAPI document of this API (docs/openapi.json), served with `servers` set to this
/// deployment's base path.
const OPENAPI_DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// `GET /auth/openapi.json`.
pub fn openapi(p: &Platform) -> Result<Response, AuthError> {
    thread_local! {
        // Parsed and re-serialised once per isolate: the document is ~110 KB and never changes.
        static DOCUMENT: std::cell::OnceCell<String> = const { std::cell::OnceCell::new() };
    }
    let doc = match DOCUMENT.with(|d| d.get().cloned()) {
        Some(doc) => doc,
        None => {
            let mut doc = openapi_document(OPENAPI_DOCUMENT, &p.config.base_path)?;
            doc = super::contract::apply(doc, &p.config);
            if let Some(profile) = &p.profile {
                doc = super::profiles::openapi_document(doc, profile, &p.config.base_path);
            }
            let doc = doc.to_string();
            DOCUMENT.with(|d| d.get_or_init(|| doc).clone())
        }
    };
    Ok(response::raw_json(200, doc.into_bytes(), "application/json", response::CacheControl::Public))
}

/// `GET /.well-known/jwks.json`: the public keys of EdDSA mode (current and previous), so other
/// services verify tokens without sharing a secret. Empty in HS256 mode: HMAC keys are never published.
pub fn jwks(p: &Platform) -> Response {
    response::json_response(
        200,
        &p.config.tokens.jwks(),
        "application/jwk-set+json",
        response::CacheControl::Public,
    )
}

/// `GET /auth/return-origins`: the origins the hosted pages may send a person back to after sign-in
/// (`?return_to=`): the deployment's `CORS_ORIGINS`, never `*` (a wildcard would make every site a
/// redirect target). Public: browsers already learn them from the CORS headers.
pub fn return_origins(p: &Platform) -> Response {
    let origins: Vec<&str> = p.config.cors_origins.iter().map(String::as_str).filter(|o| *o != "*").collect();
    response::json_response(
        200,
        &json!({ "origins": origins }),
        "application/json",
        response::CacheControl::Public,
    )
}

/// `POST /auth/login`, `POST /auth/refresh`, `POST /auth/signup` (201), `PUT /auth/change-password`:
/// a token response; in cookie mode the tokens also go into their cookies.
pub async fn tokens(mut call: Call<'_>, use_case: UseCase) -> Result<Response, AuthError> {
    let result = usecases::run(use_case, &mut call, &usecases::native).await;
    let p = call.p;
    match result {
        Ok(Outcome::Tokens(tokens)) => {
            let status = if use_case == UseCase::Signup { 201 } else { 200 };
            Ok(token_response(p, &tokens).with_status(status))
        }
        Ok(_) => Err(AuthError::Internal(format!("{use_case:?} did not produce tokens"))),
        Err(e) => refresh_failed(p, use_case, e),
    }
}

/// In cookie mode a dead refresh cookie (401) is cleared, so the browser stops sending it; a passing
/// outage (503) must not sign anyone out.
pub fn refresh_failed(p: &Platform, use_case: UseCase, e: AuthError) -> Result<Response, AuthError> {
    if use_case == UseCase::Refresh && p.config.cookie_mode && e.status() == 401 {
        let r = crate::error::problem_response(&e);
        cookies::clear_tokens(r.headers(), &p.config);
        return Ok(r);
    }
    Err(e)
}

/// `POST /auth/logout` `{refresh_token?}`: 204; in cookie mode both cookies are cleared.
pub async fn logout(mut call: Call<'_>) -> Result<Response, AuthError> {
    usecases::run(UseCase::Logout, &mut call, &usecases::native).await?;
    Ok(signed_out(call.p))
}

/// `POST /auth/logout-all`: ends every session and outstanding access token of the caller.
pub async fn logout_all(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().logout_all(call.access()?).await?;
    Ok(signed_out(call.p))
}

/// `GET /auth/profile` and `GET /auth/me`.
pub async fn profile(call: Call<'_>) -> Result<Response, AuthError> {
    let user = call.p.auth().profile(call.access()?).await?;
    Ok(response::json(200, &user))
}

/// `GET /auth/sessions`.
pub async fn list_sessions(call: Call<'_>) -> Result<Response, AuthError> {
    let sessions = call.p.auth().list_sessions(call.access()?).await?;
    Ok(response::json(200, &json!({ "sessions": sessions })))
}

/// `GET /auth/me/sign-ins`: the caller's last 20 sign-in steps.
pub async fn sign_ins(call: Call<'_>) -> Result<Response, AuthError> {
    let list = call.p.auth().my_sign_ins(call.access()?).await?;
    Ok(response::json(200, &list))
}

/// `DELETE /auth/sessions/{id}`.
pub async fn delete_session(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().delete_session(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/forgot-password`: 202 at once, the same body whatever the account (`usecases` says why).
pub async fn forgot_password(mut call: Call<'_>) -> Result<Response, AuthError> {
    usecases::run(UseCase::ForgotPassword, &mut call, &usecases::native).await?;
    Ok(response::json(
        202,
        &json!({"message": "If an account matches, a password reset link has been sent to its email address."}),
    ))
}

/// `POST /auth/reset-password` `{token, new_password}`.
pub async fn reset_password(mut call: Call<'_>) -> Result<Response, AuthError> {
    usecases::run(UseCase::ResetPassword, &mut call, &usecases::native).await?;
    Ok(response::json(200, &json!({"message": "Your password has been changed. Please sign in again."})))
}

/// The OpenAPI document with `servers` pointing at the configured base path.
fn openapi_document(text: &str, base_path: &str) -> Result<serde_json::Value, AuthError> {
    let mut doc: serde_json::Value = serde_json::from_slice(text.as_bytes())
        .map_err(|e| AuthError::Internal(format!("the OpenAPI document does not parse: {e}")))?;
    doc["servers"] = json!([{"url": base_path, "description": "this deployment's auth base path"}]);
    Ok(doc)
}

/// A token response; in cookie mode the tokens also go into their cookies.
pub fn token_response(p: &Platform, tokens: &TokenResponse) -> Response {
    let r = response::json(200, tokens);
    if p.config.cookie_mode {
        cookies::set_tokens(r.headers(), &p.config, tokens);
    }
    r
}

/// 204 after a logout; in cookie mode both cookies are cleared.
pub fn signed_out(p: &Platform) -> Response {
    let r = response::no_content(&[]);
    if p.config.cookie_mode {
        cookies::clear_tokens(r.headers(), &p.config);
    }
    r
}
