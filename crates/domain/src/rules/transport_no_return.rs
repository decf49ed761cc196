//! `transport.no_return`: a resident the community's car brought to a hospital not brought back
//! (`returned`) within the limit (12 hours) of `at_hospital`: the loop (闭环送回) was not closed.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Source, Verdict, human};
use crate::transport::{RequestFacts, request_subject};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::TransportNoReturn,
    title_zh: "就医用车未闭环送回",
    title_en: "Resident not brought back from hospital",
    plain_zh: "社区安排的车辆将封（管）控区居民送到医院后，未在时限内（默认 12 小时）将其闭环送回社区。",
    plain_en: "A community's car took a sealed-area resident to hospital and did not bring them back within the limit (12 hours by default).",
    sources: "000",
    quote: "联系派车到患者居住地接人，点对点送到医院就诊，并闭环送回社区（村）。（000）",
    default_severity: Severity::Low,
    default_limit: Some(Duration::hours(12)),
    default_count: None,
};

pub fn evaluate(
    desk: &Source<'_>,
    request: &RequestFacts,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let rule = RuleId::TransportNoReturn;
    let arrived = request.at_hospital?;
    let s = setting(rule, desk.jurisdiction, arrived.at);
    let limit = s.limit_or_default(rule);
    let due = arrived.at + limit;
    let finding = |summary: String, evidence: Vec<i64>| {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: arrived.at,
            summary,
            evidence,
            complaints: Vec::new(),
        })
    };
    let outcome = match request.returned {
        _ if !s.enabled => Outcome::Clear,
        Some(r) if r.at <= due => Outcome::Clear,
        Some(r) => finding(
            format!(
                "{} 就医用车申请 {} 的居民 {} 到院，{} 后才送回社区，超过 {} 时限",
                desk.name,
                request.request_id,
                china_time(arrived.at),
                human(r.at - arrived.at),
                human(limit)
            ),
            vec![arrived.row_id, r.row_id],
        ),
        None if now >= due => finding(
            format!(
                "{} 就医用车申请 {} 的居民 {} 到院，{} 内未送回社区",
                desk.name,
                request.request_id,
                china_time(arrived.at),
                human(limit)
            ),
            vec![arrived.row_id],
        ),
        None => Outcome::Pending { due },
    };
    Some(desk.verdict(rule, request_subject(desk.id, &request.request_id), outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use crate::transport::Purpose;

    fn judge(r: &RequestFacts, now: &str) -> Outcome {
        evaluate(&DESK, r, &defaults, cn(now))
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }

    #[test]
    fn returned_within_12_hours_exactly_closes_the_loop_and_a_minute_more_does_not() {
        let trip = |back| {
            request(
                "R",
                Purpose::Dialysis,
                0,
                &[("at_hospital", 60), ("returned", back)],
            )
        };
        assert_eq!(judge(&trip(60 + 720), "2022-07-03 00:00"), Outcome::Clear);
        assert_eq!(
            violation(&judge(&trip(60 + 721), "2022-07-03 00:00")),
            Some(vec![2, 3])
        );
    }

    #[test]
    fn no_return_yet_is_pending_until_the_12th_hour() {
        let there = request("R", Purpose::Other, 0, &[("at_hospital", 0)]);
        assert_eq!(
            judge(&there, "2022-07-01 19:59"),
            Outcome::Pending {
                due: cn("2022-07-01 20:00")
            }
        );
        assert_eq!(violation(&judge(&there, "2022-07-01 20:00")), Some(vec![2]));
        let not_there = request("R", Purpose::Other, 0, &[]);
        assert_eq!(judge(&not_there, "2022-07-09 00:00"), Outcome::Clear);
    }
}
