//! Lifecycle state across batches: the latest state of each threat and the
//! latest status of each device, in compact form.
//!
//! A plugin sees one batch at a time and returns the latest state of each
//! threat *in that batch*; the same threat may be detected in batch 3 and
//! resolved in batch 40, or arrive out of order. So the evaluation keeps, per
//! threat, only what ordering needs, in 16 bytes: a 64-bit key (hash of
//! device and threat id) and one word packing the observation time, a
//! tie-break, the level and the active flag. The table is split into 256
//! shards so that growing it never holds two copies of the whole table at
//! once. Per device it keeps counters of active threats per level, the
//! latest status, and a few threat names for display. Memory grows with
//! devices and distinct threats, never with events.
//!
//! The device rule is the SDK's (`mtd_sdk::MappingBuilder`): the highest of
//! the active threats' levels and the latest status; the reason wording is
//! shared so `plugin run` and `evaluate` read alike.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

use crate::runtime::{Observation, StatusVerdict, ThreatLevel, ThreatVerdict};

/// Threat names kept per device and level, for display.
const NAMED: usize = 10;
/// Shards of the threat table (by the key's top byte).
const SHARDS: usize = 256;
/// Packed order: [timed:1][ms since 1970, or arrival, when untimed:43][tie:17][state:3].
/// 43 bits of milliseconds reach the year 2248; the 17-bit tie (partner
/// sequence, else arrival, modulo 2^17) only separates states of one threat
/// observed in the same millisecond.
const WHEN_BITS: u64 = (1 << 43) - 1;
const TIE_BITS: u64 = (1 << 17) - 1;
const TIMED: u64 = 1 << 63;

/// Keys are already hashes: no need to hash them again.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One threat's latest state, packed (see `TIMED`, `WHEN_BITS`, `TIE_BITS`).
#[derive(Clone, Copy)]
struct Slot(u64);

impl Slot {
    fn new(o: &Observation, arrival: u64, level: ThreatLevel, active: bool) -> Self {
        let when = match o.at_ms {
            Some(ms) => TIMED | (ms.clamp(0, WHEN_BITS as i64) as u64) << 20,
            None => arrival.min(WHEN_BITS) << 20,
        };
        let tie = o.sequence.unwrap_or(arrival) & TIE_BITS;
        let state = (u64::from(active) << 2) | u64::from(level.rank());
        Slot(when | tie << 3 | state)
    }
    fn order(&self) -> u64 {
        self.0 >> 3
    }
    fn active(&self) -> bool {
        self.0 & 0b100 != 0
    }
    fn level(&self) -> ThreatLevel {
        ThreatLevel::from_rank((self.0 & 0b11) as u8)
    }
}

/// One device's tally.
#[derive(Default)]
pub(super) struct DeviceTally {
    /// Active threats per level rank.
    active: [u32; 4],
    inactive: u32,
    /// Latest status: (order, word, level).
    status: Option<(u64, String, ThreatLevel)>,
    /// A few active threat names per level rank: (key, "id (class severity)").
    named: [Vec<(u64, String)>; 4],
}

/// All lifecycle state of one evaluation.
pub(super) struct Tally {
    threats: Vec<HashMap<u64, Slot, BuildHasherDefault<KeyHasher>>>,
    pub devices: BTreeMap<String, DeviceTally>,
    arrival: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            threats: (0..SHARDS).map(|_| HashMap::default()).collect(),
            devices: BTreeMap::new(),
            arrival: 0,
        }
    }
}

fn key(device: &str, threat: &str) -> u64 {
    let mut h = DefaultHasher::new();
    device.hash(&mut h);
    threat.hash(&mut h);
    h.finish()
}

impl Tally {
    /// Applies one threat state; an older state than the one kept is ignored.
    pub(super) fn threat(&mut self, t: &ThreatVerdict) {
        self.arrival += 1;
        let k = key(&t.device_id, &t.threat_id);
        let new = Slot::new(&t.observed, self.arrival, t.level, t.active);
        let shard = &mut self.threats[(k >> 56) as usize % SHARDS];
        let old = shard.get(&k).copied();
        if old.is_some_and(|o| o.order() > new.order()) {
            return;
        }
        shard.insert(k, new);
        let device = self.devices.entry(t.device_id.clone()).or_default();
        if let Some(o) = old {
            let r = usize::from(o.level().rank());
            if o.active() {
                device.active[r] -= 1;
                device.named[r].retain(|(nk, _)| *nk != k);
            } else {
                device.inactive -= 1;
            }
        }
        if t.active {
            let r = usize::from(t.level.rank());
            device.active[r] += 1;
            if t.level != ThreatLevel::Secured && device.named[r].len() < NAMED {
                device.named[r]
                    .push((k, format!("{} ({} {})", t.threat_id, t.classification, t.partner_severity)));
            }
        } else {
            device.inactive += 1;
        }
    }

