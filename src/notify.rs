//! Where the engine tells the outside world: the email outbox is written here, in the
//! transaction that opens the case (the outbox worker arrives with the escalation issue).

use diesel::QueryResult;

use crate::db::DbConn;
use crate::store::cases::Case;

/// Called in the transaction that opens `case`.
pub fn case_opened(_conn: &mut DbConn, case: &Case) -> QueryResult<()> {
    tracing::info!(case = case.id, rule = %case.rule, severity = %case.severity, "case opened");
    Ok(())
}
