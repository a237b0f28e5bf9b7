//! Measuring what a plugin returns, so the output cap can be enforced on
//! the lifted values (strings dominate; fixed fields count a few bytes).

use super::bindings::*;

/// Approximate size in bytes of a value returned by a plugin.
pub(crate) trait WireSize {
    fn wire_size(&self) -> usize;
}

impl WireSize for String {
    fn wire_size(&self) -> usize {
        self.len() + 8
    }
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        8 + self.iter().map(WireSize::wire_size).sum::<usize>()
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        1 + self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<T: WireSize, E: WireSize> WireSize for Result<T, E> {
    fn wire_size(&self) -> usize {
        match self {
            Ok(v) => v.wire_size(),
            Err(e) => e.wire_size(),
        }
    }
}

macro_rules! fixed {
    ($($t:ty),*) => { $(impl WireSize for $t { fn wire_size(&self) -> usize { 8 } })* };
}
fixed!(
    ThreatLevel,
    Capability,
    DiagnosticSeverity,
    Platform,
    ActionType,
    ConnectorState,
    bool,
    u32,
    u64,
    i64
);

macro_rules! record {
    ($t:ty { $($f:ident),* }) => {
        impl WireSize for $t {
            fn wire_size(&self) -> usize { 0 $(+ self.$f.wire_size())* }
        }
    };
}
record!(PluginInfo { name, version, partner, description, capabilities, contract_version });
record!(Diagnostic { severity, path, message });
record!(Observation { at_ms, sequence, record_number });
record!(ThreatVerdict {
    device_id,
    threat_id,
    classification,
    partner_severity,
    level,
    active,
    reason,
    observed
});
record!(StatusVerdict { device_id, partner_status, level, reason, observed });
record!(DeviceVerdict { device_id, level, threat_ids, reason });
record!(MappingOutput { threats, statuses, devices, diagnostics });
record!(SeverityTerm { term, level, description });
record!(Action { action_type, grace_period_hours, notification_template, cc_groups });
record!(Assignments { include_groups, exclude_groups, all_users, all_devices });
record!(Policy {
    name,
    description,
    platform,
    partner,
    max_threat_level,
    settings_json,
    actions,
    assignments
});
record!(ChangeNote { rule, policy, message });
record!(RulesOutput { policies, notes, diagnostics });

/// Cleans every string a plugin returned ([`crate::sanitize::clean`]), so
/// ids, names and messages are safe wherever mtdhost shows them later.
pub(crate) trait Clean {
    fn clean(&mut self);
}

impl Clean for String {
    fn clean(&mut self) {
        if !crate::sanitize::is_clean(self) {
            *self = crate::sanitize::clean(self);
        }
    }
}

impl<T: Clean> Clean for Vec<T> {
    fn clean(&mut self) {
        self.iter_mut().for_each(Clean::clean);
    }
}

impl<T: Clean> Clean for Option<T> {
    fn clean(&mut self) {
        if let Some(v) = self {
            v.clean();
        }
    }
}

impl<T: Clean, E: Clean> Clean for Result<T, E> {
    fn clean(&mut self) {
        match self {
            Ok(v) => v.clean(),
            Err(e) => e.clean(),
        }
    }
}

macro_rules! opaque {
    ($($t:ty),*) => { $(impl Clean for $t { fn clean(&mut self) {} })* };
}
opaque!(ThreatLevel, Capability, DiagnosticSeverity, Platform, ActionType, ConnectorState, bool, u32, u64);

macro_rules! clean_fields {
    ($t:ty { $($f:ident),* }) => {
        impl Clean for $t {
            fn clean(&mut self) { $(self.$f.clean();)* }
        }
    };
}
clean_fields!(PluginInfo { name, version, partner, description, capabilities, contract_version });
clean_fields!(Diagnostic { path, message });
clean_fields!(ThreatVerdict { device_id, threat_id, classification, partner_severity, reason });
clean_fields!(StatusVerdict { device_id, partner_status, reason });
clean_fields!(DeviceVerdict { device_id, threat_ids, reason });
clean_fields!(MappingOutput { threats, statuses, devices, diagnostics });
clean_fields!(SeverityTerm { term, description });
clean_fields!(Action { notification_template, cc_groups });
clean_fields!(Assignments { include_groups, exclude_groups });
// settings_json is JSON: raw control characters cannot appear inside its
// strings, and what its strings decode to is shown through serde_json.
clean_fields!(Policy { name, description, partner, actions, assignments });
clean_fields!(ChangeNote { rule, policy, message });
clean_fields!(RulesOutput { policies, notes, diagnostics });
