//! `refusal.prohibited_reason` and `refusal.operational_reason`: a critical or urgent patient
//! refused for a reason the directives forbid (a critical one only, for want of a community
//! certificate).

use chrono::Duration;

use super::history::{acuity_zh, china_time, is_critical_or_urgent, reason_zh};
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::{Acuity, Reason};

pub static PROHIBITED: RuleInfo = RuleInfo {
    id: RuleId::RefusalProhibitedReason,
    title_zh: "以健康码、核酸或症状为由拒收急危重症患者",
    title_en: "Critical or urgent patient refused over a health code, a test or symptoms",
    plain_zh: "医院以健康码或行程码异常、无核酸结果或结果超时、发热或新冠症状为由，拒收或延误急危重症患者；或以无社区证明为由拒收危急重症患者。",
    plain_en: "The hospital refused a critical or urgent patient because of a health or travel code, a missing or expired test, fever or COVID symptoms; or a critical patient for want of a community certificate.",
    sources: "004, 001, 003 (item 2)",
    quote: "不允许以健康码或行程码异常、具有发热等新冠肺炎典型症状、无核酸检测阴性结果或检测结果超过时限等为理由延误治疗。（004）；决不允许以健康码或行程码异常、无核酸检测结果或检测结果超过时限等为理由，推诿拒收急危重症患者，延误治疗。（001）；除危急重症外，就医患者由社区（村居委会）出具人员身份证明方可就医。（003 第二条）",
    default_severity: Severity::High,
    default_limit: None,
    default_count: None,
};

pub static OPERATIONAL: RuleInfo = RuleInfo {
    id: RuleId::RefusalOperationalReason,
    title_zh: "以消杀、科室封控或床位不足为由拒收急危重症患者",
    title_en: "Critical or urgent patient refused over disinfection, a closed department or no beds",
    plain_zh: "医院以消毒消杀、科室封控、床位不足等理由拒诊拒收急危重症患者。",
    plain_en: "The hospital refused a critical or urgent patient because of disinfection, a closed department or a lack of beds.",
    sources: "003 (item 3)",
    quote: "不得以消毒消杀、科室封控、床位不足等任何理由拒诊拒收，确保危急重症患者到院后第一时间得到有效救治。（003 第三条）",
    default_severity: Severity::High,
    default_limit: None,
    default_count: None,
};

/// Whether refusing a patient of `acuity` (critical or urgent) for `r` is prohibited: the
/// codes, tests and symptoms always; a missing community certificate for a critical patient
/// only (003 item 2 asks it of everyone else).
pub fn is_prohibited(r: Reason, acuity: Option<Acuity>) -> bool {
    match r {
        Reason::HealthCode
        | Reason::TravelCode
        | Reason::NoTest
        | Reason::ExpiredTest
        | Reason::Fever
        | Reason::CovidSymptoms => true,
        Reason::NoCommunityCertificate => acuity == Some(Acuity::Critical),
        _ => false,
    }
}

pub fn is_operational(r: Reason, _acuity: Option<Acuity>) -> bool {
    matches!(
        r,
        Reason::Disinfection | Reason::DepartmentClosed | Reason::NoBeds
    )
}

