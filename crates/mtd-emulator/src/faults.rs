//! Faults on demand, so the client's resilience can be tested for real:
//! throttling and unavailability at a rate or in a burst, added latency,
//! dropped connections (before or after the request is carried out), and
//! Intune's per-app write limit.
//!
//! Spec: comma-separated `key=value`, e.g.
//! `429=0.3,503=0.1,drop=0.05,lose=0.05,latency=20ms,jitter=10ms,burst429=3,throttle=100/20s,retry-after=0.05,seed=7`.
//! `slow-create=2s` makes every policy create take that long on the server
//! side, finishing even after the client gave up (as Graph does);
//! `token503=2` answers the first two token requests with 503.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

/// Parsed fault settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Probability of answering 429 instead of serving.
    pub rate_429: f64,
    /// Probability of answering 503.
    pub rate_503: f64,
    /// Probability of closing the connection without serving.
    pub drop: f64,
    /// Probability, for writes, of serving and then closing the connection
    /// without answering (the answer is lost).
    pub lose: f64,
    /// Delay before every answer.
    pub latency: Duration,
    /// Up to this much more delay, at random per request (so concurrent
    /// requests finish in a spread, not in lock step).
    pub jitter: Duration,
    /// The first N Graph requests get 429.
    pub burst_429: u32,
    /// Intune's write throttle: at most `.0` writes per `.1` per app.
    pub throttle: Option<(usize, Duration)>,
    /// Retry-After sent with 429/503, in seconds.
    pub retry_after: f64,
    /// Seed of the fault dice, so a faulty run can be replayed.
    pub seed: u64,
    /// Server-side time a policy create takes (it completes even if the
    /// client stops waiting).
    pub slow_create: Duration,
    /// The first N token requests get 503 with Retry-After.
    pub token_503: u32,
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec {
            rate_429: 0.0,
            rate_503: 0.0,
            drop: 0.0,
            lose: 0.0,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            burst_429: 0,
            throttle: None,
            retry_after: 1.0,
            seed: 1,
            slow_create: Duration::ZERO,
            token_503: 0,
        }
    }
}

fn parse_duration(v: &str) -> Result<Duration, String> {
    let (num, unit) = v.find(|c: char| c.is_ascii_alphabetic()).map(|i| v.split_at(i)).unwrap_or((v, "s"));
    let n: f64 = num.parse().map_err(|_| format!("'{v}' is not a duration (like 50ms or 2s)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in '{v}' (use ms, s or m)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{v}' is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_rate(key: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{key}={v}: a rate is a number from 0 to 1")),
    }
}

impl std::str::FromStr for FaultSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut f = FaultSpec::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("'{part}' is not key=value"))?;
            match k.trim() {
                "429" => f.rate_429 = parse_rate(k, v)?,
                "503" => f.rate_503 = parse_rate(k, v)?,
                "drop" => f.drop = parse_rate(k, v)?,
                "lose" => f.lose = parse_rate(k, v)?,
                "latency" => f.latency = parse_duration(v)?,
                "jitter" => f.jitter = parse_duration(v)?,
                "slow-create" => f.slow_create = parse_duration(v)?,
                "token503" => f.token_503 = v.parse().map_err(|_| format!("token503={v}: not a count"))?,
                "burst429" => f.burst_429 = v.parse().map_err(|_| format!("burst429={v}: not a count"))?,
                "retry-after" => {
                    f.retry_after = v.parse().ok().filter(|x: &f64| *x >= 0.0).ok_or_else(|| format!("retry-after={v}: not seconds"))?
                }
                "seed" => f.seed = v.parse().map_err(|_| format!("seed={v}: not a number"))?,
                "throttle" => {
                    let (n, w) = v.split_once('/').ok_or_else(|| format!("throttle={v}: use COUNT/WINDOW, e.g. 100/20s"))?;
                    let n = n.parse().map_err(|_| format!("throttle={v}: bad count"))?;
                    f.throttle = Some((n, parse_duration(w)?));
                }
                other => return Err(format!("unknown fault '{other}' (known: 429, 503, drop, lose, latency, jitter, slow-create, token503, burst429, throttle, retry-after, seed)")),
            }
        }
        Ok(f)
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Serve,
    /// Serve, then drop the connection instead of answering.
    ServeAndLose,
    Status429 {
        retry_after_ms: u64,
    },
    Status503,
    Drop,
}

