//! Who acts: the roles, and a dashboard user as the services see one (the HTTP layer's
//! extractors build it from a session or a token; nothing below them knows how).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Hospital,
    Inspector,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::Inspector => "inspector",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }

    /// The roles of dashboard users (hospitals are machine clients).
    pub fn parse_staff(s: &str) -> Option<Self> {
        match s {
            "inspector" => Some(Self::Inspector),
            "supervisor" => Some(Self::Supervisor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A dashboard user (inspector, supervisor or admin).
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub district: Option<String>,
}

impl Staff {
    /// The district whose cases this user may see and act on: an inspector's own (if set);
    /// supervisors and admins see every district.
    pub fn district_scope(&self) -> Option<String> {
        match self.role {
            Role::Inspector => self.district.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role) -> Staff {
        Staff {
            user_id: 1,
            email: "a@example.cn".into(),
            role,
            district: Some("朝阳区".into()),
        }
    }

    #[test]
    fn only_an_inspector_is_held_to_a_district() {
        assert_eq!(
            staff(Role::Inspector).district_scope().as_deref(),
            Some("朝阳区")
        );
        assert_eq!(staff(Role::Supervisor).district_scope(), None);
        assert_eq!(staff(Role::Admin).district_scope(), None);
    }

    #[test]
    fn a_hospital_is_no_dashboard_role() {
        assert_eq!(Role::parse_staff("hospital"), None);
        assert_eq!(Role::parse_staff("supervisor"), Some(Role::Supervisor));
    }
}
