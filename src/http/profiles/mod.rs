//! Compatibility profiles (`API_PROFILE`): the five systems edge-auth replaces, each answered in its
//! own documented API over the unchanged core. A profile is data (`profiles/<name>.json`, compiled
//! in): the settings its document fixes, its endpoints (path, the use case, where each request field
//! comes from, the response body as a template) and its error bodies. This module finds the endpoint,
//! runs the use case the native API runs (`usecases`) and renders the result (`render`); nothing here
//! decides anything, so every rule of the core (rotation, revocation, timing and enumeration safety,
//! password storage) holds in every profile.

mod openapi;
pub mod render;
pub mod spec;

use super::usecases::{self, Outcome, UseCase};
use super::{cookies, response, Call};
use crate::adapters::Platform;
use edge_auth_core::AuthError;
pub use openapi::document as openapi_document;
use spec::{Endpoint, Profile};
use worker::{Headers, Response};

/// Every profile, by its `API_PROFILE` name.
const PROFILES: &[(&str, &str)] = &[
    ("pos", include_str!("../../../profiles/pos.json")),
    ("pharmacy", include_str!("../../../profiles/pharmacy.json")),
    ("pin-cookies", include_str!("../../../profiles/pin-cookies.json")),
    ("vinyl", include_str!("../../../profiles/vinyl.json")),
    ("accounts", include_str!("../../../profiles/accounts.json")),
];

/// The profile `API_PROFILE` names; `None` for the native API (`native` or unset).
pub fn load(name: &str) -> Result<Option<Profile>, String> {
    if name.is_empty() || name == "native" {
        return Ok(None);
    }
    let Some((_, text)) = PROFILES.iter().find(|(n, _)| *n == name) else {
        let known: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
        return Err(format!("API_PROFILE: unknown profile {name:?} (native, {})", known.join(", ")));
    };
    let profile: Profile =
        serde_json::from_str(text).map_err(|e| format!("profiles/{name}.json does not parse: {e}"))?;
    if profile.name != name {
        return Err(format!("profiles/{name}.json names itself {:?}", profile.name));
    }
    Ok(Some(profile))
}

/// Whether the profile's templates show the encrypted user data (it then needs `USER_DATA_KEY`).
pub fn needs_user_data_key(profile: &Profile) -> bool {
    profile.endpoints.iter().any(|e| e.respond.body.to_string().contains("\"$user_jwe\""))
}

/// The endpoint of `profile` at `method` and `rel` (the path below the base path): `Ok(None)` when
/// the profile does not describe the path, 405 when it does with other methods.
pub fn find<'a>(profile: &'a Profile, method: &str, rel: &str) -> Result<Option<&'a Endpoint>, AuthError> {
    let at_path: Vec<&Endpoint> = profile.endpoints.iter().filter(|e| e.path == rel).collect();
    if at_path.is_empty() {
        return Ok(None);
    }
    let wanted = if method == "HEAD" { "GET" } else { method };
    match at_path.iter().find(|e| e.method == wanted) {
        Some(endpoint) => Ok(Some(endpoint)),
        None => {
            let mut allow: Vec<&'static str> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .filter(|m| at_path.iter().any(|e| e.method == *m))
                .collect();
            if allow.contains(&"GET") {
                allow.push("HEAD");
            }
            allow.push("OPTIONS");
            Err(AuthError::MethodNotAllowed { allow })
        }
    }
}

/// Serves one of the profile's endpoints: the use case, then its template; every error in the
/// profile's bodies.
pub async fn serve(
    profile: &Profile,
    endpoint: &Endpoint,
    mut call: Call<'_>,
) -> (Response, Option<&'static str>) {
    let map = |body| render::map_request(endpoint, &profile.field_messages, body);
    let result = usecases::run(endpoint.does, &mut call, &map).await;
    let p = call.p;
    match result.and_then(|outcome| success(p, endpoint, outcome)) {
        Ok(response) => (response, None),
        Err(e) => {
            let response =
                error(p, profile, Some(endpoint), &e).unwrap_or_else(|| crate::error::problem_response(&e));
            // A dead refresh cookie is cleared, so the browser stops sending it (not on a 503).
            if endpoint.does == UseCase::Refresh && p.config.cookie_mode && e.status() == 401 {
                cookies::clear_tokens(response.headers(), &p.config);
            }
            (response, Some(e.code()))
        }
    }
}

