//! Passkey use cases over the in-memory ports, with the test authenticator of `webauthn::tests`
//! (fixed keys, a knob per field): the rules around the WebAuthn checks (challenge binding and single
//! use, sign counts, sessions and `amr`, the last factor, the second step, rate limits).

use super::passkeys::{LoginOptionsFor, PasskeyView};
use super::*;
use crate::b64::URL_SAFE_NO_PAD;
use crate::config::webauthn::{Site, UserVerification};
use crate::config::Config;
use crate::testing::{block_on, config, config_with, MemoryCounters, MemoryRevocations, MemoryStore};
use crate::token::VerifiedAccess;
use crate::validate::LoginName;
use crate::webauthn::tests::authenticator::{flags, Authentication, Registration, TestKey, ORIGIN, RP_ID};
use serde_json::json;

const NOW: i64 = 1_780_000_000;

/// Changes one thing of a valid assertion.
type Breaker = Box<dyn Fn(&mut Authentication)>;

fn site() -> Site {
    Site {
        rp_id: RP_ID.into(),
        rp_name: "edge-auth".into(),
        origins: vec![ORIGIN.into()],
        user_verification: UserVerification::Preferred,
    }
}

struct World {
    c: Config,
    store: MemoryStore,
    kv: MemoryRevocations,
    counters: MemoryCounters,
    audit: crate::audit::AuditBuffer,
}

impl World {
    fn new() -> Self {
        Self::with(config())
    }
    fn with(c: Config) -> Self {
        let store = MemoryStore::with_user(&c, "ana", "correct horse", "user");
        store.add_user(&c, "bob", "battery staple", "user");
        World {
            c,
            store,
            kv: MemoryRevocations::default(),
            counters: MemoryCounters::default(),
            audit: Default::default(),
        }
    }
    fn at(&self, now: i64) -> Auth<'_, &MemoryStore, &MemoryRevocations, &MemoryCounters> {
        Auth {
            config: &self.c,
            store: &self.store,
            revocations: &self.kv,
            counters: &self.counters,
            audit: &self.audit,
            now,
        }
    }
    fn id(&self, name: &str) -> String {
        self.store.get(name).id
    }
    /// A signed-in caller whose sign-in was at `now`.
    fn access(&self, name: &str, password: &str, now: i64) -> VerifiedAccess {
        let request =
            LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap())
                .unwrap();
        let tokens = block_on(self.at(now).login(&request, &ClientInfo::default())).unwrap();
        block_on(self.at(now).authenticate(&tokens.access_token)).unwrap()
    }
    /// Registers `key` for `name` with a fresh challenge; returns the view.
    fn register(&self, access: &VerifiedAccess, key: TestKey, credential_id: &[u8]) -> PasskeyView {
        let options = block_on(self.at(NOW).passkey_register_options(access, &site())).unwrap();
        let mut r = Registration::new(key);
        r.credential_id = credential_id.to_vec();
        r.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
        block_on(self.at(NOW).passkey_register(access, &site(), &r.json(), "Laptop".into())).unwrap()
    }
    /// A valid assertion for `name`'s credential against fresh options.
    fn assertion(
        &self,
        key: TestKey,
        credential_id: &[u8],
        user: &str,
        count: u32,
        wanted: &LoginOptionsFor,
    ) -> Authentication {
        let options = block_on(self.at(NOW).passkey_login_options(&site(), wanted)).unwrap();
        let mut a = Authentication::new(key);
        a.credential_id = credential_id.to_vec();
        a.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
        a.user_handle = Some(self.id(user).into_bytes());
        a.auth.sign_count = count;
        a
    }
    fn login(&self, a: &Authentication) -> Result<TokenResponse, AuthError> {
        block_on(self.at(NOW).passkey_login(&site(), &a.json(), &ClientInfo::default()))
    }
}

