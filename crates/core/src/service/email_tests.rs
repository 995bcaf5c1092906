//! Email verification over the in-memory ports: single use, expiry, superseded links, the pending
//! address, the notice, the resend limit and `REQUIRE_EMAIL_VERIFICATION`.

use super::*;
use crate::config::Config;
use crate::service::{ClientInfo, ForgotRequest, LoginRequest, SignupRequest, TokenResponse};
use crate::testing::{block_on, config, config_with, MemoryCounters, MemoryRevocations, MemoryStore};
use serde_json::json;

const NOW: i64 = 1_780_000_000;
const ORIGIN: &str = "https://app.example";

struct World {
    c: Config,
    store: MemoryStore,
    kv: MemoryRevocations,
    counters: MemoryCounters,
}

impl World {
    fn new(extra: &[(&str, &str)]) -> Self {
        let c = config_with(extra);
        let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
        World { c, store, kv: MemoryRevocations::default(), counters: MemoryCounters::default() }
    }

    fn at(&self, now: i64) -> Auth<'_, &MemoryStore, &MemoryRevocations, &MemoryCounters> {
        Auth {
            config: &self.c,
            store: &self.store,
            revocations: &self.kv,
            counters: &self.counters,
            audit: &crate::testing::NoAudit,
            now,
        }
    }

    fn login(&self, name: &str, password: &str) -> Result<TokenResponse, AuthError> {
        let r = LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap())?;
        block_on(self.at(NOW).login(&r, &ClientInfo::default()))
    }

    fn access(&self) -> VerifiedAccess {
        let t = self.login("alice", "correct horse").expect("alice logs in");
        self.c.tokens.verify(&t.access_token, NOW).unwrap()
    }

    fn patch(&self, body: serde_json::Value) -> Result<(UserView, Vec<Mail>), AuthError> {
        let r = UpdateMeRequest::parse(body.as_object().unwrap())?;
        block_on(self.at(NOW).update_me(&self.access(), &r, ORIGIN))
    }

    fn verify(&self, token: &str, now: i64) -> Result<(), AuthError> {
        block_on(self.at(now).verify_email(&VerifyEmailRequest { token: token.into() }))
    }

    fn resend(&self) -> Result<Option<VerifyMail>, AuthError> {
        block_on(self.at(NOW).resend_verification(&self.access(), ORIGIN))
    }
}

fn token_of(link: &str) -> String {
    link.rsplit_once("token=").expect("a token in the link").1.to_string()
}

fn verify_link(mails: &[Mail]) -> (String, String) {
    match mails.iter().find(|m| m.kind() == "verify_email") {
        Some(Mail::Verify(m)) => (m.to.clone(), token_of(&m.link)),
        _ => panic!("no verify_email mail in {mails:?}"),
    }
}

#[test]
fn a_link_verifies_the_address_once_and_only_its_hash_is_stored() {
    let w = World::new(&[]);
    assert!(!w.store.get("alice").email_verified());
    let mail = w.resend().unwrap().expect("an unverified address gets a link");
    assert_eq!((mail.kind, mail.to.as_str()), ("verify_email", "alice@example.com"));
    assert!(mail.link.starts_with("https://app.example/auth/ui/verify-email?token="), "{}", mail.link);
    let token = token_of(&mail.link);
    let stored = w.store.verifications.borrow()[0].clone();
    assert_eq!(stored.token_hash, crate::email::hash_token(&token));
    assert_ne!(stored.token_hash, token);
    assert_eq!(stored.expires_at, NOW + 86_400);
    assert_eq!(w.verify(&token, NOW + 1), Ok(()));
    assert!(w.store.get("alice").email_verified());
    assert_eq!(w.store.get("alice").email_verified_at, Some(NOW + 1));
    assert_eq!(w.verify(&token, NOW + 2), Err(AuthError::VerificationTokenInvalid), "single use");
    assert!(w.store.get("alice").view().email_verified);
}

#[test]
fn expired_unknown_oversized_and_superseded_links_are_refused() {
    let w = World::new(&[("EMAIL_VERIFICATION_TTL", "1h")]);
    let first = token_of(&w.resend().unwrap().unwrap().link);
    let second = token_of(&w.resend().unwrap().unwrap().link);
    assert_eq!(w.verify(&first, NOW), Err(AuthError::VerificationTokenInvalid), "an older link dies");
    assert_eq!(w.verify("not-a-token", NOW), Err(AuthError::VerificationTokenInvalid));
    assert_eq!(w.verify("", NOW), Err(AuthError::VerificationTokenInvalid));
    assert_eq!(w.verify(&"a".repeat(129), NOW), Err(AuthError::VerificationTokenInvalid));
    assert_eq!(w.verify(&second, NOW + 3600), Err(AuthError::VerificationTokenInvalid), "expired");
    assert!(!w.store.get("alice").email_verified());
    assert_eq!(w.verify(&second, NOW + 3599), Ok(()));
    w.store.update("alice", |u| u.disabled = true);
    let w2 = World::new(&[]);
    let t = token_of(&w2.resend().unwrap().unwrap().link);
    w2.store.update("alice", |u| u.disabled = true);
    assert_eq!(w2.verify(&t, NOW), Err(AuthError::VerificationTokenInvalid), "a disabled account");
}

