//! `dispatch.unanswered`: a 120 centre's China day with a call the caller abandoned, or not
//! answered within the limit (60 seconds): the answer rate was below 100 %. One case per
//! centre and day, judged once the day is over.

use chrono::{Duration, NaiveDateTime};

use super::dispatch_answer_rate::{EVIDENCE_CAP, day_verdict};
use super::{RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::dispatch::CentreDay;

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::DispatchUnanswered,
    title_zh: "120 应答率未达 100%",
    title_en: "120 calls left unanswered",
    plain_zh: "120 急救中心某日有报警电话在呼叫方挂断前未接听，或未在时限（默认 60 秒）内接听，应答率未达到 100%。",
    plain_en: "On one day, a 120 centre left a call unanswered: the caller hung up first, or it was not answered within the limit (60 seconds by default).",
    sources: "003 (item 6)",
    quote: "10秒内接听报警电话比例要达到95%以上，应答率达到100%。（003 第六条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::seconds(60)),
    default_count: None,
};

pub fn evaluate(
    day: &CentreDay<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    day_verdict(
        RuleId::DispatchUnanswered,
        day,
        setting,
        now,
        |_, limit, f| {
            (!f.unanswered.is_empty()).then(|| {
            (
                format!(
                    "{} {} 受理 {} 个报警电话，{} 个未在 {} 秒内接听（其中呼叫方挂断 {} 个），应答率 {:.1}%",
                    day.centre_name,
                    day.date,
                    f.calls,
                    f.unanswered.len(),
                    limit.num_seconds(),
                    f.abandoned,
                    f.answer_rate().unwrap_or_default()
                ),
                f.unanswered
                    .iter()
                    .take(EVIDENCE_CAP)
                    .map(|m| m.row_id)
                    .collect(),
            )
        })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::DispatchKind;
    use crate::rules::Outcome;
    use crate::rules::testing::*;

    #[test]
    fn an_answer_at_60_seconds_counts_and_at_61_or_an_abandoned_call_does_not() {
        let calls = vec![answered(0, 60), answered(1, 3)];
        assert_eq!(
            judge_day(&calls, "2022-07-02 00:00", evaluate),
            Outcome::Clear
        );
        let late = vec![answered(0, 61), answered(1, 3)];
        assert_eq!(
            violation(&judge_day(&late, "2022-07-02 00:00", evaluate)),
            Some(vec![100])
        );
        let hung_up = vec![
            answered(0, 3),
            call_of(
                1,
                &[
                    (DispatchKind::CallReceived, 0),
                    (DispatchKind::CallAbandoned, 4),
                ],
            ),
        ];
        assert_eq!(
            violation(&judge_day(&hung_up, "2022-07-02 00:00", evaluate)),
            Some(vec![101])
        );
        assert!(matches!(
            judge_day(&hung_up, "2022-07-01 23:00", evaluate),
            Outcome::Pending { .. }
        ));
    }
}
