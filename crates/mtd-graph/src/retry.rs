//! When and how long to wait before trying a Graph request again.
//!
//! 429, 503 and 504 honour `Retry-After` (seconds, possibly fractional, or an
//! HTTP date); otherwise exponential backoff with full jitter. Attempts are
//! bounded, and so is any single wait.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts per request, including the first.
    pub max_attempts: u32,
    /// First backoff step.
    pub base_delay: Duration,
    /// Largest backoff step.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; longer asks are capped.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Statuses worth retrying: throttling and transient server errors.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(d) = headers.and_then(retry_after) {
            return d.min(self.max_retry_after);
        }
        let exp = self.base_delay.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let cap = exp.min(self.max_delay);
        // Full jitter: spreads retries of parallel clients apart.
        let ms = cap.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { rand::random_range(ms / 2..=ms) })
    }
}

/// Parses `Retry-After`: delta-seconds (fractional accepted, e.g. "2.128") or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let now = chrono::Utc::now();
    Some((when.with_timezone(&chrono::Utc) - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2.128"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2128)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            ..Default::default()
        };
        assert!(p.delay(1, None) <= Duration::from_millis(100));
        assert!(p.delay(10, None) <= Duration::from_millis(400));
        assert!(p.delay(10, None) >= Duration::from_millis(200));
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("9999"));
        assert_eq!(p.delay(1, Some(&h)), p.max_retry_after);
    }
}
