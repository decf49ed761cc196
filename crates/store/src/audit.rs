//! The append-only audit trail (the database refuses updates and deletes of its rows).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::audit_log;

#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub detail: &'a str,
    pub ip: &'a str,
}

pub fn record(conn: &mut DbConn, entry: &Entry<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(super::now()),
            audit_log::actor_id.eq(entry.actor_id),
            audit_log::actor_label.eq(entry.actor_label),
            audit_log::action.eq(entry.action),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::detail.eq(entry.detail),
            audit_log::ip.eq(entry.ip),
        ))
        .execute(conn)
        .map(|_| ())
}

/// An entry as the audit page shows it.
#[derive(Debug, Clone, Queryable)]
pub struct Logged {
    pub at: NaiveDateTime,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: String,
    pub ip: String,
}

/// The latest `limit` entries, newest first.
pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Logged>> {
    audit_log::table
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .select((
            audit_log::at,
            audit_log::actor_label,
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::detail,
            audit_log::ip,
        ))
        .load(conn)
}

/// How many `action` entries since `since` name the actor `label`, and how many came from
/// `ip` (failed sign-ins, for throttling).
pub fn count_since(
    conn: &mut DbConn,
    action: &str,
    since: NaiveDateTime,
    label: &str,
    ip: &str,
) -> QueryResult<(i64, i64)> {
    let recent = audit_log::table
        .filter(audit_log::action.eq(action))
        .filter(audit_log::at.ge(since));
    let by_label: i64 = recent
        .filter(audit_log::actor_label.eq(label))
        .count()
        .get_result(conn)?;
    let by_ip: i64 = recent
        .filter(audit_log::ip.eq(ip))
        .count()
        .get_result(conn)?;
    Ok((by_label, by_ip))
}

/// The (time, action) of every entry about one target, in order.
pub fn about(
    conn: &mut DbConn,
    target_type: &str,
    target_id: &str,
) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    audit_log::table
        .filter(audit_log::target_type.eq(target_type))
        .filter(audit_log::target_id.eq(target_id))
        .order(audit_log::id)
        .select((audit_log::at, audit_log::action))
        .load(conn)
}
