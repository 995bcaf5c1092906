//! The admin API handlers (`/auth/admin/users...`). The role checks live in the core
//! (`service::admin`), so they cannot be forgotten here.

use super::response::Response;
use super::{auth, body, response};
use crate::adapters::bindings::Request;
use crate::adapters::Platform;
use edge_auth_core::roles::{self, Permission};
use edge_auth_core::service::admin;
use edge_auth_core::AuthError;

/// `GET /auth/admin/users?limit=&cursor=&q=`.
pub async fn list(req: &Request, p: &Platform) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    let url = req.url();
    let param = |name: &str| super::url::query_param(&url, name);
    let (limit, cursor, q) = (param("limit"), param("cursor"), param("q"));
    let page =
        admin::list_users(&p.store(), &access, limit.as_deref(), cursor.as_deref(), q.as_deref()).await?;
    Ok(response::json(200, &page))
}

/// `GET /auth/admin/users/{id}`.
pub async fn get(req: &Request, p: &Platform, id: Option<&str>) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    let user = admin::get_user(&p.store(), &access, id.ok_or(AuthError::NotFound)?).await?;
    Ok(response::json(200, &user))
}

/// `POST /auth/admin/users`: 201.
pub async fn create(req: &Request, p: &Platform) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    // 403 before the body is even read: a caller without the role learns nothing from 400s.
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let body = body::json_object(req).await?;
    let user = admin::create_user(&p.config, &p.store(), &access, &body, p.now()).await?;
    Ok(response::json(201, &user))
}

/// `PATCH /auth/admin/users/{id}`.
pub async fn update(req: &Request, p: &Platform, id: Option<&str>) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    // 403 before the body is even read: a caller without the role learns nothing from 400s.
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let body = body::json_object(req).await?;
    let id = id.ok_or(AuthError::NotFound)?;
    let user =
        admin::update_user(&p.config, &p.store(), &p.revocations(), &access, id, &body, p.now()).await?;
    Ok(response::json(200, &user))
}

/// `DELETE /auth/admin/users/{id}`: 204.
pub async fn delete(req: &Request, p: &Platform, id: Option<&str>) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    let id = id.ok_or(AuthError::NotFound)?;
    admin::delete_user(&p.config, &p.store(), &p.revocations(), &access, id, p.now()).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/{id}/revoke-sessions`: 204.
pub async fn revoke_sessions(req: &Request, p: &Platform, id: Option<&str>) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    let id = id.ok_or(AuthError::NotFound)?;
    admin::revoke_sessions(&p.config, &p.store(), &p.revocations(), &access, id, p.now()).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/import`.
pub async fn import(req: &Request, p: &Platform) -> Result<Response, AuthError> {
    let access = auth::authenticate(req, p).await?;
    // 403 before the body is even read: a caller without the role learns nothing from 400s.
    roles::require(&access.claims.role, Permission::ManageUsers)?;
    let body = body::json_object(req).await?;
    let report = admin::import_users(&p.config, &p.store(), &access, &body, p.now()).await?;
    Ok(response::json(200, &report))
}
