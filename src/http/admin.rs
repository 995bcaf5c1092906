//! The admin API handlers (`/auth/admin/users...`). The route table declares the permission each
//! needs, and the dispatcher checks it before the query or body is read; the core checks it again
//! (`service::admin`), so it cannot be forgotten in either place.

use super::{body, response, Call};
use edge_auth_core::service::{
    CreateUserRequest, EventsQuery, ImportRequest, ListUsersQuery, UpdateUserRequest,
};
use edge_auth_core::AuthError;
use worker::Response;

/// `GET /auth/admin/users?limit=&cursor=&q=`.
pub async fn list(call: Call<'_>) -> Result<Response, AuthError> {
    let url = call.req.url().map_err(|_| AuthError::bad_request("The request URL is invalid."))?;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (limit, cursor, q) = (param("limit"), param("cursor"), param("q"));
    let query = ListUsersQuery::parse(limit.as_deref(), cursor.as_deref(), q.as_deref())?;
    let page = call.p.auth().list_users(call.access()?, &query).await?;
    Ok(response::json(200, &page))
}

/// `GET /auth/admin/events?user=&type=&since=&cursor=&limit=`: the audit log, newest first.
pub async fn events(call: Call<'_>) -> Result<Response, AuthError> {
    let url = call.req.url().map_err(|_| AuthError::bad_request("The request URL is invalid."))?;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let query = EventsQuery::parse(
        param("user").as_deref(),
        param("type").as_deref(),
        param("since").as_deref(),
        param("cursor").as_deref(),
        param("limit").as_deref(),
    )?;
    let page = call.p.auth().list_events(call.access()?, &query).await?;
    Ok(response::json(200, &page))
}

/// `GET /auth/admin/users/{id}`.
pub async fn get(call: Call<'_>) -> Result<Response, AuthError> {
    let user = call.p.auth().get_user(call.access()?, call.param()?).await?;
    Ok(response::json(200, &user))
}

/// `POST /auth/admin/users`: 201.
pub async fn create(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = CreateUserRequest::parse(&call.p.config, &body::json_object(&mut call.req).await?)?;
    let user = call.p.auth().create_user(call.access()?, &request).await?;
    Ok(response::json(201, &user))
}

/// `PATCH /auth/admin/users/{id}`.
pub async fn update(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = UpdateUserRequest::parse(&call.p.config, &body::json_object(&mut call.req).await?)?;
    let user = call.p.auth().update_user(call.access()?, call.param()?, &request).await?;
    Ok(response::json(200, &user))
}

/// `DELETE /auth/admin/users/{id}`: 204.
pub async fn delete(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().delete_user(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/{id}/revoke-sessions`: 204.
pub async fn revoke_sessions(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().revoke_sessions(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// `DELETE /auth/admin/users/{id}/mfa`: 204; the user's second factors are removed, sessions end.
pub async fn reset_mfa(call: Call<'_>) -> Result<Response, AuthError> {
    call.p.auth().admin_reset_mfa(call.access()?, call.param()?).await?;
    Ok(response::no_content(&[]))
}

/// `POST /auth/admin/users/import`.
pub async fn import(mut call: Call<'_>) -> Result<Response, AuthError> {
    let request = ImportRequest::parse(&call.p.config, &body::json_object(&mut call.req).await?)?;
    let report = call.p.auth().import_users(call.access()?, &request).await?;
    Ok(response::json(200, &report))
}
