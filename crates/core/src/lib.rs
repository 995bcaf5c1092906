//! The pure core of edge-auth: everything that decides something, with no Workers imports, so that
//! `cargo test` checks it on the host in milliseconds. The Worker crate wraps it with adapters for D1,
//! KV and HTTP.
//!
//! - [`password`]: PBKDF2-HMAC-SHA512 PHC hashes, constant-time verification, rehash decisions
//! - [`token`]: access-token issue and verification (HS256 or EdDSA, `typ: at+jwt`) with jwt-compact
//! - [`validate`]: input fields, usernames, emails, password bounds
//! - [`roles`]: who may do what
//! - [`config`]: every setting, read and validated once
//! - [`audit`]: the auth events the use cases record
//! - [`service`]: the use cases, written against the [`ports`]
//! - [`webauthn`]: passkey registrations and assertions verified (ES256, EdDSA), no I/O
//! - [`kv_keys`]: every Workers KV key name
//! - [`error`]: the one error type

pub mod audit;
pub mod b64;
pub mod common_passwords;
pub mod config;
pub mod ed25519;
pub mod email;
pub mod error;
pub mod health;
pub mod jwe;
pub mod kv_keys;
pub mod legacy;
pub mod mail;
pub mod password;
pub mod policy;
pub mod ports;
pub mod random;
pub mod rate_limit;
pub mod roles;
pub mod sealed;
pub mod service;
pub mod session;
pub mod token;
pub mod totp;
pub mod unicode;
pub mod user;
pub mod validate;
pub mod webauthn;

#[cfg(test)]
mod testing;

pub use error::{AuthError, FieldError};
