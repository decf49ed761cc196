//! The read-only figures the pages and the public board show: crowding, closures, counts of
//! cases per hospital, the charts' rows, the scorecard's events.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{cases, hospitals, intake_events};

/// (kind, closure id, at, payload) of a closure's start or end.
pub type ClosureEvent = (String, Option<String>, NaiveDateTime, String);
/// (kind, at, patient key, payload) of an event.
pub type KindEvent = (String, NaiveDateTime, Option<String>, String);

/// Arrivals at a hospital since `since`.
pub fn arrivals_since(
    conn: &mut DbConn,
    hospital_id: i64,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    intake_events::table
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::kind.eq("arrival"))
        .filter(intake_events::occurred_at.ge(since))
        .count()
        .get_result(conn)
}

/// A hospital's closure starts and ends since `since`, as (kind, closure id, at, payload).
pub fn closure_events_since(
    conn: &mut DbConn,
    hospital_id: i64,
    since: NaiveDateTime,
) -> QueryResult<Vec<ClosureEvent>> {
    intake_events::table
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::kind.eq_any(["closure_start", "closure_end"]))
        .filter(intake_events::occurred_at.ge(since))
        .order((intake_events::occurred_at.asc(), intake_events::id.asc()))
        .select((
            intake_events::kind,
            intake_events::closure_id,
            intake_events::occurred_at,
            intake_events::payload,
        ))
        .load(conn)
}

/// A hospital's events of the given kinds since `since`, in time order, as (kind, at, patient
/// key, payload): what a scorecard measures.
pub fn events_of_kinds_since(
    conn: &mut DbConn,
    hospital_id: i64,
    kinds: &[&str],
    since: NaiveDateTime,
) -> QueryResult<Vec<KindEvent>> {
    intake_events::table
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::occurred_at.ge(since))
        .filter(intake_events::kind.eq_any(kinds))
        .order(intake_events::occurred_at.asc())
        .select((
            intake_events::kind,
            intake_events::occurred_at,
            intake_events::patient_key,
            intake_events::payload,
        ))
        .load(conn)
}

/// Which statuses [`cases_since`] counts.
#[derive(Debug, Clone, Copy)]
pub enum Statuses<'a> {
    In(&'a [&'a str]),
    NotIn(&'a [&'a str]),
}

/// A hospital's cases opened since `since` whose status is (or is not) among the given ones.
pub fn cases_since(
    conn: &mut DbConn,
    hospital_id: i64,
    statuses: Statuses<'_>,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let q = cases::table
        .filter(cases::hospital_id.eq(hospital_id))
        .filter(cases::opened_at.ge(since))
        .into_boxed();
    let q = match statuses {
        Statuses::In(s) => q.filter(cases::status.eq_any(s)),
        Statuses::NotIn(s) => q.filter(cases::status.ne_all(s)),
    };
    q.count().get_result(conn)
}

/// A case as the charts count it.
#[derive(Debug, Clone, Queryable)]
pub struct ChartRow {
    pub rule: String,
    pub hospital: Option<String>,
    pub district: String,
    pub occurred_at: NaiveDateTime,
    pub opened_at: NaiveDateTime,
}

/// The cases opened since `since` and not withdrawn, of one district or all.
pub fn chart_rows(
    conn: &mut DbConn,
    since: NaiveDateTime,
    district: Option<&str>,
) -> QueryResult<Vec<ChartRow>> {
    let mut q = cases::table
        .left_join(hospitals::table)
        .filter(cases::opened_at.ge(since))
        .filter(cases::status.ne("withdrawn"))
        .select((
            cases::rule,
            hospitals::name.nullable(),
            cases::district,
            cases::occurred_at,
            cases::opened_at,
        ))
        .into_boxed();
    if let Some(d) = district {
        q = q.filter(cases::district.eq(d));
    }
    q.load::<ChartRow>(conn)
}

/// The closed loop's actions on a hospital's cases since `since`, as (case id, action, at),
/// in time order per case.
pub fn loop_actions(
    conn: &mut DbConn,
    hospital_id: i64,
    since: NaiveDateTime,
) -> QueryResult<Vec<(i64, String, NaiveDateTime)>> {
    use crate::schema::case_actions;
    case_actions::table
        .inner_join(cases::table)
        .filter(cases::hospital_id.eq(hospital_id))
        .filter(case_actions::at.ge(since))
        .filter(case_actions::action.eq_any(["forward", "reply", "return", "rectify"]))
        .order((case_actions::case_id, case_actions::id))
        .select((
            case_actions::case_id,
            case_actions::action,
            case_actions::at,
        ))
        .load(conn)
}

/// A hospital's cases in rectification whose deadline has passed.
pub fn rectifications_overdue(
    conn: &mut DbConn,
    hospital_id: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    cases::table
        .filter(cases::hospital_id.eq(hospital_id))
        .filter(cases::status.eq("rectifying"))
        .filter(cases::rectification_due.lt(now))
        .count()
        .get_result(conn)
}
