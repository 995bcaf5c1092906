//! Every route in one place: the table below maps (method, path) to a handler and says who may call
//! it. The dispatcher authenticates once, from this table, before any handler runs (and before any
//! body is read, so a caller without the right learns nothing from 400s). Resolution is pure, so
//! 404 vs 405 is decided (and unit-tested) without a Worker.

use edge_auth_core::roles::Permission;
use edge_auth_core::AuthError;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the handler may still need a token of another kind, e.g. a refresh token).
    Public,
    /// Any signed-in user: a valid, unrevoked access token.
    Signed,
    /// A signed-in user whose role has this permission (else 403).
    Needs(Permission),
    /// A signed-in user, or one whose role must set up a second factor before signing in, holding the
    /// enrolment `mfa_token` of its login (the TOTP set-up endpoints only).
    SignedOrEnrolling,
}

/// The endpoints this Worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Jwks,
    ReturnOrigins,
    OpenApi,
    Login,
    Refresh,
    Logout,
    LogoutAll,
    Profile,
    ListSessions,
    DeleteSession,
    Signup,
    ChangePassword,
    ForgotPassword,
    ResetPassword,
    /// `PATCH /me`: the caller's display name and address (email verification).
    UpdateMe,
    VerifyEmail,
    ResendVerification,
    AdminListUsers,
    AdminCreateUser,
    AdminImportUsers,
    AdminGetUser,
    AdminUpdateUser,
    AdminDeleteUser,
    AdminRevokeSessions,
    AdminResetMfa,
    /// `GET /admin/events`: the audit log.
    AdminListEvents,
    /// `GET /me/sign-ins`: the caller's recent sign-in steps.
    MySignIns,
    MfaTotpSetup,
    MfaTotpEnable,
    MfaTotpDisable,
    MfaRecoveryCodes,
    MfaVerify,
    PasskeyRegisterOptions,
    PasskeyRegister,
    PasskeyLoginOptions,
    PasskeyLogin,
    ListPasskeys,
    RenamePasskey,
    DeletePasskey,
    /// CORS preflight / capability probe on any known path.
    Options,
}

/// Where a route's D1 reads may come from (D1 read replication; docs/storage.md, "Read
/// replication", says why each is safe). The one place this is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The session starts at the primary, and a client's bookmark is ignored (a bookmark only says
    /// "at least this new", which may be older than the primary). What decides who gets in or gets a
    /// token, what writes, and the admin API.
    Primary,
    /// The session starts at the nearest replica, or at the client's bookmark: reads that may be a
    /// little behind. The caller's revocation is still checked in KV first, and a row the replica
    /// misses is read again at the primary (`D1Store::lookup`).
    MayLag,
}

/// Where `route`'s D1 session starts. Exhaustive on purpose: a new route must be placed here.
pub fn reads(route: Route) -> Reads {
    use Reads::{MayLag, Primary};
    match route {
        // The caller's own data, read only; a stale answer shows data the caller may see anyway.
        Route::Profile | Route::ListSessions | Route::ListPasskeys => MayLag,
        // The caller's own recent sign-ins: a history, written after responses anyway.
        Route::MySignIns => MayLag,
        // Options only: the ceremony that follows (register, login) runs at the primary, takes the
        // challenge there, and checks the caller again.
        Route::PasskeyRegisterOptions | Route::PasskeyLoginOptions => MayLag,
        // No D1 at all.
        Route::OpenApi | Route::Jwks | Route::ReturnOrigins | Route::Options => MayLag,
        // Sign-in and tokens: what they read decides who gets in.
        Route::Login | Route::Refresh | Route::MfaVerify | Route::PasskeyLogin => Primary,
        // Revocations and every other write: the read before a write must see the latest row.
        Route::Logout | Route::LogoutAll | Route::DeleteSession => Primary,
        Route::Signup | Route::ChangePassword | Route::ForgotPassword | Route::ResetPassword => Primary,
        Route::UpdateMe | Route::VerifyEmail | Route::ResendVerification => Primary,
        Route::MfaTotpSetup | Route::MfaTotpEnable | Route::MfaTotpDisable | Route::MfaRecoveryCodes => {
            Primary
        }
        Route::PasskeyRegister | Route::RenamePasskey | Route::DeletePasskey => Primary,
        // The admin API, reads included: its caller check must see a revocation at once, even one
        // KV has not got (docs/security.md S8); the reads after it in the same session are then at
        // least as new as the primary was.
        Route::AdminListUsers | Route::AdminGetUser | Route::AdminListEvents => Primary,
        Route::AdminCreateUser
        | Route::AdminImportUsers
        | Route::AdminUpdateUser
        | Route::AdminDeleteUser => Primary,
        Route::AdminRevokeSessions | Route::AdminResetMfa => Primary,
        // Health reports the primary's schema and outbox.
        Route::Health => Primary,
    }
}

