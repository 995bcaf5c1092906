//! The HTTP layer: resolve the route, run its handler, render the result. Handlers parse, call the
//! core, and render; they decide nothing themselves.

mod admin;
mod auth;
mod body;
mod cookies;
mod cors;
mod handlers;
pub mod response;
mod routes;
mod url;

use crate::adapters::bindings::{now_millis, Context, Env, Request};
use crate::adapters::Platform;
use crate::error::problem_response;
use edge_auth_core::AuthError;
use response::Response;
use routes::Route;

/// Handles one request. Never fails: every error becomes a problem response.
pub async fn handle(req: Request, env: Env, ctx: &Context) -> Response {
    let config = match crate::config::load(&env).await {
        Ok(c) => c,
        Err(_) => {
            let error = AuthError::Unavailable("configuration invalid (see log)".into());
            let r = problem_response(&error);
            let id = request_id(&req);
            r.headers().set("X-Request-Id", &id);
            let method = req.method().to_ascii_uppercase();
            crate::log::request(&id, &method, &url::path(&req.url()), 503, Some(error.code()), 0);
            return r;
        }
    };
    let started = now_millis();
    let method = req.method().to_ascii_uppercase();
    let path = url::path(&req.url());
    let request_id = request_id(&req);
    let origin = cors::request_origin(&req);
    let platform = Platform::new(env, config);
    let config = &platform.config;

    let result = match routes::resolve(&method, &path, &config.base_path) {
        Ok(resolved) => dispatch(req, &platform, ctx, resolved.route, resolved.param.as_deref(), &path).await,
        Err(e) => Err(e),
    };
    let code = result.as_ref().err().map(|e| e.code());
    let response = result.unwrap_or_else(|e| problem_response(&e));
    response.headers().set("X-Request-Id", &request_id);
    let millis = now_millis().saturating_sub(started);
    crate::log::request(&request_id, &method, &path, response.status_code(), code, millis);
    if method == "OPTIONS" && response.status_code() == 204 {
        let methods = routes::allowed_methods(&path, &config.base_path);
        cors::preflight(response.headers(), config, origin.as_deref(), &methods);
    }
    cors::decorate(response.headers(), config, origin.as_deref());
    if method == "HEAD" {
        // Same status and headers as GET, no body.
        return response.without_body();
    }
    response
}

/// Cloudflare's ray id when there is one, so our log lines join Cloudflare's; else a random one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get("cf-ray")
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| edge_auth_core::random::token(8))
}

async fn dispatch(
    req: Request,
    p: &Platform,
    ctx: &Context,
    route: Route,
    param: Option<&str>,
    path: &str,
) -> Result<Response, AuthError> {
    match route {
        Route::Options => {
            let allow = routes::allowed_methods(path, &p.config.base_path).join(", ");
            Ok(response::no_content(&[("Allow", &allow)]))
        }
        Route::Health => handlers::health(p).await,
        Route::OpenApi => handlers::openapi(p),
        Route::Jwks => Ok(handlers::jwks(p)),
        Route::Login => handlers::login(&req, p).await,
        Route::Refresh => handlers::refresh(&req, p).await,
        Route::Logout => handlers::logout(&req, p).await,
        Route::LogoutAll => handlers::logout_all(&req, p).await,
        Route::Profile => handlers::profile(&req, p).await,
        Route::ListSessions => handlers::list_sessions(&req, p).await,
        Route::DeleteSession => handlers::delete_session(&req, p, param).await,
        Route::Signup => handlers::signup(&req, p).await,
        Route::ChangePassword => handlers::change_password(&req, p).await,
        Route::ForgotPassword => handlers::forgot_password(&req, p, ctx).await,
        Route::ResetPassword => handlers::reset_password(&req, p).await,
        Route::AdminListUsers => admin::list(&req, p).await,
        Route::AdminCreateUser => admin::create(&req, p).await,
        Route::AdminImportUsers => admin::import(&req, p).await,
        Route::AdminGetUser => admin::get(&req, p, param).await,
        Route::AdminUpdateUser => admin::update(&req, p, param).await,
        Route::AdminDeleteUser => admin::delete(&req, p, param).await,
        Route::AdminRevokeSessions => admin::revoke_sessions(&req, p, param).await,
    }
}