fn amr_of(w: &World, tokens: &TokenResponse) -> Vec<String> {
    w.c.tokens.verify(&tokens.access_token, NOW).unwrap().claims.amr.unwrap()
}

#[test]
fn registration_options_follow_webauthn_json_and_exclude_existing_passkeys() {
    let w = World::new();
    let access = w.access("ana", "correct horse", NOW);
    let options = block_on(w.at(NOW).passkey_register_options(&access, &site())).unwrap();
    let json = serde_json::to_value(&options).unwrap();
    assert_eq!(json["rp"], json!({"id": RP_ID, "name": "edge-auth"}));
    assert_eq!(json["user"]["id"], URL_SAFE_NO_PAD.encode(w.id("ana")));
    assert_eq!(URL_SAFE_NO_PAD.decode(json["challenge"].as_str().unwrap()).unwrap().len(), 32);
    assert_eq!(
        json["pubKeyCredParams"],
        json!([{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}])
    );
    assert_eq!(json["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(json["attestation"], "none");
    assert_eq!(json["excludeCredentials"], json!([]));
    w.register(&access, TestKey::es256(), b"credential-one");
    let again = block_on(w.at(NOW).passkey_register_options(&access, &site())).unwrap();
    assert_eq!(again.exclude_credentials.len(), 1);
    assert_eq!(again.exclude_credentials[0].id, URL_SAFE_NO_PAD.encode(b"credential-one"));
    assert_ne!(again.challenge, options.challenge);
}

#[test]
fn registration_needs_a_recent_sign_in_and_its_own_unused_challenge() {
    let w = World::new();
    let stale = w.access("ana", "correct horse", NOW - 11 * 60);
    let e = block_on(w.at(NOW).passkey_register_options(&stale, &site())).unwrap_err();
    assert_eq!(e, AuthError::ReauthenticationRequired);

    let ana = w.access("ana", "correct horse", NOW);
    let bob = w.access("bob", "battery staple", NOW);
    // Bob's challenge presented by Ana.
    let options = block_on(w.at(NOW).passkey_register_options(&bob, &site())).unwrap();
    let mut r = Registration::new(TestKey::es256());
    r.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
    let e = block_on(w.at(NOW).passkey_register(&ana, &site(), &r.json(), "x".into())).unwrap_err();
    assert!(matches!(e, AuthError::PasskeyInvalid { .. }), "{e:?}");
    // Used up by the failed attempt: Bob cannot use it either.
    let e = block_on(w.at(NOW).passkey_register(&bob, &site(), &r.json(), "x".into())).unwrap_err();
    assert!(matches!(e, AuthError::PasskeyInvalid { .. }), "{e:?}");
    // An expired challenge.
    let options = block_on(w.at(NOW).passkey_register_options(&ana, &site())).unwrap();
    r.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
    let late = block_on(w.at(NOW + passkeys::CHALLENGE_SECONDS).passkey_register(
        &ana,
        &site(),
        &r.json(),
        "x".into(),
    ));
    assert!(matches!(late, Err(AuthError::PasskeyInvalid { .. })), "{late:?}");
}

#[test]
fn a_credential_id_is_registered_once_across_users() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    let bob = w.access("bob", "battery staple", NOW);
    w.register(&ana, TestKey::es256(), b"shared-id");
    let options = block_on(w.at(NOW).passkey_register_options(&bob, &site())).unwrap();
    let mut r = Registration::new(TestKey::ed25519());
    r.credential_id = b"shared-id".to_vec();
    r.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
    let e = block_on(w.at(NOW).passkey_register(&bob, &site(), &r.json(), "x".into())).unwrap_err();
    assert_eq!(e, AuthError::PasskeyExists);
}

#[test]
fn usernameless_sign_in_starts_a_session_with_hwk_and_the_count_moves() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let a = w.assertion(TestKey::es256(), b"cred-a", "ana", 5, &LoginOptionsFor::Anyone);
    let tokens = w.login(&a).unwrap();
    assert_eq!(tokens.user.username, "ana");
    assert_eq!(amr_of(&w, &tokens), vec!["hwk"]);
    let claims = w.c.tokens.verify(&tokens.access_token, NOW).unwrap().claims;
    assert_eq!(claims.auth_time, Some(NOW));
    let stored = w.store.passkeys.borrow()[0].clone();
    assert_eq!((stored.sign_count, stored.last_used_at), (5, Some(NOW)));
    // The same assertion again: its challenge is used.
    assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected);
    // The audit log: the registration, the sign-in with its session, the refusal with its reason.
    use crate::audit::{Detail, EventType};
    let events: Vec<_> = w.audit.take().into_iter().filter(|e| e.kind != EventType::LoginSucceeded).collect();
    let kinds: Vec<EventType> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventType::PasskeyRegistered, EventType::PasskeyLoginSucceeded, EventType::PasskeyLoginFailed]
    );
    let ana_id = w.id("ana");
    assert!(events.iter().all(|e| e.user_id.as_deref() == Some(ana_id.as_str())));
    assert_eq!(events[1].session_id.as_deref(), Some(claims.sid.as_str()));
    assert_eq!(events[1].detail, Detail::method("passkey"));
    assert_eq!(events[2].detail, Detail::reason("invalid_credentials").with_method("passkey"));
}

