//! What the header of a presented token may say, on top of jwt-compact's parsing: nothing in it chooses
//! how the token is verified [RFC 8725 §3.1]. The key comes from configuration by `kid`, the algorithm
//! from that key; `typ` must be ours; members that name keys or certificates from elsewhere
//! [RFC 7515 §4.1.2-4.1.8] or make extensions critical [RFC 7515 §4.1.11] refuse the token
//! [RFC 8725 §3.10; ASVS 9.1.1-9.1.3].

use super::{VerifyingKey, ACCESS_TOKEN_MEDIA_TYPE, ACCESS_TOKEN_TYPE};
use crate::b64::URL_SAFE_NO_PAD;
use crate::error::AuthError;
use jwt_compact::UntrustedToken;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

/// The configured key that must have signed `token` (already parsed by jwt-compact as `untrusted`), if
/// its header passes: `typ`, no foreign key sources, a known `kid`, and that key's algorithm.
pub(super) fn signing_key<'k>(
    token: &str,
    untrusted: &UntrustedToken<'_>,
    keys: &'k [VerifyingKey],
) -> Result<&'k VerifyingKey, AuthError> {
    let header = untrusted.header();
    let typ_ok = header.token_type.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case(ACCESS_TOKEN_MEDIA_TYPE)
    });
    if !typ_ok || names_foreign_keys_or_extensions(token) {
        return Err(AuthError::TokenInvalid);
    }
    let kid = header.key_id.as_deref().ok_or(AuthError::TokenInvalid)?;
    let key = keys.iter().find(|k| k.kid() == kid).ok_or(AuthError::TokenInvalid)?;
    // The algorithm is the one the configured key is bound to, never the token's choice
    // [RFC 8725 §3.1]; `none` and every other name fail here. (jwt-compact's validator compares too;
    // this makes the binding ours rather than a side effect of which validator we happen to call.)
    if untrusted.algorithm() != key.algorithm() {
        return Err(AuthError::TokenInvalid);
    }
    Ok(key)
}

/// Whether the header names a key or certificate of its own, or critical extensions, with any value,
/// `null` included: jwt-compact reads `"jku": null` as absent (its members are `Option`s), and a token
/// that says `"crit": null` must not pass for one without `crit`. Read from the raw header because
/// of that; a header that cannot be read counts as naming them.
fn names_foreign_keys_or_extensions(token: &str) -> bool {
    let Some(json) = token.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok()) else {
        return true;
    };
    serde_json::from_slice::<RefusedMembers>(&json).map_or(true, |m| m.any())
}

/// The members refused whatever their value; every other member is ignored here.
#[derive(Deserialize)]
struct RefusedMembers {
    #[serde(default, deserialize_with = "present")]
    jku: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    jwk: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5u: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5c: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5t: Option<IgnoredAny>,
    #[serde(rename = "x5t#S256", default, deserialize_with = "present")]
    x5t_s256: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    crit: Option<IgnoredAny>,
}

impl RefusedMembers {
    fn any(&self) -> bool {
        [&self.jku, &self.jwk, &self.x5u, &self.x5c, &self.x5t, &self.x5t_s256, &self.crit]
            .iter()
            .any(|member| member.is_some())
    }
}

