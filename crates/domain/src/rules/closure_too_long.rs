//! `closure.too_long`: a facility or department closure lasting beyond the limit (48 hours):
//! it ended late, or is still in force then. Closures of a unit are allowed.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{EventView, Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::event::{Closure, ClosureKind, ClosureScope, EventKind};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ClosureTooLong,
    title_zh: "医院或科室停诊超时",
    title_en: "Hospital or department closed too long",
    plain_zh: "医疗机构整体或科室封控、停诊超过时限（默认 2 天，即 48 小时）。",
    plain_en: "A whole hospital or a department stayed closed beyond the limit (2 days, 48 hours, by default).",
    sources: "003 (item 7)",
    quote: "分区域、分科室、分单元划定封控、管控范围，对急诊室、透析室等慎重实施封控、管控措施。医疗机构整体封控、管控或停诊原则上不超过2天。（003 第七条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::hours(48)),
    default_count: None,
};

/// `events`: the `closure_start` and `closure_end` events of one closure (one hospital, one id).
pub fn evaluate(
    events: &[EventView],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let (start, closure) = first_start(events)?;
    let end = events
        .iter()
        .filter(|e| e.kind() == EventKind::ClosureEnd && e.occurred_at >= start.occurred_at)
        .min_by_key(|e| (e.occurred_at, e.row_id));
    let s = setting(
        RuleId::ClosureTooLong,
        &start.jurisdiction,
        start.occurred_at,
    );
    let limit = s.limit_or_default(RuleId::ClosureTooLong);
    let due = start.occurred_at + limit;
    let what = closed_part(closure);
    let outcome = if !s.enabled || closure.scope == ClosureScope::Unit {
        Outcome::Clear
    } else {
        match end {
            Some(e) if e.occurred_at - start.occurred_at <= limit => Outcome::Clear,
            Some(e) => Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: start.occurred_at,
                summary: format!(
                    "{} {}自 {} 起停诊 {}，超过 {} 时限（停诊编号 {}）",
                    start.hospital_name,
                    what,
                    china_time(start.occurred_at),
                    human(e.occurred_at - start.occurred_at),
                    human(limit),
                    closure.id
                ),
                evidence: vec![start.row_id, e.row_id],
                complaints: Vec::new(),
            }),
            None if now >= due => Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: start.occurred_at,
                summary: format!(
                    "{} {}自 {} 起停诊，{} 后仍未恢复（停诊编号 {}）",
                    start.hospital_name,
                    what,
                    china_time(start.occurred_at),
                    human(limit),
                    closure.id
                ),
                evidence: vec![start.row_id],
                complaints: Vec::new(),
            }),
            None => Outcome::Pending { due },
        }
    };
    Some(Verdict {
        rule: RuleId::ClosureTooLong,
        subject: closure_subject(start.hospital_id, &closure.id),
        hospital_id: Some(start.hospital_id),
        outcome,
    })
}

/// What the three closure rules hang on: one closure of one hospital.
pub fn closure_subject(hospital_id: i64, closure_id: &str) -> String {
    format!("closure:{hospital_id}:{closure_id}")
}

/// The (hospital id, closure id) of a [`closure_subject`].
pub fn parse_closure_subject(subject: &str) -> Option<(i64, &str)> {
    let mut parts = subject.strip_prefix("closure:")?.splitn(2, ':');
    let hospital = parts.next()?.parse().ok()?;
    Some((hospital, parts.next()?))
}

/// The first `closure_start` of one closure's events, and the closure it names.
pub fn first_start(events: &[EventView]) -> Option<(&EventView, &Closure)> {
    let start = events
        .iter()
        .filter(|e| e.kind() == EventKind::ClosureStart)
        .min_by_key(|e| (e.occurred_at, e.row_id))?;
    Some((start, start.body.closure.as_ref()?))
}

/// The closed part in words: "全院", "儿科科室", "透析室（血透中心）".
pub fn closed_part(closure: &Closure) -> String {
    let unit = match closure.kind {
        Some(ClosureKind::Emergency) => Some("急诊"),
        Some(ClosureKind::Dialysis) => Some("透析室"),
        Some(ClosureKind::FeverClinic) => Some("发热门诊"),
        Some(ClosureKind::Oncology) => Some("肿瘤科"),
        Some(ClosureKind::Obstetrics) => Some("产科"),
        Some(ClosureKind::Other) | None => None,
    };
    match (&closure.scope, unit, &closure.department) {
        (ClosureScope::Facility, _, _) => "全院".to_string(),
        (_, Some(u), Some(d)) => format!("{u}（{d}）"),
        (_, Some(u), None) => u.to_string(),
        (_, None, Some(d)) => format!("{d}科室"),
        (_, None, None) => "科室".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn start(scope: ClosureScope) -> crate::rules::EventView {
        ev(1, 1, EventKind::ClosureStart, "2022-07-01 08:00").closure("c-1", scope)
    }

    fn end(at: &str) -> crate::rules::EventView {
        ev(2, 1, EventKind::ClosureEnd, at).closure("c-1", ClosureScope::Facility)
    }

    fn judge(events: &[crate::rules::EventView], now: &str) -> Outcome {
        evaluate(events, &defaults, cn(now))
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }

    #[test]
    fn a_closure_of_47_or_exactly_48_hours_is_allowed_and_49_is_not() {
        let s = start(ClosureScope::Facility);
        assert_eq!(
            judge(&[s.clone(), end("2022-07-03 07:00")], "2022-07-10 00:00"),
            Outcome::Clear
        );
        assert_eq!(
            judge(&[s.clone(), end("2022-07-03 08:00")], "2022-07-10 00:00"),
            Outcome::Clear
        );
        let long = judge(&[s, end("2022-07-03 09:00")], "2022-07-10 00:00");
        assert_eq!(violation(&long), Some(vec![1, 2]));
    }

    #[test]
    fn a_closure_still_in_force_waits_for_hour_48_then_is_a_violation() {
        let s = start(ClosureScope::Department);
        assert_eq!(
            judge(std::slice::from_ref(&s), "2022-07-03 07:00"),
            Outcome::Pending {
                due: cn("2022-07-03 08:00")
            }
        );
        assert_eq!(violation(&judge(&[s], "2022-07-03 09:00")), Some(vec![1]));
    }

    #[test]
    fn a_closed_unit_is_not_a_closed_emergency_room() {
        assert_eq!(
            judge(&[start(ClosureScope::Unit)], "2022-07-10 00:00"),
            Outcome::Clear
        );
    }

    #[test]
    fn the_subject_is_the_hospital_s_closure_id() {
        let v = evaluate(
            &[start(ClosureScope::Facility)],
            &defaults,
            cn("2022-07-01 09:00"),
        );
        assert_eq!(v.map(|v| v.subject).as_deref(), Some("closure:1:c-1"));
    }

    #[test]
    fn dandong_limits_closures_from_2022_06_27_only() {
        let policy = shipped();
        let setting = |r: RuleId, j: &str, t: NaiveDateTime| policy.setting(r, j, t);
        let at = |t: &str| {
            let s = ev(1, 1, EventKind::ClosureStart, t)
                .closure("c-1", ClosureScope::Facility)
                .in_jurisdiction("dandong");
            evaluate(&[s], &setting, cn("2022-08-01 00:00")).map(|v| v.outcome)
        };
        assert_eq!(at("2022-06-26 23:00"), Some(Outcome::Clear));
        assert!(
            at("2022-06-27 00:00")
                .as_ref()
                .and_then(violation)
                .is_some()
        );
    }
}
