//! Rate limiting of login, signup and forgot-password, over the `Counters` port (KV).
//!
//! KV work per request: a login reads two counters (client IP, account) in one bulk read, three with
//! a global failed-login budget (its flag); a failed login writes both (and the flag, once the budget
//! is spent); a successful login writes nothing, unless the account had failures to clear (one
//! delete). Signup and forgot-password read and write their counters on every request. Any KV
//! failure fails closed: 503 on a read, 429 on a refused write.

use crate::config::limits::LoginCounts;
use crate::config::Config;
use crate::error::AuthError;
use crate::kv_keys::{self, Window};
use crate::ports::Counters;
use crate::rate_limit::{Decision, Failures, WindowLimit};
use crate::validate::LoginName;

/// How long password logins stay refused once the global failed-login budget is spent: KV's
/// shortest TTL, and the Rate Limiting binding's longest period (10 or 60 s), so the refusal ends
/// about when the budget's window does.
pub const BUDGET_SPENT_SECONDS: u64 = 60;

/// What a login's limit check read, to update after the attempt.
#[derive(Debug, Clone)]
pub struct LoginGuard {
    ip_key: Option<(String, u32, u64)>,
    account_key: String,
    failures: Failures,
    /// A failure spends the global failed-login budget (a password login, with a budget configured).
    spends_budget: bool,
}

/// Who an account counter belongs to: the user when the name matched one (so username and email
/// logins share one counter), else the name as typed (so an unknown user costs the same KV work).
pub fn account_subject(user_id: Option<&str>, name: &LoginName) -> String {
    match user_id {
        Some(id) => format!("id:{id}"),
        None => name_key(name),
    }
}

/// Before verifying a login factor: refuses (429) when the client IP or the account is over its
/// limit. `account` comes from [`account_subject`]; it is hashed into the key.
pub async fn check_login(
    config: &Config,
    counters: &impl Counters,
    ip: &str,
    account: &str,
    now: i64,
) -> Result<LoginGuard, AuthError> {
    check(config, counters, ip, account, now, false).await
}

/// [`check_login`] before a password is hashed (`POST /auth/login`): with a global failed-login
/// budget, also refused (429) while its flag lives, read in the same bulk KV read, so a spent budget
/// costs no hash at all; and a failure then spends that budget ([`login_failed`]).
pub async fn check_password_login(
    config: &Config,
    counters: &impl Counters,
    ip: &str,
    account: &str,
    now: i64,
) -> Result<LoginGuard, AuthError> {
    check(config, counters, ip, account, now, counters.has_failed_login_budget()).await
}

async fn check(
    config: &Config,
    counters: &impl Counters,
    ip: &str,
    account: &str,
    now: i64,
    budget: bool,
) -> Result<LoginGuard, AuthError> {
    let account_key = kv_keys::account_failures(account);
    // Counting every request, the IP counter was checked and counted before the request was read
    // (`count_login_request`); here only failures are counted.
    let ip_key = match config.limits.login_ip_counts {
        LoginCounts::Failures => {
            config.limits.login_ip.map(|l| (window_key(Window::LoginIp, ip, &l, now), l))
        }
        LoginCounts::Requests => None,
    };
    let mut keys = vec![account_key.as_str()];
    if let Some((k, _)) = &ip_key {
        keys.push(k);
    }
    if budget {
        keys.push(kv_keys::GLOBAL_FAILED_LOGIN);
    }
    let mut values = counters.get_many(&keys).await?.into_iter();
    let failures: Failures =
        values.next().flatten().and_then(|v| serde_json::from_slice(v.as_bytes()).ok()).unwrap_or_default();
    let ip_count = match ip_key {
        Some(_) => values.next().flatten().and_then(|v| v.parse::<u32>().ok()).unwrap_or(0),
        None => 0,
    };
    let budget_spent = budget && values.next().flatten().is_some();
    if let Some((_, limit)) = &ip_key {
        deny(limit.decide(ip_count, now))?;
    }
    deny(config.limits.account.decide(&failures, now))?;
    if budget_spent {
        return Err(AuthError::RateLimited { retry_after: BUDGET_SPENT_SECONDS });
    }
    Ok(LoginGuard {
        ip_key: ip_key.map(|(k, l)| (k, ip_count, window_ttl(&l, now))),
        account_key,
        failures,
        spends_budget: budget,
    })
}

