//! `critical.test_delay`: a critical patient without a negative test from the last 48 hours
//! must get an antigen test within the limit (30 minutes) of arriving.

use chrono::{Duration, NaiveDateTime};

use super::history::{Lookup, china_time};
use super::human;
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::{Acuity, EventKind, TestKind, TestStatus};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::CriticalTestDelay,
    title_zh: "危重患者抗原检测延误",
    title_en: "Critical patient's antigen test delayed",
    plain_zh: "不能提供 48 小时核酸阴性证明的危重患者，接诊医院未在时限（默认 30 分钟）内完成抗原检测。",
    plain_en: "A critical patient without a negative test from the last 48 hours did not get an antigen test within the limit (30 minutes by default).",
    sources: "003 (item 4)",
    quote: "对不能提供48小时核酸检测阴性证明的危急重症患者，由接诊机构第一时间完成1次抗原检测并开展进行核酸采样检测，确保应诊尽诊、应收尽收。（003 第四条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(30)),
    default_count: None,
};

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    episode_gap: Duration,
    now: NaiveDateTime,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let episodes = history.episodes(episode_gap);
    let antigen_tests = Lookup::new(&history.events, |e| {
        e.kind() == EventKind::Test && e.body.test.is_some_and(|t| t.kind == TestKind::Antigen)
    });
    let departures = Lookup::new(&history.events, |e| {
        matches!(
            e.kind(),
            EventKind::Refusal | EventKind::Transfer | EventKind::Discharge
        )
    });
    for (i, arrival) in history.events.iter().enumerate() {
        if arrival.kind() != EventKind::Arrival
            || arrival.body.acuity != Some(Acuity::Critical)
            || arrival.body.test_status == Some(TestStatus::Negative48h)
        {
            continue;
        }
        let s = setting(
            RuleId::CriticalTestDelay,
            &arrival.jurisdiction,
            arrival.occurred_at,
        );
        let limit = s.limit_or_default(RuleId::CriticalTestDelay);
        let due = arrival.occurred_at + limit;
        // The first antigen test and the first departure at this hospital from the arrival on.
        let (h, t, episode) = (arrival.hospital_id, arrival.occurred_at, episodes.of(i));
        let test = antigen_tests.first_from(h, t, episode.clone());
        let left = departures.first_from(h, t, episode);
        let outcome = if !s.enabled {
            Outcome::Clear
        } else {
            match (test, left) {
                (Some(t), _) if t.occurred_at <= due => Outcome::Clear,
                (_, Some(l))
                    if l.occurred_at <= due
                        && test.is_none_or(|t| t.occurred_at > l.occurred_at) =>
                {
                    Outcome::Clear
                }
                (Some(t), _) => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的危重患者 {} 后才完成抗原检测，超过 {} 时限（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(t.occurred_at - arrival.occurred_at),
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id, t.row_id],
                    complaints: Vec::new(),
                }),
                (None, _) if now >= due => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的危重患者无 48 小时核酸阴性证明，{} 内无抗原检测记录（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id],
                    complaints: Vec::new(),
                }),
                (None, _) => Outcome::Pending { due },
            }
        };
        verdicts.push(Verdict::on_event(
            RuleId::CriticalTestDelay,
            arrival,
            outcome,
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ArrivedBy;
    use crate::rules::testing::*;

    fn critical() -> crate::rules::EventView {
        ev(1, 1, EventKind::Arrival, "2022-07-01 10:00")
            .by(ArrivedBy::WalkIn)
            .acuity(Acuity::Critical)
            .tested(TestStatus::None)
    }

    fn judge(events: Vec<crate::rules::EventView>, now: &str) -> Vec<Outcome> {
        let h = history(events);
        outcomes(
            &evaluate(&h, &defaults, GAP, cn(now)),
            RuleId::CriticalTestDelay,
        )
    }

    #[test]
    fn an_antigen_test_at_exactly_30_minutes_is_in_time_and_at_31_is_not() {
        let test = |at| ev(2, 1, EventKind::Test, at).antigen();
        assert_eq!(
            judge(
                vec![critical(), test("2022-07-01 10:30")],
                "2022-07-02 00:00"
            ),
            [Outcome::Clear]
        );
        let late = judge(
            vec![critical(), test("2022-07-01 10:31")],
            "2022-07-02 00:00",
        );
        assert_eq!(violation(&late[0]), Some(vec![1, 2]));
    }

    #[test]
    fn no_test_yet_waits_then_is_a_violation() {
        assert_eq!(
            judge(vec![critical()], "2022-07-01 10:29"),
            [Outcome::Pending {
                due: cn("2022-07-01 10:30")
            }]
        );
        assert_eq!(
            violation(&judge(vec![critical()], "2022-07-01 10:30")[0]),
            Some(vec![1])
        );
    }

    #[test]
    fn a_negative_test_within_48_hours_or_a_routine_patient_needs_no_antigen_test() {
        let negative = critical().tested(TestStatus::Negative48h);
        assert!(judge(vec![negative], "2022-07-02 00:00").is_empty());
        let routine = critical().acuity(Acuity::Routine);
        assert!(judge(vec![routine], "2022-07-02 00:00").is_empty());
    }

    #[test]
    fn a_patient_transferred_before_the_deadline_is_not_this_rule_s_case() {
        let transfer = ev(2, 1, EventKind::Transfer, "2022-07-01 10:20");
        assert_eq!(
            judge(vec![critical(), transfer], "2022-07-02 00:00"),
            [Outcome::Clear]
        );
    }
}
