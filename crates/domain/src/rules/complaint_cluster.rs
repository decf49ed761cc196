//! `complaint.cluster`: at least N complaints against one hospital within a window (3 in 7
//! days). Windows run by filing time, which only moves forward, so the clusters found do not
//! depend on the order of evaluation.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ComplaintCluster,
    title_zh: "同一医院投诉集中",
    title_en: "Complaints cluster on one hospital",
    plain_zh: "同一医院在时间窗口内（默认 7 天）收到至少 N 件（默认 3 件）投诉。",
    plain_en: "One hospital received at least N complaints (3 by default) within the window (7 days by default).",
    sources: "004 (item 3)",
    quote: "不允许以健康码或行程码异常……等为理由延误治疗。如有投诉可直接拨打12320热线电话。（004 第三条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::days(7)),
    default_count: Some(3),
};

/// A complaint as this rule sees it.
#[derive(Debug, Clone)]
pub struct ComplaintView {
    pub id: i64,
    pub created_at: NaiveDateTime,
}

/// `complaints`: one hospital's complaints, any order.
pub fn evaluate(
    hospital_id: i64,
    hospital_name: &str,
    jurisdiction: &str,
    complaints: &[ComplaintView],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Vec<Verdict> {
    let mut sorted: Vec<&ComplaintView> = complaints.iter().collect();
    sorted.sort_by_key(|c| (c.created_at, c.id));
    let mut verdicts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let first = sorted[i];
        let s = setting(RuleId::ComplaintCluster, jurisdiction, first.created_at);
        let window = s.limit_or_default(RuleId::ComplaintCluster);
        let needed = s.count.unwrap_or(3).max(1) as usize;
        let members: Vec<&ComplaintView> = sorted[i..]
            .iter()
            .take_while(|c| c.created_at - first.created_at <= window)
            .copied()
            .collect();
        if s.enabled && members.len() >= needed {
            verdicts.push(Verdict {
                rule: RuleId::ComplaintCluster,
                subject: format!("cluster:{hospital_id}:{}", first.id),
                hospital_id: Some(hospital_id),
                outcome: Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: first.created_at,
                    summary: format!(
                        "{} 自 {} 起 {} 天内收到 {} 件投诉",
                        hospital_name,
                        china_time(first.created_at),
                        window.num_days(),
                        members.len()
                    ),
                    evidence: Vec::new(),
                    complaints: members.iter().map(|c| c.id).collect(),
                }),
            });
            i += members.len();
        } else {
            i += 1;
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn judge(times: &[&str]) -> Vec<Vec<i64>> {
        let complaints: Vec<ComplaintView> = times
            .iter()
            .zip(1..)
            .map(|(t, id)| ComplaintView {
                id,
                created_at: cn(t),
            })
            .collect();
        evaluate(1, "第1医院", "beijing", &complaints, &defaults)
            .into_iter()
            .filter_map(|v| match v.outcome {
                Outcome::Violation(f) => Some(f.complaints),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn three_complaints_within_exactly_7_days_are_a_cluster() {
        assert_eq!(
            judge(&["2022-07-01 10:00", "2022-07-04 10:00", "2022-07-08 10:00"]),
            [vec![1, 2, 3]]
        );
    }

    #[test]
    fn two_complaints_or_three_spread_over_more_than_7_days_are_not() {
        assert!(judge(&["2022-07-01 10:00", "2022-07-02 10:00"]).is_empty());
        assert!(judge(&["2022-07-01 10:00", "2022-07-04 10:00", "2022-07-08 10:01"]).is_empty());
    }

    #[test]
    fn a_complaint_belongs_to_one_cluster_only() {
        let six = [
            "2022-07-01 10:00",
            "2022-07-01 11:00",
            "2022-07-01 12:00",
            "2022-07-01 13:00",
        ];
        assert_eq!(judge(&six), [vec![1, 2, 3, 4]]);
    }
}
