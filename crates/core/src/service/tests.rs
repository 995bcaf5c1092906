//! Use-case tests over the in-memory ports.

use super::*;
use crate::config::Config;
use crate::error::AuthError;
use crate::testing::{block_on, config, config_with, MemoryCounters, MemoryRevocations, MemoryStore};
use crate::token::VerifiedAccess;
use serde_json::json;

const NOW: i64 = 1_780_000_000;

type TestAuth<'a> = Auth<'a, &'a MemoryStore, &'a MemoryRevocations, &'a MemoryCounters>;

/// The use cases at time `now` over these in-memory adapters (lent, so the test can look inside them).
fn at<'a>(
    config: &'a Config,
    store: &'a MemoryStore,
    revocations: &'a MemoryRevocations,
    counters: &'a MemoryCounters,
    now: i64,
) -> TestAuth<'a> {
    Auth { config, store, revocations, counters, audit: &crate::testing::NoAudit, now }
}

fn login_req(name: &str, password: &str) -> LoginRequest {
    LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap()).unwrap()
}

fn do_login(c: &Config, store: &MemoryStore, name: &str, password: &str) -> TokenResponse {
    block_on(
        at(c, store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req(name, password), &ClientInfo::default()),
    )
    .unwrap()
}

// ---- login and profile -------------------------------------------------------------------------

#[test]
fn a_correct_password_returns_verifiable_tokens_and_records_the_login() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let r = do_login(&c, &store, "alice", "correct horse");
    assert_eq!(r.token_type, "Bearer");
    assert_eq!(r.expires_in, 900);
    assert_eq!(r.refresh_expires_in, 30 * 86_400);
    assert_eq!(r.user.username, "alice");
    let v = c.tokens.verify(&r.access_token, NOW).unwrap();
    assert_eq!(v.claims.sub, r.user.id);
    assert_eq!(store.get("alice").last_login_at, Some(NOW));
    assert_eq!(store.session(&v.claims.sid).generation, 0);
}

#[test]
fn login_by_email_and_by_differently_cased_username_works() {
    let c = config();
    let store = MemoryStore::with_user(&c, "Alice", "correct horse", "user");
    let client = ClientInfo::default();
    assert!(block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("ALICE", "correct horse"), &client)
    )
    .is_ok());
    assert!(block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("Alice@Example.com", "correct horse"), &client)
    )
    .is_ok());
}

#[test]
fn unknown_user_and_wrong_password_are_the_same_error_after_the_same_hash_work() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let client = ClientInfo::default();
    let count = crate::password::verification_count;
    let before = count();
    let wrong = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("alice", "wrong"), &client),
    )
    .unwrap_err();
    let after_wrong = count();
    let unknown = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("mallory", "wrong"), &client),
    )
    .unwrap_err();
    let after_unknown = count();
    assert_eq!(wrong, AuthError::InvalidCredentials);
    assert_eq!(unknown, AuthError::InvalidCredentials);
    assert_eq!(after_wrong - before, 1);
    assert_eq!(after_unknown - after_wrong, 1, "the unknown user costs one hash too");
    assert_eq!(store.get("alice").last_login_at, None);
}

#[test]
fn a_disabled_account_is_only_revealed_after_a_correct_password() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    store.update("alice", |u| u.disabled = true);
    let client = ClientInfo::default();
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("alice", "nope"), &client),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::InvalidCredentials);
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("alice", "correct horse"), &client),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::AccountDisabled);
}

#[test]
fn a_hash_below_the_configured_cost_is_upgraded_at_login() {
    let c = config_with(&[("PASSWORD_ITERATIONS", "2000")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let weak = crate::password::PasswordHasher::new(1_000).unwrap().hash("correct horse");
    store.update("alice", |u| u.password_hash = weak.clone());
    do_login(&c, &store, "alice", "correct horse");
    let stored = store.get("alice").password_hash;
    assert!(stored.contains("i=2000,"), "{stored}");
    do_login(&c, &store, "alice", "correct horse");
}

#[test]
fn a_corrupt_stored_hash_is_invalid_credentials_not_a_crash() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    store.update("alice", |u| u.password_hash = "garbage".into());
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .login(&login_req("alice", "correct horse"), &ClientInfo::default()),
    );
    assert_eq!(e.unwrap_err(), AuthError::InvalidCredentials);
}

#[test]
fn the_profile_is_read_fresh_and_refused_for_disabled_or_deleted_users() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let r = do_login(&c, &store, "alice", "correct horse");
    let access = c.tokens.verify(&r.access_token, NOW).unwrap();
    store.update("alice", |u| u.display_name = Some("Alice A.".into()));
    assert_eq!(
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW).profile(&access)
        )
        .unwrap()
        .display_name
        .as_deref(),
        Some("Alice A.")
    );
    store.update("alice", |u| u.disabled = true);
    assert_eq!(
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW).profile(&access)
        )
        .unwrap_err(),
        AuthError::TokenInvalid
    );
    store.remove("alice");
    assert_eq!(
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW).profile(&access)
        )
        .unwrap_err(),
        AuthError::TokenInvalid
    );
}