#[test]
fn a_backup_eligible_passkey_is_swk() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    let options = block_on(w.at(NOW).passkey_register_options(&ana, &site())).unwrap();
    let mut r = Registration::new(TestKey::ed25519());
    r.credential_id = b"synced".to_vec();
    r.auth.flags |= flags::BE | flags::BS;
    r.client.challenge = URL_SAFE_NO_PAD.decode(&options.challenge).unwrap();
    let view = block_on(w.at(NOW).passkey_register(&ana, &site(), &r.json(), "Phone".into())).unwrap();
    assert!(view.backup_eligible && view.backup_state);
    let mut a = w.assertion(TestKey::ed25519(), b"synced", "ana", 0, &LoginOptionsFor::Anyone);
    a.auth.flags |= flags::BE | flags::BS;
    assert_eq!(amr_of(&w, &w.login(&a).unwrap()), vec!["swk"]);
}

#[test]
fn every_failed_sign_in_is_the_same_error_and_counts_like_a_wrong_password() {
    let w = World::with(config_with(&[("LOGIN_FREE_FAILURES", "99")]));
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let named = LoginOptionsFor::Name(LoginName::Username("ana".into()));
    let cases: Vec<(&str, Breaker)> = vec![
        ("flipped signature bit", Box::new(|a| a.flip_signature_bit = true)),
        ("wrong origin", Box::new(|a| a.client.origin = "https://evil.example".into())),
        ("wrong RP", Box::new(|a| a.auth.rp_id = "evil.example".into())),
        ("user not present", Box::new(|a| a.auth.flags &= !flags::UP)),
        ("a registration's type", Box::new(|a| a.client.kind = "webauthn.create")),
        ("unknown credential", Box::new(|a| a.credential_id = b"nobody-has-this".to_vec())),
        ("another user's handle", Box::new(|a| a.user_handle = Some(b"someone-else".to_vec()))),
        ("counter not above the stored one", Box::new(|a| a.auth.sign_count = 0)),
        ("a challenge nobody issued", Box::new(|a| a.client.challenge = vec![7; 32])),
    ];
    // First a good sign-in, so the stored count is 10.
    w.login(&w.assertion(TestKey::es256(), b"cred-a", "ana", 10, &named)).unwrap();
    for (what, break_it) in cases {
        let mut a = w.assertion(TestKey::es256(), b"cred-a", "ana", 11, &named);
        break_it(&mut a);
        assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected, "{what}");
    }
    // The stored count did not move, and a good assertion still works.
    assert_eq!(w.store.passkeys.borrow()[0].sign_count, 10);
    w.login(&w.assertion(TestKey::es256(), b"cred-a", "ana", 11, &named)).unwrap();
}

