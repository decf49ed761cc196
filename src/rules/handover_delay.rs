//! `handover.delay`: an ambulance patient not handed over within the limit (15 minutes): the
//! handover came late, or none was recorded by then.

use chrono::{Duration, NaiveDateTime};

use super::history::china_time;
use super::human;
use super::{Finding, Outcome, PatientHistory, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::intake::event::{ArrivedBy, EventKind};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::HandoverDelay,
    title_zh: "救护车患者交接超时",
    title_en: "Ambulance patient not handed over in time",
    plain_zh: "救护车送达的患者到院后，医院未在时限（默认 15 分钟）内完成接诊交接。",
    plain_en: "An ambulance patient was not received and handed over within the limit (15 minutes by default) of arriving.",
    sources: "003 (item 3)",
    quote: "院前急救患者到院后，首诊机构及医务人员严格落实首诊负责制，原则上要在15分钟内完成接诊和交接工作。（003 第三条）",
    default_severity: Severity::Medium,
    default_limit: Some(Duration::minutes(15)),
    default_count: None,
};

/// Events that end the wait at the door: the patient was received, or left.
fn ends_wait(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Handover
            | EventKind::Treatment
            | EventKind::Refusal
            | EventKind::Transfer
            | EventKind::Discharge
    )
}

pub fn evaluate(
    history: &PatientHistory,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    episode_gap: Duration,
    now: NaiveDateTime,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (i, arrival) in history.events.iter().enumerate() {
        if arrival.kind() != EventKind::Arrival
            || arrival.body.arrived_by != Some(ArrivedBy::Ambulance)
        {
            continue;
        }
        let s = setting(
            RuleId::HandoverDelay,
            &arrival.jurisdiction,
            arrival.occurred_at,
        );
        let limit = s.limit_or_default(RuleId::HandoverDelay);
        let episode = history.episode_of(i, episode_gap);
        let next = episode.iter().find(|e| {
            e.hospital_id == arrival.hospital_id
                && ends_wait(e.kind())
                && e.occurred_at >= arrival.occurred_at
        });
        let due = arrival.occurred_at + limit;
        let outcome = if !s.enabled {
            Outcome::Clear
        } else {
            match next {
                Some(h) if h.occurred_at - arrival.occurred_at <= limit => Outcome::Clear,
                Some(h) => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的救护车患者 {} 后才{}，超过 {} 时限（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(h.occurred_at - arrival.occurred_at),
                        if h.kind() == EventKind::Handover {
                            "完成交接"
                        } else {
                            "有处置记录"
                        },
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id, h.row_id],
                    complaints: Vec::new(),
                }),
                None if now >= due => Outcome::Violation(Finding {
                    severity: s.severity,
                    occurred_at: arrival.occurred_at,
                    summary: format!(
                        "{} 于 {} 接收的救护车患者在 {} 内无交接记录（事件 {}）",
                        arrival.hospital_name,
                        china_time(arrival.occurred_at),
                        human(limit),
                        arrival.event_id
                    ),
                    evidence: vec![arrival.row_id],
                    complaints: Vec::new(),
                }),
                None => Outcome::Pending { due },
            }
        };
        verdicts.push(Verdict::on_event(RuleId::HandoverDelay, arrival, outcome));
    }
    verdicts
}
