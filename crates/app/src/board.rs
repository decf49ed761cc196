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
        let closures = in_force(conn, h.id, now)?
            .into_iter()
            .map(|c| match c.scope {
                shouzhen_domain::event::ClosureScope::Facility => "facility".to_string(),
                _ => c.department.unwrap_or_else(|| c.scope.as_str().to_string()),
            })
            .collect();
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

/// The closures of a hospital in force at `now` (started within the last 60 days, not ended).
pub fn in_force(
    conn: &mut DbConn,
    hospital_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<shouzhen_domain::event::Closure>> {
    let events =
        shouzhen_store::reports::closure_events_since(conn, hospital_id, now - Duration::days(60))?;
    let mut closures = Vec::new();
    // A closure restated (a later `closure_start` naming its diversion) is one closure.
    let mut seen = std::collections::BTreeSet::new();
    for (kind, id, at, payload) in &events {
        if kind != "closure_start" || *at > now || !seen.insert(id) {
            continue;
        }
        let ended = events
            .iter()
            .any(|(k, i, t, _)| k == "closure_end" && i == id && t >= at && *t <= now);
        if ended {
            continue;
        }
        if let Some(c) = serde_json::from_str::<shouzhen_domain::event::EventBody>(payload)
            .ok()
            .and_then(|b| b.closure)
        {
            closures.push(c);
        }
    }
    Ok(closures)
}

/// A district on the public board: how its community desks fetched sealed-area residents over
/// the last 30 days, and its hospitals' emergency and dialysis closures in force.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DistrictRow {
    pub district: String,
    /// Requests made in the last 30 days whose limit has passed or that were picked up
    /// (those cancelled within their limit left out)
    pub requests: u32,
    /// Of them picked up within their limit (2 hours for special groups, 6 for others)
    pub picked_up_in_time: u32,
    /// The share, in percent (none without requests)
    pub share: Option<f64>,
    /// Emergency and dialysis closures in force: "hospital · unit"
    pub critical_closures: Vec<String>,
}

/// Each district of an enabled hospital or desk: its transport share and critical closures.
pub fn districts(
    conn: &mut DbConn,
    policy: &shouzhen_domain::policy::Policy,
    now: NaiveDateTime,
) -> QueryResult<Vec<DistrictRow>> {
    use shouzhen_domain::rules::{RuleId, transport_wait};
    let mut rows: std::collections::BTreeMap<String, DistrictRow> = Default::default();
    let row = |rows: &mut std::collections::BTreeMap<String, DistrictRow>, d: &str| {
        rows.entry(d.to_string()).or_insert_with(|| DistrictRow {
            district: d.to_string(),
            requests: 0,
            picked_up_in_time: 0,
            share: None,
            critical_closures: Vec::new(),
        });
    };
    let from = now - Duration::days(CENTRE_DAYS);
    for desk in shouzhen_store::hospitals::all_of(conn, shouzhen_store::hospitals::COMMUNITY)?
        .into_iter()
        .filter(|d| !d.disabled)
    {
        let ids = shouzhen_store::events::requests_between(conn, desk.id, from, now)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let rows_of = shouzhen_store::events::transport_rows(conn, desk.id, &ids)?;
        row(&mut rows, &desk.district);
        let Some(r) = rows.get_mut(&desk.district) else {
            continue;
        };
        for req in shouzhen_domain::transport::RequestFacts::group(&rows_of) {
            let Some(made) = req.requested.filter(|m| from <= m.at && m.at <= now) else {
                continue;
            };
            let s = policy.setting(RuleId::TransportWait, &desk.jurisdiction, made.at);
            let due = made.at + transport_wait::limit_for(&req, &s);
            let in_time = req.picked_up.is_some_and(|p| p.at <= due && p.at <= now);
            let cancelled_in_time =
                req.picked_up.is_none() && req.cancelled.is_some_and(|c| c.at <= due);
            if cancelled_in_time || (!in_time && due > now) {
                continue;
            }
            r.requests += 1;
            r.picked_up_in_time += u32::from(in_time);
        }
    }
    for h in shouzhen_store::hospitals::all(conn)?
        .into_iter()
        .filter(|h| !h.disabled)
    {
        row(&mut rows, &h.district);
        for c in in_force(conn, h.id, now)? {
            use shouzhen_domain::event::ClosureKind;
            if matches!(c.kind, Some(ClosureKind::Emergency | ClosureKind::Dialysis)) {
                let unit = shouzhen_domain::rules::closure_too_long::closed_part(&c);
                if let Some(r) = rows.get_mut(&h.district) {
                    r.critical_closures.push(format!("{} · {unit}", h.name));
                }
            }
        }
    }
    Ok(rows
        .into_values()
        .map(|mut r| {
            r.share = (r.requests > 0)
                .then(|| f64::from(r.picked_up_in_time) * 100.0 / f64::from(r.requests));
            r
        })
        .collect())
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
