use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub district: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    /// The hospital a `hospital` user works for (no other role has one).
    pub hospital_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub district: Option<&'a str>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub hospital_id: Option<i64>,
}

/// Inserts and reads the row back (RETURNING does not work through `MultiConnection`).
pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    by_email(conn, new.email)?.ok_or(diesel::result::Error::NotFound)
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Every account, by email.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    users::table
        .order(users::email.asc())
        .select(User::as_select())
        .load(conn)
}

/// The emails of the enabled accounts, by email (those a case can be assigned to).
pub fn enabled_emails(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::disabled.eq(false))
        .order(users::email.asc())
        .select(users::email)
        .load(conn)
}

/// Enables or disables an account.
pub fn set_disabled(conn: &mut DbConn, id: i64, disabled: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)
}

/// The emails of the enabled accounts of one role.
pub fn enabled_emails_of_role(conn: &mut DbConn, role: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::role.eq(role))
        .filter(users::disabled.eq(false))
        .select(users::email)
        .load(conn)
}

/// The enabled supervisors of a district, else (none there) every enabled supervisor.
pub fn supervisors_for(conn: &mut DbConn, district: &str) -> QueryResult<Vec<String>> {
    let of_district: Vec<String> = users::table
        .filter(users::role.eq("supervisor"))
        .filter(users::disabled.eq(false))
        .filter(users::district.eq(district))
        .select(users::email)
        .load(conn)?;
    if !of_district.is_empty() {
        return Ok(of_district);
    }
    enabled_emails_of_role(conn, "supervisor")
}
