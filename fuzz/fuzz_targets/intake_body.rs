//! The intake API's parsing and validation, fed arbitrary bytes: the first byte picks JSON or
//! NDJSON, the rest is the request body. Whatever comes in, nothing panics, every event is
//! either prepared or rejected (once), no identity number survives into what would be stored,
//! a stored note is masked and within its limit, and preparing the same events twice gives the
//! same idempotency hashes.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shouzhen_app::config::Secret;
use shouzhen_app::intake::{self, Batch, BodyFormat, Poster};
use shouzhen_app::keys::Keys;

fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == key || has_key(v, key)),
        Value::Array(a) => a.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let format = if first & 1 == 0 { BodyFormat::Json } else { BodyFormat::Ndjson };
    let Ok(values) = intake::split_body(body, format) else {
        return; // a 400 naming the body
    };
    let keys = Keys::derive(&Secret::new("fuzzing key"));
    let poster = Poster { hospital_id: 7, code: "BJ-CY".into(), jurisdiction: "beijing".into() };
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let prepare = |values: Vec<Value>| {
        let items = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| intake::validate(i, v, now))
            .collect();
        Batch::prepare(&keys, poster.clone(), items).expect("an event that validated serialises")
    };
    let n = values.len();
    let batch = prepare(values.clone());
    let again = prepare(values);

    let mut seen: Vec<usize> = batch.events.iter().map(|e| e.index()).collect();
    seen.extend(batch.rejected.iter().map(|r| r.index));
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>(), "each event prepared or rejected, once");

    for (e, twin) in batch.events.iter().zip(&again.events) {
        let stored: Value = serde_json::from_str(e.payload()).expect("the stored payload is JSON");
        assert!(!has_key(&stored, "id_number"), "an identity number reached storage");
        if let Some(note) = stored.get("note").and_then(Value::as_str) {
            assert!(note.chars().count() <= 2_000, "a note over the limit was stored");
            assert_eq!(shouzhen_domain::redact::redact(note).0, note, "a stored note is masked");
        }
        assert_eq!(e.hash(), twin.hash(), "the idempotency hash is deterministic");
    }
});
