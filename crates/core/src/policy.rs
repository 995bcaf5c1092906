//! The password policy for new passwords (signup, change, reset, admin-created users), following
//! NIST SP 800-63B §3.1.1.2 and ASVS 6.2.1-6.2.10: a minimum length (configurable, default 8), at
//! least 64 allowed (we allow 256) and never truncated, no composition rules, no periodic change, and
//! refusal of the most common passwords and of the username itself. Lengths count Unicode scalar
//! values after NFKC normalisation, as the hash sees them.

use crate::common_passwords;
use crate::error::FieldError;
use crate::unicode::nfkc;
use crate::validate::PASSWORD_MAX;

/// Default minimum length [NIST SP 800-63B §3.1.1.2: at least 8].
pub const DEFAULT_MIN_LENGTH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// `PASSWORD_KIND=pin`: new secrets are PINs of `PIN_LENGTH` digits instead (the cookie-session
    /// system whose users sign in with a name and a PIN). A PIN's space is small by nature; what bounds
    /// online guessing is the per-account progressive delay and its hard limit of 100 consecutive
    /// failures [NIST SP 800-63B §3.2.2], which apply to PINs exactly as to passwords.
    pub pin: bool,
}

/// Digits a PIN may have (`PASSWORD_KIND=pin`).
pub const PIN_LENGTH: std::ops::RangeInclusive<usize> = 4..=12;

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min_length: DEFAULT_MIN_LENGTH, pin: false }
    }
}

impl PasswordPolicy {
    /// Checks a new password for the account `username`; the error names `field`.
    pub fn check(&self, field: &str, password: &str, username: &str) -> Result<(), FieldError> {
        if self.pin {
            return check_pin(field, password);
        }
        let normalized = nfkc(password);
        let len = normalized.chars().count();
        if len < self.min_length {
            return Err(FieldError::new(
                field,
                "too_short",
                format!("`{field}` must be at least {} characters.", self.min_length),
            ));
        }
        if len > PASSWORD_MAX {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("`{field}` must be at most {PASSWORD_MAX} characters."),
            ));
        }
        let lower = crate::unicode::lowercase(&normalized);
        if !username.is_empty() && lower == crate::unicode::lowercase(username) {
            return Err(FieldError::new(
                field,
                "same_as_username",
                format!("`{field}` must not be the username."),
            ));
        }
        if common_passwords::is_common(&lower) {
            return Err(FieldError::new(
                field,
                "too_common",
                format!("`{field}` is one of the most common passwords; choose another."),
            ));
        }
        Ok(())
    }
}

/// A PIN: 4 to 12 ASCII digits. No blocklist: every PIN of that space is a common one.
fn check_pin(field: &str, pin: &str) -> Result<(), FieldError> {
    if PIN_LENGTH.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid_pin",
            format!("`{field}` must be a PIN of {} to {} digits.", PIN_LENGTH.start(), PIN_LENGTH.end()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_4_to_12_digits_and_nothing_else() {
        let pin = PasswordPolicy { pin: true, ..PasswordPolicy::default() };
        for ok in ["1234", "000000", "123456789012"] {
            assert_eq!(pin.check("pin", ok, "alice"), Ok(()), "{ok}");
        }
        for bad in ["123", "1234567890123", "12a4", " 1234", "١٢٣٤", "correct horse battery"] {
            assert_eq!(pin.check("pin", bad, "alice").unwrap_err().code, "invalid_pin", "{bad}");
        }
        assert_eq!(
            PasswordPolicy::default().check("password", "1234", "alice").unwrap_err().code,
            "too_short"
        );
    }

    fn check(pw: &str) -> Result<(), &'static str> {
        PasswordPolicy::default().check("password", pw, "alice").map_err(|e| e.code)
    }

    #[test]
    fn a_long_uncommon_password_passes_without_composition_rules() {
        assert_eq!(check("correct horse battery staple"), Ok(()));
        assert_eq!(check("alllowercaseletters"), Ok(()));
        assert_eq!(check("ünïcödé pässwörd"), Ok(()));
    }

    #[test]
    fn short_passwords_are_refused_counting_characters_not_bytes() {
        assert_eq!(check("seven77"), Err("too_short"));
        assert_eq!(check("ééééééé"), Err("too_short"), "7 characters, 14 bytes");
        assert_eq!(check("éééééééé"), Ok(()));
    }

    #[test]
    fn the_minimum_is_configurable() {
        let p = PasswordPolicy { min_length: 12, pin: false };
        assert_eq!(p.check("password", "elevenchars", "bob").unwrap_err().code, "too_short");
        assert!(p.check("twelve chars", "twelve chars!", "bob").is_ok());
    }

    #[test]
    fn very_long_passwords_are_allowed_up_to_the_bound() {
        assert_eq!(check(&"z".repeat(64)), Ok(()));
        assert_eq!(check(&"q".repeat(256)), Ok(()));
        assert_eq!(check(&"q".repeat(257)), Err("too_long"));
    }

    #[test]
    fn the_username_is_refused_in_any_case() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("password", "AliceCooper", "alicecooper").unwrap_err().code, "same_as_username");
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert_eq!(check("password"), Err("too_common"));
        assert_eq!(check("Password1"), Err("too_common"));
        assert_eq!(check("12345678"), Err("too_common"));
        assert_eq!(check("iloveyou"), Err("too_common"));
    }
}