fn success(p: &Platform, endpoint: &Endpoint, outcome: Outcome) -> Result<Response, AuthError> {
    let context = match &outcome {
        Outcome::Tokens(tokens) => render::tokens_context(&p.config, tokens),
        Outcome::User(user) => serde_json::json!({ "user": render::user_context(&p.config, user) }),
        Outcome::Done => serde_json::json!({}),
    };
    let body = render::render(&endpoint.respond.body, &context);
    let r = response::json(endpoint.respond.status.unwrap_or(200), &body);
    if p.config.cookie_mode {
        match (&outcome, endpoint.does) {
            (Outcome::Tokens(tokens), _) => cookies::set_tokens(r.headers(), &p.config, tokens),
            (_, UseCase::Logout) => cookies::clear_tokens(r.headers(), &p.config),
            _ => {}
        }
    }
    Ok(r)
}

/// The profile's response for `error`, when it has a body for it: always on its own endpoints
/// (`endpoint` given; `default` for codes it does not list), and for the `everywhere` codes on the
/// native endpoints under its base path.
pub fn error(
    p: &Platform,
    profile: &Profile,
    endpoint: Option<&Endpoint>,
    error: &AuthError,
) -> Option<Response> {
    let own = endpoint.is_some();
    if !own && !profile.everywhere.iter().any(|c| c == error.code()) {
        return None;
    }
    let template = render::error_template(endpoint, &profile.errors, error, own)?;
    if let Some(detail) = error.log_detail() {
        crate::log::error(error.code(), detail);
    }
    let _ = p;
    let body = render::render(&template.body, &render::error_context(error));
    let is_default = profile.errors.get("default").is_some_and(|d| std::ptr::eq(d, template));
    let r = response::json(render::error_status(template, is_default, error), &body);
    protocol_headers(r.headers(), error);
    Some(r)
}

/// The headers HTTP itself asks for, whatever the body: `WWW-Authenticate` on 401 [RFC 6750 §3],
/// `Retry-After` on 429 [RFC 6585 §4], `Allow` on 405 [RFC 9110 §15.5.6].
fn protocol_headers(headers: &Headers, error: &AuthError) {
    if let Some(bearer_error) = error.bearer_error() {
        response::set(
            headers,
            "WWW-Authenticate",
            &format!("Bearer realm=\"edge-auth\", error=\"{bearer_error}\""),
        );
    }
    match error {
        AuthError::RateLimited { retry_after } => {
            response::set(headers, "Retry-After", &retry_after.to_string())
        }
        AuthError::MethodNotAllowed { allow } => response::set(headers, "Allow", &allow.join(", ")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads_and_unknown_names_are_refused() {
        for (name, _) in PROFILES {
            let profile = load(name).unwrap().unwrap();
            assert!(!profile.endpoints.is_empty(), "{name}");
            assert!(profile.errors.contains_key("default"), "{name} has a default error body");
            for code in &profile.everywhere {
                assert!(profile.errors.contains_key(code), "{name}: everywhere code {code} has a body");
            }
            assert!(profile.endpoints.iter().any(|e| e.does == UseCase::Profile), "{name} has GET /profile");
        }
        assert!(load("native").unwrap().is_none());
        assert!(load("").unwrap().is_none());
        assert!(load("nope").is_err());
    }

    #[test]
    fn endpoints_are_found_by_path_and_method() {
        let vinyl = load("vinyl").unwrap().unwrap();
        assert_eq!(find(&vinyl, "POST", "/login").unwrap().unwrap().does, UseCase::Login);
        assert!(find(&vinyl, "POST", "/sessions").unwrap().is_none(), "native paths stay native");
        assert_eq!(
            find(&vinyl, "GET", "/login").unwrap_err(),
            AuthError::MethodNotAllowed { allow: vec!["POST", "OPTIONS"] }
        );
        assert_eq!(find(&vinyl, "HEAD", "/profile").unwrap().unwrap().does, UseCase::Profile);
    }

    #[test]
    fn only_the_accounts_profile_needs_the_user_data_key() {
        for (name, _) in PROFILES {
            assert_eq!(needs_user_data_key(&load(name).unwrap().unwrap()), *name == "accounts", "{name}");
        }
    }
}
