//! Rows and the queries on them, one module per table group. Everything here takes a
//! `&mut DbConn` and works the same on both backends.

pub mod audit;
pub mod cases;
pub mod complaints;
pub mod deadlines;
pub mod events;
pub mod hospitals;
pub mod sessions;
pub mod users;

use chrono::{NaiveDateTime, Timelike, Utc};

/// Now, in UTC, as stored.
pub fn now() -> NaiveDateTime {
    to_micros(Utc::now().naive_utc())
}

/// Truncates a timestamp to microseconds, the precision PostgreSQL keeps, so that a value
/// read back equals the value written on both backends.
pub fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}
