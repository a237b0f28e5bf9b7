//! Looking at a plugin file before running it: is it WebAssembly at all, a
//! component or a core module, and which contract does it speak?
//!
//! Checking the component's import and export names before instantiation is
//! what turns wasmtime's linker errors into "built for mtd:plugin 2.0.0; this
//! host supports mtd:plugin 0.2.0 to 0.2.1".

use wasmtime::component::Component;
use wasmtime::Engine;

use super::bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use super::error::LoadError;

const MAGIC: &[u8; 4] = b"\0asm";

/// Checks the header: a component passes, anything else is a precise error.
pub(crate) fn check_header(label: &str, bytes: &[u8]) -> Result<(), LoadError> {
    let label = label.to_string();
    if bytes.is_empty() {
        return Err(LoadError::Empty { label });
    }
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(LoadError::NotWasm { label });
    }
    // Bytes 6..8 are the layer: 0 for core modules, 1 for components.
    match u16::from_le_bytes([bytes[6], bytes[7]]) {
        0 => Err(LoadError::CoreModule { label }),
        1 => Ok(()),
        other => Err(LoadError::Invalid { label, reason: format!("unknown WebAssembly layer {other}") }),
    }
}

/// A WIT interface name split into its parts: `mtd:plugin/guest@0.1.0`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InterfaceName<'a> {
    pub package: &'a str,
    pub interface: &'a str,
    pub version: Option<&'a str>,
}

impl<'a> InterfaceName<'a> {
    pub(crate) fn parse(name: &'a str) -> Option<Self> {
        let (package, rest) = name.split_once('/')?;
        let (interface, version) = match rest.split_once('@') {
            Some((i, v)) => (i, Some(v)),
            None => (rest, None),
        };
        Some(InterfaceName { package, interface, version })
    }
}

/// True if a guest built for `version` can run on this host (semver: same
/// major, and for 0.x the same minor; a later patch may import what this host
/// does not have, so only patches up to ours).
pub(crate) fn compatible(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.split(['.', '-', '+']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (parse(version), parse(CONTRACT_VERSION)) {
        (Some((0, minor, patch)), Some((0, our_minor, our_patch))) => {
            minor == our_minor && patch <= our_patch
        }
        (Some((major, minor, patch)), Some((ours, our_minor, our_patch))) => {
            major == ours && (minor, patch) <= (our_minor, our_patch)
        }
        _ => false,
    }
}

/// The supported contract versions, as shown in errors:
/// `mtd:plugin 0.2.0 to 0.2.1`.
pub fn supported_line() -> String {
    let mut parts = CONTRACT_VERSION.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    let first = if major == "0" { format!("0.{minor}.0") } else { format!("{major}.0.0") };
    if first == CONTRACT_VERSION {
        format!("{CONTRACT_PACKAGE} {CONTRACT_VERSION}")
    } else {
        format!("{CONTRACT_PACKAGE} {first} to {CONTRACT_VERSION}")
    }
}

/// Checks a compiled component's exports and imports against the contract
/// and returns the contract version it exports.
pub(crate) fn check_contract(
    label: &str,
    engine: &Engine,
    component: &Component,
) -> Result<String, LoadError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    let ours: Vec<InterfaceName<'_>> = exports
        .iter()
        .filter_map(|e| InterfaceName::parse(e))
        .filter(|n| n.package == CONTRACT_PACKAGE)
        .collect();
    let Some(guest) = ours.iter().find(|n| n.interface == "guest").or(ours.first()) else {
        return Err(LoadError::NotAPlugin {
            label: label.to_string(),
            exports: if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") },
            expected: format!("{CONTRACT_PACKAGE}/guest@{CONTRACT_VERSION}"),
        });
    };
    let version = guest.version.unwrap_or("(unversioned)").to_string();
    if !compatible(&version) {
        return Err(LoadError::IncompatibleContract {
            label: label.to_string(),
            found: format!("{CONTRACT_PACKAGE} {version}"),
            supported: supported_line(),
        });
    }
    for (name, _) in ty.imports(engine) {
        let unsupported = |why: &str| LoadError::UnsupportedImport {
            label: label.to_string(),
            import: name.to_string(),
            why: why.to_string(),
        };
        match InterfaceName::parse(name) {
            Some(n) if n.package == CONTRACT_PACKAGE => {
                if !matches!(n.interface, "host" | "tenant" | "types") {
                    return Err(unsupported("not part of the contract"));
                }
                if !n.version.is_some_and(compatible) {
                    return Err(unsupported(&format!("this host supports {}", supported_line())));
                }
            }
            Some(n) if n.package.starts_with("wasi:") => {
                if !n.version.is_some_and(|v| v.starts_with("0.2.")) {
                    return Err(unsupported("only WASI 0.2 is linked, with no capabilities granted"));
                }
            }
            _ => {
                return Err(unsupported(
                    "plugins may import only mtd:plugin/host, mtd:plugin/tenant and WASI 0.2",
                ))
            }
        }
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(matches!(check_header("x", b""), Err(LoadError::Empty { .. })));
        assert!(matches!(check_header("x", b"hello world"), Err(LoadError::NotWasm { .. })));
        assert!(matches!(check_header("x", b"\0asm\x01\0\0\0"), Err(LoadError::CoreModule { .. })));
        assert!(check_header("x", b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn versions() {
        assert!(compatible("0.2.0"), "0.2.1 only added an import: 0.2.0 plugins still run");
        assert!(compatible("0.2.1"));
        assert!(!compatible("0.2.7"), "a later patch may import what this host lacks");
        assert!(!compatible("0.1.0"), "0.1 verdicts lack observations: refused, not misread");
        assert!(!compatible("0.3.0"));
        assert!(!compatible("2.0.0"));
        assert!(!compatible("junk"));
        assert_eq!(supported_line(), "mtd:plugin 0.2.0 to 0.2.1");
        let n = InterfaceName::parse("mtd:plugin/guest@0.1.0").unwrap();
        assert_eq!((n.package, n.interface, n.version), ("mtd:plugin", "guest", Some("0.1.0")));
    }
}
