//! `POST /api/v1/dispatch-events`: a 120 dispatch centre's call log, in the intake's forms
//! (one event, a JSON array, or NDJSON), limits and answer.

use actix_web::{HttpRequest, HttpResponse, web};

use super::intake::{SourceLog, post_source_log};
use crate::auth::principal::DispatchPrincipal;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::intake::{self, Batch, IngestReport};

/// The JSON body of a dispatch request, as the description declares it: one event or an
/// array of events (never deserialised as such: `intake::split_body` reads the body).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum DispatchBody {
    One(Box<shouzhen_domain::dispatch::RawDispatchEvent>),
    Many(Vec<shouzhen_domain::dispatch::RawDispatchEvent>),
}

/// Post a 120 dispatch centre's events (calls received, answered and abandoned, dispatches,
/// arrivals at the scene and at hospitals, handovers, the fleet's status).
///
/// Valid events are stored (a patient's `id_number` pseudonymised with the key the hospitals'
/// events use, so that the two logs link); invalid ones are listed in `rejected` and nothing
/// of them is stored. `event_id` is the idempotency key per centre. A field that does not
/// belong to the event's `type` is refused; a `call_answered` with no `call_received` before
/// it is accepted.
#[utoipa::path(
    post,
    operation_id = "post_dispatch_events",
    path = "/api/v1/dispatch-events",
    tag = "dispatch",
    request_body(
        description = "One event, a JSON array of events (application/json), or one event per line (application/x-ndjson). At most 10,000 events and 16 MiB.",
        content(
            (DispatchBody = "application/json"),
            (shouzhen_domain::dispatch::RawDispatchEvent = "application/x-ndjson"),
        )
    ),
    security(("hospital_oauth" = [])),
    responses(
        (status = 200, description = "Stored, duplicate and rejected counts", body = IngestReport),
        (status = 400, description = "The body does not parse", body = crate::error::Problem),
        (status = 401, description = "No valid token", body = crate::error::Problem),
        (status = 403, description = "Not a dispatch centre's token", body = crate::error::Problem),
        (status = 413, description = "Over 10,000 events or 16 MiB", body = crate::error::Problem),
        (status = 415, description = "Neither JSON nor NDJSON", body = crate::error::Problem),
    )
)]
pub async fn post_events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    DispatchPrincipal(centre): DispatchPrincipal,
) -> ApiResult<HttpResponse> {
    let log = SourceLog {
        validate: intake::validate_dispatch,
        prepare: Batch::prepare_dispatch,
        what: "centre",
    };
    post_source_log(req, payload, state, centre, log).await
}
