//! Intake events: insert with idempotency, and the reads the rules need.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{hospitals, intake_events};
use shouzhen_domain::event::EventBody;
use shouzhen_domain::record::EventContent;
use shouzhen_domain::rules::EventView;

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
);

fn view(row: Row) -> Option<EventView> {
    let (row_id, event_id, hospital_id, code, name, jurisdiction, occurred_at, payload) = row;
    match serde_json::from_str::<EventBody>(&payload) {
        Ok(body) => Some(EventView {
            row_id,
            event_id,
            hospital_id,
            hospital_code: code,
            hospital_name: name,
            jurisdiction,
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

/// The events of one closure of one hospital.
pub fn for_closure(
    conn: &mut DbConn,
    hospital_id: i64,
    closure_id: &str,
) -> QueryResult<Vec<EventView>> {
    let rows: Vec<Row> = intake_events::table
        .inner_join(hospitals::table)
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::closure_id.eq(closure_id))
        .select(view_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(view).collect())
}

/// Events by row id (a case's evidence), in event time.
pub fn by_ids(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<Vec<(EventView, NaiveDateTime, Option<String>)>> {
    let rows: Vec<(Row, NaiveDateTime, Option<String>)> = intake_events::table
        .inner_join(hospitals::table)
        .filter(intake_events::id.eq_any(ids))
        .order((intake_events::occurred_at.asc(), intake_events::id.asc()))
        .select((
            view_columns!(),
            intake_events::received_at,
            intake_events::patient_key,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(row, received, key)| view(row).map(|v| (v, received, key)))
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
