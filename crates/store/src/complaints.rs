//! Complaints as the rule engine reads them (the complaint workflow adds to this module).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{complaints, hospitals};
use shouzhen_domain::rules::complaint_cluster::ComplaintView;

/// One complaint with its hospital's jurisdiction (empty when it names no registered
/// hospital), as the complaint rules judge it.
pub fn with_jurisdiction(conn: &mut DbConn, id: i64) -> QueryResult<Option<(Complaint, String)>> {
    let row: Option<(Complaint, Option<String>)> = complaints::table
        .left_join(hospitals::table)
        .filter(complaints::id.eq(id))
        .select((Complaint::as_select(), hospitals::jurisdiction.nullable()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(c, j)| (c, j.unwrap_or_default())))
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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = complaints)]
pub struct Complaint {
    pub id: i64,
    pub tracking_code: String,
    pub hospital_id: Option<i64>,
    pub hospital_name: String,
    pub category: String,
    pub occurred_at: NaiveDateTime,
    pub description: String,
    pub description_sealed: Option<String>,
    pub contact_sealed: Option<String>,
    pub status: String,
    pub lang: String,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub rating: Option<i32>,
    pub merged_into: Option<i64>,
    /// How it came in: `web`, `phone`, `12345` or `letter`.
    pub channel: String,
    /// The platform's work-order number.
    pub external_ref: Option<String>,
    /// Whether the caller agreed to be called back.
    pub callback_consent: bool,
    /// When it was last forwarded to its hospital (转办).
    pub forwarded_at: Option<NaiveDateTime>,
    /// The hospital's answer is due by then (working days after the forward); kept once it
    /// answered, so that a complaint ever forwarded is known by it.
    pub answer_due: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    /// The hospital's answer, identifiers redacted (shown on the public timeline).
    pub answer: Option<String>,
    /// The operator's callback (回访) is due by then (working days after the answer).
    pub callback_due: Option<NaiveDateTime>,
    pub called_back_at: Option<NaiveDateTime>,
    /// What the last callback found.
    pub resolved: Option<bool>,
    pub satisfaction: Option<String>,
    /// How often a callback reopened it.
    pub reopened: i32,
}

/// A step of the hotline loop: the columns it sets (`None`: left as they are; `Some(None)`:
/// cleared).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = complaints)]
pub struct Step<'a> {
    pub status: Option<&'a str>,
    pub acknowledged_at: Option<Option<NaiveDateTime>>,
    pub forwarded_at: Option<Option<NaiveDateTime>>,
    pub answer_due: Option<Option<NaiveDateTime>>,
    pub answered_at: Option<Option<NaiveDateTime>>,
    pub answer: Option<Option<&'a str>>,
    pub callback_due: Option<Option<NaiveDateTime>>,
    pub called_back_at: Option<Option<NaiveDateTime>>,
    pub resolved: Option<Option<bool>>,
    pub satisfaction: Option<Option<&'a str>>,
    pub reopened: Option<i32>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub outcome: Option<Option<&'a str>>,
}

/// Takes a step of the loop if the complaint is still `from`; false if it changed meanwhile.
pub fn step(conn: &mut DbConn, id: i64, from: &str, step: &Step<'_>) -> QueryResult<bool> {
    let target = complaints::table
        .find(id)
        .filter(complaints::status.eq(from));
    Ok(diesel::update(target).set(step).execute(conn)? > 0)
}

/// The complaints ever forwarded to a hospital (its staff's inbox): those waiting for its
/// answer first, the earliest due first; then the others, the latest forwarded first.
pub fn forwarded_to(
    conn: &mut DbConn,
    hospital_id: i64,
    limit: i64,
) -> QueryResult<Vec<Complaint>> {
    let mut rows: Vec<Complaint> = complaints::table
        .filter(complaints::hospital_id.eq(hospital_id))
        .filter(complaints::answer_due.is_not_null())
        .order(complaints::forwarded_at.desc())
        .limit(limit)
        .select(Complaint::as_select())
        .load(conn)?;
    let done =
        |c: &Complaint| !shouzhen_domain::complaint::AWAITING_HOSPITAL.contains(&c.status.as_str());
    rows.sort_by(|a, b| {
        done(a).cmp(&done(b)).then_with(|| {
            if done(a) {
                b.forwarded_at.cmp(&a.forwarded_at)
            } else {
                a.answer_due.cmp(&b.answer_due)
            }
        })
    });
    Ok(rows)
}

/// The answered complaints whose callback is due by `until` (the desk's list: overdue ones
/// first), at most `limit`.
pub fn callbacks_due(
    conn: &mut DbConn,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Complaint>> {
    complaints::table
        .filter(complaints::status.eq("answered"))
        .filter(complaints::callback_due.le(until))
        .order((complaints::callback_due.asc(), complaints::id.asc()))
        .limit(limit)
        .select(Complaint::as_select())
        .load(conn)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = complaints)]
