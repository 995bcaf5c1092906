//! The OpenAPI document of the active profile: the native document with the profile's endpoints in
//! place of the native operations at the same paths, each described from the profile's data (request
//! fields and bounds, response and error bodies with their JSON types and fixed values), so a client
//! generator or a fuzzer sees the API that is really served.

use super::spec::{Endpoint, FieldSpec, Profile, Template};
use super::UseCase;
use serde_json::{json, Map, Value};

/// `native` (the parsed native document) rewritten for `profile`, served under `base_path`.
pub fn document(mut native: Value, profile: &Profile, base_path: &str) -> Value {
    native["info"]["title"] = json!(format!("edge-auth, {} profile", profile.name));
    native["info"]["description"] = json!(format!(
        "The API of the system this deployment replaces ({}), served by edge-auth with API_PROFILE={}. \
         Paths the profile does not describe are edge-auth's own.",
        profile.system, profile.name
    ));
    let url = if base_path.is_empty() { "/" } else { base_path };
    native["servers"] = json!([{"url": url, "description": "this deployment's base path"}]);
    let shared = native["components"]["responses"].clone();
    let schemas = native["components"]["schemas"].clone();
    let mut paths = native["paths"].as_object_mut().map(std::mem::take).unwrap_or_default();
    for item in paths.values_mut() {
        if let Some(item) = item.as_object_mut() {
            for op in item.values_mut() {
                everywhere_errors(profile, op, &shared);
            }
        }
    }
    for endpoint in &profile.endpoints {
        let item = paths.entry(endpoint.path.clone()).or_insert_with(|| json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(endpoint.method.to_ascii_lowercase(), operation(profile, endpoint, &schemas));
        }
    }
    native["paths"] = Value::Object(paths);
    if let Some(tags) = native["tags"].as_array_mut() {
        tags.push(json!({"name": profile.name, "description": profile.system}));
    }
    native
}

/// A native operation answers the errors the profile renders everywhere (`everywhere`: its own 401s
/// and 403s) in the profile's body: each such status the operation documents gets that body as
/// `application/json` beside the native problem (the operation's other errors stay problems).
fn everywhere_errors(profile: &Profile, op: &mut Value, shared: &Value) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    for code in &profile.everywhere {
        let Some(template) = profile.errors.get(code) else { continue };
        let Some(status) = template.status.or_else(|| native_status(code)) else { continue };
        let Some(response) = responses.get_mut(&status.to_string()) else { continue };
        if let Some(name) = response["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/responses/"))
        {
            // A shared response of the native document: inlined, so this operation's copy can change.
            *response = shared[name].clone();
        }
        let content = &mut response["content"];
        if !content.is_object() {
            *content = json!({});
        }
        // `anyOf`: the bodies may overlap (two templates of one shape), and any of them is right.
        let entry = content["application/json"]["schema"].take();
        let mut one_of = match entry {
            Value::Object(mut o) if o.contains_key("anyOf") => o.remove("anyOf").unwrap_or(json!([])),
            Value::Null => json!([]),
            other => json!([other]),
        };
        let schema = schema_of(&template.body);
        if let Some(list) = one_of.as_array_mut() {
            if !list.contains(&schema) {
                list.push(schema);
            }
        }
        content["application/json"] = json!({"schema": {"anyOf": one_of}});
    }
}

/// The status of the errors a profile may render everywhere, when its template names none.
fn native_status(code: &str) -> Option<u16> {
    match code {
        "token_missing" | "token_invalid" | "token_expired" => Some(401),
        "forbidden" => Some(403),
        _ => None,
    }
}

/// The native request schema a use case's body is mapped into.
fn native_request(does: UseCase) -> Option<&'static str> {
    Some(match does {
        UseCase::Login => "LoginRequest",
        UseCase::Refresh => "RefreshRequest",
        UseCase::Logout => "LogoutRequest",
        UseCase::Signup => "SignupRequest",
        UseCase::ChangePassword => "ChangePasswordRequest",
        UseCase::ForgotPassword => "ForgotPasswordRequest",
        UseCase::ResetPassword => "ResetPasswordRequest",
        UseCase::Profile => return None,
    })
}

