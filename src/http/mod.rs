//! The HTTP layer: resolve the route, run its handler, render the result. Handlers parse, call the
//! core, and render; they decide nothing themselves.

mod auth;
mod body;
mod handlers;
pub mod response;
mod routes;

use crate::adapters::Platform;
use crate::error::problem_response;
use edge_auth_core::AuthError;
use routes::Route;
use worker::{Env, Request, Response};

/// Handles one request. Never fails: every error becomes a problem response.
pub async fn handle(req: Request, env: Env) -> Response {
    let config = match crate::config::load(&env) {
        Ok(c) => c,
        Err(_) => return problem_response(&AuthError::Unavailable("configuration invalid (see log)".into())),
    };
    let method = req.method().to_string().to_ascii_uppercase();
    let path = req.path();
    let resolved = match routes::resolve(&method, &path, &config.base_path) {
        Ok(r) => r,
        Err(e) => return problem_response(&e),
    };
    let platform = Platform::new(env, config);
    let result = match resolved.route {
        Route::Options => Ok(response::no_content(&[(
            "Allow",
            &routes::allowed_methods(&path, &platform.config.base_path).join(", "),
        )])),
        Route::Health => handlers::health(&platform).await,
        Route::OpenApi => Ok(handlers::openapi(&platform)),
        Route::Login => handlers::login(req, &platform).await,
        Route::Profile => handlers::profile(&req, &platform).await,
        Route::AdminGetUser => handlers::admin_get_user(&req, &platform, resolved.param.as_deref()).await,
    };
    let response = result.unwrap_or_else(|e| problem_response(&e));
    if method == "HEAD" {
        // Same status and headers as GET, no body.
        let (builder, _) = response.into_parts();
        return builder.empty();
    }
    response
}
