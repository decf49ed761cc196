//! Ingesting intake events: validation, pseudonymisation, idempotent storage and the rules, all
//! of one request in one transaction. Shared by the API and `shouzhen import`.

use shouzhen_domain::event;
pub mod queue;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::engine::{Effects, Engine};
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use event::{IntakeEvent, Logged, PatientId, RawEvent};
use serde_json::Value;
use shouzhen_domain::dispatch::{DispatchEvent, DispatchKind, RawDispatchEvent};
use shouzhen_domain::field::FieldError;
use shouzhen_domain::transport::{RawTransportEvent, TransportEvent};
use shouzhen_store::db::{self, DbConn};

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
        let error = shouzhen_domain::field::describe(&errors);
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

/// How a request body lists its events.
pub enum BodyFormat {
    /// One event object, or an array of them.
    Json,
    /// One event per line.
    Ndjson,
}

/// Splits a request body into one JSON value per event; a body that does not parse is a 400
/// naming the body (or the NDJSON line).
pub fn split_body(body: &[u8], format: BodyFormat) -> AppResult<Vec<Value>> {
    match format {
        BodyFormat::Json => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| AppError::field("body", format!("is not valid JSON: {e}")))?;
            match value {
                Value::Array(items) => Ok(items),
                Value::Object(_) => Ok(vec![value]),
                _ => Err(AppError::field(
                    "body",
                    "must be an event object or an array of events",
                )),
            }
        }
        BodyFormat::Ndjson => {
            let text =
                std::str::from_utf8(body).map_err(|_| AppError::field("body", "is not UTF-8"))?;
            let mut values = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(line).map_err(|e| {
                    AppError::field(format!("line {}", n + 1), format!("is not valid JSON: {e}"))
                })?;
                values.push(value);
            }
            Ok(values)
        }
    }
}

/// The event's id (for its rejection) and the value read as a `T` (every field at fault named).
fn read_raw<T: serde::de::DeserializeOwned>(
    index: usize,
    value: Value,
) -> Result<(Option<String>, T), Rejection> {
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
    let raw: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Rejection::new(
            index,
            event_id.clone(),
            vec![shouzhen_domain::field::from_serde(
                &path,
                &inner.to_string(),
            )],
        )
    })?;
    Ok((event_id, raw))
}

/// Validates one parsed JSON value as a hospital's event. Whether a closure's `diverted_to` is
/// registered is checked against `hospitals` (the register's codes, read once per request and
/// only when an event names one: see [`names_a_diversion`]).
pub fn validate(
    index: usize,
    value: Value,
    now: DateTime<Utc>,
    hospitals: &BTreeSet<String>,
) -> Result<IntakeEvent, Rejection> {
    let (event_id, raw): (_, RawEvent) = read_raw(index, value)?;
    let ev =
        IntakeEvent::parse(raw, now).map_err(|e| Rejection::new(index, event_id.clone(), e))?;
    match ev
        .body
        .closure
        .as_ref()
        .and_then(|c| c.diverted_to.as_ref())
    {
        Some(h) if !hospitals.contains(h) => Err(Rejection::new(
            index,
            event_id,
            vec![FieldError::new(
                "closure.diverted_to",
                "is not a registered hospital",
            )],
        )),
        _ => Ok(ev),
    }
}

/// Whether any of a request's events names a hospital its patients are diverted to (so that
/// [`validate`] needs the register).
pub fn names_a_diversion(values: &[Value]) -> bool {
    values
        .iter()
        .any(|v| v.pointer("/closure/diverted_to").is_some())
}

/// The codes of the hospitals a centre's ambulances may reach (`validate_dispatch`'s register):
/// the registered hospitals that are not disabled.
pub fn reachable_hospitals(conn: &mut DbConn) -> shouzhen_store::QueryResult<BTreeSet<String>> {
    Ok(shouzhen_store::hospitals::all(conn)?
        .into_iter()
        .filter(|h| !h.disabled)
        .map(|h| h.code)
        .collect())
}

