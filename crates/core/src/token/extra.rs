//! Extra claims for the clients of replaced systems (`JWT_EXTRA_CLAIMS`, set by the compatibility
//! profiles): `rol` (the role), `id` (the user's number), `nombre` (the username). They are written
//! after ours and never read back: verification decides on our claims only, and ignores unknown ones.

use super::{AccessClaims, Subject};
use serde::Serialize;

/// Which extra claims new tokens carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtraClaims {
    pub rol: bool,
    pub id: bool,
    pub nombre: bool,
}

impl ExtraClaims {
    /// A comma-separated list of `rol`, `id`, `nombre`; empty is none.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut extra = ExtraClaims::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "rol" => extra.rol = true,
                "id" => extra.id = true,
                "nombre" => extra.nombre = true,
                other => return Err(format!("unknown claim {other:?} (known: rol, id, nombre)")),
            }
        }
        Ok(extra)
    }

    pub(super) fn values<'a>(&self, subject: &Subject<'a>) -> Values<'a> {
        Values {
            id: if self.id { subject.number } else { None },
            nombre: self.nombre.then_some(subject.username),
            rol: self.rol.then_some(subject.role),
        }
    }
}

/// The extra members of one token, absent when not configured.
#[derive(Debug, Serialize)]
pub(super) struct Values<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nombre: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rol: Option<&'a str>,
}

/// Our claims, then the extras.
#[derive(Debug, Serialize)]
pub(super) struct WithExtras<'a> {
    #[serde(flatten)]
    pub custom: AccessClaims,
    #[serde(flatten)]
    pub extra: Values<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{HmacKey, SigningKey, TokenService};

    fn service(extra: &str) -> TokenService {
        let key = HmacKey::new(b"0123456789abcdef0123456789abcdef-test-secret").unwrap();
        TokenService::new("edge-auth".into(), "edge-auth".into(), 900, SigningKey::Hs256(key), vec![])
            .with_extra_claims(ExtraClaims::parse(extra).unwrap())
    }

    fn payload(token: &str) -> serde_json::Value {
        let part = token.split('.').nth(1).unwrap();
        let bytes = crate::b64::URL_SAFE_NO_PAD.decode(part).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    const SUBJECT: Subject<'static> = Subject {
        user_id: "u1",
        session_id: "s1",
        role: "cajero",
        username: "juan",
        number: Some(7),
        amr: &[],
        auth_time: None,
    };

    #[test]
    fn configured_extras_are_written_with_their_types_and_the_token_still_verifies() {
        let s = service("id, nombre, rol");
        let token = s.issue(&SUBJECT, 1_780_000_000).unwrap().token;
        let p = payload(&token);
        assert_eq!(
            (p["id"].as_i64(), p["nombre"].as_str(), p["rol"].as_str()),
            (Some(7), Some("juan"), Some("cajero"))
        );
        assert_eq!(p["role"], "cajero", "our own claims stay");
        assert_eq!(s.verify(&token, 1_780_000_000).unwrap().claims.sub, "u1");
    }

    #[test]
    fn no_extras_unless_configured() {
        let token = service("").issue(&SUBJECT, 1_780_000_000).unwrap().token;
        let p = payload(&token);
        for name in ["id", "nombre", "rol"] {
            assert!(p.get(name).is_none(), "{name}");
        }
        let only_rol = payload(&service("rol").issue(&SUBJECT, 1_780_000_000).unwrap().token);
        assert!(only_rol.get("id").is_none() && only_rol["rol"] == "cajero");
    }

    #[test]
    fn unknown_extra_claims_are_refused() {
        assert!(ExtraClaims::parse("rol,admin").is_err());
        assert!(ExtraClaims::parse("sub").is_err());
    }
}
