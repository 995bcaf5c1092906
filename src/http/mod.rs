//! The HTTP layer: resolve the route, authenticate as the route table says, run its handler, render
//! the result. Handlers parse, call the core, and render; they decide nothing themselves.

mod admin;
mod auth;
mod body;
mod bookmark;
mod contract;
mod cookies;
mod cors;
mod email;
mod handlers;
mod health;
mod mfa;
mod passkeys;
pub mod profiles;
pub mod response;
mod routes;
mod usecases;

use crate::adapters::{D1Start, Platform};
use crate::error::problem_response;
use edge_auth_core::audit::RequestMeta;
use edge_auth_core::roles;
use edge_auth_core::token::VerifiedAccess;
use edge_auth_core::AuthError;
use routes::{Access, Reads, Route};
use usecases::UseCase;
use worker::{Context, Env, Request, Response};

/// One request on its way through a handler: the request (its body not yet read), the platform,
/// the caller (when the route needs one) and the path parameter.
pub struct Call<'a> {
    pub req: Request,
    pub p: &'a Platform,
    pub ctx: &'a Context,
    access: Option<VerifiedAccess>,
    param: Option<String>,
}

impl Call<'_> {
    /// The authenticated caller. Only routes declared `Signed` or `Needs` have one; the dispatcher
    /// has authenticated it already.
    pub fn access(&self) -> Result<&VerifiedAccess, AuthError> {
        self.access.as_ref().ok_or_else(|| AuthError::Internal("route declared Public needs a caller".into()))
    }

    /// The `{id}` of the path.
    pub fn param(&self) -> Result<&str, AuthError> {
        self.param.as_deref().ok_or(AuthError::NotFound)
    }
}

/// Cloudflare's ray id when there is one, so our log lines join Cloudflare's; else a random one.
pub fn request_id(req: &Request) -> String {
    req.headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| edge_auth_core::random::token(8))
}

/// Handles one request. Never fails: every error becomes a problem response.
pub async fn handle(req: Request, env: Env, ctx: Context, request_id: String) -> Response {
    let started = worker::Date::now().as_millis();
    // The method as sent: `worker::Method` maps every method it does not know (e.g. `QUERY`) to GET,
    // which would serve a GET route to it instead of 405.
    let method = req.inner().method().to_ascii_uppercase();
    let path = req.path();
    let loaded = match crate::config::load(&env) {
        Ok(loaded) => loaded,
        Err(_) => {
            let error = AuthError::Unavailable("configuration invalid (see log)".into());
            let r = problem_response(&error);
            response::set(r.headers(), "X-Request-Id", &request_id);
            crate::log::request(&request_id, &method, &path, 503, Some(error.code()), 0);
            return r;
        }
    };
    let origin = cors::request_origin(&req);
    let client = usecases::client_info(&req);
    let meta =
        RequestMeta { request_id: Some(request_id.clone()), ip: client.ip, user_agent: client.user_agent };
    let start = d1_start(&req, &loaded, &method, &path);
    let platform = Platform::new(&env, loaded, &start).for_request(meta);
    let config = &platform.config;

    let (response, code) = if path == routes::PANIC_PROBE_PATH && crate::config::panic_probe(&env) {
        panic!("panic probe: a deliberate panic (PANIC_PROBE=on, development only)");
    } else {
        route(req, &platform, &ctx, &method, &path).await
    };
    // Taken before the work after the response: the bookmark covers what the client asked for.
    if let Some(b) = platform.d1_bookmark() {
        bookmark::send(response.headers(), config, response.status_code(), &b);
    }
    // The outbox's bookkeeping, and its retries when this isolate saw a KV write fail.
    platform.after_response(&ctx);
    response::set(response.headers(), "X-Request-Id", &request_id);
    let millis = worker::Date::now().as_millis().saturating_sub(started);
    crate::log::request(&request_id, &method, &path, response.status_code(), code, millis);
    if method == "OPTIONS" && response.status_code() == 204 {
        let methods = allowed_methods(&platform, &path);
        cors::preflight(response.headers(), config, origin.as_deref(), &methods);
    }
    cors::decorate(response.headers(), config, origin.as_deref());
    if method == "HEAD" {
        // Same status and headers as GET, no body.
        return response::without_body(response);
    }
    response
}

/// Where this request's D1 session starts: at the primary unless its route's reads may lag
/// (`routes::reads`, the profile's endpoint standing for its native route); then at the client's
/// bookmark when it sent a valid one, else at the nearest replica. Unknown paths read nothing.
fn d1_start(req: &Request, loaded: &crate::config::Loaded, method: &str, path: &str) -> D1Start {
    let base = loaded.config.base_path.as_str();
    let profiled = loaded.profile.as_ref().and_then(|profile| {
        let rel = path.strip_prefix(base).filter(|r| r.starts_with('/'))?;
        profiles::find(profile, method, rel).ok().flatten().map(|e| routes::route_of(e.does))
    });
    let route = profiled.or_else(|| routes::resolve(method, path, base).ok().map(|r| r.route));
    match route.map(routes::reads) {
        Some(Reads::MayLag) => match bookmark::from_request(req, &loaded.config) {
            Some(b) => D1Start::Bookmark(b),
            None => D1Start::Nearest,
        },
        _ => D1Start::Primary,
    }
}

