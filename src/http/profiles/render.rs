//! The mapping layer, pure: a profile's request body into the native one, and the core's results into
//! the profile's response bodies. No I/O here, so the host tests check it directly.

use super::spec::{Endpoint, FieldMessages, Template};
use edge_auth_core::config::Config;
use edge_auth_core::error::FieldError;
use edge_auth_core::service::TokenResponse;
use edge_auth_core::user::UserView;
use edge_auth_core::AuthError;
use serde_json::{json, Map, Value};

/// The native body of `endpoint` from the system's `body`: each native field read from its documented
/// name, trimmed and bounded as the document says. Fields the endpoint does not list are dropped.
pub fn map_request(
    endpoint: &Endpoint,
    messages: &FieldMessages,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, AuthError> {
    let mut native = Map::new();
    let mut errors = Vec::new();
    for (name, spec) in &endpoint.request {
        let field = spec.from.as_str();
        let say = |template: &str, code: &'static str| {
            let min = spec.min.map(|m| m.to_string()).unwrap_or_default();
            let max = spec.max.map(|m| m.to_string()).unwrap_or_default();
            let message = template.replace("{field}", field).replace("{min}", &min).replace("{max}", &max);
            FieldError::new(field, code, message)
        };
        let text = match body.get(field) {
            None | Some(Value::Null) if spec.optional => continue,
            None | Some(Value::Null) => {
                errors.push(say(&messages.missing, "missing"));
                continue;
            }
            Some(Value::String(s)) => s.as_str(),
            Some(_) => {
                errors.push(say(&messages.not_string, "invalid_type"));
                continue;
            }
        };
        let text = if spec.trim { text.trim() } else { text };
        if let Some(super::spec::Derive::UsernameFromEmail) = spec.derive {
            native.insert(name.clone(), Value::String(username_from_email(text)));
            continue;
        }
        let len = text.chars().count();
        if len == 0 && !spec.optional {
            errors.push(say(&messages.missing, "missing"));
        } else if spec.min.is_some_and(|min| len < min) {
            errors.push(say(&messages.too_short, "too_short"));
        } else if spec.max.is_some_and(|max| len > max) {
            errors.push(say(&messages.too_long, "too_long"));
        } else {
            native.insert(name.clone(), Value::String(text.to_string()));
        }
    }
    if errors.is_empty() {
        Ok(native)
    } else {
        Err(AuthError::InvalidRequest { detail: "The request is not valid.".into(), errors })
    }
}

/// `juan.perez-Ab3_x9` from `Juan.Perez@example.com`: at most 30 characters of ASCII letters, digits,
/// `.`, `_` and `-` (what `validate::username` accepts), `user` when the local part has none.
pub fn username_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(23)
        .collect::<String>()
        .to_ascii_lowercase();
    if base.is_empty() {
        base.push_str("user");
    }
    format!("{base}-{}", edge_auth_core::random::token(6).chars().take(6).collect::<String>())
}

/// The template with every `$path` string replaced by the context's value at that path (`null` when
/// absent), keeping its JSON type: a number stays a number.
pub fn render(template: &Value, context: &Value) -> Value {
    match template {
        Value::String(s) if s.starts_with('$') => lookup(context, &s[1..]).cloned().unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, context)).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), render(v, context))).collect())
        }
        other => other.clone(),
    }
}

fn lookup<'a>(context: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(context, |value, key| value.get(key))
}

/// What a user's templates may show (`$user.<name>`).
pub fn user_context(config: &Config, user: &UserView) -> Value {
    json!({
        "id": user.id,
        "number": user.number,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "name": user.display_name.as_deref().unwrap_or(&user.username),
        "role": user.role,
        "role_label": config.edge.role_label(&user.role),
        "is_admin": user.role == edge_auth_core::roles::ADMIN,
        "is_demo": user.role == edge_auth_core::roles::DEMO,
        "first_name": user.details.first_name,
        "last_name": user.details.last_name,
        "phone": user.details.phone,
        "document_id": user.details.document_id,
        "created_at": user.created_at,
    })
}

/// The user data the `accounts` profile returns encrypted (`$user_jwe`).
pub fn user_data(user: &UserView) -> Value {
    json!({
        "id": user.number,
        "email": user.email,
        "first_name": user.details.first_name,
        "last_name": user.details.last_name,
        "phone": user.details.phone,
        "document_id": user.details.document_id,
        "role": user.role,
    })
}

/// What a token response's templates may show.
pub fn tokens_context(config: &Config, tokens: &TokenResponse) -> Value {
    let jwe = config
        .edge
        .user_data_key
        .as_ref()
        .map(|key| edge_auth_core::jwe::encrypt(&key.0, user_data(&tokens.user).to_string().as_bytes()));
    json!({
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "refresh_expires_in": tokens.refresh_expires_in,
        "user": user_context(config, &tokens.user),
        "user_jwe": jwe,
    })
}

/// What an error's templates may show: `$status`, `$code`, `$title`, `$detail`, `$messages` (the
/// field errors' messages, or the detail alone).
pub fn error_context(error: &AuthError) -> Value {
    let messages: Vec<&str> = error.field_errors().iter().map(|e| e.message.as_str()).collect();
    let detail = match messages.as_slice() {
        [] => error.public_detail(),
        some => some.join(" "),
    };
    json!({
        "status": error.status(),
        "code": error.code(),
        "title": error.title(),
        "detail": detail,
        "messages": if messages.is_empty() { vec![detail.clone()] } else { messages.iter().map(|m| m.to_string()).collect() },
    })
}

