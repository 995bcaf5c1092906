//! Revocations when KV fails: D1 holds each one with its outbox row, the endpoints that read D1 refuse
//! the token at once, and a flush after KV recovered gets every row into KV (and out of the outbox).

use super::*;
use crate::config::Config;
use crate::ports::{Outbox, Revocation};
use crate::service::{ChangePasswordRequest, ClientInfo, LoginRequest, TokenResponse};
use crate::testing::{block_on, config, MemoryCounters, MemoryRevocations, MemoryStore};
use crate::token::VerifiedAccess;
use serde_json::json;

const NOW: i64 = 1_780_000_000;

struct World {
    c: Config,
    store: MemoryStore,
    kv: MemoryRevocations,
    counters: MemoryCounters,
}

impl World {
    fn new() -> Self {
        let c = config();
        let store = MemoryStore::with_user(&c, "alice", "correct horse", "user");
        store.add_user(&c, "root", "root password", "admin");
        World { c, store, kv: MemoryRevocations::default(), counters: MemoryCounters::default() }
    }

    /// The use cases of one request at `now` (KV's one write per key is checked per request).
    fn at(&self, now: i64) -> Auth<'_, &MemoryStore, &MemoryRevocations, &MemoryCounters> {
        self.kv.next_request();
        Auth {
            config: &self.c,
            store: &self.store,
            revocations: &self.kv,
            counters: &self.counters,
            audit: &crate::testing::NoAudit,
            now,
        }
    }

    fn login(&self, name: &str, password: &str) -> TokenResponse {
        let r = LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap())
            .unwrap();
        block_on(self.at(NOW).login(&r, &ClientInfo::default())).expect("logs in")
    }

    fn verify(&self, t: &TokenResponse) -> VerifiedAccess {
        self.c.tokens.verify(&t.access_token, NOW).unwrap()
    }

    fn alice(&self) -> (TokenResponse, VerifiedAccess) {
        let t = self.login("alice", "correct horse");
        let v = self.verify(&t);
        (t, v)
    }

    /// KV refuses writes (reads still work: a write quota, an outage of the write path).
    fn kv_refuses_writes(&self, refuse: bool) {
        self.kv.refuse_writes.set(refuse);
    }

    fn pending(&self) -> Vec<Revocation> {
        self.store.pending()
    }

    fn attempts(&self) -> Vec<u32> {
        self.store.outbox.borrow().iter().map(|p| p.attempts).collect()
    }

    fn flush(&self, now: i64) -> FlushReport {
        block_on(self.at(now).flush_revocations()).expect("the outbox is readable")
    }
}

fn session(id: &str) -> Revocation {
    Revocation::Session(id.to_string())
}

#[test]
fn a_logout_whose_kv_write_succeeds_leaves_nothing_in_the_outbox() {
    let w = World::new();
    let (t, v) = w.alice();
    block_on(w.at(NOW).logout(&v, None)).unwrap();
    assert!(w.kv.has_session(&v.claims.sid));
    assert_eq!(w.pending(), []);
    assert_eq!(block_on(w.at(NOW).authenticate(&t.access_token)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn a_logout_while_kv_refuses_writes_succeeds_once_d1_has_it_and_d1_readers_refuse_the_token() {
    let w = World::new();
    let (t, v) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout(&v, None)).expect("logout succeeds: D1 has it");
    assert_eq!(w.store.session(&v.claims.sid).revoked_at, Some(NOW));
    assert_eq!(w.pending(), [session(&v.claims.sid)]);
    assert_eq!(w.attempts(), [1], "the failed write is counted");
    assert!(!w.kv.has_session(&v.claims.sid));
    // KV does not know yet, so the KV check alone still passes ...
    assert!(block_on(w.at(NOW).authenticate(&t.access_token)).is_ok());
    // ... but every endpoint that reads D1 refuses the token.
    assert_eq!(block_on(w.at(NOW).profile(&v)).unwrap_err(), AuthError::TokenInvalid);
    assert_eq!(block_on(w.at(NOW).list_sessions(&v)).unwrap_err(), AuthError::TokenInvalid);
    assert_eq!(
        block_on(w.at(NOW + 1).refresh(&t.refresh_token)).unwrap_err(),
        AuthError::RefreshTokenInvalid
    );
}

#[test]
fn after_kv_recovers_a_flush_delivers_the_revocation_and_empties_the_outbox() {
    let w = World::new();
    let (t, v) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout(&v, None)).unwrap();
    w.kv_refuses_writes(false);
    let report = w.flush(NOW + 60);
    assert_eq!(report, FlushReport { delivered: 1, expired: 0, failed: 0, more: false });
    assert_eq!(w.pending(), []);
    assert!(w.kv.has_session(&v.claims.sid));
    assert_eq!(block_on(w.at(NOW + 60).authenticate(&t.access_token)).unwrap_err(), AuthError::TokenInvalid);
    assert_eq!(w.flush(NOW + 61), FlushReport::default(), "nothing left to do");
}

#[test]
fn a_flush_while_kv_still_fails_keeps_the_row_and_counts_the_attempt() {
    let w = World::new();
    let (_, v) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout(&v, None)).unwrap();
    let report = w.flush(NOW + 60);
    assert_eq!(report, FlushReport { delivered: 0, expired: 0, failed: 1, more: true });
    assert_eq!(w.pending(), [session(&v.claims.sid)]);
    assert_eq!(w.attempts(), [2]);
}