/// Both refusal rules over every refusal in the history.
pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, chrono::NaiveDateTime) -> Setting,
    episode_gap: Duration,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for act in history.refusals(episode_gap) {
        let ev = act.ev;
        let acuity = act.acuity();
        for (rule, matches) in [
            (
                RuleId::RefusalProhibitedReason,
                is_prohibited as fn(Reason, Option<Acuity>) -> bool,
            ),
            (RuleId::RefusalOperationalReason, is_operational),
        ] {
            let s = setting(rule, &ev.jurisdiction, ev.occurred_at);
            let reasons: Vec<Reason> = ev
                .body
                .reasons
                .iter()
                .copied()
                .filter(|r| matches(*r, acuity))
                .collect();
            let outcome = if s.enabled && is_critical_or_urgent(acuity) && !reasons.is_empty() {
                let evidence = act.evidence();
                Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: ev.occurred_at,
                    summary: format!(
                        "{} 于 {} 以{}为由拒收{}患者（事件 {}）",
                        ev.hospital_name,
                        china_time(ev.occurred_at),
                        reasons
                            .iter()
                            .map(|r| reason_zh(*r))
                            .collect::<Vec<_>>()
                            .join("、"),
                        acuity_zh(acuity),
                        ev.event_id
                    ),
                    evidence,
                    complaints: Vec::new(),
                })
            } else {
                Outcome::Clear
            };
            verdicts.push(Verdict::on_event(rule, ev, outcome));
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ArrivedBy;
    use crate::event::EventKind;
    use crate::rules::testing::*;

    fn judge(events: Vec<crate::rules::EventView>) -> (Vec<Outcome>, Vec<Outcome>) {
        let v = evaluate(&history(events), &defaults, GAP);
        (
            outcomes(&v, RuleId::RefusalProhibitedReason),
            outcomes(&v, RuleId::RefusalOperationalReason),
        )
    }

    fn arrival(acuity: Acuity) -> crate::rules::EventView {
        ev(1, 1, EventKind::Arrival, "2022-07-01 10:00")
            .by(ArrivedBy::WalkIn)
            .acuity(acuity)
    }

    #[test]
    fn a_critical_patient_refused_over_a_health_code_is_a_prohibited_refusal() {
        let refusal =
            ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::HealthCode]);
        let (prohibited, operational) = judge(vec![arrival(Acuity::Critical), refusal]);
        assert_eq!(
            prohibited.iter().map(violation).collect::<Vec<_>>(),
            [Some(vec![1, 2])]
        );
        assert_eq!(operational, [Outcome::Clear]);
    }

    #[test]
    fn an_urgent_patient_refused_for_want_of_beds_is_an_operational_refusal() {
        let refusal = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::NoBeds]);
        let (prohibited, operational) = judge(vec![arrival(Acuity::Urgent), refusal]);
        assert_eq!(prohibited, [Outcome::Clear]);
        assert!(violation(&operational[0]).is_some());
    }

    #[test]
    fn a_routine_patient_s_refusal_or_a_refusal_for_another_reason_is_no_violation() {
        let fever = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::Fever]);
        assert_eq!(
            judge(vec![arrival(Acuity::Routine), fever]),
            (vec![Outcome::Clear], vec![Outcome::Clear])
        );
        let other = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::Other]);
        assert_eq!(
            judge(vec![arrival(Acuity::Critical), other]),
            (vec![Outcome::Clear], vec![Outcome::Clear])
        );
    }

    #[test]
    fn the_acuity_on_the_refusal_itself_counts_without_an_arrival() {
        let refusal = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05")
            .acuity(Acuity::Critical)
            .reasons(&[Reason::NoTest]);
        let (prohibited, _) = judge(vec![refusal]);
        assert_eq!(violation(&prohibited[0]), Some(vec![2]));
    }

    #[test]
    fn a_missing_community_certificate_is_prohibited_for_a_critical_patient_only() {
        let refusal = || {
            ev(2, 1, EventKind::Refusal, "2022-07-01 10:05")
                .reasons(&[Reason::NoCommunityCertificate])
        };
        let (prohibited, operational) = judge(vec![arrival(Acuity::Critical), refusal()]);
        assert_eq!(violation(&prohibited[0]), Some(vec![1, 2]));
        assert_eq!(operational, [Outcome::Clear]);
        for acuity in [Acuity::Urgent, Acuity::Routine] {
            assert_eq!(
                judge(vec![arrival(acuity), refusal()]),
                (vec![Outcome::Clear], vec![Outcome::Clear]),
                "{acuity:?}"
            );
        }
    }

    #[test]
    fn every_reason_is_prohibited_operational_or_other() {
        let critical = Some(Acuity::Critical);
        for r in Reason::ALL.iter().filter_map(|r| Reason::parse(r)) {
            assert!(
                !(is_prohibited(r, critical) && is_operational(r, critical)),
                "{r:?}"
            );
        }
        assert!(
            !is_prohibited(Reason::Other, critical) && !is_operational(Reason::Other, critical)
        );
    }
}
