//! `GET /health`: whether this deployment can serve, told truthfully. It checks that D1's schema is
//! the one this Worker was built for (the latest migration wrangler recorded in `d1_migrations`), that
//! the tables every request needs answer, that no revocation waits for KV after a failed write, that
//! KV answers a read, and that the last D1 and KV writes this isolate made did not fail (or failed
//! more than 5 minutes ago): one D1 read and one KV read. `?deep=1`, with an admin's access token, also
//! writes and reads back one D1 row and one KV key. 200 when every part is fine, else a 503 problem;
//! an admin's answer names each part (`checks`, and `failing` in a problem), anyone else's does not.

use super::{response, Call};
use crate::adapters::later::{self, Store};
use crate::error::{problem_response, problem_with};
use edge_auth_core::health::{self, Report};
use edge_auth_core::AuthError;
use serde_json::{json, Map, Value};
use worker::Response;

/// The latest migration this Worker knows (the last file of `migrations/`; a test keeps them equal).
pub const LATEST_MIGRATION: &str = "0009_audit_events.sql";

pub async fn health(call: Call<'_>) -> Result<Response, AuthError> {
    let p = call.p;
    let url = call.req.url().map_err(|_| AuthError::bad_request("The request URL is invalid."))?;
    // `deep` is `1` or `true` (the document's enum); any other value is a client error, not a shallow check.
    let mut deep = false;
    for (k, v) in url.query_pairs().filter(|(k, _)| k == "deep") {
        match v.as_ref() {
            "1" | "true" => deep = true,
            _ => return Err(AuthError::field(&k, "invalid_value", "`deep` must be 1 or true.")),
        }
    }
    let header = call.req.headers().get("Authorization").ok().flatten();
    let token = header
        .as_deref()
        .and_then(|h| h.trim().split_once(' '))
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string()));
    let admin = match &token {
        Some(token) => p.auth().health_admin(token).await,
        None => false,
    };
    if deep && !admin {
        // The deep check writes: only for an admin.
        return Err(if token.is_none() { AuthError::TokenMissing } else { AuthError::Forbidden });
    }

    let mut report = Report::default();
    let (schema, kv) = p.probe_storage().await;
    match schema {
        Ok(state) => {
            report.add("d1", Ok(()));
            let latest = state.latest_migration.as_deref();
            report.add("d1_schema", health::schema(LATEST_MIGRATION, state.migrations_recorded, latest));
            if state.migrations_recorded {
                let tables = state.tables_ok.then_some(()).ok_or_else(|| {
                    "the tables users, sessions or revocation_outbox do not answer".to_string()
                });
                report.add("d1_tables", tables);
            }
            if let Some(waiting) = state.failed_revocations {
                let outbox = match waiting {
                    0 => Ok(()),
                    n => Err(format!("{n} revocations wait in D1's outbox after a failed KV write")),
                };
                report.add("revocation_outbox", outbox);
            }
        }
        Err(e) => report.add("d1", Err(failed("D1 does not answer", &e))),
    }
    report.add("kv_read", kv.map_err(|e| failed("KV does not answer a read", &e)));
    if deep {
        let (d1, kv) = p.probe_writes().await;
        report.add("d1_write", d1.map_err(|e| failed("D1 does not take a write", &e)));
        report.add("kv_write", kv.map_err(|e| failed("KV does not take a write", &e)));
    }
    // What this isolate saw (after the deep probes, whose writes count): a read-only D1 or a KV refusing writes shows here without a write.
    for (part, store, name) in [("d1_writes", Store::D1, "D1"), ("kv_writes", Store::Kv, "KV")] {
        if let Some(ago) = later::write_failed_ago(store, p.now()) {
            report.add(
                part,
                Err(format!("the last {name} write here failed {ago} s ago, none succeeded since")),
            );
        }
    }

    if report.healthy() {
        let mut body = json!({"status": "ok"});
        if admin {
            body["checks"] = Value::Object(report.checks());
        }
        return Ok(response::json(200, &body));
    }
    let error = AuthError::Unavailable(format!("health: failing {}", report.failing().join(", ")));
    if !admin {
        return Ok(problem_response(&error));
    }
    let mut extra = Map::new();
    extra.insert("failing".into(), json!(report.failing()));
    extra.insert("checks".into(), Value::Object(report.checks()));
    Ok(problem_with(&error, extra))
}

/// What the admin reads of a failed probe; the platform's own message goes to the log only.
fn failed(what: &str, e: &AuthError) -> String {
    crate::log::warn("health", &format!("{what}: {}", e.log_detail().unwrap_or_default()));
    what.to_string()
}

#[cfg(test)]
mod tests {
    use super::LATEST_MIGRATION;

    #[test]
    fn the_expected_migration_is_the_last_file_of_migrations() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let last = std::fs::read_dir(dir)
            .expect("migrations/ is readable")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".sql"))
            .max()
            .expect("there are migrations");
        assert_eq!(LATEST_MIGRATION, last, "update LATEST_MIGRATION with the new migration");
    }
}
