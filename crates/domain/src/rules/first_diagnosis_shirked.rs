//! `first_diagnosis.shirked` (首诊负责制): the first hospital of a critical or urgent patient's
//! episode refuses or transfers the patient without any treatment.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

use super::history::{Episodes, Lookup, acuity_zh, china_time, is_critical_or_urgent};
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::EventKind;

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::FirstDiagnosisShirked,
    title_zh: "首诊医院推诿患者",
    title_en: "First-diagnosis hospital pushed the patient away",
    plain_zh: "急危重症患者本次就医（72 小时内的连续记录）的首诊医院，未作任何救治即拒收或转出患者，违反首诊负责制。",
    plain_en: "The first hospital of a critical or urgent patient's episode (events no more than 72 hours apart) refused or transferred the patient without any treatment, against first-diagnosis responsibility.",
    sources: "001, 003 (item 3)",
    quote: "各医疗机构严格执行首诊负责制，决不允许……推诿拒收急危重症患者，延误治疗。（001）；首诊机构及医务人员严格落实首诊负责制……不得以……任何理由拒诊拒收。（003 第三条）",
    default_severity: Severity::High,
    default_limit: Some(Duration::hours(72)),
    default_count: None,
};

/// Each refusal and transfer of the history. Episodes are cut once per gap in force (the gap
/// is the rule's setting where each act happened), and the treatment before an act is found by
/// a binary search, so that a long history costs one pass.
pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let arrivals = history.arrivals();
    let treatments = Lookup::new(&history.events, |e| e.kind() == EventKind::Treatment);
    let mut episodes: HashMap<Duration, Episodes> = HashMap::new();
    // The chain of hospitals of each episode a finding names, by (gap, first event).
    let mut chains: HashMap<(Duration, usize), String> = HashMap::new();
    for (i, ev) in history.events.iter().enumerate() {
        if !matches!(ev.kind(), EventKind::Refusal | EventKind::Transfer) {
            continue;
        }
        let s = setting(
            RuleId::FirstDiagnosisShirked,
            &ev.jurisdiction,
            ev.occurred_at,
        );
        let gap = s.limit_or_default(RuleId::FirstDiagnosisShirked);
        let episodes = episodes.entry(gap).or_insert_with(|| history.episodes(gap));
        let act = history.act(episodes, &arrivals, i);
        let acuity = act.acuity();
        let first = &history.events[act.range.start];
        let first_here = first.hospital_id == ev.hospital_id;
        let treated = treatments
            .first_within(ev.hospital_id, act.range.clone())
            .is_some_and(|t| t.occurred_at <= ev.occurred_at);
        let outcome = if s.enabled && first_here && is_critical_or_urgent(acuity) && !treated {
            let chain = chains
                .entry((gap, act.range.start))
                .or_insert_with(|| PatientHistory::chain(act.episode).join(" → "));
            // The episode's first event (here), the arrival the act belongs to, the act.
            let mut evidence = vec![first.row_id];
            for row in act.arrival.map(|a| a.row_id).into_iter().chain([ev.row_id]) {
                if !evidence.contains(&row) {
                    evidence.push(row);
                }
            }
            Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: ev.occurred_at,
                summary: format!(
                    "{} 作为首诊医院，于 {} 未经救治即{}{}患者（就医链：{}；事件 {}）",
                    ev.hospital_name,
                    china_time(ev.occurred_at),
                    if ev.kind() == EventKind::Refusal {
                        "拒收"
                    } else {
                        "转出"
                    },
                    acuity_zh(acuity),
                    chain,
                    ev.event_id
                ),
                evidence,
                complaints: Vec::new(),
            })
        } else {
            Outcome::Clear
        };
        verdicts.push(Verdict::on_event(
            RuleId::FirstDiagnosisShirked,
            ev,
            outcome,
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Acuity, ArrivedBy};
    use crate::rules::testing::*;

    fn judge(events: Vec<crate::rules::EventView>) -> Vec<Outcome> {
        outcomes(
            &evaluate(&history(events), &defaults),
            RuleId::FirstDiagnosisShirked,
        )
    }

    fn arrival(hospital: i64, at: &str) -> crate::rules::EventView {
        ev(hospital * 10, hospital, EventKind::Arrival, at)
            .by(ArrivedBy::WalkIn)
            .acuity(Acuity::Urgent)
    }

    #[test]
    fn the_first_hospital_transferring_an_urgent_patient_untreated_shirks_first_diagnosis() {
        let transfer = ev(11, 1, EventKind::Transfer, "2022-07-01 10:20");
        let second = arrival(2, "2022-07-01 11:00");
        let o = judge(vec![arrival(1, "2022-07-01 10:00"), transfer, second]);
        assert_eq!(violation(&o[0]), Some(vec![10, 11]));
    }

    #[test]
    fn a_treated_patient_may_be_transferred() {
        let treated = ev(11, 1, EventKind::Treatment, "2022-07-01 10:10");
        let transfer = ev(12, 1, EventKind::Transfer, "2022-07-01 10:20");
        assert_eq!(
            judge(vec![arrival(1, "2022-07-01 10:00"), treated, transfer]),
            [Outcome::Clear]
        );
    }

    #[test]
    fn only_the_first_hospital_of_the_episode_answers_for_it() {
        let refusal_at_second = ev(21, 2, EventKind::Refusal, "2022-07-01 11:10");
        let o = judge(vec![
            arrival(1, "2022-07-01 10:00"),
            arrival(2, "2022-07-01 11:00"),
            refusal_at_second,
        ]);
        assert_eq!(o, [Outcome::Clear]);
    }

    #[test]
    fn a_visit_more_than_72_hours_earlier_starts_no_episode_with_this_one() {
        let earlier = arrival(1, "2022-07-01 10:00");
        let later = arrival(2, "2022-07-04 10:01");
        let refusal = ev(21, 2, EventKind::Refusal, "2022-07-04 10:05");
        assert_eq!(
            violation(&judge(vec![earlier, later, refusal])[0]),
            Some(vec![20, 21])
        );
    }

    #[test]
    fn a_routine_patient_s_refusal_is_not_this_rule_s_case() {
        let routine = arrival(1, "2022-07-01 10:00").acuity(Acuity::Routine);
        let refusal = ev(11, 1, EventKind::Refusal, "2022-07-01 10:05");
        assert_eq!(judge(vec![routine, refusal]), [Outcome::Clear]);
    }
}
