//! `AuditLog` over D1 (`audit_events`, migration 0009). A child module of `d1_store`, sharing its
//! helpers. The events of a request are appended in one batch after the response (`Platform::
//! after_response`); reading is keyset-paginated on the growing `id`, newest first.

use super::{all, changes, n, noted, opt, s, unavailable, D1Store};
use edge_auth_core::audit::{AuditEvent, EventQuery, RequestMeta, StoredEvent};
use edge_auth_core::ports::AuditLog;
use edge_auth_core::AuthError;
use serde::Deserialize;
use worker::wasm_bindgen::JsValue;

/// An `audit_events` row.
#[derive(Deserialize)]
struct EventRow {
    id: i64,
    created_at: i64,
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
    actor_id: Option<String>,
    session_id: Option<String>,
    request_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: String,
}

impl From<EventRow> for StoredEvent {
    fn from(r: EventRow) -> Self {
        StoredEvent {
            id: r.id,
            at: r.created_at,
            kind: r.kind,
            user_id: r.user_id,
            actor_id: r.actor_id,
            session_id: r.session_id,
            request_id: r.request_id,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: r.detail,
        }
    }
}

/// The `WHERE` of a page request and its arguments (`?1`, `?2`, ... in order), the page size last.
fn page_sql(q: &EventQuery) -> (String, Vec<JsValue>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let arg = |v: JsValue, args: &mut Vec<JsValue>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(before) = q.before_id {
        clauses.push(format!("id < {}", arg(n(before), &mut args)));
    }
    if let Some(user) = &q.user_id {
        clauses.push(format!("user_id = {}", arg(s(user), &mut args)));
    }
    if !q.kinds.is_empty() {
        let list: Vec<String> = q.kinds.iter().map(|k| arg(s(k.as_str()), &mut args)).collect();
        clauses.push(format!("type IN ({})", list.join(", ")));
    }
    if let Some(since) = q.since {
        clauses.push(format!("created_at >= {}", arg(n(since), &mut args)));
    }
    let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    // One more than the page: it tells there is a next one.
    let limit = arg(n(i64::from(q.limit) + 1), &mut args);
    let sql = format!(
        "SELECT id, created_at, type, user_id, actor_id, session_id, request_id, ip, user_agent, detail \
         FROM audit_events {filter} ORDER BY id DESC LIMIT {limit}"
    );
    (sql, args)
}

/// At most `max` characters of a header value.
fn cut(v: Option<&str>, max: usize) -> Option<String> {
    v.map(|v| v.chars().take(max).collect())
}

impl AuditLog for D1Store {
    async fn append_events(&self, events: &[AuditEvent], meta: &RequestMeta) -> Result<(), AuthError> {
        if events.is_empty() {
            return Ok(());
        }
        let (ip, user_agent) = (cut(meta.ip.as_deref(), 64), cut(meta.user_agent.as_deref(), 256));
        let statements = events
            .iter()
            .map(|e| {
                self.statement(
                    "INSERT INTO audit_events (created_at, type, user_id, actor_id, session_id, request_id, \
                     ip, user_agent, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &[
                        n(e.at),
                        s(e.kind.as_str()),
                        opt(e.user_id.as_deref()),
                        opt(e.actor_id.as_deref()),
                        opt(e.session_id.as_deref()),
                        opt(meta.request_id.as_deref()),
                        opt(ip.as_deref()),
                        opt(user_agent.as_deref()),
                        s(&e.detail.to_json()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let db = self.db()?;
        noted(db.batch(statements).await).map(drop).map_err(unavailable("D1 audit insert"))
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, AuthError> {
        let (sql, args) = page_sql(query);
        let rows = all::<EventRow>(self.statement(&sql, &args)?).await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn prune_events(&self, before: i64, limit: u32) -> Result<u32, AuthError> {
        // Oldest first, at most `limit` rows: one bounded write per scheduled run.
        let statement = self.statement(
            "DELETE FROM audit_events WHERE id IN \
             (SELECT id FROM audit_events WHERE created_at < ?1 ORDER BY id LIMIT ?2)",
            &[n(before), n(i64::from(limit))],
        )?;
        let deleted = changes(statement).await.map_err(unavailable("D1 audit prune"))?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }
}
