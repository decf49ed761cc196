//! Batched intake, end to end: 10 hospitals at once, each posting requests of 1,000 events
//! over HTTP (token check, parsing, validation, pseudonymisation, idempotent storage, the rules,
//! case opening), set against the raw bulk-insert limit of the same rows measured in the same
//! run: `sqlite3 .import` into an equivalent table on SQLite, `COPY` on PostgreSQL.
//!
//! `cargo bench --bench ingest` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...` for
//! PostgreSQL. `BENCH_BATCHES` (default 10) requests per hospital. `BENCH_LOG=dispatch`: 10
//! 120 dispatch centres instead, each posting its call log (calls received, answered,
//! dispatched, at the scene) to `/api/v1/dispatch-events`.

#[path = "support/own_client.rs"]
mod own_client;

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;

use own_client::run;
use std::time::Instant;

#[path = "support/workload.rs"]
mod workload;

use workload::{BATCH, HOSPITALS, batch};

/// 1,000 events of a centre's log: 250 calls, each received, answered, dispatched and at the
/// scene, a few seconds and minutes apart.
fn dispatch_batch(centre: usize, b: usize) -> serde_json::Value {
    let base = chrono::DateTime::parse_from_rfc3339("2022-07-01T00:00:00+08:00").expect("time");
    let mut events = Vec::with_capacity(BATCH);
    for c in 0..BATCH / 4 {
        let call = format!("C-{centre}-{b}-{c}");
        let t = base + chrono::Duration::seconds((b * BATCH + c * 4) as i64);
        for (i, (kind, after)) in [
            ("call_received", 0),
            ("call_answered", 7),
            ("dispatched", 90),
            ("at_scene", 700),
        ]
        .into_iter()
        .enumerate()
        {
            let mut ev = serde_json::json!({"event_id": format!("{call}-{i}"), "type": kind, "call_id": call,
                "occurred_at": (t + chrono::Duration::seconds(after)).to_rfc3339()});
            if kind == "call_answered" {
                ev["acuity"] = serde_json::json!("urgent");
            }
            events.push(ev);
        }
    }
    serde_json::Value::Array(events)
}

fn main() {
    let batches: usize = common::env_number("BENCH_BATCHES", 10);
    let dispatch = std::env::var("BENCH_LOG").is_ok_and(|v| v == "dispatch");
    let backend = match (
        common::is_postgres(),
        std::env::var("BENCH_LOG").is_ok_and(|v| v == "dispatch"),
    ) {
        (true, false) => "postgresql",
        (false, false) => "sqlite",
        (true, true) => "pg/120",
        (false, true) => "sqlite/120",
    };
    actix_web::rt::System::new().block_on(async move {
        let app = common::TestApp::builder()
            .var("SHOUZHEN_DB_POOL_SIZE", "8")
            .spawn()
            .await;
        let mut tokens = Vec::new();
        for h in 0..HOSPITALS {
            let code = format!("BENCH-{h}");
            tokens.push(if dispatch {
                app.centre_token(&code).await
            } else {
                app.hospital_token(&code).await
            });
        }
        let path = if dispatch {
            "/api/v1/dispatch-events"
        } else {
            "/api/v1/intake-events"
        };
        // Bodies are serialised before the clock starts: the client's work is not measured.
        let bodies: Vec<Vec<Vec<u8>>> = (0..HOSPITALS)
            .map(|h| {
                (0..batches)
                    .map(|b| {
                        let body = if dispatch {
                            dispatch_batch(h, b)
                        } else {
                            serde_json::Value::Array(batch(h, b, 0))
                        };
                        serde_json::to_vec(&body).expect("json")
                    })
                    .collect()
            })
            .collect();
        let started = Instant::now();
        let posts = tokens.iter().zip(&bodies).map(|(token, mine)| {
            let app = &app;
            async move {
                for body in mine {
                    let resp = app
                        .client
                        .post(app.url(path))
                        .bearer_auth(token)
                        .content_type("application/json")
                        .send_body(body.clone())
                        .await
                        .expect("post");
                    assert_eq!(resp.status(), 200);
                }
            }
        });
        futures_util::future::join_all(posts).await;
        let http = started.elapsed().as_secs_f64();
        let events = HOSPITALS * batches * BATCH;
        let cases = app
            .state
            .metrics
            .cases_opened
            .with_label_values(&["handover.delay"])
            .get();
        let stored = app.stored_events().await;
        assert_eq!(stored as usize, events);

        // The raw limit: the rows the service stored, bulk-loaded into an equivalent table.
        let (raw_secs, plain_secs) = raw_bulk_load(&app).await;
        println!(
            "backend     events  end-to-end   events/s   raw rows/s   ratio   (no FK: rows/s  ratio)   handover cases   peak RSS"
        );
        println!(
            "{backend:<10} {events:>7}  {http:>8.2} s  {:>9.0}  {:>11.0}  {:>6.2}  {:>15.0}  {:>5.2}   {cases:>15}  {:>6.0} MiB",
            events as f64 / http,
            events as f64 / raw_secs,
            raw_secs / http,
            events as f64 / plain_secs,
            plain_secs / http,
            common::peak_rss_mib(),
        );
    });
}

