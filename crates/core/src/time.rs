//! Times: the core works in unix seconds (the clock is a parameter); the API shows RFC 3339 UTC.
//!
//! The calendar arithmetic is Howard Hinnant's `civil_from_days`
//! (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>, public domain): exact for the
//! proleptic Gregorian calendar, a dozen integer operations, and no date crate in the wasm.

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants RFC 3339 can write (four-digit years,
/// RFC 3339 §5.6 `date-fullyear`). Anything outside is clamped to them.
pub const MIN_RFC3339: i64 = -62_167_219_200;
pub const MAX_RFC3339: i64 = 253_402_300_799;

const SECONDS_PER_DAY: i64 = 86_400;

/// Formats unix seconds as RFC 3339 in UTC, e.g. `2026-11-22T04:05:06Z`.
///
/// Values outside years 0000-9999 are clamped to the nearest end: the times shown come from our own
/// clock and lifetimes of at most ten years (`crate::config::parse_duration`), so only a damaged row
/// gets there, and a clamped date is still a valid RFC 3339 string (chrono, used before, wrote
/// signed five-digit years there, and 1970 beyond ±262,000 years).
pub fn rfc3339(unix_seconds: i64) -> String {
    let t = unix_seconds.clamp(MIN_RFC3339, MAX_RFC3339);
    let (year, month, day) = civil_from_days(t.div_euclid(SECONDS_PER_DAY));
    let second_of_day = t.rem_euclid(SECONDS_PER_DAY);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01 (Hinnant, see the module doc).
///
/// Shifts the epoch to 0000-03-01 so the leap day ends the year, splits into 400-year eras of 146,097
/// days (the calendar repeats exactly per era), then finds the year of the era, the day of that
/// March-based year, and its month from the 153-days-per-five-months pattern.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let march_month = (5 * day_of_year + 2) / 153; // [0, 11], 0 = March
    let day = day_of_year - (153 * march_month + 2) / 5 + 1; // [1, 31]
    let month = if march_month < 10 { march_month + 3 } else { march_month - 9 }; // [1, 12]
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both in range by construction (see the bounds above).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_a_z_suffix() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_780_000_000), "2026-05-28T20:26:40Z");
    }

    #[test]
    fn known_dates_leap_days_and_year_ends() {
        for (t, text) in [
            (-1, "1969-12-31T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"), // 2000 is a leap year (divisible by 400)
            (951_868_799, "2000-02-29T23:59:59Z"),
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (1_735_689_599, "2024-12-31T23:59:59Z"), // day 366 of a leap year
            (1_735_689_600, "2025-01-01T00:00:00Z"),
            (4_107_456_000, "2100-02-28T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"), // 2100 is not (divisible by 100, not 400)
            (2_147_483_647, "2038-01-19T03:14:07Z"),
            (-2_208_988_800, "1900-01-01T00:00:00Z"),
            (MIN_RFC3339, "0000-01-01T00:00:00Z"),
            (MAX_RFC3339, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(t), text, "{t}");
        }
    }

    #[test]
    fn out_of_range_values_clamp_to_the_ends() {
        assert_eq!(rfc3339(MAX_RFC3339 + 1), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(MIN_RFC3339 - 1), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
    }

    /// chrono's formatting, the implementation this replaced.
    fn chrono_rfc3339(t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn the_range_ends_are_chronos() {
        assert_eq!(rfc3339(MIN_RFC3339), chrono_rfc3339(MIN_RFC3339));
        assert_eq!(rfc3339(MAX_RFC3339), chrono_rfc3339(MAX_RFC3339));
        assert_ne!(chrono_rfc3339(MAX_RFC3339 + 1).len(), rfc3339(MAX_RFC3339).len(), "a fifth digit");
    }

    #[test]
    fn agrees_with_chrono_on_many_random_times() {
        // xorshift64*: deterministic, so a failure reproduces.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let span = (MAX_RFC3339 + 1) as u64;
        for i in 0..200_000 {
            // Most in [0, 9999-12-31], a quarter before 1970 as far as year 0.
            let t = (next() % span) as i64;
            let t = if i % 4 == 0 { -(t % (1 - MIN_RFC3339)) } else { t };
            assert_eq!(rfc3339(t), chrono_rfc3339(t), "{t}");
        }
        // Every day boundary of four centuries around 2000, and the second before each.
        for day in -73_049..73_049 {
            for t in [day * SECONDS_PER_DAY, day * SECONDS_PER_DAY - 1] {
                assert_eq!(rfc3339(t), chrono_rfc3339(t), "{t}");
            }
        }
    }
}
