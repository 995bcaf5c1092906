//! Times: the core works in unix seconds (the clock is a parameter); the API shows RFC 3339 UTC.

use chrono::{DateTime, SecondsFormat};

/// Formats unix seconds as RFC 3339 in UTC, e.g. `2026-11-22T04:05:06Z`.
pub fn rfc3339(unix_seconds: i64) -> String {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_with_a_z_suffix() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_780_000_000), "2026-05-28T20:26:40Z");
    }
}
