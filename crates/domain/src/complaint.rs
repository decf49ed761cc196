//! Citizens' complaints: their categories, the rules a category corroborates, statuses and the
//! inspectors' state machine.

use chrono::{DateTime, NaiveDateTime};

use crate::actor::Role;
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
            DesignatedRefused,
            FirstDiagnosisShirked,
        ],
        "pushed_away" => &[
            FirstDiagnosisShirked,
            RefusalProhibitedReason,
            RefusalOperationalReason,
        ],
        "handover_delay" => &[HandoverDelay],
        "closure" => &[ClosureTooLong, ClosureCriticalUnit, ContinuityNoDiversion],
        "special_group_care" => &[SpecialGroupRefused],
        // A desk's cases, linked by the hospital the resident was taken to.
        "transport" => &[TransportWait, TransportPriority, TransportNoReturn],
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

/// A complaint's statuses, from filing to closing. The hotline loop: `forwarded` (转办 to the
/// hospital), `answered` (答复), then the callback (回访) closes it or `reopened` (forwarded
/// again, the hospital answers anew).
pub const STATUSES: &[&str] = &[
    "received",
    "acknowledged",
    "info_requested",
    "forwarded",
    "answered",
    "reopened",
    "closed",
    "merged",
];

/// The statuses in which the complaint waits for its hospital's answer.
pub const AWAITING_HOSPITAL: &[&str] = &["forwarded", "reopened"];

/// The actions on a complaint: the inspectors' (`acknowledge`, `request_info`, `close`,
/// `merge`), the desk's (`forward`, `callback`) and the hospital's (`answer`).
pub const ACTIONS: &[&str] = &[
    "acknowledge",
    "request_info",
    "close",
    "merge",
    "forward",
    "answer",
    "callback",
];

/// How satisfied the caller said they were at the callback.
pub const SATISFACTIONS: &[&str] = &["satisfied", "basically_satisfied", "unsatisfied"];

/// Whether `role` may take `action` on a complaint: the hospital answers (its own, forwarded
/// complaints), operators forward and call back, inspectors and above handle the rest and may
/// forward too.
pub fn allowed(action: &str, role: Role) -> bool {
    match action {
        "answer" => role == Role::HospitalStaff,
        "callback" => role == Role::Operator,
        "forward" => role >= Role::Operator,
        _ => role >= Role::Inspector,
    }
}

/// The status `action` moves a complaint to from `from`, if it may; a callback's own outcome
/// (closed or reopened) is `after_callback`'s.
pub fn next_status(action: &str, from: &str) -> Option<&'static str> {
    let open = matches!(
        from,
        "received" | "acknowledged" | "info_requested" | "forwarded" | "answered" | "reopened"
    );
    match action {
        "acknowledge" if from == "received" => Some("acknowledged"),
        "request_info" if matches!(from, "received" | "acknowledged" | "info_requested") => {
            Some("info_requested")
        }
        "forward" if matches!(from, "received" | "acknowledged" | "info_requested") => {
            Some("forwarded")
        }
        "answer" if AWAITING_HOSPITAL.contains(&from) => Some("answered"),
        "callback" if from == "answered" => Some("closed"),
        "close" if open => Some("closed"),
        "merge" if open => Some("merged"),
        _ => None,
    }
}

/// What a callback leads to: closed when the caller's matter was resolved and they were at
/// least basically satisfied; else reopened (and forwarded to the hospital again).
pub fn after_callback(resolved: bool, satisfaction: &str) -> &'static str {
    if resolved && satisfaction != "unsatisfied" {
        "closed"
    } else {
        "reopened"
    }
}

/// The reopening that elevates the complaint (提级): the second.
pub const ELEVATE_AT_REOPENING: i32 = 2;

/// How a complaint came in: the public form, a call taken at the hotline desk, a work order of
/// the 12345 platform, a letter.
pub const CHANNELS: &[&str] = &["web", "phone", "12345", "letter"];

/// At most this many characters in a platform's work-order number.
pub const MAX_EXTERNAL_REF: usize = 64;

/// The alphabet of tracking codes: no 0/O, 1/I/L, easy to read aloud and type.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 13 characters of 31: 64 bits.
pub const CODE_LEN: usize = 13;

/// As typed or read aloud: case, spaces and dashes do not matter.
pub fn normalize_code(s: &str) -> Option<String> {
    let code: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_uppercase)
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// `ABCD-EFGH-JKMNP`, for people.
pub fn display_code(code: &str) -> String {
    if code.len() != CODE_LEN {
        return code.to_string();
    }
    format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..])
}

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

    #[test]
    fn the_hotline_loop_runs_forward_answer_callback_and_a_callback_needs_an_answer() {
        assert_eq!(next_status("forward", "received"), Some("forwarded"));
        assert_eq!(next_status("forward", "forwarded"), None);
        assert_eq!(next_status("answer", "forwarded"), Some("answered"));
        assert_eq!(next_status("answer", "reopened"), Some("answered"));
        assert_eq!(next_status("answer", "received"), None);
        assert_eq!(next_status("callback", "answered"), Some("closed"));
        assert_eq!(next_status("callback", "forwarded"), None, "never answered");
        assert_eq!(next_status("request_info", "forwarded"), None);
        assert_eq!(next_status("close", "reopened"), Some("closed"));
        assert_eq!(after_callback(true, "satisfied"), "closed");
        assert_eq!(after_callback(true, "basically_satisfied"), "closed");
        assert_eq!(after_callback(true, "unsatisfied"), "reopened");
        assert_eq!(after_callback(false, "satisfied"), "reopened");
    }

    #[test]
    fn each_role_takes_its_own_steps_of_the_loop() {
        assert!(allowed("answer", Role::HospitalStaff));
        assert!(!allowed("answer", Role::Operator) && !allowed("answer", Role::Admin));
        assert!(allowed("callback", Role::Operator));
        assert!(!allowed("callback", Role::Inspector) && !allowed("callback", Role::HospitalStaff));
        for role in [Role::Operator, Role::Inspector, Role::Supervisor] {
            assert!(allowed("forward", role), "{role:?}");
        }
        assert!(!allowed("forward", Role::HospitalStaff));
        assert!(!allowed("close", Role::Operator) && allowed("close", Role::Inspector));
        assert!(!allowed("acknowledge", Role::HospitalStaff));
    }
}
