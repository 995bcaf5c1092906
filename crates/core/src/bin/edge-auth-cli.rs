//! Host-side tool for operators, using the same core code as the Worker.
//!
//! ```text
//! edge-auth-cli hash-password [--iterations N]            # password on stdin -> PHC string
//! edge-auth-cli admin-sql --username NAME [--iterations N] [--role ROLE] [--email EMAIL]
//!                                                         # password on stdin -> upsert SQL for D1
//! edge-auth-cli gen-ed25519-key                           # a new EdDSA signing key and its JWK
//! ```
//! The password is read from standard input (one line), never from the command line, where it would
//! be visible in the process list and shell history.

use edge_auth_core::password::{PasswordHasher, DEFAULT_ITERATIONS};
use edge_auth_core::validate;
use std::io::BufRead;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("edge-auth-cli: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<String, String> {
    let (command, options) = args.split_first().ok_or_else(usage)?;
    let opt = |name: &str| -> Option<String> {
        options.iter().position(|a| a == name).and_then(|i| options.get(i + 1)).cloned()
    };
    let iterations = match opt("--iterations") {
        Some(v) => v.parse::<u32>().map_err(|_| format!("--iterations must be a number, got {v:?}"))?,
        None => DEFAULT_ITERATIONS,
    };
    let hasher = PasswordHasher::new(iterations)?;
    match command.as_str() {
        "gen-ed25519-key" => {
            let (key, seed) = edge_auth_core::token::EdSigningKey::generate();
            let seed = edge_auth_core::b64::URL_SAFE_NO_PAD.encode(seed);
            Ok(format!(
                "JWT_PRIVATE_KEY={seed}\n# keep it secret: printf '%s' \"$JWT_PRIVATE_KEY\" | wrangler secret put JWT_PRIVATE_KEY\n# public JWK (also served at /.well-known/jwks.json): {}",
                key.public().jwk()
            ))
        }
        "hash-password" => Ok(hasher.hash(&read_password()?)),
        "admin-sql" => {
            let username = validate::username(&opt("--username").ok_or("--username is required")?)
                .map_err(|e| e.message)?;
            let role = opt("--role").unwrap_or_else(|| "admin".into());
            if !edge_auth_core::roles::is_valid_name(&role) {
                return Err(format!("invalid role {role:?}"));
            }
            let email = opt("--email").map(|e| validate::email(&e).map_err(|e| e.message)).transpose()?;
            let password = read_password()?;
            if password.chars().count() < 8 {
                return Err("the password must be at least 8 characters".into());
            }
            Ok(upsert_sql(&username, email.as_deref(), &role, &hasher.hash(&password)))
        }
        _ => Err(usage()),
    }
}

fn usage() -> String {
    "usage: edge-auth-cli hash-password [--iterations N] | admin-sql --username NAME [--role ROLE] [--email EMAIL] [--iterations N] (password on stdin)".into()
}

fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("reading stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    validate::login_password("password", &password).map_err(|e| e.message)?;
    Ok(password)
}

/// An idempotent upsert: creates the user, or resets its password and role and re-enables it. An
/// `--email` given is set (the operator typed it, so it counts as verified); without one, the stored
/// address stays. Every value is validated above to contain no quote; `sql_str` escapes anyway.
fn upsert_sql(username: &str, email: Option<&str>, role: &str, hash: &str) -> String {
    let id = edge_auth_core::random::id();
    let verified = if email.is_some() { "unixepoch()" } else { "NULL" };
    let email = email.map(sql_str).unwrap_or_else(|| "NULL".into());
    format!(
        "INSERT INTO users (id, username, email, email_verified_at, role, password_hash) \
         VALUES ({}, {}, {email}, {verified}, {}, {}) \
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, \
         email = COALESCE(excluded.email, users.email), \
         email_verified_at = CASE WHEN excluded.email IS NULL THEN users.email_verified_at \
           WHEN users.email IS excluded.email THEN COALESCE(users.email_verified_at, unixepoch()) \
           ELSE unixepoch() END, \
         disabled = 0, updated_at = unixepoch();",
        sql_str(&id),
        sql_str(username),
        sql_str(role),
        sql_str(hash)
    )
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
