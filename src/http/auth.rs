//! Who is calling: the bearer token from the `Authorization` header, verified by the core.

use edge_auth_core::config::Config;
use edge_auth_core::token::VerifiedAccess;
use edge_auth_core::AuthError;
use worker::Request;

/// Verifies the `Authorization: Bearer <token>` header. Tokens in query strings or bodies are never
/// accepted (they leak into logs and referrers) [RFC 6750 §2.3, §5.3].
pub fn authenticate(req: &Request, config: &Config, now: i64) -> Result<VerifiedAccess, AuthError> {
    let header = req.headers().get("Authorization").ok().flatten().ok_or(AuthError::TokenMissing)?;
    let token = bearer_token(&header)?;
    config.tokens.verify(token, now)
}

/// The token of a `Bearer` credential (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::TokenInvalid)?;
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
        assert_eq!(bearer_token("Bearer"), Err(AuthError::TokenInvalid));
        assert_eq!(bearer_token("Bearer  "), Err(AuthError::TokenInvalid));
    }
}
