//! `special_group.refused`: a patient of a special group (pregnant, newborn, dialysis,
//! chemotherapy, oncology, renal failure, chronic) refused, whatever the reason.

use chrono::{Duration, NaiveDateTime};

use super::history::{china_time, group_zh};
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::SpecialGroupRefused,
    title_zh: "拒收特殊群体患者",
    title_en: "Patient of a special group refused",
    plain_zh: "孕产妇、新生儿、透析、放化疗、肿瘤、肾衰竭及慢性病等特殊群体患者被拒收（无论理由）。",
    plain_en: "A patient of a special group (pregnant, newborn, dialysis, chemotherapy, cancer, renal failure, chronic illness) was refused, whatever the reason.",
    sources: "004 (item 4), 002, 003 (item 8)",
    quote: "重点做好急危重症患者、孕产妇、新生儿、肿瘤患者、肾功能衰竭患者等特殊群体和慢性病患者医疗服务保障。（004 第四条）；对放化疗、血透、孕产妇等重点人群需求进行收集……做好封控区医疗保障工作。（002）；及时做好肾功能衰竭患者、肿瘤患者以及其他需要维持定期治疗的重症患者分流救治工作。（003 第八条）",
    default_severity: Severity::High,
    default_limit: None,
    default_count: None,
};

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    episode_gap: Duration,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for act in history.refusals(episode_gap) {
        let ev = act.ev;
        let groups = act.groups();
        let s = setting(
            RuleId::SpecialGroupRefused,
            &ev.jurisdiction,
            ev.occurred_at,
        );
        let outcome = if s.enabled && !groups.is_empty() {
            let evidence = act.evidence();
            Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: ev.occurred_at,
                summary: format!(
                    "{} 于 {} 拒收{}（事件 {}）",
                    ev.hospital_name,
                    china_time(ev.occurred_at),
                    groups
                        .iter()
                        .map(|g| group_zh(*g))
                        .collect::<Vec<_>>()
                        .join("、"),
                    ev.event_id
                ),
                evidence,
                complaints: Vec::new(),
            })
        } else {
            Outcome::Clear
        };
        verdicts.push(Verdict::on_event(RuleId::SpecialGroupRefused, ev, outcome));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::event::{Acuity, ArrivedBy, Group, Reason};
    use crate::rules::testing::*;

    fn judge(events: Vec<crate::rules::EventView>) -> Vec<Outcome> {
        outcomes(
            &evaluate(&history(events), &defaults, GAP),
            RuleId::SpecialGroupRefused,
        )
    }

    #[test]
    fn a_dialysis_patient_refused_for_any_reason_and_any_acuity_is_a_violation() {
        let arrival = ev(1, 1, EventKind::Arrival, "2022-07-01 10:00")
            .by(ArrivedBy::WalkIn)
            .acuity(Acuity::Routine)
            .groups(&[Group::Dialysis]);
        let refusal = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::Other]);
        assert_eq!(
            violation(&judge(vec![arrival, refusal])[0]),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn a_group_on_the_refusal_itself_counts_and_no_group_is_no_violation() {
        let pregnant = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").groups(&[Group::Pregnant]);
        assert_eq!(violation(&judge(vec![pregnant])[0]), Some(vec![2]));
        let none = ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::NoBeds]);
        assert_eq!(judge(vec![none]), [Outcome::Clear]);
    }

    #[test]
    fn an_arrival_more_than_the_episode_gap_earlier_does_not_lend_its_groups() {
        let old = ev(1, 1, EventKind::Arrival, "2022-07-01 10:00").groups(&[Group::Oncology]);
        let refusal = ev(2, 1, EventKind::Refusal, "2022-07-04 10:01");
        assert_eq!(judge(vec![old, refusal]), [Outcome::Clear]);
    }
}