// ---- refresh rotation --------------------------------------------------------------------------

fn setup() -> (Config, MemoryStore, MemoryRevocations, TokenResponse) {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let r = do_login(&c, &store, "alice", "correct horse");
    (c, store, MemoryRevocations::default(), r)
}

#[test]
fn a_refresh_rotates_the_token_and_the_old_one_stops_working() {
    let (c, store, kv, first) = setup();
    let second =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 100).refresh(&first.refresh_token))
            .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    let third =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 200).refresh(&second.refresh_token))
            .unwrap();
    // The first token is two generations old: reuse, whatever the window.
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 201).refresh(&first.refresh_token))
            .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenReused);
    // ...and the whole session (family) is gone, including the newest token.
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 202).refresh(&third.refresh_token))
            .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenInvalid);
    let access = c.tokens.verify(&third.access_token, NOW + 202).unwrap();
    let e = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW + 202)
            .authenticate(&third.access_token),
    )
    .unwrap_err();
    assert_eq!((e, access.claims.sid.is_empty()), (AuthError::TokenInvalid, false));
}

#[test]
fn refresh_expiry_is_absolute_and_counts_down() {
    let (c, store, kv, first) = setup();
    let second =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 1000).refresh(&first.refresh_token))
            .unwrap();
    assert_eq!(second.refresh_expires_in, 30 * 86_400 - 1000);
    let e = block_on(
        at(&c, &store, &kv, &MemoryCounters::default(), NOW + 30 * 86_400).refresh(&second.refresh_token),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenInvalid);
}

#[test]
fn two_tabs_refreshing_inside_the_grace_window_both_get_the_same_working_successor() {
    let (c, store, kv, first) = setup();
    let a =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 100).refresh(&first.refresh_token))
            .unwrap();
    let b =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 110).refresh(&first.refresh_token))
            .unwrap();
    assert_eq!(a.refresh_token, b.refresh_token);
    assert!(block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 120).refresh(&b.refresh_token))
        .is_ok());
}

#[test]
fn a_refresh_of_the_previous_token_after_the_window_is_reuse() {
    let (c, store, kv, first) = setup();
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 100).refresh(&first.refresh_token))
        .unwrap();
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 131).refresh(&first.refresh_token))
            .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenReused);
}

#[test]
fn with_a_zero_window_any_second_use_is_reuse() {
    let c = config_with(&[("REFRESH_GRACE_PERIOD", "0")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryRevocations::default();
    let first = do_login(&c, &store, "alice", "correct horse");
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&first.refresh_token)).unwrap();
    let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&first.refresh_token))
        .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenReused);
}

#[test]
fn a_lost_rotation_race_hands_out_the_winners_successor() {
    let (c, store, kv, first) = setup();
    *store.lose_next_race.borrow_mut() = true;
    let loser =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 5).refresh(&first.refresh_token))
            .unwrap();
    let sid = c.tokens.verify(&loser.access_token, NOW + 5).unwrap().claims.sid;
    assert_eq!(store.session(&sid).generation, 1);
    assert_eq!(loser.refresh_token, c.refresh_key.mint(&sid, &store.session(&sid).seed, 1));
}

#[test]
fn forged_or_foreign_refresh_tokens_are_invalid_and_revoke_nothing() {
    let (c, store, kv, first) = setup();
    let sid = c.tokens.verify(&first.access_token, NOW).unwrap().claims.sid;
    let forged =
        crate::session::RefreshKey::derive(b"attacker-key-attacker-key-attacker-k").mint(&sid, &[0; 32], 0);
    for bad in [forged.as_str(), "", "rt1.x.0.AAAA", first.access_token.as_str()] {
        let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(bad)).unwrap_err();
        assert_eq!(e, AuthError::RefreshTokenInvalid, "{bad}");
    }
    assert_eq!(store.session(&sid).revoked_at, None);
    assert!(
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&first.refresh_token)).is_ok()
    );
}

#[test]
fn a_refresh_token_never_works_as_an_access_token() {
    let (c, _store, kv, first) = setup();
    let e = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&first.refresh_token),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::TokenInvalid);
}

#[test]
fn a_disabled_user_cannot_refresh() {
    let (c, store, kv, first) = setup();
    store.update("alice", |u| u.disabled = true);
    let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&first.refresh_token))
        .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenInvalid);
}

// ---- logout, logout-all, sessions ---------------------------------------------------------------

