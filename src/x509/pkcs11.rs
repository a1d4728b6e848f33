//! Keys and certificates on PKCS#11 tokens (smart cards, HSMs, SoftHSM2) through cryptoki. The
//! private key never leaves the token: awsenv asks it to sign.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::Secrets;
use super::cert::{Certificate, KeyKind};
use super::pkcs11_uri::{Uri, encode_bytes, encode_text};
pub use super::token_key::TokenKey;
use crate::creds::Secret;
use crate::error::{Exit, debug, fail};

/// Where a module may be when neither `--pkcs11-lib`, the URI's module-path nor
/// PKCS11_MODULE_PATH names one: p11-kit's proxy, which loads the system's configured modules.
const P11_KIT_PROXY: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib64/p11-kit-proxy.so",
    "/usr/lib/p11-kit-proxy.so",
];

pub(super) fn p11_error(what: &str, error: &P11Error) -> anyhow::Error {
    let why = match error {
        P11Error::Pkcs11(rv, function) => format!("{function} failed: {rv:?}"),
        other => other.to_string(),
    };
    fail(Exit::Config, format!("PKCS#11 {what}: {why}"))
}

/// The loaded module.
pub struct Module {
    context: Pkcs11,
}

impl Module {
    pub fn load(library: Option<&Path>, uri: &Uri, from_env: Option<PathBuf>) -> Result<Self> {
        let path = library
            .map(Path::to_path_buf)
            .or_else(|| uri.module_path.clone())
            .or(from_env)
            .or_else(|| P11_KIT_PROXY.iter().map(PathBuf::from).find(|path| path.exists()))
            .ok_or_else(|| {
                fail(
                    Exit::Usage,
                    "no PKCS#11 module: give --pkcs11-lib (or module-path in the URI, or PKCS11_MODULE_PATH)",
                )
            })?;
        debug!("PKCS#11 module {}", path.display());
        let context = Pkcs11::new(&path).map_err(|e| {
            fail(Exit::Config, format!("PKCS#11 module {} could not be loaded: {e}", path.display()))
        })?;
        match context.initialize(CInitializeArgs::OsThreads) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(p11_error(&format!("module {}", path.display()), &e)),
        }
        Ok(Self { context })
    }

    /// The slots whose token matches the URI's token attributes.
    fn slots(&self, uri: &Uri) -> Result<Vec<(Slot, String)>> {
        let slots = self.context.get_slots_with_token().map_err(|e| p11_error("listing slots", &e))?;
        let mut found = Vec::new();
        for slot in slots {
            let info = self.context.get_token_info(slot).map_err(|e| p11_error("reading a token", &e))?;
            let matches = uri.matches("token", info.label().as_bytes())
                && uri.matches("manufacturer", info.manufacturer_id().as_bytes())
                && uri.matches("model", info.model().as_bytes())
                && uri.matches("serial", info.serial_number().as_bytes())
                && uri.matches("slot-id", slot.id().to_string().as_bytes());
            if matches {
                found.push((slot, info.label().to_owned()));
            }
        }
        Ok(found)
    }

    /// Every X.509 certificate on the matching tokens that matches the URI's object attributes,
    /// in slot order and, within a token, by id, label and content: a module enumerates objects
    /// in no fixed order (SoftHSM2 in its directory's), and the listing's numbers must not move.
    pub fn certificates(&self, uri: &Uri) -> Result<Vec<TokenCertificate>> {
        let mut found = Vec::new();
        for (slot, token) in self.slots(uri)? {
            let from = found.len();
            let session =
                self.context.open_ro_session(slot).map_err(|e| p11_error("opening a session", &e))?;
            let mut template = vec![
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
            ];
            template.extend(object_template(uri));
            let handles =
                session.find_objects(&template).map_err(|e| p11_error("finding certificates", &e))?;
            for handle in handles {
                let attributes = session
                    .get_attributes(handle, &[AttributeType::Value, AttributeType::Id, AttributeType::Label])
                    .map_err(|e| p11_error("reading a certificate", &e))?;
                let (mut der, mut id, mut label) = (Vec::new(), Vec::new(), Vec::new());
                for attribute in attributes {
                    match attribute {
                        Attribute::Value(value) => der = value,
                        Attribute::Id(value) => id = value,
                        Attribute::Label(value) => label = value,
                        _ => {}
                    }
                }
                let label = String::from_utf8_lossy(&label).into_owned();
                let what = format!("the certificate {label:?} on token {token:?}");
                let certificate = Certificate::from_der(&der, &what)?;
                found.push(TokenCertificate { slot, token: token.clone(), id, label, certificate });
            }
            found[from..].sort_by(|a, b| {
                (&a.id, &a.label, &a.certificate.der).cmp(&(&b.id, &b.label, &b.certificate.der))
            });
        }
        Ok(found)
    }

    /// The private key the URI names (`near` narrows it to the certificate's token and id when
    /// the URI does not say), logged in with the PIN from `secrets`.
    pub fn key(&self, uri: &Uri, near: Option<&TokenCertificate>, secrets: &Secrets) -> Result<TokenKey> {
        let slots: Vec<(Slot, String)> = match near {
            Some(cert) if uri.get("token").is_none() => vec![(cert.slot, cert.token.clone())],
            _ => self.slots(uri)?,
        };
        let [(slot, token)] = slots.as_slice() else {
            let count = slots.len();
            return Err(fail(
                Exit::Config,
                format!("{count} PKCS#11 tokens match the private key's URI; exactly one must"),
            ));
        };
        let session = self.context.open_ro_session(*slot).map_err(|e| p11_error("opening a session", &e))?;
        let pin = login(&session, &self.context, *slot, uri, token, secrets)?;
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        template.extend(object_template(uri));
        if let Some(cert) = near.filter(|_| uri.get("id").is_none() && uri.get("object").is_none()) {
            template.push(Attribute::Id(cert.id.clone()));
        }
        let handles =
            session.find_objects(&template).map_err(|e| p11_error("finding the private key", &e))?;
        let [key] = handles.as_slice() else {
            return Err(fail(
                Exit::Config,
                format!(
                    "{} private keys on PKCS#11 token {token:?} match; exactly one must (give id= or object= in the URI)",
                    handles.len()
                ),
            ));
        };
        let attributes = session
            .get_attributes(
                *key,
                &[AttributeType::KeyType, AttributeType::AlwaysAuthenticate, AttributeType::Id],
            )
            .map_err(|e| p11_error("reading the private key", &e))?;
        let (mut kind, mut always_authenticate, mut id) = (None, false, Vec::new());
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(KeyType::RSA) => kind = Some(KeyKind::Rsa),
                Attribute::KeyType(KeyType::EC) => kind = Some(KeyKind::Ec),
                Attribute::AlwaysAuthenticate(value) => always_authenticate = value,
                Attribute::Id(value) => id = value,
                _ => {}
            }
        }
        let kind = kind.ok_or_else(|| {
            fail(Exit::Config, format!("the private key on PKCS#11 token {token:?} is neither RSA nor EC"))
        })?;
        let pin = if secrets.reuse_pin { pin } else { None };
        Ok(TokenKey {
            session: Mutex::new(session),
            key: *key,
            kind,
            always_authenticate,
            context_pin: Mutex::new(pin),
            id,
            token: token.clone(),
        })
    }
}

