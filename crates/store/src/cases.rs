//! Cases: opened once per rule and subject (a unique constraint guarantees it), their evidence
//! links, and their history of actions.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{self, DbConn};
use crate::schema::{case_actions, case_evidence, cases, hospitals, users};
use shouzhen_domain::rules::{Finding, RuleId};

pub const SYSTEM: &str = "system";

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = cases)]
pub struct Case {
    pub id: i64,
    pub rule: String,
    pub subject: String,
    pub severity: String,
    pub status: String,
    pub hospital_id: Option<i64>,
    pub district: String,
    pub occurred_at: NaiveDateTime,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub summary: String,
    pub assignee_id: Option<i64>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    /// The hospital's reply deadline, set by `forward` and `return` (a case ever forwarded has one).
    pub reply_due: Option<NaiveDateTime>,
    /// The rectification deadline, set by `accept`.
    pub rectification_due: Option<NaiveDateTime>,
    /// How often the hospital's reply or rectification was sent back.
    pub returns: i32,
}

pub fn by_rule_subject(conn: &mut DbConn, rule: &str, subject: &str) -> QueryResult<Option<Case>> {
    cases::table
        .filter(cases::rule.eq(rule))
        .filter(cases::subject.eq(subject))
        .select(Case::as_select())
        .first(conn)
        .optional()
}

/// The cases of the given (rule, subjects) pairs: (rule, subject, id, status). One query per
/// 1,000 subjects, each rule's subjects matched with that rule only (`rule = r AND subject IN
/// (..)`, one clause a rule): a seek per pair asked for, however many rules a pass judged.
pub fn status_for(
    conn: &mut DbConn,
    wanted: &std::collections::BTreeMap<&str, Vec<&str>>,
) -> QueryResult<Vec<(String, String, i64, String)>> {
    let mut out = Vec::new();
    for part in crate::pairs_in_parts(wanted, 1_000) {
        let mut q = cases::table
            .select((cases::rule, cases::subject, cases::id, cases::status))
            .into_boxed();
        for (i, (rule, subjects)) in part.into_iter().enumerate() {
            let clause = cases::rule.eq(rule).and(cases::subject.eq_any(subjects));
            q = if i == 0 {
                q.filter(clause)
            } else {
                q.or_filter(clause)
            };
        }
        out.extend(q.load::<(String, String, i64, String)>(conn)?);
    }
    Ok(out)
}

/// How many of the given actions a case's history holds.
pub fn count_actions(conn: &mut DbConn, case_id: i64, actions: &[&str]) -> QueryResult<i64> {
    case_actions::table
        .filter(case_actions::case_id.eq(case_id))
        .filter(case_actions::action.eq_any(actions))
        .count()
        .get_result(conn)
}

/// How many cases there are, in every status.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    cases::table.count().get_result(conn)
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Case>> {
    cases::table
        .find(id)
        .select(Case::as_select())
        .first(conn)
        .optional()
}

/// Links evidence to cases, given as (case, event rows, complaint ids); links that exist
/// already are left alone: one read of what the cases hold (a case re-judged with a long
/// history finds most of its evidence linked, and reading costs less than inserting again),
/// then one insert of the rest.
pub fn link_evidence(conn: &mut DbConn, links: &[(i64, &[i64], &[i64])]) -> QueryResult<()> {
    let ids: Vec<i64> = links.iter().map(|(id, ..)| *id).collect();
    let linked = evidence_of_all(conn, &ids)?;
    let none = (Vec::new(), Vec::new());
    let missing: Vec<(i64, Vec<i64>, Vec<i64>)> = links
        .iter()
        .map(|(id, events, complaints)| {
            let (have_events, have_complaints) = linked.get(id).unwrap_or(&none);
            let events = events.iter().copied().filter(|e| !have_events.contains(e));
            let complaints = complaints
                .iter()
                .copied()
                .filter(|c| !have_complaints.contains(c));
            (
                *id,
                events.collect::<Vec<_>>(),
                complaints.collect::<Vec<_>>(),
            )
        })
        .filter(|(_, events, complaints)| !events.is_empty() || !complaints.is_empty())
        .collect();
    let missing: Vec<(i64, &[i64], &[i64])> = missing
        .iter()
        .map(|(id, events, complaints)| (*id, events.as_slice(), complaints.as_slice()))
        .collect();
    insert_links(conn, &missing)
}

