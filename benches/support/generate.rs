//! Events generated in the database, for the benchmarks that need a large table.

use crate::common::{TestApp, is_postgres};

/// Inserts `n` events (row ids `1..=n`) spread over the hospitals with ids `1..=hospitals`,
/// which must exist, a million per transaction, into an empty table. Patients' keys and event
/// times are synthetic (two events a patient, three seconds apart from 2022-01-01).
pub async fn events(app: &TestApp, n: i64, hospitals: i64) {
    let pg = is_postgres();
    let chunk = 1_000_000;
    let mut from = 1;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        let sql = events_sql(pg, from, to, hospitals);
        app.run_sql(format!("BEGIN; {sql}; COMMIT;")).await;
        from = to + 1;
    }
    if pg && n > 0 {
        // The rows were given their ids: the service's own inserts continue after them.
        app.run_sql("SELECT setval('intake_events_id_seq', (SELECT max(id) FROM intake_events))")
            .await;
    }
}

/// The SQL that generates events `from..=to` (row ids equal `i`), spread over hospitals
/// `1..=hospitals`.
fn events_sql(pg: bool, from: i64, to: i64, hospitals: i64) -> String {
    let (series, time, hash, key) = if pg {
        (
            format!("generate_series({from}, {to}) AS g(i)"),
            "timestamp '2022-01-01' + i * interval '3 seconds'".to_string(),
            "lpad(i::text, 64, '0')".to_string(),
            "'id:' || lpad((i / 2)::text, 64, '0')".to_string(),
        )
    } else {
        (
            format!(
                "(WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) SELECT i FROM n)"
            ),
            "datetime(1640995200 + i * 3, 'unixepoch')".to_string(),
            "printf('%064d', i)".to_string(),
            "'id:' || printf('%064d', i / 2)".to_string(),
        )
    };
    format!(
        "INSERT INTO intake_events (id, hospital_id, event_id, content_hash, kind, occurred_at, received_at, patient_key, acuity, closure_id, payload) \
         SELECT i, (i % {hospitals}) + 1, 'e' || i, {hash}, CASE WHEN i % 2 = 0 THEN 'arrival' ELSE 'handover' END, {time}, {time}, {key}, 'urgent', NULL, \
         CASE WHEN i % 2 = 0 THEN '{{\"type\":\"arrival\",\"occurred_at\":\"2022-01-01T00:00:00Z\",\"acuity\":\"urgent\",\"arrived_by\":\"ambulance\"}}' \
         ELSE '{{\"type\":\"handover\",\"occurred_at\":\"2022-01-01T00:15:00Z\"}}' END FROM {series}"
    )
}
