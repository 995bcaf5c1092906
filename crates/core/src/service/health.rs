//! Who may see the details of `GET /health`.

use super::Auth;
use crate::error::AuthError;
use crate::ports::{Counters, Revocations, Store};
use crate::roles::{self, Permission};

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// Whether `token` is a live admin's access token, for `GET /health`, which names its failing parts
    /// and runs the deep check (one probe row and one probe key written) only for an admin. The health
    /// check runs when storage fails, so a store that cannot answer does not refuse the admin: KV's
    /// revocation check, then D1's session, each decide when they answer, and when neither can, the
    /// token's signature, expiry and role alone do (what that unlocks tells which part fails, nothing
    /// more). A token either store knows to be revoked is refused.
    pub async fn health_admin(&self, token: &str) -> bool {
        let Ok(access) = self.config.tokens.verify(token, self.now) else { return false };
        if roles::require(&access.claims.role, Permission::ManageUsers).is_err() {
            return false;
        }
        match self.authenticate(token).await {
            Ok(_) | Err(AuthError::Unavailable(_)) => {}
            Err(_) => return false,
        }
        matches!(self.caller(&access).await, Ok(_) | Err(AuthError::Unavailable(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{ClientInfo, LoginRequest};
    use crate::testing::{block_on, config, MemoryCounters, MemoryRevocations, MemoryStore};
    use serde_json::json;

    const NOW: i64 = 1_780_000_000;

    fn token(store: &MemoryStore, kv: &MemoryRevocations, name: &str, password: &str) -> String {
        let c = config();
        let counters = MemoryCounters::default();
        let auth = Auth {
            config: &c,
            store,
            revocations: kv,
            counters: &counters,
            audit: &crate::testing::NoAudit,
            now: NOW,
        };
        let r = LoginRequest::parse(json!({"username": name, "password": password}).as_object().unwrap())
            .unwrap();
        block_on(auth.login(&r, &ClientInfo::default())).unwrap().access_token
    }

    #[test]
    fn only_a_live_admin_sees_the_details_and_a_failing_store_does_not_lock_the_admin_out() {
        let c = config();
        let store = MemoryStore::with_user(&c, "root", "root password", "admin");
        store.add_user(&c, "alice", "correct horse", "user");
        let (kv, counters) = (MemoryRevocations::default(), MemoryCounters::default());
        let admin = token(&store, &kv, "root", "root password");
        let user = token(&store, &kv, "alice", "correct horse");
        let auth = Auth {
            config: &c,
            store: &store,
            revocations: &kv,
            counters: &counters,
            audit: &crate::testing::NoAudit,
            now: NOW,
        };
        assert!(block_on(auth.health_admin(&admin)));
        assert!(!block_on(auth.health_admin(&user)), "not an admin");
        assert!(!block_on(auth.health_admin("not a token")));
        kv.refuse_reads.set(true);
        assert!(block_on(auth.health_admin(&admin)), "KV down: D1 decides");
        // The admin's session ends in D1 (KV refusing writes too): D1 refuses the token.
        kv.refuse_writes.set(true);
        let access = c.tokens.verify(&admin, NOW).unwrap();
        block_on(auth.logout(&access, None)).unwrap();
        assert!(!block_on(auth.health_admin(&admin)), "D1 knows the session ended");
    }
}
