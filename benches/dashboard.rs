//! The dashboard at scale: 10 million intake events and 100,000 cases, generated in the
//! database, then the pages inspectors use timed over real HTTP (p50 and p95 of sequential
//! requests): the case queue with each filter, the cases API, the case page, the CSV export of
//! every case (streamed: the peak resident size is read before and after), and sweeper passes
//! with 100 due deadlines and with none.
//!
//! `cargo bench --bench dashboard` (SQLite); with `SHOUZHEN_TEST_DATABASE_URL=postgres://...`
//! for PostgreSQL. `BENCH_EVENTS` (default 10,000,000), `BENCH_CASES` (default 100,000).

#[allow(dead_code)] // each bench uses a part of the tests' helpers
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::time::Instant;

const HOSPITALS: i64 = 10;
const RULES: [&str; 6] = [
    "refusal.prohibited_reason",
    "handover.delay",
    "first_diagnosis.shirked",
    "critical.test_delay",
    "special_group.refused",
    "refusal.operational_reason",
];

/// The SQL that generates `n` cases over the first events, with evidence and history.
fn cases_sql(pg: bool, n: i64, events: i64) -> String {
    let step = (events / n).max(2);
    let rule = RULES
        .iter()
        .enumerate()
        .map(|(k, r)| format!("WHEN {k} THEN '{r}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let status = shouzhen_domain::case::STATUSES
        .iter()
        .enumerate()
        .map(|(k, s)| format!("WHEN {k} THEN '{s}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let (series, time) = if pg {
        (
            format!("generate_series(1, {n}) AS g(j)"),
            "timestamp '2022-01-01' + j * interval '5 minutes'".to_string(),
        )
    } else {
        (
            format!(
                "(WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < {n}) SELECT j FROM n)"
            ),
            "datetime(1640995200 + j * 300, 'unixepoch')".to_string(),
        )
    };
    let statuses = shouzhen_domain::case::STATUSES.len();
    // The loop's cases carry their deadlines: one in a hundred of them has let it pass.
    let due = format!(
        "CASE WHEN j % 100 = 0 THEN {time} ELSE {} END",
        if pg {
            "timestamp '2099-01-01'"
        } else {
            "'2099-01-01 00:00:00'"
        }
    );
    format!(
        "INSERT INTO cases (id, rule, subject, severity, severity_rank, status, hospital_id, district, occurred_at, opened_at, updated_at, summary, escalation_level, reply_due, rectification_due) \
         SELECT j, CASE j % {rules} {rule} END, 'ev:' || (j * {step}), \
         CASE j % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END, 3 - j % 3, CASE j % {statuses} {status} END, \
         (j % {HOSPITALS}) + 1, 'district-' || ((j % {HOSPITALS}) % 5), {time}, {time}, {time}, \
         '急诊患者 ' || j || ' 号：救护车到达后未在 15 分钟内交接', 0, \
         CASE WHEN j % {statuses} BETWEEN 4 AND 7 THEN {due} END, CASE WHEN j % {statuses} BETWEEN 6 AND 7 THEN {due} END FROM {series};\n\
         INSERT INTO case_evidence (case_id, event_row_id) SELECT j, j * {step} FROM {series};\n\
         INSERT INTO case_evidence (case_id, event_row_id) SELECT j, j * {step} - 1 FROM {series};\n\
         INSERT INTO case_actions (case_id, actor_label, action, from_status, to_status, note, at) \
         SELECT j, 'system', 'open', '', 'open', 'opened', {time} FROM {series};\n",
        rules = RULES.len()
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let events = common::env_number("BENCH_EVENTS", 10_000_000_i64);
    let n_cases = common::env_number("BENCH_CASES", 100_000_i64);
    let pg = common::is_postgres();
    actix_web::rt::System::new().block_on(async move {
        let app = common::TestApp::builder()
            .var("SHOUZHEN_DB_POOL_SIZE", "8")
            .var("SHOUZHEN_SWEEP_INTERVAL", "60")
            .spawn()
            .await;
        for h in 0..HOSPITALS {
            app.add_hospital_in(
                &format!("H-{h}"),
                &format!("district-{}", h % 5),
                "beijing",
            )
            .await;
        }
        app.staff_token("supervisor@bench.example.cn", "supervisor", None)
            .await;
        let token = app
            .staff_token("inspector@bench.example.cn", "inspector", None)
            .await;

        let started = Instant::now();
        generate::events(&app, events, HOSPITALS).await;
        let sql = cases_sql(pg, n_cases, events);
        let fixup = if pg {
            "SELECT setval('cases_id_seq', (SELECT max(id) FROM cases));"
        } else {
            ""
        };
        app.run_sql(format!("BEGIN; {sql} COMMIT; {fixup}")).await;
        // What autovacuum does within a minute of a bulk insert on PostgreSQL (its insert
        // threshold): statistics, and the visibility map that lets counts read indexes alone.
        // VACUUM runs outside any transaction, so on its own.
        let vacuum = if pg { "VACUUM (ANALYZE)" } else { "ANALYZE" };
        app.run_sql(vacuum).await;
        println!(
            "generated {events} events and {n_cases} cases in {:.0} s (backend: {})",
            started.elapsed().as_secs_f64(),
            if pg { "postgresql" } else { "sqlite" }
        );

        let mut visitor = common::Visitor::new(&app);
        assert_eq!(visitor.login("supervisor@bench.example.cn").await, 303);
        let pages: Vec<(&str, String)> = vec![
            ("queue, no filter", "/dashboard".into()),
            ("queue, rule", "/dashboard?rule=handover.delay".into()),
            ("queue, hospital", "/dashboard?hospital=H-3".into()),
            ("queue, district", "/dashboard?district=district-2".into()),
            ("queue, severity", "/dashboard?severity=low".into()),
            ("queue, status", "/dashboard?status=dismissed".into()),
            (
                "queue, period",
                "/dashboard?since=2022-03-01&until=2022-03-08".into(),
            ),
            (
                "queue, all filters",
                "/dashboard?rule=handover.delay&hospital=H-1&severity=high&status=open".into(),
            ),
        ];
        println!("\nwhat (20 requests each)                p50 ms    p95 ms");
        for (what, path) in &pages {
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                let (status, _, _) = visitor.get(path).await;
                assert_eq!(status, 200, "{path}");
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            report(what, times);
        }
        for (what, query) in [
            ("API cases, no filter", ""),
            ("API cases, rule + status", "rule=handover.delay&status=open"),
            ("API cases, hospital", "hospital=H-7"),
        ] {
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                let (status, _) = app
                    .get(&format!("/api/v1/cases?limit=50&{query}"), Some(&token))
                    .await;
                assert_eq!(status, 200);
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            report(what, times);
        }
        let mut times = Vec::new();
        for k in 0..20 {
            let id = 1 + (k * 4_999) % n_cases;
            let t = Instant::now();
            let (status, _, _) = visitor.get(&format!("/cases/{id}")).await;
            assert_eq!(status, 200);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        report("case page", times);
        let mut times = Vec::new();
        for k in 0..20 {
            let id = 1 + (k * 4_999) % n_cases;
            let t = Instant::now();
            let (status, _) = app.get(&format!("/api/v1/cases/{id}"), Some(&token)).await;
            assert_eq!(status, 200);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        report("API case", times);

        let before = common::peak_rss_mib();
        let t = Instant::now();
        let (status, bytes, lines) = visitor.download("/dashboard/export.csv?status=all").await;
        assert_eq!(status, 200);
        println!(
            "\nCSV export (read as a stream): {} rows, {:.1} MiB in {:.2} s; peak RSS {before:.0} MiB before, {:.0} MiB after",
            lines - 1,
            bytes as f64 / 1048576.0,
            t.elapsed().as_secs_f64(),
            common::peak_rss_mib()
        );

        // The sweeper: 1,000 handover deadlines due now, among the 10 million events.
        let due = if pg {
            "INSERT INTO deadlines (rule, subject, hospital_id, due_at, done) \
             SELECT 'handover.delay', 'ev:' || (i * 2), (i * 2 % 10) + 1, now() - interval '1 minute', false FROM generate_series(1, 100) i"
        } else {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             INSERT INTO deadlines (rule, subject, hospital_id, due_at, done) \
             SELECT 'handover.delay', 'ev:' || (i * 2), (i * 2 % 10) + 1, datetime('now', '-1 minute'), 0 FROM n"
        };
        app.run_sql(due).await;
        let t = Instant::now();
        app.sweep_at(chrono::Utc::now()).await;
        let busy = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        app.sweep_at(chrono::Utc::now()).await;
        let idle = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "sweeper among {events} events: a pass with 100 due deadlines {busy:.1} ms ({:.2} ms a deadline); a pass with none due {idle:.1} ms",
            busy / 100.0
        );
        println!("peak RSS of the process (service and client): {:.0} MiB", common::peak_rss_mib());
        if std::env::var("BENCH_KEEP_DB").is_ok() {
            println!("database kept: {}", app.database_url);
            std::mem::forget(app);
        }
    });
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what:<38} {:>7.1}   {:>7.1}",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
}
