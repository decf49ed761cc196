//! `shouzhen export --tracking-code CODE`: everything held about one complaint, for the
//! complainant's data request (PIPL art. 45): the complaint as filed (the original description
//! and the contact details, unsealed, unless retention has deleted them), its status and public
//! timeline, the cases it was linked to, and when staff revealed the contact details. Recorded in
//! the audit trail.

use serde_json::{Value, json};

use crate::keys::Keys;
use shouzhen_domain::time::rfc3339;
use shouzhen_store::QueryResult;
use shouzhen_store::db::DbConn;

/// The export as JSON, or `None` when no complaint has that code.
pub fn export(conn: &mut DbConn, keys: &Keys, code: &str) -> QueryResult<Option<Value>> {
    let Some(normalized) = super::normalize_code(code) else {
        return Ok(None);
    };
    let Some(c) = shouzhen_store::complaints::by_code(conn, &normalized)? else {
        return Ok(None);
    };
    let (name, phone, original) = super::reveal(keys, &c);
    let contact_held = c.contact_sealed.is_some();
    let hospital = match c.hospital_id {
        Some(id) => shouzhen_store::hospitals::by_id(conn, id)?.map(|h| (h.code, h.name)),
        None => None,
    };
    let timeline: Vec<Value> = shouzhen_store::complaints::updates(conn, c.id)?
        .into_iter()
        .map(|(at, kind, note)| json!({"at": rfc3339(at), "kind": kind, "note": note}))
        .collect();
    let linked = shouzhen_store::complaints::linked_cases(conn, c.id)?;
    let target = c.id.to_string();
    let reveals = shouzhen_store::audit::about(conn, "complaint", &target)?;
    shouzhen_store::audit::record(
        conn,
        &shouzhen_store::audit::Entry {
            actor_label: "cli",
            action: "complaint.export",
            target_type: "complaint",
            target_id: &target,
            detail: "data request: everything held, exported by tracking code",
            ..Default::default()
        },
    )?;
    Ok(Some(json!({
        "tracking_code": super::display_code(&c.tracking_code),
        "hospital": hospital.as_ref().map(|h| h.0.clone()),
        "hospital_name": hospital.map(|h| h.1).unwrap_or(c.hospital_name),
        "category": c.category,
        "occurred_at": rfc3339(c.occurred_at),
        "filed_at": rfc3339(c.created_at),
        "language": c.lang,
        "description_as_filed": original,
        "description_shown_to_staff": c.description,
        "contact": if contact_held {
            json!({"name": name, "phone": phone})
        } else {
            json!("none held (not given, or deleted after the retention period)")
        },
        "status": c.status,
        "acknowledged_at": c.acknowledged_at.map(rfc3339),
        "closed_at": c.closed_at.map(rfc3339),
        "outcome": c.outcome,
        "rating": c.rating,
        "merged_into_another_complaint": c.merged_into.is_some(),
        "timeline": timeline,
        "linked_cases": linked.into_iter().map(|(id, rule, status)| json!({"id": id, "rule": rule, "status": status})).collect::<Vec<_>>(),
        // When staff opened the contact details (who, by name, stays with the commission).
        "access_log": reveals.into_iter().map(|(at, action)| json!({"at": rfc3339(at), "action": action})).collect::<Vec<_>>(),
    })))
}
