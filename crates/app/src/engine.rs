//! The rule engine: loads the evidence of the subjects an ingest (or a deadline) touched, runs
//! the rules over it, and stores what they conclude: cases opened once, deadlines for the
//! sweeper, cases withdrawn when later evidence clears them. Everything here runs inside the
//! caller's transaction.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use shouzhen_store::QueryResult;

use crate::mail::Notifier;
use shouzhen_domain::dispatch;
use shouzhen_domain::policy::Policy;
use shouzhen_domain::rules::{
    self, Outcome, PatientHistory, RuleId, Setting, Verdict, closure_too_long, critical_test_delay,
    dispatch_answer_rate, dispatch_delay, dispatch_fleet_short, dispatch_unanswered, feed_silent,
    first_diagnosis_shirked, handover_delay, refusal, special_group_refused,
};
use shouzhen_domain::transport;
use shouzhen_store::cases::{Action, Case, REINSTATE, WITHDRAW};
use shouzhen_store::db::{self, DbConn};
use shouzhen_store::deadlines::{self, Change};

/// How far around the touched events a patient's history is read: episodes are at most a few
/// days long, so a month each side holds every event that can matter.
const HISTORY_MARGIN_DAYS: i64 = 30;
/// How far around a desk's touched requests its other requests are judged with them
/// (`transport.priority`: the ordinary request served before a waiting special one).
pub const PRIORITY_WINDOW: Duration = Duration::days(1);
/// Feeds are noted alive to the minute.
const FEED_GRAIN: Duration = Duration::minutes(1);

/// What [`Engine::calls`] found besides its effects.
#[derive(Debug, Default)]
pub struct CallsJudged {
    pub effects: Effects,
    /// The (centre, China day) the calls were received on.
    pub days: BTreeSet<(i64, NaiveDate)>,
    /// The patients the calls brought to a hospital, with the `at_hospital` time.
    pub patients: Vec<(String, NaiveDateTime)>,
}

/// A centre's calls received on `date` (none while the day is not over: the day rules wait
/// for its end) and its fleet statuses of the day. The answers are read `margin` either side
/// of the day (at least the unanswered limit), so that a call received at 23:59 and answered
/// after midnight is whole, and one answered later still counts as unanswered either way.
pub fn centre_day_events(
    conn: &mut DbConn,
    centre_id: i64,
    date: NaiveDate,
    now: NaiveDateTime,
    margin: Duration,
) -> QueryResult<(Vec<dispatch::CallFacts>, Vec<dispatch::FleetStatus>)> {
    let (start, end) = (
        dispatch::day_start(date),
        dispatch::day_start(date + Duration::days(1)),
    );
    let calls = if now < end {
        Vec::new()
    } else {
        let events = shouzhen_store::events::answering_between(
            conn,
            centre_id,
            start - margin,
            end + margin,
        )?;
        dispatch::CallFacts::group(&events)
            .into_iter()
            .filter(|c| c.day() == Some(date))
            .collect()
    };
    let fleet = shouzhen_store::events::fleet_between(conn, centre_id, start, end)?;
    Ok((calls, fleet))
}

/// How far beyond its day a centre's answers are read: past the longer of the two limits in
/// force that day, with five minutes for clocks that disagree.
fn answering_margin(policy: &Policy, jurisdiction: &str, date: NaiveDate) -> Duration {
    let limits = DayLimits::at(policy, jurisdiction, dispatch::day_start(date));
    limits.answer.max(limits.unanswered) + Duration::minutes(5)
}

/// What a centre's calls are held to at a time: the answer limit and share of
/// `dispatch.answer_rate`, the limit of `dispatch.unanswered`.
pub struct DayLimits {
    pub answer: Duration,
    pub unanswered: Duration,
    /// In percent.
    pub share: u32,
}

impl DayLimits {
    pub fn at(policy: &Policy, jurisdiction: &str, at: NaiveDateTime) -> Self {
        let rate = policy.setting(RuleId::DispatchAnswerRate, jurisdiction, at);
        Self {
            answer: rate.limit_or_default(RuleId::DispatchAnswerRate),
            unanswered: policy
                .setting(RuleId::DispatchUnanswered, jurisdiction, at)
                .limit_or_default(RuleId::DispatchUnanswered),
            share: rate.count.unwrap_or(dispatch_answer_rate::DEFAULT_SHARE),
        }
    }