#[test]
fn logout_ends_the_session_and_its_access_tokens_only() {
    let (c, store, kv, phone) = setup();
    let laptop = do_login(&c, &store, "alice", "correct horse");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token),
    )
    .unwrap();
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).logout(&access, None)).unwrap();
    assert_eq!(
        block_on(
            at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
                .authenticate(&phone.access_token)
        )
        .unwrap_err(),
        AuthError::TokenInvalid
    );
    let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&phone.refresh_token))
        .unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenInvalid);
    assert!(block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&laptop.access_token)
    )
    .is_ok());
    assert!(
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&laptop.refresh_token)).is_ok()
    );
}

#[test]
fn logout_all_ends_every_session_and_every_outstanding_access_token() {
    let (c, store, kv, phone) = setup();
    let laptop = do_login(&c, &store, "alice", "correct horse");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token),
    )
    .unwrap();
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 1).logout_all(&access)).unwrap();
    for t in [&phone, &laptop] {
        let e = block_on(
            at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW + 1)
                .authenticate(&t.access_token),
        )
        .unwrap_err();
        assert_eq!(e, AuthError::TokenInvalid);
        let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 1).refresh(&t.refresh_token))
            .unwrap_err();
        assert_eq!(e, AuthError::RefreshTokenInvalid);
    }
    // A login after the logout-all works, even within the same second.
    let again = do_login(&c, &store, "alice", "correct horse");
    let later = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW + 1)
            .login(&login_req("alice", "correct horse"), &ClientInfo::default()),
    );
    assert!(block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW + 1)
            .authenticate(&later.unwrap().access_token)
    )
    .is_ok());
    assert!(
        block_on(
            at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW + 1)
                .authenticate(&again.access_token)
        )
        .is_err(),
        "issued before"
    );
}

#[test]
fn logout_all_ends_another_devices_token_issued_in_the_same_second() {
    let (c, store, kv, phone) = setup();
    let laptop = do_login(&c, &store, "alice", "correct horse");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&laptop.access_token),
    )
    .unwrap();
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).logout_all(&access)).unwrap();
    let e = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::TokenInvalid);
}

#[test]
fn every_authentication_costs_two_kv_reads() {
    let (c, _store, kv, r) = setup();
    block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW).authenticate(&r.access_token),
    )
    .unwrap();
    assert_eq!(*kv.reads.borrow(), 2);
}

#[test]
fn the_session_list_marks_the_current_one_and_only_shows_the_callers() {
    let (c, store, kv, phone) = setup();
    let _laptop = do_login(&c, &store, "alice", "correct horse");
    store.add_user(&c, "bob", "bob password", "user");
    let _bob = do_login(&c, &store, "bob", "bob password");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token),
    )
    .unwrap();
    let list = block_on(
        at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW).list_sessions(&access),
    )
    .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    assert_eq!(list.iter().find(|s| s.current).unwrap().id, access.claims.sid);
}

#[test]
fn deleting_a_session_ends_only_that_one_and_another_users_is_not_found() {
    let (c, store, kv, phone) = setup();
    let laptop = do_login(&c, &store, "alice", "correct horse");
    store.add_user(&c, "bob", "bob password", "user");
    let bob = do_login(&c, &store, "bob", "bob password");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token),
    )
    .unwrap();
    let laptop_sid = c.tokens.verify(&laptop.access_token, NOW).unwrap().claims.sid;
    let bob_sid = c.tokens.verify(&bob.access_token, NOW).unwrap().claims.sid;
    let e = block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).delete_session(&access, &bob_sid))
        .unwrap_err();
    assert_eq!(e, AuthError::NotFound);
    assert!(block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW).authenticate(&bob.access_token)
    )
    .is_ok());
    block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).delete_session(&access, &laptop_sid))
        .unwrap();
    assert!(block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&laptop.access_token)
    )
    .is_err());
    assert!(block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&phone.access_token)
    )
    .is_ok());
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).delete_session(&access, &laptop_sid))
            .unwrap_err();
    assert_eq!(e, AuthError::NotFound, "already ended");
}

// ---- rate limits --------------------------------------------------------------------------------

fn from_ip(ip: &str) -> ClientInfo {
    ClientInfo { user_agent: None, ip: Some(ip.into()) }
}

#[test]
fn unknown_user_and_wrong_password_cost_the_same_kv_writes_and_success_costs_none() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let (kv_wrong, kv_unknown, kv_ok) =
        (MemoryCounters::default(), MemoryCounters::default(), MemoryCounters::default());
    let ip = from_ip("198.51.100.7");
    block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv_wrong, NOW).login(&login_req("alice", "nope"), &ip),
    )
    .unwrap_err();
    block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv_unknown, NOW)
            .login(&login_req("mallory", "nope"), &ip),
    )
    .unwrap_err();
    block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv_ok, NOW)
            .login(&login_req("alice", "correct horse"), &ip),
    )
    .unwrap();
    assert_eq!(*kv_wrong.writes.borrow(), 2, "IP counter and account counter");
    assert_eq!(*kv_unknown.writes.borrow(), *kv_wrong.writes.borrow());
    assert_eq!(*kv_ok.writes.borrow(), 0, "no KV write per successful login");
}

