//! Passkey (WebAuthn) settings: the relying party and the origins whose pages may use passkeys.
//! Unset, both follow the request URL (`Site::for_request`), so a deployment that serves its pages
//! from its own host works without configuration.

/// `WEBAUTHN_USER_VERIFICATION`: whether an assertion or registration needs the UV flag (a PIN or
/// biometrics on the authenticator, WebAuthn L3 §6.1 flag UV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerification {
    Preferred,
    Required,
}

impl UserVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            UserVerification::Preferred => "preferred",
            UserVerification::Required => "required",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnSettings {
    /// `WEBAUTHN_RP_ID`; `None`: the host of the request URL.
    pub rp_id: Option<String>,
    /// `WEBAUTHN_RP_NAME`; default `MFA_ISSUER`.
    pub rp_name: String,
    /// `WEBAUTHN_ORIGINS`; empty: the origin of the request URL.
    pub origins: Vec<String>,
    pub user_verification: UserVerification,
}

/// The relying party of one request: the settings with their defaults filled in from the request URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub rp_id: String,
    pub rp_name: String,
    pub origins: Vec<String>,
    pub user_verification: UserVerification,
}

impl WebauthnSettings {
    /// The site for a request to `scheme://host[:port]` (`origin`, what the URL says) at `host`.
    pub fn site(&self, origin: &str, host: &str) -> Site {
        Site {
            rp_id: self.rp_id.clone().unwrap_or_else(|| host.to_ascii_lowercase()),
            rp_name: self.rp_name.clone(),
            origins: if self.origins.is_empty() { vec![origin.to_string()] } else { self.origins.clone() },
            user_verification: self.user_verification,
        }
    }
}

pub(super) fn read(
    get: &impl Fn(&str) -> Option<String>,
    issuer: &str,
    problems: &mut Vec<String>,
) -> WebauthnSettings {
    let rp_id = get("WEBAUTHN_RP_ID").map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
    if let Some(id) = &rp_id {
        // An RP ID is a domain (WebAuthn L3 §5.1.2 "valid domain string"): no scheme, port or path.
        if id.contains(['/', ':', ' ', '?', '#']) || id.starts_with('.') || id.ends_with('.') {
            problems.push(format!("WEBAUTHN_RP_ID must be a domain like example.com, got {id:?}"));
        }
    }
    let origins: Vec<String> = get("WEBAUTHN_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect();
    for o in &origins {
        if !super::is_origin(o) {
            problems.push(format!("WEBAUTHN_ORIGINS: {o:?} is not an origin like https://example.com"));
        }
    }
    let user_verification = match get("WEBAUTHN_USER_VERIFICATION").as_deref().map(str::trim) {
        None | Some("") | Some("preferred") => UserVerification::Preferred,
        Some("required") => UserVerification::Required,
        Some(other) => {
            problems.push(format!("WEBAUTHN_USER_VERIFICATION must be preferred or required, got {other:?}"));
            UserVerification::Preferred
        }
    };
    WebauthnSettings {
        rp_id,
        rp_name: get("WEBAUTHN_RP_NAME")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| issuer.to_string()),
        origins,
        user_verification,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_from(vars: &[(&str, &str)]) -> (WebauthnSettings, Vec<String>) {
        let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        let mut problems = Vec::new();
        (read(&get, "edge-auth", &mut problems), problems)
    }

    #[test]
    fn unset_settings_follow_the_request() {
        let (s, problems) = read_from(&[]);
        assert!(problems.is_empty());
        let site = s.site("https://auth.example.com", "Auth.Example.com");
        assert_eq!(site.rp_id, "auth.example.com");
        assert_eq!(site.origins, vec!["https://auth.example.com".to_string()]);
        assert_eq!(site.rp_name, "edge-auth");
        assert_eq!(site.user_verification, UserVerification::Preferred);
    }

    #[test]
    fn configured_settings_win_and_bad_ones_are_refused() {
        let (s, problems) = read_from(&[
            ("WEBAUTHN_RP_ID", "example.com"),
            ("WEBAUTHN_ORIGINS", "https://a.example.com, https://b.example.com/"),
            ("WEBAUTHN_USER_VERIFICATION", "required"),
            ("WEBAUTHN_RP_NAME", "Example"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        let site = s.site("http://localhost:8787", "localhost");
        assert_eq!(site.rp_id, "example.com");
        assert_eq!(site.origins, vec!["https://a.example.com", "https://b.example.com"]);
        assert_eq!(site.user_verification, UserVerification::Required);
        assert_eq!(site.rp_name, "Example");
        for bad in [
            ("WEBAUTHN_RP_ID", "https://example.com"),
            ("WEBAUTHN_RP_ID", "example.com:443"),
            ("WEBAUTHN_ORIGINS", "example.com"),
            ("WEBAUTHN_USER_VERIFICATION", "always"),
        ] {
            assert_eq!(read_from(&[bad]).1.len(), 1, "{bad:?}");
        }
    }
}
