//! Collecting verdicts and aggregating them per device, with lifecycles.
//!
//! Partners export state changes, not states: the same threat is DETECTED,
//! then UPDATED, then RESOLVED, possibly out of order and more than once. So
//! the builder keeps the latest state of each threat (by [`Observation`]:
//! time, then sequence, then record number; on a tie the later call wins) and
//! counts a threat once however often it repeats. Device-status records (the
//! partner's own verdict on a device) are kept apart, latest per device, and
//! never counted as threats.
//!
//! Intune takes one level per device: the highest of its active threats'
//! levels and its latest status. A device whose threats are all resolved and
//! which has no status is secured, and its verdict says why.

use std::collections::BTreeMap;

use crate::{
    DeviceVerdict, Diagnostic, MappingOutput, Observation, StatusVerdict, ThreatLevel, ThreatRecord,
    ThreatVerdict,
};

/// How many threat ids a device verdict names at most.
const NAMED_THREATS: usize = 10;

/// The ordering key of an observation: untimed before timed, then sequence,
/// then record number.
pub fn order_key(o: &Observation) -> (Option<i64>, Option<u64>, u64) {
    (o.at_ms, o.sequence, o.record_number)
}

/// Builds a [`MappingOutput`]: add threats, statuses and diagnostics, then `finish`.
#[derive(Default)]
pub struct MappingBuilder {
    threats: BTreeMap<(String, String), ThreatVerdict>,
    statuses: BTreeMap<String, StatusVerdict>,
    diagnostics: Vec<Diagnostic>,
    /// Number of the next structured record (see [`MappingBuilder::starting_at`]).
    next_record: u64,
}

impl MappingBuilder {
    /// A builder whose structured records are numbered from `first_record`
    /// (the batch's `first-record`), so their order is known across batches.
    pub fn starting_at(first_record: u64) -> Self {
        MappingBuilder { next_record: first_record, ..Self::default() }
    }

    /// Records the verdict for one threat of a structured record; the
    /// record's `detected-at` orders its states.
    pub fn threat(
        &mut self,
        record: &ThreatRecord,
        level: ThreatLevel,
        active: bool,
        reason: impl Into<String>,
    ) {
        let observed = Observation {
            at_ms: record.detected_at.as_deref().and_then(crate::time::parse_ms),
            sequence: None,
            record_number: self.next_record,
        };
        self.next_record += 1;
        self.push(ThreatVerdict {
            device_id: record.device_id.clone(),
            threat_id: record.threat_id.clone(),
            classification: record.classification.clone(),
            partner_severity: record.severity.clone(),
            level,
            active,
            reason: reason.into(),
            observed,
        });
    }

    /// Records one state of a threat; the latest state of each threat wins.
    pub fn push(&mut self, verdict: ThreatVerdict) {
        let key = (verdict.device_id.clone(), verdict.threat_id.clone());
        match self.threats.get(&key) {
            Some(old) if order_key(&old.observed) > order_key(&verdict.observed) => {}
            _ => {
                self.threats.insert(key, verdict);
            }
        }
    }

    /// Records a partner's device status; the latest status of each device wins.
    pub fn status(&mut self, verdict: StatusVerdict) {
        match self.statuses.get(&verdict.device_id) {
            Some(old) if order_key(&old.observed) > order_key(&verdict.observed) => {}
            _ => {
                self.statuses.insert(verdict.device_id.clone(), verdict);
            }
        }
    }

    /// Adds a finding (malformed record, unknown severity, …).
    pub fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The finished output: one verdict per threat (its latest state), one
    /// status per device that has one, and the devices sorted by id.
    pub fn finish(self) -> MappingOutput {
        let mut devices: BTreeMap<&str, Tally<'_>> = BTreeMap::new();
        for t in self.threats.values() {
            devices.entry(&t.device_id).or_default().threat(t);
        }
        for s in self.statuses.values() {
            devices.entry(&s.device_id).or_default().status = Some(s);
        }
        let devices = devices.into_iter().map(|(id, tally)| tally.verdict(id)).collect();
        MappingOutput {
            threats: self.threats.into_values().collect(),
            statuses: self.statuses.into_values().collect(),
            devices,
            diagnostics: self.diagnostics,
        }
    }
}

/// One device's threats and status while finishing.
#[derive(Default)]
struct Tally<'a> {
    top: Option<ThreatLevel>,
    top_ids: Vec<&'a str>,
    active: usize,
    inactive: usize,
    status: Option<&'a StatusVerdict>,
}

impl<'a> Tally<'a> {
    fn threat(&mut self, t: &'a ThreatVerdict) {
        if !t.active {
            self.inactive += 1;
            return;
        }
        self.active += 1;
        if t.level == ThreatLevel::Secured {
            return;
        }
        if self.top.is_none_or(|top| t.level > top) {
            self.top = Some(t.level);
            self.top_ids.clear();
        }
        if Some(t.level) == self.top && self.top_ids.len() < NAMED_THREATS {
            self.top_ids.push(&t.threat_id);
        }
    }

    fn verdict(self, device_id: &str) -> DeviceVerdict {
        let threats = self.top.unwrap_or(ThreatLevel::Secured);
        let status = self.status.map_or(ThreatLevel::Secured, |s| s.level);
        let level = threats.max(status);
        let reason = device_reason(
            level,
            self.top.map(|l| (l, self.top_ids.len())),
            self.active,
            self.inactive,
            self.status.map(|s| (s.partner_status.as_str(), s.level)),
        );
        let threat_ids =
            if threats == level { self.top_ids.iter().map(|s| s.to_string()).collect() } else { Vec::new() };
        DeviceVerdict { device_id: device_id.to_string(), level, threat_ids, reason }
    }
}

