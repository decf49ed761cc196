//! Who is calling: access tokens, passwords, client secrets, and the extractors that enforce
//! roles (handlers name the principal they need; nothing else checks roles).

pub mod extract;
pub mod principal;
pub mod token;

pub use extract::{
    Admin, AnyStaff, CaseReader, Desk, Inspector, Operator, Supervisor, bearer_token,
};
pub use principal::HospitalPrincipal;
pub use token::Claims;

/// The caller's address, as the connection gives it (the rate limits' key).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// The caller's address as the audit trail records it (empty when unknown).
pub fn client_ip_text(req: &actix_web::HttpRequest) -> String {
    client_ip(req).map(|a| a.to_string()).unwrap_or_default()
}