/// The template for `error`: the endpoint's, else the profile's, else (`fallback`) the profile's
/// `default`.
pub fn error_template<'a>(
    endpoint: Option<&'a Endpoint>,
    errors: &'a std::collections::BTreeMap<String, Template>,
    error: &AuthError,
    fallback: bool,
) -> Option<&'a Template> {
    endpoint
        .and_then(|e| e.errors.get(error.code()))
        .or_else(|| errors.get(error.code()))
        .or_else(|| fallback.then(|| errors.get("default")).flatten())
}

/// The status of an error rendered with `template`: the template's when it names one, the error's
/// own otherwise. The `default` body stands in for every error without a template of its own, client
/// errors too (a 415 or 413): its status is that of the system's server errors, so it applies to server
/// errors only, and a client error keeps its own.
pub fn error_status(template: &Template, is_default: bool, error: &AuthError) -> u16 {
    match template.status {
        Some(status) if !is_default || error.status() >= 500 => status,
        _ => error.status(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_default_body_keeps_a_client_error_s_own_status() {
        let vinyl = load("vinyl").unwrap().unwrap();
        let default = &vinyl.errors["default"];
        assert_eq!(default.status, Some(500));
        assert_eq!(error_status(default, true, &AuthError::UnsupportedMediaType), 415);
        assert_eq!(error_status(default, true, &AuthError::PayloadTooLarge { limit: 16 }), 413);
        assert_eq!(error_status(default, true, &AuthError::Unavailable("d1".into())), 500);
        assert_eq!(error_status(default, true, &AuthError::Internal("x".into())), 500);
        let own = &vinyl.errors["account_disabled"];
        assert_eq!(error_status(own, false, &AuthError::AccountDisabled), 401, "a template of its own wins");
    }

    #[test]
    fn usernames_made_from_emails_are_valid_usernames_and_differ() {
        for email in [
            "Juan.Perez@example.com",
            "ñandú+x@example.com",
            "@example.com",
            &format!("{}@x.io", "a".repeat(64)),
        ] {
            let u = username_from_email(email);
            assert!(edge_auth_core::validate::username(&u).is_ok(), "{email} -> {u}");
        }
        assert!(username_from_email("Juan.Perez@example.com").starts_with("juan.perez-"));
        assert_ne!(username_from_email("a@b.c"), username_from_email("a@b.c"));
    }

    #[test]
    fn templates_keep_the_json_type_of_what_they_show() {
        let ctx = json!({"user": {"number": 7, "is_admin": false, "name": "Juan"}, "access_token": "t"});
        let t = json!({"token": "$access_token", "u": {"id": "$user.number", "admin": "$user.is_admin",
                       "n": "$user.name", "missing": "$user.nope"}, "fixed": "Login exitoso", "n": 3});
        assert_eq!(
            render(&t, &ctx),
            json!({"token": "t", "u": {"id": 7, "admin": false, "n": "Juan", "missing": null},
                   "fixed": "Login exitoso", "n": 3})
        );
    }

    #[test]
    fn the_vinyl_login_trims_and_requires_both_fields() {
        let vinyl = load("vinyl").unwrap().unwrap();
        let login = &vinyl.endpoints[0];
        let mapped = map_request(
            login,
            &vinyl.field_messages,
            body(json!({"nombre_usuario": "  juan ", "password": "pw"})),
        )
        .unwrap();
        assert_eq!(Value::Object(mapped), json!({"username": "juan", "password": "pw"}));
        for bad in [
            json!({"nombre_usuario": "   ", "password": "x"}),
            json!({"password": "x"}),
            json!({"nombre_usuario": "juan", "password": ""}),
            json!({"nombre_usuario": 5, "password": "x"}),
        ] {
            let e = map_request(login, &vinyl.field_messages, body(bad.clone())).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{bad}");
        }
    }

    #[test]
    fn the_pos_login_states_nestjs_messages_for_its_bounds() {
        let pos = load("pos").unwrap().unwrap();
        let login = &pos.endpoints[0];
        let e = map_request(login, &pos.field_messages, body(json!({"username": "ab", "password": "12345"})))
            .unwrap_err();
        let ctx = error_context(&e);
        assert_eq!(
            ctx["messages"],
            json!([
                "password must be longer than or equal to 6 characters",
                "username must be longer than or equal to 3 characters"
            ])
        );
        let long = map_request(
            login,
            &pos.field_messages,
            body(json!({"username": "a".repeat(31), "password": "123456"})),
        );
        assert_eq!(
            error_context(&long.unwrap_err())["messages"][0],
            "username must be shorter than or equal to 30 characters"
        );
        assert!(map_request(
            login,
            &pos.field_messages,
            body(json!({"username": "abc", "password": "123456"}))
        )
        .is_ok());
    }

    #[test]
    fn error_templates_fall_back_to_the_profile_then_to_default_on_its_own_endpoints_only() {
        let pin = load("pin-cookies").unwrap().unwrap();
        let refresh = pin.endpoints.iter().find(|e| e.path == "/refresh").unwrap();
        let bad = AuthError::field("refresh_token", "missing", "x");
        assert_eq!(error_template(Some(refresh), &pin.errors, &bad, true).unwrap().status, Some(401));
        let login = &pin.endpoints[0];
        assert_eq!(error_template(Some(login), &pin.errors, &bad, true).unwrap().status, Some(400));
        let other = AuthError::NotFound;
        assert!(
            error_template(None, &pin.errors, &other, false).is_none(),
            "native endpoints keep problem+json"
        );
        assert!(
            error_template(Some(login), &pin.errors, &other, true).is_some(),
            "default on its own endpoints"
        );
    }
}
