//! The global failed-login budget (`LOGIN_FAILURE_LIMITER` in the Worker) over the in-memory ports:
//! a failed password login spends it, the failure that finds it spent writes the KV flag (and the
//! isolate remembers it), and while the flag lives every password login is refused before any
//! hashing. Without a budget, nothing of this happens.

use super::*;
use crate::config::Config;
use crate::error::AuthError;
use crate::kv_keys::GLOBAL_FAILED_LOGIN;
use crate::password::verification_count;
use crate::testing::{block_on, config_with, MemoryCounters, MemoryRevocations, MemoryStore, NoAudit};
use serde_json::json;

const NOW: i64 = 1_780_000_000;

/// Per-IP and per-account limits out of the way, so only the budget refuses.
fn config() -> Config {
    config_with(&[("RATE_LIMIT_LOGIN_IP", "off"), ("LOGIN_FREE_FAILURES", "99")])
}

fn login(
    c: &Config,
    store: &MemoryStore,
    counters: &MemoryCounters,
    name: &str,
    password: &str,
) -> Result<TokenResponse, AuthError> {
    login_at(c, store, counters, name, password, NOW)
}

fn login_at(
    c: &Config,
    store: &MemoryStore,
    counters: &MemoryCounters,
    name: &str,
    password: &str,
    now: i64,
) -> Result<TokenResponse, AuthError> {
    let request =
        LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap()).unwrap();
    let client = ClientInfo { user_agent: None, ip: Some("198.51.100.7".into()) };
    let auth =
        Auth { config: c, store, revocations: &MemoryRevocations::default(), counters, audit: &NoAudit, now };
    block_on(auth.login(&request, &client))
}

const SPENT: AuthError = AuthError::RateLimited { retry_after: 60 };

#[test]
fn without_a_budget_nothing_is_spent_and_no_flag_is_read() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::default();
    // A flag left in KV (say, by a deployment that had the binding) is not even read.
    counters.values.borrow_mut().insert(GLOBAL_FAILED_LOGIN.into(), "1".into());
    for _ in 0..3 {
        assert_eq!(login(&c, &store, &counters, "alice", "nope").unwrap_err(), AuthError::InvalidCredentials);
    }
    assert!(login(&c, &store, &counters, "alice", "correct horse").is_ok());
    assert_eq!(*counters.budget_calls.borrow(), 0);
    for keys in counters.bulk_reads.borrow().iter() {
        assert!(!keys.iter().any(|k| k == GLOBAL_FAILED_LOGIN), "{keys:?}");
    }
}

#[test]
fn the_failure_that_finds_the_budget_spent_writes_the_flag_for_60_seconds() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(2);
    for _ in 0..2 {
        assert_eq!(login(&c, &store, &counters, "alice", "nope").unwrap_err(), AuthError::InvalidCredentials);
        assert!(!counters.values.borrow().contains_key(GLOBAL_FAILED_LOGIN), "within budget: no flag");
    }
    // The third failure is over the budget: its hash was paid already, so it gets its true answer,
    // and the flag makes the next ones cheap.
    assert_eq!(login(&c, &store, &counters, "alice", "nope").unwrap_err(), AuthError::InvalidCredentials);
    assert_eq!(*counters.budget_calls.borrow(), 3);
    assert_eq!(counters.values.borrow().get(GLOBAL_FAILED_LOGIN).map(String::as_str), Some("1"));
    assert_eq!(counters.ttls.borrow()[GLOBAL_FAILED_LOGIN], 60, "KV's shortest TTL");
    assert_eq!(*counters.budget_spent_until.borrow(), NOW + 60, "and this isolate remembers it as long");
}

#[test]
fn while_the_flag_lives_every_password_login_is_refused_before_hashing() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(1);
    for _ in 0..2 {
        login(&c, &store, &counters, "alice", "nope").unwrap_err();
    }
    assert!(counters.values.borrow().contains_key(GLOBAL_FAILED_LOGIN));
    let (hashes, writes, calls) =
        (verification_count(), *counters.writes.borrow(), *counters.budget_calls.borrow());
    // The right password, a wrong one and an unknown user: all refused, none hashed.
    assert_eq!(login(&c, &store, &counters, "alice", "correct horse").unwrap_err(), SPENT);
    assert_eq!(login(&c, &store, &counters, "alice", "nope").unwrap_err(), SPENT);
    assert_eq!(login(&c, &store, &counters, "mallory", "nope").unwrap_err(), SPENT);
    assert_eq!(verification_count(), hashes, "no hash while the flag lives");
    assert_eq!(*counters.writes.borrow(), writes, "no counter written");
    assert_eq!(*counters.budget_calls.borrow(), calls, "the budget is not asked");
    assert_eq!(store.get("alice").last_login_at, None);
    // The flag expires with KV's TTL, the isolate's memo at the same time: logins go through again.
    counters.values.borrow_mut().remove(GLOBAL_FAILED_LOGIN);
    assert_eq!(*counters.budget_spent_until.borrow(), NOW + 60);
    assert!(login_at(&c, &store, &counters, "alice", "correct horse", NOW + 60).is_ok());
}

