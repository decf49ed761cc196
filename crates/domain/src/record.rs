//! The tamper-evident record, as pure hashing. Every intake event and every case action carries
//! two SHA-256 hashes: `row_hash`, of its content, and `chain_hash`, of its `row_hash` and the
//! `chain_hash` of the row before it (by row id): one chain per hospital for events, one chain
//! for all case actions. Changing a row breaks its `row_hash`; deleting a row, or inserting one
//! out of order, breaks the `chain_hash` of the row after it. `shouzhen audit verify` walks the
//! chains (the store's `record::verify`) and reports the first row that does not hold.
//!
//! The hashes are not keyed: whoever can rewrite the database could also recompute every hash
//! after the rows they changed. The chain heads that `audit verify` prints are what to keep
//! elsewhere (SECURITY.md).

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// The chain hash before the first row of a chain.
pub const GENESIS: &str = "";

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// SHA-256 over the parts, each followed by a NUL (so that "ab","c" and "a","bc" differ), hex.
fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// The chain hash of a row whose content hash is `row_hash`, after a row whose chain hash is
/// `prev`.
pub fn link(prev: &str, row_hash: &str) -> String {
    digest(&[prev.as_bytes(), row_hash.as_bytes()])
}

/// The hash by which intake recognises an event sent again (same id, same patient, same
/// body: a duplicate; same id, anything else: rejected).
pub fn content_hash(event_id: &str, patient_key: Option<&str>, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(event_id.as_bytes());
    h.update([0u8]);
    h.update(patient_key.unwrap_or("").as_bytes());
    h.update([0u8]);
    h.update(payload.as_bytes());
    hex::encode(h.finalize())
}

/// What an intake event's `row_hash` covers: every column but the row id and the hashes.
#[derive(Debug, Clone, Copy)]
pub struct EventContent<'a> {
    pub hospital_id: i64,
    pub event_id: &'a str,
    pub content_hash: &'a str,
    pub kind: &'a str,
    pub occurred_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub patient_key: Option<&'a str>,
    pub acuity: Option<&'a str>,
    pub closure_id: Option<&'a str>,
    pub payload: &'a str,
    /// A 120 call's id (dispatch centres' events); covered only when present, so that the
    /// hashes of the rows stored before it existed stay as they were.
    pub call_id: Option<&'a str>,
}

impl EventContent<'_> {
    pub fn hash(&self) -> String {
        let opt = |v: Option<&str>| v.map(|s| format!("1{s}")).unwrap_or_else(|| "0".into());
        let (hospital, occurred, received) = (
            self.hospital_id.to_string(),
            micros(self.occurred_at).to_string(),
            micros(self.received_at).to_string(),
        );
        let (patient, acuity, closure) = (
            opt(self.patient_key),
            opt(self.acuity),
            opt(self.closure_id),
        );
        let call = self.call_id.map(|c| format!("call:{c}"));
        let mut parts: Vec<&[u8]> = vec![
            b"intake_event/v1",
            hospital.as_bytes(),
            self.event_id.as_bytes(),
            self.content_hash.as_bytes(),
            self.kind.as_bytes(),
            occurred.as_bytes(),
            received.as_bytes(),
            patient.as_bytes(),
            acuity.as_bytes(),
            closure.as_bytes(),
            self.payload.as_bytes(),
        ];
        if let Some(call) = &call {
            parts.push(call.as_bytes());
        }
        digest(&parts)
    }
}

/// What a case action's `row_hash` covers.
#[derive(Debug, Clone, Copy)]
pub struct ActionContent<'a> {
    pub case_id: i64,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub note: &'a str,
    pub at: NaiveDateTime,
}

impl ActionContent<'_> {
    pub fn hash(&self) -> String {
        digest(&[
            b"case_action/v1",
            self.case_id.to_string().as_bytes(),
            self.actor_id
                .map(|a| a.to_string())
                .unwrap_or_default()
                .as_bytes(),
            self.actor_label.as_bytes(),
            self.action.as_bytes(),
            self.from_status.as_bytes(),
            self.to_status.as_bytes(),
            self.note.as_bytes(),
            micros(self.at).to_string().as_bytes(),
        ])
    }
}

