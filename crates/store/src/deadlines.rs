//! Deadlines the sweeper checks: one row per rule and subject, the open ones found by due time
//! through a partial index (`deadlines_open_due`, `WHERE NOT done`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::deadlines;

#[derive(Debug, Clone, Queryable)]
pub struct Deadline {
    pub id: i64,
    pub rule: String,
    pub subject: String,
    pub hospital_id: Option<i64>,
    pub due_at: NaiveDateTime,
    pub done: bool,
}

/// Not settled, written `NOT done` (no bound parameter), so that both planners see the partial
/// index's own condition.
fn open() -> diesel::dsl::not<deadlines::done> {
    diesel::dsl::not(deadlines::done)
}

/// Sets (or moves) the deadline of a rule's subject: one upsert on the `(rule, subject)` key.
pub fn schedule(
    conn: &mut DbConn,
    rule: &str,
    subject: &str,
    hospital_id: Option<i64>,
    due_at: NaiveDateTime,
) -> QueryResult<()> {
    let mut changes = Changes::new();
    changes.insert(
        (rule.to_string(), subject.to_string()),
        Change::Schedule {
            hospital_id,
            due_at,
        },
    );
    write(conn, &changes)
}

/// What becomes of one deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Set or move it (and mark it not done).
    Schedule {
        hospital_id: Option<i64>,
        due_at: NaiveDateTime,
    },
    /// Mark it done.
    Settle,
}

/// Changes keyed by `(rule, subject)`, in key order (so that two writers lock rows in the
/// same order); the last change of a key is the one that counts.
pub type Changes = std::collections::BTreeMap<(String, String), Change>;

/// Writes changes: every schedule in one multi-row upsert, the settlements in one update per
/// rule.
pub fn write(conn: &mut DbConn, changes: &Changes) -> QueryResult<()> {
    use diesel::upsert::excluded;
    let rows: Vec<_> = changes
        .iter()
        .filter_map(|((rule, subject), change)| match change {
            Change::Schedule {
                hospital_id,
                due_at,
            } => Some((
                deadlines::rule.eq(rule),
                deadlines::subject.eq(subject),
                deadlines::hospital_id.eq(*hospital_id),
                deadlines::due_at.eq(*due_at),
                deadlines::done.eq(false),
            )),
            Change::Settle => None,
        })
        .collect();
    // Built per backend: diesel's MultiConnection has no upserts.
    macro_rules! upsert {
        ($rows:expr) => {
            diesel::insert_into(deadlines::table)
                .values($rows)
                .on_conflict((deadlines::rule, deadlines::subject))
                .do_update()
                .set((
                    deadlines::due_at.eq(excluded(deadlines::due_at)),
                    deadlines::done.eq(false),
                ))
        };
    }
    // Bound parameters stay under SQLite's limit (32,766) and PostgreSQL's (65,535).
    for chunk in rows.chunks(5_000) {
        match conn {
            DbConn::Pg(c) => upsert!(chunk).execute(c),
            DbConn::Sqlite(c) => upsert!(chunk).execute(c),
        }?;
    }
    let mut settled: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for ((rule, subject), change) in changes {
        if *change == Change::Settle {
            settled.entry(rule).or_default().push(subject);
        }
    }
    for (rule, subjects) in settled {
        for chunk in subjects.chunks(5_000) {
            diesel::update(
                deadlines::table
                    .filter(deadlines::rule.eq(rule))
                    .filter(deadlines::subject.eq_any(chunk))
                    .filter(open()),
            )
            .set(deadlines::done.eq(true))
            .execute(conn)?;
        }
    }
    Ok(())
}

/// The unsettled deadlines of the given (rule, subjects) pairs: (rule, subject, due time). One
/// query per 1,000 subjects, each rule's subjects matched with that rule only.
pub fn open_for(
    conn: &mut DbConn,
    wanted: &std::collections::BTreeMap<&str, Vec<&str>>,
) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    let mut out = Vec::new();
    for part in crate::pairs_in_parts(wanted, 1_000) {
        let mut q = deadlines::table
            .select((deadlines::rule, deadlines::subject, deadlines::due_at))
            .into_boxed();
        for (i, (rule, subjects)) in part.into_iter().enumerate() {
            let clause = deadlines::rule
                .eq(rule)
                .and(deadlines::subject.eq_any(subjects));
            q = if i == 0 {
                q.filter(clause)
            } else {
                q.or_filter(clause)
            };
        }
        out.extend(
            q.filter(open())
                .load::<(String, String, NaiveDateTime)>(conn)?,
        );
    }
    Ok(out)
}

/// Marks a subject's deadline as settled (a verdict was reached).
pub fn settle(conn: &mut DbConn, rule: &str, subject: &str) -> QueryResult<()> {
    let mut changes = Changes::new();
    changes.insert((rule.to_string(), subject.to_string()), Change::Settle);
    write(conn, &changes)
}

/// Deadlines that have passed and are not settled, oldest first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Deadline>> {
    deadlines::table
        .filter(open())
        .filter(deadlines::due_at.le(now))
        .order(deadlines::due_at.asc())
        .limit(limit)
        .load(conn)
}

/// Takes a due deadline for this pass: settles it if it is still open and due, and says whether
/// this caller did (of several instances sweeping at once, exactly one gets `true`; the others
/// wait on the row's lock and then find it settled).
pub fn claim(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let claimed = diesel::update(
        deadlines::table
            .filter(deadlines::id.eq(id))
            .filter(open())
            .filter(deadlines::due_at.le(now)),
    )
    .set(deadlines::done.eq(true))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Settles a deadline unless it was moved past `now` meanwhile.
pub fn settle_if_due(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    settle_all_if_due(conn, &[id], now)
}

/// `settle_if_due` for several deadlines in one statement.
pub fn settle_all_if_due(conn: &mut DbConn, ids: &[i64], now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        deadlines::table
            .filter(deadlines::id.eq_any(ids))
            .filter(open())
            .filter(deadlines::due_at.le(now)),
    )
    .set(deadlines::done.eq(true))
    .execute(conn)
    .map(|_| ())
}
