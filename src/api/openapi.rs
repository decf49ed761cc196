//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use super::{cases, complaints, dispatch, health, intake, login, oauth, reports, transport};
use crate::error::Problem;
use shouzhen_domain::field::FieldError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shouzhen API",
        description = "Hospitals post intake logs; a rule engine flags violations of the emergency-care rules as cases; citizens file complaints; inspectors act on cases.",
        version = "1"
    ),
    paths(
        oauth::token,
        login::login,
        intake::post_events,
        dispatch::post_events,
        transport::post_events,
        cases::list,
        cases::get,
        cases::act,
        complaints::create,
        complaints::get_public,
        complaints::post_rating,
        complaints::queue,
        complaints::act,
        complaints::reveal,
        complaints::hospitals,
        complaints::centres,
        complaints::districts,
        reports::complaints,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    components(schemas(Problem, FieldError, oauth::TokenResponse, oauth::TokenForm, login::LoginRequest,
        shouzhen_app::intake::IngestReport, shouzhen_app::intake::Rejection, shouzhen_domain::event::RawEvent, intake::IntakeBody, shouzhen_domain::dispatch::RawDispatchEvent, dispatch::DispatchBody, shouzhen_domain::transport::RawTransportEvent, transport::TransportBody,
        cases::CasePage, cases::CaseItem, cases::CaseDetail, cases::ActionBody,
        shouzhen_app::complaints::ComplaintInput, complaints::Filed, complaints::PublicComplaint, complaints::TimelineEntry,
        complaints::RatingBody, complaints::QueueItem, complaints::StaffComplaint, complaints::ComplaintView, complaints::ComplaintActionBody, complaints::Revealed, shouzhen_app::board::BoardRow, shouzhen_app::board::HospitalLoop, shouzhen_app::board::CentreRow,
        shouzhen_app::complaints::report::Report, shouzhen_app::complaints::report::ReportRow)),
    modifiers(&SecuritySchemes, &Conformance),
    tags(
        (name = "auth", description = "Tokens for hospitals (client credentials) and inspectors (login)"),
        (name = "intake", description = "Hospitals' intake logs"),
        (name = "dispatch", description = "120 dispatch centres' call logs"),
        (name = "transport", description = "Community desks' transport logs for sealed areas"),
        (name = "cases", description = "Violations flagged by the rule engine"),
        (name = "complaints", description = "Citizens' complaints (12320 style) and their tracking"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the two ways to authenticate: hospitals' OAuth 2.0 client credentials, and
/// inspectors' Bearer tokens from `/api/v1/auth/login`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "hospital_oauth",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    Scopes::new(),
                ))],
                "Machine clients (hospitals on intake, 120 dispatch centres on dispatch events, community desks on transport events): client-credentials grant; send the token as Bearer",
            )),
        );
        components.add_security_scheme(
            "inspector_bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Dashboard users: token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// Declares on every operation the errors that the shared extractors and middleware give, so
/// that each response the service can send is documented (schemathesis checks this in CI):
/// 400 where there is a query or body, 401 and 403 where a token is required, 404 where the
/// path names a resource, 413 and 415 where there is a body, and 503 when the database is
/// unreachable. Every error is a problem document (`application/problem+json`).
struct Conformance;

impl Modify for Conformance {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{Content, RefOr, Response};
        let problem = || {
            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Problem",
            ))))
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let body = op.request_body.is_some();
                let defaults = [
                    (
                        query || body,
                        "400",
                        "The request is invalid; `errors` names the field",
                    ),
                    (secured, "401", "No valid token"),
                    (secured, "403", "The token's role may not do this"),
                    (path.contains('{'), "404", "No such resource"),
                    (body, "413", "The body is over the limit"),
                    (
                        body,
                        "415",
                        "The body is not of a type this operation reads",
                    ),
                    (
                        true,
                        "503",
                        "The database is unreachable; try again after Retry-After",
                    ),
                ];
                let responses = &mut op.responses.responses;
                for (applies, status, description) in defaults {
                    if applies && !responses.contains_key(status) {
                        responses.insert(status.to_string(), RefOr::T(Response::new(description)));
                    }
                }
                for (status, response) in responses.iter_mut() {
                    if let (true, RefOr::T(r)) = (status.as_str() >= "400", response) {
                        r.content.clear();
                        r.content
                            .insert("application/problem+json".to_string(), problem());
                    }
                }
            }
        }
    }
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
