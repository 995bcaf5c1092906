//! Refresh tokens and their rotation rules, as pure functions over a session record.
//!
//! # Design
//! A session (one per login) has a random 256-bit `seed` and a `generation` counter. The refresh token
//! of generation `g` is
//!
//! ```text
//! rt1.<session id>.<g>.<base64url(HMAC-SHA256(refresh_key, "edge-auth refresh v1" | id | seed | g))>
//! ```
//!
//! where `refresh_key` is derived from the server secret. Nothing in D1 is a usable token: the seed is
//! useless without the server key, and the key is useless without the seed (ASVS 7.2.3 asks for
//! tokens stored only as hashes; this stores no token at all). Because a generation's token can be
//! recomputed, the *same* successor can be handed out again: that is what makes concurrent refreshes
//! from two tabs safe.
//!
//! Rotation [RFC 9700 §4.14.2]: presenting generation `g == current` advances the session to `g + 1`
//! (a conditional UPDATE in D1 that succeeds for exactly one caller). Presenting `current - 1` within
//! the grace window after that rotation returns the current token again (the other tab's refresh).
//! Presenting anything older, or `current - 1` after the window, is reuse: the session is revoked.
//! A token whose MAC does not verify is merely invalid and changes nothing, so nobody can revoke a
//! session they do not hold a real token of.

use crate::b64::URL_SAFE_NO_PAD;
use hmac::{Mac, SimpleHmac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const PREFIX: &str = "rt1";
const MAC_LABEL: &[u8] = b"edge-auth refresh v1";
/// Random bytes of a session seed (256 bits; ASVS 7.2.3 asks for at least 128).
pub const SEED_LEN: usize = 32;
/// Default grace window for a concurrent refresh of the previous token (OpenAuth and Auth0 use
/// similar "reuse intervals").
pub const DEFAULT_GRACE_SECONDS: u64 = 30;

/// The key that authenticates refresh tokens, derived from the server secret.
#[derive(Clone)]
pub struct RefreshKey([u8; 32]);

impl std::fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshKey(<redacted>)")
    }
}

