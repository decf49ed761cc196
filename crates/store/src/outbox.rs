//! The transactional outbox: one row per email, written in the transaction that decides to send
//! it; `dedupe_key` is unique, so a decision taken twice writes one email.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::outbox;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";
/// No recipients configured: the email is only recorded.
pub const RECORDED: &str = "recorded";

pub struct NewEmail<'a> {
    pub dedupe_key: String,
    pub case_id: Option<i64>,
    pub kind: &'a str,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Email {
    pub id: i64,
    pub dedupe_key: String,
    pub message_id: String,
    pub case_id: Option<i64>,
    pub kind: String,
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Writes emails, each unless one with the same `dedupe_key` exists: one insert per 1,000.
pub fn enqueue_all(conn: &mut DbConn, emails: &[NewEmail<'_>]) -> QueryResult<()> {
    let now = crate::now();
    let rows: Vec<_> = emails
        .iter()
        .map(|email| {
            (
                outbox::dedupe_key.eq(&email.dedupe_key),
                // A stable Message-ID per row: receivers can drop a copy the one crash window
                // may cause.
                outbox::message_id.eq(format!("<{}@shouzhen>", uuid::Uuid::new_v4())),
                outbox::case_id.eq(email.case_id),
                outbox::kind.eq(email.kind),
                outbox::recipients.eq(email.recipients.join(",")),
                outbox::subject.eq(&email.subject),
                outbox::body_text.eq(&email.body_text),
                outbox::body_html.eq(&email.body_html),
                outbox::status.eq(if email.recipients.is_empty() {
                    RECORDED
                } else {
                    PENDING
                }),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
            )
        })
        .collect();
    // Built per backend: diesel's MultiConnection has no upserts.
    macro_rules! insert {
        ($rows:expr) => {
            diesel::insert_into(outbox::table)
                .values($rows)
                .on_conflict(outbox::dedupe_key)
                .do_nothing()
        };
    }
    for chunk in rows.chunks(1_000) {
        match conn {
            DbConn::Pg(c) => insert!(chunk).execute(c),
            DbConn::Sqlite(c) => insert!(chunk).execute(c),
        }?;
    }
    Ok(())
}

/// Writes the email unless one with the same `dedupe_key` exists.
pub fn enqueue(conn: &mut DbConn, email: &NewEmail<'_>) -> QueryResult<()> {
    enqueue_all(conn, std::slice::from_ref(email))
}

/// Runs `deliver` on the next due email, claimed while it runs: on PostgreSQL inside a
/// transaction that keeps the row locked (`FOR UPDATE SKIP LOCKED`) until `deliver` has marked
/// it, so that another instance skips it; on SQLite (one instance) without a transaction, so
/// that the write lock is not held while the email travels. `None` when nothing is due.
pub fn with_next_due<T>(
    conn: &mut DbConn,
    now: NaiveDateTime,
    deliver: impl FnOnce(&mut DbConn, Email) -> QueryResult<T>,
) -> QueryResult<Option<T>> {
    let run = |c: &mut DbConn| match claim_next(c, now)? {
        Some(email) => deliver(c, email).map(Some),
        None => Ok(None),
    };
    match conn {
        DbConn::Pg(_) => conn.transaction(run),
        DbConn::Sqlite(_) => run(conn),
    }
}

/// The next due email: on PostgreSQL the row stays locked (`FOR UPDATE SKIP LOCKED`) until the
/// caller's transaction ends, so another instance skips it.
fn claim_next(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Option<Email>> {
    let due = outbox::status
        .eq(PENDING)
        .and(outbox::next_attempt_at.le(now));
    match conn {
        DbConn::Pg(pg) => outbox::table
            .filter(due)
            .order(outbox::next_attempt_at.asc())
            .select(Email::as_select())
            .limit(1)
            .for_update()
            .skip_locked()
            .first(pg)
            .optional(),
        DbConn::Sqlite(sqlite) => outbox::table
            .filter(due)
            .order(outbox::next_attempt_at.asc())
            .select(Email::as_select())
            .first(sqlite)
            .optional(),
    }
}

pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(SENT),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed attempt: retried after `backoff`, or dead after `max_attempts`.
pub fn mark_failed(
    conn: &mut DbConn,
    email: &Email,
    error: &str,
    backoff: Duration,
    max_attempts: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let attempts = email.attempts + 1;
    let dead = attempts >= max_attempts;
    diesel::update(outbox::table.find(email.id))
        .set((
            outbox::status.eq(if dead { DEAD } else { PENDING }),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(now + backoff),
            outbox::last_error.eq(error.chars().take(500).collect::<String>()),
        ))
        .execute(conn)?;
    Ok(dead)
}

/// Emails by status, for metrics and the dashboard.
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Email>> {
    outbox::table
        .order(outbox::id.asc())
        .select(Email::as_select())
        .load(conn)
}
