//! `GET /api/v1/cases` and `GET /api/v1/cases/{id}`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CaseReader;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::error::{AppError, AppResult};
use shouzhen_domain::actor::Staff;
use shouzhen_domain::field::FieldError;
use shouzhen_domain::rules::{PatientHistory, RuleId, Severity};
use shouzhen_store::{self, cases::CaseFilter, cases::QueueFilter};

use shouzhen_domain::case::STATUSES;
use shouzhen_domain::time::rfc3339;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// open, acknowledged, assigned, escalated, forwarded, replied, rectifying, rectified,
    /// resolved, dismissed, withdrawn
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// A rule id, e.g. `handover.delay`
    #[param(schema_with = rule_schema)]
    pub rule: Option<String>,
    /// A hospital's or a 120 centre's code
    pub hospital: Option<String>,
    /// low, medium, high
    #[param(schema_with = severity_schema)]
    pub severity: Option<String>,
    /// Opened at or after (RFC 3339)
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<String>,
    /// Opened before (RFC 3339)
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// 1-200, default 50
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page
    #[param(pattern = r"^-?[0-9]{1,18}_[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

fn status_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(STATUSES.iter().copied())
}

fn rule_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::rules::ALL.iter().map(|r| r.as_str()))
}

fn severity_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(["low", "medium", "high"])
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseItem {
    pub id: i64,
    pub rule: String,
    pub severity: String,
    pub status: String,
    /// The hospital's code (a hospital's case; null for a 120 centre's)
    pub hospital: Option<String>,
    /// The 120 dispatch centre's code (a centre's case; null for a hospital's)
    pub centre: Option<String>,
    /// The community transport desk's code (a desk's case; null otherwise)
    pub desk: Option<String>,
    pub district: String,
    pub occurred_at: String,
    pub opened_at: String,
    pub summary: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseItem>,
    pub next_cursor: Option<String>,
}

fn parse_time(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDateTime> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.naive_utc()),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "must be an RFC 3339 time with an offset",
            ));
            None
        }
    }
}

/// A position in the queue: the last row's opening time (microseconds) and id, so that every
/// string of the documented pattern is a position (a page after it may be empty).
fn encode_cursor(t: NaiveDateTime, id: i64) -> String {
    format!("{}_{id}", t.and_utc().timestamp_micros())
}

fn decode_cursor(s: &str) -> Option<(NaiveDateTime, i64)> {
    let (t, id) = s.split_once('_')?;
    let t = DateTime::from_timestamp_micros(t.parse().ok()?)?.naive_utc();
    Some((t, id.parse().ok()?))
}

/// Validates the query into a filter (every fault named).
pub fn filter_from(q: &CasesQuery, staff: &Staff) -> AppResult<CaseFilter> {
    let mut errors = Vec::new();
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        errors.push(FieldError::new(
            "status",
            format!("must be one of {}", STATUSES.join(", ")),
        ));
    }
    if let Some(r) = &q.rule
        && RuleId::parse(r).is_none()
    {
        errors.push(FieldError::new("rule", "is not a rule id"));
    }
    if let Some(s) = &q.severity
        && Severity::parse(s).is_none()
    {
        errors.push(FieldError::new("severity", "must be low, medium or high"));
    }
    let since = q
        .since
        .as_deref()
        .and_then(|v| parse_time("since", v, &mut errors));
    let until = q
        .until
        .as_deref()
        .and_then(|v| parse_time("until", v, &mut errors));
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                "must be a whole number from 1 to 200",
            ));
            50
        }
    };
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let d = decode_cursor(c);
            if d.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor this service gave out",
                ));
            }
            d
        }
    };
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(CaseFilter {
        filter: QueueFilter {
            statuses: q.status.iter().cloned().collect(),
            rule: q.rule.clone(),
            hospital: q.hospital.clone(),
            severity: q.severity.clone(),
            district: staff.district_scope(),
            // A hospital's staff see the cases forwarded to their hospital (none without one).
            forwarded_to: match staff.role {
                shouzhen_domain::actor::Role::HospitalStaff => {
                    Some(staff.hospital_id.unwrap_or(-1))
                }
                _ => None,
            },
            since,
            until,
        },
        after,
        limit,
    })
}