/// One row that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// `intake_events` or `case_actions`.
    pub table: &'static str,
    pub row_id: i64,
    /// The chain: a hospital's code, or "case actions".
    pub chain: String,
    pub problem: &'static str,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} row {} ({}): {}",
            self.table, self.row_id, self.chain, self.problem
        )
    }
}

/// What `audit verify` found: the rows checked, each chain's head, and the first break of each
/// chain.
#[derive(Debug, Default)]
pub struct Report {
    pub events: u64,
    pub actions: u64,
    /// (chain, head hash).
    pub heads: Vec<(String, String)>,
    pub breaks: Vec<Break>,
}

pub const CHANGED: &str = "its content was changed after it was written";
pub const BROKEN_LINK: &str =
    "the row before it in the chain was deleted or changed, or this row was inserted out of order";
pub const UNSEALED: &str = "it carries no hash (written outside the service)";
pub const TRUNCATED: &str = "its chain does not reach the head noted with the hospital: events \
     were deleted from the end of the chain, or the head was changed";

/// Checks one row (its stored hashes, and the hash of its content computed anew) against the
/// chain so far, whose head is `prev`; returns the new head and what does not hold, if anything.
pub fn check(
    prev: &str,
    row_hash: &str,
    chain_hash: &str,
    computed: &str,
) -> (String, Option<&'static str>) {
    if row_hash.is_empty() || chain_hash.is_empty() {
        return (chain_hash.to_string(), Some(UNSEALED));
    }
    if computed != row_hash {
        return (chain_hash.to_string(), Some(CHANGED));
    }
    if link(prev, row_hash) != chain_hash {
        return (chain_hash.to_string(), Some(BROKEN_LINK));
    }
    (chain_hash.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("a time")
    }

    fn action(note: &str) -> ActionContent<'_> {
        ActionContent {
            case_id: 1,
            actor_id: Some(2),
            actor_label: "inspector",
            action: "acknowledge",
            from_status: "open",
            to_status: "acknowledged",
            note,
            at: at("2022-04-01 08:00:00"),
        }
    }

    #[test]
    fn a_sound_chain_holds_and_each_kind_of_break_is_named() {
        let first = action("a").hash();
        let head1 = link(GENESIS, &first);
        assert_eq!(
            check(GENESIS, &first, &head1, &first),
            (head1.clone(), None)
        );
        let second = action("b").hash();
        let head2 = link(&head1, &second);
        assert_eq!(check(&head1, &second, &head2, &second).1, None);
        // The second row's content changed: its row hash no longer matches.
        assert_eq!(
            check(&head1, &second, &head2, &action("c").hash()).1,
            Some(CHANGED)
        );
        // The first row was deleted: the second no longer links to what precedes it.
        assert_eq!(
            check(GENESIS, &second, &head2, &second).1,
            Some(BROKEN_LINK)
        );
        assert_eq!(check(GENESIS, "", "", &second).1, Some(UNSEALED));
    }

    #[test]
    fn parts_are_separated_so_that_moving_a_boundary_changes_the_hash() {
        assert_ne!(
            content_hash("ab", Some("c"), ""),
            content_hash("a", Some("bc"), "")
        );
        let e = EventContent {
            hospital_id: 1,
            event_id: "e1",
            content_hash: "h",
            kind: "arrival",
            occurred_at: at("2022-04-01 08:00:00"),
            received_at: at("2022-04-01 08:00:01"),
            patient_key: None,
            acuity: None,
            closure_id: None,
            payload: "{}",
            call_id: None,
        };
        let with_call = EventContent {
            call_id: Some("C-1"),
            ..e
        };
        assert_ne!(e.hash(), with_call.hash(), "a call id is covered");
        let empty_patient = EventContent {
            patient_key: Some(""),
            ..e
        };
        assert_ne!(e.hash(), empty_patient.hash());
        assert_eq!(e.hash().len(), 64);
    }
}