#[test]
fn rows_whose_tokens_have_all_expired_are_dropped_without_a_kv_write() {
    let w = World::new();
    let (_, v) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout(&v, None)).unwrap();
    w.kv_refuses_writes(false);
    let until = w.store.outbox.borrow()[0].expires_at;
    assert!(until >= v.expires_at, "kept at least as long as the token lives");
    let writes = w.kv.writes.get();
    assert_eq!(w.flush(until), FlushReport { delivered: 0, expired: 1, failed: 0, more: false });
    assert_eq!(w.kv.writes.get(), writes);
    assert_eq!(w.pending(), []);
}

#[test]
fn logout_all_while_kv_refuses_writes_keeps_the_user_and_every_session_until_kv_has_them() {
    let w = World::new();
    let (t1, v1) = w.alice();
    let (t2, v2) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout_all(&v1)).expect("done once D1 has it");
    let pending = w.pending();
    let user = Revocation::UserBefore { user_id: v1.claims.sub.clone(), not_before: NOW };
    assert!(pending.contains(&user), "{pending:?}");
    assert!(pending.contains(&session(&v1.claims.sid)) && pending.contains(&session(&v2.claims.sid)));
    assert_eq!(pending.len(), 3);
    for v in [&v1, &v2] {
        assert_eq!(block_on(w.at(NOW).profile(v)).unwrap_err(), AuthError::TokenInvalid);
    }
    w.kv_refuses_writes(false);
    assert_eq!(w.flush(NOW + 1).delivered, 3);
    assert_eq!(w.kv.not_before(&v1.claims.sub), Some(NOW));
    for t in [&t1, &t2] {
        assert_eq!(
            block_on(w.at(NOW + 1).authenticate(&t.access_token)).unwrap_err(),
            AuthError::TokenInvalid
        );
    }
    assert_eq!(w.pending(), []);
}

