//! Personal data at rest: ChaCha20-Poly1305 with the contact key derived from the secret key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// `base64(nonce ‖ ciphertext)`.
pub fn seal(key: &[u8; 32], plaintext: &str) -> String {
    let cipher = ChaCha20Poly1305::new(key.into());
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    // Encryption of an in-memory buffer cannot fail.
    let ciphertext = cipher
        .encrypt(&nonce, plaintext.as_bytes())
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend(ciphertext);
    STANDARD.encode(out)
}

pub fn open(key: &[u8; 32], sealed: &str) -> Option<String> {
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let cipher = ChaCha20Poly1305::new(key.into());
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let plain = cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = [3u8; 32];
        let s = seal(&key, "王女士 13800138000");
        assert!(!s.contains("138"));
        assert_eq!(open(&key, &s).as_deref(), Some("王女士 13800138000"));
        assert_eq!(open(&[4u8; 32], &s), None);
        assert_ne!(seal(&key, "x"), seal(&key, "x"), "a fresh nonce each time");
    }
}
