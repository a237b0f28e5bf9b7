//! Showing an evaluation as text, JSON or CSV.

use std::fmt::Write as _;

use serde_json::json;

use super::{Evaluation, PolicyCheck};
use crate::runtime::sanitize;

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// For people.
pub fn render_text(ev: &Evaluation) -> String {
    let mut s = String::new();
    let width = ev.devices.keys().map(|k| k.len()).max().unwrap_or(6).clamp(6, 40);
    let _ = write!(s, "{:width$}  {:8}", "DEVICE", "LEVEL");
    for p in &ev.policies {
        let _ = write!(s, "  {}", sanitize(&p.name));
    }
    let _ = writeln!(s, "  THREATS — WHY");
    for (id, d) in &ev.devices {
        let _ = write!(s, "{:width$}  {:8}", sanitize(id), d.level.as_str());
        for p in &ev.policies {
            let verdict = if d.level.rank() > p.max_level.rank() { "NONCOMPLIANT" } else { "compliant" };
            let _ = write!(s, "  {:w$}", verdict, w = p.name.len());
        }
        let threats = if d.threats.is_empty() { "-".to_string() } else { sanitize(&d.threats.join(", ")) };
        let consequences: Vec<String> = ev
            .policies
            .iter()
            .filter(|p| d.level.rank() > p.max_level.rank())
            .filter_map(|p| p.consequence())
            .collect();
        let blocked = if consequences.is_empty() {
            String::new()
        } else {
            format!(" → {}", sanitize(&consequences.join("; ")))
        };
        let _ = writeln!(s, "  {threats} — {}{blocked}", sanitize(&d.reason));
    }
    for d in &ev.diagnostics {
        let _ = writeln!(s, "{d}");
    }
    if ev.diagnostic_count > ev.diagnostics.len() as u64 {
        let _ = writeln!(s, "… and {} more diagnostics", ev.diagnostic_count - ev.diagnostics.len() as u64);
    }
    let _ = writeln!(
        s,
        "{} records, {} distinct threats ({} active in their latest state), {} device statuses, on {} devices, mapped by {}.",
        thousands(ev.records as usize),
        thousands(ev.threats as usize),
        thousands(ev.active as usize),
        thousands(ev.statuses as usize),
        thousands(ev.devices.len()),
        ev.plugin
    );
    for p in &ev.policies {
        let _ = writeln!(
            s,
            "{} of {} devices would become noncompliant under '{}' (at or under {} required){}.",
            thousands(ev.noncompliant(p)),
            thousands(ev.devices.len()),
            sanitize(&p.name),
            p.max_level.as_str(),
            p.consequence().map(|c| format!(" and so {}", sanitize(&c))).unwrap_or_default()
        );
    }
    s
}

fn enforcement_json(p: &PolicyCheck) -> Vec<serde_json::Value> {
    p.enforced_by
        .iter()
        .map(|e| json!({"policy": e.policy, "apps": e.apps, "enforced": e.enforced}))
        .collect()
}

/// For scripts.
pub fn render_json(ev: &Evaluation) -> serde_json::Value {
    json!({
        "plugin": ev.plugin,
        "records": ev.records,
        "threats": ev.threats,
        "active_threats": ev.active,
        "device_statuses": ev.statuses,
        "devices": ev.devices.iter().map(|(id, d)| json!({
            "device_id": sanitize(id),
            "level": d.level.as_str(),
            "active_threats": d.active_threats,
            "threats": d.threats.iter().map(|t| sanitize(t)).collect::<Vec<_>>(),
            "reason": sanitize(&d.reason),
            "policies": ev.policies.iter().map(|p| {
                let compliant = d.level.rank() <= p.max_level.rank();
                json!({"name": p.name, "compliant": compliant, "blocked_by": if compliant { Vec::new() } else { enforcement_json(p) }})
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "policies": ev.policies.iter().map(|p| json!({
            "name": p.name, "max_level": p.max_level.as_str(), "noncompliant": ev.noncompliant(p), "devices": ev.devices.len(),
            "enforced_by": enforcement_json(p),
        })).collect::<Vec<_>>(),
        "diagnostics": ev.diagnostics,
        "diagnostic_count": ev.diagnostic_count,
    })
}

fn csv_field(s: &str) -> String {
    let s = sanitize(s);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// For spreadsheets: one row per device.
pub fn render_csv(ev: &Evaluation) -> String {
    let mut s = String::from("device_id,level,active_threats,threats");
    for p in &ev.policies {
        s.push(',');
        s.push_str(&csv_field(&p.name));
    }
    s.push_str(",reason\n");
    for (id, d) in &ev.devices {
        let _ = write!(
            s,
            "{},{},{},{}",
            csv_field(id),
            d.level.as_str(),
            d.active_threats,
            csv_field(&d.threats.join("; "))
        );
        for p in &ev.policies {
            s.push_str(if d.level.rank() > p.max_level.rank() { ",noncompliant" } else { ",compliant" });
        }
        s.push(',');
        s.push_str(&csv_field(&d.reason));
        s.push('\n');
    }
    s
}
