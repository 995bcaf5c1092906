//! The ports: what the use cases need from the platform, as traits. The Worker implements them over
//! D1 and KV (`src/adapters`); the core's tests implement them in memory.
//!
//! `async fn` in traits is fine here: a Worker is single-threaded, nothing needs `Send` futures.
#![allow(async_fn_in_trait)]

use crate::error::AuthError;
use crate::user::User;
use crate::validate::LoginName;

/// Users in D1.
pub trait UserStore {
    /// The user whose username (case-insensitive) or email matches.
    async fn find_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError>;
    async fn find_by_id(&self, id: &str) -> Result<Option<User>, AuthError>;
    /// Records a successful login at `now`; when `new_hash` is given, stores it in the same statement
    /// (the rehash-on-login upgrade).
    async fn record_login(&self, id: &str, now: i64, new_hash: Option<&str>) -> Result<(), AuthError>;
}
