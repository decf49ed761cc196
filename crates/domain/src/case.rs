//! Cases: their statuses, the state machine of inspectors and hospitals, and who may act.
//!
//! ```text
//! open ──acknowledge──▶ acknowledged ──assign──▶ assigned ──escalate──▶ escalated
//!   │  (assign, escalate, dismiss from any open state)             │
//!   └──────────── resolve (once acknowledged) / dismiss ──────────▶ resolved | dismissed
//! resolved | dismissed | withdrawn ──reopen──▶ open
//!
//! the closed loop with the hospital (转办 → 答复 → 整改 → 核实):
//! open | acknowledged | assigned | escalated ──forward──▶ forwarded ──reply──▶ replied
//! replied ──accept──▶ rectifying ──rectify──▶ rectified ──verify──▶ resolved
//! replied | rectified ──return──▶ forwarded;  replied ──dismiss──▶ dismissed
//! ```
//! `withdrawn` is the engine's: a case whose evidence no longer shows a violation. The
//! hospital's staff `reply` and `rectify`; inspectors take every other action (`assign`:
//! supervisors).

use chrono::NaiveDateTime;

use crate::actor::Role;
use crate::field::FieldError;

/// Every status a case can have.
pub const STATUSES: &[&str] = &[
    "open",
    "acknowledged",
    "assigned",
    "escalated",
    "forwarded",
    "replied",
    "rectifying",
    "rectified",
    "resolved",
    "dismissed",
    "withdrawn",
];

/// The statuses in which a case waits for its hospital (it sees them in its inbox).
pub const AWAITING_HOSPITAL: &[&str] = &["forwarded", "rectifying"];

pub const ACTIONS: &[&str] = &[
    "acknowledge",
    "assign",
    "escalate",
    "resolve",
    "dismiss",
    "reopen",
    "forward",
    "reply",
    "accept",
    "return",
    "rectify",
    "verify",
];

/// The status an action leads to from `from`, or `None` if the move is illegal.
pub fn transition(action: &str, from: &str) -> Option<&'static str> {
    let active = matches!(from, "open" | "acknowledged" | "assigned" | "escalated");
    match action {
        "acknowledge" if from == "open" => Some("acknowledged"),
        "assign" if active => Some("assigned"),
        "escalate" if matches!(from, "open" | "acknowledged" | "assigned") => Some("escalated"),
        "resolve" if matches!(from, "acknowledged" | "assigned" | "escalated") => Some("resolved"),
        "dismiss" if active || from == "replied" => Some("dismissed"),
        "reopen" if matches!(from, "resolved" | "dismissed" | "withdrawn") => Some("open"),
        "forward" if active => Some("forwarded"),
        "reply" if from == "forwarded" => Some("replied"),
        "accept" if from == "replied" => Some("rectifying"),
        "return" if matches!(from, "replied" | "rectified") => Some("forwarded"),
        "rectify" if from == "rectifying" => Some("rectified"),
        "verify" if from == "rectified" => Some("resolved"),
        _ => None,
    }
}

/// Whether `role` may take `action` at all (whatever the case's status): a hospital's staff
/// answer (`reply`, `rectify`) and nothing else; inspectors take every other action, and only
/// supervisors and admins `assign`.
pub fn allowed(role: Role, action: &str) -> bool {
    match action {
        "reply" | "rectify" => role == Role::HospitalStaff,
        "assign" => role >= Role::Supervisor,
        _ => role >= Role::Inspector,
    }
}

pub struct ActionRequest {
    pub action: String,
    pub note: String,
    pub assignee: Option<String>,
    /// `reply`: whether the hospital accepts the finding (true) or contests it.
    pub admits: Option<bool>,
    /// `accept`: the rectification deadline, RFC 3339.
    pub due: Option<String>,
}

impl ActionRequest {
    /// The rectification deadline as stored (UTC), if `due` parses.
    pub fn due_at(&self) -> Option<NaiveDateTime> {
        chrono::DateTime::parse_from_rfc3339(self.due.as_deref()?.trim())
            .ok()
            .map(|t| crate::time::to_micros(t.naive_utc()))
    }
}

pub const MAX_NOTE: usize = 2_000;

