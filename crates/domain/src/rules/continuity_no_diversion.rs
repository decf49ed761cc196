//! `continuity.no_diversion`: a closed facility, or a closed dialysis or oncology unit, that
//! names no hospital its patients in regular treatment are diverted to (`diverted_to`, on any
//! event of the closure) within the limit of its start (24 hours). Judged at the limit whether
//! or not the closure has ended by then.

use chrono::{Duration, NaiveDateTime};

use super::closure_too_long::{closed_part, closure_subject, first_start};
use super::history::china_time;
use super::{EventView, Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict, human};
use crate::event::{Closure, ClosureKind, ClosureScope};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ContinuityNoDiversion,
    title_zh: "停诊未做规律治疗患者分流",
    title_en: "Closure without diverting patients in regular treatment",
    plain_zh: "医疗机构整体或透析、肿瘤等科室停诊后，未在时限内（默认 24 小时）指定分流医院，透析、放化疗等需规律治疗的患者无处就医。",
    plain_en: "A hospital, or its dialysis or oncology unit, closed without naming within the limit (24 hours by default) the hospital its patients in regular treatment (dialysis, chemotherapy) are diverted to.",
    sources: "003 (item 8), 002",
    quote: "如原就诊医疗机构不能提供连续、不间断的医疗服务，及时做好肾功能衰竭患者、肿瘤患者以及其他需要维持定期治疗的重症患者分流救治工作。（003 第八条）；放化疗、血透病人原则上到原来的医院就诊，因封控原因无法前往的，到所在区的定点医院就诊。（002）",
    default_severity: Severity::High,
    default_limit: Some(Duration::hours(24)),
    default_count: None,
};

/// Whether closing it interrupts regular treatment: the whole facility, a dialysis or an
/// oncology unit.
pub fn interrupts_treatment(closure: &Closure) -> bool {
    closure.scope == ClosureScope::Facility
        || matches!(
            closure.kind,
            Some(ClosureKind::Dialysis | ClosureKind::Oncology)
        )
}

/// `events`: the `closure_start` and `closure_end` events of one closure (one hospital, one id).
pub fn evaluate(
    events: &[EventView],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let (start, closure) = first_start(events)?;
    let s = setting(
        RuleId::ContinuityNoDiversion,
        &start.jurisdiction,
        start.occurred_at,
    );
    let limit = s.limit_or_default(RuleId::ContinuityNoDiversion);
    let due = start.occurred_at + limit;
    let diverted = events.iter().any(|e| {
        e.occurred_at <= due
            && e.body
                .closure
                .as_ref()
                .is_some_and(|c| c.diverted_to.is_some())
    });
    let outcome = if !s.enabled || !interrupts_treatment(closure) || diverted {
        Outcome::Clear
    } else if now >= due {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: start.occurred_at,
            summary: format!(
                "{} {}自 {} 起停诊，{} 内未指定分流医院（停诊编号 {}）",
                start.hospital_name,
                closed_part(closure),
                china_time(start.occurred_at),
                human(limit),
                closure.id
            ),
            evidence: vec![start.row_id],
            complaints: Vec::new(),
        })
    } else {
        Outcome::Pending { due }
    };
    Some(Verdict {
        rule: RuleId::ContinuityNoDiversion,
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

    fn closure_event(
        row: i64,
        kind: EventKind,
        at: &str,
        unit: Option<ClosureKind>,
        diverted_to: Option<&str>,
    ) -> EventView {
        let mut e = ev(row, 1, kind, at).closure("c-1", ClosureScope::Unit);
        if let Some(c) = e.body.closure.as_mut() {
            c.kind = unit;
            c.diverted_to = diverted_to.map(str::to_string);
        }
        e
    }

    fn dialysis(diverted_to: Option<&str>) -> EventView {
        closure_event(
            1,
            EventKind::ClosureStart,
            "2022-07-01 08:00",
            Some(ClosureKind::Dialysis),
            diverted_to,
        )
    }

    fn judge(events: &[EventView], now: &str) -> Outcome {
        evaluate(events, &defaults, cn(now))
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }

    #[test]
    fn a_dialysis_closure_naming_no_diversion_is_flagged_at_exactly_24_hours() {
        let start = [dialysis(None)];
        assert_eq!(
            judge(&start, "2022-07-02 07:59"),
            Outcome::Pending {
                due: cn("2022-07-02 08:00")
            }
        );
        assert_eq!(violation(&judge(&start, "2022-07-02 08:00")), Some(vec![1]));
    }

    #[test]
    fn a_diversion_named_at_the_start_or_by_the_24th_hour_clears_it_and_later_does_not() {
        assert_eq!(
            judge(&[dialysis(Some("DD-ZX"))], "2022-07-03 00:00"),
            Outcome::Clear
        );
        let named = |at| {
            closure_event(
                2,
                EventKind::ClosureStart,
                at,
                Some(ClosureKind::Dialysis),
                Some("DD-ZX"),
            )
        };
        assert_eq!(
            judge(
                &[dialysis(None), named("2022-07-02 08:00")],
                "2022-07-03 00:00"
            ),
            Outcome::Clear
        );
        assert!(
            violation(&judge(
                &[dialysis(None), named("2022-07-02 08:01")],
                "2022-07-03 00:00"
            ))
            .is_some()
        );
    }

    #[test]
    fn an_emergency_closure_interrupts_no_regular_treatment() {
        let er = closure_event(
            1,
            EventKind::ClosureStart,
            "2022-07-01 08:00",
            Some(ClosureKind::Emergency),
            None,
        );
        assert_eq!(judge(&[er], "2022-07-05 00:00"), Outcome::Clear);
    }
}
