//! X.509 identities for IAM Roles Anywhere: a certificate, its private key (a PEM file or a key
//! on a PKCS#11 token) and the intermediates up to the trust anchor, loaded and checked before
//! anything is signed. `source` says where they are; `crate::aws::rolesanywhere` signs with them.

mod cert;
mod key;
mod load;
mod pem;
mod pkcs11;
mod pkcs11_uri;
mod secrets;
mod source;
mod store_file;
mod token_key;

use anyhow::Result;
use der::{Decode, Encode};

pub use cert::{Certificate, KeyKind, PublicKey, hex};
pub use load::{CertificateListing, KeySpec, load_identity, load_signer, read_certificates};
pub use secrets::Secrets;
pub use source::CertificateSource;

/// The digests `sign-string` offers; CreateSession always uses SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub fn hash(self, message: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Digest::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Digest::Sha384 => sha2::Sha384::digest(message).to_vec(),
            Digest::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }
}

/// Whatever holds the private key.
#[derive(Debug)]
pub enum Signer {
    File(key::PrivateKey),
    Token(pkcs11::TokenKey),
}

/// A certificate with the key that signs for it, checked to belong together.
#[derive(Debug)]
pub struct Identity {
    pub leaf: Certificate,
    /// The intermediates, in the bundle's order, for `X-Amz-X509-Chain`.
    pub chain: Vec<Certificate>,
    signer: Signer,
    secrets: Secrets,
}

impl Identity {
    pub fn kind(&self) -> KeyKind {
        self.leaf.public_key.kind()
    }

    /// A PKCS#1 v1.5 (RSA) or DER ECDSA signature of `message` hashed with `digest`.
    pub fn sign(&self, digest: Digest, message: &[u8]) -> Result<Vec<u8>> {
        sign_with(&self.signer, &self.secrets, digest, message)
    }
}

fn sign_with(signer: &Signer, secrets: &Secrets, digest: Digest, message: &[u8]) -> Result<Vec<u8>> {
    match signer {
        Signer::File(key) => key.sign(digest, message),
        Signer::Token(key) => key.sign(digest, message, secrets),
    }
}

/// A key alone, for `sign-string`: it and its public half.
#[derive(Debug)]
pub struct LoneKey {
    signer: Signer,
    secrets: Secrets,
    pub public_key: PublicKey,
}

impl LoneKey {
    pub fn sign(&self, digest: Digest, message: &[u8]) -> Result<Vec<u8>> {
        sign_with(&self.signer, &self.secrets, digest, message)
    }
}

/// PKCS#1 `RSAPublicKey` DER from its two numbers (big-endian magnitudes).
fn rsa_public_key_der(modulus: &[u8], exponent: &[u8]) -> Option<Vec<u8>> {
    let modulus = der::asn1::UintRef::new(modulus).ok()?.to_der().ok()?;
    let exponent = der::asn1::UintRef::new(exponent).ok()?.to_der().ok()?;
    let body = [modulus, exponent].concat();
    let length = der::Length::try_from(body.len()).ok()?;
    let header = der::Header::new(der::Tag::Sequence, length).ok()?.to_der().ok()?;
    Some([header, body].concat())
}

/// An EC public key from PKCS#11's CKA_EC_PARAMS (a curve OID) and CKA_EC_POINT (the point in a
/// DER OCTET STRING, or bare as some tokens give it).
fn ec_public_key(params: &[u8], point: &[u8], curves: &[der::oid::ObjectIdentifier]) -> Option<PublicKey> {
    let curve = der::oid::ObjectIdentifier::from_der(params).ok().filter(|curve| curves.contains(curve))?;
    let wrapped = der::asn1::OctetString::from_der(point).ok();
    let point = wrapped.as_ref().map_or(point, |octets| octets.as_bytes());
    PublicKey::ec(curve, point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_public_keys_are_pkcs1_der() {
        // SEQUENCE { INTEGER 0x00c5 (a leading zero keeps it positive), INTEGER 3 }
        assert_eq!(
            rsa_public_key_der(&[0xc5], &[3]).unwrap(),
            [0x30, 0x07, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x01, 0x03]
        );
    }

    #[test]
    fn digests_have_their_lengths() {
        assert_eq!(Digest::Sha256.hash(b"x").len(), 32);
        assert_eq!(Digest::Sha384.hash(b"x").len(), 48);
        assert_eq!(Digest::Sha512.hash(b"x").len(), 64);
    }
}
