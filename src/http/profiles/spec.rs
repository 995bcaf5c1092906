//! The shape of a profile description (`profiles/<name>.json`): data, read once per isolate.

use super::super::usecases::UseCase;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One replaced system's API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// What the system is, in one line (README, OpenAPI).
    pub system: String,
    /// Defaults for the deployment's variables that the system's document fixes (base path,
    /// lifetimes, limits, roles, claims, cookie names). A variable the deployment sets wins.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Messages of field errors, with `{field}`, `{min}`, `{max}` (the NestJS profile lists them).
    #[serde(default)]
    pub field_messages: FieldMessages,
    pub endpoints: Vec<Endpoint>,
    /// Error bodies by error code; `default` for any other code.
    pub errors: BTreeMap<String, Template>,
    /// The codes whose bodies are used on every endpoint under the base path, the native ones too
    /// (token errors: the system's clients see them from any protected endpoint).
    #[serde(default)]
    pub everywhere: Vec<String>,
}

/// An endpoint of the system's document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub method: String,
    /// Relative to the base path.
    pub path: String,
    pub does: UseCase,
    pub summary: String,
    /// The native request field each native name is read from, in the system's body.
    #[serde(default)]
    pub request: BTreeMap<String, FieldSpec>,
    pub respond: Template,
    /// Error bodies of this endpoint only, over the profile's.
    #[serde(default)]
    pub errors: BTreeMap<String, Template>,
}

/// Where a native request field comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field's name in the system's body.
    pub from: String,
    /// Leading and trailing whitespace removed before anything else.
    #[serde(default)]
    pub trim: bool,
    /// Length bounds the system's document states (characters).
    pub min: Option<usize>,
    pub max: Option<usize>,
    /// Absent is fine (else it is required).
    #[serde(default)]
    pub optional: bool,
    /// The native field is made from the source field instead of copied.
    pub derive: Option<Derive>,
}

/// Native fields a system does not have, made from one it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derive {
    /// A username for a system that knows its users by email only: the address's local part, cut to
    /// the characters and length usernames allow, then `-` and 6 random characters (unique in
    /// practice; a collision is a 409 like any other, and the user never types it).
    UsernameFromEmail,
}

/// A response: its status (the error's own when absent) and a JSON body in which every string that
/// starts with `$` is replaced by the value at that path of the context (`render`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub status: Option<u16>,
    pub body: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMessages {
    pub missing: String,
    pub not_string: String,
    pub too_short: String,
    pub too_long: String,
}

impl Default for FieldMessages {
    fn default() -> Self {
        FieldMessages {
            missing: "`{field}` is required.".into(),
            not_string: "`{field}` must be a string.".into(),
            too_short: "`{field}` must be at least {min} characters.".into(),
            too_long: "`{field}` must be at most {max} characters.".into(),
        }
    }
}
