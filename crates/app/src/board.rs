//! The public board of emergency rooms (as Beijing published its crowding every day): per
//! hospital, crowding now, closures in force, and substantiated violations of the last 90 days.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use shouzhen_store::QueryResult;
use shouzhen_store::db::DbConn;
use shouzhen_store::reports::Statuses;

/// Arrivals are counted over this many hours against the declared capacity.
pub const CROWDING_HOURS: i64 = 3;

/// Case statuses an inspector has taken up and not dismissed.
pub const SUBSTANTIATED: &[&str] = &[
    "acknowledged",
    "assigned",
    "escalated",
    "forwarded",
    "replied",
    "rectifying",
    "rectified",
    "resolved",
];

/// A hospital's part in the closed loop over the last 90 days.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HospitalLoop {
    /// Replies before their deadline out of forwards and returns, in percent (none forwarded: null)
    pub reply_rate: Option<f64>,
    /// Forwards and returns (each set a reply deadline)
    pub forwards: u32,
    /// Replies or rectifications sent back
    pub returns: u32,
    /// Rectifications reported
    pub rectified: u32,
    /// Cases in rectification past their deadline now
    pub rectification_overdue: i64,
}

/// The loop figures of one hospital, for the board and its scorecard.
pub fn hospital_loop(
    conn: &mut DbConn,
    hospital_id: i64,
    now: NaiveDateTime,
    reply_limit: Duration,
) -> QueryResult<HospitalLoop> {
    let actions =
        shouzhen_store::reports::loop_actions(conn, hospital_id, now - Duration::days(90))?;
    let f = shouzhen_domain::case::loop_figures(&actions, reply_limit);
    Ok(HospitalLoop {
        reply_rate: f.reply_rate(),
        forwards: f.forwards,
        returns: f.returns,
        rectified: f.rectified,
        rectification_overdue: shouzhen_store::reports::rectifications_overdue(
            conn,
            hospital_id,
            now,
        )?,
    })
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoardRow {
    pub code: String,
    pub name: String,
    pub district: String,
    /// `normal`, `busy`, `crowded`, or `unknown` (no capacity declared)
    pub crowding: String,
    /// Arrivals in the last 3 hours
    pub arrivals_recent: i64,
    /// Emergency places the hospital declared
    pub capacity: i32,
    /// Closures in force: department names, or `facility`
    pub closures: Vec<String>,
    /// Cases of the last 90 days that inspectors took up and did not dismiss
    pub violations_90d: i64,
    /// The hospital's answers to the commission over the last 90 days
    #[serde(rename = "loop")]
    pub answers: HospitalLoop,
}

pub fn crowding(arrivals: i64, capacity: i32) -> &'static str {
    if capacity <= 0 {
        return "unknown";
    }
    let ratio = arrivals as f64 / f64::from(capacity);
    if ratio < 0.5 {
        "normal"
    } else if ratio < 1.0 {
        "busy"
    } else {
        "crowded"
    }
}

pub fn board(
    conn: &mut DbConn,
    now: NaiveDateTime,
    reply_limit: Duration,
) -> QueryResult<Vec<BoardRow>> {
    let mut rows = Vec::new();
    for h in shouzhen_store::hospitals::all(conn)?
        .into_iter()
        .filter(|h| !h.disabled)
    {
        let arrivals = shouzhen_store::reports::arrivals_since(
            conn,
            h.id,
            now - Duration::hours(CROWDING_HOURS),
        )?;
        let closure_events =
            shouzhen_store::reports::closure_events_since(conn, h.id, now - Duration::days(60))?;
        let mut closures = Vec::new();
        for (kind, id, at, payload) in &closure_events {
            if kind != "closure_start" || *at > now {
                continue;
            }
            let ended = closure_events
                .iter()
                .any(|(k, i, t, _)| k == "closure_end" && i == id && t >= at && *t <= now);
            if !ended {
                let body: Option<shouzhen_domain::event::EventBody> =
                    serde_json::from_str(payload).ok();
                let label = body
                    .and_then(|b| b.closure)
                    .map(|c| match c.scope {
                        shouzhen_domain::event::ClosureScope::Facility => "facility".to_string(),
                        _ => c.department.unwrap_or_else(|| c.scope.as_str().to_string()),
                    })
                    .unwrap_or_default();
                closures.push(label);
            }
        }
        let violations_90d = shouzhen_store::reports::cases_since(
            conn,
            h.id,
            Statuses::In(SUBSTANTIATED),
            now - Duration::days(90),
        )?;
        let answers = hospital_loop(conn, h.id, now, reply_limit)?;
        rows.push(BoardRow {
            crowding: crowding(arrivals, h.capacity).to_string(),
            code: h.code,
            name: h.name,
            district: h.district,
            arrivals_recent: arrivals,
            capacity: h.capacity,
            closures,
            violations_90d,
            answers,
        });
    }
    Ok(rows)
}

/// A 120 centre's row on the public board: its last 30 days' calls.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CentreRow {
    pub code: String,
    pub name: String,
    pub district: String,
    /// Calls received in the last 30 days
    pub calls: u32,
    /// Of them answered within the answer limit (10 s by default)
    pub answered_in_time: u32,
    /// The share answered within the limit, in percent (none without calls)
    pub share: Option<f64>,
    /// The answer rate (answered within 60 s by default, not abandoned), in percent
    pub answer_rate: Option<f64>,
    /// The share the centre is held to, in percent
    pub required_share: u32,
}

/// Days of calls the board counts.
pub const CENTRE_DAYS: i64 = 30;

/// Each enabled 120 centre's last 30 days, under the settings in force now.
pub fn centres(
    conn: &mut DbConn,
    policy: &shouzhen_domain::policy::Policy,
    now: NaiveDateTime,
) -> QueryResult<Vec<CentreRow>> {
    use shouzhen_domain::dispatch::CallFacts;
    let from = now - Duration::days(CENTRE_DAYS);
    let mut rows = Vec::new();
    for c in shouzhen_store::hospitals::all_of(conn, shouzhen_store::hospitals::DISPATCH)?
        .into_iter()
        .filter(|c| !c.disabled)
    {
        let margin = Duration::hours(1);
        let events =
            shouzhen_store::events::answering_between(conn, c.id, from - margin, now + margin)?;
        let calls: Vec<CallFacts> = CallFacts::group(&events)
            .into_iter()
            .filter(|f| f.received.is_some_and(|r| from <= r.at && r.at <= now))
            .collect();
        let limits = crate::engine::DayLimits::at(policy, &c.jurisdiction, now);
        let f = limits.figures(&calls);
        rows.push(CentreRow {
            code: c.code,
            name: c.name,
            district: c.district,
            calls: f.calls,
            answered_in_time: f.answered_in_time,
            share: f.share(),
            answer_rate: f.answer_rate(),
            required_share: limits.share,
        });
    }
    Ok(rows)
}