/// The native route a profile's endpoint stands for (the same use case, so the same `reads`).
pub fn route_of(use_case: super::usecases::UseCase) -> Route {
    use super::usecases::UseCase;
    match use_case {
        UseCase::Login => Route::Login,
        UseCase::Refresh => Route::Refresh,
        UseCase::Logout => Route::Logout,
        UseCase::Profile => Route::Profile,
        UseCase::Signup => Route::Signup,
        UseCase::ChangePassword => Route::ChangePassword,
        UseCase::ForgotPassword => Route::ForgotPassword,
        UseCase::ResetPassword => Route::ResetPassword,
    }
}

type Table = &'static [(&'static str, &'static [(&'static str, Route, Access)])];

use Access::{Needs, Public, Signed, SignedOrEnrolling};
use Permission::{ManageUsers, ReadUsers};

/// Paths relative to `BASE_PATH` (`{id}` matches one non-empty segment), with their methods.
const AUTH_ROUTES: Table = &[
    ("/login", &[("POST", Route::Login, Public)]),
    ("/refresh", &[("POST", Route::Refresh, Public)]),
    ("/logout", &[("POST", Route::Logout, Signed)]),
    ("/logout-all", &[("POST", Route::LogoutAll, Signed)]),
    ("/sessions", &[("GET", Route::ListSessions, Signed)]),
    ("/sessions/{id}", &[("DELETE", Route::DeleteSession, Signed)]),
    ("/profile", &[("GET", Route::Profile, Signed)]),
    ("/me", &[("GET", Route::Profile, Signed), ("PATCH", Route::UpdateMe, Signed)]),
    ("/me/sign-ins", &[("GET", Route::MySignIns, Signed)]),
    ("/openapi.json", &[("GET", Route::OpenApi, Public)]),
    // Where the hosted pages may send a person after sign-in (`?return_to=`): CORS_ORIGINS.
    ("/return-origins", &[("GET", Route::ReturnOrigins, Public)]),
    ("/signup", &[("POST", Route::Signup, Public)]),
    ("/change-password", &[("PUT", Route::ChangePassword, Signed)]),
    ("/forgot-password", &[("POST", Route::ForgotPassword, Public)]),
    ("/reset-password", &[("POST", Route::ResetPassword, Public)]),
    ("/verify-email", &[("POST", Route::VerifyEmail, Public)]),
    ("/verify-email/resend", &[("POST", Route::ResendVerification, Signed)]),
    (
        "/admin/users",
        &[
            ("GET", Route::AdminListUsers, Needs(ReadUsers)),
            ("POST", Route::AdminCreateUser, Needs(ManageUsers)),
        ],
    ),
    // Before `{id}`: ids are 22 random base64url characters, never "import".
    ("/admin/users/import", &[("POST", Route::AdminImportUsers, Needs(ManageUsers))]),
    (
        "/admin/users/{id}",
        &[
            ("GET", Route::AdminGetUser, Needs(ReadUsers)),
            ("PATCH", Route::AdminUpdateUser, Needs(ManageUsers)),
            ("DELETE", Route::AdminDeleteUser, Needs(ManageUsers)),
        ],
    ),
    ("/admin/users/{id}/revoke-sessions", &[("POST", Route::AdminRevokeSessions, Needs(ManageUsers))]),
    ("/admin/users/{id}/mfa", &[("DELETE", Route::AdminResetMfa, Needs(ManageUsers))]),
    ("/admin/events", &[("GET", Route::AdminListEvents, Needs(ReadUsers))]),
    ("/mfa/totp/setup", &[("POST", Route::MfaTotpSetup, SignedOrEnrolling)]),
    ("/mfa/totp/enable", &[("POST", Route::MfaTotpEnable, SignedOrEnrolling)]),
    ("/mfa/totp/disable", &[("POST", Route::MfaTotpDisable, Signed)]),
    ("/mfa/recovery-codes", &[("POST", Route::MfaRecoveryCodes, Signed)]),
    // Public: the caller has no access token yet, only the `mfa_token` of its login.
    ("/mfa/verify", &[("POST", Route::MfaVerify, Public)]),
    // Passkeys (docs/passkeys.md). Registration like the TOTP set-up: signed in, or enrolling.
    ("/passkeys", &[("GET", Route::ListPasskeys, Signed)]),
    ("/passkeys/register/options", &[("POST", Route::PasskeyRegisterOptions, SignedOrEnrolling)]),
    ("/passkeys/register", &[("POST", Route::PasskeyRegister, SignedOrEnrolling)]),
    ("/passkeys/login/options", &[("POST", Route::PasskeyLoginOptions, Public)]),
    ("/passkeys/login", &[("POST", Route::PasskeyLogin, Public)]),
    ("/passkeys/{id}", &[("PATCH", Route::RenamePasskey, Signed), ("DELETE", Route::DeletePasskey, Signed)]),
];

