//! Citizens' complaints: their categories, the rules a category corroborates, statuses and the
//! inspectors' state machine.

use chrono::{DateTime, NaiveDateTime};

use crate::rules::RuleId;

pub const CATEGORIES: &[&str] = &[
    "refused_health_code",
    "refused_test",
    "refused_fever",
    "refused_other",
    "handover_delay",
    "pushed_away",
    "closure",
    "special_group_care",
    "transport",
    "medication",
    "other",
];

/// The rules whose cases a complaint of `category` corroborates.
pub fn rules_for(category: &str) -> &'static [RuleId] {
    use RuleId::*;
    match category {
        "refused_health_code" | "refused_test" | "refused_fever" => {
            &[RefusalProhibitedReason, FirstDiagnosisShirked]
        }
        "refused_other" => &[
            RefusalOperationalReason,
            SpecialGroupRefused,
            FirstDiagnosisShirked,
        ],
        "pushed_away" => &[
            FirstDiagnosisShirked,
            RefusalProhibitedReason,
            RefusalOperationalReason,
        ],
        "handover_delay" => &[HandoverDelay],
        "closure" => &[ClosureTooLong],
        "special_group_care" => &[SpecialGroupRefused],
        _ => &[],
    }
}

pub const MAX_DESCRIPTION: usize = 5_000;

/// `YYYY-MM-DDTHH:MM` (China time, as a `datetime-local` input sends it) or RFC 3339.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(crate::time::from_china(t));
        }
    }
    None
}

/// A complaint's statuses, from filing to closing.
pub const STATUSES: &[&str] = &[
    "received",
    "acknowledged",
    "info_requested",
    "closed",
    "merged",
];

/// The inspectors' actions on a complaint.
pub const ACTIONS: &[&str] = &["acknowledge", "request_info", "close", "merge"];

pub fn next_status(action: &str, from: &str) -> Option<&'static str> {
    let open = matches!(from, "received" | "acknowledged" | "info_requested");
    match action {
        "acknowledge" if from == "received" => Some("acknowledged"),
        "request_info" if open => Some("info_requested"),
        "close" if open => Some("closed"),
        "merge" if open => Some("merged"),
        _ => None,
    }
}

/// How a complaint came in: the public form, a call taken at the hotline desk, a work order of
/// the 12345 platform, a letter.
pub const CHANNELS: &[&str] = &["web", "phone", "12345", "letter"];

/// At most this many characters in a platform's work-order number.
pub const MAX_EXTERNAL_REF: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_complaint_corroborates_refusal_and_first_diagnosis_cases() {
        assert_eq!(
            rules_for("refused_fever"),
            [
                RuleId::RefusalProhibitedReason,
                RuleId::FirstDiagnosisShirked
            ]
        );
        assert_eq!(rules_for("handover_delay"), [RuleId::HandoverDelay]);
        assert!(rules_for("medication").is_empty());
        for c in CATEGORIES {
            for r in rules_for(c) {
                assert!(crate::rules::ALL.contains(r), "{c}");
            }
        }
    }

    #[test]
    fn a_local_time_is_china_time_and_an_rfc3339_time_keeps_its_offset() {
        let utc = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").ok();
        assert_eq!(parse_time("2022-07-01T10:00"), utc("2022-07-01 02:00"));
        assert_eq!(parse_time("2022-07-01 10:00"), utc("2022-07-01 02:00"));
        assert_eq!(
            parse_time("2022-07-01T10:00:00+08:00"),
            utc("2022-07-01 02:00")
        );
        assert_eq!(parse_time("2022-07-01T10:00:00Z"), utc("2022-07-01 10:00"));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn a_closed_or_merged_complaint_takes_no_action() {
        assert_eq!(next_status("acknowledge", "received"), Some("acknowledged"));
        assert_eq!(next_status("acknowledge", "acknowledged"), None);
        for from in ["received", "acknowledged", "info_requested"] {
            assert_eq!(next_status("request_info", from), Some("info_requested"));
            assert_eq!(next_status("close", from), Some("closed"));
            assert_eq!(next_status("merge", from), Some("merged"));
        }
        for action in ACTIONS {
            assert_eq!(next_status(action, "closed"), None);
            assert_eq!(next_status(action, "merged"), None);
        }
    }
}
