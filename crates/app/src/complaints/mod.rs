//! Citizens' complaints (12320-style): validation, tracking codes, sealing of personal data,
//! filing (with the complaint rules and links to matching cases), and the inspectors' actions.

pub mod export;
pub mod import;
pub mod report;
pub mod seal;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use shouzhen_store::QueryResult;

use crate::engine::{Effects, Engine};
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::mail::ComplaintTrigger;
use shouzhen_domain::complaint::{
    ACTIONS, CATEGORIES, MAX_DESCRIPTION, SATISFACTIONS, next_status, parse_time, rules_for,
};
use shouzhen_domain::field::FieldError;
use shouzhen_store::db::{self, DbConn};
use shouzhen_store::{self, complaints as rows};

/// What a citizen sends, from the form or the JSON twin.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintInput {
    /// A registered hospital's code; empty when the hospital is not listed
    #[serde(default)]
    pub hospital: Option<String>,
    /// The hospital's name when it is not listed
    #[serde(default)]
    #[schema(max_length = 200)]
    pub hospital_name: Option<String>,
    #[schema(schema_with = category_schema, required = true)]
    pub category: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in China time; not in the future
    #[schema(required = true)]
    pub occurred_at: Option<String>,
    /// 1-5,000 characters
    #[schema(schema_with = description_schema, required = true)]
    pub description: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// web (the default), phone, 12345, letter; operators only, who file `phone` by default
    #[serde(default)]
    #[schema(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// The platform's work-order number (operators only); filed once per channel: sent again,
    /// the answer is the complaint it was filed as
    #[serde(default)]
    #[schema(max_length = 64)]
    pub external_ref: Option<String>,
    /// Whether the caller agreed to be called back (operators only)
    #[serde(default)]
    pub callback_consent: Option<bool>,
}

fn channel_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of_or_null(shouzhen_domain::complaint::CHANNELS.iter().copied())
}

fn category_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(CATEGORIES.iter().copied())
}

fn description_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::text(MAX_DESCRIPTION)
}

pub struct ValidComplaint {
    pub hospital_id: Option<i64>,
    pub hospital_name: String,
    pub category: String,
    pub occurred_at: NaiveDateTime,
    pub description: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub channel: String,
    pub external_ref: Option<String>,
    pub callback_consent: bool,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_string()
}

