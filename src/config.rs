//! Reads the Worker's variables and secrets once per isolate and hands the core a validated `Config`.
//! A broken configuration is remembered too: every request then gets a 503 problem, and the reason is
//! logged (never sent).

use edge_auth_core::config::{Config, ConfigError};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    // A Worker isolate is single-threaded and its variables do not change while it lives.
    static CONFIG: OnceCell<Result<Rc<Config>, ConfigError>> = const { OnceCell::new() };
}

/// The configuration, read on the first request of the isolate.
pub fn load(env: &Env) -> Result<Rc<Config>, ConfigError> {
    CONFIG.with(|cell| cell.get_or_init(|| read(env)).clone())
}

/// A variable or secret (both are strings in `env`), trimmed, empty meaning unset: exactly how the
/// core's `Config::from_lookup` reads them.
fn lookup(env: &Env, name: &str) -> Option<String> {
    let value = env.var(name).ok()?.to_string();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn read(env: &Env) -> Result<Rc<Config>, ConfigError> {
    let config = Config::from_lookup(|name| lookup(env, name));
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
    config.map(Rc::new)
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
