//! Record shapes: how to recognise one kind of partner record and where it
//! keeps each field.
//!
//! A partner exports several kinds of records — Lookout alone has v1 THREAT
//! and DEVICE events, v2 THREAT and DEVICE items and AUDIT records. Each is a
//! [`Shape`]: conditions that recognise it ([`Match`]), the device and time
//! paths, and what it is ([`Kind`]): a threat state, a device status, or a
//! documented record that carries neither.

use serde_json::Value;

use crate::events::{lookup, scalar_text};

/// A condition on a record (paths use [`crate::events::lookup`]'s syntax).
#[derive(Debug, Clone)]
pub enum Match {
    /// The path holds a non-null value.
    Has(String),
    /// The path holds one of these words (case-insensitive; numbers as text).
    Is(String, Vec<String>),
}

impl Match {
    /// `Has(path)`.
    pub fn has(path: &str) -> Self {
        Match::Has(path.to_string())
    }

    /// `Is(path, words)`.
    pub fn is(path: &str, words: &[&str]) -> Self {
        Match::Is(path.to_string(), words.iter().map(|w| w.to_string()).collect())
    }

    fn holds(&self, v: &Value) -> bool {
        match self {
            Match::Has(p) => lookup(v, p).is_some(),
            Match::Is(p, words) => lookup(v, p)
                .and_then(scalar_text)
                .is_some_and(|t| words.iter().any(|w| w.eq_ignore_ascii_case(t.trim()))),
        }
    }
}

/// Where a threat record keeps its fields (paths tried in order).
#[derive(Debug, Clone, Default)]
pub struct ThreatFields {
    /// The threat's id, which links its detection to its later states.
    pub threat_id: Vec<String>,
    /// The threat's classification (type, name), shown in reasons.
    pub classification: Vec<String>,
    /// The partner's severity word.
    pub severity: Vec<String>,
    /// The lifecycle word (DETECTED / RESOLVED, New / Resolved, …).
    pub status: Vec<String>,
    /// Booleans meaning "no longer active" when true (Zimperium `mitigated`).
    pub resolved_flag: Vec<String>,
    /// For partners without a threat id that links a detection to its end
    /// (Check Point): the threat is named by these fields together (lists
    /// joined); used when `threat_id` finds nothing.
    pub threat_key: Vec<String>,
}

/// What a shape's records are.
#[derive(Debug, Clone)]
pub enum Kind {
    /// One state of one threat.
    Threat(ThreatFields),
    /// The partner's own verdict on a device: paths to its status word,
    /// translated with the partner's status table.
    Status(Vec<String>),
    /// A documented record that is neither (e.g. Lookout AUDIT): counted and
    /// reported once per batch, never an error.
    Skip(String),
}

/// One kind of record a partner exports.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Shown in diagnostics: "Lookout v1 THREAT event".
    pub name: String,
    /// All must hold for a record to be of this shape.
    pub when: Vec<Match>,
    /// The device id.
    pub device: Vec<String>,
    /// When the record was observed (Unix ms or s, ISO 8601, RFC 2822).
    pub time: Vec<String>,
    /// The partner's event sequence, orders records of equal time.
    pub sequence: Vec<String>,
    /// What the records are: threat states, device statuses, or skipped.
    pub kind: Kind,
}

impl Shape {
    /// A threat shape.
    pub fn threat(name: &str, when: Vec<Match>, device: &[&str], fields: ThreatFields) -> Self {
        Shape {
            name: name.to_string(),
            when,
            device: super::strs(device),
            time: Vec::new(),
            sequence: Vec::new(),
            kind: Kind::Threat(fields),
        }
    }

    /// A device-status shape.
    pub fn status(name: &str, when: Vec<Match>, device: &[&str], status: &[&str]) -> Self {
        Shape {
            name: name.to_string(),
            when,
            device: super::strs(device),
            time: Vec::new(),
            sequence: Vec::new(),
            kind: Kind::Status(super::strs(status)),
        }
    }

    /// A shape whose records are read and skipped.
    pub fn skip(name: &str, when: Vec<Match>, why: &str) -> Self {
        Shape {
            name: name.to_string(),
            when,
            device: Vec::new(),
            time: Vec::new(),
            sequence: Vec::new(),
            kind: Kind::Skip(why.to_string()),
        }
    }

    /// Where the record's time is.
    pub fn timed(mut self, paths: &[&str]) -> Self {
        self.time = super::strs(paths);
        self
    }

    /// Where the record's sequence number is.
    pub fn sequenced(mut self, paths: &[&str]) -> Self {
        self.sequence = super::strs(paths);
        self
    }

    /// True if `v` is of this shape.
    pub fn matches(&self, v: &Value) -> bool {
        self.when.iter().all(|m| m.holds(v))
    }
}

/// [`ThreatFields`] from path lists.
pub fn threat_fields(
    threat_id: &[&str],
    classification: &[&str],
    severity: &[&str],
    status: &[&str],
) -> ThreatFields {
    ThreatFields {
        threat_id: super::strs(threat_id),
        classification: super::strs(classification),
        severity: super::strs(severity),
        status: super::strs(status),
        resolved_flag: Vec::new(),
        threat_key: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let s = Shape::threat(
            "v1",
            vec![Match::is("type", &["THREAT"]), Match::has("details")],
            &["target.id"],
            ThreatFields::default(),
        );
        assert!(s.matches(&serde_json::json!({"type": "threat", "details": {}})));
        assert!(!s.matches(&serde_json::json!({"type": "THREAT", "details": null})));
        assert!(!s.matches(&serde_json::json!({"type": "DEVICE", "details": {}})));
        assert!(Match::is("risk", &["3"]).holds(&serde_json::json!({"risk": 3})));
    }
}
