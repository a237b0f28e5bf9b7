//! Constructors for the contract's records, so plugins and their tests do not
//! spell out every field.

use crate::{Capability, EventBatch, PluginInfo, SeverityTerm, ThreatLevel, ThreatRecord, CONTRACT_VERSION};

impl PluginInfo {
    /// Info for a plugin built against this SDK's contract version.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        PluginInfo {
            name: name.to_string(),
            version: version.to_string(),
            partner: None,
            description: description.to_string(),
            capabilities: Vec::new(),
            contract_version: CONTRACT_VERSION.to_string(),
        }
    }

    /// Names the MTD partner the plugin speaks for.
    pub fn with_partner(mut self, partner: &str) -> Self {
        self.partner = Some(partner.to_string());
        self
    }

    /// Declares a capability; the host calls only what is declared.
    pub fn with_capability(mut self, capability: Capability) -> Self {
        if !self.capabilities.contains(&capability) {
            self.capabilities.push(capability);
        }
        self
    }
}

impl SeverityTerm {
    /// A vocabulary entry without a description.
    pub fn new(term: &str, level: ThreatLevel) -> Self {
        SeverityTerm { term: term.to_string(), level, description: String::new() }
    }

    /// Adds a description shown to admins.
    pub fn described(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }
}

impl ThreatRecord {
    /// A structured threat record.
    pub fn new(device_id: &str, threat_id: &str, classification: &str, severity: &str, status: &str) -> Self {
        ThreatRecord {
            device_id: device_id.to_string(),
            threat_id: threat_id.to_string(),
            classification: classification.to_string(),
            severity: severity.to_string(),
            status: status.to_string(),
            detected_at: None,
        }
    }
}

impl EventBatch {
    /// A batch of raw partner text (JSON document, array or JSON Lines).
    pub fn from_raw(raw: impl Into<String>) -> Self {
        EventBatch { raw: Some(raw.into()), records: Vec::new(), first_record: 1 }
    }

    /// A batch of structured records.
    pub fn from_records(records: Vec<ThreatRecord>) -> Self {
        EventBatch { raw: None, records, first_record: 1 }
    }
}