    /// Applies one device status; an older status than the one kept is ignored.
    pub(super) fn status(&mut self, s: &StatusVerdict) {
        self.arrival += 1;
        let order = Slot::new(&s.observed, self.arrival, s.level, true).order();
        let device = self.devices.entry(s.device_id.clone()).or_default();
        if device.status.as_ref().is_some_and(|(o, _, _)| *o > order) {
            return;
        }
        device.status = Some((order, s.partner_status.clone(), s.level));
    }

    /// Distinct threats, and how many of them are active now.
    pub(super) fn counts(&self) -> (u64, u64) {
        let all = self.threats.iter().flat_map(|shard| shard.values());
        let active = all.filter(|s| s.active()).count() as u64;
        (self.threats.iter().map(|shard| shard.len() as u64).sum(), active)
    }
}

impl DeviceTally {
    /// The device's level, its active threats, the named threats behind the
    /// level, and why.
    pub(super) fn verdict(&self) -> (ThreatLevel, u64, Vec<String>, String) {
        let top = (1..4).rev().find(|r| self.active[*r] > 0).map(|r| ThreatLevel::from_rank(r as u8));
        let active: u64 = self.active.iter().map(|n| u64::from(*n)).sum();
        let status = self.status.as_ref().map(|(_, w, l)| (w.as_str(), *l));
        let level =
            top.unwrap_or(ThreatLevel::Secured).max_level(status.map_or(ThreatLevel::Secured, |s| s.1));
        let mut names = Vec::new();
        if let Some(t) = top.filter(|t| *t == level) {
            let r = usize::from(t.rank());
            names = self.named[r].iter().map(|(_, n)| n.clone()).collect();
            let unnamed = self.active[r] as usize - names.len();
            if unnamed > 0 {
                names.push(format!("… and {unnamed} more"));
            }
        } else if let Some((w, _)) = status.filter(|(_, l)| *l == level && level != ThreatLevel::Secured) {
            names.push(format!("(device status {w})"));
        }
        let reason = device_reason(level, top, active as usize, self.inactive as usize, status);
        (level, active, names, reason)
    }
}

/// Why a device has its level. The same wording as the SDK's
/// `mapping::device_reason` (the host does not link the SDK).
fn device_reason(
    level: ThreatLevel,
    top: Option<ThreatLevel>,
    active: usize,
    inactive: usize,
    status: Option<(&str, ThreatLevel)>,
) -> String {
    let status_part = status.map(|(word, l)| format!("device status {word} ({})", l.as_str()));
    let quiet = || match (active, inactive) {
        (0, n) => format!("all {n} threat(s) resolved or ignored"),
        (a, 0) => format!("{a} active threat(s), none above secured"),
        (a, n) => format!("{a} active threat(s) none above secured, {n} resolved or ignored"),
    };
    match (top, status_part) {
        (Some(l), Some(sp)) if l == level => {
            format!("{active} active threat(s), highest {}; {sp}", l.as_str())
        }
        (Some(l), Some(sp)) => format!("{sp}; {active} active threat(s), highest {}", l.as_str()),
        (Some(l), None) => format!("{active} active threat(s), highest {}", l.as_str()),
        (None, Some(sp)) if active + inactive == 0 => sp,
        (None, Some(sp)) => format!("{sp}; {}", quiet()),
        (None, None) if active + inactive == 0 => "no threats and no device status".to_string(),
        (None, None) => quiet(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(at: Option<i64>, seq: Option<u64>) -> Observation {
        Observation { at_ms: at, sequence: seq, record_number: 1 }
    }

    fn threat(id: &str, level: ThreatLevel, active: bool, o: Observation) -> ThreatVerdict {
        ThreatVerdict {
            device_id: "d".into(),
            threat_id: id.into(),
            classification: "C".into(),
            partner_severity: "S".into(),
            level,
            active,
            reason: String::new(),
            observed: o,
        }
    }

    #[test]
    fn latest_state_across_batches() {
        let mut t = Tally::default();
        t.threat(&threat("a", ThreatLevel::High, false, obs(Some(20), None)));
        t.threat(&threat("a", ThreatLevel::High, true, obs(Some(10), None)));
        t.threat(&threat("b", ThreatLevel::Low, true, obs(None, None)));
        t.threat(&threat("b", ThreatLevel::Low, true, obs(None, None)));
        let (level, active, names, reason) = t.devices["d"].verdict();
        assert_eq!((level, active), (ThreatLevel::Low, 1));
        assert_eq!(names, vec!["b (C S)"]);
        assert_eq!(reason, "1 active threat(s), highest low");
        assert_eq!(t.counts(), (2, 1));
        t.threat(&threat("b", ThreatLevel::Low, false, obs(Some(1), Some(1))));
        t.status(&StatusVerdict {
            device_id: "d".into(),
            partner_status: "SECURE".into(),
            level: ThreatLevel::Secured,
            reason: String::new(),
            observed: obs(Some(30), None),
        });
        let (level, _, names, reason) = t.devices["d"].verdict();
        assert_eq!(level, ThreatLevel::Secured);
        assert!(names.is_empty());
        assert_eq!(reason, "device status SECURE (secured); all 2 threat(s) resolved or ignored");
    }
}
