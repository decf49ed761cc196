//! `transport.priority`: a special group's transport request (孕产检、透析、化疗、肿瘤) still
//! waiting when the same desk dispatched a car for an ordinary request made after it: the
//! special groups were not served first (优先满足).

use chrono::NaiveDateTime;

use super::history::china_time;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Source, Verdict};
use crate::transport::{RequestFacts, request_subject};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::TransportPriority,
    title_zh: "特殊群体就医用车未优先保障",
    title_en: "Special group's transport request passed over",
    plain_zh: "孕产检、透析、化疗、肿瘤等特殊群体的用车申请尚在等待时，同一社区已先为之后提出的普通用车申请派车。",
    plain_en: "A special group's transport request (pregnancy check, dialysis, chemotherapy, oncology) was still waiting when the same desk dispatched a car for an ordinary request made after it.",
    sources: "000",
    quote: "保障车辆优先满足孕产检、透析、化疗、肿瘤等特殊群体的就医需求。（000）",
    default_severity: Severity::Medium,
    default_limit: None,
    default_count: None,
};

/// `request` among the desk's `requests` (which may include it): the first ordinary request
/// made after it whose car was dispatched while it still waited.
pub fn passed_over_by<'a>(
    request: &RequestFacts,
    requests: &'a [RequestFacts],
) -> Option<&'a RequestFacts> {
    let made = request.requested?;
    if !request.is_special() {
        return None;
    }
    requests
        .iter()
        .filter(|o| !o.is_special() && o.request_id != request.request_id)
        .filter_map(|o| Some((o, o.requested?, o.dispatched?)))
        .filter(|(_, r, d)| r.at > made.at && request.waiting_at(d.at))
        .min_by_key(|(o, _, d)| (d.at, o.request_id.clone()))
        .map(|(o, _, _)| o)
}

pub fn evaluate(
    desk: &Source<'_>,
    request: &RequestFacts,
    requests: &[RequestFacts],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Option<Verdict> {
    let rule = RuleId::TransportPriority;
    let made = request.requested?;
    if !request.is_special() {
        return None;
    }
    let s = setting(rule, desk.jurisdiction, made.at);
    let outcome = match passed_over_by(request, requests) {
        Some(o) if s.enabled => {
            let (Some(o_made), Some(o_sent)) = (o.requested, o.dispatched) else {
                return None;
            };
            Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: o_sent.at,
                summary: format!(
                    "{} 于 {} 受理的特殊群体用车申请 {} 尚在等待，{} 已先为 {} 提出的普通用车申请 {} 派车",
                    desk.name,
                    china_time(made.at),
                    request.request_id,
                    china_time(o_sent.at),
                    china_time(o_made.at),
                    o.request_id
                ),
                evidence: vec![made.row_id, o_made.row_id, o_sent.row_id],
                complaints: Vec::new(),
            })
        }
        _ => Outcome::Clear,
    };
    Some(desk.verdict(rule, request_subject(desk.id, &request.request_id), outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use crate::transport::Purpose;

    fn judge(special: &RequestFacts, others: &[RequestFacts]) -> Outcome {
        let mut all = others.to_vec();
        all.push(special.clone());
        evaluate(&DESK, special, &all, &defaults)
            .map(|v| v.outcome)
            .unwrap_or(Outcome::Clear)
    }

    #[test]
    fn an_ordinary_request_made_later_and_served_first_passes_the_special_one_over() {
        let dialysis = request("S", Purpose::Dialysis, 0, &[("dispatched", 90)]);
        let later = request_rows("O", Purpose::Other, 10, &[("dispatched", 30)], 10);
        assert_eq!(
            violation(&judge(&dialysis, &[later])),
            Some(vec![1, 11, 12])
        );
    }

    #[test]
    fn an_ordinary_request_made_earlier_or_served_after_the_special_one_is_fine() {
        let dialysis = request("S", Purpose::Dialysis, 10, &[("dispatched", 20)]);
        let earlier = request_rows("O", Purpose::Other, 0, &[("dispatched", 15)], 10);
        assert_eq!(judge(&dialysis, &[earlier]), Outcome::Clear);
        let after = request_rows("O2", Purpose::Other, 12, &[("dispatched", 25)], 20);
        assert_eq!(judge(&dialysis, &[after]), Outcome::Clear);
        let ordinary = request("O3", Purpose::Other, 0, &[]);
        assert!(evaluate(&DESK, &ordinary, &[], &defaults).is_none());
    }

    #[test]
    fn a_special_request_cancelled_before_the_other_car_left_was_not_passed_over() {
        let gave_up = request("S", Purpose::Oncology, 0, &[("cancelled", 20)]);
        let later = request_rows("O", Purpose::Other, 10, &[("dispatched", 30)], 10);
        assert_eq!(judge(&gave_up, &[later]), Outcome::Clear);
    }
}
