//! The sweeper: at least once a minute, finds the deadlines that have passed (through the
//! partial index of open deadlines by due time, never a scan of the events) and re-evaluates
//! their subjects.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{NaiveDate, NaiveDateTime};
use shouzhen_store::QueryResult;

use crate::engine::{Effects, Engine};
use crate::mail::Notifier;
use crate::metrics::Metrics;
use shouzhen_domain::dispatch;
use shouzhen_domain::policy::Policy;
use shouzhen_domain::rules::{RuleId, closure_too_long};
use shouzhen_store::db::{self, DbConn, Pool};
use shouzhen_store::{self, deadlines};

/// How many deadlines one pass takes at most; a backlog is worked off over several passes.
const BATCH: i64 = 500;

/// How many patient deadlines are judged in one transaction.
const PATIENT_GROUP: usize = 100;

/// How many day deadlines (two per centre and day) are judged in one transaction.
const DAY_GROUP: usize = 200;

/// Evaluates one deadline's subject.
fn evaluate(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    d: &deadlines::Deadline,
) -> QueryResult<Effects> {
    if d.rule == crate::workflow::REMIND || d.rule == crate::workflow::SUPERVISE {
        crate::workflow::check_deadline(conn, engine.notifier, d, engine.now)?;
        return Ok(Effects::default());
    }
    if d.rule == crate::notify::UNACKNOWLEDGED {
        crate::notify::check_acknowledged(conn, engine.notifier, &d.subject, engine.now)?;
        deadlines::settle_if_due(conn, d.id, engine.now)?;
        return Ok(Effects::default());
    }
    let Some(rule) = RuleId::parse(&d.rule) else {
        deadlines::settle(conn, &d.rule, &d.subject)?;
        return Ok(Effects::default());
    };
    let effects = match rule {
        RuleId::HandoverDelay | RuleId::CriticalTestDelay | RuleId::IntakeUnloggedArrival => {
            let row = d
                .subject
                .strip_prefix("ev:")
                .and_then(|s| s.parse::<i64>().ok());
            match row
                .map(|r| shouzhen_store::events::anchor(conn, r))
                .transpose()?
                .flatten()
            {
                Some((Some(key), at)) => engine.patient(conn, &key, at, at)?,
                _ => Effects::default(),
            }
        }
        RuleId::ClosureTooLong | RuleId::ContinuityNoDiversion => {
            match closure_too_long::parse_closure_subject(&d.subject) {
                Some((hospital_id, closure_id)) => engine.closure(conn, hospital_id, closure_id)?,
                None => Effects::default(),
            }
        }
        RuleId::TransportWait | RuleId::TransportNoReturn => {
            match shouzhen_domain::transport::parse_request_subject(&d.subject) {
                Some((desk, request)) => engine.transport(
                    conn,
                    &BTreeMap::from([((desk, request), (d.due_at, d.due_at))]),
                )?,
                None => Effects::default(),
            }
        }
        RuleId::DispatchDelay => match dispatch::parse_call_subject(&d.subject) {
            Some(call) => engine.calls(conn, &BTreeSet::from([call]))?.effects,
            None => Effects::default(),
        },
        RuleId::DispatchAnswerRate | RuleId::DispatchUnanswered => {
            match dispatch::parse_day_subject(&d.subject) {
                Some(day) => engine.centre_days(conn, &BTreeSet::from([day]))?,
                None => Effects::default(),
            }
        }
        RuleId::FeedSilent => match d.hospital_id {
            Some(h) => engine.feed(conn, h)?,
            None => Effects::default(),
        },
        // `complaint:ID` (unanswered, unlogged) or `complaint:ID:ROUND` (overdue): the complaint's rules.
        RuleId::ComplaintUnanswered | RuleId::ComplaintOverdue | RuleId::ComplaintUnlogged => {
            match d
                .subject
                .strip_prefix("complaint:")
                .and_then(|s| s.split(':').next())
                .and_then(|s| s.parse().ok())
            {
                Some(id) => engine.complaint(conn, id)?,
                None => Effects::default(),
            }
        }
        _ => Effects::default(),
    };
    // Whatever the verdict, this deadline is dealt with unless the engine moved it.
    deadlines::settle_if_due(conn, d.id, engine.now)?;
    Ok(effects)
}

/// The row id of the event a patient rule's deadline hangs on (`ev:ROW`), if it is one.
fn patient_anchor(d: &deadlines::Deadline) -> Option<i64> {
    matches!(
        RuleId::parse(&d.rule),
        Some(RuleId::HandoverDelay | RuleId::CriticalTestDelay | RuleId::IntakeUnloggedArrival)
    )
    .then(|| d.subject.strip_prefix("ev:")?.parse().ok())
    .flatten()
}

/// The (centre, China day) a day rule's deadline hangs on (`day:CENTRE:DATE`), if it is one.
fn day_of(d: &deadlines::Deadline) -> Option<(i64, NaiveDate)> {
    matches!(
        RuleId::parse(&d.rule),
        Some(RuleId::DispatchAnswerRate | RuleId::DispatchUnanswered)
    )
    .then(|| dispatch::parse_day_subject(&d.subject))
    .flatten()
}

