//! One named `async fn` per endpoint: parse the typed request, call the use case, render.

use super::{body, cookies, cors, response, Call};
use crate::adapters::Platform;
use edge_auth_core::service::{
    ChangePasswordRequest, ClientInfo, ForgotRequest, LoginRequest, LogoutRequest, RefreshRequest,
    ResetPasswordRequest, SignupRequest, TokenResponse,
};
use edge_auth_core::AuthError;
use serde_json::json;
use worker::{Request, Response};

/// The OpenAPI document of this API (docs/openapi.json), served with `servers` set to this
/// deployment's base path.
const OPENAPI_DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// `GET /health`: 200 when D1 and KV both answer, else 503.
pub async fn health(p: &Platform) -> Result<Response, AuthError> {
    p.check_storage().await?;
    Ok(response::json(200, &json!({"status": "ok"})))
}

/// `GET /auth/openapi.json`.
pub fn openapi(p: &Platform) -> Result<Response, AuthError> {
    thread_local! {
        // Parsed and re-serialised once per isolate: the document is ~110 KB and never changes.
        static DOCUMENT: std::cell::OnceCell<String> = const { std::cell::OnceCell::new() };
    }
    let doc = match DOCUMENT.with(|d| d.get().cloned()) {
        Some(doc) => doc,
        None => {
            let doc = openapi_document(OPENAPI_DOCUMENT, &p.config.base_path)?.to_string();
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

/// `POST /auth/login`.
pub async fn login(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = LoginRequest::parse(&body::json_object(&mut call.req).await?)?;
    let (p, client) = (call.p, client_info(&call.req));
    p.edge_rate_limit(&format!("login:{}", client.ip.as_deref().unwrap_or("unknown"))).await?;
    let tokens = p.auth().login(&request, &client).await?;
    Ok(token_response(p, &tokens))
}

/// `POST /auth/refresh`: the token from the body, or (cookie mode) from the refresh cookie.
pub async fn refresh(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = RefreshRequest::parse(&body::optional_json_object(&mut call.req).await?)?;
    let (req, p) = (&call.req, call.p);
    let token = match request.refresh_token {
        Some(t) => t,
        None => match p.config.cookie_mode.then(|| cookies::read(req, cookies::REFRESH_COOKIE)).flatten() {
            Some(t) => {
                cors::check_csrf(req, &p.config)?;
                t
            }
            None => return Err(AuthError::field("refresh_token", "missing", "`refresh_token` is required.")),
        },
    };
    match p.auth().refresh(&token).await {
        Ok(tokens) => Ok(token_response(p, &tokens)),
        // A dead refresh cookie (401) is cleared, so the browser stops sending it; a passing outage
        // (503) must not sign anyone out.
        Err(e) if p.config.cookie_mode && e.status() == 401 => {
            let r = crate::error::problem_response(&e);
            cookies::clear_tokens(r.headers(), &p.config);
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// `POST /auth/logout` `{refresh_token?}`: ends the caller's session (and that of the given refresh
/// token, when it is another session of the same user).
pub async fn logout(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = LogoutRequest::parse(&body::optional_json_object(&mut call.req).await?)?;
    let (req, p) = (&call.req, call.p);
    let refresh_token = request
        .refresh_token
        .or_else(|| p.config.cookie_mode.then(|| cookies::read(req, cookies::REFRESH_COOKIE)).flatten());
    p.auth().logout(call.access()?, refresh_token.as_deref()).await?;
    Ok(signed_out(p))
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

/// `DELETE /auth/sessions/{id}`.
pub async fn delete_session(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().delete_session(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/signup`: 201 with a token response.
pub async fn signup(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let (p, client) = (call.p, client_info(&call.req));
    p.edge_rate_limit(&format!("signup:{}", client.ip.as_deref().unwrap_or("unknown"))).await?;
    let request = SignupRequest::parse(&p.config, &body)?;
    let (tokens, _) = p.auth().signup(&request, &client).await?;
    Ok(token_response(p, &tokens).with_status(201))
}

/// `PUT /auth/change-password`.
pub async fn change_password(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = ChangePasswordRequest::parse(&body::json_object(&mut call.req).await?)?;
    let (p, client) = (call.p, client_info(&call.req));
    let tokens = p.auth().change_password(call.access()?, &request, &client).await?;
    Ok(token_response(p, &tokens))
}

/// `POST /auth/forgot-password`: 202 at once, the same body whatever the account; looking the account
/// up, storing the token and delivering the mail happen after the response (`waitUntil`), so neither
/// the answer nor its timing tells whether the account exists.
pub async fn forgot_password(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = ForgotRequest::parse(&body::json_object(&mut call.req).await?)?;
    let (req, p) = (&call.req, call.p);
    let ip = client_info(req).ip.unwrap_or_else(|| "unknown".into());
    p.edge_rate_limit(&format!("forgot:{ip}")).await?;
    p.auth().check_forgot_limits(&request, &ip).await?;
    let origin = origin(req).unwrap_or_default();
    let platform = p.clone();
    call.ctx.wait_until(async move {
        let auth = platform.auth();
        match auth.forgot_password(&request, &origin).await {
            Ok(Some(mail)) => crate::adapters::mailer::deliver_reset(&platform.config, &mail, auth.now).await,
            Ok(None) => {}
            Err(e) => crate::log::error("forgot_password", &format!("{e}: {}", e.log_detail().unwrap_or(""))),
        }
    });
    Ok(response::json(
        202,
        &json!({"message": "If an account matches, a password reset link has been sent to its email address."}),
    ))
}

/// `POST /auth/reset-password` `{token, new_password}`.
pub async fn reset_password(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = ResetPasswordRequest::parse(&body::json_object(&mut call.req).await?)?;
    call.p.auth().reset_password(&request).await?;
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
fn token_response(p: &Platform, tokens: &TokenResponse) -> Response {
    let r = response::json(200, tokens);
    if p.config.cookie_mode {
        cookies::set_tokens(r.headers(), &p.config, tokens);
    }
    r
}

/// 204 after a logout; in cookie mode both cookies are cleared.
fn signed_out(p: &Platform) -> Response {
    let r = response::no_content(&[]);
    if p.config.cookie_mode {
        cookies::clear_tokens(r.headers(), &p.config);
    }
    r
}

/// User agent and client IP, for the session list.
fn client_info(req: &Request) -> ClientInfo {
    let header = |name: &str| req.headers().get(name).ok().flatten().filter(|v| !v.is_empty());
    ClientInfo { user_agent: header("User-Agent"), ip: header("CF-Connecting-IP") }
}

/// The origin (`scheme://host[:port]`) the request came to.
pub fn origin(req: &Request) -> Option<String> {
    let url = req.url().ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}