/// One evidence link as insertable values.
type LinkRow = (
    diesel::dsl::Eq<case_evidence::case_id, i64>,
    diesel::dsl::Eq<case_evidence::event_row_id, Option<i64>>,
    diesel::dsl::Eq<case_evidence::complaint_id, Option<i64>>,
);

/// The rows of evidence links, `(case, event rows, complaints)`.
fn link_rows(links: &[(i64, &[i64], &[i64])]) -> Vec<LinkRow> {
    links
        .iter()
        .flat_map(|(case_id, events, complaints)| {
            let case_id = *case_id;
            events
                .iter()
                .map(|e| (Some(*e), None))
                .chain(complaints.iter().map(|c| (None, Some(*c))))
                .map(move |(event, complaint): (Option<i64>, Option<i64>)| {
                    (
                        case_evidence::case_id.eq(case_id),
                        case_evidence::event_row_id.eq(event),
                        case_evidence::complaint_id.eq(complaint),
                    )
                })
        })
        .collect()
}

/// Inserts the evidence links of cases, `(case, event rows, complaints)`, in one statement (per
/// 5,000 links); a link that exists already (another transaction's) is skipped by the unique
/// constraints.
pub fn insert_links(conn: &mut DbConn, links: &[(i64, &[i64], &[i64])]) -> QueryResult<()> {
    for chunk in link_rows(links).chunks(5_000) {
        let q = diesel::insert_into(case_evidence::table)
            .values(chunk)
            .on_conflict_do_nothing();
        match conn {
            DbConn::Pg(c) => q.execute(c)?,
            DbConn::Sqlite(c) => q.execute(c)?,
        };
    }
    Ok(())
}

/// Inserts the evidence links of cases opened in this transaction, which none can have yet:
/// through `COPY` on PostgreSQL (no conflict to look for); SQLite takes [`insert_links`].
fn insert_fresh_links(conn: &mut DbConn, links: &[(i64, &[i64], &[i64])]) -> QueryResult<()> {
    let DbConn::Pg(c) = conn else {
        return insert_links(conn, links);
    };
    let rows = link_rows(links);
    if rows.is_empty() {
        return Ok(());
    }
    diesel::copy_from(case_evidence::table)
        .from_insertable(rows)
        .execute(c)
        .map(|_| ())
}

/// One entry of a case's history.
pub struct Action<'a> {
    pub case_id: i64,
    /// The user (id, email), or `None` for the system.
    pub actor: Option<(i64, &'a str)>,
    pub action: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub note: &'a str,
    pub at: NaiveDateTime,
}

impl<'a> Action<'a> {
    /// An entry made by the system (the rule engine).
    pub fn system(
        case_id: i64,
        action: &'a str,
        from: &'a str,
        to: &'a str,
        note: &'a str,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            case_id,
            actor: None,
            action,
            from,
            to,
            note,
            at,
        }
    }
}

pub fn add_action(conn: &mut DbConn, a: &Action<'_>) -> QueryResult<()> {
    add_actions(conn, std::slice::from_ref(a))
}