fn object_template(uri: &Uri) -> Vec<Attribute> {
    let mut template = Vec::new();
    if let Some(id) = uri.get("id") {
        template.push(Attribute::Id(id.to_vec()));
    }
    if let Some(label) = uri.get("object") {
        template.push(Attribute::Label(label.to_vec()));
    }
    template
}

/// Logs the session in when the token asks for it; returns the PIN used.
fn login(
    session: &Session,
    context: &Pkcs11,
    slot: Slot,
    uri: &Uri,
    token: &str,
    secrets: &Secrets,
) -> Result<Option<Secret>> {
    let info = context.get_token_info(slot).map_err(|e| p11_error("reading a token", &e))?;
    if !info.login_required() {
        return Ok(None);
    }
    let mut attempt = 0;
    loop {
        let (pin, interactive) = secrets.pin(uri, token, attempt)?;
        let text = pin.as_str("the PIN").map_err(|_| fail(Exit::Config, "the PKCS#11 PIN is not UTF-8"))?;
        match session.login(UserType::User, Some(&AuthPin::from(text.to_owned()))) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => return Ok(Some(pin)),
            Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) if interactive && attempt < 2 => attempt += 1,
            Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(fail(Exit::Config, format!("wrong PIN for PKCS#11 token {token:?}")));
            }
            Err(e) => return Err(p11_error(&format!("login to token {token:?}"), &e)),
        }
    }
}

/// A certificate found on a token.
pub struct TokenCertificate {
    slot: Slot,
    pub token: String,
    pub id: Vec<u8>,
    pub label: String,
    pub certificate: Certificate,
}

impl TokenCertificate {
    /// A URI that names exactly this certificate.
    pub fn uri(&self) -> String {
        format!(
            "pkcs11:token={};object={};id={};type=cert",
            encode_text(&self.token),
            encode_text(&self.label),
            encode_bytes(&self.id)
        )
    }
}
