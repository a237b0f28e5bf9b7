//! Rendering plugin results as text for people or JSON for scripts.
//!
//! Everything a plugin wrote passes through `sanitize` before it reaches a
//! terminal. JSON shapes here are part of the CLI's stable interface.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::OutputFormat;
use crate::runtime::{
    describe_diagnostic, sanitize, Diagnostic, DiagnosticSeverity, LoadedPlugin, MappingOutput,
};

fn diag_json(d: &Diagnostic) -> Value {
    let severity = match d.severity {
        DiagnosticSeverity::Error => "error",
        DiagnosticSeverity::Warning => "warning",
        DiagnosticSeverity::Info => "info",
    };
    json!({"severity": severity, "path": sanitize(&d.path), "message": sanitize(&d.message)})
}

fn info_json(p: &LoadedPlugin) -> Value {
    let i = p.info();
    json!({
        "name": sanitize(&i.name),
        "version": sanitize(&i.version),
        "partner": i.partner.as_deref().map(sanitize),
        "description": sanitize(&i.description),
        "capabilities": i.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "contract_version": sanitize(&i.contract_version),
        "source": p.label(),
        "sha256": p.sha256(),
    })
}

fn pretty(v: &Value) -> String {
    // Serialising a Value built from strings cannot fail.
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// `plugin inspect`.
pub(super) fn info(p: &LoadedPlugin, format: OutputFormat) -> String {
    if format == OutputFormat::Json {
        return pretty(&info_json(p));
    }
    let i = p.info();
    let caps: Vec<&str> = i.capabilities.iter().map(|c| c.as_str()).collect();
    let mut s = String::new();
    let _ = writeln!(s, "name:         {}", sanitize(&i.name));
    let _ = writeln!(s, "version:      {}", sanitize(&i.version));
    let _ = writeln!(s, "partner:      {}", i.partner.as_deref().map(sanitize).unwrap_or_else(|| "-".into()));
    let _ = writeln!(s, "description:  {}", sanitize(&i.description));
    let _ = writeln!(s, "capabilities: {}", if caps.is_empty() { "none".into() } else { caps.join(", ") });
    let _ = writeln!(s, "contract:     mtd:plugin {}", sanitize(&i.contract_version));
    let _ = writeln!(s, "source:       {}", p.label());
    let _ = writeln!(s, "sha256:       {}", p.sha256());
    s
}

/// `plugin check`.
pub(super) fn check(p: &LoadedPlugin, diags: &[Diagnostic], format: OutputFormat) -> String {
    let errors = diags.iter().filter(|d| d.severity == DiagnosticSeverity::Error).count();
    if format == OutputFormat::Json {
        return pretty(&json!({
            "plugin": info_json(p),
            "valid": errors == 0,
            "diagnostics": diags.iter().map(diag_json).collect::<Vec<_>>(),
        }));
    }
    let mut s = String::new();
    for d in diags {
        let _ = writeln!(s, "{}", describe_diagnostic(d));
    }
    let name = sanitize(&p.info().name);
    if errors == 0 {
        let _ = writeln!(
            s,
            "settings are valid for {name} {} ({} note(s))",
            sanitize(&p.info().version),
            diags.len()
        );
    } else {
        let _ = writeln!(s, "{errors} error(s) in settings for {name} {}", sanitize(&p.info().version));
    }
    s
}

/// `plugin run`.
pub(super) fn mapping(p: &LoadedPlugin, out: &MappingOutput, format: OutputFormat) -> String {
    if format == OutputFormat::Json {
        return pretty(&json!({
            "plugin": info_json(p),
            "devices": out.devices.iter().map(|d| json!({
                "device_id": sanitize(&d.device_id),
                "level": d.level.as_str(),
                "threat_ids": d.threat_ids.iter().map(|t| sanitize(t)).collect::<Vec<_>>(),
                "reason": sanitize(&d.reason),
            })).collect::<Vec<_>>(),
            "statuses": out.statuses.iter().map(|st| json!({
                "device_id": sanitize(&st.device_id),
                "partner_status": sanitize(&st.partner_status),
                "level": st.level.as_str(),
                "reason": sanitize(&st.reason),
            })).collect::<Vec<_>>(),
            "threats": out.threats.iter().map(|t| json!({
                "device_id": sanitize(&t.device_id),
                "threat_id": sanitize(&t.threat_id),
                "classification": sanitize(&t.classification),
                "partner_severity": sanitize(&t.partner_severity),
                "level": t.level.as_str(),
                "active": t.active,
                "reason": sanitize(&t.reason),
            })).collect::<Vec<_>>(),
            "diagnostics": out.diagnostics.iter().map(diag_json).collect::<Vec<_>>(),
        }));
    }
    let mut s = String::new();
    let width = out.devices.iter().map(|d| d.device_id.len()).max().unwrap_or(6).max(6);
    let _ = writeln!(s, "{:width$}  {:8}  THREATS — WHY", "DEVICE", "LEVEL");
    for d in &out.devices {
        let threats =
            if d.threat_ids.is_empty() { "-".to_string() } else { sanitize(&d.threat_ids.join(", ")) };
        let why = sanitize(&d.reason);
        let _ = writeln!(s, "{:width$}  {:8}  {threats} — {why}", sanitize(&d.device_id), d.level.as_str());
    }
    for d in &out.diagnostics {
        let _ = writeln!(s, "{}", describe_diagnostic(d));
    }
    let active = out.threats.iter().filter(|t| t.active).count();
    let _ = writeln!(
        s,
        "{} device(s), {} threat(s) ({} active), {} device status(es) mapped by {} {}",
        out.devices.len(),
        out.threats.len(),
        active,
        out.statuses.len(),
        sanitize(&p.info().name),
        sanitize(&p.info().version)
    );
    s
}
