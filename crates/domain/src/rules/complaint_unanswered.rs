//! `complaint.unanswered`: a complaint not acknowledged by an inspector within the limit (24 h).

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ComplaintUnanswered,
    title_zh: "投诉未及时受理",
    title_en: "Complaint not answered in time",
    plain_zh: "市民投诉在时限（默认 24 小时）内未被监督员受理。",
    plain_en: "A citizen's complaint was not acknowledged by an inspector within the limit (24 hours by default).",
    sources: "004 (item 3)",
    quote: "如有投诉可直接拨打12320热线电话。（004 第三条）",
    default_severity: Severity::Low,
    default_limit: Some(Duration::hours(24)),
    default_count: None,
};

#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    complaint_id: i64,
    tracking_code: &str,
    hospital_id: Option<i64>,
    jurisdiction: &str,
    created_at: NaiveDateTime,
    acknowledged_at: Option<NaiveDateTime>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    let s = setting(RuleId::ComplaintUnanswered, jurisdiction, created_at);
    let limit = s.limit_or_default(RuleId::ComplaintUnanswered);
    let due = created_at + limit;
    let late = |waited: Duration| {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: created_at,
            summary: format!(
                "投诉 {} （{} 提交）{} 内未受理（已等待 {}）",
                tracking_code,
                china_time(created_at),
                human(limit),
                human(waited)
            ),
            evidence: Vec::new(),
            complaints: vec![complaint_id],
        })
    };
    let outcome = match acknowledged_at {
        _ if !s.enabled => Outcome::Clear,
        Some(ack) if ack <= due => Outcome::Clear,
        Some(ack) => late(ack - created_at),
        None if now >= due => late(now - created_at),
        None => Outcome::Pending { due },
    };
    Verdict {
        rule: RuleId::ComplaintUnanswered,
        subject: format!("complaint:{complaint_id}"),
        hospital_id,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn judge(ack: Option<&str>, now: &str) -> Outcome {
        evaluate(
            7,
            "TS-7",
            Some(1),
            "beijing",
            cn("2022-07-01 10:00"),
            ack.map(cn),
            &defaults,
            cn(now),
        )
        .outcome
    }

    #[test]
    fn an_acknowledgement_at_exactly_24_hours_is_in_time_and_a_minute_later_is_not() {
        assert_eq!(
            judge(Some("2022-07-02 10:00"), "2022-07-03 00:00"),
            Outcome::Clear
        );
        assert!(violation(&judge(Some("2022-07-02 10:01"), "2022-07-03 00:00")).is_some());
    }

    #[test]
    fn an_unacknowledged_complaint_waits_for_its_deadline_then_is_a_violation() {
        assert_eq!(
            judge(None, "2022-07-02 09:59"),
            Outcome::Pending {
                due: cn("2022-07-02 10:00")
            }
        );
        match judge(None, "2022-07-02 10:00") {
            Outcome::Violation(f) => assert_eq!(f.complaints, [7]),
            other => panic!("{other:?}"),
        }
    }
}
