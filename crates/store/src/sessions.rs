//! Dashboard sessions (server-side, so that logging out ends them on every instance).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::schema::sessions;

pub const LIFETIME_HOURS: i64 = 8;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session under `token` (the cookie's value, random: the store keeps its hash only).
pub fn create(conn: &mut DbConn, token: &str, user_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(hash(token)),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(now + Duration::hours(LIFETIME_HOURS)),
        ))
        .execute(conn)?;
    // Expired sessions of anyone are removed as new ones start.
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(now))).execute(conn)?;
    Ok(())
}

/// The user of a live session.
pub fn user_of(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    sessions::table
        .filter(sessions::id_hash.eq(hash(token)))
        .filter(sessions::expires_at.gt(now))
        .select(sessions::user_id)
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut DbConn, token: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash(token))))
        .execute(conn)
        .map(|_| ())
}

/// Ends every session of a user (when the account is disabled).
pub fn delete_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
        .execute(conn)
        .map(|_| ())
}
