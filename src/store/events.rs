//! Intake events: insert with idempotency, and the reads the rules need.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::intake::event::EventBody;
use crate::rules::EventView;
use crate::schema::{hospitals, intake_events};

/// A row to insert: its content (what `row_hash` covers) and its two hashes.
#[derive(Debug, Insertable)]
#[diesel(table_name = intake_events, treat_none_as_default_value = false)]
pub struct NewEvent<'a> {
    #[diesel(embed)]
    pub content: crate::chain::EventContent<'a>,
    pub row_hash: String,
    pub chain_hash: String,
}

/// Rewrites the chain hash of one stored event (its chain was computed before a duplicate in
/// the same insert was left out).
pub fn set_chain_hash(
    conn: &mut DbConn,
    hospital_id: i64,
    event_id: &str,
    chain_hash: &str,
) -> QueryResult<()> {
    diesel::update(
        intake_events::table
            .filter(intake_events::hospital_id.eq(hospital_id))
            .filter(intake_events::event_id.eq(event_id)),
    )
    .set(intake_events::chain_hash.eq(chain_hash))
    .execute(conn)
    .map(|_| ())
}

pub fn insert(conn: &mut DbConn, new: &NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(intake_events::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

/// Rows per multi-row insert: 10 columns each, well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
const INSERT_CHUNK: usize = 1_000;
/// Values per `IN (...)` list.
const IN_CHUNK: usize = 1_000;

/// Inserts the rows whose `(hospital_id, event_id)` is new, a chunk per statement, and returns
/// the event ids it inserted; rows stored before are left as they are (`ON CONFLICT DO
/// NOTHING`).
pub fn insert_new(conn: &mut DbConn, rows: &[NewEvent<'_>]) -> QueryResult<Vec<String>> {
    if let DbConn::Pg(c) = conn {
        return insert_new_pg(c, rows);
    }
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        let query = diesel::insert_into(intake_events::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .returning(intake_events::event_id);
        // Multi-row inserts are written per backend: diesel's MultiConnection does not batch.
        let ids: Vec<String> = match conn {
            DbConn::Pg(c) => query.get_results(c)?,
            DbConn::Sqlite(c) => query.get_results(c)?,
        };
        inserted.extend(ids);
    }
    Ok(inserted)
}

/// `insert_new` on PostgreSQL: each column travels as one array and `unnest` turns them back
/// into rows, so a statement has 12 parameters whatever the number of rows (a multi-row
/// `VALUES` of 1,000 events has 12,000, which the server parses and plans every time). The rows
/// go in in the order given (`ORDER BY` the ordinality), so ids follow the hash chain.
fn insert_new_pg(c: &mut diesel::PgConnection, rows: &[NewEvent<'_>]) -> QueryResult<Vec<String>> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Inserted {
        #[diesel(sql_type = Text)]
        event_id: String,
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Each column as an array of borrowed values: nothing is copied.
    macro_rules! column {
        ($f:expr) => {
            rows.iter().map($f).collect::<Vec<_>>()
        };
    }
    let inserted: Vec<Inserted> = diesel::sql_query(
        "INSERT INTO intake_events (hospital_id, event_id, content_hash, kind, occurred_at, \
         received_at, patient_key, acuity, closure_id, payload, row_hash, chain_hash) \
         SELECT h, e, ch, k, o, r, p, a, cl, pl, rh, cn FROM unnest($1::int8[], $2::text[], \
         $3::text[], $4::text[], $5::timestamp[], $6::timestamp[], $7::text[], $8::text[], \
         $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY \
         AS u (h, e, ch, k, o, r, p, a, cl, pl, rh, cn, n) ORDER BY n \
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind::<Array<BigInt>, _>(column!(|r| r.content.hospital_id))
    .bind::<Array<Text>, _>(column!(|r| r.content.event_id))
    .bind::<Array<Text>, _>(column!(|r| r.content.content_hash))
    .bind::<Array<Text>, _>(column!(|r| r.content.kind))
    .bind::<Array<Timestamp>, _>(column!(|r| r.content.occurred_at))
    .bind::<Array<Timestamp>, _>(column!(|r| r.content.received_at))
    .bind::<Array<Nullable<Text>>, _>(column!(|r| r.content.patient_key))
    .bind::<Array<Nullable<Text>>, _>(column!(|r| r.content.acuity))
    .bind::<Array<Nullable<Text>>, _>(column!(|r| r.content.closure_id))
    .bind::<Array<Text>, _>(column!(|r| r.content.payload))
    .bind::<Array<Text>, _>(column!(|r| r.row_hash.as_str()))
    .bind::<Array<Text>, _>(column!(|r| r.chain_hash.as_str()))
    .load(c)?;
    Ok(inserted.into_iter().map(|r| r.event_id).collect())
}

/// The content hashes of a hospital's stored events, by event id.
pub fn hashes(
    conn: &mut DbConn,
    hospital_id: i64,
    event_ids: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in event_ids.chunks(IN_CHUNK) {
        out.extend(
            intake_events::table
                .filter(intake_events::hospital_id.eq(hospital_id))
                .filter(intake_events::event_id.eq_any(chunk))
                .select((intake_events::event_id, intake_events::content_hash))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// The row id, content hash and patient key of a hospital's event, if it was stored.
pub fn find(
    conn: &mut DbConn,
    hospital_id: i64,
    event_id: &str,
) -> QueryResult<Option<(i64, String, Option<String>)>> {
    intake_events::table
        .filter(intake_events::hospital_id.eq(hospital_id))
        .filter(intake_events::event_id.eq(event_id))
        .select((
            intake_events::id,
            intake_events::content_hash,
            intake_events::patient_key,
        ))
        .first(conn)
        .optional()
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

/// One patient's events between two event times.
pub fn for_patient(
    conn: &mut DbConn,
    patient_key: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<EventView>> {
    let rows: Vec<Row> = intake_events::table
        .inner_join(hospitals::table)
        .filter(intake_events::patient_key.eq(patient_key))
        .filter(intake_events::occurred_at.between(from, to))
        .order((intake_events::occurred_at.asc(), intake_events::id.asc()))
        .limit(10_000)
        .select(view_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(view).collect())
}

/// The events of several patients between two event times, by patient key, each patient's in
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
