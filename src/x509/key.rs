//! Private keys from PEM files: PKCS#1 RSA, SEC1 EC, PKCS#8 of either, and PBES2-encrypted PKCS#8.
//! RSA signs with ring; EC with p256/p384, which take a SHA-256 prehash for a P-384 key as the
//! service asks (ring pairs each curve with one digest).

use std::fmt;

use anyhow::Result;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};

use super::Digest;
use super::cert::{P256, P384, PublicKey, key_name};
use crate::creds::Secret;
use crate::error::{Exit, fail};

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

/// A private key held in memory. Its `Debug` names the kind only.
pub enum PrivateKey {
    /// Boxed: ring keeps the key's numbers inline, several times the size of an EC key.
    Rsa(Box<ring::rsa::KeyPair>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            PrivateKey::Rsa(key) => format!("RSA {}", key.public().modulus_len() * 8),
            PrivateKey::P256(_) => "EC P-256".to_owned(),
            PrivateKey::P384(_) => "EC P-384".to_owned(),
        };
        write!(f, "PrivateKey({kind}, <redacted>)")
    }
}

/// What a PEM block of a key file turned out to be.
pub enum Parsed {
    Key(PrivateKey),
    /// An `ENCRYPTED PRIVATE KEY`: needs a passphrase (see `decrypt`).
    Encrypted,
}

impl PrivateKey {
    /// The key in the PEM block labelled `label`, or `None` for a block that holds no key.
    pub fn from_block(label: &str, der: &[u8], what: &str) -> Result<Option<Parsed>> {
        let key = match label {
            "RSA PRIVATE KEY" => rsa(ring::rsa::KeyPair::from_der(der), what)?,
            "EC PRIVATE KEY" => sec1(der, what)?,
            "PRIVATE KEY" => pkcs8(der, what)?,
            "ENCRYPTED PRIVATE KEY" => return Ok(Some(Parsed::Encrypted)),
            "OPENSSH PRIVATE KEY" | "DSA PRIVATE KEY" => {
                return Err(fail(
                    Exit::Config,
                    format!(
                        "{what} holds an {label}; IAM Roles Anywhere takes RSA and EC (P-256, P-384) keys in PEM"
                    ),
                ));
            }
            _ => return Ok(None),
        };
        Ok(Some(Parsed::Key(key)))
    }

    /// The key in an `ENCRYPTED PRIVATE KEY` block; `Ok(None)` when the passphrase is wrong.
    pub fn decrypt(der: &[u8], passphrase: &Secret, what: &str) -> Result<Option<Self>> {
        let info = EncryptedPrivateKeyInfo::try_from(der)
            .map_err(|e| fail(Exit::Config, format!("{what}: the encrypted key is malformed: {e}")))?;
        if info.encryption_algorithm.pbes2().is_none() {
            return Err(fail(
                Exit::Config,
                format!(
                    "{what}: the key is encrypted with PBES1; awsenv reads PBES2 (openssl pkcs8 -v2 aes-256-cbc)"
                ),
            ));
        }
        // A wrong passphrase shows as bad padding, or (one time in 256) as garbage that is no key.
        let Ok(document) = info.decrypt(passphrase.expose()) else {
            return Ok(None);
        };
        if PrivateKeyInfo::try_from(document.as_bytes()).is_err() {
            return Ok(None);
        }
        pkcs8(document.as_bytes(), what).map(Some)
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa(key) => PublicKey::Rsa(key.public().as_ref().to_vec()),
            PrivateKey::P256(key) => {
                PublicKey::P256(key.verifying_key().to_encoded_point(false).as_bytes().to_vec())
            }
            PrivateKey::P384(key) => {
                PublicKey::P384(key.verifying_key().to_encoded_point(false).as_bytes().to_vec())
            }
        }
    }

    /// A PKCS#1 v1.5 signature (RSA) or a DER ECDSA signature over `message` hashed with `digest`.
    pub fn sign(&self, digest: Digest, message: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let failed = |e: &dyn fmt::Display| fail(Exit::Failure, format!("signing failed: {e}"));
        match self {
            PrivateKey::Rsa(key) => {
                let padding = match digest {
                    Digest::Sha256 => &ring::signature::RSA_PKCS1_SHA256,
                    Digest::Sha384 => &ring::signature::RSA_PKCS1_SHA384,
                    Digest::Sha512 => &ring::signature::RSA_PKCS1_SHA512,
                };
                let mut signature = vec![0; key.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                key.sign(padding, &rng, message, &mut signature).map_err(|e| failed(&e))?;
                Ok(signature)
            }
            PrivateKey::P256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.sign_prehash(&digest.hash(message)).map_err(|e| failed(&e))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            PrivateKey::P384(key) => {
                let signature: p384::ecdsa::Signature =
                    key.sign_prehash(&digest.hash(message)).map_err(|e| failed(&e))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
        }
    }
}

fn rsa(parsed: Result<ring::rsa::KeyPair, ring::error::KeyRejected>, what: &str) -> Result<PrivateKey> {
    let key = parsed.map_err(|e| {
        fail(
            Exit::Config,
            format!("{what}: the RSA key is not usable ({e}); RSA keys of 2048, 3072 and 4096 bits are"),
        )
    })?;
    Ok(PrivateKey::Rsa(Box::new(key)))
}

fn sec1(der: &[u8], what: &str) -> Result<PrivateKey> {
    if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P256(key.into()));
    }
    if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P384(key.into()));
    }
    Err(fail(
        Exit::Config,
        format!(
            "{what}: the EC key is malformed or not on P-256 or P-384, the curves IAM Roles Anywhere takes"
        ),
    ))
}

fn pkcs8(der: &[u8], what: &str) -> Result<PrivateKey> {
    use p256::pkcs8::DecodePrivateKey;
    let info = PrivateKeyInfo::try_from(der)
        .map_err(|e| fail(Exit::Config, format!("{what}: the PKCS#8 key is malformed: {e}")))?;
    match info.algorithm.oid.to_string().as_str() {
        RSA_ENCRYPTION => rsa(ring::rsa::KeyPair::from_pkcs8(der), what),
        EC_PUBLIC_KEY => {
            let curve = info.algorithm.parameters_oid().ok();
            let malformed =
                |e: &dyn fmt::Display| fail(Exit::Config, format!("{what}: the EC key is malformed: {e}"));
            match curve {
                Some(P256) => Ok(PrivateKey::P256(
                    p256::SecretKey::from_pkcs8_der(der).map_err(|e| malformed(&e))?.into(),
                )),
                Some(P384) => Ok(PrivateKey::P384(
                    p384::SecretKey::from_pkcs8_der(der).map_err(|e| malformed(&e))?.into(),
                )),
                other => Err(fail(
                    Exit::Config,
                    format!(
                        "{what} holds an EC key on curve {}; IAM Roles Anywhere takes P-256 and P-384",
                        other.map_or_else(|| "(none named)".to_owned(), |oid| oid.to_string())
                    ),
                )),
            }
        }
        _ => Err(fail(
            Exit::Config,
            format!(
                "{what} holds a {} key; IAM Roles Anywhere takes RSA and EC (P-256, P-384) keys",
                key_name(info.algorithm.oid)
            ),
        )),
    }
}
