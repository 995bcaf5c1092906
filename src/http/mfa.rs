//! The second-factor endpoints (`/auth/mfa/...`): TOTP set-up, enabling, disabling, new recovery
//! codes, and the second step of a login. The rules are the core's (`service::mfa`).

use super::usecases::client_info;
use super::{body, handlers, response, Call};
use edge_auth_core::service::mfa::{parse_factor, MfaVerifyRequest};
use edge_auth_core::AuthError;
use worker::Response;

/// `POST /auth/mfa/totp/setup`: `{otpauth_uri, secret, qr_svg}`. D1: one read, one write.
pub async fn setup(call: Call<'_>) -> Result<Response, AuthError> {
    let setup = call.p.auth().totp_setup(call.access()?).await?;
    Ok(response::json(200, &setup))
}

/// `POST /auth/mfa/totp/enable {code}`: `{recovery_codes}` (shown once).
pub async fn enable(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let mut f = edge_auth_core::validate::Fields::new(&body);
    let code = f.required_str("code").map(str::to_string);
    f.finish()?;
    let code = code.ok_or_else(|| AuthError::field("code", "missing", "`code` is required."))?;
    let codes = call.p.auth().totp_enable(call.access()?, &code).await?;
    Ok(response::json(200, &codes))
}

/// `POST /auth/mfa/totp/disable {code | recovery_code}`: 204.
pub async fn disable(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let factor =
        parse_factor(&body, true)?.ok_or_else(|| AuthError::bad_request("A second factor is required."))?;
    call.p.auth().totp_disable(call.access()?, &factor).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/mfa/recovery-codes {code? | recovery_code?}`: a new set (the old one dies).
pub async fn recovery_codes(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::optional_json_object(&mut call.req).await?;
    let factor = parse_factor(&body, false)?;
    let codes = call.p.auth().regenerate_recovery_codes(call.access()?, factor.as_ref()).await?;
    Ok(response::json(200, &codes))
}

/// `POST /auth/mfa/verify {mfa_token, code | recovery_code | credential}`: the token response of the login.
pub async fn verify(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = MfaVerifyRequest::parse(&body::json_object(&mut call.req).await?)?;
    let (p, client) = (call.p, client_info(&call.req));
    let site = super::passkeys::site_of(&call.req, p)?;
    let tokens = p.auth().mfa_verify(&request.mfa_token, &request.factor, &site, &client).await?;
    Ok(handlers::token_response(p, &tokens))
}
