//! `designated.refused`: a hospital designated (定点/黄码) for a zone refused a patient from
//! that zone, whatever the acuity: the zone's patients have nowhere else to go.

use chrono::{Duration, NaiveDateTime};

use super::history::{china_time, zone_zh};
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::DesignatedRefused,
    title_zh: "定点医院拒收对口区域患者",
    title_en: "Designated hospital refused a patient of its zone",
    plain_zh: "被指定为封控区、管控区等区域患者定点（黄码）医院的医疗机构，拒收来自该区域的患者（无论病情轻重）。",
    plain_en: "A hospital designated (a \"yellow-code\" hospital) for the patients of a sealed, controlled or precaution zone refused a patient from that zone, whatever the acuity.",
    sources: "001, 003 (item 1), 002",
    quote: "本市指定区域医疗中心等有关医院，作为本区封控、管控区域集中和居家观察人员急危重症患者救治定点医院和定点发热门诊。（001）；凡封控区以及隔离观察人员就医一律由黄码医院（主城区暂定市人民医院）负责医疗救治工作。（003 第一条）；放化疗、血透病人原则上到原来的医院就诊，因封控原因无法前往的，到所在区的定点医院就诊。（002）",
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
        let zone = act.zone();
        let s = setting(RuleId::DesignatedRefused, &ev.jurisdiction, ev.occurred_at);
        let outcome = match zone {
            Some(zone) if s.enabled && ev.designated_for.contains(&zone) => {
                Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: ev.occurred_at,
                    summary: format!(
                        "{}（{}定点医院）于 {} 拒收{}患者（事件 {}）",
                        ev.hospital_name,
                        zone_zh(zone),
                        china_time(ev.occurred_at),
                        zone_zh(zone),
                        ev.event_id
                    ),
                    evidence: act.evidence(),
                    complaints: Vec::new(),
                })
            }
            _ => Outcome::Clear,
        };
        verdicts.push(Verdict::on_event(RuleId::DesignatedRefused, ev, outcome));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::event::{Acuity, OriginZone, Reason};
    use crate::rules::testing::*;

    fn judge(designated: &[OriginZone], zone: OriginZone, on_arrival: bool) -> Outcome {
        let mut arrival = ev(1, 1, EventKind::Arrival, "2022-07-01 10:00").acuity(Acuity::Routine);
        let mut refusal =
            ev(2, 1, EventKind::Refusal, "2022-07-01 10:05").reasons(&[Reason::Other]);
        if on_arrival {
            arrival.body.origin_zone = Some(zone);
        } else {
            refusal.body.origin_zone = Some(zone);
        }
        for e in [&mut arrival, &mut refusal] {
            e.designated_for = designated.to_vec();
        }
        let v = evaluate(&history(vec![arrival, refusal]), &defaults, GAP);
        outcomes(&v, RuleId::DesignatedRefused).remove(0)
    }

    #[test]
    fn a_hospital_designated_for_sealed_zones_refusing_a_routine_sealed_patient_is_a_violation() {
        assert_eq!(
            violation(&judge(&[OriginZone::Sealed], OriginZone::Sealed, true)),
            Some(vec![1, 2])
        );
        assert!(violation(&judge(&[OriginZone::Sealed], OriginZone::Sealed, false)).is_some());
    }

    #[test]
    fn a_patient_of_another_zone_or_a_hospital_designated_for_none_is_not_judged() {
        assert_eq!(
            judge(&[OriginZone::Sealed], OriginZone::Controlled, true),
            Outcome::Clear
        );
        assert_eq!(judge(&[], OriginZone::Sealed, true), Outcome::Clear);
        assert_eq!(
            judge(&[OriginZone::Sealed], OriginZone::None, false),
            Outcome::Clear
        );
    }
}
