//! A tenant at scale, for the scale benchmark and the request-count test:
//! the demo tenant plus a pool of groups (names with `&`, `'` and non-ASCII
//! among them) and assignment filters, and a config of N policies over it —
//! mixed platforms (beta-only device owner included), every threat level,
//! one to three included groups, some exclusions and some filtered
//! assignments. Applying the config fills the tenant; the tenant holds no
//! policies of its own, so what a run reads is exactly what mtdhost wrote.

use std::fmt::Write as _;

use serde_json::json;

use super::tenant::Tenant;

/// The groups policies are assigned to.
pub const SCALE_GROUPS: [&str; 12] = [
    "Scale – Sales EMEA",
    "Scale – Sales Americas",
    "Scale – R&D 'North'",
    "Scale – R&D South",
    "Scale – Field Engineers",
    "Scale – Finance",
    "Scale – Legal & Compliance",
    "Scale – Contractors (Zürich)",
    "Scale – Executives' Assistants",
    "Scale – Support Tier 1",
    "Scale – Support Tier 2",
    "Scale – Warehouse",
];

/// Filters: (name, platform), one per policy platform that uses them.
const SCALE_FILTERS: [(&str, &str); 3] = [
    ("Scale – Corporate iOS", "iOS"),
    ("Scale – Corporate Windows", "windows10AndLater"),
    ("Scale – Corporate macOS", "macOS"),
];

/// Policy platforms in rotation, with the filter each may use.
const PLATFORMS: [(&str, Option<usize>); 5] = [
    ("ios", Some(0)),
    ("android-work-profile", None),
    ("windows", Some(1)),
    ("macos", Some(2)),
    ("android-device-owner", None),
];

const LEVELS: [&str; 4] = ["secured", "low", "medium", "high"];

impl Tenant {
    /// The demo tenant with the scale benchmark's groups and filters.
    pub fn scale() -> Self {
        let mut t = Tenant::demo();
        for (i, name) in SCALE_GROUPS.iter().enumerate() {
            t.groups.push(json!({"id": format!("5ca1e000-0000-4000-8000-{:012x}", i + 1),
                "displayName": name, "securityEnabled": true, "mailEnabled": false}));
        }
        for (i, (name, platform)) in SCALE_FILTERS.iter().enumerate() {
            t.assignment_filters.push(json!({"id": format!("5ca1ef00-0000-4000-8000-{:012x}", i + 1),
                "displayName": name, "description": null, "platform": platform,
                "rule": "(device.deviceOwnership -eq \"Corporate\")",
                "assignmentFilterManagementType": "devices", "roleScopeTags": ["0"]}));
        }
        t
    }
}

/// `n` `[[policy]]` entries over [`Tenant::scale`]'s groups and filters
/// (TOML, to follow a `[tenant]` table).
pub fn scale_policies(n: usize) -> String {
    let mut out = String::new();
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    for i in 0..n {
        let (platform, filter) = PLATFORMS[i % PLATFORMS.len()];
        let level = LEVELS[(i / PLATFORMS.len()) % LEVELS.len()];
        let grace = (i % 3) * 12;
        let _ = writeln!(out, "[[policy]]");
        let _ = writeln!(out, "name = \"Scale {i:05}\"");
        let _ = writeln!(out, "platforms = [\"{platform}\"]\nplatform-suffix = false");
        let _ = writeln!(out, "max-threat-level = \"{level}\"");
        if matches!(platform, "windows" | "android-device-owner") {
            // Their partner threat level exists on beta only.
            let _ = writeln!(out, "api = \"beta\"");
        }
        let _ = writeln!(out, "actions = [{{ type = \"block\", grace-period-hours = {grace} }}]");
        let _ = writeln!(out, "[policy.assignments]");
        let picks = 1 + i % 3;
        let mut include = Vec::new();
        for k in 0..picks {
            let g = quote(SCALE_GROUPS[(i + k * 5) % SCALE_GROUPS.len()]);
            match filter {
                Some(f) if k == 0 && i % 4 == 0 => include.push(format!(
                    "{{ group = {g}, filter = {}, filter-mode = \"include\" }}",
                    quote(SCALE_FILTERS[f].0)
                )),
                _ => include.push(g),
            }
        }
        let _ = writeln!(out, "include = [{}]", include.join(", "));
        if i % 7 == 0 {
            let _ = writeln!(out, "exclude = [\"Break Glass Admins\"]");
        }
        out.push('\n');
    }
    out
}

/// `config` (text holding [`scale_policies`]) with policy "Scale 00007"
/// raised from level `low` to `high`: the one-change scenario.
pub fn raise_policy_7(config: &str) -> Option<String> {
    let at = config.find("name = \"Scale 00007\"")?;
    let from = "max-threat-level = \"low\"";
    let level = at + config[at..].find(from)?;
    Some(format!("{}max-threat-level = \"high\"{}", &config[..level], &config[level + from.len()..]))
}
