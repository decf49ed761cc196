//! Single events: 64 concurrent clients (wrk), each request one event, against a running
//! service. Concurrent requests share transactions (group commit); the figure is events per
//! second with every response a 200, and the latency percentiles wrk reports, and beside them
//! the CPU the whole machine spent an event while wrk ran.
//!
//! `cargo bench --bench single` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...` for
//! PostgreSQL. Needs `wrk` (`apt-get install wrk`). `BENCH_SECONDS` (default 15);
//! `BENCH_HOSPITALS` (default 1): the requests are spread over that many hospitals, a patient's
//! two events at one hospital. `BENCH_PRELOAD` (default 0): that many events are generated
//! first at ten other hospitals (and the tables vacuumed and analysed, as autovacuum would), so
//! that the load meets a grown database instead of an empty one.

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::process::Command;

/// Each request: an ambulance arrival of a new patient, or the handover of the patient that
/// thread admitted just before (8 minutes later), so that the rules open and settle deadlines.
const SCRIPT: &str = r#"
local counter = 0
local id = 0
local threads = {}
function setup(thread)
  id = id + 1
  thread:set("tid", id)
end
function request()
  counter = counter + 1
  local pair = math.floor((counter + 1) / 2)
  local p = string.format("%d-%d", tid, pair)
  local token = tokens[(pair + tid) % #tokens + 1]
  local minute = math.floor(counter / 2) % 1000
  local body
  if counter % 2 == 1 then
    body = string.format('{"event_id":"a%s","type":"arrival","occurred_at":"2022-07-01T%02d:%02d:00+08:00","patient":{"ref":"%s"},"acuity":"urgent","arrived_by":"ambulance","health_code":"green","test_status":"negative_48h"}', p, 8 + math.floor(minute / 60) % 12, minute % 60, p)
  else
    body = string.format('{"event_id":"h%s","type":"handover","occurred_at":"2022-07-01T%02d:%02d:00+08:00","patient":{"ref":"%s"}}', p, 8 + math.floor((minute + 8) / 60) % 12, (minute + 8) % 60, p)
  end
  return wrk.format("POST", "/api/v1/intake-events", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"#;

fn main() {
    let seconds: u64 = common::env_number("BENCH_SECONDS", 15);
    let backend = if common::is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    actix_web::rt::System::new().block_on(async move {
        let app = common::TestApp::builder()
            .var("SHOUZHEN_DB_POOL_SIZE", "8")
            .var("SHOUZHEN_TOKEN_TTL", "3600")
            .var(
                "SHOUZHEN_INGEST_WRITERS",
                &std::env::var("BENCH_WRITERS").unwrap_or_else(|_| "0".into()),
            )
            .spawn()
            .await;
        let preload: i64 = common::env_number("BENCH_PRELOAD", 0);
        if preload > 0 {
            // A fresh database: these are hospitals 1 to 10.
            for h in 0..10 {
                app.add_hospital(&format!("PRELOAD-{h}")).await;
            }
            generate::events(&app, preload, 10).await;
            // Then a checkpoint, so that the load does not pay for writing out the preload.
            app.run_sql(if backend == "sqlite" {
                "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)"
            } else {
                "VACUUM (ANALYZE)"
            })
            .await;
            if backend == "postgresql" {
                app.run_sql("CHECKPOINT").await;
            }
            println!("preloaded {preload} events");
        }
        let hospitals: usize = common::env_number("BENCH_HOSPITALS", 1).max(1);
        let mut tokens = Vec::new();
        for n in 1..=hospitals {
            tokens.push(format!("\"{}\"", app.hospital_token(&format!("SINGLE-{n}")).await));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("single.lua");
        std::fs::write(
            &script,
            format!("tokens = {{{}}}\n{SCRIPT}", tokens.join(", ")),
        )
        .expect("script");
        let url = app.url("/");
        let duration = format!("{seconds}s");
        let (cpu_before, started) = (machine_cpu(), std::time::Instant::now());
        // wrk runs in its own process; the server keeps running on this thread's runtime.
        let output = actix_web::web::block(move || {
            Command::new("wrk")
                .args(["-t2", "-c64", "-d", &duration, "--latency", "-s"])
                .arg(&script)
                .arg(&url)
                .output()
        })
        .await
        .expect("block")
        .expect("run wrk (apt-get install wrk)");
        let (cpu_after, wall) = (machine_cpu(), started.elapsed().as_secs_f64());
        let text = String::from_utf8_lossy(&output.stdout);
        println!("{text}");
        let stored = app.stored_events().await - preload;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let busy = (cpu_after.0 - cpu_before.0) / (cpu_after.1 - cpu_before.1).max(1.0);
        let commits = app.state.metrics.group_commits.get();
        let non_2xx = text
            .lines()
            .find(|l| l.contains("Non-2xx"))
            .unwrap_or("all responses 2xx");
        println!(
            "{backend}, {hospitals} hospital(s): {stored} events stored in {seconds} s = {:.0} events/s; {commits} commits ({:.1} requests a commit); {non_2xx}; machine CPU {:.0} us an event ({:.0} % busy); peak RSS {:.0} MiB",
            stored as f64 / seconds as f64,
            stored as f64 / commits.max(1) as f64,
            busy * cores * wall * 1e6 / stored.max(1) as f64,
            busy * 100.0,
            common::peak_rss_mib()
        );
    });
}

/// The machine's busy and total CPU time so far, in ticks (the first line of /proc/stat): the
/// busy share while wrk runs, times the cores and the seconds, is the CPU the whole machine
/// (service, database and wrk) spent; divided by the events stored, a figure steadier than
/// the rate on a machine whose speed varies.
fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let at = |i: usize| ticks.get(i).copied().unwrap_or(0.0);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6);
    (busy, busy + at(3) + at(4) + at(7))
}
