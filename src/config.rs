//! Reads the Worker's variables and secrets once per isolate and hands the core a validated `Config`,
//! with the compatibility profile `API_PROFILE` names (its settings are the defaults of the variables
//! its document fixes; a variable the deployment sets wins). A broken configuration is remembered
//! too: every request then gets a 503 problem, and the reason is logged (never sent).

use crate::http::profiles::{self, spec::Profile};
use edge_auth_core::config::{Config, ConfigError};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

/// What a request runs with.
#[derive(Clone)]
pub struct Loaded {
    pub config: Rc<Config>,
    pub profile: Option<Rc<Profile>>,
}

thread_local! {
    // A Worker isolate is single-threaded and its variables do not change while it lives.
    static LOADED: OnceCell<Result<Loaded, ConfigError>> = const { OnceCell::new() };
}

/// The configuration and profile, read on the first request of the isolate.
pub fn load(env: &Env) -> Result<Loaded, ConfigError> {
    LOADED.with(|cell| cell.get_or_init(|| read(env)).clone())
}

/// A variable or secret (both are strings in `env`), trimmed, empty meaning unset: exactly how the
/// core's `Config::from_lookup` reads them.
fn lookup(env: &Env, name: &str) -> Option<String> {
    let value = env.var(name).ok()?.to_string();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn read(env: &Env) -> Result<Loaded, ConfigError> {
    let result = read_profile(env).and_then(|profile| {
        let config = Config::from_lookup(|name| setting(env, profile.as_ref(), name))?;
        if let Some(p) = &profile {
            if profiles::needs_user_data_key(p) && config.edge.user_data_key.is_none() {
                return Err(ConfigError(format!(
                    "API_PROFILE={} needs the secret USER_DATA_KEY (32 bytes, base64url)",
                    p.name
                )));
            }
        }
        Ok(Loaded { config: Rc::new(config), profile: profile.map(Rc::new) })
    });
    match &result {
        Ok(Loaded { config: c, .. })
            if c.hasher.iterations() < edge_auth_core::password::DEFAULT_ITERATIONS =>
        {
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
    result
}

fn read_profile(env: &Env) -> Result<Option<Profile>, ConfigError> {
    profiles::load(&lookup(env, "API_PROFILE").unwrap_or_default()).map_err(ConfigError)
}

/// The deployment's value, else the profile's. Role labels add up: the deployment's come after the
/// profile's, so each one it names wins and the others stay.
fn setting(env: &Env, profile: Option<&Profile>, name: &str) -> Option<String> {
    let own = lookup(env, name);
    let from_profile = profile.and_then(|p| p.settings.get(name).cloned());
    match (name, own, from_profile) {
        ("ROLE_LABELS", Some(own), Some(theirs)) => Some(format!("{theirs},{own}")),
        (_, Some(own), _) => Some(own),
        (_, None, theirs) => theirs,
    }
}

/// Whether the panic probe route (`http::routes::PANIC_PROBE_PATH`) is served: only in development
/// with `PANIC_PROBE=on`, read once per isolate.
pub fn panic_probe(env: &Env) -> bool {
    thread_local! {
        static PANIC_PROBE: OnceCell<bool> = const { OnceCell::new() };
    }
    PANIC_PROBE.with(|cell| {
        *cell.get_or_init(|| {
            lookup(env, "ENVIRONMENT").as_deref() == Some("development")
                && lookup(env, "PANIC_PROBE").as_deref() == Some("on")
        })
    })
}
