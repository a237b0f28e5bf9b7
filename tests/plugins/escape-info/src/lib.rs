//! A plugin whose name, version, partner and description try to drive the
//! terminal (clear the screen, retitle the window, reorder text) and whose
//! mapping fails with a forged message.
use mtd_sdk::prelude::*;

pub struct EscapeInfo;

impl Plugin for EscapeInfo {
    type Settings = ();

    fn info() -> PluginInfo {
        PluginInfo::new(
            "esc\u{1b}[2J\u{1b}]0;pwned\u{7}ape",
            "1.0\u{202e}0.9\u{200b}",
            "Says \u{1b}[31mnothing\u{1b}[0m\r\nmtdhost: all plugins verified",
        )
        .with_partner("\u{9b}31mPartner\u{2066}")
        .with_capability(Capability::ThreatMapping)
    }

    fn map_events(_: &(), _batch: EventBatch) -> Result<MappingOutput, String> {
        Err("\"quoted\" \\ and \u{1b}[1mbold\u{1b}[0m".into())
    }
}

mtd_sdk::export_plugin!(EscapeInfo);
