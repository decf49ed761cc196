//! Shouzhen's storage. [`db`] holds the connection type over both backends (`DbConn`), the
//! pool, the embedded migrations (`migrations/{postgres,sqlite}` at the top of the repository)
//! and the transactions; [`schema`] the tables; every other module the rows and the queries on
//! one table group, each behind a named function that takes a `&mut DbConn` and works the same
//! on both backends. This is the only crate that writes SQL or asks which backend it talks to
//! (`COPY`, `unnest`, `SKIP LOCKED` and advisory locks are here); the services above it call
//! these functions and never see diesel.

pub mod audit;
pub mod cases;
pub mod complaints;
pub mod db;
pub mod deadlines;
pub mod events;
pub mod hospitals;
pub mod outbox;
pub mod record;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod users;

use chrono::{NaiveDateTime, Utc};

/// What every query returns; the services map [`StoreError`] to their own error (a missing row,
/// an outage: [`db::is_transient`], or a fault), so that no crate above needs diesel.
pub use diesel::QueryResult;
/// A failed query or transaction.
pub type StoreError = diesel::result::Error;
/// No connection could be had from the pool in time.
pub use diesel::r2d2::PoolError;

/// Now, in UTC, as stored (to the microsecond, as both backends keep it).
pub fn now() -> NaiveDateTime {
    shouzhen_domain::time::to_micros(Utc::now().naive_utc())
}

/// (rule, subjects) pairs in parts of at most `limit` subjects each (a rule's subjects may span
/// parts), for queries that match each rule with its own subjects.
pub(crate) fn pairs_in_parts<'a>(
    wanted: &'a std::collections::BTreeMap<&'a str, Vec<&'a str>>,
    limit: usize,
) -> Vec<Vec<(&'a str, &'a [&'a str])>> {
    let mut parts: Vec<Vec<(&str, &[&str])>> = Vec::new();
    let mut room = 0;
    for (rule, subjects) in wanted {
        for chunk in subjects.chunks(limit) {
            if room < chunk.len() || parts.is_empty() {
                parts.push(Vec::new());
                room = limit;
            }
            room -= chunk.len();
            if let Some(part) = parts.last_mut() {
                part.push((rule, chunk));
            }
        }
    }
    parts
}
