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

use chrono::{NaiveDateTime, Utc};

/// Now, in UTC, as stored.
pub fn now() -> NaiveDateTime {
    to_micros(Utc::now().naive_utc())
}

pub use shouzhen_domain::time::to_micros;
