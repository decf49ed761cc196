//! A day's judgement of 100 120 centres: each has posted a few thousand calls of one China day
//! (before it was over, so nothing was judged yet); at its midnight one sweeper pass judges
//! every centre's day (`dispatch.answer_rate`, `dispatch.unanswered`: 200 deadlines). Set
//! against the raw read of the same rows by the database's own client in the same run.
//!
//! `cargo bench --bench dispatch_day` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...`
//! for PostgreSQL. `BENCH_CENTRES` (default 100), `BENCH_CALLS` calls per centre (default 3,000).

#[path = "support/own_client.rs"]
mod own_client;

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;

use own_client::run;
use std::time::Instant;

use chrono::{Duration, Utc};

fn main() {
    let centres: usize = common::env_number("BENCH_CENTRES", 100);
    let calls: i64 = common::env_number("BENCH_CALLS", 3_000);
    let backend = if common::is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    actix_web::rt::System::new().block_on(async move {
        let app = common::TestApp::builder()
            .var("SHOUZHEN_SWEEP_INTERVAL", "60")
            .spawn()
            .await;
        // Today, China time: posted during the day, judged at its end.
        let now = Utc::now();
        let start = shouzhen_domain::time::china_day_start(now.naive_utc()).and_utc();
        // Spread over the day so far (all at once just after midnight: the ids differ).
        let span = (now - start - Duration::seconds(30)).max(Duration::seconds(1));
        let end = start + Duration::days(1);
        let mut posted = 0;
        let mut ids = Vec::new();
        for c in 0..centres {
            let code = format!("BENCH-120-{c}");
            let token = app.centre_token(&code).await;
            // Every third centre answers one call in eight after 10 s (below 95 %); every
            // fifth loses a call a hundred (answer rate below 100 %).
            let mut events = Vec::with_capacity(calls as usize * 2);
            for k in 0..calls {
                let call = format!("{code}-{k}");
                let received = start + span * (k as i32) / (calls as i32);
                events.push(serde_json::json!({"event_id": format!("{call}-r"), "type": "call_received",
                    "call_id": call, "occurred_at": received.to_rfc3339()}));
                if c % 5 == 0 && k % 100 == 7 {
                    events.push(serde_json::json!({"event_id": format!("{call}-x"), "type": "call_abandoned",
                        "call_id": call, "occurred_at": (received + Duration::seconds(15)).to_rfc3339()}));
                    continue;
                }
                let wait = if c % 3 == 0 && k % 8 == 0 { 14 } else { 2 + k % 7 };
                events.push(serde_json::json!({"event_id": format!("{call}-a"), "type": "call_answered",
                    "call_id": call, "acuity": "routine",
                    "occurred_at": (received + Duration::seconds(wait)).to_rfc3339()}));
            }
            posted += events.len();
            for chunk in events.chunks(10_000) {
                let (status, body) = app
                    .post_json(
                        "/api/v1/dispatch-events",
                        Some(&token),
                        &serde_json::Value::Array(chunk.to_vec()),
                    )
                    .await;
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["rejected"], serde_json::json!([]), "{body}");
            }
            ids.push(code);
        }
        assert_eq!(app.sweep_at(end - Duration::seconds(1)).await, 0, "judged before midnight");
        // The calls came in over the day, and autovacuum saw them by midnight: its statistics
        // and visibility map (so that the index-only read is one), as `BENCH_NO_VACUUM` skips.
        if common::is_postgres() && std::env::var("BENCH_NO_VACUUM").is_err() {
            app.run_sql("VACUUM (ANALYZE) intake_events").await;
        }
        let started = Instant::now();
        let opened = app.sweep_at(end).await;
        let judged = started.elapsed().as_secs_f64();
        let expected = (0..centres).filter(|c| c % 3 == 0).count()
            + (0..centres).filter(|c| c % 5 == 0).count();
        assert_eq!(opened, expected, "one case per failing centre and rule");
        let raw = raw_read(&app, start.naive_utc(), end.naive_utc());
        // The store's read of the same rows alone (the rest of the judgement is the rules, the
        // grouping by call and the cases).
        let margin = Duration::minutes(6);
        let (from, until) = (start.naive_utc() - margin, end.naive_utc() + margin);
        let started = Instant::now();
        let read_rows = app
            .state
            .db(move |conn| {
                let mut n = 0;
                for c in shouzhen_store::hospitals::all_of(conn, shouzhen_store::hospitals::DISPATCH)? {
                    n += shouzhen_store::events::answering_between(conn, c.id, from, until)?.len();
                }
                Ok(n)
            })
            .await
            .expect("read");
        let store_read = started.elapsed().as_secs_f64();
        assert!(read_rows <= posted);
        println!("backend     centres  calls/centre  events   judge day   store read   raw read   ratio   cases   peak RSS");
        println!(
            "{backend:<10} {centres:>8}  {calls:>12}  {posted:>6}  {judged:>8.3} s  {store_read:>9.3} s  {raw:>7.3} s  {:>6.2}  {opened:>6}  {:>6.0} MiB",
            raw / judged,
            common::peak_rss_mib(),
        );
    });
}

/// The rows the day rules read, read by the database's own client (to `/dev/null`): each
/// centre's receipts, answers and abandonments of the day and six minutes either side (the
/// service's margin at the default limits).
fn raw_read(
    app: &common::TestApp,
    start: chrono::NaiveDateTime,
    end: chrono::NaiveDateTime,
) -> f64 {
    let (from, until) = (
        (start - Duration::minutes(6)).format("%Y-%m-%d %H:%M:%S"),
        (end + Duration::minutes(6)).format("%Y-%m-%d %H:%M:%S"),
    );
    let query = format!(
        "SELECT e.id, e.call_id, e.kind, e.occurred_at, e.acuity FROM hospitals h \
         JOIN intake_events e ON e.hospital_id = h.id \
         WHERE h.kind = 'dispatch' AND e.kind IN ('call_received', 'call_answered', 'call_abandoned') \
         AND e.occurred_at >= '{from}' AND e.occurred_at < '{until}';\n"
    );
    let started = Instant::now();
    match app.sqlite_file() {
        Some(db) => run(
            Command::new("sqlite3").arg(db),
            &format!(".output /dev/null\n{query}"),
        ),
        None => run(
            Command::new("psql").args([&app.database_url, "-q", "-v", "ON_ERROR_STOP=1"]),
            &format!("\\o /dev/null\n{query}"),
        ),
    }
    started.elapsed().as_secs_f64()
}