/// Why a device has its level, in one sentence. Shared wording with the
/// host's evaluation, so `plugin run` and `evaluate` read alike.
pub(crate) fn device_reason(
    level: ThreatLevel,
    top: Option<(ThreatLevel, usize)>,
    active: usize,
    inactive: usize,
    status: Option<(&str, ThreatLevel)>,
) -> String {
    let status_part = status.map(|(word, l)| format!("device status {word} ({l})"));
    match (top, status_part) {
        (Some((l, _)), Some(sp)) if l == level => {
            format!("{active} active threat(s), highest {l}; {sp}")
        }
        (Some((l, _)), Some(sp)) => format!("{sp}; {active} active threat(s), highest {l}"),
        (Some((l, _)), None) => format!("{active} active threat(s), highest {l}"),
        (None, Some(sp)) if active + inactive == 0 => sp,
        (None, Some(sp)) => format!("{sp}; {}", quiet_threats(active, inactive)),
        (None, None) if active + inactive == 0 => "no threats and no device status".to_string(),
        (None, None) => quiet_threats(active, inactive),
    }
}

fn quiet_threats(active: usize, inactive: usize) -> String {
    match (active, inactive) {
        (0, n) => format!("all {n} threat(s) resolved or ignored"),
        (a, 0) => format!("{a} active threat(s), none above secured"),
        (a, n) => format!("{a} active threat(s) none above secured, {n} resolved or ignored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, record: u64) -> Observation {
        Observation { at_ms: Some(ms), sequence: None, record_number: record }
    }

    fn verdict(
        device: &str,
        id: &str,
        level: ThreatLevel,
        active: bool,
        observed: Observation,
    ) -> ThreatVerdict {
        ThreatVerdict {
            device_id: device.into(),
            threat_id: id.into(),
            classification: "X".into(),
            partner_severity: "s".into(),
            level,
            active,
            reason: String::new(),
            observed,
        }
    }

    fn status(device: &str, word: &str, level: ThreatLevel, observed: Observation) -> StatusVerdict {
        StatusVerdict {
            device_id: device.into(),
            partner_status: word.into(),
            level,
            reason: String::new(),
            observed,
        }
    }

    #[test]
    fn highest_active_wins() {
        let mut b = MappingBuilder::default();
        let t = |id: &str| ThreatRecord::new("d1", id, "X", "s", "DETECTED");
        b.threat(&t("a"), ThreatLevel::Low, true, "");
        b.threat(&t("b"), ThreatLevel::High, false, "resolved");
        b.threat(&t("c"), ThreatLevel::Medium, true, "");
        b.threat(&t("d"), ThreatLevel::Medium, true, "");
        let out = b.finish();
        assert_eq!(out.devices.len(), 1);
        assert_eq!(out.devices[0].level, ThreatLevel::Medium);
        assert_eq!(out.devices[0].threat_ids, vec!["c", "d"]);
        assert_eq!(out.devices[0].reason, "3 active threat(s), highest medium");
        assert_eq!(out.threats.len(), 4);
    }

    #[test]
    fn latest_state_wins_whatever_the_order() {
        let mut b = MappingBuilder::default();
        // RESOLVED arrives first but is newer; the stale DETECTED must not revive it.
        b.push(verdict("d", "t", ThreatLevel::High, false, at(2_000, 1)));
        b.push(verdict("d", "t", ThreatLevel::High, true, at(1_000, 2)));
        // Same time: the higher sequence wins.
        let seq = |s: u64, r: u64| Observation { at_ms: Some(5), sequence: Some(s), record_number: r };
        b.push(verdict("e", "u", ThreatLevel::Low, true, seq(1583, 3)));
        b.push(verdict("e", "u", ThreatLevel::Low, false, seq(1581, 4)));
        // A duplicate counts once.
        b.push(verdict("e", "v", ThreatLevel::Low, true, at(1, 5)));
        b.push(verdict("e", "v", ThreatLevel::Low, true, at(1, 6)));
        let out = b.finish();
        assert_eq!(out.threats.len(), 3);
        let d = &out.devices[0];
        assert_eq!(
            (d.level, d.reason.as_str()),
            (ThreatLevel::Secured, "all 1 threat(s) resolved or ignored")
        );
        let e = &out.devices[1];
        assert_eq!((e.level, e.threat_ids.len()), (ThreatLevel::Low, 2));
    }

    #[test]
    fn status_sets_or_confirms_and_is_never_a_threat() {
        let mut b = MappingBuilder::default();
        b.push(verdict("d", "t", ThreatLevel::High, false, at(1, 1)));
        b.status(status("d", "THREAT_HIGH", ThreatLevel::High, at(1, 2)));
        b.status(status("d", "SECURE", ThreatLevel::Secured, at(3, 3)));
        b.status(status("s", "THREAT_MEDIUM", ThreatLevel::Medium, at(1, 4)));
        b.push(verdict("s", "x", ThreatLevel::Low, true, at(1, 5)));
        let out = b.finish();
        assert_eq!(out.threats.len(), 2);
        assert_eq!(out.statuses.len(), 2);
        assert_eq!(out.devices[0].level, ThreatLevel::Secured);
        assert_eq!(
            out.devices[0].reason,
            "device status SECURE (secured); all 1 threat(s) resolved or ignored"
        );
        assert_eq!(out.devices[1].level, ThreatLevel::Medium);
        assert!(out.devices[1].threat_ids.is_empty(), "the status, not the low threat, sets the level");
        assert_eq!(
            out.devices[1].reason,
            "device status THREAT_MEDIUM (medium); 1 active threat(s), highest low"
        );
    }
}
