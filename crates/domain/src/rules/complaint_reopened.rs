//! `complaint.reopened`: a complaint that callbacks found unresolved (or the caller
//! unsatisfied) twice: the second reopening elevates it (提级).

use chrono::NaiveDateTime;

use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::complaint::ELEVATE_AT_REOPENING;

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ComplaintReopened,
    title_zh: "投诉两次回访不满意（提级）",
    title_en: "Complaint reopened twice (elevated)",
    plain_zh: "12320 回访两次发现投诉未解决或来电人不满意，投诉被第二次重新转办，提级督办。",
    plain_en: "Callbacks found a complaint unresolved, or the caller unsatisfied, twice: its second reopening elevates it.",
    sources: "004 (item 3)",
    quote: "如有投诉可直接拨打12320热线电话。（004 第三条）",
    default_severity: Severity::High,
    default_limit: None,
    default_count: None,
};

/// `reopened_at`: when the complaint was last reopened (the case's time).
pub fn evaluate(
    complaint_id: i64,
    tracking_code: &str,
    hospital_id: Option<i64>,
    jurisdiction: &str,
    reopened: i32,
    reopened_at: NaiveDateTime,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Verdict {
    let s = setting(RuleId::ComplaintReopened, jurisdiction, reopened_at);
    let outcome = if s.enabled && reopened >= ELEVATE_AT_REOPENING {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: reopened_at,
            summary: format!(
                "投诉 {tracking_code} 回访 {reopened} 次未解决或不满意，已重新转办，提级督办"
            ),
            evidence: Vec::new(),
            complaints: vec![complaint_id],
        })
    } else {
        Outcome::Clear
    };
    Verdict {
        rule: RuleId::ComplaintReopened,
        subject: format!("complaint:{complaint_id}"),
        hospital_id,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn the_second_reopening_elevates_and_the_first_does_not() {
        let judge = |n| {
            evaluate(
                7,
                "TS-7",
                Some(1),
                "beijing",
                n,
                cn("2022-10-20 10:00"),
                &defaults,
            )
            .outcome
        };
        assert_eq!(judge(0), Outcome::Clear);
        assert_eq!(judge(1), Outcome::Clear);
        match judge(2) {
            Outcome::Violation(f) => {
                assert_eq!((f.severity, f.complaints), (Severity::High, vec![7]))
            }
            other => panic!("{other:?}"),
        }
    }
}
