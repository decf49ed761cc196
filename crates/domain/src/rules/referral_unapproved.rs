//! `referral.unapproved`: a transfer to a facility outside the hospital's city without a
//! municipal approval, or outside its province without a provincial one (003 item 5). A
//! hospital's city and province are those its jurisdiction's pack declares; a hospital whose
//! jurisdiction no pack declares is not judged.

use chrono::NaiveDateTime;

use super::history::china_time;
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::{ApprovalLevel, EventKind};
use crate::policy::Place;

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ReferralUnapproved,
    title_zh: "跨区域转诊未经审核",
    title_en: "Referral out of the city or province without approval",
    plain_zh: "患者被转往本市以外的医疗机构而无市级卫生健康行政部门审核，或转往本省以外而无省级审核。",
    plain_en: "A patient was referred to a facility outside the city without the municipal health administration's approval, or outside the province without the provincial one.",
    sources: "003 (item 5)",
    quote: "受医疗技术和医疗设备所限，不能进一步诊断和治疗的疾病，由卫生健康行政部门组织逐级转诊。出市就医原则上由市级卫生健康行政部门报请省级卫生健康行政部门审核。（003 第五条）",
    default_severity: Severity::Medium,
    default_limit: None,
    default_count: None,
};

/// A place name compared without its administrative suffix (`丹东市` is `丹东`, `辽宁省` is
/// `辽宁`).
fn same_place(a: &str, b: &str) -> bool {
    let bare = |s: &str| -> String {
        let s = s.trim();
        ["特别行政区", "自治区", "自治州", "地区", "省", "市"]
            .iter()
            .find_map(|suffix| s.strip_suffix(suffix).filter(|rest| !rest.is_empty()))
            .unwrap_or(s)
            .to_string()
    };
    bare(a) == bare(b)
}

/// The approval a referral from `home` to (`city`, `province`) needs: none within the city, a
/// municipal one within the province, a provincial one beyond it.
pub fn required(home: &Place, city: &str, province: &str) -> Option<ApprovalLevel> {
    if !same_place(&home.province, province) {
        Some(ApprovalLevel::Provincial)
    } else if !same_place(&home.city, city) {
        Some(ApprovalLevel::Municipal)
    } else {
        None
    }
}

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    place: &dyn Fn(&str) -> Option<Place>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for ev in &history.events {
        let Some(to) = ev.body.to_facility.as_ref() else {
            continue;
        };
        if ev.kind() != EventKind::Transfer {
            continue;
        }
        let s = setting(RuleId::ReferralUnapproved, &ev.jurisdiction, ev.occurred_at);
        let need = place(&ev.jurisdiction).and_then(|home| required(&home, &to.city, &to.province));
        let given = ev.body.approval.as_ref().map(|a| a.level);
        let approved = matches!(
            (need, given),
            (None, _)
                | (Some(ApprovalLevel::Municipal), Some(_))
                | (
                    Some(ApprovalLevel::Provincial),
                    Some(ApprovalLevel::Provincial)
                )
        );
        let outcome = if s.enabled && !approved {
            let (scope, level) = match need {
                Some(ApprovalLevel::Provincial) => ("出省", "省级"),
                _ => ("出市", "市级"),
            };
            let had = match given {
                Some(ApprovalLevel::Municipal) => "仅有市级审核",
                Some(ApprovalLevel::Provincial) => "已有省级审核",
                None => "无审核",
            };
            Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: ev.occurred_at,
                summary: format!(
                    "{} 于 {} 将患者转往{}{}（{}，{}），需{}审核（事件 {}）",
                    ev.hospital_name,
                    china_time(ev.occurred_at),
                    to.city,
                    to.name,
                    scope,
                    had,
                    level,
                    ev.event_id
                ),
                evidence: vec![ev.row_id],
                complaints: Vec::new(),
            })
        } else {
            Outcome::Clear
        };
        verdicts.push(Verdict::on_event(RuleId::ReferralUnapproved, ev, outcome));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Approval, Facility};
    use crate::rules::testing::*;

    fn dandong(_: &str) -> Option<Place> {
        Some(Place {
            city: "丹东".into(),
            province: "辽宁".into(),
        })
    }

    fn judge(city: &str, province: &str, approval: Option<ApprovalLevel>) -> Outcome {
        let mut t = ev(1, 1, EventKind::Transfer, "2022-07-01 10:00");
        t.body.to_facility = Some(Facility {
            name: "某医院".into(),
            city: city.into(),
            province: province.into(),
        });
        t.body.approval = approval.map(|level| Approval {
            reference: "审-1".into(),
            level,
        });
        let v = evaluate(&history(vec![t]), &defaults, &dandong);
        outcomes(&v, RuleId::ReferralUnapproved).remove(0)
    }

    #[test]
    fn within_the_city_needs_nothing_and_within_the_province_a_municipal_approval() {
        assert_eq!(judge("丹东市", "辽宁省", None), Outcome::Clear);
        assert!(violation(&judge("沈阳", "辽宁", None)).is_some());
        assert_eq!(
            judge("沈阳市", "辽宁省", Some(ApprovalLevel::Municipal)),
            Outcome::Clear
        );
        assert_eq!(
            judge("沈阳", "辽宁", Some(ApprovalLevel::Provincial)),
            Outcome::Clear
        );
    }

    #[test]
    fn out_of_the_province_a_municipal_approval_is_not_enough() {
        assert!(violation(&judge("北京", "北京", Some(ApprovalLevel::Municipal))).is_some());
        assert!(violation(&judge("北京", "北京", None)).is_some());
        assert_eq!(
            judge("北京", "北京", Some(ApprovalLevel::Provincial)),
            Outcome::Clear
        );
    }

    #[test]
    fn a_hospital_whose_jurisdiction_no_pack_declares_is_not_judged() {
        let mut t = ev(1, 1, EventKind::Transfer, "2022-07-01 10:00");
        t.body.to_facility = Some(Facility {
            name: "某医院".into(),
            city: "北京".into(),
            province: "北京".into(),
        });
        let v = evaluate(&history(vec![t]), &defaults, &|_| None);
        assert_eq!(outcomes(&v, RuleId::ReferralUnapproved), [Outcome::Clear]);
    }
}