    /// The figures of `calls` under these limits.
    pub fn figures(&self, calls: &[dispatch::CallFacts]) -> dispatch::DayFigures {
        dispatch::DayFigures::of(calls, self.answer, self.unanswered)
    }
}

/// A centre's day as its case page shows it: the figures under the settings in force that day.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DayReport {
    /// The China date
    pub date: NaiveDate,
    pub figures: dispatch::DayFigures,
    /// The share answered within the answer limit, in percent
    pub share: Option<f64>,
    /// The answer rate (answered within the unanswered limit), in percent
    pub answer_rate: Option<f64>,
    pub answer_limit_seconds: i64,
    pub unanswered_limit_seconds: i64,
    /// The share required, in percent
    pub required_share: u32,
}

/// The figures of a centre's China day (read whether or not the day is over).
pub fn day_report(
    conn: &mut DbConn,
    policy: &Policy,
    centre_id: i64,
    date: NaiveDate,
) -> QueryResult<Option<DayReport>> {
    let Some(centre) = shouzhen_store::hospitals::by_id(conn, centre_id)? else {
        return Ok(None);
    };
    let margin = answering_margin(policy, &centre.jurisdiction, date);
    let (calls, _) = centre_day_events(conn, centre_id, date, NaiveDateTime::MAX, margin)?;
    let limits = DayLimits::at(policy, &centre.jurisdiction, dispatch::day_start(date));
    let figures = limits.figures(&calls);
    Ok(Some(DayReport {
        date,
        share: figures.share(),
        answer_rate: figures.answer_rate(),
        figures,
        answer_limit_seconds: limits.answer.num_seconds(),
        unanswered_limit_seconds: limits.unanswered.num_seconds(),
        required_share: limits.share,
    }))
}

/// What the engine changed, for the caller to act on after commit (metrics, logs).
#[derive(Debug, Default)]
pub struct Effects {
    pub opened: Vec<Case>,
}

impl Effects {
    pub fn extend(&mut self, other: Effects) {
        self.opened.extend(other.opened);
    }
}

pub struct Engine<'a> {
    pub policy: &'a Policy,
    pub notifier: &'a Notifier,
    pub now: NaiveDateTime,
}

impl<'a> Engine<'a> {
    pub fn new(policy: &'a Policy, notifier: &'a Notifier, now: NaiveDateTime) -> Self {
        Self {
            policy,
            notifier,
            now,
        }
    }

