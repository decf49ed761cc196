//! Access tokens: JWTs signed with HS256 (pinned; no other algorithm is accepted).

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "shouzhen";

use shouzhen_domain::actor::Role;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// A hospital's client id, or a user's id.
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

pub fn issue(key: &[u8], sub: &str, role: Role, ttl_secs: i64) -> Result<String, String> {
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.to_string(),
        role,
        iat: now,
        exp: now + ttl_secs,
        iss: ISSUER.to_string(),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .map_err(|e| e.to_string())
}

/// Verifies signature, algorithm, issuer and expiry (no leeway beyond 30 seconds).
pub fn verify(key: &[u8], token: &str) -> Result<Claims, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.leeway = 30;
    decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let key = [7u8; 32];
        let token = issue(&key, "c1", Role::Hospital, 60).unwrap_or_else(|e| panic!("{e}"));
        let claims = verify(&key, &token).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claims.sub, "c1");
        assert_eq!(claims.role, Role::Hospital);
        assert!(
            verify(&[8u8; 32], &token).is_err(),
            "another key must not verify"
        );
        let expired = issue(&key, "c1", Role::Hospital, -120).unwrap_or_else(|e| panic!("{e}"));
        assert!(verify(&key, &expired).is_err(), "expired token accepted");
    }
}