impl RefreshKey {
    /// Derives the refresh key from the server secret under its own label, so that it is independent
    /// of the JWT signing key (one key, one purpose: RFC 8725 §3.1).
    pub fn derive(server_secret: &[u8]) -> Self {
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(server_secret).expect("HMAC takes any key length");
        mac.update(b"edge-auth refresh-token key v1");
        RefreshKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, session_id: &str, seed: &[u8], generation: u64) -> [u8; 32] {
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(MAC_LABEL);
        mac.update(&(session_id.len() as u32).to_be_bytes());
        mac.update(session_id.as_bytes());
        mac.update(&(seed.len() as u32).to_be_bytes());
        mac.update(seed);
        mac.update(&generation.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// An HMAC of `data` under this key and `label` (domain separation): stable, unguessable values the
    /// server derives without storing them (the made-up credential ids of passkey sign-in options).
    pub fn derive_value(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(&(data.len() as u32).to_be_bytes());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The refresh token of `generation` of a session.
    pub fn mint(&self, session_id: &str, seed: &[u8], generation: u64) -> String {
        let mac = self.mac(session_id, seed, generation);
        format!("{PREFIX}.{session_id}.{generation}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// True when `token` is the genuine token of its generation for this session.
    pub fn verify(&self, token: &PresentedRefresh, seed: &[u8]) -> bool {
        let expected = self.mac(&token.session_id, seed, token.generation);
        expected.ct_eq(&token.mac).into()
    }
}

/// A refresh token as presented, parsed but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedRefresh {
    pub session_id: String,
    pub generation: u64,
    mac: [u8; 32],
}

impl PresentedRefresh {
    /// Parses `rt1.<id>.<generation>.<mac>`; `None` for anything else.
    pub fn parse(token: &str) -> Option<Self> {
        if token.len() > 256 {
            return None;
        }
        let mut parts = token.split('.');
        let (prefix, id, generation, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() || id.is_empty() || id.len() > 64 {
            return None;
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return None;
        }
        let generation = generation.parse::<u64>().ok()?;
        let mac: [u8; 32] = URL_SAFE_NO_PAD.decode(mac).ok()?.try_into().ok()?;
        Some(PresentedRefresh { session_id: id.to_string(), generation, mac })
    }
}

/// A session as stored in D1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub seed: Vec<u8>,
    /// Generation of the refresh token currently valid.
    pub generation: u64,
    /// When the current generation was issued (start of the previous token's grace window).
    pub rotated_at: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    /// Absolute expiry: no refresh extends it [ASVS 10.4.8].
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub revoked_at: Option<i64>,
    /// How the login that started the session was authenticated [RFC 8176 §2]: `pwd`, plus `otp` after
    /// a TOTP or recovery code. Every access token of the session carries it.
    pub amr: Vec<String>,
    /// When that login happened (`auth_time` of the tokens) [OpenID Connect Core §2].
    pub auth_time: i64,
}

/// What to do with a presented (MAC-verified) refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The current token: advance the session from `from` to `from + 1` (if the conditional update
    /// loses a race, decide again with the fresh record).
    Rotate { from: u64 },
    /// The previous token inside the grace window: hand out the current generation again.
    ReplayCurrent { generation: u64 },
    /// An older token, or the previous one after the window: revoke the session.
    Reuse,
    /// Revoked or expired session: refuse, change nothing.
    Invalid,
}

/// Decides a refresh of `presented_generation` against `session` at `now`.
pub fn decide(session: &Session, presented_generation: u64, now: i64, grace_seconds: u64) -> RefreshDecision {
    if session.revoked_at.is_some() || now >= session.expires_at {
        return RefreshDecision::Invalid;
    }
    let current = session.generation;
    if presented_generation == current {
        RefreshDecision::Rotate { from: current }
    } else if presented_generation > current {
        // A MAC-valid token from the future cannot exist unless the store lost a write; refuse.
        RefreshDecision::Invalid
    } else if presented_generation + 1 == current
        && grace_seconds > 0
        && now.saturating_sub(session.rotated_at) <= grace_seconds as i64
    {
        RefreshDecision::ReplayCurrent { generation: current }
    } else {
        RefreshDecision::Reuse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn key() -> RefreshKey {
        RefreshKey::derive(b"server-secret-server-secret-server-secret")
    }

    fn session(generation: u64, rotated_at: i64) -> Session {
        Session {
            id: "sess1".into(),
            user_id: "u1".into(),
            seed: vec![7; SEED_LEN],
            generation,
            rotated_at,
            created_at: NOW - 1000,
            last_used_at: NOW - 10,
            expires_at: NOW + 86_400,
            user_agent: None,
            ip: None,
            revoked_at: None,
            amr: vec!["pwd".into()],
            auth_time: 0,
        }
    }

    #[test]
    fn a_minted_token_parses_and_verifies_for_its_session_only() {
        let k = key();
        let t = k.mint("sess1", &[7; SEED_LEN], 3);
        let p = PresentedRefresh::parse(&t).unwrap();
        assert_eq!((p.session_id.as_str(), p.generation), ("sess1", 3));
        assert!(k.verify(&p, &[7; SEED_LEN]));
        assert!(!k.verify(&p, &[8; SEED_LEN]), "another session's seed");
        assert!(!RefreshKey::derive(b"another-server-secret-another-server").verify(&p, &[7; SEED_LEN]));
    }

    #[test]
    fn changing_the_generation_or_mac_breaks_the_token() {
        let k = key();
        let t = k.mint("sess1", &[7; SEED_LEN], 3);
        let bumped = t.replacen(".3.", ".4.", 1);
        assert!(!k.verify(&PresentedRefresh::parse(&bumped).unwrap(), &[7; SEED_LEN]));
        let mut chars: Vec<char> = t.chars().collect();
        let last = chars.len() - 2;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let flipped: String = chars.into_iter().collect();
        assert!(!PresentedRefresh::parse(&flipped).is_some_and(|p| k.verify(&p, &[7; SEED_LEN])));
    }

    #[test]
    fn tokens_of_successive_generations_differ_and_carry_256_bits() {
        let k = key();
        let a = k.mint("s", &[1; SEED_LEN], 0);
        let b = k.mint("s", &[1; SEED_LEN], 1);
        assert_ne!(a.rsplit('.').next(), b.rsplit('.').next());
        assert_eq!(URL_SAFE_NO_PAD.decode(a.rsplit('.').next().unwrap()).unwrap().len(), 32);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for t in [
            "",
            "rt1",
            "rt1.s.1",
            "rt2.s.1.AAAA",
            "rt1..1.AAAA",
            "rt1.s.x.AAAA",
            "rt1.s.1.AAAA",
            "rt1.s!.1.AAAA",
        ] {
            assert_eq!(PresentedRefresh::parse(t), None, "{t}");
        }
        let long = format!("rt1.{}.1.{}", "s".repeat(300), "A".repeat(43));
        assert_eq!(PresentedRefresh::parse(&long), None);
    }

    #[test]
    fn the_current_generation_rotates() {
        assert_eq!(decide(&session(5, NOW - 100), 5, NOW, 30), RefreshDecision::Rotate { from: 5 });
    }

    #[test]
    fn the_previous_generation_inside_the_grace_window_replays_the_current_one() {
        let s = session(5, NOW - 30);
        assert_eq!(decide(&s, 4, NOW, 30), RefreshDecision::ReplayCurrent { generation: 5 });
    }

    #[test]
    fn the_previous_generation_after_the_grace_window_is_reuse() {
        assert_eq!(decide(&session(5, NOW - 31), 4, NOW, 30), RefreshDecision::Reuse);
    }

    #[test]
    fn a_zero_grace_window_makes_every_old_token_reuse() {
        assert_eq!(decide(&session(5, NOW), 4, NOW, 0), RefreshDecision::Reuse);
    }

    #[test]
    fn older_generations_are_reuse_even_inside_the_window() {
        assert_eq!(decide(&session(5, NOW), 3, NOW, 30), RefreshDecision::Reuse);
        assert_eq!(decide(&session(5, NOW), 0, NOW, 30), RefreshDecision::Reuse);
    }

    #[test]
    fn revoked_or_expired_sessions_are_invalid_whatever_is_presented() {
        let mut s = session(5, NOW);
        s.revoked_at = Some(NOW - 1);
        assert_eq!(decide(&s, 5, NOW, 30), RefreshDecision::Invalid);
        assert_eq!(decide(&s, 4, NOW, 30), RefreshDecision::Invalid);
        let mut s = session(5, NOW);
        s.expires_at = NOW;
        assert_eq!(decide(&s, 5, NOW, 30), RefreshDecision::Invalid);
    }

    #[test]
    fn a_generation_from_the_future_is_invalid() {
        assert_eq!(decide(&session(5, NOW), 6, NOW, 30), RefreshDecision::Invalid);
    }
}
