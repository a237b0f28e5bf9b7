//! A plugin that misbehaves in the way its settings ask, so the host's
//! sandbox can be tested against each kind of hostile or buggy guest.
use mtd_sdk::prelude::*;

pub struct Hostile;

#[derive(Default, serde::Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub behaviour: String,
}

/// Recursion that lives on the wasm stack (no address-taken locals), with a
/// stop condition the compiler cannot see through.
fn recurse(depth: u64, stop: u64) -> u64 {
    if depth == stop {
        return depth;
    }
    recurse(depth + 1, stop).rotate_left(3) ^ depth
}

fn snoop() -> Vec<Diagnostic> {
    let file = match std::fs::read_to_string("/etc/passwd") {
        Ok(text) => format!("read {} bytes", text.len()),
        Err(e) => format!("error: {e}"),
    };
    let env = match std::env::var("HOME") {
        Ok(v) => format!("HOME={v}"),
        Err(e) => format!("error: {e}"),
    };
    let vars = std::env::vars().count();
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs().to_string())
        .unwrap_or_else(|e| format!("error: {e}"));
    let dir = match std::fs::read_dir("/") {
        Ok(entries) => format!("{} entries", entries.count()),
        Err(e) => format!("error: {e}"),
    };
    vec![
        Diagnostic::info("file", file),
        Diagnostic::info("env", env),
        Diagnostic::info("env-count", vars.to_string()),
        Diagnostic::info("clock", clock),
        Diagnostic::info("dir", dir),
    ]
}

impl Plugin for Hostile {
    type Settings = Settings;

    fn info() -> PluginInfo {
        PluginInfo::new("hostile", "6.6.6", "Misbehaves on request")
            .with_capability(Capability::ThreatMapping)
    }

    fn translate_severity(s: &Settings, term: &str) -> Result<ThreatLevel, String> {
        match s.behaviour.as_str() {
            "panic" => panic!("cannot translate {term}"),
            "spin" => loop {
                std::hint::black_box(term.len());
            },
            _ => Err(format!("'{term}' is unknown")),
        }
    }

    fn map_events(s: &Settings, _batch: EventBatch) -> Result<MappingOutput, String> {
        let mut out = MappingBuilder::default();
        match s.behaviour.as_str() {
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "membomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => {
                out.diagnostic(Diagnostic::info(
                    "depth",
                    recurse(0, s.behaviour.len() as u64 + u64::MAX / 2).to_string(),
                ));
            }
            "panic" => panic!("the partner feed had 42 columns"),
            "flood" => {
                for i in 0..200_000 {
                    out.diagnostic(Diagnostic::info(format!("d{i}"), "x".repeat(200)));
                }
            }
            "chatty" => {
                for i in 0..20_000 {
                    mtd_sdk::info(&format!("log line {i} \u{1b}[31mred\u{1b}[0m"));
                    eprintln!("stderr line {i}\r");
                }
            }
            "snoop" => snoop().into_iter().for_each(|d| out.diagnostic(d)),
            other => return Err(format!("unknown behaviour '{other}'")),
        }
        Ok(out.finish())
    }
}

mtd_sdk::export_plugin!(Hostile);
