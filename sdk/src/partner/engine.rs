//! Running a [`PartnerSpec`] over a batch: unwrap, recognise, read, map.
//!
//! Every record either becomes a threat state or a device status, or is
//! reported: malformed JSON, an unknown shape, a missing device id, an
//! unreadable time, an unknown severity, status or lifecycle word each give a
//! diagnostic naming the record, the field and the value. Nothing is dropped
//! silently; documented records that carry no verdict (Lookout AUDIT) are
//! counted in one note per batch.

use std::collections::BTreeMap;

use serde_json::Value;

use super::shape::{Kind, Shape, ThreatFields};
use super::{status_vocabulary, strs, vocabulary, Fields, PartnerSettings, PartnerSpec};
use crate::events::{self, lookup, scalar_text};
use crate::{
    Diagnostic, EventBatch, MappingBuilder, MappingOutput, Observation, SeverityTerm, StatusVerdict,
    ThreatLevel, ThreatVerdict,
};

/// Envelopes nest at most this deep (an SSE `data:` page inside a page).
const MAX_ENVELOPE_DEPTH: usize = 4;

/// The first path that holds a scalar, and its value as text.
fn field(v: &Value, paths: &[String]) -> Option<(String, String)> {
    paths.iter().find_map(|p| Some((p.clone(), scalar_text(lookup(v, p)?)?)))
}

fn level(word: &str) -> Option<ThreatLevel> {
    ThreatLevel::parse(word)
}

fn term(vocab: &[SeverityTerm], word: &str) -> Option<ThreatLevel> {
    vocab.iter().find(|t| t.term.eq_ignore_ascii_case(word.trim())).map(|t| t.level)
}

fn has_word(words: &[String], word: &str) -> bool {
    words.iter().any(|w| w.eq_ignore_ascii_case(word.trim()))
}

