//! Intake events: insert with idempotency, and the reads the rules need.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{hospitals, intake_events};
use shouzhen_domain::dispatch::{CallEvent, DispatchBody, DispatchKind, FleetStatus};
use shouzhen_domain::event::{Acuity, EventBody, OriginZone};
use shouzhen_domain::record::EventContent;
use shouzhen_domain::rules::{AmbulanceLeg, EventView};
use shouzhen_domain::transport::{TransportBody, TransportRow};

/// A row to insert: its content (what `row_hash` covers) and its two hashes.
#[derive(Debug)]
pub struct NewEvent<'a> {
    pub content: EventContent<'a>,
    pub row_hash: String,
    pub chain_hash: String,
}

/// Rows per multi-row insert on SQLite: 13 columns each, well under its 32,766 bound
/// parameters.
const INSERT_CHUNK: usize = 1_000;
/// Values per `IN (...)` list.
const IN_CHUNK: usize = 1_000;

/// The columns of one row, as both backends' inserts take them.
macro_rules! event_values {
    ($r:expr) => {{
        use intake_events::*;
        let r = $r;
        let e = &r.content;
        (
            hospital_id.eq(e.hospital_id),
            event_id.eq(e.event_id),
            content_hash.eq(e.content_hash),
            kind.eq(e.kind),
            occurred_at.eq(e.occurred_at),
            received_at.eq(e.received_at),
            patient_key.eq(e.patient_key),
            acuity.eq(e.acuity),
            closure_id.eq(e.closure_id),
            payload.eq(e.payload),
            row_hash.eq(r.row_hash.as_str()),
            chain_hash.eq(r.chain_hash.as_str()),
            call_id.eq(e.call_id),
        )
    }};
}

/// Inserts events whose `(hospital_id, event_id)` the caller has found new while holding the
/// hospital's chain lock (see the services' `intake::store_events`), in the order given, so
/// that ids follow the hash chain. PostgreSQL receives them through `COPY` (binary), its bulk
/// loader: a plain row-by-row `INSERT` costs about three times as much, and `ON CONFLICT` more
/// again, because each row is first inserted speculatively. SQLite takes a multi-row insert per
/// chunk.
pub fn insert_all(conn: &mut DbConn, rows: &[NewEvent<'_>]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Pg(c) => {
            let flat: Vec<_> = rows.iter().map(|r| event_values!(r)).collect();
            diesel::copy_from(intake_events::table)
                .from_insertable(flat)
                .execute(c)
                .map(|_| ())
        }
        DbConn::Sqlite(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let values: Vec<_> = chunk.iter().map(|r| event_values!(r)).collect();
                diesel::insert_into(intake_events::table)
                    .values(values)
                    .execute(c)?;
            }
            Ok(())
        }
    }
}