#[test]
fn logins_past_their_kv_read_when_the_budget_was_found_spent_are_refused_before_hashing() {
    // A burst: many logins of one isolate have read KV (no flag yet) and wait for the CPU while one
    // failure finds the budget spent. The isolate's memo, checked right before hashing, stops them.
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(10);
    *counters.budget_spent_until.borrow_mut() = NOW + 30;
    let hashes = verification_count();
    let refused = AuthError::RateLimited { retry_after: 30 };
    assert_eq!(login(&c, &store, &counters, "alice", "correct horse").unwrap_err(), refused);
    assert_eq!(login(&c, &store, &counters, "mallory", "nope").unwrap_err(), refused);
    assert_eq!(verification_count(), hashes, "refused before hashing");
    assert_eq!(*counters.budget_calls.borrow(), 0);
    assert!(login_at(&c, &store, &counters, "alice", "correct horse", NOW + 30).is_ok(), "the memo ends");
}

#[test]
fn without_a_budget_the_isolate_memo_is_ignored() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::default();
    *counters.budget_spent_until.borrow_mut() = NOW + 30;
    assert!(login(&c, &store, &counters, "alice", "correct horse").is_ok());
}

#[test]
fn the_flag_is_read_in_the_same_bulk_read_as_the_ip_and_account_counters() {
    let c = config_with(&[("RATE_LIMIT_LOGIN_IP", "10/15m"), ("LOGIN_FREE_FAILURES", "99")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(10);
    login(&c, &store, &counters, "alice", "nope").unwrap_err();
    login(&c, &store, &counters, "alice", "correct horse").unwrap();
    let reads = counters.bulk_reads.borrow();
    assert_eq!(reads.len(), 2, "one bulk read per login: {reads:?}");
    for keys in reads.iter() {
        assert_eq!(keys.len(), 3, "account, IP window and flag: {keys:?}");
        assert_eq!(keys[2], GLOBAL_FAILED_LOGIN);
    }
}

#[test]
fn an_unknown_user_spends_the_budget_like_a_wrong_password_and_a_success_spends_nothing() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(10);
    login(&c, &store, &counters, "alice", "correct horse").unwrap();
    assert_eq!(*counters.budget_calls.borrow(), 0, "a success spends nothing");
    login(&c, &store, &counters, "alice", "nope").unwrap_err();
    login(&c, &store, &counters, "mallory", "nope").unwrap_err();
    assert_eq!(*counters.budget_calls.borrow(), 2);
}

#[test]
fn a_failing_budget_still_counts_the_failure_per_ip_and_account_and_fails_closed() {
    let c = config_with(&[("RATE_LIMIT_LOGIN_IP", "10/15m")]);
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(10);
    *counters.budget_unavailable.borrow_mut() = true;
    let e = login(&c, &store, &counters, "alice", "nope").unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
    assert_eq!(*counters.writes.borrow(), 2, "IP and account counters written all the same");
    assert!(!counters.values.borrow().contains_key(GLOBAL_FAILED_LOGIN), "an error is not a spent budget");
}

#[test]
fn a_refused_flag_write_answers_429() {
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(0);
    *counters.refuse_writes.borrow_mut() = true;
    assert_eq!(
        login(&c, &store, &counters, "alice", "nope").unwrap_err(),
        AuthError::RateLimited { retry_after: 1 }
    );
}

#[test]
fn a_wrong_current_password_neither_spends_nor_heeds_the_login_budget() {
    // The budget bounds anonymous hashing at the login endpoint; a password change needs a signed-in
    // caller and has the per-account delay.
    let c = config();
    let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
    let counters = MemoryCounters::with_failed_login_budget(0);
    let token = login(&c, &store, &counters, "alice", "correct horse").unwrap();
    let access = c.tokens.verify(&token.access_token, NOW).unwrap();
    counters.values.borrow_mut().insert(GLOBAL_FAILED_LOGIN.into(), "1".into());
    let request =
        ChangePasswordRequest { current_password: "nope".into(), new_password: "a new passphrase".into() };
    let auth = Auth {
        config: &c,
        store: &store,
        revocations: &MemoryRevocations::default(),
        counters: &counters,
        audit: &NoAudit,
        now: NOW,
    };
    let e = block_on(auth.change_password(&access, &request, &ClientInfo::default())).unwrap_err();
    assert_eq!(e, AuthError::InvalidCredentials);
    assert_eq!(*counters.budget_calls.borrow(), 0);
}
