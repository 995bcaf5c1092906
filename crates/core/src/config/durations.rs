//! Durations in settings: a whole number of seconds, minutes, hours or days.

pub(super) fn duration_setting(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    problems: &mut Vec<String>,
) -> u64 {
    match get(name) {
        None => default,
        Some(v) => parse_duration(&v).unwrap_or_else(|| {
            problems.push(format!("{name} must be a duration such as 900, 900s, 15m, 8h or 7d, got {v:?}"));
            default
        }),
    }
}

/// The longest duration a setting accepts (ten years).
pub const MAX_DURATION_SECONDS: u64 = 10 * 365 * 86_400;

/// Parses a positive duration: a whole number with an optional unit `s`, `m`, `h` or `d`
/// (`900`, `15m`, `8h`, `10h`, `7d`). Returns seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    // At most ten years: token expiry and the dates the API shows (`user::rfc3339`, years 0000-9999)
    // stay far inside their ranges.
    n.checked_mul(factor).filter(|v| *v > 0 && *v <= MAX_DURATION_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{config, SECRET};

    #[test]
    fn durations_accept_seconds_minutes_hours_and_days() {
        assert_eq!(parse_duration("900"), Some(900));
        assert_eq!(parse_duration("900s"), Some(900));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("8h"), Some(28_800));
        assert_eq!(parse_duration("10h"), Some(36_000));
        assert_eq!(parse_duration("7d"), Some(604_800));
        for bad in ["", "0", "-5m", "15 minutes", "1.5h", "h", "99999999999999999999d", "100000000d", "3651d"]
        {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_duration_setting_names_the_setting_and_the_value() {
        let e = config(&[("JWT_SECRET", SECRET), ("REFRESH_TOKEN_TTL", "1 week")]).unwrap_err();
        assert!(e.0.contains("REFRESH_TOKEN_TTL") && e.0.contains("\"1 week\""), "{e}");
        let c = config(&[("JWT_SECRET", SECRET), ("RESET_TOKEN_TTL", "3650d")]).unwrap();
        assert_eq!(c.reset_ttl_seconds, MAX_DURATION_SECONDS, "ten years, the most");
    }
}