/// The profile's endpoint when the active profile describes the path, else the native route; every
/// error rendered in the profile's body where it has one, else as a problem.
async fn route(
    req: Request,
    p: &Platform,
    ctx: &Context,
    method: &str,
    path: &str,
) -> (Response, Option<&'static str>) {
    let base = p.config.base_path.as_str();
    if let (Some(profile), Some(rel)) = (&p.profile, path.strip_prefix(base).filter(|r| r.starts_with('/'))) {
        match profiles::find(profile, method, rel) {
            Ok(Some(endpoint)) if method != "OPTIONS" => {
                let access = match endpoint.does.needs_caller() {
                    true => match auth::authenticate(&req, p).await {
                        Ok(access) => Some(access),
                        Err(e) => {
                            let r = profiles::error(p, profile, Some(endpoint), &e)
                                .unwrap_or_else(|| problem_response(&e));
                            return (r, Some(e.code()));
                        }
                    },
                    false => None,
                };
                return profiles::serve(profile, endpoint, Call { req, p, ctx, access, param: None }).await;
            }
            Ok(Some(_)) | Err(_) if method == "OPTIONS" => {
                let allow = allowed_methods(p, path).join(", ");
                return (response::no_content(&[("Allow", &allow)]), None);
            }
            Err(e) => {
                return (
                    profiles::error(p, profile, None, &e).unwrap_or_else(|| problem_response(&e)),
                    Some(e.code()),
                )
            }
            Ok(_) => {}
        }
    }
    let result = match routes::resolve(method, path, base) {
        Ok(resolved) => dispatch(req, p, ctx, resolved, path).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => (r, None),
        Err(e) => {
            let rendered = p.profile.as_ref().and_then(|profile| profiles::error(p, profile, None, &e));
            (rendered.unwrap_or_else(|| problem_response(&e)), Some(e.code()))
        }
    }
}

/// The methods a path answers: the profile's endpoints there and the native routes.
fn allowed_methods(p: &Platform, path: &str) -> Vec<&'static str> {
    let mut allow = routes::allowed_methods(path, &p.config.base_path);
    if let (Some(profile), Some(rel)) = (&p.profile, path.strip_prefix(p.config.base_path.as_str())) {
        if let Err(AuthError::MethodNotAllowed { allow: theirs }) = profiles::find(profile, "__probe__", rel)
        {
            for m in theirs {
                if !allow.contains(&m) {
                    allow.insert(allow.len().saturating_sub(1), m);
                }
            }
        }
    }
    allow
}

/// Authenticates as the route declares, then runs its handler.
async fn dispatch(
    req: Request,
    p: &Platform,
    ctx: &Context,
    resolved: routes::Resolved,
    path: &str,
) -> Result<Response, AuthError> {
    let access = match resolved.access {
        Access::Public => None,
        Access::Signed => Some(auth::authenticate(&req, p).await?),
        Access::SignedOrEnrolling => Some(auth::authenticate_or_enrolling(&req, p).await?),
        Access::Needs(permission) => {
            let access = auth::authenticate(&req, p).await?;
            roles::require(&access.claims.role, permission)?;
            Some(access)
        }
    };
    let call = Call { req, p, ctx, access, param: resolved.param };
    match resolved.route {
        Route::Options => {
            let allow = allowed_methods(p, path).join(", ");
            Ok(response::no_content(&[("Allow", &allow)]))
        }
        Route::Health => health::health(call).await,
        Route::OpenApi => handlers::openapi(p),
        Route::Jwks => Ok(handlers::jwks(p)),
        Route::ReturnOrigins => Ok(handlers::return_origins(p)),
        Route::Login => handlers::tokens(call, UseCase::Login).await,
        Route::Refresh => handlers::tokens(call, UseCase::Refresh).await,
        Route::Logout => handlers::logout(call).await,
        Route::LogoutAll => handlers::logout_all(call).await,
        Route::Profile => handlers::profile(call).await,
        Route::ListSessions => handlers::list_sessions(call).await,
        Route::DeleteSession => handlers::delete_session(call).await,
        Route::Signup => handlers::tokens(call, UseCase::Signup).await,
        Route::ChangePassword => handlers::tokens(call, UseCase::ChangePassword).await,
        Route::ForgotPassword => handlers::forgot_password(call).await,
        Route::ResetPassword => handlers::reset_password(call).await,
        Route::UpdateMe => email::update_me(call).await,
        Route::VerifyEmail => email::verify_email(call).await,
        Route::ResendVerification => email::resend(call).await,
        Route::AdminListUsers => admin::list(call).await,
        Route::AdminCreateUser => admin::create(call).await,
        Route::AdminImportUsers => admin::import(call).await,
        Route::AdminGetUser => admin::get(call).await,
        Route::AdminUpdateUser => admin::update(call).await,
        Route::AdminDeleteUser => admin::delete(call).await,
        Route::AdminRevokeSessions => admin::revoke_sessions(call).await,
        Route::AdminResetMfa => admin::reset_mfa(call).await,
        Route::AdminListEvents => admin::events(call).await,
        Route::MySignIns => handlers::sign_ins(call).await,
        Route::MfaTotpSetup => mfa::setup(call).await,
        Route::MfaTotpEnable => mfa::enable(call).await,
        Route::MfaTotpDisable => mfa::disable(call).await,
        Route::MfaRecoveryCodes => mfa::recovery_codes(call).await,
        Route::MfaVerify => mfa::verify(call).await,
        Route::PasskeyRegisterOptions => passkeys::register_options(call).await,
        Route::PasskeyRegister => passkeys::register(call).await,
        Route::PasskeyLoginOptions => passkeys::login_options(call).await,
        Route::PasskeyLogin => passkeys::login(call).await,
        Route::ListPasskeys => passkeys::list(call).await,
        Route::RenamePasskey => passkeys::rename(call).await,
        Route::DeletePasskey => passkeys::delete(call).await,
    }
}