    fn setting(&self) -> impl Fn(RuleId, &str, NaiveDateTime) -> Setting + '_ {
        move |rule, jurisdiction, at| self.policy.setting(rule, jurisdiction, at)
    }

    /// Every patient rule over one patient's events around `[from, to]`.
    pub fn patient(
        &self,
        conn: &mut DbConn,
        patient_key: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Effects> {
        self.patients(conn, &BTreeSet::from([patient_key.to_string()]), from, to)
    }

    /// Every patient rule over several patients' events around `[from, to]`: their locks in one
    /// statement, their histories in one query, their verdicts stored together.
    pub fn patients(
        &self,
        conn: &mut DbConn,
        patient_keys: &BTreeSet<String>,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Effects> {
        if patient_keys.is_empty() {
            return Ok(Effects::default());
        }
        let subjects: Vec<String> = patient_keys
            .iter()
            .map(|k| format!("patient:{k}"))
            .collect();
        db::lock_subjects(conn, &subjects)?;
        let margin = Duration::days(HISTORY_MARGIN_DAYS);
        let keys: Vec<&str> = patient_keys.iter().map(String::as_str).collect();
        let mut histories =
            shouzhen_store::events::for_patients(conn, &keys, from - margin, to + margin)?;
        let mut legs =
            shouzhen_store::events::legs_for_patients(conn, &keys, from - margin, to + margin)?;
        let mut verdicts = Vec::new();
        for key in patient_keys {
            let events = histories.remove(key).unwrap_or_default();
            let legs = legs.remove(key).unwrap_or_default();
            if !events.is_empty() || !legs.is_empty() {
                let history = PatientHistory::new(events).with_legs(legs);
                verdicts.extend(self.patient_verdicts(&history));
            }
        }
        self.apply(conn, verdicts)
    }

    /// The verdicts of the patient rules (pure: no database).
    pub fn patient_verdicts(&self, history: &PatientHistory) -> Vec<Verdict> {
        let setting = self.setting();
        let mut verdicts = rules::intake_unlogged_arrival::evaluate(history, &setting, self.now);
        let Some(first) = history.events.first() else {
            // Only ambulances the hospitals never logged: their handover clocks.
            verdicts.extend(handover_delay::evaluate(
                history,
                &setting,
                Duration::zero(),
                self.now,
            ));
            return verdicts;
        };
        // Episodes are cut by the first-diagnosis rule's window where the patient's care began.
        let gap = setting(
            RuleId::FirstDiagnosisShirked,
            &first.jurisdiction,
            first.occurred_at,
        )
        .limit_or_default(RuleId::FirstDiagnosisShirked);
        verdicts.extend(refusal::evaluate(history, &setting, gap));
        verdicts.extend(special_group_refused::evaluate(history, &setting, gap));
        verdicts.extend(rules::designated_refused::evaluate(history, &setting, gap));
        verdicts.extend(rules::referral_unapproved::evaluate(
            history,
            &setting,
            &|j| self.policy.place(j),
        ));
        verdicts.extend(handover_delay::evaluate(history, &setting, gap, self.now));
        verdicts.extend(critical_test_delay::evaluate(
            history, &setting, gap, self.now,
        ));
        verdicts.extend(first_diagnosis_shirked::evaluate(history, &setting));
        verdicts
    }

    /// `dispatch.delay` over a 120 centre's calls, given as (centre id, call id). Returns,
    /// besides the effects, the days the calls belong to and the patients they brought to a
    /// hospital, for the caller to judge with the rest of what it touched.
    pub fn calls(
        &self,
        conn: &mut DbConn,
        calls: &BTreeSet<(i64, String)>,
    ) -> QueryResult<CallsJudged> {
        let mut out = CallsJudged::default();
        if calls.is_empty() {
            return Ok(out);
        }
        let subjects: Vec<String> = calls
            .iter()
            .map(|(c, id)| dispatch::call_subject(*c, id))
            .collect();
        db::lock_subjects(conn, &subjects)?;
        let mut by_centre: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for (c, id) in calls {
            by_centre.entry(*c).or_default().push(id);
        }
        let setting = self.setting();
        let mut verdicts = Vec::new();
        for (centre_id, ids) in by_centre {
            let Some(centre) = shouzhen_store::hospitals::by_id(conn, centre_id)? else {
                continue;
            };
            let events = shouzhen_store::events::calls(conn, centre_id, &ids)?;
            let who = dispatch_delay::Centre {
                id: centre.id,
                name: &centre.name,
                jurisdiction: &centre.jurisdiction,
            };
            for facts in dispatch::CallFacts::group(&events) {
                if let Some(day) = facts.day() {
                    out.days.insert((centre_id, day));
                }
                verdicts.extend(dispatch_delay::evaluate(&who, &facts, &setting, self.now));
            }
            out.patients
                .extend(shouzhen_store::events::patients_of_calls(
                    conn, centre_id, &ids,
                )?);
        }
        out.effects = self.apply(conn, verdicts)?;
        Ok(out)
    }

    /// The day rules over 120 centres' China days, given as (centre id, date):
    /// `dispatch.answer_rate` and `dispatch.unanswered` once the day is over (until then a
    /// deadline at its end, and its calls are not read), `dispatch.fleet_short` at once.
    pub fn centre_days(
        &self,
        conn: &mut DbConn,
        days: &BTreeSet<(i64, NaiveDate)>,
    ) -> QueryResult<Effects> {
        if days.is_empty() {
            return Ok(Effects::default());
        }
        let subjects: Vec<String> = days
            .iter()
            .map(|(c, d)| dispatch::day_subject(*c, *d))
            .collect();
        db::lock_subjects(conn, &subjects)?;
        let setting = self.setting();
        let mut verdicts = Vec::new();
        let mut centres = HashMap::new();
        for (centre_id, date) in days {
            let centre = match centres.entry(*centre_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(shouzhen_store::hospitals::by_id(conn, *centre_id)?),
            };
            let Some(centre) = centre.as_ref() else {
                continue;
            };
            let margin = answering_margin(self.policy, &centre.jurisdiction, *date);
            let (calls, fleet) = centre_day_events(conn, *centre_id, *date, self.now, margin)?;
            let day = dispatch::CentreDay {
                centre_id: *centre_id,
                centre_name: &centre.name,
                jurisdiction: &centre.jurisdiction,
                date: *date,
                calls: &calls,
                fleet: &fleet,
            };
            verdicts.push(dispatch_answer_rate::evaluate(&day, &setting, self.now));
            verdicts.push(dispatch_unanswered::evaluate(&day, &setting, self.now));
            verdicts.extend(dispatch_fleet_short::evaluate(&day, &setting));
        }
        self.apply(conn, verdicts)
    }

    /// The transport rules over community desks' requests, given as (desk id, request id) with
    /// the span of their touched events: `transport.wait`, `transport.no_return` (deadlines
    /// until they are decided) and `transport.priority`. Every request of the desk with an
    /// event within [`PRIORITY_WINDOW`] of the span is judged with them, so that a special
    /// request and the ordinary one served before it are judged together in whichever order
    /// they arrive.
    pub fn transport(
        &self,
        conn: &mut DbConn,
        requests: &BTreeMap<(i64, String), (NaiveDateTime, NaiveDateTime)>,
    ) -> QueryResult<Effects> {
        let mut by_desk: BTreeMap<i64, (NaiveDateTime, NaiveDateTime, BTreeSet<&str>)> =
            BTreeMap::new();
        for ((desk, id), (from, to)) in requests {
            let e = by_desk
                .entry(*desk)
                .or_insert((*from, *to, BTreeSet::new()));
            e.0 = e.0.min(*from);
            e.1 = e.1.max(*to);
            e.2.insert(id);
        }
        let setting = self.setting();
        let mut verdicts = Vec::new();
        for (desk_id, (from, to, touched)) in by_desk {
            let Some(desk) = shouzhen_store::hospitals::by_id(conn, desk_id)? else {
                continue;
            };
            let mut ids: BTreeSet<String> = shouzhen_store::events::requests_between(
                conn,
                desk_id,
                from - PRIORITY_WINDOW,
                to + PRIORITY_WINDOW,
            )?
            .into_iter()
            .collect();
            ids.extend(touched.iter().map(|s| s.to_string()));
            let subjects: Vec<String> = ids
                .iter()
                .map(|id| transport::request_subject(desk_id, id))
                .collect();
            db::lock_subjects(conn, &subjects)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let rows = shouzhen_store::events::transport_rows(conn, desk_id, &ids)?;
            let facts = transport::RequestFacts::group(&rows);
            let who = rules::Source {
                id: desk.id,
                name: &desk.name,
                jurisdiction: &desk.jurisdiction,
            };
            for request in &facts {
                verdicts.extend(rules::transport_wait::evaluate(
                    &who, request, &setting, self.now,
                ));
                verdicts.extend(rules::transport_no_return::evaluate(
                    &who, request, &setting, self.now,
                ));
                verdicts.extend(rules::transport_priority::evaluate(
                    &who, request, &facts, &setting,
                ));
            }
        }
        self.apply(conn, verdicts)
    }

    /// The closure rules over one closure: `closure.too_long`, `closure.critical_unit`,
    /// `continuity.no_diversion`.
    pub fn closure(
        &self,
        conn: &mut DbConn,
        hospital_id: i64,
        closure_id: &str,
    ) -> QueryResult<Effects> {
        db::lock_subject(
            conn,
            &closure_too_long::closure_subject(hospital_id, closure_id),
        )?;
        let setting = self.setting();
        // Past the diversion's limit, only the first end matters to the rules.
        let events =
            shouzhen_store::events::for_closure_rules(conn, hospital_id, closure_id, |start| {
                setting(
                    RuleId::ContinuityNoDiversion,
                    &start.jurisdiction,
                    start.occurred_at,
                )
                .limit_or_default(RuleId::ContinuityNoDiversion)
            })?;
        let verdicts = [
            closure_too_long::evaluate(&events, &setting, self.now),
            rules::closure_critical_unit::evaluate(&events, &setting),
            rules::continuity_no_diversion::evaluate(&events, &setting, self.now),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.apply(conn, verdicts)
    }

    /// The silent-feed rule for one hospital.
    pub fn feed(&self, conn: &mut DbConn, hospital_id: i64) -> QueryResult<Effects> {
        let Some(h) = shouzhen_store::hospitals::by_id(conn, hospital_id)? else {
            return Ok(Effects::default());
        };
        let Some(last) = h.last_received_at else {
            return Ok(Effects::default());
        };
        let verdict = feed_silent::evaluate(
            h.id,
            &h.name,
            &h.jurisdiction,
            last,
            &self.setting(),
            self.now,
        );
        self.apply(conn, vec![verdict])
    }

    /// The rules of one complaint: `complaint.unanswered` (acknowledged in time),
    /// `complaint.overdue` (its hospital answered in time, this round) and
    /// `complaint.reopened` (reopened twice).
    pub fn complaint(&self, conn: &mut DbConn, complaint_id: i64) -> QueryResult<Effects> {
        let Some((c, jurisdiction)) =
            shouzhen_store::complaints::with_jurisdiction(conn, complaint_id)?
        else {
            return Ok(Effects::default());
        };
        let setting = self.setting();
        let mut verdicts = vec![rules::complaint_unanswered::evaluate(
            c.id,
            &c.tracking_code,
            c.hospital_id,
            &jurisdiction,
            c.created_at,
            c.acknowledged_at,
            &setting,
            self.now,
        )];
        let round = rules::complaint_overdue::Round {
            complaint_id: c.id,
            tracking_code: &c.tracking_code,
            hospital_id: c.hospital_id,
            jurisdiction: &jurisdiction,
            forwarded_at: c.forwarded_at,
            answer_due: c.answer_due,
            answered_at: c.answered_at,
            reopened: c.reopened,
        };
        verdicts.extend(rules::complaint_overdue::evaluate(
            &round, &setting, self.now,
        ));
        let unlogged = rules::complaint_unlogged::Complaint {
            id: c.id,
            tracking_code: &c.tracking_code,
            category: &c.category,
            hospital_id: c.hospital_id,
            jurisdiction: &jurisdiction,
            occurred_at: c.occurred_at,
            created_at: c.created_at,
        };
        let (logged, around) = match c.hospital_id {
            Some(h) if rules::complaint_unlogged::applies_to(&c.category) => {
                let (from, until) = rules::complaint_unlogged::window(&unlogged, &setting);
                (
                    shouzhen_store::events::ids_in_window(
                        conn,
                        h,
                        &["refusal", "transfer", "arrival"],
                        from,
                        until,
                        1,
                    )?,
                    shouzhen_store::events::ids_in_window(conn, h, &[], from, until, 50)?,
                )
            }
            _ => (Vec::new(), Vec::new()),
        };
        verdicts.push(rules::complaint_unlogged::evaluate(
            &unlogged, &logged, &around, &setting, self.now,
        ));
        if c.reopened > 0 {
            verdicts.push(rules::complaint_reopened::evaluate(
                c.id,
                &c.tracking_code,
                c.hospital_id,
                &jurisdiction,
                c.reopened,
                c.forwarded_at.unwrap_or(c.created_at),
                &setting,
            ));
        }
        self.apply(conn, verdicts)
    }

    /// `complaint.cluster` for one hospital, over the complaints filed around `at`.
    pub fn complaint_cluster(
        &self,
        conn: &mut DbConn,
        hospital_id: i64,
        at: NaiveDateTime,
    ) -> QueryResult<Effects> {
        db::lock_subject(conn, &format!("complaints:{hospital_id}"))?;
        let Some(h) = shouzhen_store::hospitals::by_id(conn, hospital_id)? else {
            return Ok(Effects::default());
        };
        let window = self
            .policy
            .setting(RuleId::ComplaintCluster, &h.jurisdiction, at)
            .limit_or_default(RuleId::ComplaintCluster);
        // Clusters start at a complaint; reading two windows back finds the one `at` belongs to.
        let complaints = shouzhen_store::complaints::for_cluster(
            conn,
            hospital_id,
            at - window * 2,
            at + window,
        )?;
        let verdicts = rules::complaint_cluster::evaluate(
            h.id,
            &h.name,
            &h.jurisdiction,
            &complaints,
            &self.setting(),
        );
        self.apply(conn, verdicts)
    }

    /// Whether a feed last noted alive at `last` is due to be noted again now (feeds are noted
    /// to the minute: the silence limit is hours long). The same test as `hospitals::touch`
    /// makes in SQL, where it stays for callers that hold no lock on the hospital's row.
    pub fn feed_note_due(&self, last: Option<NaiveDateTime>) -> bool {
        last.is_none_or(|t| t <= self.now - FEED_GRAIN || t > self.now)
    }

    /// Notes that hospitals' feeds are alive now, given as (id, jurisdiction): their silence
    /// deadlines move forward. One statement for the hospitals' rows, one for the deadlines;
    /// none for no hospitals.
    pub fn feed_alive(&self, conn: &mut DbConn, hospitals: &[(i64, &str)]) -> QueryResult<()> {
        if hospitals.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = hospitals.iter().map(|(id, _)| *id).collect();
        let touched = shouzhen_store::hospitals::touch(conn, &ids, self.now, FEED_GRAIN)?;
        let mut changes = deadlines::Changes::new();
        for (id, jurisdiction) in hospitals {
            if !touched.contains(id) {
                continue;
            }
            let limit = self
                .policy
                .setting(RuleId::FeedSilent, jurisdiction, self.now)
                .limit_or_default(RuleId::FeedSilent);
            changes.insert(
                (
                    RuleId::FeedSilent.as_str().into(),
                    feed_deadline_subject(*id),
                ),
                Change::Schedule {
                    hospital_id: Some(*id),
                    due_at: self.now + limit,
                },
            );
        }
        deadlines::write(conn, &changes)
    }

    /// Stores verdicts: cases for violations, deadlines for pending subjects, withdrawals for
    /// cleared ones. What is stored already is read first (two queries for all verdicts), and
    /// the changes are written together: a verdict that changes nothing costs no round trip,
    /// and many verdicts cost the statements of one.
    pub fn apply(&self, conn: &mut DbConn, verdicts: Vec<Verdict>) -> QueryResult<Effects> {
        let mut effects = Effects::default();
        let mut known = Known::load(conn, &verdicts)?;
        let mut districts: HashMap<i64, String> = HashMap::new();
        // Deadline changes are written together at the end: one upsert, one update per rule.
        let mut changes = deadlines::Changes::new();
        // New cases too: one insert for the cases, one for their links, one for their actions.
        let mut opening: Vec<shouzhen_store::cases::NewViolation> = Vec::new();
        let mut to_open: HashMap<(&'static str, String), usize> = HashMap::new();
        // Cases that stand already: the evidence they gain, the withdrawn ones the evidence
        // reinstates, the untouched ones it withdraws, and those under review it clears.
        let mut gained: BTreeMap<i64, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
        let mut reinstate: Vec<i64> = Vec::new();
        let mut withdraw: Vec<(i64, RuleId, String)> = Vec::new();
        let mut under_review: Vec<(RuleId, String)> = Vec::new();
        for v in verdicts {
            let rule = v.rule.as_str();
            let deadline_subject = deadline_subject(&v);
            let deadline_key = (rule, deadline_subject.clone());
            match v.outcome {
                Outcome::Violation(finding) => {
                    if known.deadlines.remove(&deadline_key).is_some() {
                        changes.insert((rule.into(), deadline_subject), Change::Settle);
                    }
                    // A case that stands already gains any new evidence (and is reinstated if
                    // later evidence had withdrawn it).
                    if let Some((id, status)) = known.cases.get(&(rule, v.subject.clone())) {
                        if status == "withdrawn" {
                            reinstate.push(*id);
                        }
                        let (events, complaints) = gained.entry(*id).or_default();
                        events.extend(finding.evidence);
                        complaints.extend(finding.complaints);
                        continue;
                    }
                    let district = match v.hospital_id {
                        Some(id) => match districts.get(&id) {
                            Some(d) => d.clone(),
                            None => {
                                let d = shouzhen_store::hospitals::by_id(conn, id)?
                                    .map(|h| h.district)
                                    .unwrap_or_default();
                                districts.insert(id, d.clone());
                                d
                            }
                        },
                        None => String::new(),
                    };
                    // Opened together after the loop; the same subject twice gains both
                    // findings' evidence.
                    match to_open.entry((rule, v.subject.clone())) {
                        Entry::Occupied(known) => {
                            let f = &mut opening[*known.get()].finding;
                            f.evidence.extend(finding.evidence);
                            f.complaints.extend(finding.complaints);
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(opening.len());
                            opening.push(shouzhen_store::cases::NewViolation {
                                rule: v.rule,
                                subject: v.subject,
                                hospital_id: v.hospital_id,
                                district,
                                finding,
                            });
                        }
                    }
                }
                Outcome::Pending { due } => {
                    if known.deadlines.get(&deadline_key) != Some(&due) {
                        changes.insert(
                            (rule.into(), deadline_subject),
                            Change::Schedule {
                                hospital_id: v.hospital_id,
                                due_at: due,
                            },
                        );
                        known.deadlines.insert(deadline_key, due);
                    }
                }
                Outcome::Clear => {
                    if known.deadlines.remove(&deadline_key).is_some() {
                        changes.insert((rule.into(), deadline_subject), Change::Settle);
                    }
                    match known.cases.get(&(rule, v.subject.clone())) {
                        Some((id, status)) if status == "open" => {
                            withdraw.push((*id, v.rule, v.subject))
                        }
                        Some((_, status)) if status == "withdrawn" => {}
                        Some(_) => under_review.push((v.rule, v.subject)),
                        None => {}
                    }
                }
            }
        }
        deadlines::write(conn, &changes)?;
        let opened = shouzhen_store::cases::open_cases(conn, &opening, self.now)?;
        // Every system action of this pass goes onto the chain of case actions at once.
        let now = self.now;
        let mut actions: Vec<Action<'_>> = opened
            .iter()
            .map(|case| Action::system(case.id, "open", "", "open", &case.summary, now))
            .collect();
        let ids: Vec<i64> = withdraw.iter().map(|(id, ..)| *id).collect();
        let withdrawn: HashSet<i64> =
            shouzhen_store::cases::move_status(conn, &ids, &WITHDRAW, now)?
                .into_iter()
                .collect();
        for (id, rule, subject) in withdraw {
            if withdrawn.contains(&id) {
                actions.push(WITHDRAW.entry(id, now));
            } else {
                // An inspector took the case up meanwhile: judged as a case under review.
                under_review.push((rule, subject));
            }
        }
        let reinstated = shouzhen_store::cases::move_status(conn, &reinstate, &REINSTATE, now)?;
        actions.extend(reinstated.into_iter().map(|id| REINSTATE.entry(id, now)));
        shouzhen_store::cases::add_actions(conn, &actions)?;
        for (rule, subject) in under_review {
            shouzhen_store::cases::record_clear(conn, rule, &subject, self.now)?;
        }
        let gained: Vec<(i64, &[i64], &[i64])> = gained
            .iter()
            .map(|(id, (events, complaints))| (*id, events.as_slice(), complaints.as_slice()))
            .collect();
        shouzhen_store::cases::link_evidence(conn, &gained)?;
        link_complaints(conn, &opened)?;
        crate::notify::cases_opened(conn, self.notifier, &opened, self.now)?;
        effects.opened.extend(opened);
        Ok(effects)
    }
}

/// The deadline row of a verdict: the subject, but a hospital's feed has one per hospital.
fn deadline_subject(v: &Verdict) -> String {
    match v.rule {
        RuleId::FeedSilent => v
            .hospital_id
            .map(feed_deadline_subject)
            .unwrap_or_else(|| v.subject.clone()),
        _ => v.subject.clone(),
    }
}

/// What is stored already about a set of verdicts' subjects: unsettled deadlines (their due
/// time) and cases (id and status), by (rule, subject).
struct Known {
    deadlines: HashMap<(&'static str, String), NaiveDateTime>,
    cases: HashMap<(&'static str, String), (i64, String)>,
}

impl Known {
    /// Two queries (per 1,000 subjects) whatever the number of rules: the deadlines and the
    /// cases of the (rule, subject) pairs the verdicts name.
    fn load(conn: &mut DbConn, verdicts: &[Verdict]) -> QueryResult<Self> {
        let mut wanted_deadlines: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut wanted_cases: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for v in verdicts {
            let rule = v.rule.as_str();
            wanted_deadlines
                .entry(rule)
                .or_default()
                .insert(deadline_subject(v));
            wanted_cases.entry(rule).or_default().insert(&v.subject);
        }
        let deadline_pairs: BTreeMap<&str, Vec<&str>> = wanted_deadlines
            .iter()
            .map(|(rule, subjects)| (*rule, subjects.iter().map(String::as_str).collect()))
            .collect();
        let case_pairs: BTreeMap<&str, Vec<&str>> = wanted_cases
            .into_iter()
            .map(|(rule, subjects)| (rule, subjects.into_iter().collect()))
            .collect();
        let mut known = Self {
            deadlines: HashMap::new(),
            cases: HashMap::new(),
        };
        for (rule, subject, due) in deadlines::open_for(conn, &deadline_pairs)? {
            if let Some(rule) = RuleId::parse(&rule) {
                known.deadlines.insert((rule.as_str(), subject), due);
            }
        }
        for (rule, subject, id, status) in shouzhen_store::cases::status_for(conn, &case_pairs)? {
            if let Some(rule) = RuleId::parse(&rule) {
                known.cases.insert((rule.as_str(), subject), (id, status));
            }
        }
        Ok(known)
    }
}

/// The registered hospital a desk's request case bears on (the request's `to_hospital`): the
/// one a citizen's complaint of category `transport` names.
pub fn request_hospital(conn: &mut DbConn, subject: &str) -> QueryResult<Option<String>> {
    let Some((desk, request)) = transport::parse_request_subject(subject) else {
        return Ok(None);
    };
    let rows = shouzhen_store::events::transport_rows(conn, desk, &[request.as_str()])?;
    Ok(transport::RequestFacts::group(&rows)
        .into_iter()
        .next()
        .and_then(|f| f.to_hospital))
}

/// The hospital whose complaints bear on a case: its own, or for a desk's request case the
/// hospital the resident was taken to.
fn complained_of(conn: &mut DbConn, case: &Case) -> QueryResult<Option<i64>> {
    if transport::parse_request_subject(&case.subject).is_none() {
        return Ok(case.hospital_id);
    }
    Ok(match request_hospital(conn, &case.subject)? {
        Some(code) => shouzhen_store::hospitals::by_code(conn, &code)?.map(|h| h.id),
        None => None,
    })
}

/// Links the complaints that corroborate a newly opened case (the twin of
/// `complaints::link_to_cases`, so that the order of case and complaint does not matter).
fn link_complaints(conn: &mut DbConn, opened: &[Case]) -> QueryResult<()> {
    // Each case's hospital and the categories of complaint that bear on its rule.
    let mut wanted: Vec<(&Case, i64, Vec<&str>)> = Vec::new();
    for case in opened {
        let Some(rule) = RuleId::parse(&case.rule) else {
            continue;
        };
        let categories: Vec<&str> = shouzhen_domain::complaint::CATEGORIES
            .iter()
            .copied()
            .filter(|c| shouzhen_domain::complaint::rules_for(c).contains(&rule))
            .collect();
        if categories.is_empty() {
            continue;
        }
        if let Some(hospital_id) = complained_of(conn, case)? {
            wanted.push((case, hospital_id, categories));
        }
    }
    let (Some(from), Some(to)) = (
        wanted.iter().map(|(c, ..)| c.occurred_at).min(),
        wanted.iter().map(|(c, ..)| c.occurred_at).max(),
    ) else {
        return Ok(());
    };
    // One read for all of them, then each case takes its own.
    let window = Duration::hours(24);
    let hospitals: BTreeSet<i64> = wanted.iter().map(|(_, h, _)| *h).collect();
    let categories: BTreeSet<&str> = wanted
        .iter()
        .flat_map(|(.., c)| c.iter().copied())
        .collect();
    let found = shouzhen_store::complaints::for_cases(
        conn,
        &hospitals.into_iter().collect::<Vec<_>>(),
        &categories.into_iter().collect::<Vec<_>>(),
        from - window,
        to + window,
    )?;
    let mut links: Vec<(i64, Vec<i64>)> = Vec::new();
    for (case, hospital_id, categories) in &wanted {
        let ids: Vec<i64> = found
            .iter()
            .filter(|c| {
                c.hospital_id == *hospital_id
                    && categories.contains(&c.category.as_str())
                    && (c.occurred_at - case.occurred_at).abs() <= window
            })
            .map(|c| c.id)
            .collect();
        if !ids.is_empty() {
            links.push((case.id, ids));
        }
    }
    let links: Vec<(i64, &[i64], &[i64])> = links
        .iter()
        .map(|(case, ids)| (*case, &[][..], ids.as_slice()))
        .collect();
    shouzhen_store::cases::insert_links(conn, &links)
}

pub fn feed_deadline_subject(hospital_id: i64) -> String {
    format!("hospital:{hospital_id}")
}