const COLUMNS: &str = "hospital_id,event_id,content_hash,kind,occurred_at,received_at,patient_key,acuity,closure_id,payload,row_hash,chain_hash,call_id";

/// Dumps the stored rows to CSV and times the database's own bulk loader on them: into an
/// equivalent empty table (same columns, indexes and constraints, the foreign key to the
/// hospitals included), and, for reference, into one without the foreign key. Returns the
/// seconds each load took.
async fn raw_bulk_load(app: &common::TestApp) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("events.csv");
    if let Some(db) = app.sqlite_file() {
        let db = db.display().to_string();
        let hospitals = dir.path().join("hospitals.csv");
        let sql = format!(
            ".mode csv\n.once {csv}\nSELECT {COLUMNS} FROM intake_events;\n\
             .once {hospitals}\nSELECT id FROM hospitals;\n",
            csv = csv.display(),
            hospitals = hospitals.display(),
        );
        run(Command::new("sqlite3").arg(&db), &sql);
        let load = |name: &str, foreign_key: &str| {
            let raw = dir.path().join(name);
            let schema = format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;\n\
                 CREATE TABLE hospitals (id INTEGER PRIMARY KEY);\n\
                 .mode csv\n.import {hospitals} hospitals\n\
                 CREATE TABLE intake_events (hospital_id BIGINT NOT NULL {foreign_key}, \
                 event_id TEXT NOT NULL, content_hash TEXT NOT NULL, kind TEXT NOT NULL, \
                 occurred_at TIMESTAMP NOT NULL, received_at TIMESTAMP NOT NULL, patient_key TEXT, \
                 acuity TEXT, closure_id TEXT, payload TEXT NOT NULL, row_hash TEXT NOT NULL, \
                 chain_hash TEXT NOT NULL, call_id TEXT, UNIQUE (hospital_id, event_id));\n\
                 CREATE INDEX p ON intake_events (patient_key, occurred_at);\n\
                 CREATE INDEX k ON intake_events (hospital_id, kind, occurred_at);\n\
                 CREATE INDEX c ON intake_events (hospital_id, closure_id, kind, occurred_at) \
                 WHERE closure_id IS NOT NULL;\n\
                 CREATE INDEX d ON intake_events (hospital_id, call_id) \
                 WHERE call_id IS NOT NULL;\n",
                hospitals = hospitals.display(),
            );
            run(Command::new("sqlite3").arg(&raw), &schema);
            let started = Instant::now();
            run(
                Command::new("sqlite3").arg(&raw),
                &format!(
                    "PRAGMA foreign_keys = ON;\n.mode csv\n.import {} intake_events\n",
                    csv.display()
                ),
            );
            started.elapsed().as_secs_f64()
        };
        let raw = load("raw.db", "REFERENCES hospitals (id)");
        (raw, load("plain.db", ""))
    } else {
        let url = app.database_url.clone();
        let setup = format!(
            "\\copy (SELECT {COLUMNS} FROM intake_events) TO '{csv}' CSV\n\
             CREATE TABLE plain_events (LIKE intake_events INCLUDING ALL);\n\
             CREATE TABLE raw_events (LIKE intake_events INCLUDING ALL);\n\
             ALTER TABLE raw_events ADD FOREIGN KEY (hospital_id) REFERENCES hospitals (id);\n",
            csv = csv.display()
        );
        run(
            Command::new("psql").args([&url, "-q", "-v", "ON_ERROR_STOP=1"]),
            &setup,
        );
        let load = |table: &str| {
            let started = Instant::now();
            run(
                Command::new("psql").args([&url, "-q", "-v", "ON_ERROR_STOP=1"]),
                &format!("\\copy {table} ({COLUMNS}) FROM '{}' CSV\n", csv.display()),
            );
            started.elapsed().as_secs_f64()
        };
        let raw = load("raw_events");
        (raw, load("plain_events"))
    }
}