/// Judges the patients of several due deadlines together: one read of their anchors, one lock
/// statement, one read of their histories, one settling update, one commit.
fn evaluate_patients(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    due: &[(i64, &deadlines::Deadline)],
) -> QueryResult<Effects> {
    let rows: Vec<i64> = due.iter().map(|(row, _)| *row).collect();
    let anchors = shouzhen_store::events::anchors(conn, &rows)?;
    let keys: BTreeSet<String> = anchors.iter().filter_map(|(k, _)| k.clone()).collect();
    let times = anchors.iter().map(|(_, at)| *at);
    let effects = match (times.clone().min(), times.max()) {
        (Some(from), Some(to)) => engine.patients(conn, &keys, from, to)?,
        _ => Effects::default(),
    };
    let ids: Vec<i64> = due.iter().map(|(_, d)| d.id).collect();
    deadlines::settle_all_if_due(conn, &ids, engine.now)?;
    Ok(effects)
}

/// One pass over the due deadlines. Patient deadlines (a handover or a test not recorded in
/// time: nearly all of them) are judged `PATIENT_GROUP` at a time in one transaction; any other,
/// or a group that fails, one deadline per transaction. Returns the cases opened.
pub fn sweep(
    conn: &mut DbConn,
    policy: &Policy,
    notifier: &Notifier,
    now: NaiveDateTime,
) -> QueryResult<Effects> {
    let engine = Engine::new(policy, notifier, now);
    let mut effects = Effects::default();
    let due = deadlines::due(conn, now, BATCH)?;
    let mut patients: Vec<(i64, &deadlines::Deadline)> = Vec::new();
    let mut days: Vec<((i64, NaiveDate), &deadlines::Deadline)> = Vec::new();
    let mut one_by_one: Vec<&deadlines::Deadline> = Vec::new();
    for d in &due {
        match (patient_anchor(d), day_of(d)) {
            (Some(row), _) => patients.push((row, d)),
            (None, Some(day)) => days.push((day, d)),
            (None, None) => one_by_one.push(d),
        }
    }
    // A centre's day has two deadlines (answer rate, unanswered) that one judgement settles.
    for group in days.chunks(DAY_GROUP) {
        let judged = db::write_tx(conn, |c| {
            let set: BTreeSet<(i64, NaiveDate)> = group.iter().map(|(day, _)| *day).collect();
            let effects = engine.centre_days(c, &set)?;
            let ids: Vec<i64> = group.iter().map(|(_, d)| d.id).collect();
            deadlines::settle_all_if_due(c, &ids, engine.now)?;
            QueryResult::Ok(effects)
        });
        match judged {
            Ok(e) => effects.extend(e),
            Err(e) => {
                tracing::warn!(error = %e, deadlines = group.len(), "sweeper could not judge a group of centre days; judging them one by one");
                one_by_one.extend(group.iter().map(|(_, d)| *d));
            }
        }
    }
    for group in patients.chunks(PATIENT_GROUP) {
        match db::write_tx(conn, |c| evaluate_patients(c, &engine, group)) {
            Ok(e) => effects.extend(e),
            Err(e) => {
                tracing::warn!(error = %e, deadlines = group.len(), "sweeper could not judge a group of patients; judging them one by one");
                one_by_one.extend(group.iter().map(|(_, d)| *d));
            }
        }
    }
    for d in one_by_one {
        match db::write_tx(conn, |c| evaluate(c, &engine, d)) {
            Ok(e) => effects.extend(e),
            Err(e) => {
                tracing::error!(rule = %d.rule, deadline = d.id, error = %e, "sweeper could not evaluate a deadline")
            }
        }
    }
    Ok(effects)
}

/// Runs passes every `interval` until `stop` fires; each pass also writes the daily digest once
/// its hour has come.
pub async fn run(
    pool: Pool,
    policy: Arc<Policy>,
    notifier: Arc<Notifier>,
    metrics: Arc<Metrics>,
    interval: StdDuration,
    digest_hour: u32,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let (pool, policy, notifier) = (pool.clone(), policy.clone(), notifier.clone());
        let result = tokio::task::spawn_blocking(move || -> Result<Effects, String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let now = shouzhen_store::now();
            let effects = sweep(&mut conn, &policy, &notifier, now).map_err(|e| e.to_string())?;
            db::write_tx(&mut conn, |c| {
                crate::notify::daily_digest(c, &notifier, digest_hour, now)
            })
            .map_err(|e| e.to_string())?;
            let purged = crate::complaints::purge_expired(&mut conn, policy.retention_days(), now)
                .map_err(|e| e.to_string())?;
            if purged > 0 {
                tracing::info!(
                    complaints = purged,
                    "deleted contact details past their retention"
                );
            }
            Ok(effects)
        })
        .await;
        match result {
            Ok(Ok(effects)) => {
                for case in &effects.opened {
                    metrics
                        .cases_opened
                        .with_label_values(&[case.rule.as_str()])
                        .inc();
                    tracing::info!(case = case.id, rule = %case.rule, "case opened by the sweeper");
                }
                metrics.sweeps.set(chrono::Utc::now().timestamp());
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "sweeper pass failed"),
            Err(e) => tracing::error!(error = %e, "sweeper task panicked"),
        }
    }
}
