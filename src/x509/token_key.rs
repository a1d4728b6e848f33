//! A private key on a PKCS#11 token: it signs there, and never leaves it.

use std::sync::Mutex;

use anyhow::Result;
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use super::cert::{KeyKind, P256, P384, PublicKey};
use super::pkcs11::p11_error;
use super::pkcs11_uri::encode_bytes;
use super::{Digest, Secrets};
use crate::creds::Secret;
use crate::error::{Exit, debug, fail};

/// A private key on a token, ready to sign. `Debug` shows where it is, never the PIN.
pub struct TokenKey {
    pub(super) session: Mutex<Session>,
    pub(super) key: ObjectHandle,
    pub kind: KeyKind,
    pub(super) always_authenticate: bool,
    /// For a key that asks for a PIN before every signature (CKA_ALWAYS_AUTHENTICATE): the one
    /// that last opened it, first the token's login PIN with `--reuse-pin`. Kept for the next
    /// signature, as aws_signing_helper keeps it, so that one command asks at most once.
    pub(super) context_pin: Mutex<Option<Secret>>,
    pub id: Vec<u8>,
    pub token: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({} on {:?}, id {})", self.kind.name(), self.token, encode_bytes(&self.id))
    }
}

fn rsa_mechanism(digest: Digest) -> Mechanism<'static> {
    match digest {
        Digest::Sha256 => Mechanism::Sha256RsaPkcs,
        Digest::Sha384 => Mechanism::Sha384RsaPkcs,
        Digest::Sha512 => Mechanism::Sha512RsaPkcs,
    }
}

fn context_login(session: &Session, pin: &Secret) -> Result<Result<(), P11Error>> {
    let text = pin.as_str("the PIN").map_err(|_| fail(Exit::Config, "the PKCS#11 PIN is not UTF-8"))?;
    Ok(session.login(UserType::ContextSpecific, Some(&AuthPin::from(text.to_owned()))))
}

impl TokenKey {
    pub fn sign(&self, digest: Digest, message: &[u8], secrets: &Secrets) -> Result<Vec<u8>> {
        let session =
            self.session.lock().map_err(|_| fail(Exit::Failure, "the PKCS#11 session was poisoned"))?;
        let raw = if self.always_authenticate {
            self.sign_authenticated(&session, digest, message, secrets)?
        } else {
            let signed = match self.kind {
                KeyKind::Rsa => session.sign(&rsa_mechanism(digest), self.key, message),
                // CKM_ECDSA signs a digest.
                KeyKind::Ec => session.sign(&Mechanism::Ecdsa, self.key, &digest.hash(message)),
            };
            signed.map_err(|e| p11_error("signing", &e))?
        };
        match self.kind {
            KeyKind::Rsa => Ok(raw),
            KeyKind::Ec => {
                // The token answers r||s; the service takes DER.
                let der = match raw.len() {
                    64 => p256::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec()),
                    96 => p384::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec()),
                    _ => return Err(fail(Exit::Config, "the token's EC key is on neither P-256 nor P-384")),
                };
                der.map_err(|e| fail(Exit::Config, format!("the token's ECDSA signature is malformed: {e}")))
            }
        }
    }

    /// A key with CKA_ALWAYS_AUTHENTICATE takes its PIN after C_SignInit and before the data.
    /// cryptoki's one-call `sign` starts an operation of its own, so the data goes through
    /// C_SignUpdate/C_SignFinal, which needs a mechanism that hashes on the token (raw
    /// CKM_ECDSA is single-part only).
    fn sign_authenticated(
        &self,
        session: &Session,
        digest: Digest,
        message: &[u8],
        secrets: &Secrets,
    ) -> Result<Vec<u8>> {
        let mechanism = match (self.kind, digest) {
            (KeyKind::Rsa, _) => rsa_mechanism(digest),
            (KeyKind::Ec, Digest::Sha256) => Mechanism::EcdsaSha256,
            (KeyKind::Ec, Digest::Sha384) => Mechanism::EcdsaSha384,
            (KeyKind::Ec, Digest::Sha512) => Mechanism::EcdsaSha512,
        };
        session.sign_init(&mechanism, self.key).map_err(|e| match e {
            P11Error::Pkcs11(RvError::MechanismInvalid, _) => fail(
                Exit::Config,
                format!(
                    "the key on PKCS#11 token {:?} asks for its PIN before each signature, and the token \
                     does not offer {}, which such a key needs",
                    self.token,
                    mechanism.mechanism_type()
                ),
            ),
            other => p11_error("starting a signature", &other),
        })?;
        self.reauthenticate(session, secrets)?;
        session.sign_update(message).map_err(|e| p11_error("signing", &e))?;
        session.sign_final().map_err(|e| p11_error("signing", &e))
    }

    /// C_Login(CKU_CONTEXT_SPECIFIC) for the signature just started: the kept PIN first, else the
    /// terminal (three tries). A kept PIN the key refuses is forgotten, as aws_signing_helper
    /// falls back to asking when the reused PIN does not work.
    fn reauthenticate(&self, session: &Session, secrets: &Secrets) -> Result<()> {
        let mut kept =
            self.context_pin.lock().map_err(|_| fail(Exit::Failure, "the PKCS#11 PIN lock was poisoned"))?;
        if let Some(pin) = kept.take() {
            match context_login(session, &pin)? {
                Ok(()) => {
                    *kept = Some(pin);
                    return Ok(());
                }
                Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) => {
                    debug!("the token's PIN does not open the key on {:?}; asking for the key's", self.token);
                }
                Err(e) => return Err(p11_error("context-specific login", &e)),
            }
        }
        let mut attempt = 0;
        loop {
            let again = if attempt > 0 { "Wrong PIN. " } else { "" };
            let prompt = format!(
                "{again}PIN for the key on PKCS#11 token {:?} (asked before each signature): ",
                self.token
            );
            let pin = secrets.ask_pin(&prompt, || {
                format!(
                    "the key on PKCS#11 token {:?} asks for its PIN before each signature and there is no \
                     terminal to ask for it; give --reuse-pin to use the token's PIN for it",
                    self.token
                )
            })?;
            match context_login(session, &pin)? {
                Ok(()) => {
                    *kept = Some(pin);
                    return Ok(());
                }
                Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) if attempt < 2 => attempt += 1,
                Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) => {
                    return Err(fail(
                        Exit::Config,
                        format!("wrong PIN for the key on PKCS#11 token {:?}", self.token),
                    ));
                }
                Err(e) => return Err(p11_error("context-specific login", &e)),
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