/// `Some` for a member that is there, whatever its value (a plain `Option` would read `null` as `None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IgnoredAny>, D::Error> {
    IgnoredAny::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::test_support::*;
    use serde_json::json;

    #[test]
    fn a_wrong_or_missing_type_is_refused() {
        for typ in [json!("JWT"), json!("refresh+jwt"), serde_json::Value::Null] {
            let mut h = good_header();
            h["typ"] = typ.clone();
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{typ}");
        }
        let mut h = good_header();
        h.as_object_mut().unwrap().remove("typ");
        assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "absent");
    }

    #[test]
    fn the_type_is_compared_without_regard_to_case() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
            let mut h = good_header();
            h["typ"] = json!(typ);
            assert!(header_verdict(h).is_ok(), "{typ}");
        }
        for typ in [json!("at+jwt "), json!("application/jwt"), json!(1)] {
            let mut h = good_header();
            h["typ"] = typ.clone();
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{typ}");
        }
    }

    #[test]
    fn headers_pointing_at_foreign_keys_are_refused() {
        for (name, value) in [
            ("jku", json!("https://evil.example/jwks.json")),
            ("x5u", json!("https://evil.example/cert.pem")),
            ("jwk", json!({"kty": "oct", "k": "AAAA"})),
            ("crit", json!(["exp"])),
        ] {
            let mut h = good_header();
            h[name] = value;
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{name}");
        }
    }

    #[test]
    fn certificate_headers_are_refused_too() {
        // x5c carries a certificate chain, x5t/x5t#S256 name a certificate [RFC 7515 §4.1.6-4.1.8]:
        // keys come from configuration only. These values are well-formed thumbprints, so it is our
        // check and not a parse failure that refuses them.
        for (name, value) in [
            ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
            ("x5t", json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            ("x5t#S256", json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        ] {
            let mut h = good_header();
            h[name] = value;
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{name}");
        }
    }

    #[test]
    fn key_source_headers_are_refused_whatever_their_value() {
        // Presence is what counts, `null` included (jwt-compact alone lets `"jku": null` pass).
        for name in ["jku", "x5u", "jwk", "crit", "x5c", "x5t", "x5t#S256"] {
            for value in [json!(null), json!(1), json!({}), json!([]), json!("x")] {
                let mut h = good_header();
                h[name] = value.clone();
                assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{name}: {value}");
            }
        }
    }

    #[test]
    fn members_that_only_resemble_refused_ones_are_ignored() {
        for name in ["x5t#S257", "zip", "JKU", "x-trace"] {
            let mut h = good_header();
            h[name] = json!({"deep": [1, 2]});
            assert!(header_verdict(h).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_content_type_other_than_json_is_refused() {
        // `cty` absent or "json" (any case), as jwt-compact reads it; nested JWTs and CBOR are not ours.
        for (cty, ok) in [
            (json!("json"), true),
            (json!("JSON"), true),
            (json!("JWT"), false),
            (json!("cbor"), false),
            (json!("CBOR"), false),
            (json!(1), false),
        ] {
            let mut h = good_header();
            h["cty"] = cty.clone();
            assert_eq!(header_verdict(h).is_ok(), ok, "{cty}");
        }
    }

    #[test]
    fn an_unknown_or_missing_kid_is_refused() {
        for kid in [json!("hs-unknown"), serde_json::Value::Null, json!(""), json!(kid().to_uppercase())] {
            let mut h = good_header();
            h["kid"] = kid.clone();
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{kid}");
        }
        let mut h = good_header();
        h.as_object_mut().unwrap().remove("kid");
        assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "absent");
    }

    #[test]
    fn alg_none_is_refused() {
        let mut h = good_header();
        h["alg"] = json!("none");
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(h.to_string()),
            URL_SAFE_NO_PAD.encode(good_claims().to_string())
        );
        assert_eq!(service().verify(&unsigned, NOW), Err(AuthError::TokenInvalid));
        // ...also with a MAC attached.
        assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn another_algorithm_with_the_same_secret_is_refused() {
        for alg in [json!("HS512"), json!("hs256"), json!("HS256 "), json!(null), json!(256)] {
            let mut h = good_header();
            h["alg"] = alg.clone();
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{alg}");
        }
        let mut h = good_header();
        h.as_object_mut().unwrap().remove("alg");
        assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "absent");
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        let claims = good_claims().to_string();
        for header in [
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}","kid":"{}"}}"#, kid(), kid()),
            format!(r#"{{"alg":"HS256","alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, kid()),
            format!(r#"{{"alg":"HS256","typ":"at+jwt","typ":"at+jwt","kid":"{}"}}"#, kid()),
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}","jku":null,"jku":null}}"#, kid()),
        ] {
            assert_eq!(
                service().verify(&forge_raw(&header, &claims, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{header}"
            );
        }
    }

    #[test]
    fn a_header_that_is_not_a_json_object_is_refused() {
        let header = good_header().to_string();
        let claims = good_claims().to_string();
        for h in ["not json", "", r#"["HS256"]"#, r#""HS256""#, "null", &format!("{header} trailing")] {
            assert_eq!(
                service().verify(&forge_raw(h, &claims, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{h}"
            );
        }
        assert!(service().verify(&forge_raw(&header, &claims, SECRET), NOW).is_ok());
    }

    #[test]
    fn a_token_cannot_switch_the_algorithm_of_its_key() {
        // An "HS256" token naming the Ed25519 kid, MACed with the public key bytes: the classic
        // algorithm-confusion attack.
        let s = ed_service(1, vec![]);
        let ed_kid = decode_header(&s.issue(&subject(), NOW).unwrap().token)["kid"].clone();
        let public = crate::token::EdSigningKey::from_private(&[1; 32]).unwrap().public().public;
        let forged =
            forge(json!({"alg": "HS256", "typ": "at+jwt", "kid": ed_kid}), good_claims(), &public[..]);
        assert_eq!(s.verify(&forged, NOW), Err(AuthError::TokenInvalid));
        // And an "EdDSA" token naming an HMAC kid.
        let mut h = good_header();
        h["alg"] = json!("EdDSA");
        assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid));
    }
}
