//! Who is calling: the bearer token from the `Authorization` header (or, in cookie mode and only
//! without that header, the access cookie), verified and checked against revocations by the core.

use super::{cookies, cors};
use crate::adapters::Platform;
use edge_auth_core::token::VerifiedAccess;
use edge_auth_core::AuthError;
use worker::Request;

/// Authenticates the request. Tokens in query strings or bodies are never accepted (they leak into
/// logs and referrers) [RFC 6750 §2.3, §5.3]. KV: one bulk read of two keys. D1: none.
pub async fn authenticate(req: &Request, p: &Platform) -> Result<VerifiedAccess, AuthError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let token = match header {
        Some(h) => bearer_token(&h)?.to_string(),
        None if p.config.cookie_mode => {
            let token = cookies::read(req, &p.config.edge.access_cookie).ok_or(AuthError::TokenMissing)?;
            if cors::is_unsafe(&req.inner().method().to_ascii_uppercase()) {
                cors::check_csrf(req, &p.config)?;
            }
            token
        }
        None => return Err(AuthError::TokenMissing),
    };
    p.auth().authenticate(&token).await
}

/// Like `authenticate`, but a bearer token that is no access token may be the enrolment `mfa_token`
/// of a login whose role must set up a second factor first (`MFA_REQUIRED_ROLES`).
pub async fn authenticate_or_enrolling(req: &Request, p: &Platform) -> Result<VerifiedAccess, AuthError> {
    match authenticate(req, p).await {
        Err(AuthError::TokenInvalid) => {
            let header = req.headers().get("Authorization").ok().flatten().unwrap_or_default();
            let token = bearer_token(&header)?;
            p.auth().enrolling(token).await
        }
        other => other,
    }
}

/// The token of a `Bearer` credential (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let header = header.trim();
    if header.eq_ignore_ascii_case("bearer") {
        // The scheme without a token: nothing was presented (RFC 6750 §3.1 "invalid_request").
        return Err(AuthError::TokenMissing);
    }
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::TokenInvalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::TokenInvalid);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::TokenMissing);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_credentials_are_read() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(bearer_token("bearer   abc"), Ok("abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), Err(AuthError::TokenInvalid));
        assert_eq!(bearer_token("Bearer"), Err(AuthError::TokenMissing));
        assert_eq!(bearer_token("Bearer  "), Err(AuthError::TokenMissing));
        assert_eq!(bearer_token("Token abc"), Err(AuthError::TokenInvalid));
    }
}
