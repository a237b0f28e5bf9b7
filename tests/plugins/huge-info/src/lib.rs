//! A plugin whose `info()` returns a 20 MiB name: the host must refuse it
//! without copying it whole, and never print it.
use mtd_sdk::prelude::*;

pub struct HugeInfo;

impl Plugin for HugeInfo {
    type Settings = ();

    fn info() -> PluginInfo {
        PluginInfo::new(&"n".repeat(20 << 20), "1.0.0", "An enormous name")
            .with_capability(Capability::ThreatMapping)
    }
}

mtd_sdk::export_plugin!(HugeInfo);
