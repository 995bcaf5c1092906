//! Second-factor settings: `MFA_ENCRYPTION_KEY` (secret; 32 bytes, base64url) seals TOTP secrets at
//! rest, so a copy of D1 alone yields none; `MFA_ISSUER` names the service in authenticator apps.

use super::decode_key;
use super::edge::UserDataKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSettings {
    /// Without it, TOTP set-up answers 503 (nothing can be sealed).
    pub key: Option<UserDataKey>,
    pub issuer: String,
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
    MfaSettings { key, issuer: get("MFA_ISSUER").unwrap_or_else(|| "edge-auth".into()) }
}
