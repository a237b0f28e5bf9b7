//! Client-side pacing of writes under Intune's documented limit (100 writes
//! per 20 seconds per app per tenant), so a large apply runs at the limit
//! without provoking 429s.
//!
//! A sliding window that cannot overshoot a server counting the same way:
//! a write holds a slot while in flight, and its slot stays taken for a full
//! `window` after its answer came back. Graph saw the request at some moment
//! between sending and answering, so counting from the answer is never
//! earlier than Graph's own count — concurrent writes with uneven latency
//! cannot slip a 101st write into Graph's window. The cost is one round trip
//! per window.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Write pacing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceLimit {
    /// Writes allowed per window.
    pub max: usize,
    /// The window.
    pub window: Duration,
}

impl Default for PaceLimit {
    /// 90 per 20 s: headroom under Intune's 100 for other tools of the same
    /// app (`[tenant] write-limit` raises it for an app of its own).
    fn default() -> Self {
        PaceLimit { max: 90, window: Duration::from_secs(20) }
    }
}

#[derive(Debug, Default)]
struct Window {
    /// When each recent write's answer came back, oldest first.
    finished: VecDeque<Instant>,
    in_flight: usize,
}

impl Window {
    fn expire(&mut self, now: Instant, window: Duration) {
        while self.finished.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.finished.pop_front();
        }
    }
}

/// Paces writes across all tasks sharing it.
#[derive(Debug)]
pub struct Pacer {
    limit: PaceLimit,
    state: Mutex<Window>,
    freed: Notify,
}

/// A write slot; dropping it (when the answer is in) starts its window.
#[derive(Debug)]
pub struct WritePermit<'a> {
    pacer: &'a Pacer,
}

impl Drop for WritePermit<'_> {
    fn drop(&mut self) {
        let mut s = self.pacer.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.finished.push_back(Instant::now());
        drop(s);
        self.pacer.freed.notify_waiters();
    }
}

impl Pacer {
    /// A pacer allowing `limit`.
    pub fn new(limit: PaceLimit) -> Self {
        Pacer { limit, state: Mutex::new(Window::default()), freed: Notify::new() }
    }

    /// The limit this pacer keeps.
    pub fn limit(&self) -> PaceLimit {
        self.limit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        // Only counters and timestamps are behind the lock; a panic while it
        // was held cannot leave them inconsistent enough to matter.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a write slot and takes it until the permit is dropped.
    pub async fn acquire(&self) -> WritePermit<'_> {
        let max = self.limit.max.max(1);
        loop {
            // Registered before looking, so a slot freed in between wakes us.
            let freed = self.freed.notified();
            let wait = {
                let mut s = self.lock();
                s.expire(Instant::now(), self.limit.window);
                if s.finished.len() + s.in_flight < max {
                    s.in_flight += 1;
                    return WritePermit { pacer: self };
                }
                // The oldest finished write leaves the window then; with
                // every slot in flight, the next answer frees one.
                s.finished.front().map(|t| *t + self.limit.window - Instant::now())
            };
            tracing::debug!(
                wait_ms = wait.map(|w| w.as_millis() as u64),
                "pacing writes under the Intune write limit"
            );
            match wait {
                Some(w) => {
                    tokio::select! {
                        _ = tokio::time::sleep(w) => {}
                        _ = freed => {}
                    }
                }
                None => freed.await,
            }
        }
    }

    /// How long `remaining` more writes will take at the limit, at the
    /// earliest (each needs a slot; slots free up as old writes leave the
    /// window). For progress display, not a promise.
    pub fn eta(&self, remaining: usize) -> Duration {
        if remaining == 0 {
            return Duration::ZERO;
        }
        let max = self.limit.max.max(1);
        let now = Instant::now();
        let mut s = self.lock();
        s.expire(now, self.limit.window);
        let taken = s.finished.len() + s.in_flight;
        let free = max.saturating_sub(taken);
        if remaining <= free {
            return Duration::ZERO;
        }
        // The k-th write beyond the free slots reuses the slot of the k-th
        // oldest write one window later (in-flight ones count as now).
        let beyond = remaining - free;
        let (round, slot) = ((beyond - 1) / max, (beyond - 1) % max);
        let base = s.finished.get(slot).copied().unwrap_or(now);
        (base + self.limit.window * (round as u32 + 1)).saturating_duration_since(now)
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
            drop(p.acquire().await);
        }
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(p.eta(1), Duration::from_secs(10));
        drop(p.acquire().await);
        assert!(start.elapsed() >= Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_starts_when_the_answer_is_in() {
        let p = Pacer::new(PaceLimit { max: 2, window: Duration::from_secs(10) });
        let start = Instant::now();
        let slow = p.acquire().await;
        drop(p.acquire().await);
        // The slow write answers after 4 s: its slot stays taken until 14 s.
        tokio::time::sleep(Duration::from_secs(4)).await;
        drop(slow);
        drop(p.acquire().await);
        assert!(start.elapsed() >= Duration::from_secs(10), "waited for the quick write's window");
        drop(p.acquire().await);
        assert!(start.elapsed() >= Duration::from_secs(14), "then for the slow write's answer + window");
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_writes_hold_their_slots() {
        let p = std::sync::Arc::new(Pacer::new(PaceLimit { max: 1, window: Duration::from_secs(1) }));
        let held = p.acquire().await;
        let q = p.clone();
        let waiter = tokio::spawn(async move {
            let start = Instant::now();
            drop(q.acquire().await);
            start.elapsed()
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(held);
        let waited = waiter.await.unwrap();
        assert!(waited >= Duration::from_secs(6), "in flight 5 s, then a full window: {waited:?}");
    }
}
