//! What inspectors and hospitals do with cases: the audited, transactional action over the
//! state machine of `shouzhen_domain::case`, with the closed loop's deadlines and notices.

use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};
use crate::mail::{Notifier, Trigger};
use shouzhen_domain::actor::Staff;
use shouzhen_domain::case::{ActionRequest, allowed, transition, validate};
use shouzhen_store::cases::Case;
use shouzhen_store::db::{self, DbConn};
use shouzhen_store::{self, audit};

/// The deadline rules the sweeper keeps for the loop, each with the subject
/// `case:{id}:{deadline in µs}`, so that each deadline of a case is reminded and supervised once:
/// 催办 when the hospital's deadline passes, 督办 when as long again has passed.
pub const REMIND: &str = "loop.remind";
pub const SUPERVISE: &str = "loop.supervise";

/// The number of returns that elevates a case (提级督办).
pub const ELEVATE_AT_RETURNS: i32 = 3;

/// Whether `staff` may see `case` at all: a hospital's staff see only the cases ever forwarded
/// to their hospital (any other answers 404, as if it did not exist); inspectors see their
/// district's (others: 403, see [`check_district`]).
pub fn visible_to(staff: &Staff, case: &Case) -> bool {
    match staff.role {
        shouzhen_domain::actor::Role::HospitalStaff => {
            staff.hospital_id.is_some()
                && case.hospital_id == staff.hospital_id
                && case.reply_due.is_some()
        }
        role => role >= shouzhen_domain::actor::Role::Inspector,
    }
}

/// An inspector held to a district meets a case of another: 403.
pub fn check_district(staff: &Staff, case: &Case) -> AppResult<()> {
    if staff.district_scope().is_some_and(|d| d != case.district) {
        return Err(AppError::Forbidden(
            "this case is outside your district".into(),
        ));
    }
    Ok(())
}

/// The kind of source a case is about when it is not a hospital (a 120 dispatch centre, a
/// community desk): such cases have no staff here to forward them to.
fn non_hospital_source(conn: &mut DbConn, case: &Case) -> AppResult<Option<String>> {
    Ok(match case.hospital_id {
        Some(id) => shouzhen_store::hospitals::by_id(conn, id)?
            .map(|h| h.kind)
            .filter(|k| k != shouzhen_store::hospitals::HOSPITAL),
        None => None,
    })
}

/// Applies an action in one transaction: the status move (refused with 409 if illegal or if
/// the case changed meanwhile), the loop's deadlines, the history entry (on the hash chain of
/// case actions), the audit entry, and the emails the action sends (`escalate`; `forward` and
/// `return` to the hospital; the third `return` to the commission).
pub fn apply(
    conn: &mut DbConn,
    notifier: &Notifier,
    staff: &Staff,
    case_id: i64,
    req: &ActionRequest,
    ip: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    validate(req, now)?;
    db::write_tx(conn, |conn| {
        let case = shouzhen_store::cases::by_id(conn, case_id)?
            .filter(|c| visible_to(staff, c))
            .ok_or_else(|| AppError::NotFound(format!("no case {case_id}")))?;
        check_district(staff, &case)?;
        if !allowed(staff.role, &req.action) {
            return Err(AppError::Forbidden(match &req.action[..] {
                "reply" | "rectify" => "only the hospital's own staff reply and rectify".into(),
                "assign" => "only supervisors assign cases".into(),
                other => format!("`{other}` is an inspector's action"),
            }));
        }
        let to = transition(&req.action, &case.status).ok_or_else(|| {
            AppError::Conflict(format!(
                "`{}` does not apply to a case that is {}",
                req.action, case.status
            ))
        })?;
        if req.action == "forward"
            && let Some(kind) = non_hospital_source(conn, &case)?
        {
            let who = if kind == shouzhen_store::hospitals::COMMUNITY {
                "a community desk's case is not forwarded: the desk"
            } else {
                "a 120 centre's case is not forwarded: the centre"
            };
            return Err(AppError::Conflict(format!(
                "{who} has no staff here to reply; the inspectors take it up themselves"
            )));
        }
        let assignee_id = match (&req.action[..], req.assignee.as_deref()) {
            ("assign", Some(email)) => {
                let user = shouzhen_store::users::by_email(conn, email.trim())?
                    .filter(|u| !u.disabled)
                    .ok_or_else(|| AppError::field("assignee", "is not an active user's email"))?;
                Some(user.id)
            }
            _ => case.assignee_id,
        };
        let (reply_due, rectification_due, returns) = match &req.action[..] {
            "forward" | "return" => (
                Some(now + notifier.reply_limit),
                case.rectification_due,
                case.returns + i32::from(req.action == "return"),
            ),
            "accept" => (case.reply_due, req.due_at(), case.returns),
            _ => (case.reply_due, case.rectification_due, case.returns),
        };
        let mut note = shouzhen_domain::redact::redact(req.note.trim()).0;
        if let Some(admits) = req.admits.filter(|_| req.action == "reply") {
            note = format!(
                "{}{note}",
                if admits {
                    "【认可】"
                } else {
                    "【申辩】"
                }
            );
        }
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
                reply_due,
                rectification_due,
                returns,
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
        let case = shouzhen_store::cases::by_id(conn, case.id)?
            .ok_or(shouzhen_store::StoreError::NotFound)?;
        after_move(conn, notifier, &case, &req.action, &note, now)?;
        Ok(())
    })
}

