//! Plugins compiled into the mtdhost binary (built from `plugins/` by the
//! host's build script), addressable as `builtin:NAME`.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The bytes of a builtin plugin.
pub fn get(name: &str) -> Option<&'static [u8]> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Names of all builtin plugins.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}