#[test]
fn failed_passkey_sign_ins_earn_the_account_delay() {
    let w = World::with(config_with(&[("LOGIN_FREE_FAILURES", "2")]));
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    for _ in 0..2 {
        let mut a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
        a.flip_signature_bit = true;
        assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected);
    }
    let a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    assert!(matches!(w.login(&a).unwrap_err(), AuthError::RateLimited { .. }));
}

#[test]
fn options_for_a_named_user_list_their_passkeys_or_a_stable_made_up_one() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let opts = |name: &str| {
        block_on(
            w.at(NOW)
                .passkey_login_options(&site(), &LoginOptionsFor::Name(LoginName::Username(name.into()))),
        )
        .unwrap()
    };
    assert_eq!(opts("ana").allow_credentials[0].id, URL_SAFE_NO_PAD.encode(b"cred-a"));
    let (bob, ghost) = (opts("bob"), opts("ghost"));
    assert_eq!(bob.allow_credentials.len(), 1);
    assert_eq!(ghost.allow_credentials.len(), 1);
    assert_ne!(bob.allow_credentials[0].id, ghost.allow_credentials[0].id);
    assert_eq!(opts("GHOST").allow_credentials[0].id, ghost.allow_credentials[0].id, "stable per name");
    assert_eq!(ghost.allow_credentials[0].transports, bob.allow_credentials[0].transports);
    // A challenge issued for Bob does not sign Ana in.
    let mut a = w.assertion(
        TestKey::es256(),
        b"cred-a",
        "ana",
        1,
        &LoginOptionsFor::Name(LoginName::Username("bob".into())),
    );
    a.user_handle = None;
    assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected);
}

#[test]
fn usernameless_needs_a_user_handle_and_a_disabled_account_is_refused() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let mut a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    a.user_handle = None;
    assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected);
    w.store.update("ana", |u| u.disabled = true);
    let a = w.assertion(TestKey::es256(), b"cred-a", "ana", 2, &LoginOptionsFor::Anyone);
    assert_eq!(w.login(&a).unwrap_err(), AuthError::AccountDisabled);
}

#[test]
fn a_passkey_is_the_second_step_of_a_password_login() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let request =
        LoginRequest::parse(json!({"username": "ana", "password": "correct horse"}).as_object().unwrap())
            .unwrap();
    let (mfa_token, methods) = match block_on(w.at(NOW).login(&request, &ClientInfo::default())) {
        Err(AuthError::MfaRequired { mfa_token, methods }) => (mfa_token, methods),
        other => panic!("expected mfa_required, got {other:?}"),
    };
    assert_eq!(methods, vec!["webauthn"]);
    let second = LoginOptionsFor::SecondFactor(mfa_token.clone());
    // A first-factor challenge is no second step.
    let mut wrong = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    let factor = |a: &Authentication| mfa::SecondFactor::Passkey(a.json());
    let verify = |a: &Authentication| {
        block_on(w.at(NOW).mfa_verify(&mfa_token, &factor(a), &site(), &ClientInfo::default()))
    };
    assert_eq!(verify(&wrong).unwrap_err(), AuthError::MfaCodeInvalid);
    wrong = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &second);
    wrong.flip_signature_bit = true;
    assert_eq!(verify(&wrong).unwrap_err(), AuthError::MfaCodeInvalid);
    let good = w.assertion(TestKey::es256(), b"cred-a", "ana", 2, &second);
    let tokens = verify(&good).unwrap();
    assert_eq!(amr_of(&w, &tokens), vec!["pwd", "hwk"]);
    // The pending login is finished.
    let again = w.assertion(TestKey::es256(), b"cred-a", "ana", 3, &second);
    assert!(verify(&again).is_err());
}