/// Absolute paths outside `BASE_PATH`.
const ROOT_ROUTES: Table = &[
    ("/health", &[("GET", Route::Health, Public)]),
    ("/.well-known/jwks.json", &[("GET", Route::Jwks, Public)]),
];

/// A diagnostic route that panics on purpose, so tests can prove what a panic leaves behind. Served
/// only when `ENVIRONMENT=development` and `PANIC_PROBE=on` (config), otherwise it does not exist.
pub const PANIC_PROBE_PATH: &str = "/__edge-auth/panic";

/// A resolved route, who may call it, and its path parameter, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub route: Route,
    pub access: Access,
    pub param: Option<String>,
}

/// Finds the route for `method` and `path`: 404 when no path matches, 405 (with `Allow`) when the path
/// exists with other methods. `HEAD` is served as `GET` would be; `OPTIONS` is answered for any known path.
pub fn resolve(method: &str, path: &str, base_path: &str) -> Result<Resolved, AuthError> {
    let candidates = path
        .strip_prefix(base_path)
        .filter(|rest| rest.starts_with('/'))
        .map(|rest| (rest, AUTH_ROUTES))
        .into_iter()
        .chain(std::iter::once((path, ROOT_ROUTES)));
    for (rel, table) in candidates {
        for (pattern, methods) in table {
            let Some(param) = match_path(pattern, rel) else { continue };
            if method == "OPTIONS" {
                return Ok(Resolved { route: Route::Options, access: Public, param });
            }
            let wanted = if method == "HEAD" { "GET" } else { method };
            return match methods.iter().find(|(m, _, _)| *m == wanted) {
                Some((_, route, access)) => Ok(Resolved { route: *route, access: *access, param }),
                None => Err(AuthError::MethodNotAllowed { allow: allowed(methods) }),
            };
        }
    }
    Err(AuthError::NotFound)
}

/// The `Allow` list of the path matching `path`, for OPTIONS answers.
pub fn allowed_methods(path: &str, base_path: &str) -> Vec<&'static str> {
    match resolve("__probe__", path, base_path) {
        Err(AuthError::MethodNotAllowed { allow }) => allow,
        _ => vec!["OPTIONS"],
    }
}

