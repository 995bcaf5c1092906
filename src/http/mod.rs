//! The HTTP layer: resolve the route, authenticate as the route table says, run its handler, render
//! the result. Handlers parse, call the core, and render; they decide nothing themselves.

mod admin;
mod auth;
mod body;
mod cookies;
mod cors;
mod handlers;
pub mod response;
mod routes;

use crate::adapters::Platform;
use crate::error::problem_response;
use edge_auth_core::roles;
use edge_auth_core::token::VerifiedAccess;
use edge_auth_core::AuthError;
use routes::{Access, Route};
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
    let method = req.method().to_string().to_ascii_uppercase();
    let path = req.path();
    let config = match crate::config::load(&env) {
        Ok(c) => c,
        Err(_) => {
            let error = AuthError::Unavailable("configuration invalid (see log)".into());
            let r = problem_response(&error);
            response::set(r.headers(), "X-Request-Id", &request_id);
            crate::log::request(&request_id, &method, &path, 503, Some(error.code()), 0);
            return r;
        }
    };
    let origin = cors::request_origin(&req);
    let platform = Platform::new(&env, config);
    let config = &platform.config;

    let result = if path == routes::PANIC_PROBE_PATH && crate::config::panic_probe(&env) {
        panic!("panic probe: a deliberate panic (PANIC_PROBE=on, development only)");
    } else {
        match routes::resolve(&method, &path, &config.base_path) {
            Ok(resolved) => dispatch(req, &platform, &ctx, resolved, &path).await,
            Err(e) => Err(e),
        }
    };
    let code = result.as_ref().err().map(|e| e.code());
    let response = result.unwrap_or_else(|e| problem_response(&e));
    response::set(response.headers(), "X-Request-Id", &request_id);
    let millis = worker::Date::now().as_millis().saturating_sub(started);
    crate::log::request(&request_id, &method, &path, response.status_code(), code, millis);
    if method == "OPTIONS" && response.status_code() == 204 {
        let methods = routes::allowed_methods(&path, &config.base_path);
        cors::preflight(response.headers(), config, origin.as_deref(), &methods);
    }
    cors::decorate(response.headers(), config, origin.as_deref());
    if method == "HEAD" {
        // Same status and headers as GET, no body.
        return response::without_body(response);
    }
    response
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
        Access::Needs(permission) => {
            let access = auth::authenticate(&req, p).await?;
            roles::require(&access.claims.role, permission)?;
            Some(access)
        }
    };
    let call = Call { req, p, ctx, access, param: resolved.param };
    match resolved.route {
        Route::Options => {
            let allow = routes::allowed_methods(path, &p.config.base_path).join(", ");
            Ok(response::no_content(&[("Allow", &allow)]))
        }
        Route::Health => handlers::health(p).await,
        Route::OpenApi => handlers::openapi(p),
        Route::Jwks => Ok(handlers::jwks(p)),
        Route::Login => handlers::login(call).await,
        Route::Refresh => handlers::refresh(call).await,
        Route::Logout => handlers::logout(call).await,
        Route::LogoutAll => handlers::logout_all(call).await,
        Route::Profile => handlers::profile(call).await,
        Route::ListSessions => handlers::list_sessions(call).await,
        Route::DeleteSession => handlers::delete_session(call).await,
        Route::Signup => handlers::signup(call).await,
        Route::ChangePassword => handlers::change_password(call).await,
        Route::ForgotPassword => handlers::forgot_password(call).await,
        Route::ResetPassword => handlers::reset_password(call).await,
        Route::AdminListUsers => admin::list(call).await,
        Route::AdminCreateUser => admin::create(call).await,
        Route::AdminImportUsers => admin::import(call).await,
        Route::AdminGetUser => admin::get(call).await,
        Route::AdminUpdateUser => admin::update(call).await,
        Route::AdminDeleteUser => admin::delete(call).await,
        Route::AdminRevokeSessions => admin::revoke_sessions(call).await,
    }
}