/// The schema of one field of a profile's body: a string (or null, when it may be left out), within
/// the profile's bounds and, since the mapped value is then checked as the native field is, within the
/// native field's (its pattern, enum, and the tighter of both length bounds).
fn field_schema(spec: &FieldSpec, native: &Value) -> Value {
    let mut schema = json!({"type": if spec.optional { json!(["string", "null"]) } else { json!("string") }});
    for keyword in ["pattern", "enum"] {
        if let Some(v) = native.get(keyword) {
            schema[keyword] = v.clone();
        }
    }
    let native_min = native["minLength"].as_u64().map(|n| n as usize);
    let min = [spec.min, native_min, (!spec.optional).then_some(1)].into_iter().flatten().max();
    if let Some(min) = min.filter(|m| *m > 0) {
        schema["minLength"] = json!(min);
    }
    let native_max = native["maxLength"].as_u64().map(|n| n as usize);
    if let Some(max) = [spec.max, native_max].into_iter().flatten().min() {
        schema["maxLength"] = json!(max);
    }
    if spec.trim {
        schema["description"] = json!("Leading and trailing whitespace is ignored.");
    }
    schema
}

fn operation(profile: &Profile, endpoint: &Endpoint, schemas: &Value) -> Value {
    let mut op = json!({
        "operationId": format!("{}_{:?}", profile.name.replace('-', "_"), endpoint.does).to_lowercase(),
        "tags": [profile.name],
        "summary": endpoint.summary,
        "responses": responses(profile, endpoint),
    });
    if endpoint.does.needs_caller() {
        op["security"] = json!([{"bearerAuth": []}]);
    } else {
        op["security"] = json!([]);
    }
    if !endpoint.request.is_empty() {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let native = native_request(endpoint.does).map(|name| &schemas[name]["properties"]);
        for (name, spec) in &endpoint.request {
            if spec.derive.is_some()
                && endpoint.request.values().any(|o| o.from == spec.from && o.derive.is_none())
            {
                // Made from a field described on its own (e.g. a username from the email address).
                continue;
            }
            let native_field = match (native, spec.derive) {
                (Some(properties), None) => &properties[name],
                _ => &Value::Null,
            };
            properties.insert(spec.from.clone(), field_schema(spec, native_field));
            if !spec.optional && !required.contains(&spec.from) {
                required.push(spec.from.clone());
            }
        }
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"type": "object", "required": required, "properties": properties}}}
        });
    }
    op
}

/// The codes an endpoint can answer with, besides success.
fn error_codes(endpoint: &Endpoint) -> Vec<&'static str> {
    let mut codes = vec!["default"];
    if !endpoint.request.is_empty() || endpoint.does == UseCase::Refresh {
        codes.push("invalid_request");
    }
    if endpoint.does.needs_caller() {
        codes.extend(["token_missing", "token_invalid", "token_expired"]);
    }
    match endpoint.does {
        UseCase::Login => codes.extend(["invalid_credentials", "account_disabled", "rate_limited"]),
        UseCase::Refresh => codes.extend(["refresh_token_invalid", "refresh_token_reused", "csrf_rejected"]),
        UseCase::Signup => codes.extend(["email_taken", "username_taken", "rate_limited"]),
        UseCase::ChangePassword => codes.extend(["invalid_credentials", "rate_limited"]),
        UseCase::ForgotPassword => codes.push("rate_limited"),
        UseCase::ResetPassword => codes.push("reset_token_invalid"),
        UseCase::Logout | UseCase::Profile => {}
    }
    codes
}

fn responses(profile: &Profile, endpoint: &Endpoint) -> Value {
    let mut out = Map::new();
    let status = endpoint.respond.status.unwrap_or(200);
    out.insert(status.to_string(), response("Success.", &endpoint.respond));
    for code in error_codes(endpoint) {
        let Some(template) = endpoint.errors.get(code).or_else(|| profile.errors.get(code)) else { continue };
        // The default body also stands in for the client errors without a template (415, 413), with
        // their own status (`render::error_status`): documented as `default` as well.
        if code == "default" && template.status.is_some() {
            add_error(&mut out, "default", code, template);
        }
        let key = match template.status {
            Some(s) => s.to_string(),
            None if code == "default" => "default".to_string(),
            None => continue,
        };
        add_error(&mut out, &key, code, template);
    }
    Value::Object(out)
}

/// `template`'s body among the bodies of the response `key`, whose description lists `code`.
fn add_error(out: &mut Map<String, Value>, key: &str, code: &str, template: &Template) {
    let entry = out.entry(key.to_string()).or_insert_with(
        || json!({"description": "", "content": {"application/json": {"schema": {"anyOf": []}}}}),
    );
    let description = entry["description"].as_str().unwrap_or("").to_string();
    entry["description"] =
        json!(if description.is_empty() { code.to_string() } else { format!("{description}, {code}") });
    let schema = schema_of(&template.body);
    if let Some(any_of) = entry["content"]["application/json"]["schema"]["anyOf"].as_array_mut() {
        if !any_of.contains(&schema) {
            any_of.push(schema);
        }
    }
}

fn response(description: &str, template: &Template) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema_of(&template.body)}}})
}

