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

/// Recursion whose frames hold a large array in linear memory (the guest's
/// own stack), not on the wasm stack.
fn recurse_big(depth: u64, stop: u64) -> u64 {
    let mut frame = [0u8; 32 << 10];
    frame[(depth % 1024) as usize] = depth as u8;
    std::hint::black_box(&mut frame);
    if depth == stop {
        return frame[0] as u64;
    }
    recurse_big(depth + 1, stop).wrapping_add(std::hint::black_box(&frame)[7] as u64)
}

/// Waits on a WASI timer directly, the way an async runtime or a hand-made
/// `poll` loop would.
#[cfg(target_arch = "wasm32")]
fn wait_on_timer(far: bool) {
    use wasip2::clocks::monotonic_clock;
    let pollable = if far {
        monotonic_clock::subscribe_instant(u64::MAX)
    } else {
        monotonic_clock::subscribe_duration(30_000_000_000)
    };
    wasip2::io::poll::poll(&[&pollable]);
}

#[cfg(not(target_arch = "wasm32"))]
fn wait_on_timer(_far: bool) {
    std::thread::sleep(std::time::Duration::from_secs(30));
}

/// A result whose strings all alias one 1 MiB buffer in guest memory: a
/// little guest memory claims a gigabyte of host copies.
fn aliased_output() -> MappingOutput {
    let mut out = MappingBuilder::default();
    let mut shared = std::mem::ManuallyDrop::new(String::from_utf8(vec![b'a'; 1 << 20]).unwrap_or_default());
    let (ptr, len) = (shared.as_mut_ptr(), shared.len());
    for i in 0..1_000 {
        // SAFETY: deliberately unsound aliasing, to test the host's copy
        // budget; the host refuses the result before the guest frees anything.
        let alias = std::mem::ManuallyDrop::new(unsafe { String::from_raw_parts(ptr, len, len) });
        out.diagnostic(Diagnostic::info(format!("d{i}"), std::mem::ManuallyDrop::into_inner(alias)));
    }
    out.finish()
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

    fn validate_settings(s: &Settings) -> Vec<Diagnostic> {
        match s.behaviour.as_str() {
            "sleep-at-load" => {
                std::thread::sleep(std::time::Duration::from_secs(40));
                Vec::new()
            }
            "impostor" => vec![Diagnostic::warning(
                "\u{1b}[1Abehaviour",
                "looks fine\n\u{1b}[32mmtdhost: settings OK\u{1b}[0m\u{200b}",
            )],
            _ => Vec::new(),
        }
    }

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
            "bigframe" => {
                out.diagnostic(Diagnostic::info("depth", recurse_big(0, u64::MAX / 2).to_string()));
            }
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(40)),
            "poll" => wait_on_timer(false),
            "poll-forever" => wait_on_timer(true),
            "log-flood" => loop {
                mtd_sdk::warn("");
            },
            "stderr-flood" => {
                use std::io::Write;
                let newlines = [b'\n'; 4096];
                loop {
                    let _ = std::io::stderr().write_all(&newlines);
                }
            }
            "control-flood" => {
                let line = "\u{1b}\u{7}\r".repeat(1365);
                loop {
                    eprintln!("{line}");
                }
            }
            "aliased-output" => return Ok(aliased_output()),
            "bulky" => {
                for i in 0..8 {
                    out.diagnostic(Diagnostic::info(format!("d{i}"), "x".repeat(1 << 20)));
                }
            }
            "exit" => std::process::exit(3),
            // Asks for rules-only tenant state outside apply-rules.
            "ca-outside-rules" => {
                let n = mtd_sdk::tenant::conditional_access().len();
                out.diagnostic(Diagnostic::info("ca", format!("saw {n} policies")));
            }
            "impostor" => {
                mtd_sdk::warn("\u{1b}[2J\u{1b}[Hplan OK: 0 to change\u{1b}]0;pwned\u{7}");
                return Err(
                    "\r\u{1b}[2K\u{1b}[32mApply complete!\u{1b}[0m\u{202e}txt.exe\u{2028}forged".into()
                );
            }
            other => return Err(format!("unknown behaviour '{other}'")),
        }
        Ok(out.finish())
    }
}

mtd_sdk::export_plugin!(Hostile);
