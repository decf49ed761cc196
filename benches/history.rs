//! The cost of a subject's history: what one request costs when it carries many events of one
//! patient, when the patient already has a long history, and what the other clients wait while
//! it runs. Issue 33: judging must stay linear in what it reads, and no request may hold the
//! writer for long.
//!
//! `cargo bench --bench history` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...` for
//! PostgreSQL. `BENCH_PART` picks one part (`shape`, `growth`, `big`, `length`); all by default.
//! `BENCH_BIG` (default 10000): the events of the big single-patient request.
//!
//! 1. `shape`: one request of N events of one patient (a critical walk-in arrival and its
//!    refusal over a health code, alternately, a minute apart), N = 200, 400, 800, 1,600, and
//!    beside it 1,600 events of 800 patients (the same pairs, one patient each).
//! 2. `growth`: 16 requests of 500 events of one patient, one after the other: the first and
//!    the 16th (7,500 events before it).
//! 3. `big`: one request of `BENCH_BIG` events of one patient, while another hospital posts one
//!    event at a time: the big request's time and the others' latencies.
//! 4. `length`: one new event judged for a subject with 10, 100, 1,000 and 10,000 earlier
//!    events (a patient visiting every two days, a closure restated every hour, a 120 centre's
//!    calls of the day so far): the time per new event, the median of 20.

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 7, 1, 0, 0, 0)
        .single()
        .expect("time")
}

/// `pairs` arrival-and-refusal pairs, `per_patient` pairs to a patient, starting `offset` pairs
/// after the base time; event ids carry `tag`.
fn refusal_pairs(tag: &str, pairs: usize, per_patient: usize, offset: usize) -> Value {
    let events: Vec<Value> = (0..pairs)
        .flat_map(|i| {
            let n = offset + i;
            let p = format!("{tag}-{}", n / per_patient);
            let t = base() + Duration::minutes(2 * n as i64);
            [
                json!({"event_id": format!("{tag}-a{n}"), "type": "arrival", "occurred_at": t.to_rfc3339(),
                       "patient": {"ref": p}, "acuity": "critical", "arrived_by": "walk_in"}),
                json!({"event_id": format!("{tag}-r{n}"), "type": "refusal",
                       "occurred_at": (t + Duration::minutes(1)).to_rfc3339(),
                       "patient": {"ref": p}, "reasons": ["health_code"]}),
            ]
        })
        .collect();
    Value::Array(events)
}

async fn timed_post(app: &common::TestApp, path: &str, token: &str, body: &Value) -> f64 {
    let start = Instant::now();
    let (status, report) = app.post_json(path, Some(token), body).await;
    assert_eq!(status, 200, "{report}");
    start.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn spawn() -> common::TestApp {
    common::TestApp::builder()
        .var("SHOUZHEN_TOKEN_TTL", "3600")
        .var("SHOUZHEN_HTTP_TIMEOUT", "600")
        .spawn()
        .await
}

async fn shape() {
    let app = spawn().await;
    for n in [200, 400, 800, 1600] {
        let token = app.hospital_token(&format!("SHAPE-{n}")).await;
        let secs = timed_post(
            &app,
            "/api/v1/intake-events",
            &token,
            &refusal_pairs(&format!("s{n}"), n / 2, usize::MAX, 0),
        )
        .await;
        println!("shape: {n:>5} events of one patient: {secs:.3} s");
    }
    let token = app.hospital_token("SHAPE-MANY").await;
    let many = timed_post(
        &app,
        "/api/v1/intake-events",
        &token,
        &refusal_pairs("m", 800, 1, 0),
    )
    .await;
    println!("shape:  1600 events of 800 patients: {many:.3} s");
}

async fn growth() {
    let app = spawn().await;
    let token = app.hospital_token("GROWTH").await;
    let mut times = Vec::new();
    for r in 0..16 {
        times.push(
            timed_post(
                &app,
                "/api/v1/intake-events",
                &token,
                &refusal_pairs("g", 250, usize::MAX, r * 250),
            )
            .await,
        );
    }
    let line: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "growth: 16 requests of 500 events of one patient: first {:.3} s, 16th {:.3} s (ratio {:.2}); all: {}",
        times[0],
        times[15],
        times[15] / times[0],
        line.join(" ")
    );
}

async fn big() {
    let n: usize = common::env_number("BENCH_BIG", 10_000);
    let app = spawn().await;
    let token = app.hospital_token("BIG").await;
    let other = app.hospital_token("OTHER").await;
    let body = refusal_pairs("b", n / 2, usize::MAX, 0);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let app = std::rc::Rc::new(app);
    let a2 = app.clone();
    let watcher = actix_web::rt::spawn(async move {
        let mut latencies = Vec::new();
        let mut i = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            i += 1;
            let ev = json!({"event_id": format!("o{i}"), "type": "arrival",
                "occurred_at": (base() + Duration::seconds(i)).to_rfc3339(),
                "patient": {"ref": format!("o{i}")}, "acuity": "routine", "arrived_by": "walk_in"});
            latencies.push(timed_post(&a2, "/api/v1/intake-events", &other, &ev).await);
            actix_web::rt::time::sleep(StdDuration::from_millis(100)).await;
        }
        latencies
    });
    let secs = timed_post(&app, "/api/v1/intake-events", &token, &body).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lat = watcher.await.expect("watcher");
    lat.sort_by(f64::total_cmp);
    println!(
        "big: {n} events of one patient: {secs:.2} s; meanwhile {} single events of another hospital: median {:.3} s, max {:.3} s",
        lat.len(),
        lat.get(lat.len() / 2).copied().unwrap_or(0.0),
        lat.last().copied().unwrap_or(0.0)
    );
}