/// Appends history entries, in order, to the one chain of case actions: the chain is locked
/// (until commit, on PostgreSQL) and its head read once, and the rows go in one statement per
/// 1,000.
pub fn add_actions(conn: &mut DbConn, actions: &[Action<'_>]) -> QueryResult<()> {
    if actions.is_empty() {
        return Ok(());
    }
    db::lock_subject(conn, "chain:case_actions")?;
    let mut head = crate::record::action_head(conn)?;
    let mut hashes = Vec::with_capacity(actions.len());
    for a in actions {
        let row_hash = shouzhen_domain::record::ActionContent {
            case_id: a.case_id,
            actor_id: a.actor.map(|x| x.0),
            actor_label: a.actor.map(|x| x.1).unwrap_or(SYSTEM),
            action: a.action,
            from_status: a.from,
            to_status: a.to,
            note: a.note,
            at: a.at,
        }
        .hash();
        head = shouzhen_domain::record::link(&head, &row_hash);
        hashes.push((row_hash, head.clone()));
    }
    let rows: Vec<_> = actions
        .iter()
        .zip(&hashes)
        .map(|(a, (row_hash, chain_hash))| {
            (
                case_actions::case_id.eq(a.case_id),
                case_actions::actor_id.eq(a.actor.map(|x| x.0)),
                case_actions::actor_label.eq(a.actor.map(|x| x.1).unwrap_or(SYSTEM)),
                case_actions::action.eq(a.action),
                case_actions::from_status.eq(a.from),
                case_actions::to_status.eq(a.to),
                case_actions::note.eq(a.note),
                case_actions::at.eq(a.at),
                case_actions::row_hash.eq(row_hash),
                case_actions::chain_hash.eq(chain_hash),
            )
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        let q = diesel::insert_into(case_actions::table).values(chunk);
        match conn {
            DbConn::Pg(c) => q.execute(c)?,
            DbConn::Sqlite(c) => q.execute(c)?,
        };
    }
    Ok(())
}

pub fn set_status(
    conn: &mut DbConn,
    case_id: i64,
    status: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set((cases::status.eq(status), cases::updated_at.eq(at)))
        .execute(conn)
        .map(|_| ())
}

/// What a staff action changes on a case.
#[derive(Debug, Clone, Copy)]
pub struct StaffMove<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub assignee_id: Option<i64>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    pub reply_due: Option<NaiveDateTime>,
    pub rectification_due: Option<NaiveDateTime>,
    pub returns: i32,
    pub at: NaiveDateTime,
}

/// Moves a case as a staff action decides, if it still has the status `m.from` (false when it
/// changed meanwhile: the caller answers 409).
pub fn apply_move(conn: &mut DbConn, case_id: i64, m: &StaffMove<'_>) -> QueryResult<bool> {
    let updated = diesel::update(cases::table.find(case_id).filter(cases::status.eq(m.from)))
        .set((
            cases::status.eq(m.to),
            cases::updated_at.eq(m.at),
            cases::assignee_id.eq(m.assignee_id),
            cases::acknowledged_at.eq(m.acknowledged_at),
            cases::escalation_level.eq(m.escalation_level),
            cases::reply_due.eq(m.reply_due),
            cases::rectification_due.eq(m.rectification_due),
            cases::returns.eq(m.returns),
        ))
        .execute(conn)?;
    Ok(updated > 0)
}

pub fn set_escalation_level(conn: &mut DbConn, case_id: i64, level: i32) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set(cases::escalation_level.eq(level))
        .execute(conn)
        .map(|_| ())
}

/// A case as the daily digest lists it.
#[derive(Debug, Clone, Queryable)]
pub struct DigestRow {
    pub id: i64,
    pub district: String,
    pub severity: String,
    pub rule: String,
    pub summary: String,
}

/// The cases of the given severities opened since `since`, by district, then in order.
pub fn opened_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
    severities: &[&str],
) -> QueryResult<Vec<DigestRow>> {
    cases::table
        .filter(cases::opened_at.ge(since))
        .filter(cases::severity.eq_any(severities))
        .order((cases::district.asc(), cases::opened_at.asc()))
        .select((
            cases::id,
            cases::district,
            cases::severity,
            cases::rule,
            cases::summary,
        ))
        .load(conn)
}

/// A violation whose case is not known to exist.
pub struct NewViolation {
    pub rule: RuleId,
    pub subject: String,
    pub hospital_id: Option<i64>,
    pub district: String,
    pub finding: Finding,
}

