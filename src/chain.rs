//! The tamper-evident record. Every intake event and every case action carries two SHA-256
//! hashes: `row_hash`, of its content, and `chain_hash`, of its `row_hash` and the `chain_hash`
//! of the row before it (by row id): one chain per hospital for events, one chain for all case
//! actions. Changing a row breaks its `row_hash`; deleting a row, or inserting one out of order,
//! breaks the `chain_hash` of the row after it. `shouzhen audit verify` walks the chains and
//! reports the first row that does not hold.
//!
//! The hashes are not keyed: whoever can rewrite the database could also recompute every hash
//! after the rows they changed. The chain heads that `audit verify` prints are what to keep
//! elsewhere (SECURITY.md).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::schema::{case_actions, hospitals, intake_events};

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

/// What an intake event's `row_hash` covers: every column but the row id and the hashes.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = intake_events, treat_none_as_default_value = false)]
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
}

impl EventContent<'_> {
    pub fn hash(&self) -> String {
        let opt = |v: Option<&str>| v.map(|s| format!("1{s}")).unwrap_or_else(|| "0".into());
        digest(&[
            b"intake_event/v1",
            self.hospital_id.to_string().as_bytes(),
            self.event_id.as_bytes(),
            self.content_hash.as_bytes(),
            self.kind.as_bytes(),
            micros(self.occurred_at).to_string().as_bytes(),
            micros(self.received_at).to_string().as_bytes(),
            opt(self.patient_key).as_bytes(),
            opt(self.acuity).as_bytes(),
            opt(self.closure_id).as_bytes(),
            self.payload.as_bytes(),
        ])
    }
}

/// What a case action's `row_hash` covers.
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

