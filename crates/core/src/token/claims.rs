//! The claims of an access token [RFC 7519 §4] and their verdict once the signature is good: `exp`
//! first (the only `TokenExpired`), then `nbf`, `iss`/`aud`, `iat` [RFC 8725 §3.8-3.10]. The time
//! claims are jwt-compact's (`Claims`, NumericDates within chrono's range), checked against
//! `TimeOptions` built from our `now`.

use super::{VerifiedAccess, LEEWAY_SECONDS};
use crate::error::AuthError;
use chrono::{DateTime, TimeDelta, Utc};
use jwt_compact::{Claims, TimeOptions, ValidationError};
use serde::{Deserialize, Serialize};

/// The NumericDates [RFC 7519 §2] a token may carry: years -262143 to +262142, the range of chrono's
/// `DateTime<Utc>`, in which jwt-compact reads them (anything outside refuses the token). Values this
/// far out are never issued.
pub const MIN_NUMERIC_DATE: i64 = -8_334_601_228_800;
pub const MAX_NUMERIC_DATE: i64 = 8_210_266_876_799;

/// The claims of an access token besides `exp`/`nbf`/`iat`, which jwt-compact's `Claims` adds around
/// them. Members are written in this order, after `exp` and `iat`; each is required and a string
/// (an `aud` array [RFC 7519 §4.1.3] is not ours); unknown members are ignored; one of these twice
/// refuses the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id (ties the token to a login; logout revokes by session).
    pub sid: String,
    /// Unique token id (for the denylist).
    pub jti: String,
    pub role: String,
    pub username: String,
    /// How the login was authenticated (RFC 8176 values); absent in tokens issued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// When the login happened (unix seconds); absent in tokens issued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// The clock of `now`: unix seconds as chrono's instant, held at chrono's ends outside its range (the
/// Worker's clock is never there; the clamp only keeps extreme inputs from failing to convert).
pub(super) fn time_options(now: i64) -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    let at = DateTime::from_timestamp(now, 0).unwrap_or(if now < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    TimeOptions::new(TimeDelta::seconds(LEEWAY_SECONDS), move || at)
}

/// The claims to sign: issued at `now`, expiring `ttl_seconds` later, or at the last instant a
/// NumericDate can hold when that is sooner (so that no lifetime overflows).
pub(super) fn issued<T>(custom: T, now: i64, ttl_seconds: u64) -> Claims<T> {
    let options = time_options(now);
    let room = DateTime::<Utc>::MAX_UTC.signed_duration_since((options.clock_fn)());
    let ttl = i64::try_from(ttl_seconds).ok().and_then(TimeDelta::try_seconds).unwrap_or(TimeDelta::MAX);
    Claims::new(custom).set_duration_and_issuance(&options, ttl.min(room))
}