/// The content hashes of the stored events among each hospital's `event_ids`, as
/// `(hospital_id, event_id, content_hash)`, in one query for a whole group: each id costs one
/// probe of the `(hospital_id, event_id)` key whatever the number of hospitals.
///
/// On PostgreSQL the wanted pairs are joined from two arrays, so that the planner never sees a
/// hospital id it could look up in the statistics: a hospital new since the last `ANALYZE`
/// counts there as having no events, and a condition `hospital_id = <it>` was then planned on
/// any index that starts with `hospital_id`, reading all of its events for each lookup. SQLite
/// gets each hospital's ids as a condition of its own (`hospital_id = h AND event_id IN (...)`,
/// OR-ed), per 1,000 ids.
pub fn hashes(
    conn: &mut DbConn,
    wanted: &[(i64, Vec<&str>)],
) -> QueryResult<Vec<(i64, String, String)>> {
    if let DbConn::Pg(pg) = conn {
        return pg_hashes(pg, wanted);
    }
    use intake_events::dsl::{content_hash, event_id, hospital_id};
    // Pieces of at most IN_CHUNK ids; a query takes pieces until it holds IN_CHUNK ids.
    let pieces: Vec<(i64, &[&str])> = wanted
        .iter()
        .flat_map(|(h, ids)| ids.chunks(IN_CHUNK).map(move |chunk| (*h, chunk)))
        .collect();
    let mut out = Vec::new();
    let mut rest = pieces.as_slice();
    while !rest.is_empty() {
        let (mut taken, mut ids) = (0, 0);
        while taken < rest.len() && (taken == 0 || ids + rest[taken].1.len() <= IN_CHUNK) {
            ids += rest[taken].1.len();
            taken += 1;
        }
        let (query_pieces, later) = rest.split_at(taken);
        rest = later;
        if let [(h, chunk)] = query_pieces {
            // One hospital: a fixed statement, which diesel prepares once per connection.
            out.extend(
                intake_events::table
                    .filter(hospital_id.eq(*h))
                    .filter(event_id.eq_any(*chunk))
                    .select((hospital_id, event_id, content_hash))
                    .load::<(i64, String, String)>(conn)?,
            );
            continue;
        }
        let mut query = intake_events::table
            .select((hospital_id, event_id, content_hash))
            .into_boxed::<crate::db::MultiBackend>();
        for (n, (h, chunk)) in query_pieces.iter().enumerate() {
            let piece = hospital_id.eq(*h).and(event_id.eq_any(chunk.to_vec()));
            query = if n == 0 {
                query.filter(piece)
            } else {
                query.or_filter(piece)
            };
        }
        out.extend(query.load::<(i64, String, String)>(conn)?);
    }
    Ok(out)
}

/// [`hashes`] on PostgreSQL.
fn pg_hashes(
    pg: &mut diesel::PgConnection,
    wanted: &[(i64, Vec<&str>)],
) -> QueryResult<Vec<(i64, String, String)>> {
    #[derive(QueryableByName)]
    struct Known {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        hospital_id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        event_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        content_hash: String,
    }
    let (hospitals, ids): (Vec<i64>, Vec<&str>) = wanted
        .iter()
        .flat_map(|(h, ids)| ids.iter().map(move |id| (*h, *id)))
        .unzip();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<Known> = diesel::sql_query(
        "SELECT e.hospital_id, e.event_id, e.content_hash \
         FROM unnest($1::bigint[], $2::text[]) AS w(hospital_id, event_id) \
         JOIN intake_events e ON e.hospital_id = w.hospital_id AND e.event_id = w.event_id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(hospitals)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(ids)
    .load(pg)?;
    Ok(known
        .into_iter()
        .map(|k| (k.hospital_id, k.event_id, k.content_hash))
        .collect())
}

type Row = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    NaiveDateTime,
    String,
    String,
);

fn view(row: Row) -> Option<EventView> {
    let (row_id, event_id, hospital_id, code, name, jurisdiction, occurred_at, payload, zones) =
        row;
    match serde_json::from_str::<EventBody>(&payload) {
        Ok(body) => Some(EventView {
            row_id,
            event_id,
            hospital_id,
            hospital_code: code,
            hospital_name: name,
            jurisdiction,
            designated_for: OriginZone::parse_designated(&zones).unwrap_or_default(),
            occurred_at,
            body,
        }),
        Err(e) => {
            tracing::error!(row_id, error = %e, "stored event payload does not parse");
            None
        }
    }
}

macro_rules! view_columns {
    () => {
        (
            intake_events::id,
            intake_events::event_id,
            intake_events::hospital_id,
            hospitals::code,
            hospitals::name,
            hospitals::jurisdiction,
            intake_events::occurred_at,
            intake_events::payload,
            hospitals::designated_for,
        )
    };
}

