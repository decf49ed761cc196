//! The rules: one module each, with its citation and thresholds. Rules are pure functions over
//! domain data; the engine (`shouzhen::engine`) feeds them and stores what they find.

pub mod closure_critical_unit;
pub mod closure_too_long;
pub mod complaint_cluster;
pub mod complaint_overdue;
pub mod complaint_reopened;
pub mod complaint_unanswered;
pub mod complaint_unlogged;
pub mod continuity_no_diversion;
pub mod critical_test_delay;
pub mod designated_refused;
pub mod dispatch_answer_rate;
pub mod dispatch_delay;
pub mod dispatch_fleet_short;
pub mod dispatch_unanswered;
pub mod feed_silent;
pub mod first_diagnosis_shirked;
pub mod handover_delay;
pub mod history;
pub mod intake_unlogged_arrival;
pub mod referral_unapproved;
pub mod refusal;
pub mod special_group_refused;
#[cfg(test)]
mod testing;
pub mod transport_no_return;
pub mod transport_priority;
pub mod transport_wait;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use history::{AmbulanceLeg, EventView, PatientHistory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RuleId {
    #[serde(rename = "refusal.prohibited_reason")]
    RefusalProhibitedReason,
    #[serde(rename = "refusal.operational_reason")]
    RefusalOperationalReason,
    #[serde(rename = "special_group.refused")]
    SpecialGroupRefused,
    #[serde(rename = "handover.delay")]
    HandoverDelay,
    #[serde(rename = "first_diagnosis.shirked")]
    FirstDiagnosisShirked,
    #[serde(rename = "critical.test_delay")]
    CriticalTestDelay,
    #[serde(rename = "closure.too_long")]
    ClosureTooLong,
    #[serde(rename = "complaint.cluster")]
    ComplaintCluster,
    #[serde(rename = "complaint.unanswered")]
    ComplaintUnanswered,
    #[serde(rename = "feed.silent")]
    FeedSilent,
    #[serde(rename = "complaint.overdue")]
    ComplaintOverdue,
    #[serde(rename = "complaint.reopened")]
    ComplaintReopened,
    #[serde(rename = "complaint.unlogged")]
    ComplaintUnlogged,
    #[serde(rename = "dispatch.answer_rate")]
    DispatchAnswerRate,
    #[serde(rename = "dispatch.unanswered")]
    DispatchUnanswered,
    #[serde(rename = "dispatch.delay")]
    DispatchDelay,
    #[serde(rename = "dispatch.fleet_short")]
    DispatchFleetShort,
    #[serde(rename = "intake.unlogged_arrival")]
    IntakeUnloggedArrival,
    #[serde(rename = "designated.refused")]
    DesignatedRefused,
    #[serde(rename = "referral.unapproved")]
    ReferralUnapproved,
    #[serde(rename = "closure.critical_unit")]
    ClosureCriticalUnit,
    #[serde(rename = "continuity.no_diversion")]
    ContinuityNoDiversion,
    #[serde(rename = "transport.wait")]
    TransportWait,
    #[serde(rename = "transport.priority")]
    TransportPriority,
    #[serde(rename = "transport.no_return")]
    TransportNoReturn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
    /// For ordering the queue: high first.
    pub fn rank(self) -> i32 {
        match self {
            Self::High => 3,
            Self::Medium => 2,
            Self::Low => 1,
        }
    }
}

/// What a rule is, in words an inspector understands, and where it comes from.
pub struct RuleInfo {
    pub id: RuleId,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub plain_zh: &'static str,
    pub plain_en: &'static str,
    /// The policy sources (number prefixes of `shared/policy-sources/`) and the quoted text.
    pub sources: &'static str,
    pub quote: &'static str,
    pub default_severity: Severity,
    /// The default threshold (a duration limit, or a window for the cluster rule).
    pub default_limit: Option<Duration>,
    /// The default count (complaint cluster: complaints; dispatch.answer_rate: percent).
    pub default_count: Option<u32>,
}

pub const ALL: [RuleId; 25] = [
    RuleId::RefusalProhibitedReason,
    RuleId::RefusalOperationalReason,
    RuleId::SpecialGroupRefused,
    RuleId::HandoverDelay,
    RuleId::FirstDiagnosisShirked,
    RuleId::CriticalTestDelay,
    RuleId::ClosureTooLong,
    RuleId::ComplaintCluster,
    RuleId::ComplaintUnanswered,
    RuleId::FeedSilent,
    RuleId::ComplaintOverdue,
    RuleId::ComplaintReopened,
    RuleId::ComplaintUnlogged,
    RuleId::DispatchAnswerRate,
    RuleId::DispatchUnanswered,
    RuleId::DispatchDelay,
    RuleId::DispatchFleetShort,
    RuleId::IntakeUnloggedArrival,
    RuleId::DesignatedRefused,
    RuleId::ReferralUnapproved,
    RuleId::ClosureCriticalUnit,
    RuleId::ContinuityNoDiversion,
    RuleId::TransportWait,
    RuleId::TransportPriority,
    RuleId::TransportNoReturn,
];

impl RuleId {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefusalProhibitedReason => "refusal.prohibited_reason",
            Self::RefusalOperationalReason => "refusal.operational_reason",
            Self::SpecialGroupRefused => "special_group.refused",
            Self::HandoverDelay => "handover.delay",
            Self::FirstDiagnosisShirked => "first_diagnosis.shirked",
            Self::CriticalTestDelay => "critical.test_delay",
            Self::ClosureTooLong => "closure.too_long",
            Self::ComplaintCluster => "complaint.cluster",
            Self::ComplaintUnanswered => "complaint.unanswered",
            Self::FeedSilent => "feed.silent",
            Self::ComplaintOverdue => "complaint.overdue",
            Self::ComplaintReopened => "complaint.reopened",
            Self::ComplaintUnlogged => "complaint.unlogged",
            Self::DispatchAnswerRate => "dispatch.answer_rate",
            Self::DispatchUnanswered => "dispatch.unanswered",
            Self::DispatchDelay => "dispatch.delay",
            Self::DispatchFleetShort => "dispatch.fleet_short",
            Self::IntakeUnloggedArrival => "intake.unlogged_arrival",
            Self::DesignatedRefused => "designated.refused",
            Self::ReferralUnapproved => "referral.unapproved",
            Self::ClosureCriticalUnit => "closure.critical_unit",
            Self::ContinuityNoDiversion => "continuity.no_diversion",
            Self::TransportWait => "transport.wait",
            Self::TransportPriority => "transport.priority",
            Self::TransportNoReturn => "transport.no_return",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn info(self) -> &'static RuleInfo {
        match self {
            Self::RefusalProhibitedReason => &refusal::PROHIBITED,
            Self::RefusalOperationalReason => &refusal::OPERATIONAL,
            Self::SpecialGroupRefused => &special_group_refused::INFO,
            Self::HandoverDelay => &handover_delay::INFO,
            Self::FirstDiagnosisShirked => &first_diagnosis_shirked::INFO,
            Self::CriticalTestDelay => &critical_test_delay::INFO,
            Self::ClosureTooLong => &closure_too_long::INFO,
            Self::ComplaintCluster => &complaint_cluster::INFO,
            Self::ComplaintUnanswered => &complaint_unanswered::INFO,
            Self::FeedSilent => &feed_silent::INFO,
            Self::ComplaintOverdue => &complaint_overdue::INFO,
            Self::ComplaintReopened => &complaint_reopened::INFO,
            Self::ComplaintUnlogged => &complaint_unlogged::INFO,
            Self::DispatchAnswerRate => &dispatch_answer_rate::INFO,
            Self::DispatchUnanswered => &dispatch_unanswered::INFO,
            Self::DispatchDelay => &dispatch_delay::INFO,
            Self::DispatchFleetShort => &dispatch_fleet_short::INFO,
            Self::IntakeUnloggedArrival => &intake_unlogged_arrival::INFO,
            Self::DesignatedRefused => &designated_refused::INFO,
            Self::ReferralUnapproved => &referral_unapproved::INFO,
            Self::ClosureCriticalUnit => &closure_critical_unit::INFO,
            Self::ContinuityNoDiversion => &continuity_no_diversion::INFO,
            Self::TransportWait => &transport_wait::INFO,
            Self::TransportPriority => &transport_priority::INFO,
            Self::TransportNoReturn => &transport_no_return::INFO,
        }
    }
}