#[test]
fn an_account_gets_a_growing_delay_after_its_free_failures_and_success_resets_it() {
    let c = config_with(&[("RATE_LIMIT_LOGIN_IP", "off")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryCounters::default();
    let attempt = |pw: &str, when: i64| {
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &kv, when)
                .login(&login_req("alice", pw), &from_ip("a")),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("nope", NOW).unwrap_err(), AuthError::InvalidCredentials);
    }
    // Even the right password waits: the limit is checked before any hashing.
    assert_eq!(attempt("correct horse", NOW).unwrap_err(), AuthError::RateLimited { retry_after: 1 });
    assert_eq!(attempt("nope", NOW + 1).unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(attempt("nope", NOW + 1).unwrap_err(), AuthError::RateLimited { retry_after: 2 });
    assert!(attempt("correct horse", NOW + 3).is_ok());
    // Reset: five free failures again.
    for _ in 0..5 {
        assert_eq!(attempt("nope", NOW + 4).unwrap_err(), AuthError::InvalidCredentials);
    }
}

#[test]
fn an_ip_over_its_failure_window_is_refused_for_every_account() {
    let c = config_with(&[("RATE_LIMIT_LOGIN_IP", "3/1m")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    store.add_user(&c, "bob", "bob password", "user");
    let kv = MemoryCounters::default();
    for name in ["alice", "bob", "carol"] {
        let e = block_on(
            at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
                .login(&login_req(name, "nope"), &from_ip("203.0.113.9")),
        );
        assert_eq!(e.unwrap_err(), AuthError::InvalidCredentials);
    }
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
            .login(&login_req("bob", "bob password"), &from_ip("203.0.113.9")),
    );
    assert!(
        matches!(e.unwrap_err(), AuthError::RateLimited { retry_after } if (1..=60).contains(&retry_after))
    );
    assert!(block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
            .login(&login_req("bob", "bob password"), &from_ip("203.0.113.10"))
    )
    .is_ok());
}

#[test]
fn a_refused_kv_write_fails_closed() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryCounters::default();
    *kv.refuse_writes.borrow_mut() = true;
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
            .login(&login_req("alice", "nope"), &from_ip("a")),
    )
    .unwrap_err();
    assert_eq!(e, AuthError::RateLimited { retry_after: 1 });
}

#[test]
fn signups_are_limited_per_ip() {
    let c = config_with(&[("RATE_LIMIT_SIGNUP_IP", "2/1h")]);
    let store = MemoryStore::default();
    let kv = MemoryCounters::default();
    let signup_as = |name: &str, ip: &str| {
        let body = json!({"username": name, "password": "a long passphrase"});
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
                .signup(&SignupRequest::parse(&c, body.as_object().unwrap()).unwrap(), &from_ip(ip)),
        )
    };
    assert!(signup_as("user1", "a").is_ok());
    assert!(signup_as("user2", "a").is_ok());
    assert!(matches!(signup_as("user3", "a").unwrap_err(), AuthError::RateLimited { .. }));
    assert!(signup_as("user3", "b").is_ok());
}

// ---- key rotation -------------------------------------------------------------------------------

#[test]
fn rotating_the_secret_keeps_outstanding_access_and_refresh_tokens_working() {
    let old_secret = "old-secret-old-secret-old-secret-0123456";
    let before = config_with(&[("JWT_SECRET", old_secret)]);
    let store = MemoryStore::with_user(&before, "alice", "correct horse", "user");
    let kv = MemoryRevocations::default();
    let tokens = do_login(&before, &store, "alice", "correct horse");
    let after = config_with(&[
        ("JWT_SECRET", "new-secret-new-secret-new-secret-6543210"),
        ("JWT_PREVIOUS_SECRETS", old_secret),
    ]);
    assert!(block_on(
        at(&after, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&tokens.access_token)
    )
    .is_ok());
    let rotated =
        block_on(at(&after, &store, &kv, &MemoryCounters::default(), NOW).refresh(&tokens.refresh_token))
            .unwrap();
    assert!(block_on(
        at(&after, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&rotated.access_token)
    )
    .is_ok());
    // Once the old secret is dropped, its tokens stop working.
    let dropped = config_with(&[("JWT_SECRET", "new-secret-new-secret-new-secret-6543210")]);
    assert!(block_on(
        at(&dropped, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW)
            .authenticate(&tokens.access_token)
    )
    .is_err());
}

