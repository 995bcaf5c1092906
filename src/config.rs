//! Reads the Worker's variables and secrets once per isolate and hands the core a validated `Config`.
//! A broken configuration is remembered too: every request then gets a 503 problem, and the reason is
//! logged (never sent).

use edge_auth_core::config::{Config, ConfigError};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    // A Worker isolate is single-threaded and its bindings do not change while it lives.
    static CONFIG: OnceCell<Result<Rc<Config>, ConfigError>> = const { OnceCell::new() };
}

/// The configuration, read on the first request of the isolate.
pub fn load(env: &Env) -> Result<Rc<Config>, ConfigError> {
    CONFIG.with(|cell| cell.get_or_init(|| read(env).map(Rc::new)).clone())
}

fn read(env: &Env) -> Result<Config, ConfigError> {
    let config = Config::from_lookup(|name| {
        env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok()
    });
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
    config
}