/// The effective setting of one rule for one jurisdiction at one time (see `crate::policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub enabled: bool,
    pub severity: Severity,
    pub limit: Option<Duration>,
    pub count: Option<u32>,
    /// The window around a time (complaint.unlogged only).
    pub window: Option<Duration>,
    /// transport.wait only: the limit for a resident of no special group (the `limit` is
    /// the special groups').
    pub ordinary_limit: Option<Duration>,
    /// Counts per area (dispatch.fleet_short only: ambulances required on line).
    pub areas: std::collections::BTreeMap<String, u32>,
    /// Where this setting comes from (built-in default or a policy pack's source line).
    pub source: String,
}

impl Setting {
    pub fn default_for(rule: RuleId) -> Self {
        let info = rule.info();
        Self {
            enabled: true,
            severity: info.default_severity,
            limit: info.default_limit,
            count: info.default_count,
            window: (rule == RuleId::ComplaintUnlogged)
                .then_some(complaint_unlogged::DEFAULT_WINDOW),
            ordinary_limit: (rule == RuleId::TransportWait)
                .then_some(transport_wait::DEFAULT_ORDINARY),
            areas: std::collections::BTreeMap::new(),
            source: format!("built-in default; policy sources {}", info.sources),
        }
    }

    /// The limit, which every rule that has one is built with.
    pub fn limit_or_default(&self, rule: RuleId) -> Duration {
        self.limit
            .or(rule.info().default_limit)
            .unwrap_or_else(|| Duration::hours(24))
    }
}

