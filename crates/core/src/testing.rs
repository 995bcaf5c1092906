//! Test helpers: an in-memory `UserStore`, a test configuration and a minimal executor.

use crate::config::Config;
use crate::error::AuthError;
use crate::ports::UserStore;
use crate::user::User;
use crate::validate::LoginName;
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits on I/O (the in-memory stores complete at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A configuration with the lowest hash cost, for speed.
pub fn config() -> Config {
    Config::from_lookup(|k| match k {
        "JWT_SECRET" => Some("test-secret-test-secret-test-secret-0123".into()),
        "PASSWORD_ITERATIONS" => Some("1000".into()),
        _ => None,
    })
    .expect("test config is valid")
}

#[derive(Default)]
pub struct MemoryUsers {
    users: RefCell<Vec<User>>,
}

impl MemoryUsers {
    pub fn with_user(config: &Config, username: &str, password: &str, role: &str) -> Self {
        let store = MemoryUsers::default();
        store.users.borrow_mut().push(User {
            id: crate::random::id(),
            username: username.into(),
            email: Some(format!("{}@example.com", username.to_lowercase())),
            display_name: None,
            role: role.into(),
            password_hash: config.hasher.hash(password),
            disabled: false,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            last_login_at: None,
        });
        store
    }

    pub fn get(&self, username: &str) -> User {
        self.users
            .borrow()
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
            .expect("user exists")
    }

    pub fn update(&self, username: &str, f: impl FnOnce(&mut User)) {
        let mut users = self.users.borrow_mut();
        f(users.iter_mut().find(|u| u.username.eq_ignore_ascii_case(username)).expect("user exists"));
    }

    pub fn remove(&self, username: &str) {
        self.users.borrow_mut().retain(|u| !u.username.eq_ignore_ascii_case(username));
    }
}

impl UserStore for MemoryUsers {
    async fn find_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        let users = self.users.borrow();
        Ok(users
            .iter()
            .find(|u| match name {
                LoginName::Username(n) => u.username.eq_ignore_ascii_case(n),
                LoginName::Email(e) => u.email.as_deref() == Some(e.as_str()),
            })
            .cloned())
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, AuthError> {
        Ok(self.users.borrow().iter().find(|u| u.id == id).cloned())
    }

    async fn record_login(&self, id: &str, now: i64, new_hash: Option<&str>) -> Result<(), AuthError> {
        let mut users = self.users.borrow_mut();
        if let Some(u) = users.iter_mut().find(|u| u.id == id) {
            u.last_login_at = Some(now);
            if let Some(h) = new_hash {
                u.password_hash = h.to_string();
            }
        }
        Ok(())
    }
}
