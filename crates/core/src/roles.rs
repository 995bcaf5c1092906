//! Roles and what each may do. `admin` may do everything, `demo` may read the admin views but write
//! nothing, `user` and deployment-defined roles (from `ROLES`, e.g. `cajero`) have no admin rights.
//! Downstream services read the `role` claim themselves; 401 means "who are you?", 403 "you may not".

use crate::error::AuthError;

pub const ADMIN: &str = "admin";
pub const USER: &str = "user";
pub const DEMO: &str = "demo";
pub const BUILT_IN: [&str; 3] = [ADMIN, USER, DEMO];

/// Something a caller may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the admin views of users.
    ReadUsers,
    /// Create, change, delete users; end their sessions; import.
    ManageUsers,
}

pub fn allows(role: &str, permission: Permission) -> bool {
    match permission {
        Permission::ReadUsers => role == ADMIN || role == DEMO,
        Permission::ManageUsers => role == ADMIN,
    }
}

/// `Ok` when `role` has `permission`, else 403 `forbidden`.
pub fn require(role: &str, permission: Permission) -> Result<(), AuthError> {
    if allows(role, permission) {
        Ok(())
    } else {
        Err(AuthError::Forbidden)
    }
}

/// A role name a deployment may define: lowercase ASCII letters, digits, `_` and `-`, 1-32 long.
pub fn is_valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_read_and_manage() {
        assert!(require(ADMIN, Permission::ReadUsers).is_ok());
        assert!(require(ADMIN, Permission::ManageUsers).is_ok());
    }

    #[test]
    fn demo_may_read_but_not_manage() {
        assert!(require(DEMO, Permission::ReadUsers).is_ok());
        assert_eq!(require(DEMO, Permission::ManageUsers), Err(AuthError::Forbidden));
    }

    #[test]
    fn users_and_custom_roles_may_do_neither() {
        for role in [USER, "cajero", "Admin", ""] {
            assert_eq!(require(role, Permission::ReadUsers), Err(AuthError::Forbidden), "{role}");
            assert_eq!(require(role, Permission::ManageUsers), Err(AuthError::Forbidden), "{role}");
        }
    }

    #[test]
    fn role_names_are_restricted() {
        assert!(is_valid_name("cajero"));
        assert!(is_valid_name("point_of-sale2"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("Cajero"));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name(&"x".repeat(33)));
    }
}
