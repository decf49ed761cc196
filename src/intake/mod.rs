//! Ingesting intake events: validation, pseudonymisation, idempotent storage and the rules, all
//! of one request in one transaction. Shared by the API and `shouzhen import`.

pub mod event;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{self, DbConn};
use crate::engine::{Effects, Engine};
use crate::error::FieldError;
use crate::keys::Keys;
use crate::store;
use event::{IntakeEvent, PatientId, RawEvent};

/// At most this many events in one request.
pub const MAX_EVENTS: usize = 10_000;
/// At most this many bytes in one request.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// An event that was not stored, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub error: String,
    /// The fields at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Rejection {
    pub fn new(index: usize, event_id: Option<String>, errors: Vec<FieldError>) -> Self {
        let error = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            index,
            event_id,
            error,
            errors,
        }
    }
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejection>,
    #[serde(skip)]
    pub effects: Effects,
}

/// The hospital the events are stored under.
#[derive(Debug, Clone)]
pub struct Poster {
    pub hospital_id: i64,
    pub code: String,
    pub jurisdiction: String,
}

/// Validates one parsed JSON value as an event.
pub fn validate(
    index: usize,
    value: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<IntakeEvent, Rejection> {
    let event_id = value
        .get("event_id")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    if !value.is_object() {
        return Err(Rejection::new(
            index,
            None,
            vec![FieldError::new("event", "must be a JSON object")],
        ));
    }
    let raw: RawEvent = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Rejection::new(
            index,
            event_id.clone(),
            vec![crate::api::body::field_error(&path, &inner.to_string())],
        )
    })?;
    IntakeEvent::parse(raw, now).map_err(|errors| Rejection::new(index, event_id, errors))
}

/// The keyed pseudonym of the patient: identity numbers link across hospitals; a hospital's own
/// reference links within that hospital only.
fn patient_key(keys: &Keys, hospital_id: i64, patient: &PatientId) -> String {
    match patient {
        PatientId::IdNumber(n) => format!("id:{}", keys.patient_key(n)),
        PatientId::Ref(r) => format!(
            "ref:{}",
            keys.patient_key(&format!("{hospital_id}\u{0}{r}"))
        ),
    }
}

/// The subjects a set of events touched: the rules look at these again.
#[derive(Debug, Default)]
pub struct Touched {
    pub patients: BTreeSet<String>,
    /// The event times of the touched patients' events.
    pub span: Option<(NaiveDateTime, NaiveDateTime)>,
    /// Closure ids of the posting hospital.
    pub closures: BTreeSet<String>,
}

impl Touched {
    fn add(&mut self, key: Option<String>, occurred: NaiveDateTime, closure: Option<&str>) {
        if let Some(k) = key {
            self.patients.insert(k);
            self.span = Some(match self.span {
                None => (occurred, occurred),
                Some((a, b)) => (a.min(occurred), b.max(occurred)),
            });
        }
        if let Some(c) = closure {
            self.closures.insert(c.to_string());
        }
    }

    pub fn extend(&mut self, other: Touched) {
        self.patients.extend(other.patients);
        self.closures.extend(other.closures);
        self.span = match (self.span, other.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
    }
}

/// Stores the valid events of one request and runs the rules on what they touched, in one
/// transaction. `items` holds each event's validation result, in request order.
pub fn ingest(
    conn: &mut DbConn,
    keys: &Keys,
    engine: &Engine<'_>,
    poster: &Poster,
    items: Vec<Result<IntakeEvent, Rejection>>,
) -> Result<IngestReport, diesel::result::Error> {
    db::write_tx(conn, |conn| {
        let (mut report, touched) = store_events(conn, keys, poster, items, engine.now, false)?;
        report.effects = evaluate(conn, engine, poster, &touched)?;
        // Last, so that the hospital's row is locked for the shortest time.
        if report.accepted + report.duplicates > 0 {
            engine.feed_alive(conn, poster.hospital_id, &poster.jurisdiction)?;
        }
        Ok(report)
    })
}

/// Stores events without judging them, for bulk loads that judge once at the end (so that a
/// patient's arrival and handover in two batches are judged together). The subjects touched
/// include those of duplicates, so that a re-run after an interruption judges everything.
pub fn store_only(
    conn: &mut DbConn,
    keys: &Keys,
    engine: &Engine<'_>,
    poster: &Poster,
    items: Vec<Result<IntakeEvent, Rejection>>,
) -> Result<(IngestReport, Touched), diesel::result::Error> {
    db::write_tx(conn, |conn| {
        let (report, touched) = store_events(conn, keys, poster, items, engine.now, true)?;
        if report.accepted + report.duplicates > 0 {
            engine.feed_alive(conn, poster.hospital_id, &poster.jurisdiction)?;
        }
        Ok((report, touched))
    })
}

/// Runs the rules over the touched subjects (inside the caller's transaction).
pub fn evaluate(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    poster: &Poster,
    touched: &Touched,
) -> Result<Effects, diesel::result::Error> {
    let mut effects = Effects::default();
    if let Some((from, to)) = touched.span {
        for key in &touched.patients {
            effects.extend(engine.patient(conn, key, from, to)?);
        }
    }
    for closure_id in &touched.closures {
        effects.extend(engine.closure(conn, poster.hospital_id, closure_id)?);
    }
    Ok(effects)
}

fn store_events(
    conn: &mut DbConn,
    keys: &Keys,
    poster: &Poster,
    items: Vec<Result<IntakeEvent, Rejection>>,
    now: NaiveDateTime,
    touch_duplicates: bool,
) -> Result<(IngestReport, Touched), diesel::result::Error> {
    let mut report = IngestReport::default();
    let mut touched = Touched::default();
    for (index, item) in items.into_iter().enumerate() {
        let ev = match item {
            Ok(ev) => ev,
            Err(rejection) => {
                report.rejected.push(rejection);
                continue;
            }
        };
        let key = ev
            .patient
            .as_ref()
            .map(|p| patient_key(keys, poster.hospital_id, p));
        let payload = serde_json::to_string(&ev.body)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let hash = hex::encode(Sha256::digest(
            format!(
                "{}\u{0}{}\u{0}{}",
                ev.event_id,
                key.as_deref().unwrap_or(""),
                payload
            )
            .as_bytes(),
        ));
        let occurred = ev.body.occurred_naive();
        let closure = ev.body.closure.as_ref().map(|c| c.id.as_str());
        let new = store::events::NewEvent {
            hospital_id: poster.hospital_id,
            event_id: &ev.event_id,
            content_hash: &hash,
            kind: ev.body.kind.as_str(),
            occurred_at: occurred,
            received_at: now,
            patient_key: key.as_deref(),
            acuity: ev.body.acuity.map(|a| a.as_str()),
            closure_id: closure,
            payload: &payload,
        };
        match db::savepoint(conn, |c| store::events::insert(c, &new)) {
            Ok(()) => {
                report.accepted += 1;
                touched.add(key, occurred, closure);
            }
            Err(e) if db::is_unique_violation(&e) => {
                let stored = store::events::find(conn, poster.hospital_id, &ev.event_id)?;
                match stored {
                    Some((_, stored_hash, _)) if stored_hash == hash => {
                        report.duplicates += 1;
                        // A duplicate changes nothing; a bulk re-run judges it again anyway.
                        if touch_duplicates {
                            touched.add(key, occurred, closure);
                        }
                    }
                    _ => report.rejected.push(Rejection::new(
                        index,
                        Some(ev.event_id.clone()),
                        vec![FieldError::new(
                            "event_id",
                            "was already used for an event with other content",
                        )],
                    )),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((report, touched))
}
