//! `closure.critical_unit`: a whole facility, or an emergency or dialysis unit, closed: flagged
//! as the closure starts, for the inspectors to check that it was done "with the greatest care"
//! (003 item 7), whatever its length.

use chrono::NaiveDateTime;

use super::closure_too_long::{closed_part, closure_subject, first_start};
use super::history::china_time;
use super::{EventView, Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::{Closure, ClosureKind, ClosureScope};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ClosureCriticalUnit,
    title_zh: "急诊室、透析室或全院封控停诊",
    title_en: "Emergency room, dialysis unit or whole hospital closed",
    plain_zh: "医疗机构整体封控停诊，或急诊室、透析室被封控停诊：自开始起立案，核查是否慎重实施。",
    plain_en: "A whole hospital, or its emergency room or dialysis unit, was closed: a case from the start, to check it was done with the greatest care.",
    sources: "003 (item 7)",
    quote: "分区域、分科室、分单元划定封控、管控范围，对急诊室、透析室等慎重实施封控、管控措施。（003 第七条）",
    default_severity: Severity::High,
    default_limit: None,
    default_count: None,
};

/// Whether the closure shuts what 003 item 7 names: the whole facility, an emergency room, a
/// dialysis room.
pub fn is_critical(closure: &Closure) -> bool {
    closure.scope == ClosureScope::Facility
        || matches!(
            closure.kind,
            Some(ClosureKind::Emergency | ClosureKind::Dialysis)
        )
}

/// `events`: the `closure_start` and `closure_end` events of one closure (one hospital, one id).
pub fn evaluate(
    events: &[EventView],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Option<Verdict> {
    let (start, closure) = first_start(events)?;
    let s = setting(
        RuleId::ClosureCriticalUnit,
        &start.jurisdiction,
        start.occurred_at,
    );
    let outcome = if s.enabled && is_critical(closure) {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: start.occurred_at,
            summary: format!(
                "{} {}自 {} 起封控停诊（停诊编号 {}）",
                start.hospital_name,
                closed_part(closure),
                china_time(start.occurred_at),
                closure.id
            ),
            evidence: vec![start.row_id],
            complaints: Vec::new(),
        })
    } else {
        Outcome::Clear
    };
    Some(Verdict {
        rule: RuleId::ClosureCriticalUnit,
        subject: closure_subject(start.hospital_id, &closure.id),
        hospital_id: Some(start.hospital_id),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::rules::testing::*;

    fn judge(scope: ClosureScope, kind: Option<ClosureKind>) -> Outcome {
        let mut start = ev(1, 1, EventKind::ClosureStart, "2022-07-01 08:00").closure("c-1", scope);
        if let Some(c) = start.body.closure.as_mut() {
            c.kind = kind;
        }
        evaluate(&[start], &defaults)
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }

    #[test]
    fn a_facility_or_an_emergency_or_dialysis_unit_closed_is_flagged_as_it_starts() {
        assert_eq!(
            violation(&judge(ClosureScope::Facility, None)),
            Some(vec![1])
        );
        assert!(violation(&judge(ClosureScope::Unit, Some(ClosureKind::Emergency))).is_some());
        assert!(
            violation(&judge(
                ClosureScope::Department,
                Some(ClosureKind::Dialysis)
            ))
            .is_some()
        );
    }

    #[test]
    fn other_units_closed_are_not_flagged() {
        for kind in [
            None,
            Some(ClosureKind::FeverClinic),
            Some(ClosureKind::Oncology),
            Some(ClosureKind::Obstetrics),
            Some(ClosureKind::Other),
        ] {
            assert_eq!(
                judge(ClosureScope::Department, kind),
                Outcome::Clear,
                "{kind:?}"
            );
        }
    }
}