/// Opens the cases of violations together: one `INSERT .. ON CONFLICT DO NOTHING RETURNING`
/// (per 1,000 cases) and their evidence links in one statement. A case that stands already
/// (opened meanwhile by another transaction) gains the evidence instead. Returns the cases
/// opened, in the order given; their `open` actions are the caller's to add, with its other
/// actions in one append to the chain.
pub fn open_cases(
    conn: &mut DbConn,
    new: &[NewViolation],
    now: NaiveDateTime,
) -> QueryResult<Vec<Case>> {
    let rows: Vec<_> = new
        .iter()
        .map(|v| {
            (
                cases::rule.eq(v.rule.as_str()),
                cases::subject.eq(&v.subject),
                cases::severity.eq(v.finding.severity.as_str()),
                cases::status.eq("open"),
                cases::hospital_id.eq(v.hospital_id),
                cases::district.eq(&v.district),
                cases::occurred_at.eq(v.finding.occurred_at),
                cases::opened_at.eq(now),
                cases::updated_at.eq(now),
                cases::summary.eq(&v.finding.summary),
                cases::escalation_level.eq(0),
                cases::severity_rank.eq(v.finding.severity.rank()),
            )
        })
        .collect();
    // Built per backend: `as_returning` is typed by the backend.
    macro_rules! insert {
        ($rows:expr) => {
            diesel::insert_into(cases::table)
                .values($rows)
                .on_conflict_do_nothing()
                .returning(Case::as_returning())
        };
    }
    let mut inserted: std::collections::HashMap<(String, String), Case> = Default::default();
    for chunk in rows.chunks(1_000) {
        let got: Vec<Case> = match conn {
            DbConn::Pg(c) => insert!(chunk).get_results(c)?,
            DbConn::Sqlite(c) => insert!(chunk).get_results(c)?,
        };
        inserted.extend(
            got.into_iter()
                .map(|c| ((c.rule.clone(), c.subject.clone()), c)),
        );
    }
    let mut opened = Vec::with_capacity(inserted.len());
    let mut links: Vec<(i64, Vec<i64>, Vec<i64>)> = Vec::new();
    for v in new {
        match inserted.remove(&(v.rule.as_str().to_string(), v.subject.clone())) {
            Some(case) => {
                let mut events = v.finding.evidence.clone();
                events.sort_unstable();
                events.dedup();
                let mut complaints = v.finding.complaints.clone();
                complaints.sort_unstable();
                complaints.dedup();
                links.push((case.id, events, complaints));
                opened.push((case, v));
            }
            None => gain_evidence(conn, v, now)?,
        }
    }
    let links: Vec<(i64, &[i64], &[i64])> = links
        .iter()
        .map(|(c, e, k)| (*c, e.as_slice(), k.as_slice()))
        .collect();
    insert_fresh_links(conn, &links)?;
    Ok(opened.into_iter().map(|(case, _)| case).collect())
}

/// A change of status the system makes by itself, and the history entry that records it.
pub struct SystemMove {
    pub action: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub note: &'static str,
}

/// An untouched case that later evidence clears is withdrawn.
pub const WITHDRAW: SystemMove = SystemMove {
    action: "withdraw",
    from: "open",
    to: "withdrawn",
    note: "later evidence shows no violation",
};

/// A withdrawn case that the evidence supports again is reinstated.
pub const REINSTATE: SystemMove = SystemMove {
    action: "reinstate",
    from: "withdrawn",
    to: "open",
    note: "the evidence supports the case again",
};

impl SystemMove {
    /// The history entry of this move of one case.
    pub fn entry(&self, case_id: i64, at: NaiveDateTime) -> Action<'static> {
        Action::system(case_id, self.action, self.from, self.to, self.note, at)
    }
}

/// Makes `how` on the cases among `ids` that are still in its `from` status (one statement per
/// 1,000); returns the ids moved, whose history entries are the caller's to add. A case
/// another transaction moved meanwhile stays as it is.
pub fn move_status(
    conn: &mut DbConn,
    ids: &[i64],
    how: &SystemMove,
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let mut moved = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        // Built per backend: `returning` is typed by the backend.
        macro_rules! update {
            () => {
                diesel::update(
                    cases::table
                        .filter(cases::id.eq_any(chunk))
                        .filter(cases::status.eq(how.from)),
                )
                .set((cases::status.eq(how.to), cases::updated_at.eq(at)))
                .returning(cases::id)
            };
        }
        let got: Vec<i64> = match conn {
            DbConn::Pg(c) => update!().get_results(c)?,
            DbConn::Sqlite(c) => update!().get_results(c)?,
        };
        moved.extend(got);
    }
    Ok(moved)
}