#[test]
fn wrong_current_passwords_in_change_password_earn_the_login_delay() {
    let c = config_with(&[("LOGIN_FREE_FAILURES", "2"), ("RATE_LIMIT_LOGIN_IP", "off")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let (kv, counters) = (MemoryRevocations::default(), MemoryCounters::default());
    let r = do_login(&c, &store, "alice", "correct horse");
    let access = block_on(
        at(&c, &MemoryStore::default(), &kv, &MemoryCounters::default(), NOW).authenticate(&r.access_token),
    )
    .unwrap();
    let attempt = |current: &str| {
        let body = json!({"current_password": current, "new_password": "a brand new passphrase"});
        block_on(at(&c, &store, &kv, &counters, NOW).change_password(
            &access,
            &ChangePasswordRequest::parse(body.as_object().unwrap()).unwrap(),
            &from_ip("a"),
        ))
    };
    assert_eq!(attempt("guess 1").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(attempt("guess 2").unwrap_err(), AuthError::InvalidCredentials);
    assert!(matches!(attempt("correct horse").unwrap_err(), AuthError::RateLimited { .. }));
    // ...and logins of that account wait too.
    let e = block_on(
        at(&c, &store, &MemoryRevocations::default(), &counters, NOW)
            .login(&login_req("alice", "correct horse"), &from_ip("b")),
    );
    assert!(matches!(e.unwrap_err(), AuthError::RateLimited { .. }));
}

#[test]
fn logins_by_username_and_by_email_share_one_account_counter() {
    let c = config_with(&[("LOGIN_FREE_FAILURES", "2"), ("RATE_LIMIT_LOGIN_IP", "off")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryCounters::default();
    let attempt = |name: &str| {
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &kv, NOW)
                .login(&login_req(name, "nope"), &from_ip("a")),
        )
    };
    assert_eq!(attempt("alice").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(attempt("alice@example.com").unwrap_err(), AuthError::InvalidCredentials);
    assert!(matches!(attempt("ALICE").unwrap_err(), AuthError::RateLimited { .. }));
}

// ---- accounts -----------------------------------------------------------------------------------

fn body(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn a_signup_gets_the_default_role_and_a_working_session() {
    let c = config();
    let store = MemoryStore::default();
    let kv = MemoryRevocations::default();
    let request = SignupRequest::parse(
        &c,
        &body(json!({"username": "ana", "password": "a long passphrase", "role": "admin"})),
    )
    .unwrap();
    let (tokens, user) =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).signup(&request, &from_ip("a")))
            .unwrap();
    assert_eq!((user.role.as_str(), tokens.user.role.as_str()), ("user", "user"));
    assert!(block_on(
        at(&c, &store, &kv, &MemoryCounters::default(), NOW).authenticate(&tokens.access_token)
    )
    .is_ok());
    let again =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).signup(&request, &from_ip("b")));
    assert_eq!(again.unwrap_err(), AuthError::UsernameTaken);
}

#[test]
fn signup_refuses_when_disabled_even_with_a_request_parsed_earlier() {
    let open = config();
    let request =
        SignupRequest::parse(&open, &body(json!({"username": "ana", "password": "a long passphrase"})))
            .unwrap();
    let closed = config_with(&[("SIGNUP_ENABLED", "false")]);
    let store = MemoryStore::default();
    let counters = MemoryCounters::default();
    let e = block_on(
        at(&closed, &store, &MemoryRevocations::default(), &counters, NOW).signup(&request, &from_ip("a")),
    );
    assert_eq!(e.unwrap_err(), AuthError::SignupDisabled);
    assert_eq!(*counters.writes.borrow(), 0, "refused before counting");
}

#[test]
fn a_new_password_must_pass_the_policy_after_the_current_one_is_verified() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryRevocations::default();
    let r = do_login(&c, &store, "alice", "correct horse");
    let access = c.tokens.verify(&r.access_token, NOW).unwrap();
    let change = |current: &str, new: &str| {
        let request = ChangePasswordRequest { current_password: current.into(), new_password: new.into() };
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).change_password(
            &access,
            &request,
            &from_ip("a"),
        ))
    };
    let e = change("correct horse", "short").unwrap_err();
    assert_eq!(e.field_errors()[0].field, "new_password");
    assert_eq!(change("wrong", "short").unwrap_err(), AuthError::InvalidCredentials, "current first");
    let fresh = change("correct horse", "a brand new passphrase").unwrap();
    // The old session is over, the new one works, and so does the new password.
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).refresh(&r.refresh_token)).unwrap_err();
    assert_eq!(e, AuthError::RefreshTokenInvalid);
    assert!(block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW).authenticate(&fresh.access_token))
        .is_ok());
    do_login(&c, &store, "alice", "a brand new passphrase");
}

