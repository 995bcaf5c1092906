//! The user record and the views of it that leave the server. A password hash is never in a view.

use crate::time::rfc3339;
use serde::Serialize;

/// A user as stored in D1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
}

/// The user object of API.md, as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub created_at: String,
}

/// The admin view: the user object plus account state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminUserView {
    #[serde(flatten)]
    pub user: UserView,
    pub disabled: bool,
    pub updated_at: String,
    pub last_login_at: Option<String>,
}

impl User {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            created_at: rfc3339(self.created_at),
        }
    }

    pub fn admin_view(&self) -> AdminUserView {
        AdminUserView {
            user: self.view(),
            disabled: self.disabled,
            updated_at: rfc3339(self.updated_at),
            last_login_at: self.last_login_at.map(rfc3339),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_view_contains_the_password_hash() {
        let u = User {
            id: "u1".into(),
            username: "alice".into(),
            email: None,
            display_name: Some("Alice".into()),
            role: "user".into(),
            password_hash: "$pbkdf2-sha512$i=1000,l=64$c2FsdA$SECRET".into(),
            disabled: false,
            created_at: 0,
            updated_at: 60,
            last_login_at: None,
        };
        let plain = serde_json::to_string(&u.view()).unwrap();
        let admin = serde_json::to_string(&u.admin_view()).unwrap();
        for json in [&plain, &admin] {
            assert!(!json.contains("SECRET") && !json.contains("password"), "{json}");
        }
        assert_eq!(
            plain,
            r#"{"id":"u1","username":"alice","email":null,"display_name":"Alice","role":"user","created_at":"1970-01-01T00:00:00Z"}"#
        );
        assert!(
            admin.contains(r#""disabled":false,"updated_at":"1970-01-01T00:01:00Z","last_login_at":null"#)
        );
    }
}
