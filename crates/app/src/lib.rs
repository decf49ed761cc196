//! Shouzhen's services, between the HTTP layer (the root package) and the store. Nothing here
//! knows a web framework: callers hand in a connection or the pool, and get an [`error::AppError`]
//! that says what went wrong (its module says which error goes where).
//!
//! - [`intake`]: events from hospitals into the record and the rules; `queue`, the writer
//!   threads (group commit);
//! - [`engine`]: the rules over the stored evidence, and the verdicts into cases and deadlines;
//!   [`sweeper`]: the deadlines that came due;
//! - [`workflow`]: inspectors' actions on cases; [`notify`]: what is emailed when;
//! - [`mail`]: the emails, rendered into the outbox, and the worker that delivers them;
//! - [`complaints`]: citizens' complaints (filing, sealing contact details, actions, export);
//! - [`board`]: the public board; [`accounts`], [`import`]: registration and bulk load;
//! - [`config`], [`keys`], [`password`], [`metrics`]: settings, secret keys, password and
//!   client-secret hashes, Prometheus metrics.

pub mod accounts;
pub mod board;
pub mod complaints;
pub mod config;
pub mod engine;
pub mod error;
pub mod import;
pub mod intake;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod password;
pub mod sweeper;
pub mod workflow;