/// The JSON Schema of what a template renders to: fixed values as `const`, placeholders by the type
/// of what they show.
fn schema_of(template: &Value) -> Value {
    match template {
        Value::String(s) if s.starts_with('$') => placeholder_schema(&s[1..]),
        Value::Object(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            let required: Vec<&String> = fields.keys().collect();
            json!({"type": "object", "required": required, "properties": properties})
        }
        Value::Array(items) => {
            json!({"type": "array", "items": items.first().map(schema_of).unwrap_or(json!({}))})
        }
        fixed => json!({"const": fixed}),
    }
}

fn placeholder_schema(path: &str) -> Value {
    match path {
        "expires_in" | "refresh_expires_in" | "status" | "user.number" => json!({"type": "integer"}),
        "user.is_admin" | "user.is_demo" => json!({"type": "boolean"}),
        "messages" => json!({"type": "array", "items": {"type": "string"}}),
        "user_jwe" => {
            json!({"type": "string", "description": "compact JWE (alg dir, enc A256GCM) of the user's data"})
        }
        "user.email" | "user.display_name" | "user.first_name" | "user.last_name" | "user.phone"
        | "user.document_id" => json!({"type": ["string", "null"]}),
        _ => json!({"type": "string"}),
    }
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;

    #[test]
    fn a_profile_document_describes_its_endpoints_with_types_and_keeps_the_native_ones() {
        let native: Value = serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
        let vinyl = load("vinyl").unwrap().unwrap();
        let doc = document(native, &vinyl, "");
        assert_eq!(doc["servers"][0]["url"], "/");
        let login = &doc["paths"]["/login"]["post"];
        assert_eq!(
            login["requestBody"]["content"]["application/json"]["schema"]["required"],
            json!(["password", "nombre_usuario"])
        );
        let ok = &login["responses"]["200"]["content"]["application/json"]["schema"]["properties"];
        assert_eq!(ok["es_admin"], json!({"type": "boolean"}));
        let unauthorized = &login["responses"]["401"]["content"]["application/json"]["schema"]["anyOf"][0];
        assert_eq!(unauthorized["properties"]["error"], json!({"const": "Credenciales inválidas."}));
        assert!(login["responses"]["429"].is_object());
        assert!(doc["paths"]["/sessions"]["get"].is_object(), "native endpoints stay described");
        let profile = &doc["paths"]["/profile"]["get"];
        assert_eq!(
            profile["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["id"],
            json!({"type": "integer"})
        );
    }

    #[test]
    fn a_profile_field_carries_the_native_constraints_of_the_field_it_maps_to() {
        let native: Value = serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
        let doc = document(native.clone(), &load("accounts").unwrap().unwrap(), "/auth");
        let body = |path: &str| {
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
        };
        let native_email = &native["components"]["schemas"]["ForgotPasswordRequest"]["properties"]["email"];
        let email = &body("/forgot-password")["properties"]["email"];
        assert_eq!((&email["pattern"], &email["type"]), (&native_email["pattern"], &json!("string")));
        let signup = body("/signup");
        assert_eq!(
            signup["properties"]["email"]["pattern"], native_email["pattern"],
            "not the derived username's"
        );
        assert_eq!(
            signup["properties"]["first_name"]["type"],
            json!(["string", "null"]),
            "optional: null is absent"
        );
        assert_eq!(signup["properties"]["password"]["minLength"], json!(8));
        let doc = document(native, &load("pos").unwrap().unwrap(), "/api/auth");
        let username = &doc["paths"]["/login"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"]["username"];
        assert_eq!((&username["minLength"], &username["maxLength"]), (&json!(3), &json!(30)));
        assert!(username["pattern"].is_string());
    }

    #[test]
    fn native_operations_document_the_errors_the_profile_renders_everywhere() {
        let native: Value = serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
        let vinyl = load("vinyl").unwrap().unwrap();
        let doc = document(native, &vinyl, "");
        let unauthorized = &doc["paths"]["/sessions"]["get"]["responses"]["401"]["content"];
        assert!(unauthorized["application/problem+json"].is_object(), "the native problem stays");
        let theirs = &unauthorized["application/json"]["schema"]["anyOf"];
        assert_eq!(
            theirs[0]["properties"]["error"]["const"],
            json!(vinyl.errors["token_missing"].body["error"])
        );
        let forbidden = &doc["paths"]["/admin/users"]["get"]["responses"]["403"]["content"];
        assert!(forbidden["application/json"]["schema"]["anyOf"].is_array());
        assert!(
            doc["paths"]["/.well-known/jwks.json"]["get"]["responses"]["401"].is_null(),
            "no status is added"
        );
    }
}
