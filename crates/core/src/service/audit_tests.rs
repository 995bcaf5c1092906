//! Which events the use cases record, with which detail: successes and refusals alike (a failed
//! login is an event), over the in-memory ports.

use super::*;
use crate::audit::{AuditBuffer, AuditEvent, Detail, EventType, RequestMeta};
use crate::ports::AuditLog;
use crate::testing::{block_on, config_with, MemoryCounters, MemoryRevocations, MemoryStore};
use crate::token::VerifiedAccess;
use serde_json::json;

const NOW: i64 = 1_780_000_000;

struct World {
    c: Config,
    store: MemoryStore,
    kv: MemoryRevocations,
    counters: MemoryCounters,
    audit: AuditBuffer,
}

impl World {
    fn new() -> Self {
        let c = config_with(&[
            ("MFA_ENCRYPTION_KEY", "TU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU0"),
            ("PASSWORD_ITERATIONS", "2000"),
        ]);
        let store = MemoryStore::with_user(&c, "ana", "correct horse", "user");
        store.add_user(&c, "root", "root passphrase", "admin");
        store.add_user(&c, "dee", "demo passphrase", "demo");
        World {
            c,
            store,
            kv: MemoryRevocations::default(),
            counters: MemoryCounters::default(),
            audit: AuditBuffer::default(),
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

    fn login(&self, name: &str, password: &str) -> Result<TokenResponse, AuthError> {
        let request =
            LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap())
                .unwrap();
        block_on(self.at(NOW).login(&request, &ClientInfo::default()))
    }

    /// Signs `name` in; the events of the sign-in are dropped.
    fn access(&self, name: &str, password: &str) -> (VerifiedAccess, TokenResponse) {
        let tokens = self.login(name, password).unwrap();
        self.audit.take();
        (block_on(self.at(NOW).authenticate(&tokens.access_token)).unwrap(), tokens)
    }

    /// The events recorded since the last look.
    fn events(&self) -> Vec<AuditEvent> {
        self.audit.take()
    }

    fn kinds(&self) -> Vec<EventType> {
        self.events().into_iter().map(|e| e.kind).collect()
    }
}

fn only(mut events: Vec<AuditEvent>) -> AuditEvent {
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}

#[test]
fn a_login_records_its_user_session_and_method() {
    let w = World::new();
    let tokens = w.login("ana", "correct horse").unwrap();
    let sid = w.c.tokens.verify(&tokens.access_token, NOW).unwrap().claims.sid;
    let e = only(w.events());
    assert_eq!(e.kind, EventType::LoginSucceeded);
    assert_eq!(
        (e.user_id.as_deref(), e.actor_id.as_deref()),
        (Some(w.id("ana").as_str()), Some(w.id("ana").as_str()))
    );
    assert_eq!(e.session_id, Some(sid));
    assert_eq!((e.at, e.detail), (NOW, Detail::method("password")));
}

#[test]
fn refused_logins_record_the_reason_and_the_account_when_known() {
    let w = World::new();
    assert_eq!(w.login("ana", "wrong").unwrap_err(), AuthError::InvalidCredentials);
    let e = only(w.events());
    assert_eq!((e.kind, e.user_id.clone(), e.session_id), (EventType::LoginFailed, Some(w.id("ana")), None));
    assert_eq!(e.detail, Detail::reason("invalid_credentials").with_method("password"));
    // An unknown name: no account, and the name typed is nowhere in the event.
    w.login("nobody-here", "x").unwrap_err();
    let e = only(w.events());
    assert_eq!((e.kind, e.user_id), (EventType::LoginFailed, None));
    assert!(!format!("{:?}", e.detail).contains("nobody"));
    w.store.update("ana", |u| u.disabled = true);
    assert_eq!(w.login("ana", "correct horse").unwrap_err(), AuthError::AccountDisabled);
    assert_eq!(only(w.events()).detail.reason, Some("account_disabled"));
}

#[test]
fn a_rate_limited_login_is_a_refusal_with_reason_rate_limited() {
    let mut w = World::new();
    w.c = config_with(&[("LOGIN_FREE_FAILURES", "1"), ("PASSWORD_ITERATIONS", "2000")]);
    w.store = MemoryStore::with_user(&w.c, "ana", "correct horse", "user");
    let reasons: Vec<_> = (0..3)
        .map(|_| {
            w.login("ana", "wrong").unwrap_err();
            only(w.events()).detail.reason.unwrap()
        })
        .collect();
    assert_eq!(reasons.last(), Some(&"rate_limited"), "{reasons:?}");
}

#[test]
fn a_correct_password_with_a_second_factor_pending_is_mfa_required_then_the_step_is_an_event() {
    let w = World::new();
    let (access, _) = w.access("ana", "correct horse");
    let setup = block_on(w.at(NOW).totp_setup(&access)).unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(setup.secret.as_bytes()).unwrap();
    let code = |step: i64| format!("{:06}", crate::totp::code(&secret, step));
    block_on(w.at(NOW).totp_enable(&access, &code(crate::totp::step_at(NOW) - 1))).unwrap();
    assert_eq!(w.kinds(), [EventType::TotpEnabled]);
    let mfa_token = match w.login("ana", "correct horse").unwrap_err() {
        AuthError::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("{other:?}"),
    };
    assert_eq!(only(w.events()).detail.reason, Some("mfa_required"));
    let site = crate::testing::site();
    let client = ClientInfo::default();
    let wrong = mfa::SecondFactor::Totp("000000".into());
    let wrong = if code(crate::totp::step_at(NOW)) == "000000" {
        mfa::SecondFactor::Totp("111111".into())
    } else {
        wrong
    };
    block_on(w.at(NOW).mfa_verify(&mfa_token, &wrong, &site, &client)).unwrap_err();
    let e = only(w.events());
    assert_eq!((e.kind, e.user_id), (EventType::MfaFailed, Some(w.id("ana"))));
    assert_eq!(e.detail, Detail::reason("mfa_code_invalid").with_method("totp"));
    let good = mfa::SecondFactor::Totp(code(crate::totp::step_at(NOW)));
    let tokens = block_on(w.at(NOW).mfa_verify(&mfa_token, &good, &site, &client)).unwrap();
    let e = only(w.events());
    assert_eq!((e.kind, e.detail), (EventType::MfaSucceeded, Detail::method("totp")));
    assert_eq!(e.session_id, Some(w.c.tokens.verify(&tokens.access_token, NOW).unwrap().claims.sid));
    // The codes regenerated (recent sign-in), then the app removed with a recovery code.
    let fresh = block_on(w.at(NOW).authenticate(&tokens.access_token)).unwrap();
    let codes = block_on(w.at(NOW).regenerate_recovery_codes(&fresh, None)).unwrap();
    assert_eq!(w.kinds(), [EventType::RecoveryCodesRegenerated]);
    let recovery = mfa::SecondFactor::Recovery(codes.recovery_codes[0].clone());
    block_on(w.at(NOW).totp_disable(&fresh, &recovery)).unwrap();
    let e = only(w.events());
    assert_eq!((e.kind, e.detail), (EventType::TotpDisabled, Detail::method("recovery_code")));
    // An unknown mfa_token is a refusal about no one.
    block_on(w.at(NOW).mfa_verify("not-a-token", &good, &site, &client)).unwrap_err();
    let e = only(w.events());
    assert_eq!((e.kind, e.user_id, e.detail.reason), (EventType::MfaFailed, None, Some("mfa_token_invalid")));
}

#[test]
fn logouts_and_refresh_reuse_are_recorded_with_their_session() {
    let w = World::new();
    let (access, tokens) = w.access("ana", "correct horse");
    let r1 = block_on(w.at(NOW).refresh(&tokens.refresh_token)).unwrap();
    let _r2 = block_on(w.at(NOW + 100).refresh(&r1.refresh_token)).unwrap();
    assert!(w.events().is_empty(), "a rotation is no event");
    assert_eq!(
        block_on(w.at(NOW + 200).refresh(&tokens.refresh_token)).unwrap_err(),
        AuthError::RefreshTokenReused
    );
    let e = only(w.events());
    assert_eq!(
        (e.kind, e.session_id.as_deref()),
        (EventType::RefreshReuseDetected, Some(access.claims.sid.as_str()))
    );
    assert_eq!(e.user_id, Some(w.id("ana")));

    let (access, _) = w.access("ana", "correct horse");
    block_on(w.at(NOW).logout(&access, None)).unwrap();
    let e = only(w.events());
    assert_eq!((e.kind, e.session_id), (EventType::Logout, Some(access.claims.sid.clone())));
    let (access, _) = w.access("ana", "correct horse");
    block_on(w.at(NOW).logout_all(&access)).unwrap();
    assert_eq!(w.kinds(), [EventType::LogoutAll]);
}

#[test]
fn password_changes_record_success_and_a_wrong_current_password() {
    let w = World::new();
    let (access, _) = w.access("ana", "correct horse");
    let client = ClientInfo::default();
    let wrong =
        ChangePasswordRequest { current_password: "nope".into(), new_password: "a new passphrase".into() };
    block_on(w.at(NOW).change_password(&access, &wrong, &client)).unwrap_err();
    let e = only(w.events());
    assert_eq!((e.kind, e.detail.reason), (EventType::PasswordChangeFailed, Some("invalid_credentials")));
    let right = ChangePasswordRequest {
        current_password: "correct horse".into(),
        new_password: "a new passphrase".into(),
    };
    block_on(w.at(NOW).change_password(&access, &right, &client)).unwrap();
    let e = only(w.events());
    assert_eq!(e.kind, EventType::PasswordChanged);
    assert_ne!(e.session_id, Some(access.claims.sid.clone()), "the fresh session");
}

#[test]
fn a_signup_is_recorded_with_its_first_session() {
    let w = World::new();
    let body = json!({"username": "newbie", "password": "a long passphrase"});
    let request = SignupRequest::parse(&w.c, body.as_object().unwrap()).unwrap();
    let (tokens, user) = block_on(w.at(NOW).signup(&request, &ClientInfo::default())).unwrap();
    let e = only(w.events());
    assert_eq!((e.kind, e.user_id), (EventType::Signup, Some(user.id)));
    assert_eq!(e.session_id, Some(w.c.tokens.verify(&tokens.access_token, NOW).unwrap().claims.sid));
}

#[test]
fn admin_actions_name_the_acting_admin_and_only_the_changed_fields() {
    let w = World::new();
    let (root, _) = w.access("root", "root passphrase");
    let ana = w.id("ana");
    let patch =
        UpdateUserRequest::parse(&w.c, json!({"role": "demo", "email": "a@b.co"}).as_object().unwrap())
            .unwrap();
    block_on(w.at(NOW).update_user(&root, &ana, &patch)).unwrap();
    let e = only(w.events());
    assert_eq!(
        (e.kind, e.user_id.as_deref(), e.actor_id),
        (EventType::AdminUserUpdated, Some(ana.as_str()), Some(w.id("root")))
    );
    assert_eq!(e.detail.fields, ["role", "email"]);
    assert!(!e.detail.to_json().contains("a@b.co"), "a value is never logged");
    w.kv.next_request();
    block_on(w.at(NOW).revoke_sessions(&root, &ana)).unwrap();
    w.kv.next_request();
    block_on(w.at(NOW).admin_reset_mfa(&root, &ana)).unwrap();
    w.kv.next_request();
    block_on(w.at(NOW).delete_user(&root, &ana)).unwrap();
    assert_eq!(
        w.kinds(),
        [EventType::AdminSessionsRevoked, EventType::AdminMfaReset, EventType::AdminUserDeleted]
    );
    // Refused: demo may not write, and a missing user changes nothing; neither is an admin event.
    let (dee, _) = w.access("dee", "demo passphrase");
    block_on(w.at(NOW).delete_user(&dee, &w.id("root"))).unwrap_err();
    block_on(w.at(NOW).revoke_sessions(&root, "no-such-user")).unwrap_err();
    assert!(w.events().is_empty());
}

/// Appends the buffered events to the store, as the Worker does after the response.
fn flush(w: &World, meta: &RequestMeta) {
    block_on(w.store.append_events(&w.audit.take(), meta)).unwrap();
}

#[test]
fn the_log_is_read_by_admin_and_demo_newest_first_a_page_at_a_time() {
    let w = World::new();
    let (root, _) = w.access("root", "root passphrase");
    let (dee, _) = w.access("dee", "demo passphrase");
    let (ana, _) = w.access("ana", "correct horse");
    for _ in 0..5 {
        w.login("ana", "wrong").unwrap_err();
    }
    flush(
        &w,
        &RequestMeta { request_id: Some("req1".into()), ip: Some("203.0.113.1".into()), user_agent: None },
    );
    let q = |cursor: Option<&str>| {
        EventsQuery::parse(None, Some("login_failed"), None, cursor, Some("2")).unwrap()
    };
    assert_eq!(block_on(w.at(NOW).list_events(&ana, &q(None))).unwrap_err(), AuthError::Forbidden);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = block_on(w.at(NOW).list_events(&dee, &q(cursor.as_deref()))).unwrap();
        assert!(page.events.len() <= 2);
        ids.extend(page.events.iter().map(|e| e.id));
        assert!(page
            .events
            .iter()
            .all(|e| e.kind == "login_failed" && e.request_id.as_deref() == Some("req1")));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids, [5, 4, 3, 2, 1]);
    let page =
        block_on(w.at(NOW).list_events(&root, &EventsQuery::parse(None, None, None, None, None).unwrap()))
            .unwrap();
    assert_eq!(page.events[0].detail, json!({"reason": "invalid_credentials", "method": "password"}));
}

#[test]
fn a_user_sees_their_own_sign_ins_only_and_the_prune_keeps_the_retention() {
    let w = World::new();
    let (ana, _) = w.access("ana", "correct horse");
    w.login("ana", "wrong").unwrap_err();
    w.login("root", "root passphrase").unwrap();
    w.login("ana", "correct horse").unwrap();
    flush(&w, &RequestMeta { ip: Some("198.51.100.2".into()), ..RequestMeta::default() });
    let list = block_on(w.at(NOW).my_sign_ins(&ana)).unwrap().sign_ins;
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0].success, list[0].method.as_str(), list[0].reason.as_deref()),
        (true, "password", None)
    );
    assert_eq!((list[1].success, list[1].reason.as_deref()), (false, Some("invalid_credentials")));
    assert_eq!(list[1].ip.as_deref(), Some("198.51.100.2"));
    // 90 days by default: an event one second younger stays, older ones go.
    let retention = w.c.audit_retention_seconds as i64;
    assert_eq!(block_on(w.at(NOW + retention).prune_audit()).unwrap(), 0);
    assert_eq!(block_on(w.at(NOW + retention + 1).prune_audit()).unwrap(), 3);
    assert!(w.store.events.borrow().is_empty());
}