#[test]
fn a_change_of_password_while_kv_refuses_writes_still_signs_in_and_queues_the_old_sessions() {
    let w = World::new();
    let (old, v) = w.alice();
    w.kv_refuses_writes(true);
    let request = ChangePasswordRequest::parse(
        json!({"current_password": "correct horse", "new_password": "a brand new passphrase"})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let fresh = block_on(w.at(NOW).change_password(&v, &request, &ClientInfo::default())).expect("changed");
    assert!(w.pending().contains(&session(&v.claims.sid)));
    assert_eq!(block_on(w.at(NOW).profile(&v)).unwrap_err(), AuthError::TokenInvalid);
    assert!(block_on(w.at(NOW).profile(&w.verify(&fresh))).is_ok(), "the new session is not revoked");
    w.kv_refuses_writes(false);
    w.flush(NOW + 1);
    assert_eq!(block_on(w.at(NOW + 1).authenticate(&old.access_token)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn a_later_time_of_the_same_user_is_not_forgotten_when_the_earlier_one_is_delivered() {
    let w = World::new();
    let (_, v) = w.alice();
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout_all(&v)).unwrap();
    let (_, again) = w.alice();
    block_on(w.at(NOW + 10).logout_all(&again)).unwrap();
    let user = |t| Revocation::UserBefore { user_id: v.claims.sub.clone(), not_before: t };
    assert!(w.pending().contains(&user(NOW + 10)), "one row per user, its time raised");
    // A flush that read the row before it was raised delivers the earlier time and forgets only that.
    block_on(w.store.forget_revocations(&[user(NOW)])).unwrap();
    assert!(w.pending().contains(&user(NOW + 10)));
}

#[test]
fn deleting_another_users_session_id_queues_nothing() {
    let w = World::new();
    let (_, alice) = w.alice();
    let root = w.verify(&w.login("root", "root password"));
    w.kv_refuses_writes(true);
    assert_eq!(
        block_on(w.at(NOW).delete_session(&root, &alice.claims.sid)).unwrap_err(),
        AuthError::NotFound
    );
    assert_eq!(w.pending(), [], "no one denylists a session that is not theirs");
    assert!(block_on(w.at(NOW).profile(&alice)).is_ok());
}

#[test]
fn a_deleted_users_revocations_outlive_it_in_the_outbox() {
    let w = World::new();
    let (t, v) = w.alice();
    let root = w.verify(&w.login("root", "root password"));
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).delete_user(&root, &v.claims.sub)).expect("deleted once D1 has it");
    let pending = w.pending();
    assert!(pending.contains(&Revocation::UserBefore { user_id: v.claims.sub.clone(), not_before: NOW }));
    assert!(pending.contains(&session(&v.claims.sid)));
    w.kv_refuses_writes(false);
    w.flush(NOW + 1);
    assert_eq!(block_on(w.at(NOW + 1).authenticate(&t.access_token)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn an_admin_whose_session_ended_is_refused_by_the_admin_api_before_kv_knows() {
    let w = World::new();
    let root = w.verify(&w.login("root", "root password"));
    w.kv_refuses_writes(true);
    block_on(w.at(NOW).logout(&root, None)).unwrap();
    let query = crate::service::ListUsersQuery::parse(None, None, None).unwrap();
    assert_eq!(block_on(w.at(NOW).list_users(&root, &query)).unwrap_err(), AuthError::TokenInvalid);
    assert_eq!(block_on(w.at(NOW).revoke_sessions(&root, "anyone")).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn a_detected_reuse_while_kv_refuses_writes_still_ends_the_session_everywhere_d1_is_read() {
    let w = World::new();
    let (t, v) = w.alice();
    let later = NOW + w.c.refresh_grace_seconds as i64 + 1;
    block_on(w.at(NOW).refresh(&t.refresh_token)).unwrap();
    w.kv_refuses_writes(true);
    assert_eq!(block_on(w.at(later).refresh(&t.refresh_token)).unwrap_err(), AuthError::RefreshTokenReused);
    assert_eq!(w.pending(), [session(&v.claims.sid)]);
    assert_eq!(block_on(w.at(later).profile(&v)).unwrap_err(), AuthError::TokenInvalid);
}

#[test]
fn a_large_outbox_is_delivered_in_rounds() {
    let w = World::new();
    let until = NOW + 900;
    for i in 0..(OUTBOX_BATCH as usize * 2 + 7) {
        w.store.outbox.borrow_mut().push(crate::ports::PendingRevocation {
            revocation: session(&format!("s{i}")),
            expires_at: until,
            attempts: 1,
        });
    }
    let report = w.flush(NOW);
    assert_eq!(report.delivered, OUTBOX_BATCH as usize * 2 + 7);
    assert!(!report.more);
    assert_eq!(w.pending(), []);
    assert!(w.kv.has_session("s0") && w.kv.has_session(&format!("s{}", OUTBOX_BATCH * 2 + 6)));
}
