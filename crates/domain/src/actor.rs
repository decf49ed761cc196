//! Who acts: the roles, and a dashboard user as the services see one (the HTTP layer's
//! extractors build it from a session or a token; nothing below them knows how).

use serde::{Deserialize, Serialize};

/// The kinds of log sources in the register (the store's `hospitals.kind`): a hospital, a 120
/// dispatch centre, and a community transport desk.
pub const HOSPITAL_SOURCE: &str = "hospital";
pub const DISPATCH_SOURCE: &str = "dispatch";
pub const COMMUNITY_SOURCE: &str = "community";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A community transport desk's machine client (its transport log for sealed areas).
    Community,
    /// A 120 dispatch centre's machine client (its call log).
    Dispatch,
    /// A hospital's machine client (its systems posting their logs).
    Hospital,
    /// A hospital's own staff (医务处), bound to one hospital: they see and answer only the
    /// cases forwarded to it. Stored as `hospital` in the user's row; `hospital_staff` in a token.
    HospitalStaff,
    /// A 12320 hotline operator: files complaints taken by phone; sees complaints, not cases.
    Operator,
    Inspector,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Community => "community",
            Self::Dispatch => "dispatch",
            Self::Hospital => "hospital",
            Self::HospitalStaff => "hospital",
            Self::Operator => "operator",
            Self::Inspector => "inspector",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }

    /// A machine client's role (a hospital's, a dispatch centre's or a community desk's
    /// systems), never a user's.
    pub fn is_machine(self) -> bool {
        matches!(self, Self::Community | Self::Dispatch | Self::Hospital)
    }

    /// The role of a log source's machine client, by the source's kind in the register.
    pub fn of_source(kind: &str) -> Self {
        match kind {
            DISPATCH_SOURCE => Self::Dispatch,
            COMMUNITY_SOURCE => Self::Community,
            _ => Self::Hospital,
        }
    }

    /// The roles of user accounts (a hospital's machine client is none of them).
    pub fn parse_staff(s: &str) -> Option<Self> {
        match s {
            "hospital" => Some(Self::HospitalStaff),
            "operator" => Some(Self::Operator),
            "inspector" => Some(Self::Inspector),
            "supervisor" => Some(Self::Supervisor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A signed-in user: an inspector, supervisor or admin, or a hospital's staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub district: Option<String>,
    /// The hospital a `HospitalStaff` user works for.
    pub hospital_id: Option<i64>,
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

    /// The hospital this user answers for, if they are a hospital's staff.
    pub fn hospital_scope(&self) -> Option<i64> {
        match self.role {
            Role::HospitalStaff => self.hospital_id,
            _ => None,
        }
    }

    /// Whether this user supervises hospitals (an inspector or above).
    pub fn is_inspector(&self) -> bool {
        self.role >= Role::Inspector
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
            hospital_id: Some(7),
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
    fn a_hospital_user_is_its_staff_never_its_machine_client_and_below_an_inspector() {
        assert_eq!(Role::parse_staff("hospital"), Some(Role::HospitalStaff));
        assert_eq!(Role::parse_staff("supervisor"), Some(Role::Supervisor));
        assert_eq!(Role::parse_staff("operator_x"), None);
        assert!(Role::HospitalStaff < Role::Inspector);
        assert!(
            Role::Operator < Role::Inspector,
            "an operator sees no cases"
        );
        assert_eq!(Role::parse_staff("operator"), Some(Role::Operator));
        assert!(!staff(Role::Operator).is_inspector());
        assert!(!staff(Role::HospitalStaff).is_inspector());
        assert!(staff(Role::Inspector).is_inspector());
        assert_eq!(staff(Role::HospitalStaff).hospital_scope(), Some(7));
        assert_eq!(staff(Role::Inspector).hospital_scope(), None);
        assert_eq!(staff(Role::HospitalStaff).district_scope(), None);
    }
}