#[test]
fn the_last_passkey_of_an_account_without_a_password_stays() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    let one = w.register(&ana, TestKey::es256(), b"cred-1");
    let two = w.register(&ana, TestKey::ed25519(), b"cred-2");
    let list = block_on(w.at(NOW).list_passkeys(&ana)).unwrap().passkeys;
    assert_eq!(list.len(), 2);
    w.store.update("ana", |u| u.password_hash.clear());
    block_on(w.at(NOW).delete_passkey(&ana, &one.id)).unwrap();
    assert_eq!(block_on(w.at(NOW).delete_passkey(&ana, &two.id)).unwrap_err(), AuthError::LastFactor);
    assert_eq!(block_on(w.at(NOW).delete_passkey(&ana, &one.id)).unwrap_err(), AuthError::NotFound);
    let stale = VerifiedAccess {
        claims: crate::token::AccessClaims { auth_time: Some(NOW - 3600), ..ana.claims.clone() },
        ..ana.clone()
    };
    assert_eq!(
        block_on(w.at(NOW).delete_passkey(&stale, &two.id)).unwrap_err(),
        AuthError::ReauthenticationRequired
    );
}

#[test]
fn passkeys_are_renamed_only_by_their_owner_and_go_with_the_admin_reset() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    let bob = w.access("bob", "battery staple", NOW);
    let view = w.register(&ana, TestKey::es256(), b"cred-a");
    assert_eq!(block_on(w.at(NOW).rename_passkey(&bob, &view.id, "mine")).unwrap_err(), AuthError::NotFound);
    assert_eq!(block_on(w.at(NOW).rename_passkey(&ana, &view.id, "Work key")).unwrap().name, "Work key");
    assert_eq!(block_on(w.at(NOW).delete_passkey(&bob, &view.id)).unwrap_err(), AuthError::NotFound);
    w.store.update("bob", |u| u.role = "admin".into());
    let admin = w.access("bob", "battery staple", NOW);
    block_on(w.at(NOW).admin_reset_mfa(&admin, &w.id("ana"))).unwrap();
    assert!(w.store.passkeys.borrow().is_empty());
}

#[test]
fn a_passkey_satisfies_a_role_that_must_have_a_second_factor() {
    let w = World::with(config_with(&[("MFA_REQUIRED_ROLES", "user")]));
    // No factor yet: enrolment; the enrolment token may register a passkey.
    let request =
        LoginRequest::parse(json!({"username": "ana", "password": "correct horse"}).as_object().unwrap())
            .unwrap();
    let enrol = match block_on(w.at(NOW).login(&request, &ClientInfo::default())) {
        Err(AuthError::MfaEnrollmentRequired { mfa_token }) => mfa_token,
        other => panic!("expected enrolment, got {other:?}"),
    };
    let access = block_on(w.at(NOW).enrolling(&enrol)).unwrap();
    w.register(&access, TestKey::es256(), b"cred-a");
    match block_on(w.at(NOW).login(&request, &ClientInfo::default())) {
        Err(AuthError::MfaRequired { methods, .. }) => assert_eq!(methods, vec!["webauthn"]),
        other => panic!("expected mfa_required, got {other:?}"),
    }
    // And a passkey sign-in is enough on its own.
    let a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    assert!(w.login(&a).is_ok());
}

#[test]
fn passkey_names_are_bounded() {
    assert_eq!(passkeys::passkey_name(None).unwrap(), "Passkey");
    assert_eq!(passkeys::passkey_name(Some("  Laptop ")).unwrap(), "Laptop");
    for bad in ["", "   ", "a\u{0}b", &"x".repeat(65)] {
        assert_eq!(passkeys::passkey_name(Some(bad)).unwrap_err().status(), 400, "{bad:?}");
    }
}