/// Loads `n` earlier events through the API in requests of 5,000.
async fn preload(app: &common::TestApp, path: &str, token: &str, events: Vec<Value>) {
    for chunk in events.chunks(5000) {
        timed_post(app, path, token, &Value::Array(chunk.to_vec())).await;
    }
}

async fn length() {
    for n in [10usize, 100, 1000, 10_000] {
        let app = spawn().await;
        // A dialysis patient: an arrival every two days (critical, treated), years of them.
        let token = app.hospital_token("LEN").await;
        let start = base() - Duration::days(2 * n as i64);
        let visits: Vec<Value> = (0..n)
            .map(|i| {
                json!({"event_id": format!("v{i}"), "type": "arrival",
                    "occurred_at": (start + Duration::days(2 * i as i64)).to_rfc3339(),
                    "patient": {"ref": "dialysis"}, "acuity": "urgent", "arrived_by": "walk_in",
                    "groups": ["dialysis"]})
            })
            .collect();
        preload(&app, "/api/v1/intake-events", &token, visits).await;
        let mut patient = Vec::new();
        for i in 0..20 {
            let ev = json!({"event_id": format!("new{i}"), "type": "treatment",
                "occurred_at": (base() + Duration::minutes(i)).to_rfc3339(), "patient": {"ref": "dialysis"}});
            patient.push(timed_post(&app, "/api/v1/intake-events", &token, &ev).await);
        }
        // A closure with an event every hour (restated), weeks long.
        let closure = |i: usize, at: DateTime<Utc>| {
            json!({"event_id": format!("c{i}"), "type": "closure_start",
                "occurred_at": at.to_rfc3339(),
                "closure": {"id": "ward", "scope": "department", "department": "急诊", "kind": "emergency"}})
        };
        let token = app.hospital_token("CLO").await;
        let cstart = base() - Duration::hours(n as i64);
        let events: Vec<Value> = (0..n)
            .map(|i| closure(i, cstart + Duration::hours(i as i64)))
            .collect();
        preload(&app, "/api/v1/intake-events", &token, events).await;
        let mut closures = Vec::new();
        for i in 0..20 {
            closures.push(
                timed_post(
                    &app,
                    "/api/v1/intake-events",
                    &token,
                    &closure(n + i, base() + Duration::minutes(i as i64)),
                )
                .await,
            );
        }
        // A 120 centre's day: n calls received and answered today so far, then one more call
        // (today's: the day rules judge a day once it is over; a late call of a past day
        // re-reads that day, an index-only read, by design).
        let token = app.centre_token("DAY").await;
        let now = Utc::now();
        let day = now
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+8"))
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            - Duration::hours(8);
        let day = day.and_utc();
        let span_ms = ((now - day).num_milliseconds() - 60_000).max(0) / (n as i64 + 20);
        let call = |i: usize| {
            let t = day + Duration::milliseconds(span_ms * i as i64);
            [
                json!({"event_id": format!("r{i}"), "type": "call_received", "call_id": format!("C{i}"),
                       "occurred_at": t.to_rfc3339()}),
                json!({"event_id": format!("a{i}"), "type": "call_answered", "call_id": format!("C{i}"),
                       "occurred_at": t.to_rfc3339(), "acuity": "urgent"}),
            ]
        };
        let calls: Vec<Value> = (0..n).flat_map(call).collect();
        preload(&app, "/api/v1/dispatch-events", &token, calls).await;
        let mut centre = Vec::new();
        for i in 0..20 {
            centre.push(
                timed_post(
                    &app,
                    "/api/v1/dispatch-events",
                    &token,
                    &Value::Array(call(n + i).to_vec()),
                )
                .await,
            );
        }
        println!(
            "length: {n:>5} earlier events: a patient's new event {:.1} ms, a closure's {:.1} ms, a centre day's new call {:.1} ms (medians of 20)",
            median(patient) * 1e3,
            median(closures) * 1e3,
            median(centre) * 1e3
        );
    }
}

fn main() {
    let part = std::env::var("BENCH_PART").unwrap_or_default();
    let backend = if common::is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    println!("backend: {backend}");
    actix_web::rt::System::new().block_on(async move {
        if part.is_empty() || part == "shape" {
            shape().await;
        }
        if part.is_empty() || part == "growth" {
            growth().await;
        }
        if part.is_empty() || part == "big" {
            big().await;
        }
        if part.is_empty() || part == "length" {
            length().await;
        }
    });
}
