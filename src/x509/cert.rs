//! An X.509 certificate as IAM Roles Anywhere sees it: its DER, serial number, names, validity
//! and public key.

use anyhow::Result;
use der::{Decode, Encode};
use x509_cert::der::oid::ObjectIdentifier;

use super::Digest;
use crate::creds::Timestamp;
use crate::error::{Exit, fail};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(super) const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The two kinds of key the service takes, as `read-certificate-data` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
}

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "RSA",
            KeyKind::Ec => "EC",
        }
    }

    /// The `Authorization` header's algorithm for a key of this kind.
    pub fn algorithm(self) -> &'static str {
        match self {
            KeyKind::Rsa => "AWS4-X509-RSA-SHA256",
            KeyKind::Ec => "AWS4-X509-ECDSA-SHA256",
        }
    }
}

/// A public key in the form the seed's `sign-string` hashes: PKCS#1 `RSAPublicKey` DER for RSA,
/// the uncompressed point `04||X||Y` for EC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(Vec<u8>),
    P256(Vec<u8>),
    P384(Vec<u8>),
}

impl PublicKey {
    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::Rsa(_) => KeyKind::Rsa,
            PublicKey::P256(_) | PublicKey::P384(_) => KeyKind::Ec,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            PublicKey::Rsa(bytes) | PublicKey::P256(bytes) | PublicKey::P384(bytes) => bytes,
        }
    }

    /// An EC public key from its SEC1 point (compressed or not), written uncompressed.
    pub fn ec(curve: ObjectIdentifier, point: &[u8]) -> Option<Self> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        match curve {
            P256 => p256::PublicKey::from_sec1_bytes(point)
                .ok()
                .map(|key| PublicKey::P256(key.to_encoded_point(false).as_bytes().to_vec())),
            P384 => p384::PublicKey::from_sec1_bytes(point)
                .ok()
                .map(|key| PublicKey::P384(key.to_encoded_point(false).as_bytes().to_vec())),
            _ => None,
        }
    }

    /// Whether `signature` (PKCS#1 v1.5, or DER ECDSA) is this key's over `message` hashed with
    /// `digest`.
    pub fn verifies(&self, digest: Digest, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use ring::signature::{self, UnparsedPublicKey};
        let hashed = digest.hash(message);
        match self {
            PublicKey::Rsa(der) => {
                let algorithm = match digest {
                    Digest::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Digest::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Digest::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                };
                UnparsedPublicKey::new(algorithm, der).verify(message, signature).is_ok()
            }
            PublicKey::P256(point) => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point);
                let sig = p256::ecdsa::Signature::from_der(signature);
                matches!((key, sig), (Ok(key), Ok(sig)) if key.verify_prehash(&hashed, &sig).is_ok())
            }
            PublicKey::P384(point) => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point);
                let sig = p384::ecdsa::Signature::from_der(signature);
                matches!((key, sig), (Ok(key), Ok(sig)) if key.verify_prehash(&hashed, &sig).is_ok())
            }
        }
    }
}

/// A parsed certificate. Nothing in it is secret.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    /// The serial number's magnitude, big-endian, without leading zero bytes.
    serial: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub public_key: PublicKey,
}