/// The log source a centre's or a desk's rule names: its register row, name and jurisdiction.
pub struct Source<'a> {
    pub id: i64,
    pub name: &'a str,
    pub jurisdiction: &'a str,
}

impl Source<'_> {
    /// The verdict of `rule` about this source's `subject`.
    pub fn verdict(&self, rule: RuleId, subject: String, outcome: Outcome) -> Verdict {
        Verdict {
            rule,
            subject,
            hospital_id: Some(self.id),
            outcome,
        }
    }
}

/// What a rule concludes about one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A violation: open a case (once).
    Violation(Finding),
    /// Not decided yet: look again at `due` (a deadline).
    Pending { due: NaiveDateTime },
    /// No violation (any case the rule opened on earlier evidence is withdrawn).
    Clear,
}

/// One subject's verdict under one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rule: RuleId,
    /// What the case is about (stable across re-evaluations): e.g. `ev:42`, `closure:3:c-1`.
    pub subject: String,
    pub hospital_id: Option<i64>,
    pub outcome: Outcome,
}

impl Verdict {
    /// The verdict of `rule` about one event (the subject `ev:<row id>`).
    pub fn on_event(rule: RuleId, ev: &EventView, outcome: Outcome) -> Self {
        Self {
            rule,
            subject: format!("ev:{}", ev.row_id),
            hospital_id: Some(ev.hospital_id),
            outcome,
        }
    }
}

/// A violation, with what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// When the violation happened (event time).
    pub occurred_at: NaiveDateTime,
    pub summary: String,
    /// Intake-event row ids.
    pub evidence: Vec<i64>,
    /// Complaint ids.
    pub complaints: Vec<i64>,
}

/// Formats a duration for a summary: "22 分钟", "3 小时 5 分钟".
pub fn human(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 120 {
        format!("{minutes} 分钟")
    } else if minutes % 60 == 0 {
        format!("{} 小时", minutes / 60)
    } else {
        format!("{} 小时 {} 分钟", minutes / 60, minutes % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_rule_table_lists_every_rule_with_its_sources() {
        let readme = include_str!("../../../../README.md");
        for rule in ALL {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", rule.as_str())))
                .unwrap_or_else(|| panic!("README's rule table has no row for {}", rule.as_str()));
            assert!(
                row.trim_end()
                    .ends_with(&format!("| {} |", rule.info().sources)),
                "README's row for {} names other sources than the rule: {row}",
                rule.as_str()
            );
        }
    }
}
