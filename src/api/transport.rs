//! `POST /api/v1/transport-events`: a community desk's transport log for sealed areas, in the
//! intake's forms (one event, a JSON array, or NDJSON), limits and answer.

use actix_web::{HttpRequest, HttpResponse, web};

use super::intake::{SourceLog, post_source_log};
use crate::auth::principal::CommunityPrincipal;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::intake::{self, Batch, IngestReport};

/// The JSON body of a transport request, as the description declares it: one event or an
/// array of events (never deserialised as such: `intake::split_body` reads the body).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum TransportBody {
    One(Box<shouzhen_domain::transport::RawTransportEvent>),
    Many(Vec<shouzhen_domain::transport::RawTransportEvent>),
}

/// Post a community desk's transport events (requests, dispatches, pick-ups, arrivals at the
/// hospital, returns, cancellations).
///
/// Valid events are stored (a resident's `id_number` pseudonymised with the hospitals' key);
/// invalid ones are listed in `rejected` and nothing of them is stored. `event_id` is the
/// idempotency key per desk; `request_id` ties a request's events together, and events of a
/// request whose `request` has not arrived yet are stored and judged once it does. A field
/// that does not belong to the event's `type` is refused.
#[utoipa::path(
    post,
    operation_id = "post_transport_events",
    path = "/api/v1/transport-events",
    tag = "transport",
    request_body(
        description = "One event, a JSON array of events (application/json), or one event per line (application/x-ndjson). At most 10,000 events and 16 MiB.",
        content(
            (TransportBody = "application/json"),
            (shouzhen_domain::transport::RawTransportEvent = "application/x-ndjson"),
        )
    ),
    security(("hospital_oauth" = [])),
    responses(
        (status = 200, description = "Stored, duplicate and rejected counts", body = IngestReport),
        (status = 400, description = "The body does not parse", body = crate::error::Problem),
        (status = 401, description = "No valid token", body = crate::error::Problem),
        (status = 403, description = "Not a community desk's token", body = crate::error::Problem),
        (status = 413, description = "Over 10,000 events or 16 MiB", body = crate::error::Problem),
        (status = 415, description = "Neither JSON nor NDJSON", body = crate::error::Problem),
    )
)]
pub async fn post_events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    CommunityPrincipal(desk): CommunityPrincipal,
) -> ApiResult<HttpResponse> {
    let log = SourceLog {
        validate: intake::validate_transport,
        prepare: Batch::prepare_transport,
        what: "desk",
    };
    post_source_log(req, payload, state, desk, log).await
}
