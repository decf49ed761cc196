//! Shouzhen's domain: what the directives say and what the data means, with no web framework,
//! database or mail in reach (a test of the root package holds this crate's dependencies to
//! that). Everything here is a pure function of its inputs, and unit-tested here.
//!
//! - [`event`]: intake events as hospitals send them (`RawEvent`) and as the rules read them
//!   (`IntakeEvent`, only built from a valid one);
//! - [`dispatch`]: a 120 centre's call log (`RawDispatchEvent` → `DispatchEvent`);
//! - [`transport`]: a community desk's transport log (`RawTransportEvent` → `TransportEvent`);
//! - [`rules`]: the rules, one module each, with their citations and tests;
//! - [`policy`]: policy packs, the dated per-jurisdiction settings of the rules;
//! - [`case`], [`complaint`]: statuses and state machines;
//! - [`actor`]: who acts (roles, a dashboard user);
//! - [`field`]: field errors, which the HTTP layer reports as `errors[]`;
//! - [`report`]: the hotline's three rates (三率) and their rank;
//! - [`record`]: the hashes of the tamper-evident record;
//! - [`calendar`]: working days (holidays and make-up days of the State Council's notices);
//! - [`time`]: China time; [`redact`]: masking identifiers in free text.

pub mod actor;
pub mod calendar;
pub mod case;
pub mod complaint;
pub mod dispatch;
pub mod event;
pub mod field;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod policy;
pub mod record;
pub mod redact;
pub mod report;
pub mod rules;
pub mod time;
pub mod transport;
