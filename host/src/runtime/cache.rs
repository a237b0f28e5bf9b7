//! The on-disk cache of compiled plugins.
//!
//! Compiling a component with Cranelift costs tens of milliseconds or more;
//! loading the compiled artefact costs well under one. Artefacts are keyed by
//! the plugin's sha256 and the engine's compatibility hash, written only by the
//! host (atomically, owner-only permissions), and deserialised only from this
//! directory, because deserialising is trusted native code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::Engine;

use super::error::RuntimeError;

/// Where compiled plugins are kept, if anywhere.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a compiled artefact.
    Hit,
    /// Compiled now and stored.
    Stored,
    /// Compiled now; no cache in use.
    Uncached,
}

impl Cache {
    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        Cache { dir: None }
    }

    /// A cache in `dir`, created owner-only if missing.
    pub fn at(dir: impl Into<PathBuf>) -> Result<Self, RuntimeError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|source| RuntimeError::CacheDir { path: dir.clone(), source })?;
        Ok(Cache { dir: Some(dir) })
    }

    /// The default location: `$MTDHOST_CACHE_DIR`, else the user's cache
    /// directory (`~/.cache/mtdhost/components` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("MTDHOST_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        dirs::cache_dir().map(|d| d.join("mtdhost").join("components"))
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn path_for(&self, engine: &Engine, sha256: &str) -> Option<PathBuf> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        Some(self.dir.as_ref()?.join(format!("{sha256}-{:016x}.cwasm", h.finish())))
    }

    /// Returns the compiled component for `bytes`, from the cache when possible.
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(path) = self.path_for(engine, sha256) else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Uncached));
        };
        if path.exists() {
            // SAFETY: the file is in the host's private cache directory and was
            // written by `store` below from `Engine::precompile_component`;
            // wasmtime also rejects artefacts from an incompatible engine.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, CacheOutcome::Hit)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached plugin; recompiling")
                }
            }
        }
        let compiled = engine.precompile_component(bytes)?;
        // SAFETY: these bytes were produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        match store(&path, &compiled) {
            Ok(()) => Ok((component, CacheOutcome::Stored)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write plugin cache; continuing without it");
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }
}

fn store(path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(compiled)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
