//! The use cases an HTTP endpoint can run, from the request to the core's result, shared by the native
//! API (`handlers`) and the compatibility profiles (`profiles`): both read and check the same way and
//! call the same core; only the wire format around them differs. A profile passes a `Mapper` that turns
//! its documented request body into the native one.

use super::{body, cookies, cors, Call};
use edge_auth_core::service::{
    ChangePasswordRequest, ClientInfo, ForgotRequest, LoginRequest, LogoutRequest, RefreshRequest,
    ResetPasswordRequest, SignupRequest, TokenResponse,
};
use edge_auth_core::user::UserView;
use edge_auth_core::AuthError;
use serde::Deserialize;
use serde_json::{Map, Value};
use worker::Request;

/// What an endpoint does, by name (the `does` of a profile's endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseCase {
    Login,
    Refresh,
    Logout,
    Profile,
    Signup,
    ChangePassword,
    ForgotPassword,
    ResetPassword,
}

impl UseCase {
    /// Whether the caller must be signed in (the dispatcher authenticates first).
    pub fn needs_caller(self) -> bool {
        matches!(self, UseCase::Logout | UseCase::Profile | UseCase::ChangePassword)
    }
}

/// What a use case produced, for the renderer.
pub enum Outcome {
    /// A token response (login, refresh, signup, change-password).
    Tokens(TokenResponse),
    /// The caller's user (profile).
    User(UserView),
    /// Done, nothing to show (logout, forgot-password, reset-password).
    Done,
}

/// Turns a request body into the native one (the identity for the native API).
pub type Mapper<'a> = &'a dyn Fn(Map<String, Value>) -> Result<Map<String, Value>, AuthError>;

/// The native API's mapper.
pub fn native(body: Map<String, Value>) -> Result<Map<String, Value>, AuthError> {
    Ok(body)
}

/// Runs `use_case` for `call`.
pub async fn run(use_case: UseCase, call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    match use_case {
        UseCase::Login => login(call, map).await,
        UseCase::Refresh => refresh(call, map).await,
        UseCase::Logout => logout(call, map).await,
        UseCase::Profile => Ok(Outcome::User(call.p.auth().profile(call.access()?).await?)),
        UseCase::Signup => signup(call, map).await,
        UseCase::ChangePassword => change_password(call, map).await,
        UseCase::ForgotPassword => forgot_password(call, map).await,
        UseCase::ResetPassword => {
            let request = ResetPasswordRequest::parse(&map(body::json_object(&mut call.req).await?)?)?;
            call.p.auth().reset_password(&request).await?;
            Ok(Outcome::Done)
        }
    }
}

async fn login(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let (p, client) = (call.p, client_info(&call.req));
    // Counted before the body is read when every request counts (RATE_LIMIT_LOGIN_IP_COUNTS).
    p.auth().count_login_request(&client).await?;
    let request = LoginRequest::parse(&map(body::json_object(&mut call.req).await?)?)?;
    p.edge_rate_limit(&format!("login:{}", client.ip.as_deref().unwrap_or("unknown"))).await?;
    Ok(Outcome::Tokens(p.auth().login(&request, &client).await?))
}

/// The token from the body, or (cookie mode) from the refresh cookie.
async fn refresh(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let request = RefreshRequest::parse(&map(body::optional_json_object(&mut call.req).await?)?)?;
    let (req, p) = (&call.req, call.p);
    let token = match request.refresh_token {
        Some(t) => t,
        None => {
            match p.config.cookie_mode.then(|| cookies::read(req, &p.config.edge.refresh_cookie)).flatten() {
                Some(t) => {
                    cors::check_csrf(req, &p.config)?;
                    t
                }
                None => {
                    return Err(AuthError::field("refresh_token", "missing", "`refresh_token` is required."))
                }
            }
        }
    };
    Ok(Outcome::Tokens(p.auth().refresh(&token).await?))
}

/// Ends the caller's session (and that of the given refresh token, when it is another session of the
/// same user).
async fn logout(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let request = LogoutRequest::parse(&map(body::optional_json_object(&mut call.req).await?)?)?;
    let (req, p) = (&call.req, call.p);
    let refresh_token = request.refresh_token.or_else(|| {
        p.config.cookie_mode.then(|| cookies::read(req, &p.config.edge.refresh_cookie)).flatten()
    });
    p.auth().logout(call.access()?, refresh_token.as_deref()).await?;
    Ok(Outcome::Done)
}

async fn signup(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let body = map(body::json_object(&mut call.req).await?)?;
    let (p, client) = (call.p, client_info(&call.req));
    p.edge_rate_limit(&format!("signup:{}", client.ip.as_deref().unwrap_or("unknown"))).await?;
    let request = SignupRequest::parse(&p.config, &body)?;
    let (tokens, user) = p.auth().signup(&request, &client).await?;
    // Email verification: the link goes out after the response.
    super::email::after_signup(p, call.ctx, user, origin(&call.req).unwrap_or_default());
    Ok(Outcome::Tokens(tokens))
}

async fn change_password(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let request = ChangePasswordRequest::parse(&map(body::json_object(&mut call.req).await?)?)?;
    let (p, client) = (call.p, client_info(&call.req));
    Ok(Outcome::Tokens(p.auth().change_password(call.access()?, &request, &client).await?))
}

/// Answers at once, the same whatever the account; looking the account up, storing the token and
/// delivering the mail happen after the response (`waitUntil`), so neither the answer nor its timing
/// tells whether the account exists.
async fn forgot_password(call: &mut Call<'_>, map: Mapper<'_>) -> Result<Outcome, AuthError> {
    let request = ForgotRequest::parse(&map(body::json_object(&mut call.req).await?)?)?;
    let (req, p) = (&call.req, call.p);
    let ip = client_info(req).ip.unwrap_or_else(|| "unknown".into());
    p.edge_rate_limit(&format!("forgot:{ip}")).await?;
    p.auth().check_forgot_limits(&request, &ip).await?;
    let origin = origin(req).unwrap_or_default();
    let platform = p.clone();
    call.ctx.wait_until(async move {
        let auth = platform.auth();
        match auth.forgot_password(&request, &origin).await {
            Ok(Some(mail)) => crate::adapters::mailer::deliver_reset(&platform.config, &mail, auth.now).await,
            Ok(None) => {}
            Err(e) => crate::log::error("forgot_password", &format!("{e}: {}", e.log_detail().unwrap_or(""))),
        }
    });
    Ok(Outcome::Done)
}

/// User agent and client IP, for the session list and the rate limits.
pub fn client_info(req: &Request) -> ClientInfo {
    let header = |name: &str| req.headers().get(name).ok().flatten().filter(|v| !v.is_empty());
    ClientInfo { user_agent: header("User-Agent"), ip: header("CF-Connecting-IP") }
}

/// The origin (`scheme://host[:port]`) the request came to.
pub fn origin(req: &Request) -> Option<String> {
    let url = req.url().ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}