/// The reset token of the mail `forgot_password` returns for `alice`.
fn reset_token(c: &Config, store: &MemoryStore) -> String {
    let forgot = ForgotRequest::parse(&body(json!({"email": "alice@example.com"}))).unwrap();
    let mail = block_on(
        at(c, store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
            .forgot_password(&forgot, "https://app.example"),
    )
    .unwrap()
    .unwrap();
    assert!(mail.link.starts_with("https://app.example/auth/ui/reset-password?token="), "{}", mail.link);
    mail.link.rsplit_once('=').unwrap().1.to_string()
}

#[test]
fn a_reset_token_works_once_and_ends_every_session() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryRevocations::default();
    let before = do_login(&c, &store, "alice", "correct horse");
    let token = reset_token(&c, &store);
    let reset = |token: &str, at_time: i64| {
        let request =
            ResetPasswordRequest { token: token.into(), new_password: "a brand new passphrase".into() };
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), at_time).reset_password(&request))
    };
    assert_eq!(reset(&token, NOW + 1), Ok(()));
    assert_eq!(reset(&token, NOW + 2), Err(AuthError::ResetTokenInvalid), "single use");
    let e =
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), NOW + 2).authenticate(&before.access_token));
    assert_eq!(e.unwrap_err(), AuthError::TokenInvalid);
    do_login(&c, &store, "alice", "a brand new passphrase");
}

#[test]
fn unknown_expired_oversized_or_weak_resets_are_refused() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let kv = MemoryRevocations::default();
    let token = reset_token(&c, &store);
    let reset = |token: &str, new: &str, at_time: i64| {
        let request = ResetPasswordRequest { token: token.into(), new_password: new.into() };
        block_on(at(&c, &store, &kv, &MemoryCounters::default(), at_time).reset_password(&request))
    };
    let good = "a brand new passphrase";
    assert_eq!(reset("not-a-token", good, NOW), Err(AuthError::ResetTokenInvalid));
    assert_eq!(reset(&"a".repeat(129), good, NOW), Err(AuthError::ResetTokenInvalid));
    assert_eq!(reset(&token, good, NOW + 1800), Err(AuthError::ResetTokenInvalid), "expired");
    let e = reset(&token, "short", NOW).unwrap_err();
    assert_eq!(e.field_errors()[0].field, "new_password");
    assert_eq!(reset(&token, good, NOW), Ok(()), "a refused policy does not burn the token");
}

#[test]
fn forgot_password_sends_nothing_for_unknown_disabled_or_addressless_accounts() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    store.add_user(&c, "bob", "bob password", "user");
    store.update("bob", |u| u.disabled = true);
    store.add_user(&c, "carol", "carol password", "user");
    store.update("carol", |u| u.email = None);
    for request in
        [json!({"email": "nobody@example.com"}), json!({"username": "bob"}), json!({"username": "carol"})]
    {
        let forgot = ForgotRequest::parse(&body(request.clone())).unwrap();
        let mail = block_on(
            at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW)
                .forgot_password(&forgot, "o"),
        );
        assert!(mail.unwrap().is_none(), "{request}");
    }
}

#[test]
fn forgot_requests_are_limited_per_address_whatever_the_account() {
    let c = config_with(&[("RATE_LIMIT_FORGOT_ADDRESS", "2/1h"), ("RATE_LIMIT_FORGOT_IP", "off")]);
    let store = MemoryStore::default();
    let counters = MemoryCounters::default();
    let check = |request: serde_json::Value, ip: &str| {
        let forgot = ForgotRequest::parse(&body(request)).unwrap();
        block_on(
            at(&c, &store, &MemoryRevocations::default(), &counters, NOW).check_forgot_limits(&forgot, ip),
        )
    };
    assert!(check(json!({"email": "ghost@example.com"}), "a").is_ok());
    assert!(check(json!({"email": "GHOST@example.com"}), "b").is_ok());
    assert!(matches!(check(json!({"email": "ghost@example.com"}), "c"), Err(AuthError::RateLimited { .. })));
    assert!(check(json!({"username": "ghost"}), "a").is_ok(), "a username is another subject");
}

// ---- admin ---------------------------------------------------------------------------------------

/// A signed-in caller of `role`: a user of its own and a live session in `store`.
fn signed_in(c: &Config, store: &MemoryStore, role: &str) -> VerifiedAccess {
    let name = format!("caller_{role}");
    store.add_user(c, &name, "caller password", role);
    c.tokens.verify(&do_login(c, store, &name, "caller password").access_token, NOW).unwrap()
}

