//! The secret key and the keys derived from it (one purpose each, so that a leak of one
//! derived key reveals nothing of the others).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::{MIN_SECRET_LEN, Secret, Settings};
use shouzhen_store::db::DatabaseUrl;

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from `SHOUZHEN_SECRET_KEY`.
#[derive(Clone)]
pub struct Keys {
    /// Signs and verifies access tokens (HS256).
    pub jwt: [u8; 32],
    /// Keys the pseudonymisation of patient identifiers.
    pub patient: [u8; 32],
    /// Encrypts complainants' contact details at rest.
    pub contact: [u8; 32],
    /// Signs CSRF tokens and session cookies.
    pub web: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    pub fn derive(secret: &Secret) -> Self {
        let derive =
            |purpose: &str| -> [u8; 32] { hmac(secret.expose().as_bytes(), purpose.as_bytes()) };
        Self {
            jwt: derive("shouzhen/v1/jwt"),
            patient: derive("shouzhen/v1/patient"),
            contact: derive("shouzhen/v1/contact"),
            web: derive("shouzhen/v1/web"),
        }
    }

    /// The pseudonym of a patient identifier: HMAC-SHA256 keyed with the patient key, hex.
    pub fn patient_key(&self, id_number: &str) -> String {
        let normalised: String = id_number
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        hex::encode(hmac(&self.patient, normalised.as_bytes()))
    }
}

pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// A random token of `bytes` bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Where the generated key of a SQLite database is kept: beside it, `<db>.key`.
pub fn key_file_for(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".key");
    db.with_file_name(name)
}

/// The configured key, or with SQLite the key kept beside the database (generated on first
/// start, mode 0600).
pub fn resolve_secret(settings: &Settings) -> Result<Secret, String> {
    if let Some(key) = &settings.secret_key {
        return Ok(key.clone());
    }
    let DatabaseUrl::Sqlite(db) = &settings.database_url else {
        return Err("SHOUZHEN_SECRET_KEY: is required with PostgreSQL".into());
    };
    let path = key_file_for(db);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let key = text.trim().to_string();
            if key.chars().count() < MIN_SECRET_LEN {
                return Err(format!(
                    "{}: the key file is shorter than {MIN_SECRET_LEN} characters",
                    path.display()
                ));
            }
            Ok(Secret::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_token(48);
            write_private(&path, &key)
                .map_err(|e| format!("{}: cannot write the secret key: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new secret key beside the database");
            Ok(Secret::new(key))
        }
        Err(e) => Err(format!(
            "{}: cannot read the secret key: {e}",
            path.display()
        )),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut file = shouzhen_store::db::create_new_private(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_key_is_keyed_and_normalised() {
        let a = Keys::derive(&Secret::new("a".repeat(40)));
        let b = Keys::derive(&Secret::new("b".repeat(40)));
        assert_eq!(
            a.patient_key("11010519491231002x"),
            a.patient_key("11010519491231002X ")
        );
        assert_ne!(
            a.patient_key("110105194912310021"),
            b.patient_key("110105194912310021")
        );
        assert_ne!(a.jwt, a.patient);
    }

    #[test]
    fn key_file_sits_beside_the_database() {
        assert_eq!(
            key_file_for(Path::new("data/s.db")),
            PathBuf::from("data/s.db.key")
        );
    }
}