/// Records a violation against the case that stands already (`open_cases` found it there):
/// the case gains any new evidence, and a case that later evidence had withdrawn is reinstated.
fn gain_evidence(conn: &mut DbConn, v: &NewViolation, now: NaiveDateTime) -> QueryResult<()> {
    let (rule, subject, finding) = (v.rule, v.subject.as_str(), &v.finding);
    let case =
        by_rule_subject(conn, rule.as_str(), subject)?.ok_or(diesel::result::Error::NotFound)?;
    if case.status == "withdrawn" {
        set_status(conn, case.id, REINSTATE.to, now)?;
        add_action(conn, &REINSTATE.entry(case.id, now))?;
    }
    link_evidence(conn, &[(case.id, &finding.evidence, &finding.complaints)])
}

/// Records that a subject no longer violates the rule: a case no inspector has touched is
/// withdrawn; a case under review gets a note, and its status stays for the inspector.
pub fn record_clear(
    conn: &mut DbConn,
    rule: RuleId,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(case) = by_rule_subject(conn, rule.as_str(), subject)? else {
        return Ok(());
    };
    match case.status.as_str() {
        "open" => {
            set_status(conn, case.id, WITHDRAW.to, now)?;
            add_action(conn, &WITHDRAW.entry(case.id, now))
        }
        "withdrawn" => Ok(()),
        status => {
            let already: i64 = case_actions::table
                .filter(case_actions::case_id.eq(case.id))
                .filter(case_actions::action.eq("note"))
                .filter(case_actions::actor_label.eq(SYSTEM))
                .count()
                .get_result(conn)?;
            if already > 0 {
                return Ok(());
            }
            add_action(
                conn,
                &Action::system(
                    case.id,
                    "note",
                    status,
                    status,
                    "later evidence no longer shows a violation; review the evidence",
                    now,
                ),
            )
        }
    }
}

/// One row of the case list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub rule: String,
    pub severity: String,
    pub status: String,
    /// The hospital's code (a hospital's case).
    pub hospital: Option<String>,
    /// The 120 centre's code (a centre's case).
    pub centre: Option<String>,
    /// The community desk's code (a desk's case).
    pub desk: Option<String>,
    pub district: String,
    pub occurred_at: NaiveDateTime,
    pub opened_at: NaiveDateTime,
    pub summary: String,
    pub reply_due: Option<NaiveDateTime>,
    pub rectification_due: Option<NaiveDateTime>,
}

/// A case row as selected: its source's code and kind, which say hospital or centre.
#[derive(Queryable)]
struct SelectedRow {
    id: i64,
    rule: String,
    severity: String,
    status: String,
    source_code: Option<String>,
    source_kind: Option<String>,
    district: String,
    occurred_at: NaiveDateTime,
    opened_at: NaiveDateTime,
    summary: String,
    reply_due: Option<NaiveDateTime>,
    rectification_due: Option<NaiveDateTime>,
}

impl From<SelectedRow> for CaseRow {
    fn from(r: SelectedRow) -> Self {
        let (hospital, centre, desk) = match r.source_kind.as_deref() {
            Some(crate::hospitals::DISPATCH) => (None, r.source_code, None),
            Some(crate::hospitals::COMMUNITY) => (None, None, r.source_code),
            _ => (r.source_code, None, None),
        };
        Self {
            id: r.id,
            rule: r.rule,
            severity: r.severity,
            status: r.status,
            hospital,
            centre,
            desk,
            district: r.district,
            occurred_at: r.occurred_at,
            opened_at: r.opened_at,
            summary: r.summary,
            reply_due: r.reply_due,
            rectification_due: r.rectification_due,
        }
    }
}

fn rows(selected: Vec<SelectedRow>) -> Vec<CaseRow> {
    selected.into_iter().map(CaseRow::from).collect()
}

impl CaseRow {
    /// The code of the case's hospital, centre or desk.
    pub fn source(&self) -> Option<&str> {
        self.hospital
            .as_deref()
            .or(self.centre.as_deref())
            .or(self.desk.as_deref())
    }

