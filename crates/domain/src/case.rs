//! Cases: their statuses and the inspectors' state machine.
//!
//! ```text
//! open ──acknowledge──▶ acknowledged ──assign──▶ assigned ──escalate──▶ escalated
//!   │  (assign, escalate, dismiss from any open state)             │
//!   └──────────── resolve (once acknowledged) / dismiss ──────────▶ resolved | dismissed
//! resolved | dismissed | withdrawn ──reopen──▶ open
//! ```
//! `withdrawn` is the engine's: a case whose evidence no longer shows a violation.

use crate::field::FieldError;

/// Every status a case can have.
pub const STATUSES: &[&str] = &[
    "open",
    "acknowledged",
    "assigned",
    "escalated",
    "resolved",
    "dismissed",
    "withdrawn",
];

pub const ACTIONS: &[&str] = &[
    "acknowledge",
    "assign",
    "escalate",
    "resolve",
    "dismiss",
    "reopen",
];

/// The status an action leads to from `from`, or `None` if the move is illegal.
pub fn transition(action: &str, from: &str) -> Option<&'static str> {
    let active = matches!(from, "open" | "acknowledged" | "assigned" | "escalated");
    match action {
        "acknowledge" if from == "open" => Some("acknowledged"),
        "assign" if active => Some("assigned"),
        "escalate" if matches!(from, "open" | "acknowledged" | "assigned") => Some("escalated"),
        "resolve" if matches!(from, "acknowledged" | "assigned" | "escalated") => Some("resolved"),
        "dismiss" if active => Some("dismissed"),
        "reopen" if matches!(from, "resolved" | "dismissed" | "withdrawn") => Some("open"),
        _ => None,
    }
}

pub struct ActionRequest {
    pub action: String,
    pub note: String,
    pub assignee: Option<String>,
}

pub const MAX_NOTE: usize = 2_000;

/// Validates the request's fields (every fault named).
pub fn validate(req: &ActionRequest) -> Result<(), Vec<FieldError>> {
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
    }
    if req.action == "assign" && req.assignee.as_deref().is_none_or(|a| a.trim().is_empty()) {
        errors.push(FieldError::new(
            "assignee",
            "is required to assign (the user's email)",
        ));
    }
    crate::field::check(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str, note: &str, assignee: Option<&str>) -> ActionRequest {
        ActionRequest {
            action: action.into(),
            note: note.into(),
            assignee: assignee.map(Into::into),
        }
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
        assert_eq!(validate(&req("acknowledge", "看过", None)), Ok(()));
        let fields = |r: ActionRequest| -> Vec<String> {
            validate(&r)
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
            validate(&req("resolve", &"长".repeat(MAX_NOTE), None)),
            Ok(())
        );
    }
}
