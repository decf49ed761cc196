use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::schema::hospitals;

/// The kinds of log sources in the register (`hospitals.kind`): a hospital, and a 120
/// dispatch centre. Both post their logs the same way; only a hospital is a hospital to the
/// rules, the board, complaints and hospital users.
pub use shouzhen_domain::actor::{
    COMMUNITY_SOURCE as COMMUNITY, DISPATCH_SOURCE as DISPATCH, HOSPITAL_SOURCE as HOSPITAL,
};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = hospitals)]
pub struct Hospital {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub district: String,
    pub jurisdiction: String,
    pub client_id: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub capacity: i32,
    pub escalation_email: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub last_received_at: Option<NaiveDateTime>,
    /// Where the hospital's notices go (forwarded cases, returns, reminders).
    pub email: Option<String>,
    /// [`HOSPITAL`], [`DISPATCH`] or [`COMMUNITY`].
    pub kind: String,
    /// The zones it is designated for, comma-separated (`sealed,controlled`); empty for none.
    pub designated_for: String,
    /// When its secret was last replaced: its tokens issued before are refused.
    #[serde(skip)]
    pub secret_rotated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = hospitals)]
pub struct NewHospital<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub district: &'a str,
    pub jurisdiction: &'a str,
    pub client_id: &'a str,
    pub secret_hash: &'a str,
    pub capacity: i32,
    pub escalation_email: Option<&'a str>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub email: Option<&'a str>,
    pub kind: &'a str,
    pub designated_for: &'a str,
}

/// Inserts and reads the row back (RETURNING does not work through `MultiConnection`).
pub fn insert(conn: &mut DbConn, new: &NewHospital<'_>) -> QueryResult<Hospital> {
    diesel::insert_into(hospitals::table)
        .values(new)
        .execute(conn)?;
    source_by_code(conn, new.kind, new.code)?.ok_or(diesel::result::Error::NotFound)
}

pub fn by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<Hospital>> {
    hospitals::table
        .filter(hospitals::client_id.eq(client_id))
        .select(Hospital::as_select())
        .first(conn)
        .optional()
}

/// A hospital by its code (never a dispatch centre's).
pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Hospital>> {
    source_by_code(conn, HOSPITAL, code)
}

/// A log source of any kind by its code (codes are unique across kinds).
pub fn any_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Hospital>> {
    hospitals::table
        .filter(hospitals::code.eq(code))
        .select(Hospital::as_select())
        .first(conn)
        .optional()
}

/// A log source of `kind` by its code.
pub fn source_by_code(conn: &mut DbConn, kind: &str, code: &str) -> QueryResult<Option<Hospital>> {
    hospitals::table
        .filter(hospitals::code.eq(code))
        .filter(hospitals::kind.eq(kind))
        .select(Hospital::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Hospital>> {
    hospitals::table
        .find(id)
        .select(Hospital::as_select())
        .first(conn)
        .optional()
}

/// The hospitals (not the dispatch centres), by code.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Hospital>> {
    all_of(conn, HOSPITAL)
}

/// The log sources of `kind`, by code.
pub fn all_of(conn: &mut DbConn, kind: &str) -> QueryResult<Vec<Hospital>> {
    hospitals::table
        .filter(hospitals::kind.eq(kind))
        .order(hospitals::code.asc())
        .select(Hospital::as_select())
        .load(conn)
}

/// Replaces the client's secret; the tokens issued before now are refused from now on.
pub fn set_secret(conn: &mut DbConn, id: i64, secret_hash: &str) -> QueryResult<usize> {
    diesel::update(hospitals::table.find(id))
        .set((
            hospitals::secret_hash.eq(secret_hash),
            hospitals::secret_rotated_at.eq(Some(crate::now())),
        ))
        .execute(conn)
}

/// What intake needs of a hospital whose events it stores.
#[derive(Debug, Queryable)]
pub struct IntakeRow {
    pub id: i64,
    /// The chain hash of its last event; `None` before its first.
    pub event_chain_head: Option<String>,
    pub last_received_at: Option<NaiveDateTime>,
}

/// Reads the hospitals' rows for intake, in one statement. On PostgreSQL the rows stay locked
/// until commit (`FOR NO KEY UPDATE`, which foreign-key checks do not wait for), taken in id
/// order so that two groups sharing hospitals cannot deadlock: this is the lock on each
/// hospital's event chain, so that two writers can neither fork a chain nor store the same
/// event id twice. SQLite has one writer at a time.
pub fn lock_for_intake(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<IntakeRow>> {
    let columns = (
        hospitals::id,
        hospitals::event_chain_head,
        hospitals::last_received_at,
    );
    let rows = hospitals::table
        .filter(hospitals::id.eq_any(ids))
        .order(hospitals::id)
        .select(columns);
    match conn {
        DbConn::Pg(c) => rows.for_no_key_update().load(c),
        DbConn::Sqlite(c) => rows.load(c),
    }
}

/// Notes that the hospitals' feeds are alive at `at`, except those noted within the `grain`
/// before `at` (a busy feed does not rewrite its hospital's row with every request), in one
/// statement. Returns the ids whose rows changed.
pub fn touch(
    conn: &mut DbConn,
    ids: &[i64],
    at: NaiveDateTime,
    grain: chrono::Duration,
) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Built per backend: `returning` is typed by the backend.
    macro_rules! update {
        () => {
            diesel::update(
                hospitals::table.filter(hospitals::id.eq_any(ids)).filter(
                    hospitals::last_received_at
                        .is_null()
                        .or(hospitals::last_received_at.le(at - grain))
                        .or(hospitals::last_received_at.gt(at)),
                ),
            )
            .set(hospitals::last_received_at.eq(at))
            .returning(hospitals::id)
        };
    }
    match conn {
        DbConn::Pg(c) => update!().get_results(c),
        DbConn::Sqlite(c) => update!().get_results(c),
    }
}

/// Enables or disables a hospital (a disabled one's tokens are refused).
pub fn set_disabled(conn: &mut DbConn, id: i64, disabled: bool) -> QueryResult<usize> {
    diesel::update(hospitals::table.find(id))
        .set(hospitals::disabled.eq(disabled))
        .execute(conn)
}

/// Sets (or clears) where the hospital's notices go.
pub fn set_email(conn: &mut DbConn, id: i64, email: Option<&str>) -> QueryResult<usize> {
    diesel::update(hospitals::table.find(id))
        .set(hospitals::email.eq(email))
        .execute(conn)
}