/// Notes each hospital's new chain head, as `(hospital id, chain hash of its last event)`, in
/// one statement on PostgreSQL (SQLite's statements cost no round trip: one each there).
pub fn set_event_heads(conn: &mut DbConn, heads: &[(i64, String)]) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            if heads.is_empty() {
                return Ok(());
            }
            let (ids, hashes): (Vec<i64>, Vec<&str>) =
                heads.iter().map(|(h, head)| (*h, head.as_str())).unzip();
            diesel::sql_query(
                "UPDATE hospitals SET event_chain_head = v.head \
                 FROM unnest($1::bigint[], $2::text[]) AS v(id, head) WHERE hospitals.id = v.id",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(hashes)
            .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for (h, head) in heads {
                diesel::update(hospitals::table.find(h))
                    .set(hospitals::event_chain_head.eq(head))
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The chain hash of the last case action ([`GENESIS`] before the first).
pub fn action_head(conn: &mut DbConn) -> QueryResult<String> {
    Ok(case_actions::table
        .order(case_actions::id.desc())
        .select(case_actions::chain_hash)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string()))
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

const CHANGED: &str = "its content was changed after it was written";
const BROKEN_LINK: &str =
    "the row before it in the chain was deleted or changed, or this row was inserted out of order";
const UNSEALED: &str = "it carries no hash (written outside the service)";
const TRUNCATED: &str = "its chain does not reach the head noted with the hospital: events were \
     deleted from the end of the chain, or the head was changed";

/// Checks one row against the chain so far; returns the new chain head.
fn check(
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

type EventRow = (
    i64,
    i64,
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

/// One hospital's chain as `verify` walks it.
struct Walk {
    code: String,
    /// The head kept with the hospital when the walk began.
    stored_head: Option<String>,
    /// Whether the walk has passed that head. Events stored while the walk runs may come after
    /// it (each page is read anew), so the chain must pass through the head, not end there.
    reached_head: bool,
    prev: String,
    first_break: Option<Break>,
}

/// Walks every chain, a page of rows at a time in row order (memory stays flat: one head per
/// hospital).
pub fn verify(conn: &mut DbConn) -> QueryResult<Report> {
    const PAGE: i64 = 10_000;
    let mut report = Report::default();
    let hospitals: Vec<(i64, String, Option<String>)> = hospitals::table
        .order(hospitals::id)
        .select((hospitals::id, hospitals::code, hospitals::event_chain_head))
        .load(conn)?;
    let mut walks: std::collections::BTreeMap<i64, Walk> = hospitals
        .into_iter()
        .map(|(id, code, stored_head)| {
            let walk = Walk {
                code,
                reached_head: stored_head.is_none(),
                stored_head,
                prev: GENESIS.to_string(),
                first_break: None,
            };
            (id, walk)
        })
        .collect();
    let mut after = 0i64;
    loop {
        let rows: Vec<EventRow> = intake_events::table
            .filter(intake_events::id.gt(after))
            .order(intake_events::id)
            .limit(PAGE)
            .select((
                intake_events::id,
                intake_events::hospital_id,
                intake_events::event_id,
                intake_events::content_hash,
                intake_events::kind,
                intake_events::occurred_at,
                intake_events::received_at,
                intake_events::patient_key,
                intake_events::acuity,
                intake_events::closure_id,
                intake_events::payload,
                intake_events::row_hash,
                intake_events::chain_hash,
            ))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for r in &rows {
            report.events += 1;
            let (id, hospital_id, event_id, content_hash, kind, occurred, received) =
                (r.0, r.1, &r.2, &r.3, &r.4, r.5, r.6);
            // Only a hospital registered after the walk began is missing (the events' foreign
            // key): all its events are newer than the walk.
            let Some(walk) = walks.get_mut(&hospital_id) else {
                continue;
            };
            let computed = EventContent {
                hospital_id,
                event_id,
                content_hash,
                kind,
                occurred_at: occurred,
                received_at: received,
                patient_key: r.7.as_deref(),
                acuity: r.8.as_deref(),
                closure_id: r.9.as_deref(),
                payload: &r.10,
            }
            .hash();
            // The content hash of the idempotency check covers id, patient and payload too.
            let stored_content = crate::intake::content_hash(event_id, r.7.as_deref(), &r.10);
            let (head, problem) = check(&walk.prev, &r.11, &r.12, &computed);
            let problem = problem.or((stored_content != *content_hash).then_some(CHANGED));
            if let (Some(problem), None) = (problem, &walk.first_break) {
                walk.first_break = Some(Break {
                    table: "intake_events",
                    row_id: id,
                    chain: walk.code.clone(),
                    problem,
                });
            }
            walk.reached_head |= walk.stored_head.as_deref() == Some(r.12.as_str());
            walk.prev = head;
        }
    }
    for (hospital_id, walk) in walks {
        // The head kept with the hospital moves in the commit that stores its events: a chain
        // that never reaches it lost its last events.
        let first_break = walk.first_break.or_else(|| {
            (!walk.reached_head).then(|| Break {
                table: "hospitals",
                row_id: hospital_id,
                chain: walk.code.clone(),
                problem: TRUNCATED,
            })
        });
        report.breaks.extend(first_break);
        report.heads.push((walk.code, walk.prev));
    }

    let mut prev = GENESIS.to_string();
    let mut after = 0i64;
    let mut broken = false;
    loop {
        type ActionRow = (
            i64,
            i64,
            Option<i64>,
            String,
            String,
            String,
            String,
            String,
            NaiveDateTime,
            String,
            String,
        );
        let rows: Vec<ActionRow> = case_actions::table
            .filter(case_actions::id.gt(after))
            .order(case_actions::id)
            .limit(PAGE)
            .select((
                case_actions::id,
                case_actions::case_id,
                case_actions::actor_id,
                case_actions::actor_label,
                case_actions::action,
                case_actions::from_status,
                case_actions::to_status,
                case_actions::note,
                case_actions::at,
                case_actions::row_hash,
                case_actions::chain_hash,
            ))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for r in &rows {
            report.actions += 1;
            let computed = ActionContent {
                case_id: r.1,
                actor_id: r.2,
                actor_label: &r.3,
                action: &r.4,
                from_status: &r.5,
                to_status: &r.6,
                note: &r.7,
                at: r.8,
            }
            .hash();
            let (head, problem) = check(&prev, &r.9, &r.10, &computed);
            if let (Some(problem), false) = (problem, broken) {
                report.breaks.push(Break {
                    table: "case_actions",
                    row_id: r.0,
                    chain: "case actions".into(),
                    problem,
                });
                broken = true;
            }
            prev = head;
        }
    }
    report.heads.push(("case actions".into(), prev));
    Ok(report)
}
