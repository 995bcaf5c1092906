//! Reads the Worker's variables and secrets once per isolate and hands the core a validated `Config`.
//! A broken configuration is remembered too: every request then gets a 503 problem, and the reason is
//! logged (never sent).

use crate::adapters::bindings::Env;
use edge_auth_core::b64::URL_SAFE_NO_PAD;
use edge_auth_core::config::{decode_key, Config, ConfigError};
use edge_auth_core::ed25519;
use std::cell::OnceCell;
use std::rc::Rc;

thread_local! {
    // A Worker isolate is single-threaded and its bindings do not change while it lives.
    static CONFIG: OnceCell<Result<Rc<Config>, ConfigError>> = const { OnceCell::new() };
}

/// The configuration, read on the first request of the isolate.
pub async fn load(env: &Env) -> Result<Rc<Config>, ConfigError> {
    if let Some(config) = CONFIG.with(|cell| cell.get().cloned()) {
        return config;
    }
    match read(env).await {
        // Two first requests may both get here; they read the same bindings, and the first one stays.
        Read::Settled(config) => CONFIG.with(|cell| cell.get_or_init(|| config).clone()),
        // A platform failure (Web Crypto) is not the configuration's fault: the next request retries.
        Read::Transient(error) => Err(error),
    }
}

enum Read {
    Settled(Result<Rc<Config>, ConfigError>),
    Transient(ConfigError),
}

/// A variable or secret, trimmed, empty meaning unset: exactly how the core's `Config::from_lookup`
/// reads them, so both agree on which mode is configured.
fn lookup(env: &Env, name: &str) -> Option<String> {
    let value = env.text(name)?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `JWT_PRIVATE_KEY` in its 64-byte form (seed, then public key), which the core can read without
/// computing anything: in the Worker, Ed25519 is Web Crypto's and asynchronous (`edge_auth_core::ed25519`).
async fn complete_private_key(text: &str) -> Result<String, Read> {
    let invalid =
        |e: &dyn std::fmt::Display| Read::Settled(Err(ConfigError(format!("JWT_PRIVATE_KEY: {e}"))));
    let bytes = decode_key(text).map_err(|e| invalid(&e))?;
    match ed25519::complete_private_key(&bytes).await {
        Ok(full) => Ok(URL_SAFE_NO_PAD.encode(full)),
        Err(ed25519::KeyError::Invalid(e)) => Err(invalid(&e)),
        Err(ed25519::KeyError::Platform(e)) => {
            crate::log::error("config", &format!("completing the Ed25519 key failed, will retry: {e}"));
            Err(Read::Transient(ConfigError(format!("JWT_PRIVATE_KEY: {e}"))))
        }
    }
}

async fn read(env: &Env) -> Read {
    let private_key = match lookup(env, "JWT_PRIVATE_KEY") {
        Some(key) if lookup(env, "JWT_ALGORITHM").as_deref() == Some("EdDSA") => {
            match complete_private_key(&key).await {
                Ok(full) => Some(full),
                Err(read) => {
                    if let Read::Settled(Err(e)) = &read {
                        crate::log::error("config", &format!("configuration invalid, answering 503: {e}"));
                    }
                    return read;
                }
            }
        }
        other => other,
    };
    let config =
        Config::from_lookup(
            |name| if name == "JWT_PRIVATE_KEY" { private_key.clone() } else { lookup(env, name) },
        );
    match &config {
        Ok(c) if c.hasher.iterations() < edge_auth_core::password::DEFAULT_ITERATIONS => {
            crate::log::warn(
                "config",
                &format!(
                    "PASSWORD_ITERATIONS={} is below the OWASP minimum of {}; use it for tests only",
                    c.hasher.iterations(),
                    edge_auth_core::password::DEFAULT_ITERATIONS
                ),
            );
        }
        Ok(_) => {}
        Err(e) => crate::log::error("config", &format!("configuration invalid, answering 503: {e}")),
    }
    Read::Settled(config.map(Rc::new))
}