/// One patient's events at hospitals between two event times.
pub fn for_patient(
    conn: &mut DbConn,
    patient_key: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<EventView>> {
    let rows: Vec<Row> = intake_events::table
        .inner_join(hospitals::table)
        .filter(hospitals::kind.eq(crate::hospitals::HOSPITAL))
        .filter(intake_events::patient_key.eq(patient_key))
        .filter(intake_events::occurred_at.between(from, to))
        .order((intake_events::occurred_at.asc(), intake_events::id.asc()))
        .limit(10_000)
        .select(view_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(view).collect())
}

/// The events of several patients at hospitals between two event times, by patient key, each patient's in
/// event time: one query per thousand patients instead of one per patient.
pub fn for_patients(
    conn: &mut DbConn,
    patient_keys: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<HashMap<String, Vec<EventView>>> {
    let mut out: HashMap<String, Vec<EventView>> = HashMap::with_capacity(patient_keys.len());
    for chunk in patient_keys.chunks(IN_CHUNK) {
        let rows: Vec<(Row, Option<String>)> = intake_events::table
            .inner_join(hospitals::table)
            .filter(hospitals::kind.eq(crate::hospitals::HOSPITAL))
            .filter(intake_events::patient_key.eq_any(chunk))
            .filter(intake_events::occurred_at.between(from, to))
            .order((
                intake_events::patient_key.asc(),
                intake_events::occurred_at.asc(),
                intake_events::id.asc(),
            ))
            .select((view_columns!(), intake_events::patient_key))
            .load(conn)?;
        for (row, key) in rows {
            if let (Some(v), Some(k)) = (view(row), key) {
                out.entry(k).or_default().push(v);
            }
        }
    }
    Ok(out)
}

/// What the closure rules read of one closure of one hospital: its first start, the first end
/// at or after it, and every start and end up to `reach(first start)` after it (a diversion named
/// in time); not the restatements of a closure that stays closed for weeks. Three seeks of the
/// index on (hospital, closure, kind, time), whatever the closure's length. Empty without a
/// start.
pub fn for_closure_rules(
    conn: &mut DbConn,
    hospital_id: i64,
    closure_id: &str,
    reach: impl FnOnce(&EventView) -> chrono::Duration,
) -> QueryResult<Vec<EventView>> {
    const START: &str = "closure_start";
    const END: &str = "closure_end";
    let of_closure = || {
        intake_events::table
            .inner_join(hospitals::table)
            .filter(intake_events::hospital_id.eq(hospital_id))
            .filter(intake_events::closure_id.eq(closure_id))
    };
    // The first of a kind, from a time on (PostgreSQL's timestamps start later than chrono's).
    let first_of = |conn: &mut DbConn, kind: &str, from: Option<NaiveDateTime>| {
        let mut q = of_closure()
            .filter(intake_events::kind.eq(kind))
            .order((intake_events::occurred_at.asc(), intake_events::id.asc()))
            .select(view_columns!())
            .into_boxed();
        if let Some(from) = from {
            q = q.filter(intake_events::occurred_at.ge(from));
        }
        q.first::<Row>(conn).optional()
    };
    let Some(start) = first_of(conn, START, None)?.and_then(view) else {
        return Ok(Vec::new());
    };
    let until = start.occurred_at + reach(&start);
    let mut rows: Vec<Row> = of_closure()
        .filter(intake_events::kind.eq_any([START, END]))
        .filter(intake_events::occurred_at.le(until))
        .select(view_columns!())
        .load(conn)?;
    rows.extend(first_of(conn, END, Some(start.occurred_at))?);
    let mut events: Vec<EventView> = rows.into_iter().filter_map(view).collect();
    events.sort_by_key(|e| (e.occurred_at, e.row_id));
    events.dedup_by_key(|e| e.row_id);
    Ok(events)
}

/// A stored event of either log as a case's evidence shows it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub row_id: i64,
    pub event_id: String,
    /// The hospital or 120 centre that logged it.
    pub source_code: String,
    pub source_name: String,
    /// `hospital`, `dispatch` or `community`.
    pub source_kind: String,
    pub jurisdiction: String,
    pub occurred_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub patient_key: Option<String>,
    /// The event's type.
    pub kind: String,
    /// The stored body (no patient identity).
    pub details: serde_json::Value,
}

impl StoredEvent {
    pub fn is_dispatch(&self) -> bool {
        self.source_kind == crate::hospitals::DISPATCH
    }

    pub fn is_transport(&self) -> bool {
        self.source_kind == crate::hospitals::COMMUNITY
    }

    /// The hospital the event is at: the source for a hospital's event, the hospital a
    /// centre's event names (`at_hospital`, `handed_over`) for a centre's, the hospital a
    /// desk's request takes the resident to for a desk's.
    pub fn hospital_code(&self) -> Option<&str> {
        let named = |field: &str| self.details.get(field).and_then(|h| h.as_str());
        if self.is_dispatch() {
            named("hospital")
        } else if self.is_transport() {
            named("to_hospital")
        } else {
            Some(&self.source_code)
        }
    }
}

/// Events of either log by row id (a case's evidence), in event time.
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<StoredEvent>> {
    type EvidenceRow = (Row, String, NaiveDateTime, Option<String>, String);
    let mut rows: Vec<EvidenceRow> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        rows.extend(
            intake_events::table
                .inner_join(hospitals::table)
                .filter(intake_events::id.eq_any(chunk))
                .select((
                    view_columns!(),
                    hospitals::kind,
                    intake_events::received_at,
                    intake_events::patient_key,
                    intake_events::kind,
                ))
                .load::<EvidenceRow>(conn)?,
        );
    }
    rows.sort_by_key(|((row_id, _, _, _, _, _, at, _, _), ..)| (*at, *row_id));
    Ok(rows
        .into_iter()
        .map(|(row, source_kind, received_at, patient_key, kind)| {
            let (row_id, event_id, _, code, name, jurisdiction, occurred_at, payload, _) = row;
            let details = serde_json::from_str(&payload).unwrap_or_else(|e| {
                tracing::error!(row_id, error = %e, "stored event payload does not parse");
                serde_json::Value::Null
            });
            StoredEvent {
                row_id,
                event_id,
                source_code: code,
                source_name: name,
                source_kind,
                jurisdiction,
                occurred_at,
                received_at,
                patient_key,
                kind,
                details,
            }
        })
        .collect())
}

