//! Per-plugin resource limits and the limiter that enforces them.
//!
//! Defaults suit mapping a few hundred thousand events per call; an admin can
//! raise or lower each one per plugin in the config (`[plugins.NAME.limits]`).

use serde::{Deserialize, Serialize};

/// How much larger than its wire size a result may be once copied into the
/// host (see [`Limits::hostcall_fuel`]).
pub(crate) const HOST_EXPANSION: usize = 4;
/// Smallest wasm stack a plugin may be given, in KiB.
pub(crate) const MIN_STACK_KIB: u64 = 64;
/// Largest wasm stack, in KiB: plugins run on the calling thread's native
/// stack (2 MiB for Rust threads by default), and wasmtime needs headroom
/// for its own frames and for host calls.
pub(crate) const MAX_STACK_KIB: u64 = 1_024;

/// Limits applied to every call into one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Limits {
    /// Wall-clock deadline for one call, in milliseconds.
    pub deadline_ms: u64,
    /// Linear memory cap, in MiB (all memories of the instance together).
    pub memory_mib: u64,
    /// WebAssembly stack cap, in KiB.
    pub stack_kib: u64,
    /// Maximum table elements (function references) per table.
    pub table_elements: u64,
    /// Maximum number of instances, tables and memories per plugin instance.
    pub instances: u64,
    /// Cap on the data a call returns, in MiB.
    pub output_mib: u64,
    /// Cap on log and stdout/stderr text kept per call, in KiB.
    pub log_kib: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 2_000,
            memory_mib: 64,
            stack_kib: 512,
            table_elements: 20_000,
            instances: 32,
            output_mib: 16,
            log_kib: 64,
        }
    }
}

impl Limits {
    /// The call deadline.
    pub fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.deadline_ms)
    }
    /// Memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }
    /// Output cap in bytes.
    pub fn output_bytes(&self) -> usize {
        usize::try_from(self.output_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }
    /// Log cap in bytes.
    pub fn log_bytes(&self) -> usize {
        usize::try_from(self.log_kib.saturating_mul(1 << 10)).unwrap_or(usize::MAX)
    }
    /// wasmtime's hostcall budget: how many bytes the host may allocate
    /// while copying one result (or one `host.log` message) out of the
    /// guest. The host's representation of a result is larger than its wire
    /// size (string headers, enum tags), so the budget allows
    /// `HOST_EXPANSION` times the output cap; the exact cap is checked on
    /// the copied value.
    pub fn hostcall_fuel(&self) -> usize {
        self.output_bytes().saturating_mul(HOST_EXPANSION)
    }
    /// Stack cap in bytes.
    pub fn stack_bytes(&self) -> usize {
        usize::try_from(self.stack_kib.saturating_mul(1 << 10)).unwrap_or(usize::MAX)
    }

    /// Rejects limits that cannot work, naming the field and its range.
    pub fn check(&self) -> Result<(), String> {
        let checks: [(&str, u64, u64, u64); 7] = [
            ("deadline_ms", self.deadline_ms, 1, 600_000),
            ("memory_mib", self.memory_mib, 1, 4_096),
            ("stack_kib", self.stack_kib, MIN_STACK_KIB, MAX_STACK_KIB),
            ("table_elements", self.table_elements, 1, 10_000_000),
            ("instances", self.instances, 1, 1_000),
            ("output_mib", self.output_mib, 1, 1_024),
            ("log_kib", self.log_kib, 1, 65_536),
        ];
        for (name, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                let why = if name == "stack_kib" {
                    "; the wasm stack runs on the host thread's own stack, which bounds it"
                } else {
                    ""
                };
                return Err(format!(
                    "{} = {value} is out of range: allowed {min} to {max}{why}",
                    name.replace('_', "-")
                ));
            }
        }
        Ok(())
    }
}

/// Which limit a plugin ran into, kept so the error can say it plainly
/// (a Rust guest that runs out of memory otherwise only shows `unreachable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitHit {
    Memory { desired: usize },
    Table { desired: usize },
}

/// Enforces [`Limits`] on one store.
pub(crate) struct Limiter {
    memory_cap: usize,
    memory_used: usize,
    table_cap: usize,
    instances: usize,
    pub hit: Option<LimitHit>,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_cap: limits.memory_bytes(),
            memory_used: 0,
            table_cap: usize::try_from(limits.table_elements).unwrap_or(usize::MAX),
            instances: usize::try_from(limits.instances).unwrap_or(usize::MAX),
            hit: None,
        }
    }
}

/// Trap payload when a plugin exceeds its memory cap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit reached")]
pub(crate) struct MemoryLimitTrap;

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_used.saturating_sub(current).saturating_add(desired);
        if total > self.memory_cap {
            self.hit = Some(LimitHit::Memory { desired: total });
            // Trap right away: a guest allocator would otherwise turn the
            // refusal into an anonymous `unreachable`.
            return Err(MemoryLimitTrap.into());
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_cap {
            self.hit = Some(LimitHit::Table { desired });
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }
    fn tables(&self) -> usize {
        self.instances
    }
    fn memories(&self) -> usize {
        self.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn memory_is_counted_across_grows() {
        let mut l = Limiter::new(&Limits { memory_mib: 1, ..Limits::default() });
        assert!(l.memory_growing(0, 512 << 10, None).unwrap());
        assert!(l.memory_growing(512 << 10, 1 << 20, None).unwrap());
        assert!(l.memory_growing(1 << 20, 2 << 20, None).is_err());
        assert_eq!(l.hit, Some(LimitHit::Memory { desired: 2 << 20 }));
    }

    #[test]
    fn out_of_range_limits_are_named() {
        let bad = Limits { memory_mib: 0, ..Limits::default() };
        assert!(bad.check().unwrap_err().contains("memory-mib"));
        let deep = Limits { stack_kib: 4_096, ..Limits::default() };
        assert_eq!(
            deep.check().unwrap_err(),
            "stack-kib = 4096 is out of range: allowed 64 to 1024; the wasm stack runs on the host \
             thread's own stack, which bounds it"
        );
        assert!(Limits::default().check().is_ok());
    }
}
