//! `handover.delay`: an ambulance patient not handed over within the limit (15 minutes): the
//! handover came late, or none was recorded by then.

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};

use super::history::{Lookup, SAME_ARRIVAL, china_time};
use super::human;
use super::{
    EventView, Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict,
};
use crate::event::{ArrivedBy, EventKind};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::HandoverDelay,
    title_zh: "救护车患者交接超时",
    title_en: "Ambulance patient not handed over in time",
    plain_zh: "救护车送达的患者到院后，医院未在时限（默认 15 分钟）内完成接诊交接。",
    plain_en: "An ambulance patient was not received and handed over within the limit (15 minutes by default) of arriving.",
    sources: "003 (item 3)",
    quote: "院前急救患者到院后，首诊机构及医务人员严格落实首诊负责制，原则上要在15分钟内完成接诊和交接工作。（003 第三条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(15)),
    default_count: None,
};

/// Events that end the wait at the door: the patient was received, or left.
fn ends_wait(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Handover
            | EventKind::Treatment
            | EventKind::Refusal
            | EventKind::Transfer
            | EventKind::Discharge
    )
}

/// Where a handover clock starts: the hospital's own arrival, or the ambulance's
/// `at_hospital` when that is earlier (or the hospital logged none).
struct Clock<'a> {
    /// The case's subject row: the ambulance's `at_hospital` when there is one (it is there
    /// first: the hospital's arrival logged later does not move the case).
    subject_row: i64,
    at: NaiveDateTime,
    by_ambulance: bool,
    hospital_id: i64,
    hospital_name: &'a str,
    jurisdiction: &'a str,
    event_id: &'a str,
    /// The rows the clock rests on (the ambulance's and the hospital's arrival).
    rows: Vec<i64>,
}

/// What ended the wait first: the hospital's event, or the ambulance's `handed_over`.
fn end_of(
    hospital: Option<&EventView>,
    ambulance: Option<(i64, NaiveDateTime)>,
) -> Option<(i64, NaiveDateTime, &'static str)> {
    let hospital = hospital.map(|h| {
        let what = if h.kind() == EventKind::Handover {
            "完成交接"
        } else {
            "有处置记录"
        };
        (h.row_id, h.occurred_at, what)
    });
    let ambulance = ambulance.map(|(row, at)| (row, at, "完成交接（120 记录）"));
    match (hospital, ambulance) {
        (Some(h), Some(a)) => Some(if a.1 < h.1 { a } else { h }),
        (h, a) => h.or(a),
    }
}

fn judge(
    clock: Clock<'_>,
    end: Option<(i64, NaiveDateTime, &'static str)>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    let s = setting(RuleId::HandoverDelay, clock.jurisdiction, clock.at);
    let limit = s.limit_or_default(RuleId::HandoverDelay);
    let due = clock.at + limit;
    let from = if clock.by_ambulance {
        "（按 120 报告的到院时间起算）"
    } else {
        ""
    };
    let finding = |summary: String, mut evidence: Vec<i64>| {
        evidence.dedup();
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: clock.at,
            summary,
            evidence,
            complaints: Vec::new(),
        })
    };
    let outcome = match end {
        _ if !s.enabled => Outcome::Clear,
        Some((_, at, _)) if at - clock.at <= limit => Outcome::Clear,
        Some((row, at, what)) => {
            let mut evidence = clock.rows.clone();
            evidence.push(row);
            finding(
                format!(
                    "{} 于 {} 接收的救护车患者 {} 后才{}，超过 {} 时限{}（事件 {}）",
                    clock.hospital_name,
                    china_time(clock.at),
                    human(at - clock.at),
                    what,
                    human(limit),
                    from,
                    clock.event_id
                ),
                evidence,
            )
        }
        None if now >= due => finding(
            format!(
                "{} 于 {} 接收的救护车患者在 {} 内无交接记录{}（事件 {}）",
                clock.hospital_name,
                china_time(clock.at),
                human(limit),
                from,
                clock.event_id
            ),
            clock.rows.clone(),
        ),
        None => Outcome::Pending { due },
    };
    Verdict {
        rule: RuleId::HandoverDelay,
        subject: format!("ev:{}", clock.subject_row),
        hospital_id: Some(clock.hospital_id),
        outcome,
    }
}