/// The patient key and event time of a row (for re-evaluating a deadline's subject).
pub fn anchor(
    conn: &mut DbConn,
    row_id: i64,
) -> QueryResult<Option<(Option<String>, NaiveDateTime)>> {
    Ok(anchors(conn, &[row_id])?.into_iter().next())
}

/// `anchor` for several rows in one query (rows that do not exist are left out).
pub fn anchors(
    conn: &mut DbConn,
    row_ids: &[i64],
) -> QueryResult<Vec<(Option<String>, NaiveDateTime)>> {
    intake_events::table
        .filter(intake_events::id.eq_any(row_ids))
        .select((intake_events::patient_key, intake_events::occurred_at))
        .load(conn)
}

/// The row ids of a hospital's events of `kinds` (any kind when empty) whose event time is
/// within `[from, until]`, in event time, at most `limit` (`complaint.unlogged`'s window).
pub fn ids_in_window(
    conn: &mut DbConn,
    hospital_id: i64,
    kinds: &[&str],
    from: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let mut q = intake_events::table
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::occurred_at.between(from, until))
        .into_boxed();
    if !kinds.is_empty() {
        q = q.filter(intake_events::kind.eq_any(kinds.to_vec()));
    }
    q.order((intake_events::occurred_at.asc(), intake_events::id.asc()))
        .limit(limit)
        .select(intake_events::id)
        .load(conn)
}

type CallRow = (i64, Option<String>, String, NaiveDateTime, Option<String>);

fn call_event(row: CallRow) -> Option<CallEvent> {
    let (row_id, call_id, kind, at, acuity) = row;
    Some(CallEvent {
        row_id,
        call_id: call_id?,
        kind: DispatchKind::parse(&kind)?,
        at,
        acuity: acuity.as_deref().and_then(Acuity::parse),
    })
}