impl Certificate {
    /// `what` names where it came from in errors.
    pub fn from_der(der: &[u8], what: &str) -> Result<Self> {
        let bad =
            |why: String| fail(Exit::Config, format!("{what} is not a usable X.509 certificate: {why}"));
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        let key_bits = spki.subject_public_key.raw_bytes();
        let public_key = match spki.algorithm.oid {
            RSA_ENCRYPTION => PublicKey::Rsa(key_bits.to_vec()),
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|params| params.decode_as::<ObjectIdentifier>().ok())
                    .ok_or_else(|| bad("its EC key names no curve".to_owned()))?;
                PublicKey::ec(curve, key_bits).ok_or_else(|| {
                    fail(
                        Exit::Config,
                        format!("{what} holds an EC key on curve {curve}; IAM Roles Anywhere takes P-256 and P-384"),
                    )
                })?
            }
            other => {
                return Err(fail(
                    Exit::Config,
                    format!(
                        "{what} holds a {} key; IAM Roles Anywhere takes RSA and EC (P-256, P-384) keys",
                        key_name(other)
                    ),
                ));
            }
        };
        let serial = tbs.serial_number.as_bytes();
        let serial = serial[serial.iter().take_while(|b| **b == 0).count()..].to_vec();
        let time = |t: x509_cert::time::Time| {
            Timestamp(i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
        };
        Ok(Self {
            der: cert.to_der().map_err(|e| bad(e.to_string()))?,
            serial,
            subject: rfc4514(&tbs.subject),
            issuer: rfc4514(&tbs.issuer),
            not_before: time(tbs.validity.not_before),
            not_after: time(tbs.validity.not_after),
            public_key,
        })
    }

    /// The DER in standard base64, as `X-Amz-X509` and `read-certificate-data` carry it.
    pub fn base64(&self) -> String {
        use base64ct::Encoding;
        base64ct::Base64::encode_string(&self.der)
    }

    /// The serial number in decimal, as the `Authorization` header's credential carries it.
    pub fn serial_decimal(&self) -> String {
        decimal(&self.serial)
    }

    /// The serial number in upper-case hex, as `read-certificate-data` lists it.
    pub fn serial_hex(&self) -> String {
        if self.serial.is_empty() {
            return "0".to_owned();
        }
        let hex: String = self.serial.iter().map(|b| format!("{b:02X}")).collect();
        hex.trim_start_matches('0').to_owned()
    }

    /// The SHA-1 of the DER in lower-case hex: the "Hex Fingerprint" tools show.
    pub fn sha1_hex(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der);
        hex(digest.as_ref())
    }

    /// Refuses a certificate outside its validity period at `now`, saying when it was valid.
    pub fn check_validity(&self, now: Timestamp, what: &str) -> Result<()> {
        if now < self.not_before {
            return Err(fail(
                Exit::Config,
                format!(
                    "{what} is not valid yet: valid from {} (now {})",
                    self.not_before.rfc3339(),
                    now.rfc3339()
                ),
            ));
        }
        if now > self.not_after {
            return Err(fail(
                Exit::Config,
                format!("{what} expired at {} (now {})", self.not_after.rfc3339(), now.rfc3339()),
            ));
        }
        Ok(())
    }
}

/// A name as RFC 4514 (and Go, and `openssl -nameopt RFC2253`) write it: the last RDN first.
fn rfc4514(name: &x509_cert::name::Name) -> String {
    name.0.iter().rev().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// A friendly name for the key algorithms people may try.
pub(super) fn key_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.101.112" => "Ed25519".to_owned(),
        "1.3.101.113" => "Ed448".to_owned(),
        "1.2.840.10040.4.1" => "DSA".to_owned(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".to_owned(),
        other => format!("{other} (unsupported)"),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A big-endian unsigned number in decimal, by long division in base 10^9.
fn decimal(bytes: &[u8]) -> String {
    let mut number: Vec<u32> = bytes.iter().map(|b| u32::from(*b)).collect();
    let mut chunks = Vec::new();
    while number.iter().any(|digit| *digit != 0) {
        let mut remainder: u64 = 0;
        for digit in &mut number {
            let value = (remainder << 8) | u64::from(*digit);
            *digit = (value / 1_000_000_000) as u32;
            remainder = value % 1_000_000_000;
        }
        chunks.push(remainder);
        // Leading zero bytes no longer matter; dropping them keeps this linear per chunk.
        let zeros = number.iter().take_while(|digit| **digit == 0).count();
        number.drain(..zeros);
    }
    match chunks.split_last() {
        None => "0".to_owned(),
        Some((first, rest)) => {
            let mut out = first.to_string();
            for chunk in rest.iter().rev() {
                out.push_str(&format!("{chunk:09}"));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_in_decimal() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0x01]), "1");
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(decimal(&[0x3b, 0x9a, 0xca, 0x00]), "1000000000");
        // 2^64 and a 159-bit serial like openssl's -rand_serial, checked with Python's int().
        assert_eq!(decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]), "18446744073709551616");
        let serial = [
            0x4d, 0x2a, 0x1f, 0x3c, 0x9e, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
            0xbb, 0xcc, 0xdd, 0xee,
        ];
        assert_eq!(decimal(&serial), "440531641759598200206454273131397594388798168558");
    }
}
