//! A per-client limit on public submissions: at most N a minute per address (fixed windows,
//! in memory, per instance; behind a load balancer each instance counts its own).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `Err(seconds)` to wait when over the limit.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let (Some(ip), true) = (ip, self.per_minute > 0) else {
            return Ok(());
        };
        let now = Instant::now();
        let window = Duration::from_secs(60);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = window
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1);
            return Err(wait);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address() {
        let l = RateLimiter::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.check(a).is_ok() && l.check(a).is_ok());
        let wait = l.check(a).err().unwrap_or(0);
        assert!((1..=60).contains(&wait));
        assert!(l.check(b).is_ok());
        assert!(RateLimiter::new(0).check(a).is_ok());
    }
}