/// List cases, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(CasesQuery),
    security(("inspector_bearer" = [])),
    responses(
        (status = 200, description = "A page of cases", body = CasePage),
        (status = 400, description = "A filter is invalid; `errors` names it", body = crate::error::Problem),
        (status = 401, description = "No valid token", body = crate::error::Problem),
        (status = 403, description = "Not a dashboard user", body = crate::error::Problem),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    CaseReader(staff): CaseReader,
    query: web::Query<CasesQuery>,
) -> ApiResult<HttpResponse> {
    let filter = filter_from(&query, &staff)?;
    let limit = filter.limit;
    let rows = state
        .read(move |conn| Ok(shouzhen_store::cases::list(conn, &filter)?))
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| encode_cursor(r.opened_at, r.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| CaseItem {
            id: r.id,
            rule: r.rule,
            severity: r.severity,
            status: r.status,
            hospital: r.hospital,
            centre: r.centre,
            desk: r.desk,
            district: r.district,
            occurred_at: rfc3339(r.occurred_at),
            opened_at: rfc3339(r.opened_at),
            summary: r.summary,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CasePage { items, next_cursor }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleDescription {
    pub id: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    /// Policy sources by number (see the policy sources)
    pub sources: String,
    /// The policy text the rule rests on
    pub quote: String,
}

impl RuleDescription {
    pub fn of(rule: RuleId) -> Self {
        let i = rule.info();
        Self {
            id: rule.as_str().into(),
            title: i.title_zh.into(),
            title_en: i.title_en.into(),
            description: i.plain_zh.into(),
            description_en: i.plain_en.into(),
            sources: i.sources.into(),
            quote: i.quote.into(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceEvent {
    pub event_id: String,
    /// The hospital's code: the one that logged it, or for a 120 centre's event the hospital
    /// it names (empty when it names none)
    pub hospital: String,
    /// The 120 centre's code, for a centre's event
    pub centre: Option<String>,
    /// The community desk's code, for a desk's event
    pub desk: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    pub received_at: String,
    /// A short pseudonym of the patient (never an identifier)
    pub patient: Option<String>,
    /// The event as stored (no patient identity)
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceComplaint {
    pub id: i64,
    pub tracking_code: String,
    pub category: String,
    pub occurred_at: String,
    pub status: String,
    /// Redacted description
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    pub events: Vec<EvidenceEvent>,
    pub complaints: Vec<EvidenceComplaint>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    pub action: String,
    /// The user's email, or `system`
    pub actor: String,
    pub at: String,
    pub note: String,
    pub from_status: String,
    pub to_status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseItem,
    pub subject: String,
    pub updated_at: String,
    pub assignee: Option<String>,
    pub rule_info: RuleDescription,
    pub evidence: Evidence,
    /// For patient cases: the hospitals of the patient's episode, in order
    pub chain: Vec<String>,
    pub actions: Vec<ActionItem>,
    /// The hospital's reply deadline, once the case was forwarded
    pub reply_due: Option<String>,
    /// The rectification deadline, once an inspector accepted the reply
    pub rectification_due: Option<String>,
    /// How often the hospital's reply or rectification was sent back
    pub returns: i32,
    /// For a 120 centre's day (`dispatch.answer_rate`, `dispatch.unanswered`): the day's
    /// figures, and the calls that missed
    #[schema(value_type = Option<Object>)]
    pub day: Option<shouzhen_app::engine::DayReport>,
    /// For a community desk's request (`transport.*`): the request's whole timeline
    pub transport: Option<TransportTimeline>,
    /// For `transport.priority`: the ordinary request whose car went first
    pub passed_over_by: Option<TransportTimeline>,
}

/// One community transport request, step by step.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransportTimeline {
    pub request_id: String,
    pub purpose: Option<String>,
    /// Whether the resident is of a special group (2 hours' limit)
    pub special: bool,
    pub to_hospital: Option<String>,
    /// requested, dispatched, picked_up, at_hospital, returned, cancelled: each with its
    /// time, or null when it has not been logged
    pub steps: Vec<TransportStep>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransportStep {
    pub step: String,
    pub at: Option<String>,
}

impl TransportTimeline {
    fn of(facts: &shouzhen_domain::transport::RequestFacts) -> Self {
        let steps = [
            ("request", facts.requested),
            ("dispatched", facts.dispatched),
            ("picked_up", facts.picked_up),
            ("at_hospital", facts.at_hospital),
            ("returned", facts.returned),
            ("cancelled", facts.cancelled),
        ]
        .into_iter()
        // A request is cancelled or not: the step is shown only when it was.
        .filter(|(step, at)| *step != "cancelled" || at.is_some())
        .map(|(step, at)| TransportStep {
            step: step.to_string(),
            at: at.map(|s| rfc3339(s.at)),
        })
        .collect();
        Self {
            request_id: facts.request_id.clone(),
            purpose: facts.purpose.map(|p| p.as_str().to_string()),
            special: facts.is_special(),
            to_hospital: facts.to_hospital.clone(),
            steps,
        }
    }
}

/// The timelines of a desk's request case: its request's, and for `transport.priority` that
/// of the ordinary request its evidence names.
fn transport_timelines(
    conn: &mut shouzhen_store::db::DbConn,
    subject: &str,
    evidence: &[shouzhen_store::events::StoredEvent],
) -> AppResult<(Option<TransportTimeline>, Option<TransportTimeline>)> {
    let Some((desk, request)) = shouzhen_domain::transport::parse_request_subject(subject) else {
        return Ok((None, None));
    };
    let other = evidence
        .iter()
        .filter(|e| e.is_transport())
        .filter_map(|e| e.details.get("request_id").and_then(|r| r.as_str()))
        .find(|r| *r != request)
        .map(str::to_string);
    let mut ids = vec![request.as_str()];
    ids.extend(other.as_deref());
    let rows = shouzhen_store::events::transport_rows(conn, desk, &ids)?;
    let facts = shouzhen_domain::transport::RequestFacts::group(&rows);
    let timeline = |id: &str| {
        facts
            .iter()
            .find(|f| f.request_id == id)
            .map(TransportTimeline::of)
    };
    Ok((timeline(&request), other.as_deref().and_then(timeline)))
}

/// One case as `staff` may see it: 404 when it is not theirs to see (for a hospital's staff,
/// any case not forwarded to their hospital), 403 outside an inspector's district. A
/// hospital's staff see their own hospital's events only, and no complaint's tracking code.
pub fn detail_for(
    conn: &mut shouzhen_store::db::DbConn,
    staff: &Staff,
    id: i64,
    policy: &shouzhen_domain::policy::Policy,
) -> AppResult<CaseDetail> {
    let case = shouzhen_store::cases::by_id(conn, id)?
        .filter(|c| shouzhen_app::workflow::visible_to(staff, c))
        .ok_or_else(|| AppError::NotFound(format!("no case {id}")))?;
    shouzhen_app::workflow::check_district(staff, &case)?;
    let mut detail = load_detail(conn, id, policy)?;
    if let Some(h) = staff.hospital_scope() {
        let own = shouzhen_store::hospitals::by_id(conn, h)?
            .map(|h| h.code)
            .unwrap_or_default();
        detail.evidence.events.retain(|e| e.hospital == own);
        for c in &mut detail.evidence.complaints {
            c.tracking_code = String::new();
        }
    }
    Ok(detail)
}

/// Everything about one case, as the API and the case page show it (to an inspector).
pub fn load_detail(
    conn: &mut shouzhen_store::db::DbConn,
    id: i64,
    policy: &shouzhen_domain::policy::Policy,
) -> AppResult<CaseDetail> {
    let case = shouzhen_store::cases::by_id(conn, id)?
        .ok_or_else(|| AppError::NotFound(format!("no case {id}")))?;
    let source = match case.hospital_id {
        Some(h) => shouzhen_store::hospitals::by_id(conn, h)?,
        None => None,
    };
    let (hospital, centre, desk) = match source {
        Some(s) if s.kind == shouzhen_store::hospitals::DISPATCH => (None, Some(s.code), None),
        Some(s) if s.kind == shouzhen_store::hospitals::COMMUNITY => (None, None, Some(s.code)),
        Some(s) => (Some(s.code), None, None),
        None => (None, None, None),
    };
    let (event_ids, complaint_ids) = shouzhen_store::cases::evidence_of(conn, case.id)?;
    let events = shouzhen_store::events::by_ids(conn, &event_ids)?;
    let (transport, passed_over_by) = transport_timelines(conn, &case.subject, &events)?;
    // The episode of a patient case: around its first hospital event with a patient.
    let anchor = events
        .iter()
        .find(|e| !e.is_dispatch() && e.patient_key.is_some());
    let chain = match (RuleId::parse(&case.rule), anchor) {
        (Some(_), Some(anchor)) => {
            let key = anchor.patient_key.as_deref().unwrap_or_default();
            let margin = chrono::Duration::days(30);
            let history = PatientHistory::new(shouzhen_store::events::for_patient(
                conn,
                key,
                anchor.occurred_at - margin,
                anchor.occurred_at + margin,
            )?);
            let gap = policy
                .setting(
                    RuleId::FirstDiagnosisShirked,
                    &anchor.jurisdiction,
                    anchor.occurred_at,
                )
                .limit_or_default(RuleId::FirstDiagnosisShirked);
            match history
                .events
                .iter()
                .position(|e| e.row_id == anchor.row_id)
            {
                Some(i) => PatientHistory::chain(history.episode_of(i, gap)),
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let events = events
        .into_iter()
        .map(|v| EvidenceEvent {
            hospital: v.hospital_code().unwrap_or_default().to_string(),
            centre: v.is_dispatch().then(|| v.source_code.clone()),
            desk: v.is_transport().then(|| v.source_code.clone()),
            event_id: v.event_id,
            kind: v.kind,
            occurred_at: rfc3339(v.occurred_at),
            received_at: rfc3339(v.received_at),
            patient: v.patient_key.map(|k| {
                format!(
                    "P-{}",
                    k.split(':')
                        .nth(1)
                        .unwrap_or("")
                        .chars()
                        .take(8)
                        .collect::<String>()
                )
            }),
            details: v.details,
        })
        .collect();
    let complaints = shouzhen_store::complaints::evidence(conn, &complaint_ids)?
        .into_iter()
        .map(|c| EvidenceComplaint {
            id: c.id,
            tracking_code: c.tracking_code,
            category: c.category,
            occurred_at: rfc3339(c.occurred_at),
            status: c.status,
            description: c.description,
        })
        .collect();
    let actions = shouzhen_store::cases::actions_of(conn, case.id)?
        .into_iter()
        .map(|a| ActionItem {
            action: a.action,
            actor: a.actor,
            at: rfc3339(a.at),
            note: a.note,
            from_status: a.from_status,
            to_status: a.to_status,
        })
        .collect();
    let assignee = shouzhen_store::cases::assignee_email(conn, &case)?;
    let rule_info = RuleId::parse(&case.rule)
        .map(RuleDescription::of)
        .ok_or_else(|| AppError::internal(format!("case {} has an unknown rule", case.id)))?;
    Ok(CaseDetail {
        subject: case.subject.clone(),
        updated_at: rfc3339(case.updated_at),
        assignee,
        rule_info,
        evidence: Evidence { events, complaints },
        chain,
        actions,
        reply_due: case.reply_due.map(rfc3339),
        rectification_due: case.rectification_due.map(rfc3339),
        returns: case.returns,
        transport,
        passed_over_by,
        day: match shouzhen_domain::dispatch::parse_day_subject(&case.subject) {
            Some((centre, date)) => shouzhen_app::engine::day_report(conn, policy, centre, date)?,
            None => None,
        },
        case: CaseItem {
            id: case.id,
            rule: case.rule,
            severity: case.severity,
            status: case.status,
            hospital,
            centre,
            desk,
            district: case.district,
            occurred_at: rfc3339(case.occurred_at),
            opened_at: rfc3339(case.opened_at),
            summary: case.summary,
        },
    })
}

/// One case with its evidence (events and complaints, in event time) and its history.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "The case id")),
    security(("inspector_bearer" = [])),
    responses(
        (status = 200, description = "The case", body = CaseDetail),
        (status = 403, description = "Outside the inspector's district, or not a dashboard user", body = crate::error::Problem),
        (status = 404, description = "No such case", body = crate::error::Problem),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    CaseReader(staff): CaseReader,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let policy = state.policy.clone();
    let detail = state
        .db(move |conn| detail_for(conn, &staff, id, &policy))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// acknowledge, assign, escalate, resolve, dismiss, reopen; the closed loop: forward,
    /// accept, return, verify (inspectors), reply, rectify (the hospital's staff)
    #[schema(schema_with = action_schema)]
    pub action: String,
    /// Required on every action (the reason, for dismiss)
    #[schema(schema_with = note_schema, required = true)]
    pub note: Option<String>,
    /// The user's email (assign only)
    pub assignee: Option<String>,
    /// reply only: whether the hospital accepts the finding (true) or contests it (false)
    pub admits: Option<bool>,
    /// accept only: the rectification deadline, RFC 3339 with its offset, in the future
    pub due: Option<String>,
}

fn action_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::case::ACTIONS.iter().copied())
}

fn note_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::text(shouzhen_domain::case::MAX_NOTE)
}

/// Act on a case; every action is recorded in the case's history and the audit trail.
#[utoipa::path(
    post,
    operation_id = "act_on_case",
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(("id" = i64, Path, description = "The case id")),
    request_body = ActionBody,
    security(("inspector_bearer" = [])),
    responses(
        (status = 200, description = "The case after the action", body = CaseDetail),
        (status = 400, description = "A field is invalid; `errors` names it", body = crate::error::Problem),
        (status = 403, description = "Outside the inspector's district, an action of another role (a hospital's staff reply and rectify, inspectors do the rest), or assigning without the supervisor role", body = crate::error::Problem),
        (status = 404, description = "No such case, or (to a hospital's staff) not forwarded to their hospital", body = crate::error::Problem),
        (status = 409, description = "The move is illegal from the case's status", body = crate::error::Problem),
    )
)]
pub async fn act(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    CaseReader(staff): CaseReader,
    path: web::Path<i64>,
    super::body::ApiJson(body): super::body::ApiJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let request = shouzhen_domain::case::ActionRequest {
        action: body.action,
        note: body.note.unwrap_or_default(),
        assignee: body.assignee,
        admits: body.admits,
        due: body.due,
    };
    let ip = crate::auth::client_ip_text(&req);
    let (notifier, policy) = (state.notifier.clone(), state.policy.clone());
    let who = staff.clone();
    let detail = state
        .db(move |conn| {
            shouzhen_app::workflow::apply(
                conn,
                &notifier,
                &staff,
                id,
                &request,
                &ip,
                shouzhen_store::now(),
            )?;
            detail_for(conn, &who, id, &policy)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}
