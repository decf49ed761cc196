//! `complaint.overdue`: a complaint forwarded to its hospital (转办) and not answered by its
//! `answer_due` (working days after the forward; 5 by default).

use chrono::NaiveDateTime;

use super::history::china_time;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ComplaintOverdue,
    title_zh: "转办投诉逾期未答复",
    title_en: "Forwarded complaint not answered in time",
    plain_zh: "12320 转办医院的投诉，医院未在答复期限（默认转办后 5 个工作日）内答复。",
    plain_en: "A complaint forwarded to the hospital by the 12320 desk was not answered by its deadline (5 working days after the forward by default).",
    sources: "004 (item 3)",
    quote: "如有投诉可直接拨打12320热线电话。（004 第三条）",
    default_severity: Severity::Medium,
    default_limit: None,
    default_count: None,
};

/// What the rule needs of one complaint's current round (forwarded, or forwarded again after
/// the `reopened`-th reopening).
pub struct Round<'a> {
    pub complaint_id: i64,
    pub tracking_code: &'a str,
    pub hospital_id: Option<i64>,
    pub jurisdiction: &'a str,
    pub forwarded_at: Option<NaiveDateTime>,
    pub answer_due: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub reopened: i32,
}

/// Each round is its own subject (`complaint:ID:ROUND`), so that a later answer in time never
/// withdraws the case of an earlier late one.
pub fn evaluate(
    r: &Round<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Option<Verdict> {
    let (forwarded, due) = (r.forwarded_at?, r.answer_due?);
    let s = setting(RuleId::ComplaintOverdue, r.jurisdiction, forwarded);
    let late = |answered: Option<NaiveDateTime>| {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: due,
            summary: match answered {
                Some(at) => format!(
                    "投诉 {} 于 {} 转办，答复期限 {}，医院 {} 才答复",
                    r.tracking_code,
                    china_time(forwarded),
                    china_time(due),
                    china_time(at)
                ),
                None => format!(
                    "投诉 {} 于 {} 转办，答复期限 {} 已过，医院仍未答复",
                    r.tracking_code,
                    china_time(forwarded),
                    china_time(due)
                ),
            },
            evidence: Vec::new(),
            complaints: vec![r.complaint_id],
        })
    };
    let outcome = match r.answered_at {
        _ if !s.enabled => Outcome::Clear,
        Some(at) if at <= due => Outcome::Clear,
        Some(at) => late(Some(at)),
        None if now >= due => late(None),
        None => Outcome::Pending { due },
    };
    Some(Verdict {
        rule: RuleId::ComplaintOverdue,
        subject: format!("complaint:{}:{}", r.complaint_id, r.reopened),
        hospital_id: r.hospital_id,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn judge(answered: Option<&str>, now: &str) -> Option<Outcome> {
        let r = Round {
            complaint_id: 7,
            tracking_code: "TS-7",
            hospital_id: Some(1),
            jurisdiction: "beijing",
            forwarded_at: Some(cn("2022-09-30 10:00")),
            // Five working days after 2022-09-30 across National Day: 2022-10-12 ends.
            answer_due: Some(cn("2022-10-13 00:00")),
            answered_at: answered.map(cn),
            reopened: 0,
        };
        evaluate(&r, &defaults, cn(now)).map(|v| v.outcome)
    }

    #[test]
    fn an_answer_by_its_deadline_is_in_time_and_one_after_it_is_late() {
        assert_eq!(
            judge(Some("2022-10-12 23:59"), "2022-10-14 00:00"),
            Some(Outcome::Clear)
        );
        assert!(
            violation(&judge(Some("2022-10-13 00:01"), "2022-10-14 00:00").expect("judged"))
                .is_some()
        );
    }

    #[test]
    fn an_unanswered_complaint_waits_for_its_deadline_and_a_never_forwarded_one_is_not_judged() {
        assert_eq!(
            judge(None, "2022-10-12 12:00"),
            Some(Outcome::Pending {
                due: cn("2022-10-13 00:00")
            })
        );
        match judge(None, "2022-10-13 00:00") {
            Some(Outcome::Violation(f)) => assert_eq!(f.complaints, [7]),
            other => panic!("{other:?}"),
        }
        let never = Round {
            complaint_id: 8,
            tracking_code: "TS-8",
            hospital_id: Some(1),
            jurisdiction: "beijing",
            forwarded_at: None,
            answer_due: None,
            answered_at: None,
            reopened: 0,
        };
        assert!(evaluate(&never, &defaults, cn("2022-10-13 00:00")).is_none());
    }

    #[test]
    fn each_round_is_its_own_subject() {
        let mut r = Round {
            complaint_id: 7,
            tracking_code: "TS-7",
            hospital_id: Some(1),
            jurisdiction: "beijing",
            forwarded_at: Some(cn("2022-09-30 10:00")),
            answer_due: Some(cn("2022-10-13 00:00")),
            answered_at: None,
            reopened: 1,
        };
        let subject =
            |r: &Round<'_>| evaluate(r, &defaults, cn("2022-10-01 00:00")).map(|v| v.subject);
        assert_eq!(subject(&r).as_deref(), Some("complaint:7:1"));
        r.reopened = 2;
        assert_eq!(subject(&r).as_deref(), Some("complaint:7:2"));
    }
}