fn allowed(methods: &[(&'static str, Route, Access)]) -> Vec<&'static str> {
    let mut allow: Vec<&'static str> = methods.iter().map(|(m, _, _)| *m).collect();
    if allow.contains(&"GET") {
        allow.push("HEAD");
    }
    allow.push("OPTIONS");
    allow
}

/// `Some(param)` when `path` matches `pattern` (`Some(None)` without a parameter).
fn match_path(pattern: &str, path: &str) -> Option<Option<String>> {
    let mut param = None;
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some(param),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => param = Some(seg.to_string()),
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_resolve_under_the_base_path() {
        assert_eq!(resolve("POST", "/auth/login", "/auth").unwrap().route, Route::Login);
        assert_eq!(resolve("GET", "/auth/me", "/auth").unwrap().route, Route::Profile);
        assert_eq!(resolve("GET", "/api/auth/profile", "/api/auth").unwrap().route, Route::Profile);
        assert_eq!(resolve("GET", "/health", "/auth").unwrap().route, Route::Health);
        assert_eq!(resolve("HEAD", "/health", "/auth").unwrap().route, Route::Health);
    }

    #[test]
    fn path_parameters_are_captured() {
        let r = resolve("GET", "/auth/admin/users/abc123", "/auth").unwrap();
        assert_eq!((r.route, r.param.as_deref()), (Route::AdminGetUser, Some("abc123")));
        assert_eq!(resolve("GET", "/auth/admin/users/", "/auth"), Err(AuthError::NotFound));
        assert_eq!(resolve("GET", "/auth/admin/users/a/b", "/auth"), Err(AuthError::NotFound));
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        assert_eq!(resolve("GET", "/auth/nope", "/auth"), Err(AuthError::NotFound));
        assert_eq!(resolve("POST", "/login", "/auth"), Err(AuthError::NotFound));
        assert_eq!(resolve("GET", "/authlogin", "/auth"), Err(AuthError::NotFound));
        assert_eq!(resolve("GET", "/auth/login/", "/auth"), Err(AuthError::NotFound));
        assert_eq!(
            resolve("GET", "/auth/login", "/auth"),
            Err(AuthError::MethodNotAllowed { allow: vec!["POST", "OPTIONS"] })
        );
        assert_eq!(
            resolve("POST", "/auth/admin/users/import", "/auth").unwrap().route,
            Route::AdminImportUsers
        );
        assert_eq!(resolve("PATCH", "/auth/admin/users/x1", "/auth").unwrap().route, Route::AdminUpdateUser);
        assert_eq!(
            resolve("DELETE", "/auth/profile", "/auth"),
            Err(AuthError::MethodNotAllowed { allow: vec!["GET", "HEAD", "OPTIONS"] })
        );
    }

    #[test]
    fn access_is_declared_per_route() {
        let access = |m, p| resolve(m, p, "/auth").unwrap().access;
        assert_eq!(access("POST", "/auth/login"), Public);
        assert_eq!(access("POST", "/auth/refresh"), Public);
        assert_eq!(access("GET", "/auth/me"), Signed);
        assert_eq!(access("POST", "/auth/logout"), Signed);
        assert_eq!(access("GET", "/auth/admin/users"), Needs(ReadUsers));
        assert_eq!(access("GET", "/auth/admin/users/x1"), Needs(ReadUsers));
        assert_eq!(access("POST", "/auth/admin/users"), Needs(ManageUsers));
        assert_eq!(access("PATCH", "/auth/admin/users/x1"), Needs(ManageUsers));
        assert_eq!(access("POST", "/auth/admin/users/import"), Needs(ManageUsers));
        assert_eq!(access("GET", "/health"), Public);
        assert_eq!(access("PATCH", "/auth/me"), Signed);
        assert_eq!(access("POST", "/auth/verify-email"), Public);
        assert_eq!(access("POST", "/auth/verify-email/resend"), Signed);
    }

    #[test]
    fn every_admin_route_needs_a_permission_and_every_session_route_a_token() {
        for (pattern, methods) in AUTH_ROUTES {
            for (method, _, access) in *methods {
                if pattern.starts_with("/admin/") {
                    assert!(matches!(access, Needs(_)), "{method} {pattern} must need a permission");
                }
                if pattern.starts_with("/sessions") || *pattern == "/logout-all" {
                    assert_eq!(*access, Signed, "{method} {pattern}");
                }
                if *method != "GET" && pattern.starts_with("/admin/") {
                    assert_eq!(*access, Needs(ManageUsers), "{method} {pattern} writes");
                }
            }
        }
    }

    #[test]
    fn options_is_answered_for_known_paths_only() {
        assert_eq!(resolve("OPTIONS", "/auth/login", "/auth").unwrap().route, Route::Options);
        assert_eq!(resolve("OPTIONS", "/auth/zzz", "/auth"), Err(AuthError::NotFound));
        assert_eq!(allowed_methods("/auth/login", "/auth"), vec!["POST", "OPTIONS"]);
    }
}

#[cfg(test)]
mod reads_tests {
    use super::*;

    /// Every route of the tables, and where its D1 session starts.
    #[test]
    fn every_route_has_its_place_and_only_the_listed_ones_may_lag() {
        let may_lag = [
            "GET /profile",
            "GET /me",
            "GET /sessions",
            "GET /passkeys",
            "GET /me/sign-ins",
            "POST /passkeys/register/options",
            "POST /passkeys/login/options",
            "GET /openapi.json",
            "GET /return-origins",
            "GET /.well-known/jwks.json",
        ];
        let mut seen = Vec::new();
        for (pattern, methods) in AUTH_ROUTES.iter().chain(ROOT_ROUTES) {
            for (method, route, _) in *methods {
                let name = format!("{method} {pattern}");
                let expected = if may_lag.contains(&name.as_str()) { Reads::MayLag } else { Reads::Primary };
                assert_eq!(reads(*route), expected, "{name}");
                seen.push(name);
            }
        }
        for name in may_lag {
            assert!(seen.iter().any(|s| s == name), "{name} is not a route");
        }
        assert_eq!(seen.len(), 41, "a route was added: place it in `reads` and in this test");
    }

    #[test]
    fn what_signs_in_revokes_or_writes_starts_at_the_primary() {
        for route in [
            Route::Login,
            Route::Refresh,
            Route::Logout,
            Route::LogoutAll,
            Route::MfaVerify,
            Route::PasskeyLogin,
            Route::PasskeyRegister,
            Route::Signup,
            Route::ChangePassword,
            Route::ResetPassword,
            Route::Health,
            Route::AdminListUsers,
            Route::AdminGetUser,
        ] {
            assert_eq!(reads(route), Reads::Primary, "{route:?}");
        }
        // Every method but GET writes, except the two option endpoints (their ceremony is exact).
        for (pattern, methods) in AUTH_ROUTES.iter().chain(ROOT_ROUTES) {
            for (method, route, _) in *methods {
                if *method != "GET" && !pattern.ends_with("/options") {
                    assert_eq!(reads(*route), Reads::Primary, "{method} {pattern}");
                }
            }
        }
    }

    #[test]
    fn a_profile_endpoint_reads_like_its_native_route() {
        use super::super::usecases::UseCase;
        assert_eq!(reads(route_of(UseCase::Profile)), Reads::MayLag);
        for u in [
            UseCase::Login,
            UseCase::Refresh,
            UseCase::Logout,
            UseCase::Signup,
            UseCase::ChangePassword,
            UseCase::ForgotPassword,
            UseCase::ResetPassword,
        ] {
            assert_eq!(reads(route_of(u)), Reads::Primary, "{u:?}");
        }
        assert_eq!(reads(Route::Options), Reads::MayLag, "a preflight reads nothing");
    }
}

#[cfg(test)]
mod openapi_tests {
    use super::{AUTH_ROUTES, ROOT_ROUTES};

    /// The OpenAPI document describes every route this table serves, with every method, so the
    /// contract cannot silently fall behind the code.
    #[test]
    fn every_route_and_method_is_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap();
        for (pattern, methods) in AUTH_ROUTES.iter().chain(ROOT_ROUTES) {
            let item = &doc["paths"][pattern];
            assert!(item.is_object(), "{pattern} is missing from docs/openapi.json");
            for (method, _, _) in *methods {
                let op = &item[method.to_ascii_lowercase()];
                assert!(op.is_object(), "{method} {pattern} is missing from docs/openapi.json");
                assert!(op["responses"].is_object(), "{method} {pattern} documents no responses");
            }
        }
    }
}
