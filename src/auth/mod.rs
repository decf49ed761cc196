//! Who is calling: access tokens, passwords, client secrets, and the extractors that enforce
//! roles (handlers name the principal they need; nothing else checks roles).

pub mod extract;
pub mod password;
pub mod token;

pub use extract::{Admin, HospitalPrincipal, Inspector, Staff, Supervisor};
pub use token::{Claims, Role};

use sha2::{Digest, Sha256};

/// The caller's address, as the connection gives it (the rate limits' key).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// The caller's address as the audit trail records it (empty when unknown).
pub fn client_ip_text(req: &actix_web::HttpRequest) -> String {
    client_ip(req).map(|a| a.to_string()).unwrap_or_default()
}

/// Client secrets are long random strings: a SHA-256 hash is enough to store them safely.
pub fn hash_client_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
