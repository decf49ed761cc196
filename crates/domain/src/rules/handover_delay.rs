//! `handover.delay`: an ambulance patient not handed over within the limit (15 minutes): the
//! handover came late, or none was recorded by then.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
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

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    episode_gap: Duration,
    now: NaiveDateTime,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (i, arrival) in history.events.iter().enumerate() {
        if arrival.kind() != EventKind::Arrival
            || arrival.body.arrived_by != Some(ArrivedBy::Ambulance)
        {
            continue;
        }
        let s = setting(
            RuleId::HandoverDelay,
            &arrival.jurisdiction,
            arrival.occurred_at,
        );
        let limit = s.limit_or_default(RuleId::HandoverDelay);
        let episode = history.episode_of(i, episode_gap);
        let next = episode.iter().find(|e| {
            e.hospital_id == arrival.hospital_id
                && ends_wait(e.kind())
                && e.occurred_at >= arrival.occurred_at
        });
        let due = arrival.occurred_at + limit;
        let outcome = if !s.enabled {
            Outcome::Clear
        } else {
            match next {
                Some(h) if h.occurred_at - arrival.occurred_at <= limit => Outcome::Clear,
                Some(h) => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的救护车患者 {} 后才{}，超过 {} 时限（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(h.occurred_at - arrival.occurred_at),
                        if h.kind() == EventKind::Handover {
                            "完成交接"
                        } else {
                            "有处置记录"
                        },
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id, h.row_id],
                    complaints: Vec::new(),
                }),
                None if now >= due => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的救护车患者在 {} 内无交接记录（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id],
                    complaints: Vec::new(),
                }),
                None => Outcome::Pending { due },
            }
        };
        verdicts.push(Verdict::on_event(RuleId::HandoverDelay, arrival, outcome));
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
}
