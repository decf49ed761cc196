//! The batched workload of the ingest and instances benchmarks.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

/// Events in one request.
pub const BATCH: usize = 1000;
/// Hospitals posting at once.
pub const HOSPITALS: usize = 10;

/// Request `b` of hospital `h`: 500 patients, each an arrival and what followed. The first
/// `refusals` are critical walk-ins refused over their health code; the rest are ambulance
/// arrivals and their handovers, one in ten handed over late.
pub fn batch(h: usize, b: usize, refusals: usize) -> Vec<Value> {
    let base = Utc
        .with_ymd_and_hms(2022, 7, 1, 2, 0, 0)
        .single()
        .expect("time");
    (0..BATCH / 2)
        .flat_map(|i| {
            let n = (h * 1000 + b) * BATCH + i;
            let p = format!("2101021985{n:08}");
            let t = base + Duration::seconds(n as i64 * 7);
            if i < refusals {
                return vec![
                    json!({"event_id": format!("a{b}-{i}"), "type": "arrival", "occurred_at": t.to_rfc3339(),
                           "patient": {"id_number": p}, "acuity": "critical", "arrived_by": "walk_in",
                           "test_status": "negative_48h"}),
                    json!({"event_id": format!("r{b}-{i}"), "type": "refusal",
                           "occurred_at": (t + Duration::minutes(5)).to_rfc3339(),
                           "patient": {"id_number": p}, "reasons": ["health_code"]}),
                ];
            }
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
