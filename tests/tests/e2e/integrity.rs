//! Integrity and caching: sha256 pins and minisign signatures fail closed;
//! compiled artefacts are cached by digest and reused.

use std::io::Cursor;

use mtd_e2e::{runtime, source};
use mtdhost::runtime::{
    sha256_hex, Cache, CacheOutcome, LoadError, LoadOptions, Runtime, SignatureRequirement,
};

const PLUGIN: &str = "mtd-plugin-example";

#[test]
fn sha256_pin_must_match() {
    let rt = runtime();
    let src = source(PLUGIN);
    let good = sha256_hex(&src.bytes);
    let ok = rt.load(&src, &LoadOptions { sha256: Some(good.clone()), ..LoadOptions::default() });
    assert!(ok.is_ok(), "{:?}", ok.err());

    let wrong = "0".repeat(64);
    let err =
        rt.load(&src, &LoadOptions { sha256: Some(wrong.clone()), ..LoadOptions::default() }).unwrap_err();
    assert!(matches!(err, LoadError::DigestMismatch { .. }));
    assert!(err
        .to_string()
        .contains(&format!("has sha256 {good}, but the config pins {wrong}; refusing to load it")));

    let err = rt
        .load(&src, &LoadOptions { sha256: Some("not-a-digest".into()), ..LoadOptions::default() })
        .unwrap_err();
    assert!(matches!(err, LoadError::BadDigest { .. }));
}

fn sign(bytes: &[u8]) -> (String, String) {
    let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let sig = minisign::sign(Some(&kp.pk), &kp.sk, Cursor::new(bytes), Some("mtdhost test"), None).unwrap();
    (kp.pk.to_base64(), sig.to_string())
}

#[test]
fn signature_from_a_trusted_key_is_required() {
    let rt = runtime();
    let src = source(PLUGIN);
    let (key, signature) = sign(&src.bytes);
    let (other_key, _) = sign(b"something else");
    let req = |keys: Vec<String>, signature: &str| LoadOptions {
        signature: Some(SignatureRequirement {
            signature_label: "example.wasm.minisig".into(),
            signature: signature.to_string(),
            trusted_keys: keys,
        }),
        ..LoadOptions::default()
    };

    assert!(rt.load(&src, &req(vec![other_key.clone(), key.clone()], &signature)).is_ok());

    let err = rt.load(&src, &req(vec![other_key], &signature)).unwrap_err();
    assert!(matches!(err, LoadError::Signature { .. }));
    assert!(err.to_string().contains("was not made by any of the 1 trusted key(s)"), "{err}");

    // A signature over different bytes (a tampered plugin) fails too.
    let (_, sig_of_other) = sign(b"tampered");
    let err = rt.load(&src, &req(vec![key.clone()], &sig_of_other)).unwrap_err();
    assert!(matches!(err, LoadError::Signature { .. }), "{err}");

    let err = rt.load(&src, &req(vec![key.clone()], "garbage")).unwrap_err();
    assert!(err.to_string().contains("is not a minisign signature"), "{err}");

    let err = rt.load(&src, &req(Vec::new(), &signature)).unwrap_err();
    assert!(err.to_string().contains("no trusted public keys"), "{err}");
}

#[test]
fn compiled_plugins_are_cached_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let src = source(PLUGIN);
    let opts = LoadOptions::default();

    let rt = Runtime::new(Cache::at(&cache_dir).unwrap());
    assert_eq!(rt.precompile(&src, &opts).unwrap(), CacheOutcome::Stored);
    assert_eq!(rt.precompile(&src, &opts).unwrap(), CacheOutcome::Hit);
    let files = artefacts(&cache_dir);
    assert_eq!(files.len(), 1);
    assert!(files[0].to_string_lossy().starts_with(&sha256_hex(&src.bytes)));

    // A new runtime (a new process) reuses the artefact, and it works.
    let rt2 = Runtime::new(Cache::at(&cache_dir).unwrap());
    assert_eq!(rt2.precompile(&src, &opts).unwrap(), CacheOutcome::Hit);
    assert!(rt2.load(&src, &opts).is_ok());

    // A corrupted artefact is ignored and replaced, never trusted.
    let path = cache_dir.join(&files[0]);
    std::fs::write(&path, b"not a compiled component").unwrap();
    let rt3 = Runtime::new(Cache::at(&cache_dir).unwrap());
    assert_eq!(rt3.precompile(&src, &opts).unwrap(), CacheOutcome::Stored);
    assert!(rt3.load(&src, &opts).is_ok());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache directory is private to its owner");
    }
}

