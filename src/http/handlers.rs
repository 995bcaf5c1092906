//! One named `async fn` per endpoint: parse, call the core, render.

use super::{auth, body, response};
use crate::adapters::Platform;
use edge_auth_core::roles::{self, Permission};
use edge_auth_core::service::{self, LoginRequest};
use edge_auth_core::AuthError;
use serde_json::json;
use worker::{Request, Response};

/// `GET /health`: 200 when D1 and KV both answer, else 503.
pub async fn health(p: &Platform) -> Result<Response, AuthError> {
    p.check_storage().await?;
    Ok(response::json(200, &json!({"status": "ok"})))
}

/// `GET /auth/openapi.json`.
pub fn openapi(p: &Platform) -> Response {
    response::json_response(
        200,
        &crate::http::handlers::openapi_document(&p.config.base_path),
        "application/json",
        response::CacheControl::Public,
    )
}

/// `POST /auth/login`.
pub async fn login(mut req: Request, p: &Platform) -> Result<Response, AuthError> {
    let body = body::json_object(&mut req).await?;
    let request = LoginRequest::parse(&body)?;
    let tokens = service::login(&p.config, &p.users(), &request, p.now()).await?;
    Ok(response::json(200, &tokens))
}

/// `GET /auth/profile` and `GET /auth/me`.
pub async fn profile(req: &Request, p: &Platform) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, &p.config, p.now())?;
    let user = service::profile(&p.users(), &access).await?;
    Ok(response::json(200, &user))
}

/// `GET /auth/admin/users/{id}`: admin and demo only.
pub async fn admin_get_user(req: &Request, p: &Platform, id: Option<&str>) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, &p.config, p.now())?;
    roles::require(&access.claims.role, Permission::ReadUsers)?;
    let id = id.ok_or(AuthError::NotFound)?;
    let user =
        edge_auth_core::ports::UserStore::find_by_id(&p.users(), id).await?.ok_or(AuthError::NotFound)?;
    Ok(response::json(200, &user.admin_view()))
}

/// The OpenAPI document kept in `docs/openapi.json`, with `servers` pointing at the configured base path.
pub fn openapi_document(base_path: &str) -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap_or_else(|_| json!({}));
    doc["servers"] = json!([{"url": base_path, "description": "this deployment's auth base path"}]);
    doc
}
