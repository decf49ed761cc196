//! Intake throughput, end to end (HTTP, validation, pseudonymisation, storage, the rules), set
//! against the raw database limit measured in the same run (the same rows inserted with diesel
//! in transactions of the same size, no HTTP and no rules).
//!
//! `cargo bench --bench ingest` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...` for
//! PostgreSQL. `BENCH_BATCHES` (default 20) batches of 1,000 events each.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use shouzhen::db;
use shouzhen::schema::intake_events;

const BATCH: usize = 1000;

fn batch(b: usize) -> Vec<Value> {
    let base = Utc
        .with_ymd_and_hms(2022, 7, 1, 2, 0, 0)
        .single()
        .expect("time");
    (0..BATCH / 2)
        .flat_map(|i| {
            let p = format!("21010219850{:07}", b * BATCH + i);
            let t = base + Duration::seconds((b * BATCH + i) as i64 * 7);
            vec![
                json!({"event_id": format!("a{b}-{i}"), "type": "arrival", "occurred_at": t.to_rfc3339(),
                       "patient": {"id_number": p}, "acuity": "urgent", "arrived_by": "ambulance",
                       "health_code": "green", "test_status": "negative_48h"}),
                json!({"event_id": format!("h{b}-{i}"), "type": "handover",
                       "occurred_at": (t + Duration::minutes(if i % 10 == 0 { 20 } else { 8 })).to_rfc3339(),
                       "patient": {"id_number": p}}),
            ]
        })
        .collect()
}

fn main() {
    let batches: usize = std::env::var("BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let backend = if common::is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    actix_web::rt::System::new().block_on(async move {
        // End to end.
        let app = common::TestApp::builder().var("SHOUZHEN_DB_POOL_SIZE", "8").spawn().await;
        let token = app.hospital_token("BENCH-1").await;
        let bodies: Vec<Value> = (0..batches).map(|b| json!(batch(b))).collect();
        let started = Instant::now();
        for body in &bodies {
            let report = app.post_events(&token, body.clone()).await;
            assert_eq!(report["accepted"], BATCH);
        }
        let http = started.elapsed().as_secs_f64();
        let events = batches * BATCH;
        let cases = app.state.metrics.cases_opened.with_label_values(&["handover.delay"]).get();

        // The raw limit: the same number of rows, diesel inserts, same transaction size.
        let raw = common::TestApp::spawn().await;
        raw.add_hospital("RAW-1").await;
        let raw_secs = raw
            .state
            .db(move |conn| {
                let hospital: i64 = shouzhen::schema::hospitals::table
                    .select(shouzhen::schema::hospitals::id)
                    .first(conn)?;
                let now = shouzhen::store::now();
                let started = Instant::now();
                for b in 0..batches {
                    db::write_tx(conn, |c| -> QueryResult<()> {
                        for i in 0..BATCH {
                            diesel::insert_into(intake_events::table)
                                .values((
                                    intake_events::hospital_id.eq(hospital),
                                    intake_events::event_id.eq(format!("e{b}-{i}")),
                                    intake_events::content_hash.eq("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
                                    intake_events::kind.eq("arrival"),
                                    intake_events::occurred_at.eq(now),
                                    intake_events::received_at.eq(now),
                                    intake_events::patient_key.eq(format!("id:{b:08}{i:056}")),
                                    intake_events::payload.eq(r#"{"type":"arrival","occurred_at":"2022-07-01T02:00:00Z","acuity":"urgent"}"#),
                                ))
                                .execute(c)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(started.elapsed().as_secs_f64())
            })
            .await
            .expect("raw inserts");

        println!("backend     events  end-to-end   events/s   raw rows/s   share of raw   handover cases");
        println!(
            "{backend:<10} {events:>7}  {http:>8.2} s  {:>9.0}  {:>11.0}  {:>12.0}%  {cases:>15}",
            events as f64 / http,
            events as f64 / raw_secs,
            100.0 * raw_secs / http
        );
    });
}