macro_rules! call_columns {
    () => {
        (
            intake_events::id,
            intake_events::call_id,
            intake_events::kind,
            intake_events::occurred_at,
            intake_events::acuity,
        )
    };
}

/// Every event of a centre's calls `call_ids` (the `(hospital_id, call_id)` index), from the
/// stored columns: no body is parsed.
pub fn calls(conn: &mut DbConn, centre_id: i64, call_ids: &[&str]) -> QueryResult<Vec<CallEvent>> {
    let mut out = Vec::new();
    for chunk in call_ids.chunks(IN_CHUNK) {
        let rows: Vec<CallRow> = intake_events::table
            .filter(intake_events::hospital_id.eq(centre_id))
            .filter(intake_events::call_id.eq_any(chunk))
            .select(call_columns!())
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(call_event));
    }
    Ok(out)
}

/// A centre's receipts, answers and abandonments with event times in `[from, until)`, read
/// from the `(hospital_id, kind, occurred_at, call_id)` index alone: one range of it per kind
/// (so that no row carries its kind), the acuity left out (the day rules do not read it). On
/// SQLite the times are read as the text they are stored as and parsed by
/// [`parse_sqlite_time`] (diesel's parser tries format after format: a third of the read).
pub fn answering_between(
    conn: &mut DbConn,
    centre_id: i64,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<CallEvent>> {
    let mut out = Vec::new();
    for kind in [
        DispatchKind::CallReceived,
        DispatchKind::CallAnswered,
        DispatchKind::CallAbandoned,
    ] {
        let range = intake_events::table
            .filter(intake_events::hospital_id.eq(centre_id))
            .filter(intake_events::kind.eq(kind.as_str()))
            .filter(intake_events::occurred_at.ge(from))
            .filter(intake_events::occurred_at.lt(until));
        let event = |row_id, call: Option<String>, at| {
            Some(CallEvent {
                row_id,
                call_id: call?,
                kind,
                at,
                acuity: None,
            })
        };
        match conn {
            DbConn::Sqlite(c) => {
                let rows: Vec<(i64, Option<String>, String)> = range
                    .select((
                        intake_events::id,
                        intake_events::call_id,
                        diesel::dsl::sql::<diesel::sql_types::Text>("occurred_at"),
                    ))
                    .load(c)?;
                out.extend(
                    rows.into_iter()
                        .filter_map(|(id, call, at)| event(id, call, parse_sqlite_time(&at)?)),
                );
            }
            DbConn::Pg(c) => {
                let rows: Vec<(i64, Option<String>, NaiveDateTime)> = range
                    .select((
                        intake_events::id,
                        intake_events::call_id,
                        intake_events::occurred_at,
                    ))
                    .load(c)?;
                out.extend(
                    rows.into_iter()
                        .filter_map(|(id, call, at)| event(id, call, at)),
                );
            }
        }
    }
    Ok(out)
}

/// A timestamp as diesel stores it in SQLite (`YYYY-MM-DD HH:MM:SS` and an optional fraction),
/// read by position; anything else by chrono's parser.
pub fn parse_sqlite_time(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let fast = || {
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b' '
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        let nanos = match b.get(19) {
            None => 0,
            Some(b'.') if b.len() > 20 && b.len() <= 29 => {
                let digits = b.len() - 20;
                num(20..b.len())? * 10u32.pow(9 - digits as u32)
            }
            Some(_) => return None,
        };
        date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)
    };
    fast().or_else(|| {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    })
}

