//! `transport.wait`: a community transport request not picked up within its limit of being
//! made: 2 hours for a resident of a special group (孕产检、透析、化疗、肿瘤), 6 for others. A
//! request still waiting at the limit is a violation too; one cancelled before it is not.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Source, Verdict, human};
use crate::transport::{RequestFacts, request_subject};

/// The limit for a resident of no special group.
pub const DEFAULT_ORDINARY: Duration = Duration::hours(6);

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::TransportWait,
    title_zh: "封管控区就医用车等待超时",
    title_en: "Sealed-area transport request waiting too long",
    plain_zh: "社区受理封（管）控区居民就医用车申请后，未在时限内接到居民：孕产检、透析、化疗、肿瘤等特殊群体默认 2 小时，其他居民 6 小时。",
    plain_en: "A community desk did not pick up a sealed-area resident within the limit of their request: 2 hours for special groups (pregnancy checks, dialysis, chemotherapy, oncology), 6 hours for others, by default.",
    sources: "000",
    quote: "其他有非紧急就医需求的患者，均可预约使用保障车辆。保障车辆优先满足孕产检、透析、化疗、肿瘤等特殊群体的就医需求。……社区（村）会同医务人员核实必要情况后，联系派车到患者居住地接人，点对点送到医院就诊，并闭环送回社区（村）。（000）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::hours(2)),
    default_count: None,
};

/// The wait allowed for `request` under `s`: the special groups' limit or the others'.
pub fn limit_for(request: &RequestFacts, s: &Setting) -> Duration {
    if request.is_special() {
        s.limit_or_default(RuleId::TransportWait)
    } else {
        s.ordinary_limit.unwrap_or(DEFAULT_ORDINARY)
    }
}

pub fn evaluate(
    desk: &Source<'_>,
    request: &RequestFacts,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let rule = RuleId::TransportWait;
    let made = request.requested?;
    let s = setting(rule, desk.jurisdiction, made.at);
    let limit = limit_for(request, &s);
    let due = made.at + limit;
    let who = if request.is_special() {
        "特殊群体"
    } else {
        "普通"
    };
    let finding = |summary: String, evidence: Vec<i64>| {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: made.at,
            summary,
            evidence,
            complaints: Vec::new(),
        })
    };
    let outcome = match (request.picked_up, request.cancelled) {
        _ if !s.enabled => Outcome::Clear,
        (Some(p), _) if p.at <= due => Outcome::Clear,
        (None, Some(c)) if c.at <= due => Outcome::Clear,
        (Some(p), _) => finding(
            format!(
                "{} 于 {} 受理的{}就医用车申请 {} 等待 {} 才接到居民，超过 {} 时限",
                desk.name,
                china_time(made.at),
                who,
                request.request_id,
                human(p.at - made.at),
                human(limit)
            ),
            vec![made.row_id, p.row_id],
        ),
        (None, cancelled) if now >= due || cancelled.is_some() => finding(
            format!(
                "{} 于 {} 受理的{}就医用车申请 {} 在 {} 内未接到居民",
                desk.name,
                china_time(made.at),
                who,
                request.request_id,
                human(limit)
            ),
            std::iter::once(made.row_id)
                .chain(cancelled.map(|c| c.row_id))
                .collect(),
        ),
        (None, _) => Outcome::Pending { due },
    };
    Some(desk.verdict(rule, request_subject(desk.id, &request.request_id), outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use crate::transport::Purpose;

    #[test]
    fn a_special_group_is_picked_up_within_2_hours_exactly_and_others_within_6() {
        let dialysis = |mins| request("R", Purpose::Dialysis, 0, &[("picked_up", mins)]);
        assert_eq!(
            judge_request(&dialysis(120), "2022-07-02 00:00"),
            Outcome::Clear
        );
        assert_eq!(
            violation(&judge_request(&dialysis(121), "2022-07-02 00:00")),
            Some(vec![1, 2])
        );
        let other = |mins| request("R", Purpose::Other, 0, &[("picked_up", mins)]);
        assert_eq!(
            judge_request(&other(360), "2022-07-02 00:00"),
            Outcome::Clear
        );
        assert!(violation(&judge_request(&other(361), "2022-07-02 00:00")).is_some());
    }

    #[test]
    fn a_request_still_waiting_is_pending_until_its_limit_and_a_violation_from_then() {
        let waiting = request("R", Purpose::Chemotherapy, 0, &[]);
        assert_eq!(
            judge_request(&waiting, "2022-07-01 09:59"),
            Outcome::Pending {
                due: cn("2022-07-01 10:00")
            }
        );
        assert_eq!(
            violation(&judge_request(&waiting, "2022-07-01 10:00")),
            Some(vec![1])
        );
    }

    #[test]
    fn a_request_cancelled_within_its_limit_is_not_judged_and_one_cancelled_later_is() {
        let early = request("R", Purpose::Other, 0, &[("cancelled", 60)]);
        assert_eq!(judge_request(&early, "2022-07-02 00:00"), Outcome::Clear);
        let late = request("R", Purpose::Other, 0, &[("cancelled", 400)]);
        assert_eq!(
            violation(&judge_request(&late, "2022-07-01 12:00")),
            Some(vec![1, 2])
        );
    }

    fn judge_request(r: &RequestFacts, now: &str) -> Outcome {
        evaluate(&DESK, r, &defaults, cn(now))
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }
}
