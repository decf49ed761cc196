//! `dispatch.delay`: a critical or urgent 120 call not dispatched within the limit (3 minutes)
//! of being answered: the dispatch came late, or none was logged by then (第一时间调度).

use chrono::{Duration, NaiveDateTime};

use super::history::{acuity_zh, china_time, is_critical_or_urgent};
use super::human;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::dispatch::{CallFacts, call_subject};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::DispatchDelay,
    title_zh: "120 危急重症派车延误",
    title_en: "Ambulance dispatched late for a critical call",
    plain_zh: "120 接听危重或紧急呼救后，未在时限（默认 3 分钟）内调度救护车。",
    plain_en: "A 120 centre answered a critical or urgent call and did not dispatch an ambulance within the limit (3 minutes by default).",
    sources: "003 (item 6)",
    quote: "值班调度员根据分区分类收治要求，第一时间调度救护车辆执行转运任务。（003 第六条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(3)),
    default_count: None,
};

/// The centre a call belongs to, as the rule names it.
pub use super::Source as Centre;

pub fn evaluate(
    centre: &Centre<'_>,
    call: &CallFacts,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let rule = RuleId::DispatchDelay;
    let answered = call.answered?;
    if !is_critical_or_urgent(call.acuity) {
        return None;
    }
    let s = setting(rule, centre.jurisdiction, answered.at);
    let limit = s.limit_or_default(rule);
    let due = answered.at + limit;
    let finding = |summary: String, evidence: Vec<i64>| {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: answered.at,
            summary,
            evidence,
            complaints: Vec::new(),
        })
    };
    let outcome = match call.dispatched {
        _ if !s.enabled => Outcome::Clear,
        Some(d) if d.at - answered.at <= limit => Outcome::Clear,
        Some(d) => finding(
            format!(
                "{} 于 {} 接听的{}呼救（{}）{}后才派车，超过 {} 时限",
                centre.name,
                china_time(answered.at),
                acuity_zh(call.acuity),
                call.call_id,
                human(d.at - answered.at),
                human(limit)
            ),
            vec![answered.row_id, d.row_id],
        ),
        None if now >= due => finding(
            format!(
                "{} 于 {} 接听的{}呼救（{}）在 {} 内无派车记录",
                centre.name,
                china_time(answered.at),
                acuity_zh(call.acuity),
                call.call_id,
                human(limit)
            ),
            vec![answered.row_id],
        ),
        None => Outcome::Pending { due },
    };
    Some(Verdict {
        rule,
        subject: call_subject(centre.id, &call.call_id),
        hospital_id: Some(centre.id),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::DispatchKind::{CallAnswered, CallReceived, Dispatched};
    use crate::event::Acuity;
    use crate::rules::testing::*;

    fn judge(acuity: Option<Acuity>, dispatched_after: Option<i64>, now: &str) -> Option<Outcome> {
        let mut events = vec![(CallReceived, 0), (CallAnswered, 5)];
        if let Some(s) = dispatched_after {
            events.push((Dispatched, 5 + s));
        }
        let mut call = call_of(1, &events);
        call.acuity = acuity;
        let centre = Centre {
            id: 9,
            name: "120 急救中心",
            jurisdiction: "beijing",
        };
        evaluate(&centre, &call, &defaults, cn(now)).map(|v| v.outcome)
    }

    #[test]
    fn a_dispatch_at_exactly_3_minutes_is_in_time_and_a_second_more_is_not() {
        let critical = Some(Acuity::Critical);
        assert_eq!(
            judge(critical, Some(180), "2022-07-02 00:00"),
            Some(Outcome::Clear)
        );
        let late = judge(Some(Acuity::Urgent), Some(181), "2022-07-02 00:00");
        assert_eq!(late.as_ref().and_then(violation), Some(vec![1101, 2101]));
    }

    #[test]
    fn no_dispatch_waits_for_the_limit_and_a_routine_call_has_no_clock() {
        assert_eq!(
            judge(Some(Acuity::Critical), None, "2022-07-01 10:03:04"),
            Some(Outcome::Pending {
                due: cn("2022-07-01 10:03:05")
            })
        );
        let none = judge(Some(Acuity::Critical), None, "2022-07-01 10:03:05");
        assert_eq!(none.as_ref().and_then(violation), Some(vec![1101]));
        assert_eq!(judge(Some(Acuity::Routine), None, "2022-07-02 00:00"), None);
        assert_eq!(judge(None, Some(600), "2022-07-02 00:00"), None);
    }
}