/// A centre's fleet statuses with event times in `[from, until)`.
pub fn fleet_between(
    conn: &mut DbConn,
    centre_id: i64,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<FleetStatus>> {
    let rows: Vec<(i64, NaiveDateTime, String)> = intake_events::table
        .filter(intake_events::hospital_id.eq(centre_id))
        .filter(intake_events::kind.eq(DispatchKind::FleetStatus.as_str()))
        .filter(intake_events::occurred_at.ge(from))
        .filter(intake_events::occurred_at.lt(until))
        .select((
            intake_events::id,
            intake_events::occurred_at,
            intake_events::payload,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(row_id, at, payload)| {
            let body = dispatch_body(row_id, &payload)?;
            Some(FleetStatus {
                row_id,
                at,
                area: body.area?,
                vehicles_online: body.vehicles_online?,
            })
        })
        .collect())
}

fn dispatch_body(row_id: i64, payload: &str) -> Option<DispatchBody> {
    serde_json::from_str(payload)
        .map_err(|e| tracing::error!(row_id, error = %e, "stored dispatch payload does not parse"))
        .ok()
}

/// The patients the centre's calls brought to a hospital (`at_hospital` with a patient), with
/// the event times, for judging them again when another event of the call arrives.
pub fn patients_of_calls(
    conn: &mut DbConn,
    centre_id: i64,
    call_ids: &[&str],
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let mut out = Vec::new();
    for chunk in call_ids.chunks(IN_CHUNK) {
        let rows: Vec<(Option<String>, NaiveDateTime)> = intake_events::table
            .filter(intake_events::hospital_id.eq(centre_id))
            .filter(intake_events::call_id.eq_any(chunk))
            .filter(intake_events::kind.eq(DispatchKind::AtHospital.as_str()))
            .filter(intake_events::patient_key.is_not_null())
            .select((intake_events::patient_key, intake_events::occurred_at))
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(|(k, at)| Some((k?, at))));
    }
    Ok(out)
}

/// The ambulances the 120 centres reported at a hospital with these patients between two
/// event times, by patient key: each `at_hospital` with the hospital it names (hospitals only)
/// and the centre's `handed_over` of the same call there. Three queries per thousand patients.
pub fn legs_for_patients(
    conn: &mut DbConn,
    patient_keys: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<HashMap<String, Vec<AmbulanceLeg>>> {
    let mut out: HashMap<String, Vec<AmbulanceLeg>> = HashMap::new();
    for chunk in patient_keys.chunks(IN_CHUNK) {
        type LegRow = (
            i64,
            String,
            i64,
            String,
            Option<String>,
            NaiveDateTime,
            String,
            Option<String>,
        );
        let rows: Vec<LegRow> = intake_events::table
            .inner_join(hospitals::table)
            .filter(hospitals::kind.eq(crate::hospitals::DISPATCH))
            .filter(intake_events::patient_key.eq_any(chunk))
            .filter(intake_events::kind.eq(DispatchKind::AtHospital.as_str()))
            .filter(intake_events::occurred_at.between(from, to))
            .select((
                intake_events::id,
                intake_events::event_id,
                intake_events::hospital_id,
                hospitals::name,
                intake_events::call_id,
                intake_events::occurred_at,
                intake_events::payload,
                intake_events::patient_key,
            ))
            .load(conn)?;
        if rows.is_empty() {
            continue;
        }
        let mut named: Vec<(LegRow, String)> = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(code) = dispatch_body(row.0, &row.6).and_then(|b| b.hospital) {
                named.push((row, code));
            }
        }
        let codes: Vec<&str> = named.iter().map(|(_, c)| c.as_str()).collect();
        let register: HashMap<String, (i64, String, String)> = hospitals::table
            .filter(hospitals::kind.eq(crate::hospitals::HOSPITAL))
            .filter(hospitals::code.eq_any(&codes))
            .select((
                hospitals::code,
                hospitals::id,
                hospitals::name,
                hospitals::jurisdiction,
            ))
            .load::<(String, i64, String, String)>(conn)?
            .into_iter()
            .map(|(code, id, name, j)| (code, (id, name, j)))
            .collect();
        let centres: Vec<i64> = named.iter().map(|((_, _, c, ..), _)| *c).collect();
        let call_ids: Vec<&str> = named
            .iter()
            .filter_map(|((.., call, _, _, _), _)| call.as_deref())
            .collect();
        // (centre, call) → the centre's handovers: (row, time, hospital code).
        type Handovers = HashMap<(i64, String), Vec<(i64, NaiveDateTime, String)>>;
        let mut handovers: Handovers = HashMap::new();
        let rows: Vec<(i64, Option<String>, i64, NaiveDateTime, String)> = intake_events::table
            .filter(intake_events::hospital_id.eq_any(&centres))
            .filter(intake_events::call_id.eq_any(&call_ids))
            .filter(intake_events::kind.eq(DispatchKind::HandedOver.as_str()))
            .select((
                intake_events::hospital_id,
                intake_events::call_id,
                intake_events::id,
                intake_events::occurred_at,
                intake_events::payload,
            ))
            .load(conn)?;
        for (centre, call, row, at, payload) in rows {
            if let (Some(call), Some(code)) =
                (call, dispatch_body(row, &payload).and_then(|b| b.hospital))
            {
                handovers
                    .entry((centre, call))
                    .or_default()
                    .push((row, at, code));
            }
        }
        for ((row_id, event_id, centre, centre_name, call, at, _, key), code) in named {
            let (Some(key), Some(call), Some((hospital_id, hospital_name, jurisdiction))) =
                (key, call, register.get(&code))
            else {
                continue;
            };
            let handed_over = handovers
                .get(&(centre, call.clone()))
                .into_iter()
                .flatten()
                .filter(|(_, _, c)| *c == code)
                .map(|(row, at, _)| (*row, *at))
                .min_by_key(|(row, at)| (*at, *row));
            out.entry(key).or_default().push(AmbulanceLeg {
                row_id,
                event_id,
                centre_name,
                call_id: call,
                hospital_id: *hospital_id,
                hospital_name: hospital_name.clone(),
                jurisdiction: jurisdiction.clone(),
                at,
                handed_over,
            });
        }
    }
    Ok(out)
}