/// After a failed attempt: one more failure for the IP and the account (two concurrent writes).
/// After a failed password ([`check_password_login`]) it also spends one unit of the global
/// failed-login budget, and the failure that finds the budget spent writes its flag in the same
/// batch, so the next password logins are refused before hashing.
pub async fn login_failed(
    config: &Config,
    counters: &impl Counters,
    guard: &LoginGuard,
    now: i64,
) -> Result<(), AuthError> {
    let policy = &config.limits.account;
    let failures = policy.record_failure(&guard.failures, now);
    let mut writes = vec![(
        guard.account_key.clone(),
        serde_json::to_string(&failures).unwrap_or_default(),
        policy.quiet_reset_seconds,
    )];
    if let Some((key, count, ttl)) = &guard.ip_key {
        writes.push((key.clone(), (count + 1).to_string(), *ttl));
    }
    // The budget's answer comes first, but an error from it must not keep the failure from being
    // counted per IP and per account: it is returned after the writes.
    let budget = if guard.spends_budget { counters.spend_failed_login().await } else { Ok(true) };
    if budget == Ok(false) {
        writes.push((kv_keys::GLOBAL_FAILED_LOGIN.to_string(), "1".to_string(), BUDGET_SPENT_SECONDS));
        counters.set_failed_login_budget_spent_until(now.saturating_add(BUDGET_SPENT_SECONDS as i64));
    }
    counters.put_many(&writes).await.map_err(refused_write)?;
    budget.map(drop)
}

/// Right before hashing a password: 429 when this isolate already knows the global budget to be
/// spent (its memo, no I/O). A burst leaves many logins of one isolate waiting for the CPU after
/// their KV read; without this, each of them would still hash after the flag was written.
pub fn before_hashing(counters: &impl Counters, guard: &LoginGuard, now: i64) -> Result<(), AuthError> {
    let until = counters.failed_login_budget_spent_until();
    if guard.spends_budget && until > now {
        return Err(AuthError::RateLimited { retry_after: (until - now) as u64 });
    }
    Ok(())
}

/// After a correct password: clears the account's failures, if it had any (no write otherwise).
pub async fn login_succeeded(counters: &impl Counters, guard: &LoginGuard) -> Result<(), AuthError> {
    if guard.failures.count > 0 {
        counters.delete(&guard.account_key).await?;
    }
    Ok(())
}

/// Counts one request against `limit` for `subject` (e.g. an IP), refusing when it is already over.
pub async fn check_and_count(
    counters: &impl Counters,
    limit: Option<WindowLimit>,
    window: Window,
    subject: &str,
    now: i64,
) -> Result<(), AuthError> {
    let Some(limit) = limit else { return Ok(()) };
    let key = window_key(window, subject, &limit, now);
    let count =
        counters.get_many(&[&key]).await?[0].as_deref().and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
    deny(limit.decide(count, now))?;
    counters.put_many(&[(key, (count + 1).to_string(), window_ttl(&limit, now))]).await.map_err(refused_write)
}

/// The key of the fixed-window counter that `now` falls in.
fn window_key(window: Window, subject: &str, limit: &WindowLimit, now: i64) -> String {
    kv_keys::window_counter(window, subject, limit.window_start(now))
}

/// Until the window ends, and never below KV's 60 s minimum.
fn window_ttl(limit: &WindowLimit, now: i64) -> u64 {
    let end = limit.window_start(now) + limit.window_seconds as i64;
    ((end - now).max(0) as u64).max(60)
}

fn name_key(name: &LoginName) -> String {
    match name {
        LoginName::Username(u) => format!("u:{}", u.to_ascii_lowercase()),
        LoginName::Email(e) => format!("e:{e}"),
    }
}

fn deny(decision: Decision) -> Result<(), AuthError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny { retry_after } => Err(AuthError::RateLimited { retry_after }),
    }
}

/// KV refusing a counter write (its one-write-per-second-per-key limit, or an outage) fails closed.
fn refused_write(e: AuthError) -> AuthError {
    match e {
        AuthError::Unavailable(_) => AuthError::RateLimited { retry_after: 1 },
        other => other,
    }
}
