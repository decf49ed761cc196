//! `POST /api/v1/intake-events`: one event, a JSON array, or NDJSON.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::body::{is_json, media_type, read_body};
use crate::auth::HospitalPrincipal;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::error::AppError;
use shouzhen_app::intake::{self, Batch, BodyFormat, IngestReport, MAX_BYTES, MAX_EVENTS, Poster};

/// The JSON body of an intake request, as the description declares it: one event or an array
/// of events (never deserialised as such: `intake::split_body` reads the body).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum IntakeBody {
    One(Box<shouzhen_domain::event::RawEvent>),
    Many(Vec<shouzhen_domain::event::RawEvent>),
}

/// Post intake events (patient arrivals, handovers, refusals, transfers, closures, tests).
///
/// Valid events are stored and judged by the rules; invalid ones are listed in `rejected` and
/// nothing of them is stored. `event_id` is the idempotency key per hospital.
#[utoipa::path(
    post,
    path = "/api/v1/intake-events",
    tag = "intake",
    request_body(
        description = "One event, a JSON array of events (application/json), or one event per line (application/x-ndjson). At most 10,000 events and 16 MiB.",
        content(
            (IntakeBody = "application/json"),
            (shouzhen_domain::event::RawEvent = "application/x-ndjson"),
        )
    ),
    security(("hospital_oauth" = [])),
    responses(
        (status = 200, description = "Stored, duplicate and rejected counts", body = IngestReport),
        (status = 400, description = "The body does not parse", body = crate::error::Problem),
        (status = 401, description = "No valid hospital token", body = crate::error::Problem),
        (status = 403, description = "Not a hospital token", body = crate::error::Problem),
        (status = 413, description = "Over 10,000 events or 16 MiB", body = crate::error::Problem),
        (status = 415, description = "Neither JSON nor NDJSON", body = crate::error::Problem),
    )
)]
pub async fn post_events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    hospital: HospitalPrincipal,
) -> ApiResult<HttpResponse> {
    let (values, body_len) = read_events(&req, payload).await?;
    let poster = Poster {
        hospital_id: hospital.hospital_id,
        code: hospital.code.clone(),
        jurisdiction: hospital.jurisdiction.clone(),
    };
    // Validation and pseudonymisation off the async workers; storage and rules by the
    // intake writers, which commit concurrent requests together.
    let keys = state.keys.clone();
    let register = if intake::names_a_diversion(&values) {
        state
            .db(|conn| Ok(intake::reachable_hospitals(conn)?))
            .await?
    } else {
        BTreeSet::new()
    };
    let prepare = move || {
        let now = Utc::now();
        let items = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| intake::validate(i, v, now, &register))
            .collect();
        Batch::prepare(&keys, poster, items)
    };
    // A few events take microseconds: not worth a hop to the blocking pool.
    let batch = if body_len <= 16 * 1024 {
        prepare()?
    } else {
        web::block(prepare).await??
    };
    let report: IngestReport = state.ingest.submit(batch).await?;
    count(&state, &report);
    tracing::info!(
        hospital = %hospital.code,
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected.len(),
        "intake events"
    );
    Ok(HttpResponse::Ok().json(report))
}

/// A log's events from a request body (one object, an array, or NDJSON; at most
/// [`MAX_EVENTS`] events and [`MAX_BYTES`]), and the body's length.
pub async fn read_events(
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<(Vec<serde_json::Value>, usize)> {
    let format = match media_type(req).as_deref() {
        Some(m) if is_json(m) => BodyFormat::Json,
        Some("application/x-ndjson" | "application/ndjson" | "application/jsonl") => {
            BodyFormat::Ndjson
        }
        _ => {
            return Err(AppError::UnsupportedMediaType(
                "send application/json (an event or an array) or application/x-ndjson".into(),
            )
            .into());
        }
    };
    let mut payload = payload.into_inner();
    let body = read_body(req, &mut payload, MAX_BYTES).await?;
    let values = intake::split_body(&body, format)?;
    if values.len() > MAX_EVENTS {
        return Err(AppError::PayloadTooLarge(format!(
            "{} events in one request; the limit is {MAX_EVENTS}",
            values.len()
        ))
        .into());
    }
    Ok((values, body.len()))
}

/// Validates one event of a log against the register's hospitals.
pub type Validate<E> = fn(
    usize,
    serde_json::Value,
    chrono::DateTime<Utc>,
    &BTreeSet<String>,
) -> Result<E, intake::Rejection>;

/// Pseudonymises, serialises and hashes a log's validated events.
pub type Prepare<E> = fn(
    &shouzhen_app::keys::Keys,
    Poster,
    Vec<Result<E, intake::Rejection>>,
) -> Result<Batch, shouzhen_store::StoreError>;

/// How a 120 centre's or a community desk's log is validated (against the register's
/// hospitals) and prepared.
pub struct SourceLog<E> {
    pub validate: Validate<E>,
    pub prepare: Prepare<E>,
    /// What the log line calls the source ("centre", "desk").
    pub what: &'static str,
}

/// Posts a 120 centre's or a community desk's events: read the body, validate each event
/// against the register's hospitals (as it is now), prepare, store and judge through the
/// intake writers; the answer is the intake's report.
pub async fn post_source_log<E: Send + 'static>(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    source: crate::auth::HospitalPrincipal,
    log: SourceLog<E>,
) -> ApiResult<HttpResponse> {
    let (values, _) = read_events(&req, payload).await?;
    let hospitals = state
        .read(|conn| Ok(intake::reachable_hospitals(conn)?))
        .await?;
    let poster = Poster {
        hospital_id: source.hospital_id,
        code: source.code.clone(),
        jurisdiction: source.jurisdiction.clone(),
    };
    let keys = state.keys.clone();
    let SourceLog {
        validate,
        prepare,
        what,
    } = log;
    let batch = web::block(move || {
        let now = Utc::now();
        let items = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| validate(i, v, now, &hospitals))
            .collect();
        prepare(&keys, poster, items)
    })
    .await??;
    let report: IngestReport = state.ingest.submit(batch).await?;
    count(&state, &report);
    tracing::info!(
        source = %source.code,
        what,
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected.len(),
        "source log events"
    );
    Ok(HttpResponse::Ok().json(report))
}

/// The events a request stored, repeated and rejected, in the metrics.
pub fn count(state: &AppState, report: &IngestReport) {
    let m = &state.metrics;
    m.events_ingested
        .with_label_values(&["accepted"])
        .inc_by(report.accepted as u64);
    m.events_ingested
        .with_label_values(&["duplicate"])
        .inc_by(report.duplicates as u64);
    m.events_ingested
        .with_label_values(&["rejected"])
        .inc_by(report.rejected.len() as u64);
}
