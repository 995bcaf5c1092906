//! The served OpenAPI document says what this deployment accepts: docs/openapi.json describes the
//! defaults, and the settings that change what a request may hold are written into it here (the
//! password policy, the known roles, whether signup needs an address), so a client generator or a
//! fuzzer sees the contract that is really enforced.

use edge_auth_core::config::Config;
use edge_auth_core::policy::PIN_LENGTH;
use edge_auth_core::validate::PASSWORD_MAX;
use serde_json::{json, Value};

/// The new-password fields that the password policy checks, as (schema, property).
const NEW_PASSWORDS: &[(&str, &str)] = &[
    ("SignupRequest", "password"),
    ("AdminCreateUserRequest", "password"),
    ("ChangePasswordRequest", "new_password"),
    ("ResetPasswordRequest", "new_password"),
];

/// The role fields that only take a known role, as (schema, property).
const ROLES: &[(&str, &str)] = &[("AdminCreateUserRequest", "role"), ("AdminUpdateUserRequest", "role")];

/// `doc` with this deployment's settings applied to its request schemas.
pub fn apply(mut doc: Value, config: &Config) -> Value {
    let schemas = &mut doc["components"]["schemas"];
    for (schema, field) in NEW_PASSWORDS {
        let property = &mut schemas[schema]["properties"][field];
        if !property.is_object() {
            continue;
        }
        if config.password_policy.pin {
            // PASSWORD_KIND=pin: ASCII digits only, which NFKC leaves as they are.
            property["pattern"] = json!(format!("^[0-9]{{{},{}}}$", PIN_LENGTH.start(), PIN_LENGTH.end()));
            property["minLength"] = json!(PIN_LENGTH.start());
            property["maxLength"] = json!(PIN_LENGTH.end());
        } else {
            property["minLength"] = json!(config.password_policy.min_length);
            property["maxLength"] = json!(PASSWORD_MAX);
        }
    }
    for (schema, field) in ROLES {
        let property = &mut schemas[schema]["properties"][field];
        if property.is_object() {
            property["enum"] = json!(config.roles);
        }
    }
    if config.cookie_mode {
        // The refresh token may come in its cookie instead: the body, the field and a null are optional.
        let refresh = &mut schemas["RefreshRequest"];
        refresh["properties"]["refresh_token"]["type"] = json!(["string", "null"]);
        if let Some(object) = refresh.as_object_mut() {
            object.remove("required");
        }
        let body = &mut doc["paths"]["/refresh"]["post"]["requestBody"];
        if body.is_object() {
            body["required"] = json!(false);
            body["content"]["application/json"]["examples"]["cookie"] =
                json!({"summary": "Cookie mode: the refresh cookie is used", "value": {}});
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    if config.email.require_verification {
        // Signup needs an address it can verify (400 `missing` on `email` without one).
        let signup = &mut schemas["SignupRequest"];
        if let Some(required) = signup["required"].as_array_mut() {
            required.push(json!("email"));
        }
        signup["properties"]["email"]["type"] = json!("string");
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(extra: &[(&str, &str)]) -> Config {
        let base =
            [("JWT_SECRET", "test-secret-test-secret-test-secret-0123"), ("PASSWORD_ITERATIONS", "1000")];
        let vars: std::collections::HashMap<&str, &str> = base.iter().chain(extra).copied().collect();
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).expect("test config is valid")
    }

    fn document() -> Value {
        serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap()
    }

    #[test]
    fn the_password_policy_and_the_roles_are_those_configured() {
        let config = config_with(&[("PASSWORD_MIN_LENGTH", "12"), ("ROLES", "cajero")]);
        let doc = apply(document(), &config);
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in NEW_PASSWORDS {
            let p = &schemas[schema]["properties"][field];
            assert_eq!((&p["minLength"], &p["maxLength"]), (&json!(12), &json!(256)), "{schema}.{field}");
        }
        for (schema, field) in ROLES {
            let r = &schemas[schema]["properties"][field]["enum"];
            assert_eq!(r, &json!(["admin", "user", "demo", "cajero"]), "{schema}.{field}");
        }
        let signup = &schemas["SignupRequest"];
        assert_eq!(signup["required"], json!(["username", "password"]));
        assert_eq!(schemas["RefreshRequest"]["required"], json!(["refresh_token"]));
        assert_eq!(doc["paths"]["/refresh"]["post"]["requestBody"]["required"], json!(true));
    }

    #[test]
    fn in_cookie_mode_the_refresh_body_is_optional() {
        let doc = apply(document(), &config_with(&[("COOKIE_MODE", "true")]));
        let refresh = &doc["components"]["schemas"]["RefreshRequest"];
        assert!(refresh.get("required").is_none());
        assert_eq!(refresh["properties"]["refresh_token"]["type"], json!(["string", "null"]));
        assert_eq!(doc["paths"]["/refresh"]["post"]["requestBody"]["required"], json!(false));
    }

    #[test]
    fn a_pin_deployment_documents_pins_and_verification_needs_an_address() {
        let config = config_with(&[("PASSWORD_KIND", "pin"), ("REQUIRE_EMAIL_VERIFICATION", "true")]);
        let doc = apply(document(), &config);
        let signup = &doc["components"]["schemas"]["SignupRequest"];
        assert_eq!(signup["properties"]["password"]["pattern"], json!("^[0-9]{4,12}$"));
        assert_eq!(signup["required"], json!(["username", "password", "email"]));
        assert_eq!(signup["properties"]["email"]["type"], json!("string"));
    }
}
