//! The tamper-evident record in the database: the chain heads (a hospital's in
//! `hospitals.event_chain_head`, the case actions' in their last row), and `verify`, which walks
//! every chain for `shouzhen audit verify`. The hashing itself is the domain's `record`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use shouzhen_domain::record::{self, Break, Report};

use crate::db::DbConn;
use crate::schema::{case_actions, hospitals, intake_events};

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

/// The chain hash of the last case action ([`record::GENESIS`] before the first).
pub fn action_head(conn: &mut DbConn) -> QueryResult<String> {
    Ok(case_actions::table
        .order(case_actions::id.desc())
        .select(case_actions::chain_hash)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_else(|| record::GENESIS.to_string()))
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
    Option<String>,
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
                prev: record::GENESIS.to_string(),
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
                intake_events::call_id,
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
            let computed = record::EventContent {
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
                call_id: r.13.as_deref(),
            }
            .hash();
            // The content hash of the idempotency check covers id, patient and payload too.
            let stored_content = record::content_hash(event_id, r.7.as_deref(), &r.10);
            let (head, problem) = record::check(&walk.prev, &r.11, &r.12, &computed);
            let problem = problem.or((stored_content != *content_hash).then_some(record::CHANGED));
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
                problem: record::TRUNCATED,
            })
        });
        report.breaks.extend(first_break);
        report.heads.push((walk.code, walk.prev));
    }

    let mut prev = record::GENESIS.to_string();
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
            let computed = record::ActionContent {
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
            let (head, problem) = record::check(&prev, &r.9, &r.10, &computed);
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
