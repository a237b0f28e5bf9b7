//! Plugin integrity: sha256 pins and minisign (ed25519) signatures.
//!
//! Both fail closed: a mismatch or a bad signature refuses the load.

use sha2::{Digest, Sha256};

use super::error::LoadError;

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `bytes` against a pinned sha256 (hex, case-insensitive, an optional
/// `sha256:` prefix allowed).
pub(crate) fn check_pin(label: &str, actual: &str, pin: &str) -> Result<(), LoadError> {
    let expected = pin.trim().trim_start_matches("sha256:").to_ascii_lowercase();
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LoadError::BadDigest { label: label.to_string(), pin: pin.to_string() });
    }
    if expected != actual {
        return Err(LoadError::DigestMismatch {
            label: label.to_string(),
            expected,
            actual: actual.to_string(),
        });
    }
    Ok(())
}

/// A signature requirement: the minisign signature text and the public keys
/// (minisign base64 form, `RW…`) any one of which must have made it.
#[derive(Debug, Clone)]
pub struct SignatureRequirement {
    /// Where the signature came from, for messages.
    pub signature_label: String,
    /// The minisign signature, as the text of a `.minisig` file.
    pub signature: String,
    /// Public keys trusted to sign the plugin, as bare base64 keys or whole `.pub` file texts.
    pub trusted_keys: Vec<String>,
}

/// Verifies `bytes` against the requirement; returns the trusted key that signed.
pub(crate) fn check_signature(
    label: &str,
    bytes: &[u8],
    req: &SignatureRequirement,
) -> Result<String, LoadError> {
    let fail = |reason: String| LoadError::Signature { label: label.to_string(), reason };
    if req.trusted_keys.is_empty() {
        return Err(fail("a signature is required but no trusted public keys are listed".into()));
    }
    let signature = minisign_verify::Signature::decode(&req.signature)
        .map_err(|e| fail(format!("{} is not a minisign signature: {e}", req.signature_label)))?;
    for key in &req.trusted_keys {
        let pk = decode_key(key)
            .map_err(|e| fail(format!("trusted key {key:?} is not a minisign public key: {e}")))?;
        if pk.verify(bytes, &signature, false).is_ok() {
            return Ok(key.clone());
        }
    }
    Err(fail(format!(
        "{} was not made by any of the {} trusted key(s) for this file",
        req.signature_label,
        req.trusted_keys.len()
    )))
}

/// Checks that `text` is a minisign public key, without verifying anything.
pub fn check_public_key(text: &str) -> Result<(), String> {
    decode_key(text).map(|_| ()).map_err(|e| e.to_string())
}

/// Accepts either the bare base64 key or a whole `.pub` file's text.
fn decode_key(text: &str) -> Result<minisign_verify::PublicKey, minisign_verify::Error> {
    let trimmed = text.trim();
    if trimmed.contains('\n') {
        minisign_verify::PublicKey::decode(trimmed)
    } else {
        minisign_verify::PublicKey::from_base64(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        let d = sha256_hex(b"abc");
        assert_eq!(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(check_pin("p", &d, &d.to_uppercase()).is_ok());
        assert!(check_pin("p", &d, &format!("sha256:{d}")).is_ok());
        assert!(matches!(check_pin("p", &d, &"0".repeat(64)), Err(LoadError::DigestMismatch { .. })));
        assert!(matches!(check_pin("p", &d, "abc"), Err(LoadError::BadDigest { .. })));
    }
}
