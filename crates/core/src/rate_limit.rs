//! Rate limits as pure decisions over counters kept in KV [NIST SP 800-63B §3.2.2; ASVS 6.1.1, 6.3.1].
//!
//! Two kinds:
//! - **Fixed windows** (`count/seconds`, e.g. `10/15m`): per client IP for login failures, signups and
//!   forgot-password requests, and per address for forgot-password. Windows are at least 60 s
//!   (KV's minimum TTL).
//! - **Per-account progressive delay** after repeated failed logins: the first few failures are free,
//!   then each further attempt must wait twice as long as the last (capped), and a successful login
//!   resets it. An attacker can slow the owner down but never lock them out for longer than the cap,
//!   except after 100 consecutive failures, NIST's ceiling, when the account refuses password logins
//!   until a quiet day has passed (or an admin resets it).
//!
//! KV counters are approximate: concurrent requests can read the same value, and KV is eventually
//! consistent across locations (see README). They bound abuse; they are not exact quotas.

use serde::{Deserialize, Serialize};

/// A fixed-window limit: at most `count` events per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    pub count: u32,
    pub window_seconds: u64,
}

/// KV refuses TTLs under 60 s, so windows are at least that long.
pub const MIN_WINDOW_SECONDS: u64 = 60;

impl WindowLimit {
    /// Parses `count/seconds`, the seconds as a duration (`10/900`, `10/15m`, `5/1m`); `off` disables.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (count, window) =
            s.split_once('/').ok_or_else(|| format!("expected count/seconds, got {s:?}"))?;
        let count: u32 = count.trim().parse().map_err(|_| format!("bad count in {s:?}"))?;
        let window_seconds =
            crate::config::parse_duration(window).ok_or_else(|| format!("bad window in {s:?}"))?;
        if count == 0 || window_seconds < MIN_WINDOW_SECONDS {
            return Err(format!(
                "{s:?}: the count must be positive and the window at least 60 s (KV's minimum TTL)"
            ));
        }
        Ok(Some(WindowLimit { count, window_seconds }))
    }

    /// The start of the window containing `now`; part of the counter's key.
    pub fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_seconds as i64)
    }

    /// Allowed when fewer than `count` events were recorded in the current window; otherwise the
    /// seconds until the window ends.
    pub fn decide(&self, recorded: u32, now: i64) -> Decision {
        if recorded < self.count {
            Decision::Allow
        } else {
            let end = self.window_start(now) + self.window_seconds as i64;
            Decision::Deny { retry_after: (end - now).max(1) as u64 }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny { retry_after: u64 },
}

/// Failed logins of one account, as stored in KV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Failures {
    /// Consecutive failures since the last success.
    #[serde(rename = "n")]
    pub count: u32,
    /// Unix seconds of the last failure.
    #[serde(rename = "t")]
    pub last: i64,
}

/// The progressive-delay policy of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The delay after the first counted failure; doubles with each further one.
    pub base_delay_seconds: u64,
    /// The longest delay: the most an attacker can slow the owner down (below the hard ceiling).
    pub max_delay_seconds: u64,
    /// Consecutive failures after which password logins are refused until `quiet_reset_seconds` of
    /// quiet: NIST SP 800-63B §3.2.2 allows at most 100.
    pub hard_limit: u32,
    /// How long the record is kept after the last failure (its KV TTL).
    pub quiet_reset_seconds: u64,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            free_failures: 5,
            base_delay_seconds: 1,
            max_delay_seconds: 15 * 60,
            hard_limit: 100,
            quiet_reset_seconds: 24 * 3600,
        }
    }
}

impl AccountPolicy {
    /// May the account try a password now?
    pub fn decide(&self, failures: &Failures, now: i64) -> Decision {
        let wait = if failures.count >= self.hard_limit {
            self.quiet_reset_seconds
        } else if failures.count < self.free_failures {
            return Decision::Allow;
        } else {
            let doublings = (failures.count - self.free_failures).min(32);
            self.base_delay_seconds.saturating_mul(1u64 << doublings).min(self.max_delay_seconds)
        };
        let ready_at = failures.last.saturating_add(wait as i64);
        if now >= ready_at {
            Decision::Allow
        } else {
            Decision::Deny { retry_after: (ready_at - now) as u64 }
        }
    }

    /// The record after one more failure at `now`.
    pub fn record_failure(&self, failures: &Failures, now: i64) -> Failures {
        Failures { count: failures.count.saturating_add(1).min(self.hard_limit), last: now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn limits_parse_common_policies() {
        assert_eq!(WindowLimit::parse("10/15m"), Ok(Some(WindowLimit { count: 10, window_seconds: 900 })));
        assert_eq!(WindowLimit::parse("5/60"), Ok(Some(WindowLimit { count: 5, window_seconds: 60 })));
        assert_eq!(WindowLimit::parse("5/1m"), Ok(Some(WindowLimit { count: 5, window_seconds: 60 })));
        assert_eq!(
            WindowLimit::parse("100/1d"),
            Ok(Some(WindowLimit { count: 100, window_seconds: 86_400 }))
        );
        assert_eq!(WindowLimit::parse("off"), Ok(None));
        for bad in ["10", "0/60", "10/30", "x/60", "10/y", ""] {
            assert!(WindowLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_window_allows_up_to_its_count_then_says_when_it_ends() {
        let l = WindowLimit { count: 3, window_seconds: 60 };
        let start = l.window_start(NOW);
        assert_eq!(start % 60, 0);
        assert_eq!(l.decide(2, NOW), Decision::Allow);
        assert_eq!(l.decide(3, start + 15), Decision::Deny { retry_after: 45 });
        assert_eq!(l.decide(9, start + 59), Decision::Deny { retry_after: 1 });
    }

    #[test]
    fn the_first_failures_are_free() {
        let p = AccountPolicy::default();
        let mut f = Failures::default();
        for _ in 0..5 {
            assert_eq!(p.decide(&f, NOW), Decision::Allow);
            f = p.record_failure(&f, NOW);
        }
        assert_eq!(f.count, 5);
        assert_eq!(p.decide(&f, NOW), Decision::Deny { retry_after: 1 });
        assert_eq!(p.decide(&f, NOW + 1), Decision::Allow);
    }

    #[test]
    fn the_delay_doubles_and_is_capped() {
        let p = AccountPolicy::default();
        let at = |count| p.decide(&Failures { count, last: NOW }, NOW);
        assert_eq!(at(6), Decision::Deny { retry_after: 2 });
        assert_eq!(at(8), Decision::Deny { retry_after: 8 });
        assert_eq!(at(15), Decision::Deny { retry_after: 900 });
        assert_eq!(
            at(99),
            Decision::Deny { retry_after: 900 },
            "an attacker cannot lock the owner out longer"
        );
    }

    #[test]
    fn the_hundredth_consecutive_failure_stops_password_logins_until_a_quiet_day() {
        let p = AccountPolicy::default();
        let f = p.record_failure(&Failures { count: 99, last: NOW - 10_000 }, NOW);
        assert_eq!(f.count, 100);
        assert_eq!(p.decide(&f, NOW + 3600), Decision::Deny { retry_after: 86_400 - 3600 });
        assert_eq!(p.decide(&f, NOW + 86_400), Decision::Allow);
        assert_eq!(p.record_failure(&f, NOW).count, 100, "never counts past the ceiling");
    }
}