/// An access token of `role` whose session D1 does not know (good enough to be refused by role).
fn caller(role: &str) -> VerifiedAccess {
    VerifiedAccess {
        claims: crate::token::AccessClaims {
            iss: "edge-auth".into(),
            aud: "edge-auth".into(),
            sub: "caller".into(),
            sid: "caller-session".into(),
            jti: "j".into(),
            role: role.into(),
            username: "caller".into(),
            amr: None,
            auth_time: None,
        },
        issued_at: NOW,
        expires_at: NOW + 900,
    }
}

#[test]
fn admin_use_cases_check_the_callers_role_themselves() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let id = store.get("alice").id;
    let kv = MemoryRevocations::default();
    let counters = MemoryCounters::default();
    let auth = at(&c, &store, &kv, &counters, NOW);
    let create = CreateUserRequest::parse(
        &c,
        &body(json!({"username": "eve", "password": "a long passphrase", "role": "admin"})),
    )
    .unwrap();
    let update = UpdateUserRequest::parse(&c, &body(json!({"role": "admin"}))).unwrap();
    let import = ImportRequest::parse(&c, &body(json!({"users": []}))).unwrap();
    let query = ListUsersQuery::parse(None, None, None).unwrap();
    for role in ["user", "demo", "cajero"] {
        let who = caller(role);
        assert_eq!(block_on(auth.create_user(&who, &create)).unwrap_err(), AuthError::Forbidden, "{role}");
        assert_eq!(block_on(auth.update_user(&who, &id, &update)).unwrap_err(), AuthError::Forbidden);
        assert_eq!(block_on(auth.delete_user(&who, &id)).unwrap_err(), AuthError::Forbidden);
        assert_eq!(block_on(auth.revoke_sessions(&who, &id)).unwrap_err(), AuthError::Forbidden);
        assert_eq!(block_on(auth.import_users(&who, &import)).unwrap_err(), AuthError::Forbidden);
    }
    for role in ["user", "cajero"] {
        let who = caller(role);
        assert_eq!(block_on(auth.list_users(&who, &query)).unwrap_err(), AuthError::Forbidden, "{role}");
        assert_eq!(block_on(auth.get_user(&who, &id)).unwrap_err(), AuthError::Forbidden);
    }
    // Nothing changed, and demo may read.
    assert_eq!(store.get("alice").role, "user");
    let demo = signed_in(&c, &store, "demo");
    assert!(block_on(auth.list_users(&demo, &query)).is_ok());
    assert!(block_on(auth.get_user(&demo, &id)).is_ok());
    // The right role is not enough: D1 must know the caller's session, live.
    assert_eq!(block_on(auth.list_users(&caller("demo"), &query)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn an_admin_demotion_ends_the_users_sessions_and_unknown_ids_are_not_found() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "admin");
    store.add_user(&c, "root", "root password", "admin");
    let kv = MemoryRevocations::default();
    let tokens = do_login(&c, &store, "alice", "correct horse");
    let counters = MemoryCounters::default();
    let auth = at(&c, &store, &kv, &counters, NOW);
    let id = store.get("alice").id;
    let demote = UpdateUserRequest::parse(&c, &body(json!({"role": "user"}))).unwrap();
    let admin = signed_in(&c, &store, "admin");
    let view = block_on(auth.update_user(&admin, &id, &demote)).unwrap();
    assert_eq!(view.user.role, "user");
    assert_eq!(block_on(auth.authenticate(&tokens.access_token)).unwrap_err(), AuthError::TokenInvalid);
    assert_eq!(block_on(auth.update_user(&admin, "ghost", &demote)).unwrap_err(), AuthError::NotFound);
    assert_eq!(block_on(auth.get_user(&admin, "ghost")).unwrap_err(), AuthError::NotFound);
    assert_eq!(block_on(auth.revoke_sessions(&admin, "ghost")).unwrap_err(), AuthError::NotFound);
}

#[test]
fn an_import_reports_what_it_skipped() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let sha = format!("sha256:{}", "ab".repeat(32));
    let request = ImportRequest::parse(
        &c,
        &body(json!({"users": [
            {"username": "old1", "password_hash": sha},
            {"username": "ALICE", "password_hash": sha},
            {"username": "old2", "password_hash": "plain"},
        ]})),
    )
    .unwrap();
    let (kv, counters) = (MemoryRevocations::default(), MemoryCounters::default());
    let auth = at(&c, &store, &kv, &counters, NOW);
    let report = block_on(auth.import_users(&signed_in(&c, &store, "admin"), &request)).unwrap();
    assert_eq!(report.imported, 1);
    let skipped: Vec<(&str, &str)> = report.skipped.iter().map(|s| (s.username.as_str(), s.code)).collect();
    assert_eq!(skipped, [("ALICE", "username_taken"), ("old2", "unsupported_hash")]);
    assert_eq!(store.get("old1").password_hash, sha, "upgraded at the next login, not now");
}

