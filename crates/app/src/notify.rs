//! What happens, inside the case's transaction, when a case opens or is escalated: the email
//! is written to the outbox (delivered later by `mail::worker`), and a high-severity case gets
//! a deadline for its acknowledgement.

use chrono::NaiveDateTime;

use crate::mail::{DigestLine, Notifier, Trigger, severity_zh};
use shouzhen_domain::rules::RuleId;
use shouzhen_store::db::DbConn;
use shouzhen_store::{QueryResult, cases::Case, deadlines};

/// The deadline rule that re-escalates unacknowledged high-severity cases.
pub const UNACKNOWLEDGED: &str = "escalation.unacknowledged";

/// Called in the transaction that opens `cases` (which the caller logs once it commits): the
/// emails of the high-severity ones and of `complaint.unanswered`, and the acknowledgement
/// deadlines of the high-severity ones, written together.
pub fn cases_opened(
    conn: &mut DbConn,
    notifier: &Notifier,
    cases: &[Case],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let high = |case: &Case| case.severity == "high";
    let emailed: Vec<&Case> = cases
        .iter()
        .filter(|c| high(c) || c.rule == RuleId::ComplaintUnanswered.as_str())
        .collect();
    notifier.opened_emails(conn, &emailed)?;
    let deadlines: deadlines::Changes = cases
        .iter()
        .filter(|c| high(c))
        .map(|case| {
            (
                (UNACKNOWLEDGED.to_string(), format!("case:{}", case.id)),
                deadlines::Change::Schedule {
                    hospital_id: case.hospital_id,
                    due_at: now + notifier.ack_limit,
                },
            )
        })
        .collect();
    deadlines::write(conn, &deadlines)
}

/// Called in the transaction of an inspector's `escalate` action (`round` counts escalations,
/// so that each one is emailed once).
pub fn case_escalated(
    conn: &mut DbConn,
    notifier: &Notifier,
    case: &Case,
    note: &str,
    round: i64,
) -> QueryResult<()> {
    notifier.case_email(conn, case, Trigger::Escalated, Some(note), round, None)
}

/// The sweeper's check of a high-severity case's acknowledgement: if nobody acknowledged it in
/// time, the supervisors are emailed (once).
pub fn check_acknowledged(
    conn: &mut DbConn,
    notifier: &Notifier,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(id) = subject
        .strip_prefix("case:")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return Ok(());
    };
    let Some(case) = shouzhen_store::cases::by_id(conn, id)? else {
        return Ok(());
    };
    if case.status != "open" || case.acknowledged_at.is_some() || case.escalation_level > 0 {
        return Ok(());
    }
    let supervisors = shouzhen_store::users::enabled_emails_of_role(conn, "supervisor")?;
    notifier.case_email(
        conn,
        &case,
        Trigger::Unacknowledged,
        None,
        0,
        Some(supervisors),
    )?;
    shouzhen_store::cases::set_escalation_level(conn, case.id, 1)?;
    shouzhen_store::cases::add_action(
        conn,
        &shouzhen_store::cases::Action {
            case_id: case.id,
            actor: None,
            action: "notify_supervisors",
            from: "open",
            to: "open",
            note: &format!(
                "{} 分钟内无人受理，已通知主管",
                notifier.ack_limit.num_minutes()
            ),
            at: now,
        },
    )
}

/// The daily digest of medium and low cases per district, at `hour` China time; each district's
/// digest is written once a day (its outbox key is unique).
pub fn daily_digest(
    conn: &mut DbConn,
    notifier: &Notifier,
    hour: u32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use chrono::Timelike;
    let local = shouzhen_domain::time::to_china(now);
    if local.hour() < hour {
        return Ok(0);
    }
    let date = local.format("%Y-%m-%d").to_string();
    let since = now - chrono::Duration::hours(24);
    let rows = shouzhen_store::cases::opened_since(conn, since, &["medium", "low"])?;
    let mut written = 0;
    let mut i = 0;
    while i < rows.len() {
        let district = rows[i].district.clone();
        let lines: Vec<DigestLine> = rows[i..]
            .iter()
            .take_while(|r| r.district == district)
            .map(|r| DigestLine {
                id: r.id,
                severity: severity_zh(&r.severity).to_string(),
                rule: r.rule.clone(),
                summary: r.summary.clone(),
                link: notifier.link(r.id),
            })
            .collect();
        i += lines.len();
        notifier.digest_email(conn, &district, &date, &lines)?;
        written += 1;
    }
    Ok(written)
}