/// Validates one parsed JSON value as a 120 centre's event. Whether its `hospital` is
/// registered is checked against `hospitals` (the register's codes, read once per request).
pub fn validate_dispatch(
    index: usize,
    value: Value,
    now: DateTime<Utc>,
    hospitals: &BTreeSet<String>,
) -> Result<DispatchEvent, Rejection> {
    let (event_id, raw): (_, RawDispatchEvent) = read_raw(index, value)?;
    let ev =
        DispatchEvent::parse(raw, now).map_err(|e| Rejection::new(index, event_id.clone(), e))?;
    match &ev.body.hospital {
        Some(h) if !hospitals.contains(h) => Err(Rejection::new(
            index,
            event_id,
            vec![FieldError::new("hospital", "is not a registered hospital")],
        )),
        _ => Ok(ev),
    }
}

/// Validates one parsed JSON value as a community desk's event. Whether a request's
/// `to_hospital` is registered is checked against `hospitals` (read once per request).
pub fn validate_transport(
    index: usize,
    value: Value,
    now: DateTime<Utc>,
    hospitals: &BTreeSet<String>,
) -> Result<TransportEvent, Rejection> {
    let (event_id, raw): (_, RawTransportEvent) = read_raw(index, value)?;
    let ev =
        TransportEvent::parse(raw, now).map_err(|e| Rejection::new(index, event_id.clone(), e))?;
    match &ev.body.to_hospital {
        Some(h) if !hospitals.contains(h) => Err(Rejection::new(
            index,
            event_id,
            vec![FieldError::new(
                "to_hospital",
                "is not a registered hospital",
            )],
        )),
        _ => Ok(ev),
    }
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
    /// Closures, as (hospital id, closure id).
    pub closures: BTreeSet<(i64, String)>,
    /// 120 calls, as (centre id, call id).
    pub calls: BTreeSet<(i64, String)>,
    /// 120 centres' China days, as (centre id, date): those of fleet statuses here; those of
    /// calls are added as the calls are judged.
    pub days: BTreeSet<(i64, NaiveDate)>,
    /// Community transport requests, as (desk id, request id), with their events' times.
    pub requests: BTreeMap<(i64, String), (NaiveDateTime, NaiveDateTime)>,
}

impl Touched {
    fn add(&mut self, ev: &Prepared, source_id: i64, log: Log) {
        if log == Log::Transport {
            // A desk's events are judged by request; its residents' hospital events are the
            // hospitals' to judge.
            if let Some(r) = &ev.call {
                let span = self.requests.entry((source_id, r.clone()));
                let span = span.or_insert((ev.occurred, ev.occurred));
                *span = (span.0.min(ev.occurred), span.1.max(ev.occurred));
            }
            return;
        }
        if let Some(k) = &ev.key {
            self.add_patient(k.clone(), ev.occurred);
        }
        if let Some(c) = &ev.closure {
            self.closures.insert((source_id, c.clone()));
        }
        if let Some(c) = &ev.call {
            self.calls.insert((source_id, c.clone()));
        }
        if log == Log::Dispatch && ev.kind == DispatchKind::FleetStatus.as_str() {
            self.days
                .insert((source_id, shouzhen_domain::time::china_date(ev.occurred)));
        }
    }

    /// A patient to judge, around the event time `at`.
    pub fn add_patient(&mut self, key: String, at: NaiveDateTime) {
        self.patients.insert(key);
        self.span = Some(widen(self.span, at));
    }

