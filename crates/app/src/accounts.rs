//! Registering hospitals and dashboard users: shared by the command line and the admin pages.

use crate::error::{AppError, AppResult};
use crate::keys::random_token;
use crate::password;
use shouzhen_domain::actor::Role;
use shouzhen_domain::field::FieldError;
use shouzhen_domain::field::looks_like_email;
use shouzhen_store::db::{self, DbConn};
use shouzhen_store::{self, hospitals::Hospital, users::User};

pub struct HospitalInput {
    pub code: String,
    pub name: String,
    pub district: String,
    pub jurisdiction: String,
    pub capacity: i32,
    /// Where the hospital's notices go (forwarded cases, returns, reminders).
    pub email: Option<String>,
    /// The zones it is a designated (定点/黄码) hospital for, comma-separated
    /// (`sealed,controlled`); blank for none. A hospital's only.
    pub designated_for: String,
}

/// A hospital's credentials, shown once.
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

fn validate_hospital(input: &HospitalInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code_ok = !input.code.is_empty()
        && input.code.len() <= 32
        && input
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !code_ok {
        errors.push(FieldError::new(
            "code",
            "must be 1-32 letters, digits, - or _",
        ));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 200 {
        errors.push(FieldError::new("name", "must be 1-200 characters"));
    }
    if input.district.chars().count() > 100 {
        errors.push(FieldError::new(
            "district",
            "must be at most 100 characters",
        ));
    }
    if let Err(e) = shouzhen_domain::event::OriginZone::parse_designated(&input.designated_for) {
        errors.push(FieldError::new("designated_for", e));
    }
    if input.capacity < 0 {
        errors.push(FieldError::new("capacity", "must not be negative"));
    }
    if input
        .email
        .as_deref()
        .is_some_and(|e| !looks_like_email(e.trim()))
    {
        errors.push(FieldError::new("email", "is not an email address"));
    }
    errors
}

/// Sets or clears (empty) where a hospital's notices go.
pub fn set_hospital_email(conn: &mut DbConn, code: &str, email: &str) -> AppResult<Hospital> {
    let email = email.trim().to_lowercase();
    if !email.is_empty() && !looks_like_email(&email) {
        return Err(AppError::field("email", "is not an email address"));
    }
    let hospital = shouzhen_store::hospitals::by_code(conn, code)?
        .ok_or_else(|| AppError::NotFound(format!("no hospital with code {code}")))?;
    shouzhen_store::hospitals::set_email(
        conn,
        hospital.id,
        Some(email.as_str()).filter(|e| !e.is_empty()),
    )?;
    Ok(shouzhen_store::hospitals::by_id(conn, hospital.id)?
        .ok_or(shouzhen_store::StoreError::NotFound)?)
}

pub fn add_hospital(
    conn: &mut DbConn,
    input: &HospitalInput,
) -> AppResult<(Hospital, Credentials)> {
    add_source(conn, shouzhen_store::hospitals::HOSPITAL, input)
}

/// Registers a 120 dispatch centre (a machine client like a hospital's; `capacity` and
/// `email` unused).
pub fn add_dispatch_centre(
    conn: &mut DbConn,
    input: &HospitalInput,
) -> AppResult<(Hospital, Credentials)> {
    add_source(conn, shouzhen_store::hospitals::DISPATCH, input)
}

/// Registers a community transport desk (a machine client like a 120 centre's).
pub fn add_community_desk(
    conn: &mut DbConn,
    input: &HospitalInput,
) -> AppResult<(Hospital, Credentials)> {
    add_source(conn, shouzhen_store::hospitals::COMMUNITY, input)
}

/// Registers a log source of `kind` and makes its client credentials (the secret shown once).
fn add_source(
    conn: &mut DbConn,
    kind: &str,
    input: &HospitalInput,
) -> AppResult<(Hospital, Credentials)> {
    let mut errors = validate_hospital(input);
    let zones = shouzhen_domain::event::OriginZone::parse_designated(&input.designated_for)
        .unwrap_or_default();
    if kind != shouzhen_store::hospitals::HOSPITAL && !zones.is_empty() {
        errors.push(FieldError::new(
            "designated_for",
            "is only for a hospital (a dispatch centre or a desk treats no patients)",
        ));
    }
    let designated_for = shouzhen_domain::event::OriginZone::designated_text(&zones);
    let email = input
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    let prefix = match kind {
        shouzhen_store::hospitals::DISPATCH => "dc",
        shouzhen_store::hospitals::COMMUNITY => "cd",
        _ => "hc",
    };
    let credentials = Credentials {
        client_id: format!("{prefix}_{}", random_token(12)),
        client_secret: random_token(32),
    };
    let secret_hash = password::hash_client_secret(&credentials.client_secret);
    let new = shouzhen_store::hospitals::NewHospital {
        code: &input.code,
        name: input.name.trim(),
        district: input.district.trim(),
        jurisdiction: &input.jurisdiction,
        client_id: &credentials.client_id,
        secret_hash: &secret_hash,
        capacity: input.capacity,
        escalation_email: None,
        disabled: false,
        created_at: shouzhen_store::now(),
        email: email.as_deref(),
        kind,
        designated_for: &designated_for,
    };
    match shouzhen_store::hospitals::insert(conn, &new) {
        Ok(h) => Ok((h, credentials)),
        Err(e) if db::is_unique_violation(&e) => Err(AppError::Conflict(format!(
            "the code {} is already registered (to a hospital, a dispatch centre or a desk)",
            input.code
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Replaces a hospital's (or a dispatch centre's) client secret; the old one stops working
/// at once.
pub fn rotate_secret(conn: &mut DbConn, code: &str) -> AppResult<Credentials> {
    let hospital = shouzhen_store::hospitals::any_by_code(conn, code)?
        .ok_or_else(|| AppError::NotFound(format!("no hospital with code {code}")))?;
    let client_secret = random_token(32);
    shouzhen_store::hospitals::set_secret(
        conn,
        hospital.id,
        &password::hash_client_secret(&client_secret),
    )?;
    Ok(Credentials {
        client_id: hospital.client_id,
        client_secret,
    })
}

pub struct UserInput {
    pub email: String,
    pub role: String,
    pub district: Option<String>,
    pub password: String,
    /// The hospital's code: required for the `hospital` role, refused for any other.
    pub hospital: Option<String>,
}

/// Validates and hashes (slow: call off the async threads), then stores.
pub fn add_user(conn: &mut DbConn, input: &UserInput) -> AppResult<User> {
    let mut errors = Vec::new();
    let email = input.email.trim().to_lowercase();
    if !looks_like_email(&email) {
        errors.push(FieldError::new("email", "is not an email address"));
    }
    let role = Role::parse_staff(&input.role);
    if role.is_none() {
        errors.push(FieldError::new(
            "role",
            "must be inspector, supervisor, admin, hospital or operator",
        ));
    }
    let hospital_code = input
        .hospital
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let hospital_id = match (role, hospital_code) {
        (Some(Role::HospitalStaff), None) => {
            errors.push(FieldError::new(
                "hospital",
                "is required for the hospital role (the hospital's code)",
            ));
            None
        }
        (Some(Role::HospitalStaff), Some(code)) => {
            match shouzhen_store::hospitals::by_code(conn, code)? {
                Some(h) => Some(h.id),
                None => {
                    errors.push(FieldError::new(
                        "hospital",
                        "is not a registered hospital's code",
                    ));
                    None
                }
            }
        }
        (_, Some(_)) => {
            errors.push(FieldError::new("hospital", "is only for the hospital role"));
            None
        }
        (_, None) => None,
    };
    if input.password.chars().count() < password::MIN_PASSWORD_LEN {
        errors.push(FieldError::new(
            "password",
            format!("must be at least {} characters", password::MIN_PASSWORD_LEN),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    let hash = password::hash(&input.password).map_err(AppError::internal)?;
    let district = input
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let new = shouzhen_store::users::NewUser {
        email: &email,
        password_hash: &hash,
        role: &input.role,
        district,
        disabled: false,
        created_at: shouzhen_store::now(),
        hospital_id,
    };
    match shouzhen_store::users::insert(conn, &new) {
        Ok(u) => Ok(u),
        Err(e) if db::is_unique_violation(&e) => Err(AppError::Conflict(format!(
            "a user with email {email} exists"
        ))),
        Err(e) => Err(e.into()),
    }
}
