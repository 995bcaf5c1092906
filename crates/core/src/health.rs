//! The verdict of `GET /health` from what its probes found: each part ok, or what is wrong with it.
//! Anyone learns only healthy (200) or not (503); an admin learns which part fails and why.

use serde_json::{Map, Value};

/// What each probed part of the service answered, in the order probed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    parts: Vec<(&'static str, Result<(), String>)>,
}

impl Report {
    pub fn add(&mut self, part: &'static str, outcome: Result<(), String>) {
        self.parts.push((part, outcome));
    }

    pub fn healthy(&self) -> bool {
        self.parts.iter().all(|(_, outcome)| outcome.is_ok())
    }

    /// The parts that failed, by name.
    pub fn failing(&self) -> Vec<&'static str> {
        self.parts.iter().filter(|(_, o)| o.is_err()).map(|(name, _)| *name).collect()
    }

    /// Every part: `"ok"`, or what is wrong (for the admin only).
    pub fn checks(&self) -> Map<String, Value> {
        self.parts
            .iter()
            .map(|(name, outcome)| {
                let text = match outcome {
                    Ok(()) => "ok".to_string(),
                    Err(why) => why.clone(),
                };
                (name.to_string(), Value::String(text))
            })
            .collect()
    }
}

/// The leading number of a migration's file name (`0008_revocation_outbox.sql` is 8).
fn number(name: &str) -> Option<u32> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether D1's schema is the one this Worker was built for: the latest migration recorded in
/// `d1_migrations` (wrangler's table) must be `expected`, the latest the Worker knows. A later one is
/// fine (migrations are applied before the Worker that needs them is deployed, and only ever add);
/// an earlier one, or none, is not.
pub fn schema(expected: &str, recorded: bool, latest: Option<&str>) -> Result<(), String> {
    if !recorded {
        return Err("no migration is recorded (d1_migrations does not answer): apply the migrations".into());
    }
    let Some(latest) = latest else {
        return Err(format!("no migration is applied; this Worker needs {expected}"));
    };
    match (number(latest), number(expected)) {
        _ if latest == expected => Ok(()),
        (Some(have), Some(need)) if have > need => Ok(()),
        _ => Err(format!("the latest migration applied is {latest}; this Worker needs {expected}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: &str = "0008_revocation_outbox.sql";

    #[test]
    fn the_schema_is_right_when_the_latest_migration_is_the_expected_one_or_later() {
        assert_eq!(schema(EXPECTED, true, Some(EXPECTED)), Ok(()));
        assert_eq!(schema(EXPECTED, true, Some("0009_later.sql")), Ok(()));
    }

    #[test]
    fn an_earlier_migration_none_or_no_record_is_wrong() {
        let behind = schema(EXPECTED, true, Some("0006_email_verification.sql")).unwrap_err();
        assert!(behind.contains("0006_email_verification.sql") && behind.contains(EXPECTED), "{behind}");
        assert!(schema(EXPECTED, true, None).is_err());
        assert!(schema(EXPECTED, false, None).unwrap_err().contains("d1_migrations"));
        assert!(schema(EXPECTED, true, Some("garbage")).is_err());
    }

    #[test]
    fn a_report_is_healthy_only_when_every_part_is() {
        let mut report = Report::default();
        report.add("kv_read", Ok(()));
        assert!(report.healthy());
        report.add("d1_schema", Err("behind".into()));
        report.add("d1_write", Err("refused".into()));
        assert!(!report.healthy());
        assert_eq!(report.failing(), ["d1_schema", "d1_write"]);
        assert_eq!(report.checks()["kv_read"], "ok");
        assert_eq!(report.checks()["d1_write"], "refused");
    }
}
