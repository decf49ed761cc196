//! `complaint.unlogged`: a complaint of a refusal, a push-away or a handover delay at a
//! registered hospital whose own log holds no refusal, transfer or arrival within the window
//! around the complaint's time (the central-log principle: what happened at the door is in the
//! hospital's log, or the log is incomplete). Judged once the limit has passed since filing, so
//! that a log posted late still counts.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::ComplaintUnlogged,
    title_zh: "投诉所涉就诊在医院日志中无记录",
    title_en: "Complaint with no trace in the hospital's log",
    plain_zh: "市民投诉被拒收、推诿或交接延误，但医院在投诉所说时间前后（默认各 2 小时）没有登记任何拒收、转出或到院记录；提交 1 小时后判定。",
    plain_en: "A complaint of a refusal, a push-away or a handover delay, while the hospital logged no refusal, transfer or arrival within the window around its time (2 hours either side by default); judged an hour after filing.",
    sources: "004 (item 3), 001",
    quote: "如有投诉可直接拨打12320热线电话。（004 第三条）；决不允许以健康码或行程码异常、无核酸检测结果或检测结果超过时限等为理由，推诿拒收急危重症患者，延误治疗。（001）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(60)),
    default_count: None,
};

/// The window either side of the complaint's time, unless a pack sets `window_minutes`.
pub const DEFAULT_WINDOW: Duration = Duration::hours(2);

/// The categories a hospital's log should show a trace of.
pub fn applies_to(category: &str) -> bool {
    category.starts_with("refused_") || matches!(category, "pushed_away" | "handover_delay")
}

/// The complaint as the rule reads it.
pub struct Complaint<'a> {
    pub id: i64,
    pub tracking_code: &'a str,
    pub category: &'a str,
    pub hospital_id: Option<i64>,
    pub jurisdiction: &'a str,
    pub occurred_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// `logged`: the hospital's refusals, transfers and arrivals within the window (row ids);
/// `around`: its log within the window, of any kind (the case's evidence).
pub fn evaluate(
    c: &Complaint<'_>,
    logged: &[i64],
    around: &[i64],
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    let s = setting(RuleId::ComplaintUnlogged, c.jurisdiction, c.created_at);
    let due = c.created_at + s.limit_or_default(RuleId::ComplaintUnlogged);
    let window = s.window.unwrap_or(DEFAULT_WINDOW);
    let judged = s.enabled && c.hospital_id.is_some() && applies_to(c.category);
    let outcome = if !judged || !logged.is_empty() {
        Outcome::Clear
    } else if now < due {
        Outcome::Pending { due }
    } else {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: c.occurred_at,
            summary: format!(
                "投诉 {} 称 {} 发生拒收、推诿或交接延误，医院日志在其前后 {} 内无拒收、转出或到院记录",
                c.tracking_code,
                china_time(c.occurred_at),
                human(window)
            ),
            evidence: around.to_vec(),
            complaints: vec![c.id],
        })
    };
    Verdict {
        rule: RuleId::ComplaintUnlogged,
        subject: format!("complaint:{}", c.id),
        hospital_id: c.hospital_id,
        outcome,
    }
}

/// The window `[from, until]` the hospital's log is searched in.
pub fn window(
    c: &Complaint<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> (NaiveDateTime, NaiveDateTime) {
    let s = setting(RuleId::ComplaintUnlogged, c.jurisdiction, c.created_at);
    let w = s.window.unwrap_or(DEFAULT_WINDOW);
    (c.occurred_at - w, c.occurred_at + w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn complaint(category: &str) -> Complaint<'_> {
        Complaint {
            id: 3,
            tracking_code: "TS-3",
            category,
            hospital_id: Some(1),
            jurisdiction: "beijing",
            occurred_at: cn("2022-07-01 10:00"),
            created_at: cn("2022-07-01 12:00"),
        }
    }

    #[test]
    fn judged_an_hour_after_filing_flagged_only_without_a_trace_in_the_window() {
        let c = complaint("refused_health_code");
        let (from, until) = window(&c, &defaults);
        assert_eq!(
            (from, until),
            (cn("2022-07-01 08:00"), cn("2022-07-01 12:00"))
        );
        let at =
            |now: &str, logged: &[i64]| evaluate(&c, logged, &[5, 6], &defaults, cn(now)).outcome;
        assert_eq!(
            at("2022-07-01 12:59", &[]),
            Outcome::Pending {
                due: cn("2022-07-01 13:00")
            }
        );
        match at("2022-07-01 13:00", &[]) {
            Outcome::Violation(f) => {
                assert_eq!((f.evidence, f.complaints), (vec![5, 6], vec![3]));
                assert!(f.summary.contains("2 小时"), "{}", f.summary);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(at("2022-07-01 13:00", &[9]), Outcome::Clear);
    }

    #[test]
    fn other_categories_and_unregistered_hospitals_are_not_judged() {
        let now = cn("2022-07-02 00:00");
        for category in ["transport", "medication", "closure", "other"] {
            let c = complaint(category);
            assert_eq!(
                evaluate(&c, &[], &[], &defaults, now).outcome,
                Outcome::Clear,
                "{category}"
            );
        }
        for category in [
            "refused_test",
            "refused_fever",
            "refused_other",
            "pushed_away",
            "handover_delay",
        ] {
            assert!(applies_to(category), "{category}");
        }
        let mut c = complaint("pushed_away");
        c.hospital_id = None;
        assert_eq!(
            evaluate(&c, &[], &[], &defaults, now).outcome,
            Outcome::Clear
        );
    }
}