/// The verdict on the claims of a token whose signature is good.
pub(super) fn accept(
    claims: Claims<AccessClaims>,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<VerifiedAccess, AuthError> {
    let options = time_options(now);
    // Expired iff now > exp + leeway [RFC 7519 §4.1.4]: the last second of the leeway is still valid.
    // A clock past the last NumericDate plus the leeway is past every `exp` (the clamped clock alone
    // would stop there).
    claims.validate_expiration(&options).map_err(|e| match e {
        ValidationError::Expired => AuthError::TokenExpired,
        _ => AuthError::TokenInvalid,
    })?;
    if now > MAX_NUMERIC_DATE.saturating_add(LEEWAY_SECONDS) {
        return Err(AuthError::TokenExpired);
    }
    // Not before [RFC 7519 §4.1.5], when present. jwt-compact subtracts the leeway from `nbf`, which
    // cannot go below chrono's first instant: an `nbf` that close to it is before any clock, so mature.
    if let Some(nbf) = claims.not_before {
        if nbf.checked_sub_signed(options.leeway).is_some() {
            claims.validate_maturity(&options).map_err(|_| AuthError::TokenInvalid)?;
        }
    }
    if claims.custom.iss != issuer || claims.custom.aud != audience {
        return Err(AuthError::TokenInvalid);
    }
    // Required, and not in the future beyond the leeway: a token from the future was not issued by our
    // clock [RFC 7519 §4.1.6].
    let issued_at = claims.issued_at.ok_or(AuthError::TokenInvalid)?.timestamp();
    if issued_at > now.saturating_add(LEEWAY_SECONDS) {
        return Err(AuthError::TokenInvalid);
    }
    let expires_at = claims.expiration.map(|e| e.timestamp()).ok_or(AuthError::TokenInvalid)?;
    Ok(VerifiedAccess { claims: claims.custom, issued_at, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::test_support::*;
    use serde_json::json;

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        let mut c = good_claims();
        c["nbf"] = json!(NOW + 600);
        assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_refused() {
        for (field, value) in
            [("iss", "someone-else"), ("aud", "another-api"), ("iss", ""), ("aud", "EDGE-AUTH-CLIENTS")]
        {
            let mut c = good_claims();
            c[field] = json!(value);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{field}: {value}");
        }
    }

    #[test]
    fn missing_exp_or_iat_is_refused() {
        for claim in ["exp", "iat"] {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(claim);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim}");
        }
    }

    #[test]
    fn an_audience_array_is_refused() {
        // RFC 7519 §4.1.3 allows an array; our tokens have one audience, and an array is not it.
        let mut c = good_claims();
        c["aud"] = json!(["edge-auth-clients"]);
        assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn every_custom_claim_is_required_and_must_be_a_string() {
        for claim in ["iss", "aud", "sub", "sid", "jti", "role", "username"] {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(claim);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "missing {claim}");
            let mut c = good_claims();
            c[claim] = json!(1);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "numeric {claim}");
            let mut c = good_claims();
            c[claim] = json!(null);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "null {claim}");
        }
    }

    #[test]
    fn unknown_claims_are_ignored_and_duplicate_claims_refused() {
        let mut c = good_claims();
        c["scope"] = json!("openid");
        c["nested"] = json!({"a": [1, {"b": null}]});
        assert!(verdict(c, NOW).is_ok());
        let body = good_claims().to_string();
        let body = body.strip_suffix('}').unwrap();
        for extra in [r#","sub":"u2""#, r#","exp":9999999999"#, r#","iat":1"#, r#","scope":1,"scope":2"#] {
            let claims = format!("{body}{extra}}}");
            let verdict = service().verify(&forge_raw(&good_header().to_string(), &claims, SECRET), NOW);
            if extra.contains("scope") {
                assert!(verdict.is_ok(), "{claims}");
            } else {
                assert_eq!(verdict, Err(AuthError::TokenInvalid), "{claims}");
            }
        }
    }

    #[test]
    fn claims_that_are_not_a_json_object_are_refused() {
        let header = good_header().to_string();
        for c in ["not json", "", "[]", "null", "1", r#"{"iss":"edge-auth""#] {
            assert_eq!(
                service().verify(&forge_raw(&header, c, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{c}"
            );
        }
    }

    #[test]
    fn expiry_is_inclusive_of_the_leeway() {
        // Expired iff now > exp + leeway [RFC 7519 §4.1.4].
        let exp = NOW + 900;
        assert!(verdict(good_claims(), exp + LEEWAY_SECONDS).is_ok());
        assert_eq!(verdict(good_claims(), exp + LEEWAY_SECONDS + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn not_before_and_issued_at_allow_the_leeway() {
        for claim in ["nbf", "iat"] {
            let mut c = good_claims();
            c[claim] = json!(NOW + LEEWAY_SECONDS);
            assert!(verdict(c.clone(), NOW).is_ok(), "{claim} at the edge");
            c[claim] = json!(NOW + LEEWAY_SECONDS + 1);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim} a second later");
        }
        let mut c = good_claims();
        c["nbf"] = json!(NOW - 3600);
        assert!(verdict(c, NOW).is_ok(), "a past nbf");
    }

    #[test]
    fn time_claims_must_be_numbers_in_range() {
        for (claim, value) in [
            ("exp", json!(null)),
            ("iat", json!(null)),
            ("nbf", json!(null)),
            ("exp", json!("1780000900")),
            ("nbf", json!(true)),
            ("exp", json!(u64::MAX)),
            ("exp", json!(i64::MAX)),
            ("iat", json!(i64::MIN)),
            ("nbf", json!(i64::MIN)),
            ("exp", json!(1e300)),
            ("iat", json!(-1e300)),
        ] {
            let mut c = good_claims();
            c[claim] = value.clone();
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim}: {value}");
        }
    }

    #[test]
    fn numeric_dates_end_where_chronos_do() {
        assert_eq!(MIN_NUMERIC_DATE, DateTime::<Utc>::MIN_UTC.timestamp());
        assert_eq!(MAX_NUMERIC_DATE, DateTime::<Utc>::MAX_UTC.timestamp());
        let mut c = good_claims();
        c["exp"] = json!(MAX_NUMERIC_DATE);
        c["iat"] = json!(MIN_NUMERIC_DATE);
        c["nbf"] = json!(MIN_NUMERIC_DATE);
        assert!(verdict(c, NOW).is_ok(), "both ends are inside");
        for (claim, value) in
            [("exp", MAX_NUMERIC_DATE + 1), ("iat", MIN_NUMERIC_DATE - 1), ("nbf", MIN_NUMERIC_DATE - 1)]
        {
            let mut c = good_claims();
            c[claim] = json!(value);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim}: {value}");
        }
    }

    #[test]
    fn the_clock_at_its_extremes_does_not_overflow() {
        let mut c = good_claims();
        c["exp"] = json!(MAX_NUMERIC_DATE);
        c["nbf"] = json!(NOW);
        assert_eq!(verdict(c.clone(), i64::MAX), Err(AuthError::TokenExpired));
        assert_eq!(verdict(c.clone(), MAX_NUMERIC_DATE + LEEWAY_SECONDS + 1), Err(AuthError::TokenExpired));
        assert!(verdict(c.clone(), MAX_NUMERIC_DATE).is_ok(), "the last instant, within the leeway");
        assert_eq!(verdict(c, i64::MIN), Err(AuthError::TokenInvalid), "before nbf");
        // An `nbf` within the leeway of the first instant: jwt-compact alone would overflow subtracting.
        let mut c = good_claims();
        c["nbf"] = json!(MIN_NUMERIC_DATE + 1);
        c["iat"] = json!(MIN_NUMERIC_DATE);
        assert!(verdict(c.clone(), NOW).is_ok());
        assert!(verdict(c, MIN_NUMERIC_DATE).is_ok(), "mature even at the first instant");
    }

    #[test]
    fn fractional_time_claims_are_truncated() {
        // NumericDate may be non-integer [RFC 7519 §2]; the fraction is dropped.
        let mut c = good_claims();
        c["exp"] = json!(NOW as f64 + 900.9);
        c["iat"] = json!(NOW as f64 + 0.5);
        let v = verdict(c.clone(), NOW).unwrap();
        assert_eq!((v.issued_at, v.expires_at), (NOW, NOW + 900));
        assert_eq!(verdict(c, NOW + 930 + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn far_past_and_future_times_within_range_are_ordinary() {
        let mut c = good_claims();
        c["exp"] = json!(8_000_000_000_000i64);
        assert!(verdict(c, NOW).is_ok(), "a very late expiry");
        let mut c = good_claims();
        c["iat"] = json!(-8_000_000_000_000i64);
        c["nbf"] = json!(-8_000_000_000_000i64);
        assert!(verdict(c, NOW).is_ok(), "a very early issue");
        let mut c = good_claims();
        c["exp"] = json!(-8_000_000_000_000i64);
        assert_eq!(verdict(c, NOW), Err(AuthError::TokenExpired));
    }

    #[test]
    fn expiry_is_decided_before_the_other_claims() {
        // An expired token says "expired" even when other claims are wrong too: the client refreshes.
        let late = NOW + 900 + LEEWAY_SECONDS + 1;
        let mut c = good_claims();
        c["iss"] = json!("someone-else");
        assert_eq!(verdict(c, late), Err(AuthError::TokenExpired));
        let mut c = good_claims();
        c["nbf"] = json!(late + 3600);
        assert_eq!(verdict(c, late), Err(AuthError::TokenExpired));
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("iat");
        assert_eq!(verdict(c, late), Err(AuthError::TokenExpired));
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("sub");
        assert_eq!(verdict(c, late), Err(AuthError::TokenInvalid), "claims that do not parse");
        // ...and only after the signature: a forged expired token is invalid, not expired.
        let forged = forge(good_header(), good_claims(), b"another-secret-another-secret-another!!");
        assert_eq!(service().verify(&forged, late), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn lifetimes_are_capped_at_the_last_numeric_date() {
        let custom = || AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            sid: "d".into(),
            jti: "j".into(),
            role: "r".into(),
            username: "u".into(),
            amr: None,
            auth_time: None,
        };
        let c = issued(custom(), NOW, 900);
        assert_eq!(c.issued_at.unwrap().timestamp(), NOW);
        assert_eq!(c.expiration.unwrap().timestamp(), NOW + 900);
        assert_eq!(c.not_before, None, "never issued");
        for ttl in [u64::MAX, i64::MAX as u64, MAX_NUMERIC_DATE as u64] {
            assert_eq!(issued(custom(), NOW, ttl).expiration.unwrap().timestamp(), MAX_NUMERIC_DATE, "{ttl}");
        }
        let at_the_end = issued(custom(), i64::MAX, 900);
        assert_eq!(at_the_end.expiration.unwrap().timestamp(), MAX_NUMERIC_DATE);
    }
}