/// The compiled artefacts in a cache directory (the key file aside).
fn artefacts(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".cwasm"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_swapped_or_tampered_cache_artefact_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let example = source(PLUGIN);
    let other = source("mtd-plugin-checkpoint");
    let rt = Runtime::new(Cache::at(&cache_dir).unwrap());
    rt.precompile(&example, &LoadOptions::default()).unwrap();
    rt.precompile(&other, &LoadOptions::default()).unwrap();
    let name = |src: &mtdhost::runtime::PluginSource| {
        let digest = sha256_hex(&src.bytes);
        cache_dir.join(
            artefacts(&cache_dir).into_iter().find(|f| f.to_string_lossy().starts_with(&digest)).unwrap(),
        )
    };
    let (example_path, other_path) = (name(&example), name(&other));

    // A valid artefact of another plugin copied over example's: refused,
    // recompiled from example's own bytes, and example is what runs, under
    // example's pin.
    std::fs::copy(&other_path, &example_path).unwrap();
    let pinned = LoadOptions { sha256: Some(sha256_hex(&example.bytes)), ..LoadOptions::default() };
    let rt2 = Runtime::new(Cache::at(&cache_dir).unwrap());
    assert_eq!(rt2.precompile(&example, &pinned).unwrap(), CacheOutcome::Stored);
    std::fs::copy(&other_path, &example_path).unwrap();
    let loaded = rt2.load(&example, &pinned).unwrap();
    assert_eq!(loaded.info().name, "example");
    assert_eq!(rt2.precompile(&example, &pinned).unwrap(), CacheOutcome::Hit);

    // One flipped byte in the compiled code, or a truncated file: refused too.
    let mut bytes = std::fs::read(&example_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&example_path, &bytes).unwrap();
    assert_eq!(rt2.precompile(&example, &pinned).unwrap(), CacheOutcome::Stored);
    let bytes = std::fs::read(&example_path).unwrap();
    std::fs::write(&example_path, &bytes[..20]).unwrap();
    assert_eq!(rt2.precompile(&example, &pinned).unwrap(), CacheOutcome::Stored);

    // A cache whose key was replaced (another cache's artefacts copied in)
    // trusts none of the old entries.
    std::fs::remove_file(cache_dir.join("cache.key")).unwrap();
    let rt3 = Runtime::new(Cache::at(&cache_dir).unwrap());
    assert_eq!(rt3.precompile(&other, &LoadOptions::default()).unwrap(), CacheOutcome::Stored);
}

#[cfg(unix)]
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("shared-cache");
    std::fs::create_dir(&cache_dir).unwrap();
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cache = Cache::at(&cache_dir).unwrap();
    assert!(cache.dir().is_none(), "a world-writable cache must not be used");
    let rt = Runtime::new(cache);
    assert_eq!(rt.precompile(&source(PLUGIN), &LoadOptions::default()).unwrap(), CacheOutcome::Uncached);
    assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 0, "nothing written there");

    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    assert!(Cache::at(&cache_dir).unwrap().dir().is_none(), "group-writable is refused too");
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(Cache::at(&cache_dir).unwrap().dir().is_some());
    let key = cache_dir.join("cache.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the key is private");
}

#[test]
fn settings_are_validated_at_load() {
    let rt = runtime();
    let opts = LoadOptions {
        settings_json: r#"{"overrides":{"TROJAN":"severe"}}"#.into(),
        ..LoadOptions::default()
    };
    let p = rt.load(&source(PLUGIN), &opts).unwrap();
    let diags = p.settings_diagnostics();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].path, "overrides.TROJAN");
    assert!(mtdhost::runtime::ensure_valid_settings(&p).unwrap_err().contains("overrides.TROJAN"));

    let opts = LoadOptions { settings_json: r#"{"overides":{}}"#.into(), ..LoadOptions::default() };
    let p = rt.load(&source(PLUGIN), &opts).unwrap();
    assert!(
        p.settings_diagnostics()[0].message.contains("unknown field `overides`"),
        "{:?}",
        p.settings_diagnostics()
    );
}
