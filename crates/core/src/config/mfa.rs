//! Second-factor settings: `MFA_ENCRYPTION_KEY` (secret; 32 bytes, base64url) seals TOTP secrets at
//! rest, so a copy of D1 alone yields none; `MFA_ISSUER` names the service in authenticator apps.

use super::decode_key;
use super::edge::UserDataKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSettings {
    /// Without it, TOTP set-up answers 503 (nothing can be sealed).
    pub key: Option<UserDataKey>,
    pub issuer: String,
    /// `MFA_REQUIRED_ROLES`: roles whose accounts must have a second factor to sign in.
    pub required_roles: Vec<String>,
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> MfaSettings {
    let key = get("MFA_ENCRYPTION_KEY").and_then(|v| {
        match decode_key(&v).map(|b| <[u8; 32]>::try_from(b.as_slice())) {
            Ok(Ok(key)) => Some(UserDataKey(key)),
            _ => {
                problems.push(
                    "MFA_ENCRYPTION_KEY must be 32 bytes, base64url (e.g. `openssl rand -base64 32`)".into(),
                );
                None
            }
        }
    });
    let required_roles = get("MFA_REQUIRED_ROLES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    MfaSettings { key, issuer: get("MFA_ISSUER").unwrap_or_else(|| "edge-auth".into()), required_roles }
}
