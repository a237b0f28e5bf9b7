//! The on-disk cache of compiled plugins.
//!
//! Compiling a component with Cranelift costs tens of milliseconds or more;
//! loading the compiled artefact costs well under one. Deserialising an
//! artefact is running native code, so the cache trusts nothing it reads:
//!
//! - The directory must be owned by the current user and writable by no one
//!   else; it is created `0700`, and one that others can write is not used
//!   (every load then compiles, with a warning).
//! - Each artefact is bound to the exact component it was compiled from: it
//!   starts with an HMAC-SHA256 tag over the component's sha256, the engine's
//!   compatibility hash and the compiled bytes, keyed by a random per-cache
//!   key (`cache.key`, `0600`) that only the host writes. An artefact copied
//!   from another entry, edited, or truncated fails the tag check and is
//!   recompiled (with a warning); it never runs.
//! - The bytes that were checked are the bytes deserialised (read once into
//!   memory), so the file cannot change between check and use.
//!
//! A local user who can write the directory as the owner could replace
//! mtdhost itself; the cache does not try to defend against that.

use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::component::Component;
use wasmtime::Engine;

use super::error::RuntimeError;

/// What an artefact file starts with, before its tag.
const MAGIC: &[u8; 8] = b"MTDCWv1\0";
const TAG_LEN: usize = 32;
const KEY_FILE: &str = "cache.key";
const KEY_LEN: usize = 32;

/// Where compiled plugins are kept, if anywhere.
#[derive(Clone)]
pub struct Cache {
    store: Option<Store>,
}

#[derive(Clone)]
struct Store {
    dir: PathBuf,
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Cache").field("dir", &self.dir()).finish()
    }
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a compiled artefact whose tag matched.
    Hit,
    /// Compiled now and stored.
    Stored,
    /// Compiled now; no cache in use.
    Uncached,
}

impl Cache {
    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        Cache { store: None }
    }

    /// A cache in `dir`, created owner-only if missing. A directory that
    /// others can write (or that belongs to someone else) is not used: the
    /// cache is then disabled, with a warning.
    pub fn at(dir: impl Into<PathBuf>) -> Result<Self, RuntimeError> {
        let dir = dir.into();
        let io_err = |source| RuntimeError::CacheDir { path: dir.clone(), source };
        create_private_dir(&dir).map_err(io_err)?;
        if let Err(reason) = check_private(&dir) {
            tracing::warn!(dir = %dir.display(), "not using the plugin cache: {reason}; plugins are compiled on every run");
            return Ok(Cache::disabled());
        }
        let key = load_or_create_key(&dir.join(KEY_FILE)).map_err(io_err)?;
        Ok(Cache { store: Some(Store { dir, key }) })
    }

    /// The default location: `$MTDHOST_CACHE_DIR`, else the user's cache
    /// directory (`~/.cache/mtdhost/components` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("MTDHOST_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        dirs::cache_dir().map(|d| d.join("mtdhost").join("components"))
    }

    /// The directory in use, if the cache is enabled.
    pub fn dir(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.dir.as_path())
    }

    /// Returns the compiled component for `bytes`, from the cache when a
    /// verified artefact exists.
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(store) = &self.store else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Uncached));
        };
        let engine_hash = engine_hash(engine);
        let path = store.dir.join(format!("{sha256}-{engine_hash}.cwasm"));
        match store.read_verified(&path, sha256, &engine_hash) {
            Ok(Some(compiled)) => {
                // SAFETY: these bytes carry a valid tag under this cache's
                // key, so the host wrote them from `Engine::precompile_component`
                // for exactly this component and engine; they were read once
                // and are not re-read. wasmtime also rejects incompatible artefacts.
                match unsafe { Component::deserialize(engine, &compiled) } {
                    Ok(c) => return Ok((c, CacheOutcome::Hit)),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cached plugin unusable; recompiling")
                    }
                }
            }
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(path = %path.display(), "cached plugin refused ({reason}); recompiling")
            }
        }
        let compiled = engine.precompile_component(bytes)?;
        // SAFETY: these bytes were produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        match store.write(&path, sha256, &engine_hash, &compiled) {
            Ok(()) => Ok((component, CacheOutcome::Stored)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write plugin cache; continuing without it");
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }
}

impl Store {
    fn tag(&self, sha256: &str, engine_hash: &str, compiled: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(MAGIC);
        mac.update(sha256.as_bytes());
        mac.update(b"\0");
        mac.update(engine_hash.as_bytes());
        mac.update(b"\0");
        mac.update(compiled);
        mac
    }

    /// The compiled bytes of an entry, if it exists and its tag is right.
    fn read_verified(&self, path: &Path, sha256: &str, engine_hash: &str) -> Result<Option<Vec<u8>>, String> {
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(|e| format!("cannot read it: {e}"))?;
        let Some(rest) = data.strip_prefix(MAGIC.as_slice()) else {
            return Err("not an artefact written by mtdhost".into());
        };
        if rest.len() < TAG_LEN {
            return Err("truncated".into());
        }
        let (tag, compiled) = rest.split_at(TAG_LEN);
        self.tag(sha256, engine_hash, compiled)
            .verify_slice(tag)
            .map_err(|_| "its tag does not match this plugin: swapped, edited or corrupt".to_string())?;
        data.drain(..MAGIC.len() + TAG_LEN);
        Ok(Some(data))
    }

    fn write(&self, path: &Path, sha256: &str, engine_hash: &str, compiled: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let tag = self.tag(sha256, engine_hash, compiled).finalize().into_bytes();
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(&tag)?;
        tmp.write_all(compiled)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The engine settings and mtdhost version an artefact depends on.
fn engine_hash(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    format!("{:016x}", h.finish())
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

/// Why `dir` may not hold code the host will run, if it may not.
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot read its permissions: {e}"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("it belongs to user {}, not to the user running mtdhost ({me})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "others can write to it (mode {:o}); run chmod 700 on it, or choose another --cache-dir",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), String> {
    Ok(())
}

/// Reads the cache key, creating it (atomically, owner-only) if missing
/// and replacing it if unusable (entries tagged with the old key are then
/// recompiled).
fn load_or_create_key(path: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    let replace = match read_key(path) {
        Ok(Some(key)) => return Ok(key),
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "replacing an unusable plugin cache key");
            true
        }
    };
    let mut key = [0u8; KEY_LEN];
    rand::Rng::fill(&mut rand::rng(), &mut key);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &key)?;
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
        return Ok(key);
    }
    // Another mtdhost may have created the key meanwhile: theirs wins, so
    // both processes tag with the same key.
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(key),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path)?.ok_or_else(|| std::io::Error::other("the cache key vanished"))
        }
        Err(e) => Err(e.error),
    }
}

fn read_key(path: &Path) -> std::io::Result<Option<[u8; KEY_LEN]>> {
    match std::fs::read(path) {
        Ok(bytes) => bytes
            .try_into()
            .map(Some)
            .map_err(|_| std::io::Error::other("the cache key has the wrong length")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
