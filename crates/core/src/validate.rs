//! Validation of client input: field extraction from a JSON object with per-field errors, usernames,
//! emails and password length bounds. Pure; the HTTP layer only turns bytes into a JSON object.

use crate::error::{AuthError, FieldError};
use serde_json::{Map, Value};

/// Usernames: 3-30 characters, after trimming.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 30;
/// Longest email address accepted [RFC 5321 §4.5.3.1.3 path limit, less the angle brackets].
pub const EMAIL_MAX: usize = 254;
/// Longest password accepted, in characters. NIST SP 800-63B §3.1.1.2 requires allowing at least 64
/// and never truncating; the bound only stops abuse (PBKDF2 pre-hashes long keys, so cost is flat).
pub const PASSWORD_MAX: usize = 256;

/// How a person names their account at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    Username(String),
    /// Lowercased email address.
    Email(String),
}

/// A JSON object body, with helpers that collect every field error before failing.
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Fields { body, errors: Vec::new() }
    }

    /// A string field; records `missing` / `invalid_type` errors and returns `None` for them.
    pub fn required_str(&mut self, name: &str) -> Option<&'a str> {
        match self.body.get(name) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(name, "missing", format!("`{name}` is required.")));
                None
            }
            Some(v) => self.as_str(name, v),
        }
    }

    /// An optional string field: absent is `None`; `null` is an `invalid_type` error like any other
    /// non-string (the field is documented as a string, so a `null` is a client bug worth naming).
    pub fn optional_str(&mut self, name: &str) -> Option<&'a str> {
        match self.body.get(name) {
            None => None,
            Some(v) => self.as_str(name, v),
        }
    }

    /// An optional string field that is documented as nullable: absent or `null` is `None`.
    pub fn nullable_str(&mut self, name: &str) -> Option<&'a str> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => self.as_str(name, v),
        }
    }

    /// Several aliases of which at least one is required (e.g. `username` or `email`): each present
    /// one must be a string (`null` included, an `invalid_type` error on that field); returns every
    /// given one with its name, in the order of `names`. None given is `missing` on the first name.
    pub fn required_str_any<'n>(&mut self, names: &[&'n str]) -> Vec<(&'n str, &'a str)> {
        let present: Vec<&'n str> = names.iter().copied().filter(|n| self.body.contains_key(*n)).collect();
        if present.is_empty() {
            let list = names.join("` or `");
            self.errors.push(FieldError::new(names[0], "missing", format!("`{list}` is required.")));
            return Vec::new();
        }
        present.into_iter().filter_map(|n| self.optional_str(n).map(|v| (n, v))).collect()
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `Ok` when no field error was recorded, else a 400 listing them all.
    pub fn finish(self) -> Result<(), AuthError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AuthError::InvalidRequest {
                detail: "The request has invalid fields.".into(),
                errors: self.errors,
            })
        }
    }

    fn as_str(&mut self, name: &str, v: &'a Value) -> Option<&'a str> {
        match v {
            Value::String(s) => Some(s),
            _ => {
                self.errors.push(FieldError::new(
                    name,
                    "invalid_type",
                    format!("`{name}` must be a string."),
                ));
                None
            }
        }
    }
}

/// Interprets what was typed in the login box (the `username` field): an email when it contains `@`,
/// else a username. Errors name `username`.
pub fn login_name(raw: &str) -> Result<LoginName, FieldError> {
    let trimmed = raw.trim();
    if trimmed.contains('@') {
        email(trimmed).map(LoginName::Email).map_err(|e| FieldError { field: "username".into(), ..e })
    } else {
        username(trimmed).map(LoginName::Username)
    }
}

/// The login name given in the field `field`: `email` holds an address (errors name `email`), any
/// other field what `login_name` reads.
pub fn login_name_in(field: &str, raw: &str) -> Result<LoginName, FieldError> {
    if field == "email" {
        email(raw).map(LoginName::Email)
    } else {
        login_name(raw)
    }
}

/// A username: trimmed, 3-30 characters of ASCII letters, digits, `.`, `_` and `-`.
/// Uniqueness is case-insensitive (D1 `COLLATE NOCASE`); the spelling given is kept for display.
pub fn username(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let len = s.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(FieldError::new(
            "username",
            "invalid_length",
            format!("`username` must be {USERNAME_MIN} to {USERNAME_MAX} characters."),
        ));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(FieldError::new(
            "username",
            "invalid_format",
            "`username` may contain only letters, digits, '.', '_' and '-'.",
        ));
    }
    Ok(s.to_string())
}

/// An email address: trimmed, lowercased, one `@` with text on both sides, a dot in the domain, no
/// spaces, at most 254 characters. Deliverability is proven by mail, not by a regex.
pub fn email(raw: &str) -> Result<String, FieldError> {
    let s = crate::unicode::lowercase(raw.trim());
    let valid = s.len() <= EMAIL_MAX
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(s)
    } else {
        Err(FieldError::new("email", "invalid_format", "`email` must be a valid email address."))
    }
}