/// What follows a move, in its transaction: the emails and the deadlines of the loop.
fn after_move(
    conn: &mut DbConn,
    notifier: &Notifier,
    case: &Case,
    action: &str,
    note: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    match action {
        "escalate" => {
            crate::notify::case_escalated(
                conn,
                notifier,
                case,
                note,
                i64::from(case.escalation_level),
            )?;
        }
        "forward" | "return" => {
            let trigger = if action == "forward" {
                Trigger::Forwarded
            } else {
                Trigger::Returned
            };
            // Each forward and return is its own notice (a case may be forwarded again after
            // a reopen): numbered by the forwards and returns so far, this one included.
            let round =
                shouzhen_store::cases::count_actions(conn, case.id, &["forward", "return"])?;
            notifier.case_email(conn, case, trigger, Some(note), round, None)?;
            if let Some(due) = case.reply_due {
                schedule(conn, case, due, notifier.reply_limit)?;
            }
            if action == "return" && case.returns == ELEVATE_AT_RETURNS {
                shouzhen_store::cases::add_action(
                    conn,
                    &shouzhen_store::cases::Action::system(
                        case.id,
                        "elevate",
                        &case.status,
                        &case.status,
                        &format!("第 {} 次退回，提级督办", case.returns),
                        now,
                    ),
                )?;
                notifier.case_email(conn, case, Trigger::Elevated, Some(note), 0, None)?;
            }
        }
        "accept" => {
            if let Some(due) = case.rectification_due {
                schedule(conn, case, due, due - now)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The reminder at `due` and the supervision `interval` after it.
fn schedule(
    conn: &mut DbConn,
    case: &Case,
    due: NaiveDateTime,
    interval: chrono::Duration,
) -> AppResult<()> {
    let subject = format!("case:{}:{}", case.id, due.and_utc().timestamp_micros());
    shouzhen_store::deadlines::schedule(conn, REMIND, &subject, case.hospital_id, due)?;
    shouzhen_store::deadlines::schedule(
        conn,
        SUPERVISE,
        &subject,
        case.hospital_id,
        due + interval,
    )?;
    Ok(())
}

/// The sweeper's check of a loop deadline (`REMIND` or `SUPERVISE`), in its transaction: if the
/// case still waits for its hospital on that very deadline, the `remind` (to the hospital) or
/// `supervise` (to the district's supervisors, else all) entry and email, once: the deadline
/// is claimed first, so of several instances one writes them, and the email's key holds the
/// deadline.
pub fn check_deadline(
    conn: &mut DbConn,
    notifier: &Notifier,
    d: &shouzhen_store::deadlines::Deadline,
    now: NaiveDateTime,
) -> shouzhen_store::QueryResult<()> {
    if !shouzhen_store::deadlines::claim(conn, d.id, now)? {
        return Ok(());
    }
    let mut parts = d.subject.split(':').skip(1);
    let (Some(case_id), Some(due)) = (
        parts.next().and_then(|s| s.parse::<i64>().ok()),
        parts.next().and_then(|s| s.parse::<i64>().ok()),
    ) else {
        return Ok(());
    };
    let Some(case) = shouzhen_store::cases::by_id(conn, case_id)? else {
        return Ok(());
    };
    let current = match &case.status[..] {
        "forwarded" => case.reply_due,
        "rectifying" => case.rectification_due,
        _ => None,
    };
    // Answered meanwhile, or the deadline changed (returned, accepted anew): nothing to do.
    let Some(current) = current.filter(|t| t.and_utc().timestamp_micros() == due) else {
        return Ok(());
    };
    let deadline = crate::mail::china(current);
    let what = if case.status == "rectifying" {
        "整改"
    } else {
        "答复"
    };
    let (action, trigger, to, note) = if d.rule == SUPERVISE {
        (
            "supervise",
            Trigger::Supervised,
            Some(shouzhen_store::users::supervisors_for(
                conn,
                &case.district,
            )?),
            format!("{what}期限（{deadline}）已过且已催办，仍未办理：已通知主管督办"),
        )
    } else {
        (
            "remind",
            Trigger::Reminded,
            None,
            format!("{what}期限（{deadline}）已过，已催办医院"),
        )
    };
    shouzhen_store::cases::add_action(
        conn,
        &shouzhen_store::cases::Action::system(
            case.id,
            action,
            &case.status,
            &case.status,
            &note,
            now,
        ),
    )?;
    notifier.case_email(conn, &case, trigger, None, due, to)
}