/// Checks every field (errors name them, in form order). `by_operator`: a hotline operator
/// files it (the channel, the work-order number and the callback consent are theirs to give).
pub fn validate(
    conn: &mut DbConn,
    input: &ComplaintInput,
    now: DateTime<Utc>,
    by_operator: bool,
) -> AppResult<ValidComplaint> {
    let mut errors = Vec::new();
    let code = text(&input.hospital);
    let mut hospital_name = text(&input.hospital_name);
    let mut hospital_id = None;
    if !code.is_empty() {
        match shouzhen_store::hospitals::by_code(conn, &code)? {
            Some(h) if !h.disabled => {
                hospital_id = Some(h.id);
                hospital_name = h.name;
            }
            _ => errors.push(FieldError::new("hospital", "is not a registered hospital")),
        }
    } else if hospital_name.is_empty() {
        errors.push(FieldError::new(
            "hospital_name",
            "is required when the hospital is not in the list",
        ));
    } else if hospital_name.chars().count() > 200 {
        errors.push(FieldError::new(
            "hospital_name",
            "must be at most 200 characters",
        ));
    }
    let category = text(&input.category);
    if category.is_empty() {
        errors.push(FieldError::new("category", "is required"));
    } else if !CATEGORIES.contains(&category.as_str()) {
        errors.push(FieldError::new("category", "is not a known category"));
    }
    let occurred = text(&input.occurred_at);
    let occurred_at = if occurred.is_empty() {
        errors.push(FieldError::new("occurred_at", "is required"));
        None
    } else {
        match parse_time(&occurred) {
            None => {
                errors.push(FieldError::new("occurred_at", "is not a date and time"));
                None
            }
            Some(t) if t > now.naive_utc() + Duration::minutes(5) => {
                errors.push(FieldError::new("occurred_at", "is in the future"));
                None
            }
            Some(t) => Some(shouzhen_domain::time::to_micros(t)),
        }
    };
    let description = text(&input.description);
    if description.is_empty() {
        errors.push(FieldError::new("description", "is required"));
    } else if description.chars().count() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    } else if shouzhen_domain::field::has_control(&description) {
        errors.push(FieldError::new(
            "description",
            shouzhen_domain::field::CONTROL,
        ));
    }
    let contact_name = Some(text(&input.contact_name)).filter(|s| !s.is_empty());
    if contact_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100)
    {
        errors.push(FieldError::new(
            "contact_name",
            "must be at most 100 characters",
        ));
    } else if contact_name
        .as_deref()
        .is_some_and(shouzhen_domain::field::has_control)
    {
        errors.push(FieldError::new(
            "contact_name",
            shouzhen_domain::field::CONTROL,
        ));
    }
    let contact_phone = Some(text(&input.contact_phone)).filter(|s| !s.is_empty());
    if let Some(p) = &contact_phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let allowed = p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
        if !allowed || !(5..=20).contains(&digits) {
            errors.push(FieldError::new("contact_phone", "is not a phone number"));
        }
    }
    let channel = Some(text(&input.channel))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| if by_operator { "phone" } else { "web" }.to_string());
    let external_ref = Some(text(&input.external_ref)).filter(|s| !s.is_empty());
    if by_operator {
        if !shouzhen_domain::complaint::CHANNELS.contains(&channel.as_str()) {
            errors.push(FieldError::new(
                "channel",
                format!(
                    "must be one of {}",
                    shouzhen_domain::complaint::CHANNELS.join(", ")
                ),
            ));
        }
        if external_ref
            .as_ref()
            .is_some_and(|r| r.chars().count() > shouzhen_domain::complaint::MAX_EXTERNAL_REF)
        {
            errors.push(FieldError::new(
                "external_ref",
                format!(
                    "must be at most {} characters",
                    shouzhen_domain::complaint::MAX_EXTERNAL_REF
                ),
            ));
        }
    } else {
        // The public form files `web` complaints; the desk's fields are the operators'.
        if channel != "web" {
            errors.push(FieldError::new(
                "channel",
                "is set by hotline operators only",
            ));
        }
        if external_ref.is_some() {
            errors.push(FieldError::new(
                "external_ref",
                "is set by hotline operators only",
            ));
        }
        if input.callback_consent.is_some() {
            errors.push(FieldError::new(
                "callback_consent",
                "is recorded by hotline operators only",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(ValidComplaint {
        hospital_id,
        hospital_name,
        category,
        occurred_at: occurred_at.unwrap_or_default(),
        description,
        contact_name,
        contact_phone,
        channel,
        external_ref,
        callback_consent: input.callback_consent.unwrap_or(false),
    })
}

pub use shouzhen_domain::complaint::{ALPHABET, CODE_LEN, display_code, normalize_code};

pub fn new_tracking_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct Contact {
    name: Option<String>,
    phone: Option<String>,
}

/// A platform's work order filed before: the complaint it was filed as.
pub fn filed_before(conn: &mut DbConn, c: &ValidComplaint) -> QueryResult<Option<rows::Complaint>> {
    match &c.external_ref {
        Some(r) => rows::by_external_ref(conn, &c.channel, r),
        None => Ok(None),
    }
}

/// Files a complaint in one transaction: the row (free text redacted, originals and contact
/// sealed), the public timeline, links to matching cases, and the complaint rules. A work order
/// (`external_ref`) filed before for its channel files nothing: the complaint it was filed as
/// comes back, with no effects (also when two arrive at once: the unique index decides).
pub fn file(
    conn: &mut DbConn,
    keys: &Keys,
    engine: &Engine<'_>,
    c: ValidComplaint,
    lang: &str,
) -> QueryResult<(rows::Complaint, Effects)> {
    if let Some(existing) = filed_before(conn, &c)? {
        return Ok((existing, Effects::default()));
    }
    let result = file_new(conn, keys, engine, &c, lang);
    match result {
        Err(e) if db::is_unique_violation(&e) && c.external_ref.is_some() => {
            filed_before(conn, &c)?
                .map(|existing| (existing, Effects::default()))
                .ok_or(e)
        }
        other => other,
    }
}

fn file_new(
    conn: &mut DbConn,
    keys: &Keys,
    engine: &Engine<'_>,
    c: &ValidComplaint,
    lang: &str,
) -> QueryResult<(rows::Complaint, Effects)> {
    db::write_tx(conn, |conn| {
        let (mut redacted, mut changed) = shouzhen_domain::redact::redact(&c.description);
        // The complainant's own name, written into the text, is masked like the contact field.
        if let Some(name) = c.contact_name.as_deref().map(str::trim)
            && !name.is_empty()
            && redacted.contains(name)
        {
            redacted = redacted.replace(name, &mask_name(name));
            changed = true;
        }
        let description_sealed = changed.then(|| seal::seal(&keys.contact, &c.description));
        let contact_sealed = (c.contact_name.is_some() || c.contact_phone.is_some()).then(|| {
            let contact = Contact {
                name: c.contact_name.clone(),
                phone: c.contact_phone.clone(),
            };
            seal::seal(
                &keys.contact,
                &serde_json::to_string(&contact).unwrap_or_default(),
            )
        });
        let code = loop {
            let code = new_tracking_code();
            if rows::by_code(conn, &code)?.is_none() {
                break code;
            }
        };
        let complaint = rows::insert(
            conn,
            &rows::NewComplaint {
                tracking_code: &code,
                hospital_id: c.hospital_id,
                hospital_name: &c.hospital_name,
                category: &c.category,
                occurred_at: c.occurred_at,
                description: &redacted,
                description_sealed: description_sealed.as_deref(),
                contact_sealed: contact_sealed.as_deref(),
                status: "received",
                lang,
                created_at: engine.now,
                channel: &c.channel,
                external_ref: c.external_ref.as_deref(),
                callback_consent: c.callback_consent,
            },
        )?;
        rows::add_update(conn, complaint.id, "filed", "", engine.now)?;
        link_to_cases(conn, &complaint)?;
        let mut effects = engine.complaint(conn, complaint.id)?;
        if let Some(h) = complaint.hospital_id {
            effects.extend(engine.complaint_cluster(conn, h, engine.now)?);
        }
        Ok((complaint, effects))
    })
}

/// Links a complaint to the cases it corroborates: same hospital, a rule its category speaks
/// of, within a day of what it describes.
pub fn link_to_cases(conn: &mut DbConn, c: &rows::Complaint) -> QueryResult<usize> {
    let Some(hospital_id) = c.hospital_id else {
        return Ok(0);
    };
    let rules: Vec<&str> = rules_for(&c.category).iter().map(|r| r.as_str()).collect();
    let window = Duration::hours(24);
    let (from, to) = (c.occurred_at - window, c.occurred_at + window);
    let mut ids = shouzhen_store::cases::matching(conn, hospital_id, &rules, from, to)?;
    // A desk's request cases bear on the hospital the resident was taken to.
    let transport: Vec<&str> = rules
        .iter()
        .copied()
        .filter(|r| r.starts_with("transport."))
        .collect();
    if !transport.is_empty()
        && let Some(h) = shouzhen_store::hospitals::by_id(conn, hospital_id)?
    {
        for (id, subject) in shouzhen_store::cases::of_rules_between(conn, &transport, from, to)? {
            if crate::engine::request_hospital(conn, &subject)?.as_deref() == Some(h.code.as_str())
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
    }
    let complaint = [c.id];
    let links: Vec<(i64, &[i64], &[i64])> = ids
        .iter()
        .map(|id| (*id, &[][..], &complaint[..]))
        .collect();
    shouzhen_store::cases::link_evidence(conn, &links)?;
    Ok(ids.len())
}

/// The contact details and original description, for an inspector who reveals them.
pub fn reveal(keys: &Keys, c: &rows::Complaint) -> (Option<String>, Option<String>, String) {
    let contact: Option<Contact> = c
        .contact_sealed
        .as_deref()
        .and_then(|s| seal::open(&keys.contact, s))
        .and_then(|s| serde_json::from_str(&s).ok());
    let original = c
        .description_sealed
        .as_deref()
        .and_then(|s| seal::open(&keys.contact, s))
        .unwrap_or_else(|| c.description.clone());
    let (name, phone) = contact.map(|c| (c.name, c.phone)).unwrap_or((None, None));
    (name, phone, original)
}

/// A name masked but for its first character: 张*.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    let first: String = chars.next().map(String::from).unwrap_or_default();
    format!("{first}{}", "*".repeat(chars.count().clamp(1, 3)))
}

/// Masked for the queue: 张*, 138****8000.
pub fn masked_contact(keys: &Keys, c: &rows::Complaint) -> Option<String> {
    let (name, phone, _) = reveal(keys, c);
    if name.is_none() && phone.is_none() {
        return None;
    }
    let name = name.as_deref().map(mask_name);
    let phone = phone.map(|p| {
        let digits: Vec<char> = p.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            format!(
                "{}****{}",
                digits[..3].iter().collect::<String>(),
                digits[digits.len() - 4..].iter().collect::<String>()
            )
        } else {
            "****".to_string()
        }
    });
    Some(
        [name, phone]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Character-bigram similarity of two texts (0..1), for spotting duplicates.
pub fn similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> std::collections::HashSet<(char, char)> {
        let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    x.intersection(&y).count() as f64 / x.union(&y).count() as f64
}

/// Other complaints that look like `c`: same hospital, category and (China) day, similar text.
pub fn likely_duplicates(conn: &mut DbConn, c: &rows::Complaint) -> QueryResult<Vec<String>> {
    let day_start = shouzhen_domain::time::china_day_start(c.occurred_at);
    let others = rows::same_day(conn, c, day_start, day_start + Duration::days(1))?;
    Ok(others
        .into_iter()
        .filter(|o| similarity(&o.description, &c.description) >= 0.5)
        .map(|o| o.tracking_code)
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct ComplaintAction {
    pub action: String,
    /// Shown to the citizen (request_info, close; the hospital's answer); the callback's record.
    pub note: String,
    /// merge: the tracking code of the complaint this one duplicates.
    pub into: Option<String>,
    /// callback: whether the caller's matter was resolved.
    pub resolved: Option<bool>,
    /// callback: satisfied, basically_satisfied, unsatisfied.
    pub satisfaction: Option<String>,
}

/// Inspectors bound to a district handle the complaints about its hospitals (and those naming
/// no registered hospital).
pub fn check_district(
    conn: &mut DbConn,
    staff: &shouzhen_domain::actor::Staff,
    c: &rows::Complaint,
) -> AppResult<()> {
    if let (Some(d), Some(h)) = (staff.district_scope(), c.hospital_id)
        && shouzhen_store::hospitals::by_id(conn, h)?.map(|h| h.district) != Some(d)
    {
        return Err(AppError::Forbidden(
            "this complaint is outside your district".into(),
        ));
    }
    Ok(())
}

/// Whether a user may see this complaint at all: a hospital's staff only the complaints
/// forwarded to their hospital (any other is as if it did not exist).
pub fn visible_to(staff: &shouzhen_domain::actor::Staff, c: &rows::Complaint) -> bool {
    match staff.role {
        shouzhen_domain::actor::Role::HospitalStaff => {
            staff.hospital_id.is_some()
                && c.hospital_id == staff.hospital_id
                && c.answer_due.is_some()
        }
        _ => true,
    }
}

/// The complaint as `staff` may read it: unknown, or not theirs to see, is a 404; outside an
/// inspector's district a 403.
pub fn readable(
    conn: &mut DbConn,
    staff: &shouzhen_domain::actor::Staff,
    id: i64,
) -> AppResult<rows::Complaint> {
    let c = rows::by_id(conn, id)?
        .filter(|c| visible_to(staff, c))
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
    check_district(conn, staff, &c)?;
    Ok(c)
}

fn check_action(staff: &shouzhen_domain::actor::Staff, a: &ComplaintAction) -> AppResult<()> {
    let mut errors = Vec::new();
    if !ACTIONS.contains(&a.action.as_str()) {
        errors.push(FieldError::new(
            "action",
            format!("must be one of {}", ACTIONS.join(", ")),
        ));
        return Err(AppError::fields(errors));
    }
    if !shouzhen_domain::complaint::allowed(&a.action, staff.role) {
        return Err(AppError::Forbidden(format!(
            "`{}` on a complaint is not for the {} role",
            a.action,
            staff.role.as_str()
        )));
    }
    let note = a.note.trim();
    if matches!(a.action.as_str(), "request_info" | "close") && note.is_empty() {
        errors.push(FieldError::new("note", "is required: the citizen reads it"));
    }
    if a.action == "answer" && note.is_empty() {
        errors.push(FieldError::new(
            "note",
            "is required: the hospital's answer, which the citizen reads",
        ));
    }
    if note.chars().count() > 2_000 {
        errors.push(FieldError::new("note", "must be at most 2000 characters"));
    } else if shouzhen_domain::field::has_control(note) {
        errors.push(FieldError::new("note", shouzhen_domain::field::CONTROL));
    }
    if a.action == "merge" && a.into.as_deref().and_then(normalize_code).is_none() {
        errors.push(FieldError::new(
            "into",
            "must be the tracking code of the complaint this one duplicates",
        ));
    }
    if a.action == "callback" {
        if a.resolved.is_none() {
            errors.push(FieldError::new(
                "resolved",
                "is required: whether the caller's matter was resolved",
            ));
        }
        if a.satisfaction.is_none() {
            errors.push(FieldError::new("satisfaction", "is required"));
        }
    }
    // Whatever the action, a satisfaction given is one of the three.
    if a.satisfaction
        .as_deref()
        .is_some_and(|s| !SATISFACTIONS.contains(&s))
    {
        errors.push(FieldError::new(
            "satisfaction",
            format!("must be one of {}", SATISFACTIONS.join(", ")),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(())
}

/// Applies an action on a complaint (audited; visible on the public timeline): an inspector's,
/// an operator's forward or callback, or its hospital's answer.
pub fn act(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    staff: &shouzhen_domain::actor::Staff,
    id: i64,
    a: &ComplaintAction,
    ip: &str,
) -> AppResult<()> {
    check_action(staff, a)?;
    db::write_tx(conn, |conn| {
        let c = readable(conn, staff, id)?;
        let to = next_status(&a.action, &c.status).ok_or_else(|| {
            AppError::Conflict(match a.action.as_str() {
                "callback" => format!(
                    "a complaint that is {} has no answer to call back about",
                    c.status
                ),
                _ => format!(
                    "a complaint that is {} cannot take `{}`",
                    c.status, a.action
                ),
            })
        })?;
        let note = shouzhen_domain::redact::redact(a.note.trim()).0;
        let now = engine.now;
        let to = match a.action.as_str() {
            "forward" | "answer" | "callback" => loop_step(conn, engine, &c, a, &note)?,
            _ => {
                inspector_step(conn, &c, a, to, &note, now)?;
                to
            }
        };
        shouzhen_store::audit::record(
            conn,
            &shouzhen_store::audit::Entry {
                actor_id: Some(staff.user_id),
                actor_label: &staff.email,
                action: &format!("complaint.{}", a.action),
                target_type: "complaint",
                target_id: &c.id.to_string(),
                detail: &format!("{} -> {to}", c.status),
                ip,
            },
        )?;
        // Acknowledging (or any first answer) settles `complaint.unanswered`; an answer
        // settles `complaint.overdue`; a reopening may elevate.
        engine.complaint(conn, c.id)?;
        Ok(())
    })
}

fn changed() -> AppError {
    AppError::Conflict("the complaint changed meanwhile; reload it".into())
}

/// An inspector's step: acknowledge, request_info, close, merge.
fn inspector_step(
    conn: &mut DbConn,
    c: &rows::Complaint,
    a: &ComplaintAction,
    to: &str,
    note: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let merged_into = if a.action == "merge" {
        let code = a
            .into
            .as_deref()
            .and_then(normalize_code)
            .unwrap_or_default();
        let target = rows::by_code(conn, &code)?
            .filter(|t| t.id != c.id && t.merged_into.is_none())
            .ok_or_else(|| {
                AppError::field("into", "is not another open complaint's tracking code")
            })?;
        Some(target.id)
    } else {
        None
    };
    if !rows::set_status(
        conn,
        c.id,
        &c.status,
        to,
        now,
        merged_into,
        (a.action == "close").then_some(note),
    )? {
        return Err(changed());
    }
    let public = match a.action.as_str() {
        "request_info" | "close" => note,
        _ => "",
    };
    let kind = match a.action.as_str() {
        "acknowledge" => "acknowledged",
        "request_info" => "info_requested",
        "close" => "closed",
        _ => "merged",
    };
    rows::add_update(conn, c.id, kind, public, now)?;
    Ok(())
}

/// A step of the hotline loop (forward, answer, callback): the deadlines in working days of
/// the hospital's jurisdiction, the public timeline, and the emails. Returns the new status.
fn loop_step(
    conn: &mut DbConn,
    engine: &Engine<'_>,
    c: &rows::Complaint,
    a: &ComplaintAction,
    note: &str,
) -> AppResult<&'static str> {
    let now = engine.now;
    let Some(hospital_id) = c.hospital_id else {
        return Err(AppError::Conflict(
            "this complaint names no registered hospital to forward it to".into(),
        ));
    };
    let jurisdiction = shouzhen_store::hospitals::by_id(conn, hospital_id)?
        .map(|h| h.jurisdiction)
        .unwrap_or_default();
    let calendar = engine.policy.calendar(&jurisdiction);
    let answer_due = calendar.add_workdays(now, engine.policy.complaint_answer_workdays());
    let (to, step) = match a.action.as_str() {
        "forward" => (
            "forwarded",
            rows::Step {
                status: Some("forwarded"),
                acknowledged_at: Some(c.acknowledged_at.or(Some(now))),
                forwarded_at: Some(Some(now)),
                answer_due: Some(Some(answer_due)),
                ..Default::default()
            },
        ),
        "answer" => (
            "answered",
            rows::Step {
                status: Some("answered"),
                answered_at: Some(Some(now)),
                answer: Some(Some(note)),
                callback_due: Some(Some(
                    calendar.add_workdays(now, engine.policy.complaint_callback_workdays()),
                )),
                ..Default::default()
            },
        ),
        _ => {
            let resolved = a.resolved.unwrap_or(false);
            let satisfaction = a.satisfaction.as_deref().unwrap_or("unsatisfied");
            match shouzhen_domain::complaint::after_callback(resolved, satisfaction) {
                "closed" => (
                    "closed",
                    rows::Step {
                        status: Some("closed"),
                        called_back_at: Some(Some(now)),
                        resolved: Some(Some(resolved)),
                        satisfaction: Some(Some(satisfaction)),
                        closed_at: Some(Some(now)),
                        outcome: Some(c.answer.as_deref()),
                        ..Default::default()
                    },
                ),
                _ => (
                    "reopened",
                    rows::Step {
                        status: Some("reopened"),
                        called_back_at: Some(Some(now)),
                        resolved: Some(Some(resolved)),
                        satisfaction: Some(Some(satisfaction)),
                        reopened: Some(c.reopened + 1),
                        forwarded_at: Some(Some(now)),
                        answer_due: Some(Some(answer_due)),
                        answered_at: Some(None),
                        callback_due: Some(None),
                        ..Default::default()
                    },
                ),
            }
        }
    };
    if !rows::step(conn, c.id, &c.status, &step)? {
        return Err(changed());
    }
    let after = rows::by_id(conn, c.id)?.ok_or_else(changed)?;
    match to {
        "forwarded" => {
            rows::add_update(conn, c.id, "forwarded", "", now)?;
            engine
                .notifier
                .complaint_email(conn, &after, ComplaintTrigger::Forwarded, None)?;
        }
        "answered" => rows::add_update(conn, c.id, "answered", note, now)?,
        "closed" => rows::add_update(conn, c.id, "called_back", "", now)?,
        _ => {
            rows::add_update(conn, c.id, "called_back", "", now)?;
            rows::add_update(conn, c.id, "reopened", "", now)?;
            engine
                .notifier
                .complaint_email(conn, &after, ComplaintTrigger::Forwarded, None)?;
            engine.notifier.complaint_email(
                conn,
                &after,
                ComplaintTrigger::Reopened,
                Some(note),
            )?;
        }
    }
    Ok(to)
}

/// Deletes the sealed contact details and originals of complaints closed longer ago than the
/// retention period. Returns how many complaints were cleared.
pub fn purge_expired(
    conn: &mut DbConn,
    retention_days: u32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    rows::purge_sealed(conn, now - Duration::days(i64::from(retention_days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_are_long_unambiguous_and_forgiving() {
        let code = new_tracking_code();
        assert_eq!(code.len(), 13);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        assert!((ALPHABET.len() as f64).powi(13).log2() >= 60.0);
        let shown = display_code(&code);
        assert_eq!(normalize_code(&shown.to_lowercase()), Some(code.clone()));
        assert_eq!(normalize_code("ABCD-EFGH-JKMN0"), None);
        assert_ne!(new_tracking_code(), code);
    }

    #[test]
    fn form_times_are_china_time() {
        let t = parse_time("2022-04-02T08:15").unwrap_or_default();
        assert_eq!(t.to_string(), "2022-04-02 00:15:00");
        assert_eq!(parse_time("2022-04-02T08:15:00+08:00"), Some(t));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn similar_texts_are_similar() {
        assert!(
            similarity(
                "医院以健康码黄码为由拒收我父亲",
                "医院以健康码黄码为由拒收我的父亲"
            ) > 0.7
        );
        assert!(similarity("救护车等了一个小时", "药房不给开药") < 0.2);
    }
}