/// The ids of a community desk's requests with an event in `[from, to]`.
pub fn requests_between(
    conn: &mut DbConn,
    desk_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let ids: Vec<Option<String>> = intake_events::table
        .filter(intake_events::hospital_id.eq(desk_id))
        .filter(intake_events::occurred_at.between(from, to))
        .select(intake_events::call_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Every event of a desk's requests `request_ids` (the `(hospital_id, call_id)` index), with
/// its body.
pub fn transport_rows(
    conn: &mut DbConn,
    desk_id: i64,
    request_ids: &[&str],
) -> QueryResult<Vec<TransportRow>> {
    let mut out = Vec::new();
    for chunk in request_ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String, NaiveDateTime, String)> = intake_events::table
            .filter(intake_events::hospital_id.eq(desk_id))
            .filter(intake_events::call_id.eq_any(chunk))
            .select((
                intake_events::id,
                intake_events::event_id,
                intake_events::occurred_at,
                intake_events::payload,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(|(row_id, event_id, at, payload)| {
            match serde_json::from_str::<TransportBody>(&payload) {
                Ok(body) => Some(TransportRow {
                    row_id,
                    event_id,
                    at,
                    body,
                }),
                Err(e) => {
                    tracing::error!(row_id, error = %e, "stored transport payload does not parse");
                    None
                }
            }
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_sqlite_time;

    #[test]
    fn sqlite_times_read_back_as_chrono_reads_them() {
        for s in [
            "2026-11-17 22:29:22.666279",
            "2026-11-17 22:29:22",
            "2026-11-17 22:29:22.5",
            "2022-07-01 02:00:00.000000001",
            "2026-11-17T22:29:22.666",
        ] {
            let chrono = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok());
            assert_eq!(parse_sqlite_time(s), chrono, "{s}");
            assert!(chrono.is_some(), "{s}");
        }
        assert_eq!(parse_sqlite_time("2026-13-17 22:29:22"), None);
        assert_eq!(parse_sqlite_time("yesterday"), None);
    }
}