pub struct NewComplaint<'a> {
    pub tracking_code: &'a str,
    pub hospital_id: Option<i64>,
    pub hospital_name: &'a str,
    pub category: &'a str,
    pub occurred_at: NaiveDateTime,
    pub description: &'a str,
    pub description_sealed: Option<&'a str>,
    pub contact_sealed: Option<&'a str>,
    pub status: &'a str,
    pub lang: &'a str,
    pub created_at: NaiveDateTime,
    pub channel: &'a str,
    pub external_ref: Option<&'a str>,
    pub callback_consent: bool,
}

pub fn insert(conn: &mut DbConn, new: &NewComplaint<'_>) -> QueryResult<Complaint> {
    diesel::insert_into(complaints::table)
        .values(new)
        .execute(conn)?;
    by_code(conn, new.tracking_code)?.ok_or(diesel::result::Error::NotFound)
}

/// The complaint a platform's work order was filed as, if it was.
pub fn by_external_ref(
    conn: &mut DbConn,
    channel: &str,
    external_ref: &str,
) -> QueryResult<Option<Complaint>> {
    complaints::table
        .filter(complaints::channel.eq(channel))
        .filter(complaints::external_ref.eq(external_ref))
        .select(Complaint::as_select())
        .first(conn)
        .optional()
}

pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Complaint>> {
    complaints::table
        .filter(complaints::tracking_code.eq(code))
        .select(Complaint::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Complaint>> {
    complaints::table
        .find(id)
        .select(Complaint::as_select())
        .first(conn)
        .optional()
}

pub fn add_update(
    conn: &mut DbConn,
    complaint_id: i64,
    kind: &str,
    public_note: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use crate::schema::complaint_updates as u;
    diesel::insert_into(u::table)
        .values((
            u::complaint_id.eq(complaint_id),
            u::kind.eq(kind),
            u::public_note.eq(public_note),
            u::at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The public timeline: (at, kind, public note).
pub fn updates(
    conn: &mut DbConn,
    complaint_id: i64,
) -> QueryResult<Vec<(NaiveDateTime, String, String)>> {
    use crate::schema::complaint_updates as u;
    u::table
        .filter(u::complaint_id.eq(complaint_id))
        .order((u::at.asc(), u::id.asc()))
        .select((u::at, u::kind, u::public_note))
        .load(conn)
}

/// Moves the status if it is still `from`; false if it changed meanwhile.
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    from: &str,
    to: &str,
    at: NaiveDateTime,
    merged_into: Option<i64>,
    outcome: Option<&str>,
) -> QueryResult<bool> {
    let target = complaints::table
        .find(id)
        .filter(complaints::status.eq(from));
    let n = diesel::update(target)
        .set((
            complaints::status.eq(to),
            complaints::merged_into.eq(merged_into),
            complaints::outcome.eq(outcome),
            complaints::closed_at.eq((to == "closed" || to == "merged").then_some(at)),
        ))
        .execute(conn)?;
    if n > 0 && from == "received" {
        diesel::update(complaints::table.find(id))
            .set(complaints::acknowledged_at.eq(at))
            .execute(conn)?;
    }
    Ok(n > 0)
}

pub fn set_rating(conn: &mut DbConn, id: i64, rating: i32) -> QueryResult<bool> {
    diesel::update(
        complaints::table
            .find(id)
            .filter(complaints::rating.is_null())
            .filter(complaints::status.eq("closed")),
    )
    .set(complaints::rating.eq(rating))
    .execute(conn)
    .map(|n| n > 0)
}

/// Complaints of the same hospital (or name) and category filed about the same day.
pub fn same_day(
    conn: &mut DbConn,
    c: &Complaint,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Complaint>> {
    let q = complaints::table
        .filter(complaints::id.ne(c.id))
        .filter(complaints::category.eq(&c.category))
        .filter(complaints::occurred_at.ge(from))
        .filter(complaints::occurred_at.lt(to))
        .filter(complaints::merged_into.is_null())
        .select(Complaint::as_select());
    match c.hospital_id {
        Some(h) => q.filter(complaints::hospital_id.eq(h)).load(conn),
        None => q
            .filter(complaints::hospital_name.eq(&c.hospital_name))
            .load(conn),
    }
}

/// The inspectors' queue, newest first: unanswered first within a page's worth.
pub fn queue(
    conn: &mut DbConn,
    district: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Complaint>> {
    let mut q = complaints::table
        .left_join(hospitals::table)
        .select(Complaint::as_select())
        .into_boxed();
    if let Some(d) = district {
        q = q.filter(
            hospitals::district
                .eq(d.to_string())
                .or(complaints::hospital_id.is_null()),
        );
    }
    if let Some(s) = status {
        q = q.filter(complaints::status.eq(s.to_string()));
    }
    q.order((complaints::created_at.desc(), complaints::id.desc()))
        .limit(limit)
        .load(conn)
}

/// A complaint that may corroborate a case.
#[derive(Debug, Queryable)]
pub struct Candidate {
    pub id: i64,
    pub hospital_id: i64,
    pub category: String,
    pub occurred_at: NaiveDateTime,
}

/// The complaints against any of `hospital_ids` in any of `categories` that happened between
/// `from` and `to`.
pub fn for_cases(
    conn: &mut DbConn,
    hospital_ids: &[i64],
    categories: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Candidate>> {
    complaints::table
        .filter(complaints::hospital_id.eq_any(hospital_ids))
        .filter(complaints::category.eq_any(categories))
        .filter(complaints::occurred_at.between(from, to))
        .select((
            complaints::id,
            complaints::hospital_id.assume_not_null(),
            complaints::category,
            complaints::occurred_at,
        ))
        .load(conn)
}

/// Clears the sealed personal data of complaints closed before `before`.
pub fn purge_sealed(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        complaints::table
            .filter(complaints::closed_at.lt(before))
            .filter(
                complaints::contact_sealed
                    .is_not_null()
                    .or(complaints::description_sealed.is_not_null()),
            ),
    )
    .set((
        complaints::contact_sealed.eq(None::<String>),
        complaints::description_sealed.eq(None::<String>),
    ))
    .execute(conn)
}

/// The complainants' ratings (1 to 5) of one hospital's complaints, or of all with `None`.
pub fn ratings(conn: &mut DbConn, hospital_id: Option<i64>) -> QueryResult<Vec<i32>> {
    let mut q = complaints::table
        .filter(complaints::rating.is_not_null())
        .select(complaints::rating.assume_not_null())
        .into_boxed();
    if let Some(h) = hospital_id {
        q = q.filter(complaints::hospital_id.eq(h));
    }
    q.load(conn)
}

/// The cases a complaint is evidence of, as (id, rule, status).
pub fn linked_cases(
    conn: &mut DbConn,
    complaint_id: i64,
) -> QueryResult<Vec<(i64, String, String)>> {
    use crate::schema::{case_evidence, cases};
    case_evidence::table
        .inner_join(cases::table)
        .filter(case_evidence::complaint_id.eq(complaint_id))
        .select((cases::id, cases::rule, cases::status))
        .load(conn)
}

/// A complaint as the hotline's report counts it, with its hospital's code, district and
/// jurisdiction (none when it names no registered hospital).
#[derive(Debug, Clone, Queryable)]
pub struct ReportRow {
    pub id: i64,
    pub hospital_id: Option<i64>,
    pub hospital_name: String,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub answer_due: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub called_back_at: Option<NaiveDateTime>,
    pub resolved: Option<bool>,
    pub satisfaction: Option<String>,
    pub reopened: i32,
    pub hospital_code: Option<String>,
    pub district: Option<String>,
    pub jurisdiction: Option<String>,
}

/// The complaints filed in `[from, until)`, merged duplicates left out; with `district`, only
/// those of its registered hospitals.
pub fn for_report(
    conn: &mut DbConn,
    from: NaiveDateTime,
    until: NaiveDateTime,
    district: Option<&str>,
) -> QueryResult<Vec<ReportRow>> {
    let mut q = complaints::table
        .left_join(hospitals::table)
        .filter(complaints::created_at.ge(from))
        .filter(complaints::created_at.lt(until))
        .filter(complaints::merged_into.is_null())
        .select((
            complaints::id,
            complaints::hospital_id,
            complaints::hospital_name,
            complaints::created_at,
            complaints::acknowledged_at,
            complaints::answer_due,
            complaints::answered_at,
            complaints::called_back_at,
            complaints::resolved,
            complaints::satisfaction,
            complaints::reopened,
            hospitals::code.nullable(),
            hospitals::district.nullable(),
            hospitals::jurisdiction.nullable(),
        ))
        .order(complaints::id.asc())
        .into_boxed();
    if let Some(d) = district {
        q = q.filter(hospitals::district.eq(d.to_string()));
    }
    q.load(conn)
}

/// Of the complaints filed in `[from, until)`, those that are evidence of a case of `rule`
/// (one a sweeper raised, e.g. `complaint.overdue`) not withdrawn.
pub fn with_case_of(
    conn: &mut DbConn,
    rule: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    use crate::schema::{case_evidence, cases};
    let filed = complaints::table
        .filter(complaints::created_at.ge(from))
        .filter(complaints::created_at.lt(until))
        .select(complaints::id.nullable());
    case_evidence::table
        .inner_join(cases::table)
        .filter(cases::rule.eq(rule))
        .filter(cases::status.ne("withdrawn"))
        .filter(case_evidence::complaint_id.eq_any(filed))
        .select(case_evidence::complaint_id.assume_not_null())
        .distinct()
        .load(conn)
}
