//! Client-side pacing of writes under Intune's documented limit (100 writes
//! per 20 seconds per app per tenant), so a large apply does not provoke a
//! storm of 429s. A sliding window: a write waits until fewer than `max`
//! writes happened in the last `window`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Write pacing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceLimit {
    pub max: usize,
    pub window: Duration,
}

impl Default for PaceLimit {
    /// 90 per 20 s: headroom under Intune's 100 for other tools of the same app.
    fn default() -> Self {
        PaceLimit { max: 90, window: Duration::from_secs(20) }
    }
}

/// Paces writes across all tasks sharing it.
#[derive(Debug)]
pub struct Pacer {
    limit: PaceLimit,
    recent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    pub fn new(limit: PaceLimit) -> Self {
        Pacer { limit, recent: Mutex::new(VecDeque::new()) }
    }

    /// Waits for a write slot and takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut recent = self.recent.lock().await;
                let now = Instant::now();
                while recent.front().is_some_and(|t| now.duration_since(*t) >= self.limit.window) {
                    recent.pop_front();
                }
                if recent.len() < self.limit.max.max(1) {
                    recent.push_back(now);
                    return;
                }
                // The oldest write leaves the window at this time.
                recent.front().map(|t| *t + self.limit.window - now).unwrap_or_default()
            };
            tracing::debug!(wait_ms = wait.as_millis() as u64, "pacing writes under the Intune write limit");
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_when_the_window_is_full() {
        let p = Pacer::new(PaceLimit { max: 3, window: Duration::from_secs(10) });
        let start = Instant::now();
        for _ in 0..3 {
            p.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_secs(1));
        p.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(10));
    }
}