#[test]
fn a_backup_eligibility_that_changed_since_registration_is_refused() {
    let w = World::new();
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"bound");
    let mut a = w.assertion(TestKey::es256(), b"bound", "ana", 1, &LoginOptionsFor::Anyone);
    a.auth.flags |= flags::BE;
    assert_eq!(w.login(&a).unwrap_err(), AuthError::PasskeyRejected);
}

#[test]
fn a_passkey_without_user_verification_is_one_factor() {
    // An account with an authenticator app: the app's code is still asked for, and the session says
    // both factors.
    let w =
        World::with(config_with(&[("MFA_ENCRYPTION_KEY", "TU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU0")]));
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let setup = block_on(w.at(NOW).totp_setup(&ana)).unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(setup.secret.as_bytes()).unwrap();
    let code = |t: i64| format!("{:06}", crate::totp::code(&secret, crate::totp::step_at(t)));
    block_on(w.at(NOW).totp_enable(&ana, &code(NOW - 30))).unwrap();
    let mut a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    a.auth.flags &= !flags::UV;
    let (mfa_token, methods) = match w.login(&a) {
        Err(AuthError::MfaRequired { mfa_token, methods }) => (mfa_token, methods),
        other => panic!("expected mfa_required, got {other:?}"),
    };
    assert_eq!(methods, vec!["totp", "recovery_code"]);
    let factor = mfa::SecondFactor::Totp(code(NOW));
    let tokens =
        block_on(w.at(NOW).mfa_verify(&mfa_token, &factor, &site(), &ClientInfo::default())).unwrap();
    assert_eq!(amr_of(&w, &tokens), vec!["hwk", "otp"]);
    // With user verification the passkey alone is enough.
    let verified = w.assertion(TestKey::es256(), b"cred-a", "ana", 2, &LoginOptionsFor::Anyone);
    assert_eq!(amr_of(&w, &w.login(&verified).unwrap()), vec!["hwk"]);

    // A role that must have two factors, without an app: refused.
    let strict = World::with(config_with(&[("MFA_REQUIRED_ROLES", "user")]));
    let request =
        LoginRequest::parse(json!({"username": "ana", "password": "correct horse"}).as_object().unwrap())
            .unwrap();
    let Err(AuthError::MfaEnrollmentRequired { mfa_token }) =
        block_on(strict.at(NOW).login(&request, &ClientInfo::default()))
    else {
        panic!("expected enrolment")
    };
    let enrolling = block_on(strict.at(NOW).enrolling(&mfa_token)).unwrap();
    strict.register(&enrolling, TestKey::es256(), b"cred-s");
    let mut a = strict.assertion(TestKey::es256(), b"cred-s", "ana", 1, &LoginOptionsFor::Anyone);
    a.auth.flags &= !flags::UV;
    assert_eq!(strict.login(&a).unwrap_err(), AuthError::UserVerificationRequired);
}

#[test]
fn a_login_begun_with_a_passkey_gets_no_passkey_options_for_its_second_step() {
    let w =
        World::with(config_with(&[("MFA_ENCRYPTION_KEY", "TU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU0")]));
    let ana = w.access("ana", "correct horse", NOW);
    w.register(&ana, TestKey::es256(), b"cred-a");
    let setup = block_on(w.at(NOW).totp_setup(&ana)).unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(setup.secret.as_bytes()).unwrap();
    let code = format!("{:06}", crate::totp::code(&secret, crate::totp::step_at(NOW - 30)));
    block_on(w.at(NOW).totp_enable(&ana, &code)).unwrap();
    let mut a = w.assertion(TestKey::es256(), b"cred-a", "ana", 1, &LoginOptionsFor::Anyone);
    a.auth.flags &= !flags::UV;
    let Err(AuthError::MfaRequired { mfa_token, .. }) = w.login(&a) else { panic!("expected mfa_required") };
    let e = block_on(w.at(NOW).passkey_login_options(&site(), &LoginOptionsFor::SecondFactor(mfa_token)));
    assert_eq!(e.unwrap_err(), AuthError::MfaNotEnabled);
}
