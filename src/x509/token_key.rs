//! A private key on a PKCS#11 token: it signs there, and never leaves it.

use std::sync::Mutex;

use anyhow::Result;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use super::cert::{KeyKind, P256, P384, PublicKey};
use super::pkcs11::p11_error;
use super::pkcs11_uri::encode_bytes;
use super::{Digest, Secrets};
use crate::creds::Secret;
use crate::error::{Exit, fail};

/// A private key on a token, ready to sign. `Debug` shows where it is, never the PIN.
pub struct TokenKey {
    pub(super) session: Mutex<Session>,
    pub(super) key: ObjectHandle,
    pub kind: KeyKind,
    pub(super) always_authenticate: bool,
    /// Kept only with `--reuse-pin`, for keys that ask for the PIN before every signature.
    pub(super) pin: Option<Secret>,
    pub id: Vec<u8>,
    pub token: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({} on {:?}, id {})", self.kind.name(), self.token, encode_bytes(&self.id))
    }
}

impl TokenKey {
    pub fn sign(&self, digest: Digest, message: &[u8], secrets: &Secrets) -> Result<Vec<u8>> {
        let session =
            self.session.lock().map_err(|_| fail(Exit::Failure, "the PKCS#11 session was poisoned"))?;
        if self.always_authenticate {
            let pin = match &self.pin {
                Some(pin) => pin.clone(),
                None => secrets.ask_pin(&format!(
                    "PIN for the key on token {:?} (needed for each signature): ",
                    self.token
                ))?,
            };
            let text =
                pin.as_str("the PIN").map_err(|_| fail(Exit::Config, "the PKCS#11 PIN is not UTF-8"))?;
            session
                .login(UserType::ContextSpecific, Some(&AuthPin::from(text.to_owned())))
                .map_err(|e| p11_error("context-specific login", &e))?;
        }
        let signing = |mechanism: &Mechanism, data: &[u8]| {
            session.sign(mechanism, self.key, data).map_err(|e| p11_error("signing", &e))
        };
        match self.kind {
            KeyKind::Rsa => {
                let mechanism = match digest {
                    Digest::Sha256 => Mechanism::Sha256RsaPkcs,
                    Digest::Sha384 => Mechanism::Sha384RsaPkcs,
                    Digest::Sha512 => Mechanism::Sha512RsaPkcs,
                };
                signing(&mechanism, message)
            }
            KeyKind::Ec => {
                // CKM_ECDSA signs a digest and answers r||s; the service takes DER.
                let raw = signing(&Mechanism::Ecdsa, &digest.hash(message))?;
                let der = match raw.len() {
                    64 => p256::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec()),
                    96 => p384::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec()),
                    _ => return Err(fail(Exit::Config, "the token's EC key is on neither P-256 nor P-384")),
                };
                der.map_err(|e| fail(Exit::Config, format!("the token's ECDSA signature is malformed: {e}")))
            }
        }
    }

    /// The key's public half, read from the token (for `sign-string` without a certificate).
    pub fn public_key(&self) -> Result<PublicKey> {
        let session =
            self.session.lock().map_err(|_| fail(Exit::Failure, "the PKCS#11 session was poisoned"))?;
        let missing = || {
            fail(Exit::Config, format!("the public key of the key on token {:?} cannot be read", self.token))
        };
        match self.kind {
            KeyKind::Rsa => {
                let attributes = session
                    .get_attributes(self.key, &[AttributeType::Modulus, AttributeType::PublicExponent])
                    .map_err(|e| p11_error("reading the public key", &e))?;
                let (mut modulus, mut exponent) = (None, None);
                for attribute in attributes {
                    match attribute {
                        Attribute::Modulus(value) => modulus = Some(value),
                        Attribute::PublicExponent(value) => exponent = Some(value),
                        _ => {}
                    }
                }
                let (modulus, exponent) = modulus.zip(exponent).ok_or_else(missing)?;
                Ok(PublicKey::Rsa(super::rsa_public_key_der(&modulus, &exponent).ok_or_else(missing)?))
            }
            KeyKind::Ec => {
                let template = [Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(self.id.clone())];
                let handles =
                    session.find_objects(&template).map_err(|e| p11_error("finding the public key", &e))?;
                let handle = handles.first().ok_or_else(missing)?;
                let attributes = session
                    .get_attributes(*handle, &[AttributeType::EcParams, AttributeType::EcPoint])
                    .map_err(|e| p11_error("reading the public key", &e))?;
                let (mut params, mut point) = (None, None);
                for attribute in attributes {
                    match attribute {
                        Attribute::EcParams(value) => params = Some(value),
                        Attribute::EcPoint(value) => point = Some(value),
                        _ => {}
                    }
                }
                let (params, point) = params.zip(point).ok_or_else(missing)?;
                super::ec_public_key(&params, &point, &[P256, P384]).ok_or_else(missing)
            }
        }
    }
}
