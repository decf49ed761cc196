//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use super::{cases, complaints, health, intake, login, oauth};
use crate::error::{FieldError, Problem};

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
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    components(schemas(Problem, FieldError, oauth::TokenResponse, oauth::TokenForm, login::LoginRequest,
        crate::intake::IngestReport, crate::intake::Rejection, crate::intake::event::RawEvent,
        cases::CasePage, cases::CaseItem, cases::CaseDetail, cases::ActionBody,
        crate::complaints::ComplaintInput, complaints::Filed, complaints::PublicComplaint, complaints::TimelineEntry,
        complaints::RatingBody, complaints::QueueItem, complaints::ComplaintActionBody, complaints::Revealed, crate::board::BoardRow)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Tokens for hospitals (client credentials) and inspectors (login)"),
        (name = "intake", description = "Hospitals' intake logs"),
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
                "Hospital clients: client-credentials grant; send the token as Bearer",
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

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
