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
    let files: Vec<_> = std::fs::read_dir(&cache_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
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