/// Validates the request's fields (every fault named); `now` for the rectification deadline,
/// which must lie ahead.
pub fn validate(req: &ActionRequest, now: NaiveDateTime) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !ACTIONS.contains(&req.action.as_str()) {
        errors.push(FieldError::new(
            "action",
            format!("must be one of {}", ACTIONS.join(", ")),
        ));
    }
    let note = req.note.trim();
    if note.is_empty() {
        let why = if req.action == "dismiss" {
            "a reason is required to dismiss a case"
        } else {
            "is required on every action"
        };
        errors.push(FieldError::new("note", why));
    } else if note.chars().count() > MAX_NOTE {
        errors.push(FieldError::new(
            "note",
            format!("must be at most {MAX_NOTE} characters"),
        ));
    } else if crate::field::has_control(note) {
        errors.push(FieldError::new("note", crate::field::CONTROL));
    }
    if req.action == "assign" && req.assignee.as_deref().is_none_or(|a| a.trim().is_empty()) {
        errors.push(FieldError::new(
            "assignee",
            "is required to assign (the user's email)",
        ));
    }
    if req.action == "reply" && req.admits.is_none() {
        errors.push(FieldError::new(
            "admits",
            "is required to reply: true if the hospital accepts the finding, false if it contests it",
        ));
    }
    if req.action == "accept" {
        match (req.due.as_deref(), req.due_at()) {
            (None, _) => errors.push(FieldError::new(
                "due",
                "is required to accept: the rectification deadline (RFC 3339)",
            )),
            (Some(_), None) => errors.push(FieldError::new(
                "due",
                "must be an RFC 3339 time with its offset, e.g. 2026-12-20T18:00:00+08:00",
            )),
            (Some(_), Some(due)) if due <= now => {
                errors.push(FieldError::new("due", "must lie in the future"))
            }
            _ => {}
        }
    }
    crate::field::check(errors)
}

/// A hospital's part in the closed loop over a period, from the history of its cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopFigures {
    /// Forwards and returns: each set the hospital a reply deadline.
    pub forwards: u32,
    /// Of those, answered (`reply`) before the deadline.
    pub on_time: u32,
    pub returns: u32,
    /// Rectifications reported (`rectify`).
    pub rectified: u32,
}

impl LoopFigures {
    /// On-time replies out of forwards, in percent (none without forwards).
    pub fn reply_rate(&self) -> Option<f64> {
        (self.forwards > 0).then(|| f64::from(self.on_time) * 100.0 / f64::from(self.forwards))
    }
}

