//! `feed.silent`: a hospital that has posted before receives no events for the limit (24 hours,
//! by receipt time): its log may have stopped, and with it the hospital's 24-hour duty.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::FeedSilent,
    title_zh: "医院接诊日志中断",
    title_en: "Hospital's intake log went silent",
    plain_zh: "曾上报过数据的医院在时限（默认 24 小时，按接收时间）内没有任何上报，其接诊日志可能已中断。",
    plain_en: "A hospital that has posted before sent nothing for the limit (24 hours by default, by receipt time): its log may have stopped.",
    sources: "001 (24-hour duty), 003 (item 6)",
    quote: "各区确定并公布疫情期间医疗服务保障24小时值守电话，加强值守力量配备，确保有紧急情况时能够打得通、联系上、找到人、办成事。（001）；严格落实24小时值班值守制度。（003 第六条）",
    default_severity: Severity::Low,
    default_limit: Some(Duration::hours(24)),
    default_count: None,
};

pub fn evaluate(
    hospital_id: i64,
    hospital_name: &str,
    jurisdiction: &str,
    last_received_at: NaiveDateTime,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Verdict {
    let s = setting(RuleId::FeedSilent, jurisdiction, last_received_at);
    let limit = s.limit_or_default(RuleId::FeedSilent);
    let due = last_received_at + limit;
    let outcome = if !s.enabled {
        Outcome::Clear
    } else if now >= due {
        Outcome::Violation(Finding {
            severity: s.severity,
            occurred_at: last_received_at,
            summary: format!(
                "{} 自 {} 起 {} 未上报任何接诊记录",
                hospital_name,
                china_time(last_received_at),
                human(limit)
            ),
            evidence: Vec::new(),
            complaints: Vec::new(),
        })
    } else {
        Outcome::Pending { due }
    };
    Verdict {
        rule: RuleId::FeedSilent,
        // One case per silence: the subject names when the silence began.
        subject: format!(
            "feed:{hospital_id}:{}",
            last_received_at.and_utc().timestamp()
        ),
        hospital_id: Some(hospital_id),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn judge(last: &str, now: &str) -> Verdict {
        evaluate(1, "第1医院", "beijing", cn(last), &defaults, cn(now))
    }

    #[test]
    fn a_feed_is_silent_at_exactly_24_hours_and_not_a_second_before() {
        assert_eq!(
            judge("2022-07-01 10:00", "2022-07-02 09:59:59").outcome,
            Outcome::Pending {
                due: cn("2022-07-02 10:00")
            }
        );
        assert!(violation(&judge("2022-07-01 10:00", "2022-07-02 10:00").outcome).is_some());
    }

    #[test]
    fn each_silence_is_its_own_subject() {
        let a = judge("2022-07-01 10:00", "2022-07-03 00:00").subject;
        let b = judge("2022-07-05 10:00", "2022-07-07 00:00").subject;
        assert_ne!(a, b);
        assert!(a.starts_with("feed:1:"), "{a}");
    }
}