/// The values of `paths` joined (" / "); lists contribute their scalars.
fn composite_key(v: &Value, paths: &[String]) -> Option<String> {
    let parts: Vec<String> = paths
        .iter()
        .filter_map(|p| match lookup(v, p)? {
            Value::Array(items) => {
                let words: Vec<String> = items.iter().filter_map(scalar_text).collect();
                (!words.is_empty()).then(|| words.join(", "))
            }
            other => scalar_text(other),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

/// What a batch needs while it is mapped.
struct Run<'a> {
    spec: &'a PartnerSpec,
    settings: &'a PartnerSettings,
    unknown: ThreatLevel,
    severities: Vec<SeverityTerm>,
    statuses: Vec<SeverityTerm>,
    /// Shape name → (records skipped, why).
    skipped: BTreeMap<String, (u64, String)>,
    out: MappingBuilder,
}

/// Maps a batch for `spec`.
pub fn map_events(spec: &PartnerSpec, s: &PartnerSettings, batch: EventBatch) -> MappingOutput {
    // Partners sharing an engine (Zimperium's Trellix and SentinelOne) are named in messages.
    let named;
    let spec = match &s.variant {
        Some(v) => {
            named = PartnerSpec { partner: format!("{v} ({} scale)", spec.partner), ..spec.clone() };
            &named
        }
        None => spec,
    };
    let mut run = Run {
        spec,
        settings: s,
        unknown: s.unknown_level.as_deref().and_then(level).unwrap_or(ThreatLevel::High),
        severities: vocabulary(spec, s),
        statuses: status_vocabulary(spec, s),
        skipped: BTreeMap::new(),
        out: MappingBuilder::starting_at(batch.first_record),
    };
    let structured = Fields {
        device: strs(&["device"]),
        threat_id: strs(&["id"]),
        classification: strs(&["classification"]),
        severity: strs(&["severity"]),
        status: strs(&["status"]),
        time: strs(&["time"]),
    }
    .shape("structured record");
    for (i, r) in batch.records.into_iter().enumerate() {
        let value = serde_json::json!({
            "device": r.device_id, "id": r.threat_id, "classification": r.classification,
            "severity": r.severity, "status": r.status, "time": r.detected_at,
        });
        let number = batch.first_record + i as u64;
        run.read(&structured, &value, &format!("structured record {}", i + 1), number);
    }
    let raw = batch.raw.unwrap_or_default();
    for rec in events::records(&raw, batch.first_record) {
        let location = rec.location();
        match rec.value {
            Ok(v) => {
                let mut items = Vec::new();
                let wrapped = unwrap(spec, v, 0, &mut items);
                for (i, item) in items.iter().enumerate() {
                    let at = if wrapped { format!("{location} item {}", i + 1) } else { location.clone() };
                    run.record(item, &at, rec.number);
                }
            }
            Err(e) => run.out.diagnostic(Diagnostic::error(location, e)),
        }
    }
    for (shape, (count, why)) in std::mem::take(&mut run.skipped) {
        run.out
            .diagnostic(Diagnostic::info("", format!("{count} {shape} record(s) read and skipped: {why}")));
    }
    run.out.finish()
}

/// Flattens envelopes (`{"events":[…]}`, pages inside stream data) into
/// records; true if `v` was an envelope.
fn unwrap(spec: &PartnerSpec, v: Value, depth: usize, items: &mut Vec<Value>) -> bool {
    if depth < MAX_ENVELOPE_DEPTH {
        if let Value::Object(map) = &v {
            let list = spec.wrappers.iter().find_map(|w| match map.get(w) {
                Some(Value::Array(list)) => Some(list.clone()),
                _ => None,
            });
            if let Some(list) = list {
                for item in list {
                    unwrap(spec, item, depth + 1, items);
                }
                return true;
            }
        }
    }
    items.push(v);
    false
}

impl Run<'_> {
    fn warn(&mut self, at: &str, message: String) {
        self.out.diagnostic(Diagnostic::warning(at, message));
    }

    fn record(&mut self, v: &Value, at: &str, number: u64) {
        if !v.is_object() {
            self.out.diagnostic(Diagnostic::error(at, "expected a JSON object"));
            return;
        }
        let spec = self.spec;
        let Some(shape) = spec.shapes.iter().find(|s| s.matches(v)) else {
            let names: Vec<&str> = spec.shapes.iter().map(|s| s.name.as_str()).collect();
            self.out.diagnostic(Diagnostic::error(
                at,
                format!("not a {} record this plugin reads (it reads: {})", spec.partner, names.join("; ")),
            ));
            return;
        };
        self.read(shape, v, at, number);
    }

    fn read(&mut self, shape: &Shape, v: &Value, at: &str, number: u64) {
        if let Kind::Skip(why) = &shape.kind {
            self.skipped.entry(shape.name.clone()).or_insert((0, why.clone())).0 += 1;
            return;
        }
        let Some((_, device)) = field(v, &shape.device) else {
            self.out.diagnostic(Diagnostic::error(
                at,
                format!("no device id in this {} (looked for {})", shape.name, shape.device.join(", ")),
            ));
            return;
        };
        let observed = self.observation(shape, v, at, number);
        match &shape.kind {
            Kind::Threat(f) => self.threat(shape, f, v, at, device, observed),
            Kind::Status(paths) => self.status(shape, paths, v, at, device, observed),
            Kind::Skip(_) => {}
        }
    }

    fn observation(&mut self, shape: &Shape, v: &Value, at: &str, number: u64) -> Observation {
        let mut at_ms = None;
        if let Some((path, raw)) = shape.time.iter().find_map(|p| Some((p, lookup(v, p)?))) {
            at_ms = crate::time::value_to_ms(raw);
            if at_ms.is_none() {
                self.warn(
                    at,
                    format!("cannot read the time in {path} ({raw}); this record is ordered by its position"),
                );
            }
        }
        let sequence = field(v, &shape.sequence).and_then(|(_, s)| s.trim().parse::<u64>().ok());
        Observation { at_ms, sequence, record_number: number }
    }

    fn threat(
        &mut self,
        shape: &Shape,
        f: &ThreatFields,
        v: &Value,
        at: &str,
        device: String,
        observed: Observation,
    ) {
        let spec = self.spec;
        let threat_id = field(v, &f.threat_id)
            .map(|(_, id)| id)
            .or_else(|| composite_key(v, &f.threat_key))
            .unwrap_or_else(|| at.to_string());
        let classification = field(v, &f.classification).map(|(_, c)| c).unwrap_or_default();
        let lifecycle = field(v, &f.status);
        let flagged = f
            .resolved_flag
            .iter()
            .any(|p| lookup(v, p).and_then(scalar_text).is_some_and(|t| t.eq_ignore_ascii_case("true")));
        let mut active = !flagged;
        let mut lifecycle_note = String::new();
        if let Some((path, word)) = &lifecycle {
            if has_word(&spec.inactive, word) {
                active = false;
                lifecycle_note = format!("; {word}: no longer counts");
            } else if !spec.active.is_empty() && !has_word(&spec.active, word) {
                self.warn(
                    at,
                    format!(
                        "unknown {} lifecycle '{word}' in {path} for threat {threat_id}; counted as active",
                        spec.partner
                    ),
                );
            }
        }
        if flagged {
            lifecycle_note = "; mitigated: no longer counts".to_string();
        }
        let severity = field(v, &f.severity).or_else(|| {
            spec.classification_severity
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(&classification))
                .map(|(c, sev)| (format!("default for {c}"), sev.to_string()))
        });
        let verdict = |level: ThreatLevel, reason: String| ThreatVerdict {
            device_id: device.clone(),
            threat_id: threat_id.clone(),
            classification: classification.clone(),
            partner_severity: severity.as_ref().map(|(_, w)| w.clone()).unwrap_or_default(),
            level,
            active,
            reason: format!("{reason}{lifecycle_note}"),
            observed,
        };
        let settings = self.settings;
        let same = |c: &String| c.eq_ignore_ascii_case(&classification);
        if let Some(l) = settings.overrides.iter().find(|(k, _)| same(k)).and_then(|(_, l)| level(l)) {
            self.out.push(verdict(l, format!("override for {classification}: {l}")));
            return;
        }
        if settings.not_affecting_risk.iter().any(same)
            || (settings.not_affecting_risk.is_empty() && spec.log_only.iter().any(same))
        {
            let mut v = verdict(
                ThreatLevel::Secured,
                format!("{classification} does not affect device risk (settings)"),
            );
            v.active = false;
            self.out.push(v);
            return;
        }
        let unknown = self.unknown;
        let v = match &severity {
            Some((path, w)) => match term(&self.severities, w) {
                Some(l) => verdict(l, format!("{} severity {w} is Intune {l}", spec.partner)),
                None => {
                    self.warn(
                        at,
                        format!(
                            "unknown {} severity '{w}' in {path} for threat {threat_id}; counted as {unknown}",
                            spec.partner
                        ),
                    );
                    verdict(unknown, format!("unknown severity {w}: counted as {unknown} (unknown-level)"))
                }
            },
            None => {
                self.warn(
                    at,
                    format!(
                        "no severity in this {} ({}) and unknown classification '{classification}' for threat {threat_id}; counted as {unknown}",
                        shape.name,
                        f.severity.join(", ")
                    ),
                );
                verdict(
                    unknown,
                    format!("unknown classification {classification}: counted as {unknown} (unknown-level)"),
                )
            }
        };
        self.out.push(v);
    }

    fn status(
        &mut self,
        shape: &Shape,
        paths: &[String],
        v: &Value,
        at: &str,
        device: String,
        observed: Observation,
    ) {
        let spec = self.spec;
        let Some((path, word)) = field(v, paths) else {
            self.out.diagnostic(Diagnostic::info(
                at,
                format!(
                    "this {} for device {device} carries no status ({}): not a level source",
                    shape.name,
                    paths.join(", ")
                ),
            ));
            return;
        };
        let (level, reason) = match term(&self.statuses, &word) {
            Some(l) => (l, format!("{} device status {word} is Intune {l}", spec.partner)),
            None => {
                let unknown = self.unknown;
                self.warn(
                    at,
                    format!(
                        "unknown {} device status '{word}' in {path} for device {device}; counted as {unknown}",
                        spec.partner
                    ),
                );
                (unknown, format!("unknown device status {word}: counted as {unknown} (unknown-level)"))
            }
        };
        self.out.status(StatusVerdict { device_id: device, partner_status: word, level, reason, observed });
    }
}
