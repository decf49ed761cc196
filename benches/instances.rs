//! Several `serve` instances on one PostgreSQL, as behind a load balancer: 10 hospitals at
//! once, each posting requests of 1,000 events, request after request to the next instance;
//! every fifth request is posted twice at the same moment through two instances (a client's
//! retry that a load balancer sent elsewhere). Each instance runs its own HTTP server, pool,
//! intake writers, sweeper and outbox worker; they share the database and nothing else (they
//! run in this one process, so that their peak memory is measured together).
//!
//! Reports throughput for each number of instances, each on a fresh database in the same run,
//! and checks what must not happen when instances race: an event stored twice, a case opened
//! twice, an email queued or delivered twice, a broken hash chain.
//!
//! `SHOUZHEN_TEST_DATABASE_URL=postgres://... cargo bench --bench instances`;
//! `BENCH_INSTANCES` (default `1,2,3`), `BENCH_BATCHES` (default 10) requests per hospital.

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::Value;
use shouzhen_store::schema::{case_actions, cases, outbox};

#[path = "support/workload.rs"]
mod workload;

use workload::{BATCH, HOSPITALS, batch};

/// Patients of a request that are critical walk-ins refused over their health code (high
/// severity, so emailed); the rest are ambulance arrivals and their handovers.
const REFUSALS: usize = 10;

/// What one run stored and sent.
struct Outcome {
    secs: f64,
    accepted: u64,
    duplicates: u64,
    cases: BTreeMap<String, i64>,
    open_actions: i64,
    queued: i64,
    delivered: usize,
    distinct_ids: usize,
    breaks: usize,
}

fn main() {
    if !common::is_postgres() {
        println!(
            "runs on PostgreSQL: SHOUZHEN_TEST_DATABASE_URL=postgres://... (one SQLite file serves one instance)"
        );
        return;
    }
    let batches: usize = common::env_number("BENCH_BATCHES", 10);
    let counts: Vec<usize> = std::env::var("BENCH_INSTANCES")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|n| *n > 0)
        .collect();
    // Bodies are serialised before any clock starts: the client's work is not measured.
    let bodies: Vec<Vec<Vec<u8>>> = (0..HOSPITALS)
        .map(|h| {
            (0..batches)
                .map(|b| serde_json::to_vec(&batch(h, b, REFUSALS)).expect("json"))
                .collect()
        })
        .collect();
    let events = (HOSPITALS * batches * BATCH) as u64;
    println!(
        "instances   events   end to end   events/s   vs 1   duplicates   handover cases   other cases   open actions   emails queued / delivered / distinct   chain breaks   peak RSS"
    );
    let mut first_rate = None;
    let mut first_cases = None;
    for n in counts {
        let out = actix_web::rt::System::new().block_on(run(n, &bodies));
        let rate = events as f64 / out.secs;
        let base = *first_rate.get_or_insert(rate);
        println!(
            "{n:>9}  {events:>7}  {:>9.2} s  {rate:>9.0}  {:>4.2}  {:>11}  {:>15}  {:>14}  {:>13}  {:>14} / {:>9} / {:>8}  {:>13}  {:>6.0} MiB",
            out.secs,
            rate / base,
            out.duplicates,
            out.cases.get("handover.delay").copied().unwrap_or(0),
            out.cases.values().sum::<i64>() - out.cases.get("handover.delay").copied().unwrap_or(0),
            out.open_actions,
            out.queued,
            out.delivered,
            out.distinct_ids,
            out.breaks,
            common::peak_rss_mib(),
        );
        // What must hold whatever the number of instances.
        assert_eq!(out.accepted, events, "every event stored once");
        let retried = (HOSPITALS * batches.div_ceil(5) * BATCH) as u64;
        assert_eq!(out.duplicates, retried, "every retried event a duplicate");
        let opened: i64 = out.cases.values().sum();
        assert_eq!(out.open_actions, opened, "every case opened once");
        assert_eq!(
            out.cases.get("handover.delay").copied().unwrap_or(0),
            (HOSPITALS * batches * 49) as i64,
            "every late handover a case"
        );
        assert_eq!(
            *first_cases.get_or_insert(out.cases.clone()),
            out.cases,
            "the same cases whatever the number of instances"
        );
        assert!(out.queued > 0, "the refusals are emailed");
        assert_eq!(
            out.delivered as i64, out.queued,
            "every email delivered once"
        );
        assert_eq!(out.distinct_ids, out.delivered, "no email delivered twice");
        assert_eq!(out.breaks, 0, "the hash chains hold");
    }
}

