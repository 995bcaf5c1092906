//! The admin API handlers (`/auth/admin/users...`). The route table declares the permission each
//! needs, and the dispatcher checks it before the body is read; the core checks it again
//! (`service::admin`), so it cannot be forgotten in either place.

use super::{body, response, Call};
use edge_auth_core::service::admin;
use edge_auth_core::AuthError;
use worker::Response;

/// `GET /auth/admin/users?limit=&cursor=&q=`.
pub async fn list(call: Call<'_>) -> Result<Response, AuthError> {
    let (access, p) = (call.access()?, call.p);
    let url = call.req.url().map_err(|_| AuthError::bad_request("The request URL is invalid."))?;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (limit, cursor, q) = (param("limit"), param("cursor"), param("q"));
    let page =
        admin::list_users(&p.store(), access, limit.as_deref(), cursor.as_deref(), q.as_deref()).await?;
    Ok(response::json(200, &page))
}

/// `GET /auth/admin/users/{id}`.
pub async fn get(call: Call<'_>) -> Result<Response, AuthError> {
    let user = admin::get_user(&call.p.store(), call.access()?, call.param()?).await?;
    Ok(response::json(200, &user))
}

/// `POST /auth/admin/users`: 201.
pub async fn create(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let p = call.p;
    let user = admin::create_user(&p.config, &p.store(), call.access()?, &body, p.now()).await?;
    Ok(response::json(201, &user))
}

/// `PATCH /auth/admin/users/{id}`.
pub async fn update(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let (p, access, id) = (call.p, call.access()?, call.param()?);
    let user =
        admin::update_user(&p.config, &p.store(), &p.revocations(), access, id, &body, p.now()).await?;
    Ok(response::json(200, &user))
}

/// `DELETE /auth/admin/users/{id}`: 204.
pub async fn delete(call: Call<'_>) -> Result<Response, AuthError> {
    let (p, access, id) = (call.p, call.access()?, call.param()?);
    admin::delete_user(&p.config, &p.store(), &p.revocations(), access, id, p.now()).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/{id}/revoke-sessions`: 204.
pub async fn revoke_sessions(call: Call<'_>) -> Result<Response, AuthError> {
    let (p, access, id) = (call.p, call.access()?, call.param()?);
    admin::revoke_sessions(&p.config, &p.store(), &p.revocations(), access, id, p.now()).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/import`.
pub async fn import(mut call: Call<'_>) -> Result<Response, AuthError> {
    let body = body::json_object(&mut call.req).await?;
    let p = call.p;
    let report = admin::import_users(&p.config, &p.store(), call.access()?, &body, p.now()).await?;
    Ok(response::json(200, &report))
}
