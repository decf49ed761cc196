//! Shouzhen's integration tests, in one binary (one link, one run): the real service over real
//! HTTP on a real SQLite file or PostgreSQL database (`SHOUZHEN_TEST_DATABASE_URL`), with a real
//! SMTP server, Chromium and the W3C validator where the area needs them. `common` holds the
//! `TestApp` every module starts its service with.

#[path = "../common/mod.rs"]
mod common;

mod actions;
mod big_requests;
mod browser;
mod chain_rules;
mod cli;
mod complaints;
mod dashboard;
mod desk;
mod dispatch;
mod dispatch_rules;
mod email;
mod foundation;
mod hospital_loop;
mod layering;
mod record;
mod reports;
mod rules;
mod scan_findings;
mod transport;
