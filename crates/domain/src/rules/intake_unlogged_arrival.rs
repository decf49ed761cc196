//! `intake.unlogged_arrival`: a 120 centre reported an ambulance at a hospital with a patient
//! whom that hospital's own log does not record arriving within the limit (30 minutes) either
//! side: the hospital logged the arrival late, or not at all, and its handover clock with it.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::IntakeUnloggedArrival,
    title_zh: "救护车送达未登记",
    title_en: "Ambulance arrival missing from the hospital's log",
    plain_zh: "120 报告救护车已将患者送达医院，但该医院的记录在时限（默认 30 分钟）内没有这名患者的到院登记。",
    plain_en: "A 120 centre reported an ambulance at a hospital with a patient whose arrival the hospital's own log does not record within the limit (30 minutes by default).",
    sources: "003 (item 3)",
    quote: "院前急救患者到院后，首诊机构及医务人员严格落实首诊负责制，原则上要在15分钟内完成接诊和交接工作。（003 第三条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(30)),
    default_count: None,
};

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    now: NaiveDateTime,
) -> Vec<Verdict> {
    let rule = RuleId::IntakeUnloggedArrival;
    let arrivals = history.arrivals();
    let everything = 0..history.events.len();
    history
        .legs
        .iter()
        .map(|leg| {
            let s = setting(rule, &leg.jurisdiction, leg.at);
            let limit = s.limit_or_default(rule);
            let logged = arrivals
                .first_from(leg.hospital_id, leg.at - limit, everything.clone())
                .is_some_and(|e| e.occurred_at - leg.at <= limit);
            let due = leg.at + limit;
            let outcome = if !s.enabled || logged {
                Outcome::Clear
            } else if now >= due {
                Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: leg.at,
                    summary: format!(
                        "{} 报告救护车于 {} 将患者（呼叫 {}）送达 {}，该院在 {} 内无到院登记",
                        leg.centre_name,
                        china_time(leg.at),
                        leg.call_id,
                        leg.hospital_name,
                        human(limit)
                    ),
                    evidence: vec![leg.row_id],
                    complaints: Vec::new(),
                })
            } else {
                Outcome::Pending { due }
            };
            Verdict {
                rule,
                subject: format!("ev:{}", leg.row_id),
                hospital_id: Some(leg.hospital_id),
                outcome,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ArrivedBy;
    use crate::event::EventKind;
    use crate::rules::history::AmbulanceLeg;
    use crate::rules::testing::*;

    fn leg(at: &str) -> AmbulanceLeg {
        AmbulanceLeg {
            row_id: 50,
            event_id: "d-50".into(),
            centre_name: "120 急救中心".into(),
            call_id: "C-1".into(),
            hospital_id: 1,
            hospital_name: "第1医院".into(),
            jurisdiction: "beijing".into(),
            at: cn(at),
            handed_over: None,
        }
    }

    fn judge(arrival: Option<(i64, &str)>, now: &str) -> Outcome {
        let events = arrival
            .map(|(h, at)| ev(1, h, EventKind::Arrival, at).by(ArrivedBy::Ambulance))
            .into_iter()
            .collect();
        let h = history(events).with_legs(vec![leg("2022-07-01 10:00")]);
        let v = evaluate(&h, &defaults, cn(now));
        assert_eq!(v.len(), 1);
        v[0].outcome.clone()
    }

    #[test]
    fn an_arrival_logged_at_exactly_30_minutes_counts_and_a_second_later_does_not() {
        let end = "2022-07-02 00:00";
        assert_eq!(judge(Some((1, "2022-07-01 10:30:00")), end), Outcome::Clear);
        assert_eq!(
            violation(&judge(Some((1, "2022-07-01 10:30:01")), end)),
            Some(vec![50])
        );
        assert_eq!(
            violation(&judge(Some((2, "2022-07-01 10:05")), end)),
            Some(vec![50]),
            "another hospital's arrival is not this one's"
        );
    }

    #[test]
    fn nothing_logged_waits_for_the_limit() {
        assert_eq!(
            judge(None, "2022-07-01 10:29"),
            Outcome::Pending {
                due: cn("2022-07-01 10:30")
            }
        );
        assert_eq!(violation(&judge(None, "2022-07-01 10:30")), Some(vec![50]));
    }
}