/// A password presented at login: not empty and not over the maximum. (Policy for new passwords is
/// stricter; a login only needs bounds so nobody can post megabytes into the hash.)
pub fn login_password(field: &str, raw: &str) -> Result<(), FieldError> {
    let len = raw.chars().count();
    if len == 0 {
        return Err(FieldError::new(field, "missing", format!("`{field}` must not be empty.")));
    }
    if len > PASSWORD_MAX {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("`{field}` must be at most {PASSWORD_MAX} characters."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn usernames_are_trimmed_and_bounded() {
        assert_eq!(username("  alice ").unwrap(), "alice");
        assert_eq!(username("ab").unwrap_err().code, "invalid_length");
        assert_eq!(username(&"a".repeat(31)).unwrap_err().code, "invalid_length");
        assert!(username(&"a".repeat(30)).is_ok());
        assert_eq!(username("al ice").unwrap_err().code, "invalid_format");
        assert_eq!(username("alice;--").unwrap_err().code, "invalid_format");
        assert_eq!(username("ålice").unwrap_err().code, "invalid_format");
    }

    #[test]
    fn emails_are_lowercased_and_checked_loosely() {
        assert_eq!(email(" Alice@Example.COM ").unwrap(), "alice@example.com");
        for bad in ["alice", "@example.com", "alice@", "alice@example", "a@b@c.com", "a b@c.com", "a@.com"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_login_name_with_an_at_sign_is_an_email() {
        assert_eq!(login_name("Bob@Example.com").unwrap(), LoginName::Email("bob@example.com".into()));
        assert_eq!(login_name(" bob ").unwrap(), LoginName::Username("bob".into()));
        assert_eq!(login_name("bob@").unwrap_err().field, "username");
    }

    #[test]
    fn login_passwords_are_bounded_but_never_trimmed() {
        assert!(login_password("password", " x ").is_ok());
        assert_eq!(login_password("password", "").unwrap_err().code, "missing");
        assert!(login_password("password", &"é".repeat(PASSWORD_MAX)).is_ok());
        assert_eq!(login_password("password", &"x".repeat(PASSWORD_MAX + 1)).unwrap_err().code, "too_long");
    }

    #[test]
    fn fields_collect_every_error() {
        let body = obj(json!({"username": 42}));
        let mut f = Fields::new(&body);
        assert_eq!(f.required_str("username"), None);
        assert_eq!(f.required_str("password"), None);
        let err = f.finish().unwrap_err();
        let codes: Vec<_> = err.field_errors().iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, vec![("username", "invalid_type"), ("password", "missing")]);
    }

    #[test]
    fn aliases_give_every_present_field_and_check_the_type_of_each() {
        let body = obj(json!({"email": "a@b.co", "password": "x"}));
        let mut f = Fields::new(&body);
        assert_eq!(f.required_str_any(&["username", "email"]), vec![("email", "a@b.co")]);
        assert!(f.finish().is_ok());
        let both = obj(json!({"email": "a@b.co", "username": "ana"}));
        let mut f = Fields::new(&both);
        assert_eq!(
            f.required_str_any(&["username", "email"]),
            vec![("username", "ana"), ("email", "a@b.co")]
        );
        let empty = obj(json!({}));
        let mut f = Fields::new(&empty);
        assert_eq!(f.required_str_any(&["username", "email"]), vec![]);
        assert_eq!(f.finish().unwrap_err().field_errors()[0].field, "username");
        for wrong in [json!(null), json!({}), json!(7)] {
            let body = obj(json!({"email": "a@b.co", "username": wrong}));
            let mut f = Fields::new(&body);
            assert_eq!(f.required_str_any(&["username", "email"]), vec![("email", "a@b.co")]);
            let e = f.finish().unwrap_err();
            let codes: Vec<_> = e.field_errors().iter().map(|e| (e.field.as_str(), e.code)).collect();
            assert_eq!(codes, vec![("username", "invalid_type")], "{wrong}");
        }
    }

    #[test]
    fn a_null_is_absent_only_where_the_field_is_nullable() {
        let body = obj(json!({"a": null}));
        let mut f = Fields::new(&body);
        assert_eq!(f.nullable_str("a"), None);
        assert_eq!(f.optional_str("b"), None);
        assert!(f.finish().is_ok());
        let mut f = Fields::new(&body);
        assert_eq!(f.optional_str("a"), None);
        assert_eq!(f.finish().unwrap_err().field_errors()[0].code, "invalid_type");
    }

    #[test]
    fn an_email_field_holds_an_address_and_its_errors_name_it() {
        assert_eq!(login_name_in("email", " A@B.co ").unwrap(), LoginName::Email("a@b.co".into()));
        assert_eq!(login_name_in("email", "").unwrap_err().field, "email");
        assert_eq!(login_name_in("email", "alice").unwrap_err().field, "email");
        assert_eq!(login_name_in("username", "alice").unwrap(), LoginName::Username("alice".into()));
        assert_eq!(login_name_in("username", "").unwrap_err().field, "username");
    }
}