    /// The deadline the hospital must meet now: its reply while forwarded, its rectification
    /// while rectifying.
    pub fn pending_deadline(&self) -> Option<NaiveDateTime> {
        match &self.status[..] {
            "forwarded" => self.reply_due,
            "rectifying" => self.rectification_due,
            _ => None,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// The same filters as the dashboard's queue.
    pub filter: QueueFilter,
    /// Keyset: rows strictly after this (opened_at, id), newest first.
    pub after: Option<(NaiveDateTime, i64)>,
    pub limit: i64,
}

/// Cases newest first, keyset-paginated.
pub fn list(conn: &mut DbConn, f: &CaseFilter) -> QueryResult<Vec<CaseRow>> {
    let mut q = apply_queue_filter(conn, case_rows(), &f.filter)?;
    if let Some((t, id)) = f.after {
        q = q.filter(
            cases::opened_at
                .lt(t)
                .or(cases::opened_at.eq(t).and(cases::id.lt(id))),
        );
    }
    Ok(rows(
        q.order((cases::opened_at.desc(), cases::id.desc()))
            .limit(f.limit)
            .load(conn)?,
    ))
}

/// The evidence links of a case: (event row ids, complaint ids).
pub fn evidence_of(conn: &mut DbConn, case_id: i64) -> QueryResult<(Vec<i64>, Vec<i64>)> {
    Ok(evidence_of_all(conn, &[case_id])?
        .remove(&case_id)
        .unwrap_or_default())
}

/// Each case's evidence: (event rows, complaint ids), by case id.
pub type Evidence = std::collections::HashMap<i64, (Vec<i64>, Vec<i64>)>;

/// [`evidence_of`] for many cases in one query (per 1,000 cases).
pub fn evidence_of_all(conn: &mut DbConn, case_ids: &[i64]) -> QueryResult<Evidence> {
    let mut out = Evidence::default();
    for chunk in case_ids.chunks(1_000) {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = case_evidence::table
            .filter(case_evidence::case_id.eq_any(chunk))
            .select((
                case_evidence::case_id,
                case_evidence::event_row_id,
                case_evidence::complaint_id,
            ))
            .load(conn)?;
        for (case, event, complaint) in rows {
            let (events, complaints) = out.entry(case).or_default();
            events.extend(event);
            complaints.extend(complaint);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct ActionRow {
    pub action: String,
    pub actor: String,
    pub from_status: String,
    pub to_status: String,
    pub note: String,
    pub at: NaiveDateTime,
}

pub fn actions_of(conn: &mut DbConn, case_id: i64) -> QueryResult<Vec<ActionRow>> {
    case_actions::table
        .filter(case_actions::case_id.eq(case_id))
        .order((case_actions::at.asc(), case_actions::id.asc()))
        .select((
            case_actions::action,
            case_actions::actor_label,
            case_actions::from_status,
            case_actions::to_status,
            case_actions::note,
            case_actions::at,
        ))
        .load(conn)
}

/// The email of a case's assignee.
pub fn assignee_email(conn: &mut DbConn, case: &Case) -> QueryResult<Option<String>> {
    match case.assignee_id {
        Some(id) => users::table
            .find(id)
            .select(users::email)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// Cases of a hospital under the given rules whose violation happened within `[from, to]`.
pub fn matching(
    conn: &mut DbConn,
    hospital_id: i64,
    rules: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    cases::table
        .filter(cases::hospital_id.eq(hospital_id))
        .filter(cases::rule.eq_any(rules))
        .filter(cases::occurred_at.between(from, to))
        .select(cases::id)
        .load(conn)
}

/// The cases of any of `rules` whatever their source, that happened between `from` and `to`:
/// (id, subject).
pub fn of_rules_between(
    conn: &mut DbConn,
    rules: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, String)>> {
    cases::table
        .filter(cases::rule.eq_any(rules))
        .filter(cases::occurred_at.between(from, to))
        .select((cases::id, cases::subject))
        .load(conn)
}

/// Applies a `QueueFilter` (its hospital resolved to an id by [`hospital_id`]) to a boxed query
/// over `cases`, joined to `hospitals` or not: one definition of the
/// filters for the queue, the API list and the counts.
macro_rules! filter_cases {
    ($q:expr, $f:expr, $hospital_id:expr) => {
        filter_cases!($q, $f, $hospital_id, false)
    };
    // `walk`: the status filter is written `status || '' IN (...)`, the same test that no index
    // can answer, so that the planner walks one of the queue's order indexes (`cases_rank`, or
    // `cases_rule_queue` etc. under a filter) and stops after a page, rather than reading every
    // case of the statuses through `cases_status` and sorting them (what SQLite does without
    // statistics: 40 ms against a few at 100,000 cases).
    ($q:expr, $f:expr, $hospital_id:expr, $walk:expr) => {{
        let (mut q, f, hospital_id, walk): (_, &QueueFilter, Option<i64>, bool) =
            ($q, $f, $hospital_id, $walk);
        if !f.statuses.is_empty() {
            q = if walk {
                q.filter(cases::status.concat("").eq_any(f.statuses.clone()))
            } else {
                q.filter(cases::status.eq_any(f.statuses.clone()))
            };
        }
        if let Some(r) = &f.rule {
            q = q.filter(cases::rule.eq(r.clone()));
        }
        if let Some(id) = hospital_id {
            q = q.filter(cases::hospital_id.eq(id));
        }
        if let Some(s) = &f.severity {
            // By rank, which the indexes hold (an unknown severity matches nothing).
            let rank = shouzhen_domain::rules::Severity::parse(s).map_or(0, |s| s.rank());
            q = q.filter(cases::severity_rank.eq(rank));
        }
        if let Some(d) = &f.district {
            q = q.filter(cases::district.eq(d.clone()));
        }
        if let Some(h) = f.forwarded_to {
            // A hospital's own view: the cases ever forwarded to it.
            q = q
                .filter(cases::hospital_id.eq(h))
                .filter(cases::reply_due.is_not_null());
        }
        if let Some(t) = f.since {
            q = q.filter(cases::opened_at.ge(t));
        }
        if let Some(t) = f.until {
            q = q.filter(cases::opened_at.lt(t));
        }
        q
    }};
}

/// The dashboard's filters (the API's, plus districts and several statuses).
#[derive(Debug, Default, Clone)]
pub struct QueueFilter {
    pub statuses: Vec<String>,
    pub rule: Option<String>,
    pub hospital: Option<String>,
    pub severity: Option<String>,
    pub district: Option<String>,
    /// Only the cases forwarded to this hospital (its staff's view).
    pub forwarded_to: Option<i64>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// The dashboard queue: by severity (high first), then oldest first; keyset on
/// (severity rank, opened_at, id).
pub fn queue(
    conn: &mut DbConn,
    f: &QueueFilter,
    after: Option<(i32, NaiveDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<CaseRow>> {
    let hospital = hospital_id(conn, f)?;
    let mut q = filter_cases!(case_rows(), f, hospital, true);
    if let Some((r, t, id)) = after {
        q = q.filter(
            cases::severity_rank
                .lt(r)
                .or(cases::severity_rank.eq(r).and(cases::opened_at.gt(t)))
                .or(cases::severity_rank
                    .eq(r)
                    .and(cases::opened_at.eq(t))
                    .and(cases::id.gt(id))),
        );
    }
    // The order of the `cases_rank` index, which the query walks and leaves after a page. The
    // always-true range on its first column makes SQLite's planner walk it, rather than read
    // every case of the statuses through `cases_status` and sort them (measured: 1 ms against
    // 90 ms at 100,000 cases; BENCHMARKS.md).
    Ok(rows(
        q.filter(cases::severity_rank.gt(0))
            .order((
                cases::severity_rank.desc(),
                cases::opened_at.asc(),
                cases::id.asc(),
            ))
            .limit(limit)
            .load(conn)?,
    ))
}

type BoxedCases<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::dsl::Select<
        diesel::dsl::LeftJoin<cases::table, hospitals::table>,
        (
            cases::id,
            cases::rule,
            cases::severity,
            cases::status,
            diesel::dsl::Nullable<hospitals::code>,
            diesel::dsl::Nullable<hospitals::kind>,
            cases::district,
            cases::occurred_at,
            cases::opened_at,
            cases::summary,
            cases::reply_due,
            cases::rectification_due,
        ),
    >,
    crate::db::MultiBackend,
>;

/// Cases joined to their hospital, selected as `CaseRow`s, ready for filters.
fn case_rows<'a>() -> BoxedCases<'a> {
    cases::table
        .left_join(hospitals::table)
        .select((
            cases::id,
            cases::rule,
            cases::severity,
            cases::status,
            hospitals::code.nullable(),
            hospitals::kind.nullable(),
            cases::district,
            cases::occurred_at,
            cases::opened_at,
            cases::summary,
            cases::reply_due,
            cases::rectification_due,
        ))
        .into_boxed()
}

fn apply_queue_filter<'a>(
    conn: &mut DbConn,
    q: BoxedCases<'a>,
    f: &QueueFilter,
) -> QueryResult<BoxedCases<'a>> {
    let hospital = hospital_id(conn, f)?;
    Ok(filter_cases!(q, f, hospital))
}

/// The id of the filter's hospital (by code; an unknown code matches no case), so that the
/// filter needs no join.
fn hospital_id(conn: &mut DbConn, f: &QueueFilter) -> QueryResult<Option<i64>> {
    let Some(code) = &f.hospital else {
        return Ok(None);
    };
    Ok(Some(
        hospitals::table
            .filter(hospitals::code.eq(code))
            .select(hospitals::id)
            .first(conn)
            .optional()?
            .unwrap_or(-1),
    ))
}

/// Cases per status under the filters (statuses aside), in one grouped query.
pub fn status_counts(conn: &mut DbConn, f: &QueueFilter) -> QueryResult<Vec<(String, i64)>> {
    let all = QueueFilter {
        statuses: Vec::new(),
        ..f.clone()
    };
    let hospital = hospital_id(conn, &all)?;
    let q = cases::table
        .group_by(cases::status)
        .select((cases::status, diesel::dsl::count_star()))
        .into_boxed();
    // No join: the counts are answered from the indexes alone.
    let counts: Vec<(String, i64)> = filter_cases!(q, &all, hospital).load(conn)?;
    // In the order of the statuses, as the dashboard shows them.
    Ok(shouzhen_domain::case::STATUSES
        .iter()
        .filter_map(|s| counts.iter().find(|(c, _)| c == s).cloned())
        .filter(|(_, n)| *n > 0)
        .collect())
}

/// The cases ever forwarded to a hospital (its staff's inbox), at most `limit`, newest first.
pub fn forwarded_to(conn: &mut DbConn, hospital_id: i64, limit: i64) -> QueryResult<Vec<Case>> {
    cases::table
        .filter(cases::hospital_id.eq(hospital_id))
        .filter(cases::reply_due.is_not_null())
        .order(cases::updated_at.desc())
        .limit(limit)
        .select(Case::as_select())
        .load(conn)
}

/// The queue's cases under the filter whose hospital has let its deadline pass (a reply while
/// forwarded, a rectification while rectifying), by severity, then the longest open first.
///
/// In two steps, because one query that carries the queue's filter is answered by walking a
/// queue index through every case (about 100 ms at 100,000 cases, BENCHMARKS.md §10): the
/// overdue cases are first found by status and deadline (`cases_reply_due`,
/// `cases_rectification_due`: a range of the overdue rows alone), then the filter is applied
/// to those ids.
pub fn overdue(
    conn: &mut DbConn,
    f: &QueueFilter,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<CaseRow>> {
    let mut late: Vec<i64> = cases::table
        .filter(cases::status.eq("forwarded"))
        .filter(cases::reply_due.lt(now))
        .select(cases::id)
        .load(conn)?;
    late.extend(
        cases::table
            .filter(cases::status.eq("rectifying"))
            .filter(cases::rectification_due.lt(now))
            .select(cases::id)
            .load::<i64>(conn)?,
    );
    let mut found: Vec<CaseRow> = Vec::new();
    // In chunks, within every backend's limit on bound parameters.
    for ids in late.chunks(1000) {
        found.extend(rows(
            apply_queue_filter(conn, case_rows(), f)?
                .filter(cases::id.eq_any(ids))
                .load(conn)?,
        ));
    }
    let mut rows = found;
    let rank =
        |r: &CaseRow| shouzhen_domain::rules::Severity::parse(&r.severity).map_or(0, |s| s.rank());
    rows.sort_by(|a, b| {
        rank(b)
            .cmp(&rank(a))
            .then(a.opened_at.cmp(&b.opened_at))
            .then(a.id.cmp(&b.id))
    });
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}
