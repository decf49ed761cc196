//! A hospital's machine client as the token check knows it, and the cache of them.

/// A hospital's machine client, authenticated by its Bearer token.
#[derive(Debug, Clone)]
pub struct HospitalPrincipal {
    pub hospital_id: i64,
    pub code: String,
    pub district: String,
    pub jurisdiction: String,
    /// Tokens issued before this (Unix seconds: the secret's last rotation) are refused.
    pub tokens_from: Option<i64>,
}

/// A 120 dispatch centre's machine client, authenticated by its Bearer token: a principal of
/// the same register, reached only with a centre's token.
#[derive(Debug, Clone)]
pub struct DispatchPrincipal(pub HospitalPrincipal);

/// A community transport desk's machine client, authenticated by its Bearer token.
#[derive(Debug, Clone)]
pub struct CommunityPrincipal(pub HospitalPrincipal);

/// Hospitals by client id, as the token check last read them, for a few seconds: a busy
/// hospital's requests do not each read its row. Disabling a hospital, or rotating its secret
/// (which refuses the tokens issued before), takes effect on every instance within
/// [`HospitalCache::TTL`].
#[derive(Default)]
pub struct HospitalCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, Option<HospitalPrincipal>)>,
    >,
}

impl HospitalCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    pub(super) fn get(&self, client_id: &str) -> Option<Option<HospitalPrincipal>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(client_id)
            .filter(|(at, _)| at.elapsed() < Self::TTL)
            .map(|(_, h)| h.clone())
    }

    pub(super) fn put(&self, client_id: String, hospital: Option<HospitalPrincipal>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: stale entries go whenever the map grows large.
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
        }
        entries.insert(client_id, (std::time::Instant::now(), hospital));
    }

    /// Forgets everything (a hospital was disabled or its secret rotated on this instance).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
