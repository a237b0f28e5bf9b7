//! Certificate credentials: a JWT client assertion signed with the app's
//! private key (PS256), identified by the certificate's SHA-256 thumbprint
//! (`x5t#S256`), as the Microsoft identity platform documents.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// A certificate and its private key.
pub struct CertificateCredential {
    key: EncodingKey,
    thumbprint_s256: String,
}

/// Why a certificate credential could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is unreadable.
    #[error("the certificate is not a PEM CERTIFICATE block: {0}")]
    Certificate(String),
    /// The private key is unreadable.
    #[error("the private key is not an RSA private key in PEM (PKCS#1 or PKCS#8): {0}")]
    Key(String),
    /// Signing failed.
    #[error("cannot sign the client assertion: {0}")]
    Sign(String),
}

impl CertificateCredential {
    /// From PEM text of the certificate and of its RSA private key.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, CertificateError> {
        let der = certificate_der(cert_pem)?;
        let key = EncodingKey::from_rsa_pem(key_pem.as_bytes())
            .map_err(|e| CertificateError::Key(e.to_string()))?;
        Ok(CertificateCredential { key, thumbprint_s256: thumbprint_s256(&der) })
    }

    /// A fresh assertion for `client_id` at the token URL `audience`, valid 10 minutes.
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<SecretString, CertificateError> {
        let now = chrono::Utc::now().timestamp();
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.thumbprint_s256.clone());
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| CertificateError::Sign(e.to_string()))
    }
}

/// The DER bytes of the first CERTIFICATE block.
pub fn certificate_der(cert_pem: &str) -> Result<Vec<u8>, CertificateError> {
    let blocks = pem::parse_many(cert_pem).map_err(|e| CertificateError::Certificate(e.to_string()))?;
    blocks
        .into_iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.into_contents())
        .ok_or_else(|| CertificateError::Certificate("no CERTIFICATE block found".into()))
}

/// base64url (no padding) SHA-256 of the certificate DER.
pub fn thumbprint_s256(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}