/// Every ambulance arrival, from either side: the hospital's own (its clock started at the
/// ambulance's `at_hospital` when that is earlier), and each ambulance the centre reported at
/// a hospital whose log holds no arrival to match.
pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    episode_gap: Duration,
    now: NaiveDateTime,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut paired: HashSet<i64> = HashSet::new();
    let episodes = history.episodes(episode_gap);
    let ends = Lookup::new(&history.events, |e| ends_wait(e.kind()));
    for (i, arrival) in history.events.iter().enumerate() {
        if arrival.kind() != EventKind::Arrival
            || arrival.body.arrived_by != Some(ArrivedBy::Ambulance)
        {
            continue;
        }
        let leg = history.leg_for(arrival);
        let start = leg
            .map(|l| l.at.min(arrival.occurred_at))
            .unwrap_or(arrival.occurred_at);
        let next = ends.first_from(arrival.hospital_id, start, episodes.of(i));
        let clock = match leg {
            Some(l) => {
                paired.insert(l.row_id);
                // The arrival judged alone before the ambulance's log came is now judged as
                // the ambulance's: its own subject is cleared.
                verdicts.push(Verdict::on_event(
                    RuleId::HandoverDelay,
                    arrival,
                    Outcome::Clear,
                ));
                Clock {
                    subject_row: l.row_id,
                    at: start,
                    by_ambulance: l.at < arrival.occurred_at,
                    hospital_id: arrival.hospital_id,
                    hospital_name: &arrival.hospital_name,
                    jurisdiction: &arrival.jurisdiction,
                    event_id: &arrival.event_id,
                    rows: vec![l.row_id, arrival.row_id],
                }
            }
            None => Clock {
                subject_row: arrival.row_id,
                at: start,
                by_ambulance: false,
                hospital_id: arrival.hospital_id,
                hospital_name: &arrival.hospital_name,
                jurisdiction: &arrival.jurisdiction,
                event_id: &arrival.event_id,
                rows: vec![arrival.row_id],
            },
        };
        let end = end_of(next, leg.and_then(|l| l.handed_over));
        verdicts.push(judge(clock, end, setting, now));
    }
    let everything = 0..history.events.len();
    for leg in history.legs.iter().filter(|l| !paired.contains(&l.row_id)) {
        // No arrival in the hospital's log: the ambulance's clock alone, ended by what the
        // hospital logged of the patient there afterwards or by the centre's handover.
        let next = ends
            .first_from(leg.hospital_id, leg.at, everything.clone())
            .filter(|e| e.occurred_at - leg.at <= SAME_ARRIVAL);
        let clock = Clock {
            subject_row: leg.row_id,
            at: leg.at,
            by_ambulance: true,
            hospital_id: leg.hospital_id,
            hospital_name: &leg.hospital_name,
            jurisdiction: &leg.jurisdiction,
            event_id: &leg.event_id,
            rows: vec![leg.row_id],
        };
        verdicts.push(judge(clock, end_of(next, leg.handed_over), setting, now));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn judge(events: Vec<crate::rules::EventView>, now: &str) -> Vec<Outcome> {
        let h = history(events);
        outcomes(
            &evaluate(&h, &defaults, GAP, cn(now)),
            RuleId::HandoverDelay,
        )
    }

    fn ambulance(at: &str) -> crate::rules::EventView {
        ev(1, 1, EventKind::Arrival, at).by(ArrivedBy::Ambulance)
    }

    #[test]
    fn a_handover_at_exactly_15_minutes_is_in_time_and_a_second_more_is_not() {
        let on_time = judge(
            vec![
                ambulance("2022-07-01 10:00:00"),
                ev(2, 1, EventKind::Handover, "2022-07-01 10:15:00"),
            ],
            "2022-07-02 00:00",
        );
        assert_eq!(on_time, [Outcome::Clear]);
        let late = judge(
            vec![
                ambulance("2022-07-01 10:00:00"),
                ev(2, 1, EventKind::Handover, "2022-07-01 10:15:01"),
            ],
            "2022-07-02 00:00",
        );
        assert_eq!(
            late.iter().map(violation).collect::<Vec<_>>(),
            [Some(vec![1, 2])]
        );
    }

    #[test]
    fn no_handover_yet_waits_for_minute_15_then_is_a_violation() {
        let waiting = judge(vec![ambulance("2022-07-01 10:00")], "2022-07-01 10:14:59");
        assert_eq!(
            waiting,
            [Outcome::Pending {
                due: cn("2022-07-01 10:15")
            }]
        );
        let due = judge(vec![ambulance("2022-07-01 10:00")], "2022-07-01 10:15");
        assert_eq!(violation(&due[0]), Some(vec![1]));
    }

    #[test]
    fn a_treatment_or_a_transfer_ends_the_wait_but_another_hospital_s_handover_does_not() {
        let treated = judge(
            vec![
                ambulance("2022-07-01 10:00"),
                ev(2, 1, EventKind::Treatment, "2022-07-01 10:05"),
            ],
            "2022-07-02 00:00",
        );
        assert_eq!(treated, [Outcome::Clear]);
        let elsewhere = judge(
            vec![
                ambulance("2022-07-01 10:00"),
                ev(2, 2, EventKind::Handover, "2022-07-01 10:05"),
            ],
            "2022-07-02 00:00",
        );
        assert!(violation(&elsewhere[0]).is_some());
    }

    #[test]
    fn a_walk_in_patient_has_no_handover_clock() {
        let walk_in = ev(1, 1, EventKind::Arrival, "2022-07-01 10:00").by(ArrivedBy::WalkIn);
        assert!(judge(vec![walk_in], "2022-07-02 00:00").is_empty());
    }

    #[test]
    fn dandong_holds_hospitals_to_15_minutes_from_2022_06_27_only() {
        let policy = shipped();
        let setting = |r: RuleId, j: &str, t: NaiveDateTime| policy.setting(r, j, t);
        let judge_dandong = |at: &str| {
            let h = history(vec![ambulance(at).in_jurisdiction("dandong")]);
            outcomes(
                &evaluate(&h, &setting, GAP, cn("2022-07-30 00:00")),
                RuleId::HandoverDelay,
            )
        };
        assert_eq!(judge_dandong("2022-06-26 23:59"), [Outcome::Clear]);
        assert!(violation(&judge_dandong("2022-06-27 00:00")[0]).is_some());
    }

    fn leg(row: i64, at: &str, handed_over: Option<&str>) -> crate::rules::history::AmbulanceLeg {
        crate::rules::history::AmbulanceLeg {
            row_id: row,
            event_id: format!("d-{row}"),
            centre_name: "120 急救中心".into(),
            call_id: format!("C-{row}"),
            hospital_id: 1,
            hospital_name: "第1医院".into(),
            jurisdiction: "beijing".into(),
            at: cn(at),
            handed_over: handed_over.map(|t| (row + 1, cn(t))),
        }
    }

    fn judge_two_sided(
        events: Vec<crate::rules::EventView>,
        legs: Vec<crate::rules::history::AmbulanceLeg>,
    ) -> Vec<Verdict> {
        let h = history(events).with_legs(legs);
        evaluate(&h, &defaults, GAP, cn("2022-07-02 00:00"))
    }

    #[test]
    fn a_hospital_that_logs_the_arrival_20_minutes_late_is_timed_from_the_ambulance() {
        let v = judge_two_sided(
            vec![
                ambulance("2022-07-01 10:20"),
                ev(2, 1, EventKind::Handover, "2022-07-01 10:22"),
            ],
            vec![leg(50, "2022-07-01 10:00", None)],
        );
        assert_eq!(v.len(), 2, "one arrival seen from both sides");
        assert_eq!(
            (v[0].subject.as_str(), &v[0].outcome),
            ("ev:1", &Outcome::Clear),
            "the hospital's arrival alone is cleared"
        );
        assert_eq!(v[1].subject, "ev:50");
        assert_eq!(violation(&v[1].outcome), Some(vec![50, 1, 2]));
        // Without the ambulance's log the hospital's 2 minutes were on time.
        let alone = judge_two_sided(
            vec![
                ambulance("2022-07-01 10:20"),
                ev(2, 1, EventKind::Handover, "2022-07-01 10:22"),
            ],
            Vec::new(),
        );
        assert_eq!(alone[0].outcome, Outcome::Clear);
    }

    #[test]
    fn the_ambulance_s_handed_over_at_10_minutes_is_on_time_whatever_the_hospital_logged() {
        let v = judge_two_sided(
            vec![
                ambulance("2022-07-01 10:20"),
                ev(2, 1, EventKind::Handover, "2022-07-01 10:40"),
            ],
            vec![leg(50, "2022-07-01 10:00", Some("2022-07-01 10:10"))],
        );
        assert_eq!(v[1].subject, "ev:50");
        assert_eq!(v[1].outcome, Outcome::Clear);
        // An ambulance the hospital never logged: its own clock, ended by its handover.
        let unlogged = judge_two_sided(Vec::new(), vec![leg(60, "2022-07-01 10:00", None)]);
        assert_eq!(unlogged[0].subject, "ev:60");
        assert_eq!(violation(&unlogged[0].outcome), Some(vec![60]));
        let handed = judge_two_sided(
            Vec::new(),
            vec![leg(60, "2022-07-01 10:00", Some("2022-07-01 10:15"))],
        );
        assert_eq!(handed[0].outcome, Outcome::Clear, "exactly 15 minutes");
    }
}