    pub fn extend(&mut self, other: Touched) {
        self.patients.extend(other.patients);
        self.closures.extend(other.closures);
        self.calls.extend(other.calls);
        self.days.extend(other.days);
        for (request, (from, to)) in other.requests {
            let span = self.requests.entry(request).or_insert((from, to));
            *span = (span.0.min(from), span.1.max(to));
        }
        self.span = match (self.span, other.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
    }
}

/// An event ready to be stored: validated, its patient pseudonymised, its body serialised and
/// hashed. This is the CPU work of ingest, done before the write transaction.
#[derive(Debug)]
pub struct Prepared {
    index: usize,
    event_id: String,
    key: Option<String>,
    kind: &'static str,
    acuity: Option<&'static str>,
    occurred: NaiveDateTime,
    closure: Option<String>,
    /// A 120 call's id (dispatch events).
    call: Option<String>,
    payload: String,
    hash: String,
}

impl Prepared {
    /// The event's position in its request.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The event as it is stored (identifiers pseudonymised, the note masked).
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// The idempotency hash of the event.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

/// Which log a batch is of. A 120 centre's call log and a community desk's transport log are
/// stored and chained like a hospital's, but no hospital rule judges them and they keep no
/// hospital's feed alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    Hospital,
    Dispatch,
    Transport,
}

/// One request's events, prepared: what the write transaction needs and nothing more.
#[derive(Debug)]
pub struct Batch {
    pub poster: Poster,
    pub events: Vec<Prepared>,
    pub rejected: Vec<Rejection>,
    pub log: Log,
}

/// The columns of a stored event besides its id, patient and body.
pub struct Columns {
    kind: &'static str,
    acuity: Option<&'static str>,
    occurred: NaiveDateTime,
    closure: Option<String>,
    call: Option<String>,
}

/// What storing needs of the body of either log besides its canonical JSON: the columns it
/// fills.
pub trait LoggedBody: serde::Serialize {
    fn columns(&self) -> Columns;
}

impl LoggedBody for shouzhen_domain::event::EventBody {
    fn columns(&self) -> Columns {
        Columns {
            kind: self.kind.as_str(),
            acuity: self.acuity.map(|a| a.as_str()),
            occurred: self.occurred_naive(),
            closure: self.closure.as_ref().map(|c| c.id.clone()),
            call: None,
        }
    }
}

impl LoggedBody for shouzhen_domain::dispatch::DispatchBody {
    fn columns(&self) -> Columns {
        Columns {
            kind: self.kind.as_str(),
            acuity: self.acuity.map(|a| a.as_str()),
            occurred: self.occurred_naive(),
            closure: None,
            call: self.call_id.clone(),
        }
    }
}

impl LoggedBody for shouzhen_domain::transport::TransportBody {
    fn columns(&self) -> Columns {
        Columns {
            kind: self.kind.as_str(),
            acuity: None,
            occurred: self.occurred_naive(),
            closure: None,
            // The request's id, in the column a call's id takes: the request's events are read
            // by it.
            call: Some(self.request_id.clone()),
        }
    }
}

impl Batch {
    /// Pseudonymises, serialises and hashes a hospital's valid events; keeps the rejections.
    pub fn prepare(
        keys: &Keys,
        poster: Poster,
        items: Vec<Result<IntakeEvent, Rejection>>,
    ) -> Result<Self, shouzhen_store::StoreError> {
        Self::prepare_log(keys, poster, items, Log::Hospital)
    }

    /// [`Batch::prepare`] for a community desk's events: a resident's `id_number` is
    /// pseudonymised with the hospitals' key, so that the resident links to their logs.
    pub fn prepare_transport(
        keys: &Keys,
        poster: Poster,
        items: Vec<Result<TransportEvent, Rejection>>,
    ) -> Result<Self, shouzhen_store::StoreError> {
        Self::prepare_log(keys, poster, items, Log::Transport)
    }

    /// [`Batch::prepare`] for a 120 centre's events: a patient's `id_number` is pseudonymised
    /// with the same key as a hospital's, so that the ambulance's patient links to the
    /// hospital's own events.
    pub fn prepare_dispatch(
        keys: &Keys,
        poster: Poster,
        items: Vec<Result<DispatchEvent, Rejection>>,
    ) -> Result<Self, shouzhen_store::StoreError> {
        Self::prepare_log(keys, poster, items, Log::Dispatch)
    }

