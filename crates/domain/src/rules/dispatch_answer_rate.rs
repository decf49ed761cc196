//! `dispatch.answer_rate`: a 120 centre's China day on which fewer than the share (95 %) of
//! the calls received were answered within the limit (10 seconds). Judged once the day is over;
//! a call of the day logged late judges it again.

use chrono::{Duration, NaiveDateTime};

use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::dispatch::{CentreDay, DayFigures};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::DispatchAnswerRate,
    title_zh: "120 十秒接听率不达标",
    title_en: "120 calls not answered within 10 seconds often enough",
    plain_zh: "120 急救中心某日 10 秒内接听的报警电话比例低于 95%（时限、比例可由政策包调整）。",
    plain_en: "On one day, a 120 centre answered fewer than 95 % of its calls within 10 seconds (the limit and the share may be set by a policy pack).",
    sources: "003 (item 6)",
    quote: "要求市120紧急救援中心严格落实24小时值班值守制度，10秒内接听报警电话比例要达到95%以上，应答率达到100%。（003 第六条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::seconds(10)),
    default_count: Some(DEFAULT_SHARE),
};

/// The share of calls, in percent, to be answered within the limit.
pub const DEFAULT_SHARE: u32 = 95;

/// At most this many missed calls (the first) are linked to a day's case as evidence; the
/// day's figures on the case list them all. Each link is a row with a foreign key to its event:
/// on PostgreSQL a checked and locked row each (BENCHMARKS.md §12).
pub const EVIDENCE_CAP: usize = 20;

pub fn evaluate(
    day: &CentreDay<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    day_verdict(
        RuleId::DispatchAnswerRate,
        day,
        setting,
        now,
        |s, limit, f| {
            let share = s.count.unwrap_or(DEFAULT_SHARE);
            f.share_below(share).then(|| {
                (
                    format!(
                        "{} {} 受理 {} 个报警电话，{} 秒内接听 {} 个（{:.1}%），低于 {}%",
                        day.centre_name,
                        day.date,
                        f.calls,
                        limit.num_seconds(),
                        f.answered_in_time,
                        f.share().unwrap_or_default(),
                        share
                    ),
                    f.late.iter().take(EVIDENCE_CAP).map(|m| m.row_id).collect(),
                )
            })
        },
    )
}

/// A day rule's verdict on a centre's day, by the setting in force at the day's start: off,
/// clear; until the day is over, a deadline at its end; then what `judge` finds in the day's
/// figures counted under the rule's limit (a day rule reads only its own count), as a summary
/// and the rows of the calls it rests on.
pub(super) fn day_verdict(
    rule: RuleId,
    day: &CentreDay<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
    judge: impl FnOnce(&Setting, Duration, &DayFigures) -> Option<(String, Vec<i64>)>,
) -> Verdict {
    let s = setting(rule, day.jurisdiction, day.start());
    let limit = s.limit_or_default(rule);
    let outcome = if !s.enabled {
        Outcome::Clear
    } else if now < day.end() {
        Outcome::Pending { due: day.end() }
    } else {
        match judge(&s, limit, &DayFigures::of(day.calls, limit, limit)) {
            Some((summary, evidence)) => Outcome::Violation(Finding {
                severity: s.severity,
                occurred_at: day.start(),
                summary,
                evidence,
                complaints: Vec::new(),
            }),
            None => Outcome::Clear,
        }
    };
    Verdict {
        rule,
        subject: day.subject(),
        hospital_id: Some(day.centre_id),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn a_day_at_exactly_95_percent_passes_and_below_is_flagged_once_the_day_is_over() {
        // 19 of 20 answered within 10 s (exactly 10 s included): 95.0 %.
        let mut calls: Vec<_> = (0..19).map(|i| answered(i, 10)).collect();
        calls.push(answered(19, 11));
        let at_95 = judge_day(&calls, "2022-07-02 00:00", evaluate);
        assert_eq!(at_95, Outcome::Clear);
        calls.push(answered(20, 30));
        let during = judge_day(&calls, "2022-07-01 23:59:59", evaluate);
        assert_eq!(
            during,
            Outcome::Pending {
                due: cn("2022-07-02 00:00")
            }
        );
        let after = judge_day(&calls, "2022-07-02 00:00", evaluate);
        assert_eq!(
            violation(&after),
            Some(vec![119, 120]),
            "the two late calls"
        );
    }
}
