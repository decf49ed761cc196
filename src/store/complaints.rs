//! Complaints as the rule engine reads them (the complaint workflow adds to this module).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::rules::complaint_cluster::ComplaintView;
use crate::schema::{complaints, hospitals};

/// What `complaint.unanswered` needs of one complaint.
pub struct UnansweredView {
    pub id: i64,
    pub tracking_code: String,
    pub hospital_id: Option<i64>,
    pub jurisdiction: String,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
}

pub fn unanswered_view(conn: &mut DbConn, id: i64) -> QueryResult<Option<UnansweredView>> {
    type Row = (
        i64,
        String,
        Option<i64>,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let row: Option<Row> = complaints::table
        .left_join(hospitals::table)
        .filter(complaints::id.eq(id))
        .select((
            complaints::id,
            complaints::tracking_code,
            complaints::hospital_id,
            hospitals::jurisdiction.nullable(),
            complaints::created_at,
            complaints::acknowledged_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, tracking_code, hospital_id, jurisdiction, created_at, acknowledged_at)| {
            UnansweredView {
                id,
                tracking_code,
                hospital_id,
                jurisdiction: jurisdiction.unwrap_or_default(),
                created_at,
                acknowledged_at,
            }
        },
    ))
}

/// A hospital's complaints filed within `[from, to]` (merged duplicates left out).
pub fn for_cluster(
    conn: &mut DbConn,
    hospital_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<ComplaintView>> {
    let rows: Vec<(i64, NaiveDateTime)> = complaints::table
        .filter(complaints::hospital_id.eq(hospital_id))
        .filter(complaints::merged_into.is_null())
        .filter(complaints::created_at.between(from, to))
        .select((complaints::id, complaints::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at)| ComplaintView { id, created_at })
        .collect())
}

/// A complaint as case evidence (description already redacted).
#[derive(Debug, Clone, Queryable)]
pub struct EvidenceRow {
    pub id: i64,
    pub tracking_code: String,
    pub category: String,
    pub occurred_at: NaiveDateTime,
    pub status: String,
    pub description: String,
}

pub fn evidence(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<EvidenceRow>> {
    complaints::table
        .filter(complaints::id.eq_any(ids))
        .order((complaints::occurred_at.asc(), complaints::id.asc()))
        .select((
            complaints::id,
            complaints::tracking_code,
            complaints::category,
            complaints::occurred_at,
            complaints::status,
            complaints::description,
        ))
        .load(conn)
}