/// Counts the loop over `actions`, as (case id, action, time) in time order per case: each
/// `forward` or `return` opens a reply deadline `reply_limit` later, met by the case's next
/// `reply` if it comes by then.
pub fn loop_figures(
    actions: &[(i64, String, NaiveDateTime)],
    reply_limit: chrono::Duration,
) -> LoopFigures {
    let mut f = LoopFigures::default();
    for (i, (case, action, at)) in actions.iter().enumerate() {
        match &action[..] {
            "forward" | "return" => {
                f.forwards += 1;
                f.returns += u32::from(action == "return");
                let answered = actions[i + 1..]
                    .iter()
                    .filter(|(c, _, _)| c == case)
                    .find(|(_, a, _)| matches!(&a[..], "reply" | "forward" | "return"))
                    .filter(|(_, a, _)| a == "reply");
                if answered.is_some_and(|(_, _, t)| *t <= *at + reply_limit) {
                    f.on_time += 1;
                }
            }
            "rectify" => f.rectified += 1,
            _ => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str, note: &str, assignee: Option<&str>) -> ActionRequest {
        ActionRequest {
            action: action.into(),
            note: note.into(),
            assignee: assignee.map(Into::into),
            admits: None,
            due: None,
        }
    }

    fn now() -> NaiveDateTime {
        crate::time::from_china(
            chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .expect("a time"),
        )
    }

    #[test]
    fn every_move_of_the_state_machine_and_no_other() {
        let legal = [
            ("acknowledge", "open", "acknowledged"),
            ("assign", "open", "assigned"),
            ("assign", "acknowledged", "assigned"),
            ("assign", "assigned", "assigned"),
            ("assign", "escalated", "assigned"),
            ("escalate", "open", "escalated"),
            ("escalate", "acknowledged", "escalated"),
            ("escalate", "assigned", "escalated"),
            ("resolve", "acknowledged", "resolved"),
            ("resolve", "assigned", "resolved"),
            ("resolve", "escalated", "resolved"),
            ("dismiss", "open", "dismissed"),
            ("dismiss", "acknowledged", "dismissed"),
            ("dismiss", "assigned", "dismissed"),
            ("dismiss", "escalated", "dismissed"),
            ("reopen", "resolved", "open"),
            ("reopen", "dismissed", "open"),
            ("reopen", "withdrawn", "open"),
            ("dismiss", "replied", "dismissed"),
            ("forward", "open", "forwarded"),
            ("forward", "acknowledged", "forwarded"),
            ("forward", "assigned", "forwarded"),
            ("forward", "escalated", "forwarded"),
            ("reply", "forwarded", "replied"),
            ("accept", "replied", "rectifying"),
            ("return", "replied", "forwarded"),
            ("return", "rectified", "forwarded"),
            ("rectify", "rectifying", "rectified"),
            ("verify", "rectified", "resolved"),
        ];
        for action in ACTIONS {
            for from in STATUSES {
                let expected = legal
                    .iter()
                    .find(|(a, f, _)| a == action && f == from)
                    .map(|(_, _, to)| *to);
                assert_eq!(transition(action, from), expected, "{action} from {from}");
            }
        }
        assert_eq!(transition("fly", "open"), None);
    }

    #[test]
    fn a_request_names_each_field_at_fault() {
        assert_eq!(validate(&req("acknowledge", "看过", None), now()), Ok(()));
        let fields = |r: ActionRequest| -> Vec<String> {
            validate(&r, now())
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(req("fly", "x", None)), ["action"]);
        assert_eq!(fields(req("dismiss", "  ", None)), ["note"]);
        assert_eq!(fields(req("assign", "x", Some(" "))), ["assignee"]);
        assert_eq!(fields(req("assign", "", None)), ["note", "assignee"]);
        assert_eq!(
            fields(req("resolve", &"长".repeat(MAX_NOTE + 1), None)),
            ["note"]
        );
        assert_eq!(
            validate(&req("resolve", &"长".repeat(MAX_NOTE), None), now()),
            Ok(())
        );
        assert_eq!(fields(req("reply", "我院认可", None)), ["admits"]);
        let reply = ActionRequest {
            admits: Some(false),
            ..req("reply", "我院不认可：患者已转诊", None)
        };
        assert_eq!(validate(&reply, now()), Ok(()));
        let accept = |due: Option<&str>| ActionRequest {
            due: due.map(Into::into),
            ..req("accept", "责令整改", None)
        };
        assert_eq!(fields(accept(None)), ["due"]);
        assert_eq!(fields(accept(Some("next week"))), ["due"]);
        assert_eq!(
            fields(accept(Some("2026-12-20"))),
            ["due"],
            "an offset is needed"
        );
        // 10:00 China time is now: a deadline at that instant has passed, one a second later not.
        assert_eq!(fields(accept(Some("2026-12-02T10:00:00+08:00"))), ["due"]);
        assert_eq!(fields(accept(Some("2026-12-02T02:00:00Z"))), ["due"]);
        assert_eq!(
            validate(&accept(Some("2026-12-02T10:00:01+08:00")), now()),
            Ok(())
        );
        assert_eq!(
            accept(Some("2026-12-20T18:00:00+08:00")).due_at(),
            Some(now() + chrono::Duration::days(18) + chrono::Duration::hours(8))
        );
    }

    #[test]
    fn the_hospital_answers_and_inspectors_decide() {
        for action in ["reply", "rectify"] {
            assert!(allowed(Role::HospitalStaff, action), "{action}");
            for role in [
                Role::Hospital,
                Role::Inspector,
                Role::Supervisor,
                Role::Admin,
            ] {
                assert!(!allowed(role, action), "{role:?} {action}");
            }
        }
        for action in [
            "forward",
            "accept",
            "return",
            "verify",
            "dismiss",
            "acknowledge",
        ] {
            assert!(allowed(Role::Inspector, action), "{action}");
            assert!(allowed(Role::Supervisor, action), "{action}");
            assert!(!allowed(Role::HospitalStaff, action), "{action}");
            assert!(!allowed(Role::Hospital, action), "{action}");
        }
        assert!(!allowed(Role::Inspector, "assign"));
        assert!(allowed(Role::Supervisor, "assign"));
    }

    #[test]
    fn the_loop_figures_count_each_deadline_once_and_its_reply_by_it() {
        let t = |h: i64| now() + chrono::Duration::hours(h);
        let a = |case: i64, action: &str, h: i64| (case, action.to_string(), t(h));
        let actions = [
            a(1, "forward", 0),
            a(1, "reply", 23), // on time (24 h)
            a(1, "return", 30),
            a(1, "reply", 55), // 25 h later: late
            a(1, "accept", 56),
            a(1, "rectify", 80),
            a(2, "forward", 0), // never answered
            a(3, "forward", 0),
            a(3, "reply", 24), // exactly at the deadline: on time
        ];
        let f = loop_figures(&actions, chrono::Duration::hours(24));
        assert_eq!(
            f,
            LoopFigures {
                forwards: 4,
                on_time: 2,
                returns: 1,
                rectified: 1
            }
        );
        assert_eq!(f.reply_rate(), Some(50.0));
        assert_eq!(LoopFigures::default().reply_rate(), None);
    }
}
