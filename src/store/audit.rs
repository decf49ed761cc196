//! The append-only audit trail (the database refuses updates and deletes of its rows).

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
