//! The passkey endpoints (`/auth/passkeys/...`, docs/passkeys.md). The WebAuthn checks and the rules
//! are the core's (`webauthn`, `service::passkeys`); here: the relying party of this request, the
//! bodies, and the renders.

use super::usecases::{client_info, origin};
use super::{body, handlers, response, Call};
use edge_auth_core::config::webauthn::Site;
use edge_auth_core::service::passkeys::{credential_of, parse_login_options, passkey_name};
use edge_auth_core::AuthError;
use worker::{Request, Response};

/// The relying party for this request: `WEBAUTHN_*`, or the request URL's host and origin when unset.
fn site(call: &Call<'_>) -> Result<Site, AuthError> {
    site_of(&call.req, call.p)
}

/// The optional `name` of a body, validated.
fn name_of(body: &serde_json::Map<String, serde_json::Value>) -> Result<Option<String>, AuthError> {
    let mut f = edge_auth_core::validate::Fields::new(body);
    let name = f.optional_str("name").map(str::to_string);
    f.finish()?;
    Ok(name)
}

/// `POST /auth/passkeys/register/options`: `PublicKeyCredentialCreationOptionsJSON`.
pub async fn register_options(mut call: Call<'_>) -> Result<Response, AuthError> {
    body::optional_json_object(&mut call.req).await?;
    let options = call.p.auth().passkey_register_options(call.access()?, &site(&call)?).await?;
    Ok(response::json(200, &options))
}

/// `POST /auth/passkeys/register {credential, name?}`: 201 with the passkey.
pub async fn register(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let name = passkey_name(name_of(&body)?.as_deref())?;
    let credential = credential_of(&body)?;
    let site = site(&call)?;
    let view = call.p.auth().passkey_register(call.access()?, &site, credential, name).await?;
    Ok(response::json(201, &view))
}

/// `POST /auth/passkeys/login/options {username? | mfa_token?}`: `PublicKeyCredentialRequestOptionsJSON`.
pub async fn login_options(mut call: Call<'_>) -> Result<Response, AuthError> {
    let wanted = parse_login_options(&body::optional_json_object(&mut call.req).await?)?;
    // Each answer stores a challenge: the Rate Limiting binding, when bound, caps them per client IP
    // under a key of their own (so options do not eat the budget of sign-ins).
    let ip = client_info(&call.req).ip.unwrap_or_else(|| "unknown".into());
    call.p.edge_rate_limit(&format!("passkey-options:{ip}")).await?;
    let options = call.p.auth().passkey_login_options(&site(&call)?, &wanted).await?;
    Ok(response::json(200, &options))
}

/// `POST /auth/passkeys/login {credential, mfa_token?}`: the token response (cookies in cookie mode).
/// With `mfa_token`, the second step of that password login (as `POST /auth/mfa/verify`).
pub async fn login(mut call: Call<'_>) -> Result<Response, AuthError> {
    let (p, client) = (call.p, client_info(&call.req));
    p.auth().count_login_request(&client).await?;
    let body = body::json_object(&mut call.req).await?;
    let credential = credential_of(&body)?;
    let mut f = edge_auth_core::validate::Fields::new(&body);
    let mfa_token = f.optional_str("mfa_token").map(str::to_string);
    f.finish()?;
    p.edge_rate_limit(&format!("login:{}", client.ip.as_deref().unwrap_or("unknown"))).await?;
    let site = site(&call)?;
    let tokens = match mfa_token {
        Some(token) => {
            let factor = edge_auth_core::service::mfa::SecondFactor::Passkey(credential.clone());
            p.auth().mfa_verify(&token, &factor, &site, &client).await?
        }
        None => p.auth().passkey_login(&site, credential, &client).await?,
    };
    Ok(handlers::token_response(p, &tokens))
}

/// `GET /auth/passkeys`: `{passkeys: [...]}`, newest first.
pub async fn list(call: Call<'_>) -> Result<Response, AuthError> {
    let list = call.p.auth().list_passkeys(call.access()?).await?;
    Ok(response::json(200, &list))
}

/// `PATCH /auth/passkeys/{id} {name}`.
pub async fn rename(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let name = name_of(&body)?.ok_or_else(|| AuthError::field("name", "missing", "`name` is required."))?;
    let name = passkey_name(Some(&name))?;
    let view = call.p.auth().rename_passkey(call.access()?, call.param()?, &name).await?;
    Ok(response::json(200, &view))
}

/// `DELETE /auth/passkeys/{id}`: 204.
pub async fn delete(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().delete_passkey(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// The site of a request outside a `Call` (the MFA verify endpoint).
pub fn site_of(req: &Request, p: &crate::adapters::Platform) -> Result<Site, AuthError> {
    let url = req.url().map_err(|e| AuthError::Internal(format!("request URL: {e}")))?;
    Ok(p.config.webauthn.site(&origin(req).unwrap_or_default(), url.host_str().unwrap_or_default()))
}