#[test]
fn a_new_address_stays_pending_until_verified_and_the_old_one_gets_a_notice_without_a_token() {
    let w = World::new(&[]);
    let (view, mails) = w.patch(json!({"email": "Alice.New@Example.com", "display_name": " Al "})).unwrap();
    assert_eq!(view.email.as_deref(), Some("alice@example.com"), "the old address stays");
    assert_eq!(view.display_name.as_deref(), Some("Al"));
    let alice = w.store.get("alice");
    assert_eq!(alice.pending_email.as_deref(), Some("alice.new@example.com"));
    let (to, token) = verify_link(&mails);
    assert_eq!(to, "alice.new@example.com");
    let notice = mails.iter().find(|m| m.kind() == "email_change_notice").expect("a notice");
    let text = serde_json::to_string(notice).unwrap();
    assert!(text.contains(r#""to":"alice@example.com""#), "{text}");
    assert!(!text.contains(&token) && !text.contains("link") && !text.contains("token"), "{text}");
    // The old address is still the login name; the new one is not yet.
    assert!(w.login("alice@example.com", "correct horse").is_ok());
    assert_eq!(w.login("alice.new@example.com", "correct horse").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(w.verify(&token, NOW + 5), Ok(()));
    let alice = w.store.get("alice");
    assert_eq!(alice.email.as_deref(), Some("alice.new@example.com"));
    assert_eq!((alice.pending_email, alice.email_verified_at), (None, Some(NOW + 5)));
    assert!(w.login("alice.new@example.com", "correct horse").is_ok());
}

#[test]
fn the_current_address_withdraws_a_pending_change_and_its_link_dies() {
    let w = World::new(&[]);
    let (_, mails) = w.patch(json!({"email": "other@example.com"})).unwrap();
    let (_, token) = verify_link(&mails);
    let (_, none) = w.patch(json!({"email": "alice@example.com"})).unwrap();
    assert!(none.is_empty(), "no mail for withdrawing");
    assert_eq!(w.store.get("alice").pending_email, None);
    assert_eq!(w.verify(&token, NOW), Err(AuthError::VerificationTokenInvalid));
    assert_eq!(w.store.get("alice").email.as_deref(), Some("alice@example.com"));
}

#[test]
fn a_taken_address_is_409_at_the_request_and_at_verification() {
    let w = World::new(&[]);
    w.store.add_user(&w.c, "bob", "another horse", "user");
    assert_eq!(w.patch(json!({"email": "bob@example.com"})).unwrap_err(), AuthError::EmailTaken);
    let (_, mails) = w.patch(json!({"email": "shared@example.com"})).unwrap();
    let (_, token) = verify_link(&mails);
    w.store.update("bob", |u| u.email = Some("shared@example.com".into()));
    assert_eq!(w.verify(&token, NOW), Err(AuthError::EmailTaken));
    let alice = w.store.get("alice");
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"), "nothing changed");
    assert_eq!(w.store.verifications.borrow()[0].used_at, None, "the link stays unused");
}

#[test]
fn bad_patch_bodies_are_field_errors() {
    let parse = |v: serde_json::Value| UpdateMeRequest::parse(v.as_object().unwrap());
    let codes = |e: AuthError| e.field_errors().iter().map(|f| (f.field.clone(), f.code)).collect::<Vec<_>>();
    assert_eq!(codes(parse(json!({"email": "nope"})).unwrap_err()), [("email".into(), "invalid_format")]);
    assert_eq!(codes(parse(json!({"email": null})).unwrap_err()), [("email".into(), "invalid_type")]);
    assert_eq!(
        codes(parse(json!({"display_name": 3})).unwrap_err()),
        [("display_name".into(), "invalid_type")]
    );
    assert_eq!(parse(json!({})).unwrap(), UpdateMeRequest::default());
    assert_eq!(parse(json!({"display_name": null})).unwrap().display_name, Some(None));
    let e = VerifyEmailRequest::parse(json!({"token": 5}).as_object().unwrap()).unwrap_err();
    assert_eq!(codes(e), [("token".into(), "invalid_type")]);
    let shown = format!("{:?}", VerifyEmailRequest { token: "secret-token".into() });
    assert!(!shown.contains("secret-token"), "{shown}");
}

#[test]
fn resend_is_rate_limited_per_user_and_a_verified_account_gets_nothing() {
    let w = World::new(&[("RATE_LIMIT_VERIFY_EMAIL", "3/1h")]);
    for _ in 0..3 {
        assert!(w.resend().unwrap().is_some());
    }
    assert!(matches!(w.resend(), Err(AuthError::RateLimited { .. })));
    let w = World::new(&[]);
    w.store.update("alice", |u| u.email_verified_at = Some(NOW));
    let writes = *w.counters.writes.borrow();
    assert!(w.resend().unwrap().is_none(), "nothing to verify: no mail");
    assert_eq!(*w.counters.writes.borrow(), writes, "and nothing counted");
    w.store.update("alice", |u| u.email = None);
    assert!(w.resend().unwrap().is_none(), "no address at all");
}

#[test]
fn required_verification_refuses_only_after_a_correct_password_and_only_verified_addresses_log_in() {
    let w = World::new(&[("REQUIRE_EMAIL_VERIFICATION", "true")]);
    assert_eq!(w.login("alice", "wrong").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(w.login("nobody", "correct horse").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(w.login("alice", "correct horse").unwrap_err(), AuthError::EmailNotVerified);
    // An unverified address is no login name: an unknown user, after the same (dummy) hash work.
    let count = crate::password::verification_count;
    let before = count();
    assert_eq!(w.login("alice@example.com", "correct horse").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(count() - before, 1, "one hash verification, as for an unknown user");
    // Nor does it receive reset links.
    let forgot = ForgotRequest::parse(json!({"email": "alice@example.com"}).as_object().unwrap()).unwrap();
    assert!(block_on(w.at(NOW).forgot_password(&forgot, ORIGIN)).unwrap().is_none());
    w.store.update("alice", |u| u.email_verified_at = Some(NOW));
    assert!(w.login("alice", "correct horse").is_ok());
    assert!(w.login("alice@example.com", "correct horse").is_ok());
    assert!(block_on(w.at(NOW).forgot_password(&forgot, ORIGIN)).unwrap().is_some());
    // An account without any address has nothing to verify.
    w.store.add_user(&w.c, "noaddr", "correct horse", "user");
    w.store.update("noaddr", |u| u.email = None);
    assert!(w.login("noaddr", "correct horse").is_ok());
}

#[test]
fn without_the_requirement_unverified_accounts_log_in_by_name_and_address() {
    let w = World::new(&[]);
    assert!(w.login("alice", "correct horse").is_ok());
    assert!(w.login("alice@example.com", "correct horse").is_ok());
}

#[test]
fn a_required_signup_needs_an_address_and_gets_a_link() {
    let w = World::new(&[("REQUIRE_EMAIL_VERIFICATION", "true")]);
    let body = json!({"username": "carol", "password": "a long passphrase"});
    let r = SignupRequest::parse(&w.c, body.as_object().unwrap()).unwrap();
    let e = block_on(w.at(NOW).signup(&r, &ClientInfo::default())).unwrap_err();
    assert_eq!(e.field_errors()[0].field, "email");
    let body = json!({"username": "carol", "password": "a long passphrase", "email": "carol@example.com"});
    let r = SignupRequest::parse(&w.c, body.as_object().unwrap()).unwrap();
    let (tokens, user) = block_on(w.at(NOW).signup(&r, &ClientInfo::default())).unwrap();
    assert!(!tokens.user.email_verified);
    let mail = block_on(w.at(NOW).start_verification(&user, ORIGIN)).unwrap().expect("a link");
    assert_eq!(mail.to, "carol@example.com");
    assert_eq!(w.verify(&token_of(&mail.link), NOW), Ok(()));
    assert!(w.login("carol@example.com", "a long passphrase").is_ok());
}

#[test]
fn an_admin_address_change_clears_the_verification() {
    let w = World::new(&[]);
    w.store.update("alice", |u| u.email_verified_at = Some(NOW));
    let id = w.store.get("alice").id;
    let patch = crate::ports::UserPatch { email: Some(Some("x@example.com".into())), ..Default::default() };
    block_on(crate::ports::Store::update_user(&w.store, &id, &patch, NOW)).unwrap();
    assert!(!w.store.get("alice").email_verified());
}

#[test]
fn imported_users_keep_email_verified() {
    let c = config();
    let sha = format!("sha256:{}", "ab".repeat(32));
    let body = json!({"users": [
        {"username": "old1", "password_hash": sha, "email": "old1@example.com", "email_verified": true},
        {"username": "old2", "password_hash": sha, "email": "old2@example.com"},
        {"username": "old3", "password_hash": sha, "email_verified": true},
        {"username": "old4", "password_hash": sha, "email": "old4@example.com", "email_verified": "yes"},
    ]});
    let entries = crate::service::ImportRequest::parse(&c, body.as_object().unwrap()).unwrap().entries;
    let flags: Vec<_> =
        entries.iter().map(|e| e.user.as_ref().map(|u| u.email_verified).map_err(|c| *c)).collect();
    assert_eq!(flags, [Ok(true), Ok(false), Ok(false), Err("invalid_email_verified")]);
    assert_eq!(entries[0].user.clone().unwrap().into_user(NOW).email_verified_at, Some(NOW));
}