#[test]
fn rate_limit_counters_live_under_the_kv_key_names() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::default();
    let id = store.get("alice").id;
    block_on(
        at(&c, &store, &MemoryRevocations::default(), &counters, NOW)
            .login(&login_req("alice", "nope"), &from_ip("203.0.113.9")),
    )
    .unwrap_err();
    let window = c.limits.login_ip.unwrap().window_start(NOW);
    for key in [
        crate::kv_keys::account_failures(&format!("id:{id}")),
        crate::kv_keys::window_counter(crate::kv_keys::Window::LoginIp, "203.0.113.9", window),
    ] {
        assert!(counters.values.borrow().contains_key(&key), "{key}");
    }
}

// ---- second factor --------------------------------------------------------------------------------

/// A config with an MFA key, a user `carol` with TOTP enabled at `NOW`, and her raw secret.
fn with_totp() -> (Config, MemoryStore, Vec<u8>) {
    let c = config_with(&[
        ("MFA_ENCRYPTION_KEY", "TU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU0"),
        ("PASSWORD_ITERATIONS", "2000"),
    ]);
    let store = MemoryStore::with_user(&c, "carol", "correct horse", "user");
    let tokens = do_login(&c, &store, "carol", "correct horse");
    let (kv, counters) = (MemoryRevocations::default(), MemoryCounters::default());
    let auth = at(&c, &store, &kv, &counters, NOW);
    let access = block_on(auth.authenticate(&tokens.access_token)).unwrap();
    let setup = block_on(auth.totp_setup(&access)).unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(setup.secret.as_bytes()).unwrap();
    let code = format!("{:06}", crate::totp::code(&secret, crate::totp::step_at(NOW) - 1));
    block_on(auth.totp_enable(&access, &code)).unwrap();
    (c, store, secret)
}

fn pending_login(c: &Config, store: &MemoryStore, now: i64) -> String {
    let e = block_on(
        at(c, store, &MemoryRevocations::default(), &MemoryCounters::default(), now)
            .login(&login_req("carol", "correct horse"), &ClientInfo::default()),
    )
    .unwrap_err();
    match e {
        AuthError::MfaRequired { mfa_token, methods } => {
            assert_eq!(methods, vec!["totp", "recovery_code"]);
            mfa_token
        }
        other => panic!("expected mfa_required, got {other:?}"),
    }
}

#[test]
fn an_mfa_token_works_for_five_minutes_and_not_a_second_longer() {
    let (c, store, secret) = with_totp();
    let verify_at = |token: &str, t: i64| {
        let code =
            mfa::SecondFactor::Totp(format!("{:06}", crate::totp::code(&secret, crate::totp::step_at(t))));
        block_on(at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), t).mfa_verify(
            token,
            &code,
            &crate::testing::site(),
            &ClientInfo::default(),
        ))
    };
    let late = pending_login(&c, &store, NOW + 60);
    assert_eq!(verify_at(&late, NOW + 60 + mfa::CHALLENGE_SECONDS).unwrap_err(), AuthError::MfaTokenInvalid);
    let in_time = pending_login(&c, &store, NOW + 600);
    let tokens = verify_at(&in_time, NOW + 600 + mfa::CHALLENGE_SECONDS - 1).unwrap();
    assert!(!tokens.access_token.is_empty());
}

#[test]
fn a_pending_login_yields_no_session_and_no_token() {
    let (c, store, _) = with_totp();
    let before = block_on(store.list_sessions(&store.get("carol").id, NOW + 30)).unwrap().len();
    let token = pending_login(&c, &store, NOW + 30);
    assert_eq!(block_on(store.list_sessions(&store.get("carol").id, NOW + 30)).unwrap().len(), before);
    let (kv, counters) = (MemoryRevocations::default(), MemoryCounters::default());
    let auth = at(&c, &store, &kv, &counters, NOW + 30);
    assert_eq!(block_on(auth.authenticate(&token)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn a_weak_hash_of_an_account_with_a_second_factor_is_upgraded_when_the_login_completes() {
    let (c, store, secret) = with_totp();
    let weak = crate::password::PasswordHasher::new(1_000).unwrap().hash("correct horse");
    store.update("carol", |u| u.password_hash = weak.clone());
    let token = pending_login(&c, &store, NOW + 30);
    assert_eq!(store.get("carol").password_hash, weak, "not before the second step");
    let code =
        mfa::SecondFactor::Totp(format!("{:06}", crate::totp::code(&secret, crate::totp::step_at(NOW + 30))));
    block_on(at(&c, &store, &MemoryRevocations::default(), &MemoryCounters::default(), NOW + 30).mfa_verify(
        &token,
        &code,
        &crate::testing::site(),
        &ClientInfo::default(),
    ))
    .unwrap();
    let stored = store.get("carol").password_hash;
    assert_ne!(stored, weak);
    assert!(stored.contains("i=2000,"), "{stored}");
}
