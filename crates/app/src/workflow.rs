//! What inspectors do with cases: the audited, transactional action over the state machine
//! of `shouzhen_domain::case`.

use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};
use crate::mail::Notifier;
use shouzhen_domain::actor::{Role, Staff};
use shouzhen_domain::case::{ActionRequest, transition, validate};
use shouzhen_store::db::{self, DbConn};
use shouzhen_store::{self, audit};

/// Applies an action in one transaction: the status move (refused with 409 if illegal or if
/// the case changed meanwhile), the history entry, the audit entry, and for `escalate` the email.
pub fn apply(
    conn: &mut DbConn,
    notifier: &Notifier,
    staff: &Staff,
    case_id: i64,
    req: &ActionRequest,
    ip: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    validate(req)?;
    db::write_tx(conn, |conn| {
        let case = shouzhen_store::cases::by_id(conn, case_id)?
            .ok_or_else(|| AppError::NotFound(format!("no case {case_id}")))?;
        if staff.district_scope().is_some_and(|d| d != case.district) {
            return Err(AppError::Forbidden(
                "this case is outside your district".into(),
            ));
        }
        if req.action == "assign" && staff.role < Role::Supervisor {
            return Err(AppError::Forbidden("only supervisors assign cases".into()));
        }
        let to = transition(&req.action, &case.status).ok_or_else(|| {
            AppError::Conflict(format!(
                "a case that is {} cannot be {}d",
                case.status,
                req.action.trim_end_matches('e')
            ))
        })?;
        let assignee_id = match (&req.action[..], req.assignee.as_deref()) {
            ("assign", Some(email)) => {
                let user = shouzhen_store::users::by_email(conn, email.trim())?
                    .filter(|u| !u.disabled)
                    .ok_or_else(|| AppError::field("assignee", "is not an active user's email"))?;
                Some(user.id)
            }
            _ => case.assignee_id,
        };
        let note = shouzhen_domain::redact::redact(req.note.trim()).0;
        let moved = shouzhen_store::cases::apply_move(
            conn,
            case.id,
            &shouzhen_store::cases::StaffMove {
                from: &case.status,
                to,
                assignee_id,
                acknowledged_at: if req.action == "acknowledge" {
                    Some(now)
                } else {
                    case.acknowledged_at
                },
                escalation_level: case.escalation_level + i32::from(req.action == "escalate"),
                at: now,
            },
        )?;
        if !moved {
            return Err(AppError::Conflict(
                "the case changed meanwhile; reload it".into(),
            ));
        }
        shouzhen_store::cases::add_action(
            conn,
            &shouzhen_store::cases::Action {
                case_id: case.id,
                actor: Some((staff.user_id, &staff.email)),
                action: &req.action,
                from: &case.status,
                to,
                note: &note,
                at: now,
            },
        )?;
        audit::record(
            conn,
            &audit::Entry {
                actor_id: Some(staff.user_id),
                actor_label: &staff.email,
                action: &format!("case.{}", req.action),
                target_type: "case",
                target_id: &case.id.to_string(),
                detail: &format!("{} -> {to}", case.status),
                ip,
            },
        )?;
        if req.action == "escalate" {
            let case = shouzhen_store::cases::by_id(conn, case.id)?
                .ok_or(shouzhen_store::StoreError::NotFound)?;
            crate::notify::case_escalated(
                conn,
                notifier,
                &case,
                &note,
                i64::from(case.escalation_level),
            )?;
        }
        Ok(())
    })
}