    fn prepare_log<B: LoggedBody>(
        keys: &Keys,
        poster: Poster,
        items: Vec<Result<Logged<B>, Rejection>>,
        log: Log,
    ) -> Result<Self, shouzhen_store::StoreError> {
        let mut events = Vec::with_capacity(items.len());
        let mut rejected = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let ev = match item {
                Ok(ev) => ev,
                Err(rejection) => {
                    rejected.push(rejection);
                    continue;
                }
            };
            let key = ev
                .patient
                .as_ref()
                .map(|p| patient_key(keys, poster.hospital_id, p));
            let payload = serde_json::to_string(&ev.body)
                .map_err(|e| shouzhen_store::StoreError::SerializationError(Box::new(e)))?;
            let c = ev.body.columns();
            events.push(Prepared {
                index,
                kind: c.kind,
                acuity: c.acuity,
                occurred: c.occurred,
                closure: c.closure,
                call: c.call,
                hash: shouzhen_domain::record::content_hash(&ev.event_id, key.as_deref(), &payload),
                event_id: ev.event_id,
                key,
                payload,
            });
        }
        Ok(Self {
            poster,
            events,
            rejected,
            log,
        })
    }

    /// The number of events in the request, valid or not.
    pub fn len(&self) -> usize {
        self.events.len() + self.rejected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
) -> Result<IngestReport, shouzhen_store::StoreError> {
    let batch = Batch::prepare(keys, poster.clone(), items)?;
    let mut reports = ingest_group(conn, engine, std::slice::from_ref(&batch))?;
    Ok(reports.pop().unwrap_or_default())
}

/// Stores several requests' events and judges everything they touched, in one transaction
/// (group commit): one report per batch, in order.
pub fn ingest_group(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    batches: &[Batch],
) -> Result<Vec<IngestReport>, shouzhen_store::StoreError> {
    db::write_tx(conn, |conn| {
        let mut reports: Vec<IngestReport> = batches
            .iter()
            .map(|b| IngestReport {
                rejected: b.rejected.clone(),
                ..Default::default()
            })
            .collect();
        let mut touched = Touched::default();
        // One insert per hospital for the whole group, the requests' events in their order.
        let mut by_hospital: BTreeMap<i64, Vec<(usize, &Prepared)>> = BTreeMap::new();
        for (b, batch) in batches.iter().enumerate() {
            let mine = by_hospital.entry(batch.poster.hospital_id).or_default();
            mine.extend(batch.events.iter().map(|ev| (b, ev)));
        }
        let groups: Vec<(i64, Vec<&Prepared>)> = by_hospital
            .iter()
            .map(|(h, events)| (*h, events.iter().map(|(_, ev)| *ev).collect()))
            .collect();
        let stored = store_events(conn, &groups, engine.now)?;
        for ((hospital_id, events), outcomes) in by_hospital.iter().zip(&stored.outcomes) {
            for ((b, ev), outcome) in events.iter().zip(outcomes) {
                let report = &mut reports[*b];
                match outcome {
                    Stored::New => {
                        report.accepted += 1;
                        touched.add(ev, *hospital_id, batches[*b].log);
                    }
                    Stored::Duplicate => report.duplicates += 1,
                    Stored::Conflict => report.rejected.push(conflict(ev.index, &ev.event_id)),
                }
            }
        }
        let mut alive = BTreeSet::new();
        for (batch, report) in batches.iter().zip(reports.iter_mut()) {
            report.rejected.sort_by_key(|r| r.index);
            if report.accepted + report.duplicates > 0 && batch.log == Log::Hospital {
                alive.insert((batch.poster.hospital_id, batch.poster.jurisdiction.as_str()));
            }
        }
        let effects = evaluate(conn, engine, &touched)?;
        // The hospitals' rows are locked already (in `store_events`).
        let alive: Vec<(i64, &str)> = alive.into_iter().collect();
        engine.feed_alive(conn, &stored.to_touch(engine, &alive))?;
        if let Some(first) = reports.first_mut() {
            first.effects = effects;
        }
        Ok(reports)
    })
}

/// Stores events without judging them, for bulk loads that judge once at the end (so that a
/// patient's arrival and handover in two batches are judged together). The subjects touched
/// include those of duplicates, so that a re-run after an interruption judges everything.
pub fn store_only(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    batch: &Batch,
) -> Result<(IngestReport, Touched), shouzhen_store::StoreError> {
    let poster = &batch.poster;
    db::write_tx(conn, |conn| {
        let mut report = IngestReport {
            rejected: batch.rejected.clone(),
            ..Default::default()
        };
        let mut touched = Touched::default();
        let groups = [(poster.hospital_id, batch.events.iter().collect())];
        let stored = store_events(conn, &groups, engine.now)?;
        for (ev, outcome) in batch.events.iter().zip(&stored.outcomes[0]) {
            match outcome {
                Stored::New => report.accepted += 1,
                Stored::Duplicate => report.duplicates += 1,
                Stored::Conflict => {
                    report.rejected.push(conflict(ev.index, &ev.event_id));
                    continue;
                }
            }
            // A re-run after an interruption judges the duplicates too.
            touched.add(ev, poster.hospital_id, batch.log);
        }
        report.rejected.sort_by_key(|r| r.index);
        if report.accepted + report.duplicates > 0 && batch.log == Log::Hospital {
            let alive = [(poster.hospital_id, poster.jurisdiction.as_str())];
            engine.feed_alive(conn, &stored.to_touch(engine, &alive))?;
        }
        Ok((report, touched))
    })
}

/// Runs the rules over the touched subjects (inside the caller's transaction): the calls
/// first, since they name more days and patients to judge.
pub fn evaluate(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    touched: &Touched,
) -> Result<Effects, shouzhen_store::StoreError> {
    let mut effects = Effects::default();
    let (mut patients, mut span, mut days) =
        (touched.patients.clone(), touched.span, touched.days.clone());
    if !touched.calls.is_empty() {
        let found = engine.calls(conn, &touched.calls)?;
        effects.extend(found.effects);
        days.extend(found.days);
        for (key, at) in found.patients {
            patients.insert(key);
            span = Some(widen(span, at));
        }
    }
    if let Some((from, to)) = span {
        effects.extend(engine.patients(conn, &patients, from, to)?);
    }
    for (hospital_id, closure_id) in &touched.closures {
        effects.extend(engine.closure(conn, *hospital_id, closure_id)?);
    }
    effects.extend(engine.centre_days(conn, &days)?);
    effects.extend(engine.transport(conn, &touched.requests)?);
    Ok(effects)
}

/// A span of event times widened to hold `at`.
fn widen(
    span: Option<(NaiveDateTime, NaiveDateTime)>,
    at: NaiveDateTime,
) -> (NaiveDateTime, NaiveDateTime) {
    match span {
        None => (at, at),
        Some((a, b)) => (a.min(at), b.max(at)),
    }
}

fn conflict(index: usize, event_id: &str) -> Rejection {
    Rejection::new(
        index,
        Some(event_id.to_string()),
        vec![FieldError::new(
            "event_id",
            "was already used for an event with other content",
        )],
    )
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    New,
    /// The same id with the same content: stored before, changes nothing.
    Duplicate,
    /// The same id with other content: rejected.
    Conflict,
}

/// What [`store_events`] did.
struct StoredGroups {
    /// One outcome per event, per hospital, in order.
    outcomes: Vec<Vec<Stored>>,
    /// When each hospital's feed was last noted alive, read with its locked row: whether the
    /// feed needs noting again is known without a statement.
    last_alive: HashMap<i64, Option<NaiveDateTime>>,
}

impl StoredGroups {
    /// The hospitals among `alive` whose feeds need noting alive now.
    fn to_touch<'a>(&self, engine: &Engine<'_>, alive: &[(i64, &'a str)]) -> Vec<(i64, &'a str)> {
        alive
            .iter()
            .filter(|(h, _)| engine.feed_note_due(self.last_alive.get(h).copied().flatten()))
            .copied()
            .collect()
    }
}

/// Stores the prepared events of one or more hospitals (each hospital's in order) in one bulk
/// insert: a new id is inserted; an id stored before (or earlier in its hospital's events) is
/// a duplicate when its content is the same and a conflict when it is not. One outcome per
/// event, per hospital, in order. Whatever the number of hospitals, one statement locks their
/// chains and reads their heads, one looks their stored ids up and one moves the heads on.
fn store_events(
    conn: &mut DbConn,
    groups: &[(i64, Vec<&Prepared>)],
    now: NaiveDateTime,
) -> Result<StoredGroups, shouzhen_store::StoreError> {
    let mut all_outcomes = Vec::with_capacity(groups.len());
    // Per hospital, the first event of each id is the one stored; a repeat is judged against it.
    let mut uniques = Vec::with_capacity(groups.len());
    // Each hospital's ids to look up: those of its first events.
    let mut wanted: Vec<(i64, Vec<&str>)> = Vec::with_capacity(groups.len());
    for (h, events) in groups {
        let mut outcomes = vec![Stored::Duplicate; events.len()];
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(events.len());
        let mut unique = Vec::with_capacity(events.len());
        for (i, ev) in events.iter().enumerate() {
            match first.get(ev.event_id.as_str()) {
                None => {
                    first.insert(&ev.event_id, i);
                    unique.push(i);
                }
                Some(&j) if events[j].hash == ev.hash => outcomes[i] = Stored::Duplicate,
                Some(_) => outcomes[i] = Stored::Conflict,
            }
        }
        let ids = unique.iter().map(|&i| events[i].event_id.as_str());
        wanted.push((*h, ids.collect()));
        all_outcomes.push(outcomes);
        uniques.push(unique);
    }
    // Each hospital's hash chain continues from its last event. The hospitals' rows are
    // locked first (on PostgreSQL), then the stored ids read: see `lock_for_intake`.
    let hospital_ids: Vec<i64> = groups.iter().map(|(h, _)| *h).collect();
    let mut heads = HashMap::with_capacity(groups.len());
    let mut last_alive = HashMap::with_capacity(groups.len());
    for row in shouzhen_store::hospitals::lock_for_intake(conn, &hospital_ids)? {
        heads.insert(row.id, row.event_chain_head);
        last_alive.insert(row.id, row.last_received_at);
    }
    let mut stored: HashMap<i64, HashMap<String, String>> = HashMap::new();
    for (h, id, hash) in shouzhen_store::events::hashes(conn, &wanted)? {
        stored.entry(h).or_default().insert(id, hash);
    }
    let mut rows = Vec::with_capacity(wanted.iter().map(|(_, ids)| ids.len()).sum());
    let mut new_heads = Vec::with_capacity(groups.len());
    for (((hospital_id, events), unique), outcomes) in
        groups.iter().zip(&uniques).zip(all_outcomes.iter_mut())
    {
        let mut prev = heads
            .remove(hospital_id)
            .flatten()
            .unwrap_or_else(|| shouzhen_domain::record::GENESIS.to_string());
        let before = rows.len();
        for &i in unique {
            let ev = events[i];
            let known = stored.get(hospital_id).and_then(|m| m.get(&ev.event_id));
            outcomes[i] = match known {
                Some(hash) if *hash == ev.hash => Stored::Duplicate,
                Some(_) => Stored::Conflict,
                None => Stored::New,
            };
            if outcomes[i] != Stored::New {
                continue;
            }
            let content = shouzhen_domain::record::EventContent {
                hospital_id: *hospital_id,
                event_id: &ev.event_id,
                content_hash: &ev.hash,
                kind: ev.kind,
                occurred_at: ev.occurred,
                received_at: now,
                patient_key: ev.key.as_deref(),
                acuity: ev.acuity,
                closure_id: ev.closure.as_deref(),
                payload: &ev.payload,
                call_id: ev.call.as_deref(),
            };
            let row_hash = content.hash();
            prev = shouzhen_domain::record::link(&prev, &row_hash);
            rows.push(shouzhen_store::events::NewEvent {
                content,
                row_hash,
                chain_hash: prev.clone(),
            });
        }
        if rows.len() > before {
            new_heads.push((*hospital_id, prev));
        }
    }
    shouzhen_store::events::insert_all(conn, &rows)?;
    shouzhen_store::record::set_event_heads(conn, &new_heads)?;
    Ok(StoredGroups {
        outcomes: all_outcomes,
        last_alive,
    })
}