async fn run(instances: usize, bodies: &[Vec<Vec<u8>>]) -> Outcome {
    let builder = || {
        common::TestApp::builder()
            .var("SHOUZHEN_DB_POOL_SIZE", "8")
            .var("SHOUZHEN_ESCALATION_TO", "wjw@health.example.cn")
            .var("SHOUZHEN_OUTBOX_INTERVAL", "1")
    };
    let first = builder().spawn().await;
    let mut apps = vec![first];
    for _ in 1..instances {
        let next = builder().database_of(&apps[0]).spawn().await;
        apps.push(next);
    }
    let mut tokens = Vec::new();
    for h in 0..HOSPITALS {
        tokens.push(apps[0].hospital_token(&format!("BENCH-{h}")).await);
    }
    let post = |app: &common::TestApp, token: &str, body: &[u8]| {
        app.client
            .post(app.url("/api/v1/intake-events"))
            .bearer_auth(token)
            .content_type("application/json")
            .send_body(body.to_vec())
    };
    let started = Instant::now();
    let hospitals = tokens
        .iter()
        .zip(bodies)
        .enumerate()
        .map(|(h, (token, mine))| {
            let (apps, post) = (&apps, &post);
            async move {
                let (mut accepted, mut duplicates) = (0u64, 0u64);
                for (b, body) in mine.iter().enumerate() {
                    let app = &apps[(h + b) % apps.len()];
                    let mut sends = vec![post(app, token, body)];
                    if b % 5 == 0 {
                        sends.push(post(&apps[(h + b + 1) % apps.len()], token, body));
                    }
                    for resp in futures_util::future::join_all(sends).await {
                        let mut resp = resp.expect("post");
                        assert_eq!(resp.status(), 200);
                        let report: Value = resp.json().limit(1 << 24).await.expect("report");
                        accepted += report["accepted"].as_u64().unwrap_or(0);
                        duplicates += report["duplicates"].as_u64().unwrap_or(0);
                    }
                }
                (accepted, duplicates)
            }
        });
    let counts = futures_util::future::join_all(hospitals).await;
    let secs = started.elapsed().as_secs_f64();
    let (accepted, duplicates) = counts
        .into_iter()
        .fold((0, 0), |(a, d), (x, y)| (a + x, d + y));

    // Every instance's outbox worker delivers; wait until nothing is left to send.
    let deadline = Instant::now() + Duration::from_secs(120);
    let queued = loop {
        let (all, unsent): (i64, i64) = apps[0]
            .state
            .db(|conn| {
                let all = outbox::table.count().get_result(conn)?;
                let unsent = outbox::table
                    .filter(outbox::status.ne("sent"))
                    .count()
                    .get_result(conn)?;
                Ok((all, unsent))
            })
            .await
            .expect("outbox");
        if unsent == 0 || Instant::now() > deadline {
            break all;
        }
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    };
    // A worker may be writing its last file as the row turns `sent`.
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let mut delivered = 0;
    let mut ids = HashSet::new();
    for app in &apps {
        let Ok(files) = std::fs::read_dir(app.dir.path().join("mail")) else {
            continue;
        };
        for file in files.flatten() {
            let text = std::fs::read_to_string(file.path()).unwrap_or_default();
            delivered += 1;
            if let Some(id) = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            {
                ids.insert(id.to_string());
            }
        }
    }
    let (cases, open_actions, breaks) = apps[0]
        .state
        .db(|conn| {
            let cases: Vec<(String, i64)> = cases::table
                .group_by(cases::rule)
                .select((cases::rule, diesel::dsl::count_star()))
                .load(conn)?;
            let open: i64 = case_actions::table
                .filter(case_actions::action.eq("open"))
                .count()
                .get_result(conn)?;
            let report = shouzhen_store::record::verify(conn)?;
            Ok((cases, open, report.breaks.len()))
        })
        .await
        .expect("count");
    // The other instances go first: the first one drops the database.
    apps.truncate(1);
    Outcome {
        secs,
        accepted,
        duplicates,
        cases: cases.into_iter().collect(),
        open_actions,
        queued,
        delivered,
        distinct_ids: ids.len(),
        breaks,
    }
}