/// Fault state across requests.
pub(crate) struct Faults {
    pub spec: FaultSpec,
    rng: rand::rngs::StdRng,
    /// Its own stream, so jitter does not change which requests fail.
    jitter_rng: rand::rngs::StdRng,
    served: u32,
    tokens_served: u32,
    writes: HashMap<String, VecDeque<Instant>>,
}

impl Faults {
    pub(crate) fn new(spec: FaultSpec) -> Self {
        let rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
        let jitter_rng = rand::rngs::StdRng::seed_from_u64(spec.seed.wrapping_add(1));
        Faults { spec, rng, jitter_rng, served: 0, tokens_served: 0, writes: HashMap::new() }
    }

    /// The delay before this answer: the latency plus its jitter.
    pub(crate) fn delay(&mut self) -> Duration {
        if self.spec.jitter.is_zero() {
            return self.spec.latency;
        }
        self.spec.latency + self.spec.jitter.mul_f64(self.jitter_rng.random::<f64>())
    }

    /// True if this token request is to be answered 503.
    pub(crate) fn token_unavailable(&mut self) -> bool {
        self.tokens_served += 1;
        self.tokens_served <= self.spec.token_503
    }

    /// Decides the fate of a Graph request by `app` (write or read).
    pub(crate) fn decide(&mut self, app: &str, is_write: bool) -> Decision {
        self.served += 1;
        let ra = (self.spec.retry_after * 1000.0) as u64;
        if self.served <= self.spec.burst_429 {
            return Decision::Status429 { retry_after_ms: ra };
        }
        if let (true, Some((max, window))) = (is_write, self.spec.throttle) {
            let now = Instant::now();
            let q = self.writes.entry(app.to_string()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= max {
                let wait = q.front().map(|t| *t + window - now).unwrap_or_default();
                return Decision::Status429 { retry_after_ms: wait.as_millis() as u64 + 1 };
            }
            q.push_back(now);
        }
        let roll: f64 = self.rng.random();
        let mut edge = self.spec.drop;
        if roll < edge {
            return Decision::Drop;
        }
        edge += self.spec.rate_429;
        if roll < edge {
            return Decision::Status429 { retry_after_ms: ra };
        }
        edge += self.spec.rate_503;
        if roll < edge {
            return Decision::Status503;
        }
        edge += if is_write { self.spec.lose } else { 0.0 };
        if roll < edge {
            return Decision::ServeAndLose;
        }
        Decision::Serve
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let f: FaultSpec =
            "429=0.3, 503=0.1,latency=20ms,throttle=100/20s,burst429=2,retry-after=0.05".parse().unwrap();
        assert_eq!(f.rate_429, 0.3);
        assert_eq!(f.latency, Duration::from_millis(20));
        assert_eq!(f.throttle, Some((100, Duration::from_secs(20))));
        assert!("429=2".parse::<FaultSpec>().is_err());
        assert!("nonsense=1".parse::<FaultSpec>().unwrap_err().contains("unknown fault"));
    }

    #[test]
    fn burst_then_throttle() {
        let mut f = Faults::new("burst429=1,throttle=2/60s".parse().unwrap());
        assert!(matches!(f.decide("a", true), Decision::Status429 { .. }));
        assert_eq!(f.decide("a", true), Decision::Serve);
        assert_eq!(f.decide("a", true), Decision::Serve);
        assert!(matches!(f.decide("a", true), Decision::Status429 { .. }));
        assert_eq!(f.decide("b", true), Decision::Serve, "the limit is per app");
        assert_eq!(f.decide("a", false), Decision::Serve, "reads are not write-throttled");
    }
}
