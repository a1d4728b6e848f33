//! Loading an identity from what the user named: files (PEM or DER certificates, PEM keys, a
//! combined PEM, an intermediates bundle) or PKCS#11 URIs, with every check done before signing.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::cert::Certificate;
use super::key::{Parsed, PrivateKey};
use super::pem::{self, Block};
use super::pkcs11::{Module, TokenCertificate};
use super::pkcs11_uri::{Uri, is_uri};
use super::{Digest, Identity, LoneKey, Secrets, Signer};
use crate::creds::Timestamp;
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, limit};

/// Where the certificate, key and intermediates are.
#[derive(Debug, Default)]
pub struct KeySpec<'a> {
    /// A file or a `pkcs11:` URI.
    pub certificate: Option<&'a str>,
    /// A file or a `pkcs11:` URI; without it, the certificate file's own key (a combined PEM) or
    /// the key beside the certificate on its token.
    pub private_key: Option<&'a str>,
    pub intermediates: Option<&'a Path>,
    pub pkcs11_lib: Option<&'a Path>,
    /// `PKCS11_MODULE_PATH`, when neither `pkcs11_lib` nor the URI names a module.
    pub pkcs11_module: Option<PathBuf>,
    pub secrets: Secrets,
}

/// What `read-certificate-data` shows.
pub enum CertificateListing {
    File(Certificate),
    /// Every certificate the URI matches, each with a URI naming it alone.
    Token(Vec<(Certificate, String)>),
}

/// The certificate and its key, checked: valid at `now`, and the key is the certificate's.
pub fn load_identity(spec: KeySpec, now: Timestamp) -> Result<Identity> {
    let certificate = spec.certificate.ok_or_else(|| fail(Exit::Usage, "--certificate is needed"))?;
    let mut module = None;
    let (leaf, extra, own_key, on_token) = if is_uri(certificate) {
        let uri = Uri::parse(certificate, "--certificate")?;
        let loaded = Module::load(spec.pkcs11_lib, &uri, spec.pkcs11_module.clone())?;
        let mut found = loaded.certificates(&uri)?;
        if found.len() != 1 {
            return Err(fail(
                Exit::Config,
                format!(
                    "{} certificates on PKCS#11 tokens match --certificate; exactly one must (list them with \
                     awsenv read-certificate-data --certificate URI)",
                    found.len()
                ),
            ));
        }
        let token_cert = found.remove(0);
        module = Some((loaded, uri));
        (token_cert.certificate.clone(), Vec::new(), Vec::new(), Some(token_cert))
    } else {
        let (mut certs, keys) = file_certificates(certificate)?;
        let leaf = certs.remove(0);
        (leaf, certs, keys, None)
    };
    let what = format!("certificate {certificate}");
    leaf.check_validity(now, &what)?;
    let chain = match spec.intermediates {
        Some(path) => {
            let (certs, _) = file_certificates(&path.to_string_lossy())?;
            certs
        }
        None => extra,
    };
    debug!(
        "certificate serial {} subject {} issuer {}, {} intermediate(s)",
        leaf.serial_decimal(),
        leaf.subject,
        leaf.issuer,
        chain.len()
    );
    let signer = match (spec.private_key, &module) {
        (Some(key), _) if is_uri(key) => {
            let uri = Uri::parse(key, "--private-key")?;
            let loaded = match module.take() {
                Some((loaded, _)) => loaded,
                None => Module::load(spec.pkcs11_lib, &uri, spec.pkcs11_module.clone())?,
            };
            Signer::Token(loaded.key(&uri, on_token.as_ref(), &spec.secrets)?)
        }
        (Some(path), _) => {
            Signer::File(file_key(&read_blocks(path, "private key", Trust::Required)?, path, &spec.secrets)?)
        }
        (None, Some((loaded, uri))) => Signer::Token(loaded.key(uri, on_token.as_ref(), &spec.secrets)?),
        (None, None) if own_key.iter().any(|block| block.label.ends_with("PRIVATE KEY")) => {
            Signer::File(file_key(&own_key, certificate, &spec.secrets)?)
        }
        (None, None) => {
            return Err(fail(
                Exit::Usage,
                format!("no private key: give --private-key (the {what} holds none)"),
            ));
        }
    };
    let matches = match &signer {
        Signer::File(key) => key.public_key() == leaf.public_key,
        Signer::Token(key) => {
            // The token keeps the key, so the check is a signature the certificate's key verifies.
            let probe = b"awsenv: does this key belong to the certificate?";
            let signature = key.sign(Digest::Sha256, probe, &spec.secrets)?;
            leaf.public_key.verifies(Digest::Sha256, probe, &signature)
        }
    };
    if !matches {
        let key = spec.private_key.unwrap_or("in it");
        return Err(fail(Exit::Config, format!("the private key {key} does not belong to the {what}")));
    }
    Ok(Identity { leaf, chain, signer, secrets: spec.secrets })
}

/// A key alone, for `sign-string`: `--private-key`, else the certificate's (combined PEM, or the
/// token's key beside it).
pub fn load_signer(spec: KeySpec, now: Timestamp) -> Result<LoneKey> {
    match (spec.private_key, spec.certificate) {
        (Some(key), _) if !is_uri(key) => {
            let key = file_key(&read_blocks(key, "private key", Trust::Required)?, key, &spec.secrets)?;
            let public_key = key.public_key();
            Ok(LoneKey { signer: Signer::File(key), secrets: spec.secrets, public_key })
        }
        (Some(key), None) => {
            let uri = Uri::parse(key, "--private-key")?;
            let module = Module::load(spec.pkcs11_lib, &uri, spec.pkcs11_module.clone())?;
            let key = module.key(&uri, None, &spec.secrets)?;
            let public_key = key.public_key()?;
            Ok(LoneKey { signer: Signer::Token(key), secrets: spec.secrets, public_key })
        }
        (Some(_) | None, Some(_)) => {
            let identity = load_identity(spec, now)?;
            let public_key = identity.leaf.public_key.clone();
            Ok(LoneKey { signer: identity.signer, secrets: identity.secrets, public_key })
        }
        (None, None) => {
            Err(fail(Exit::Usage, "give --private-key (a file or a pkcs11: URI) or --certificate"))
        }
    }
}

/// The certificate of a file, or every certificate a `pkcs11:` URI matches; the module is
/// `pkcs11_lib`, else the URI's, else `pkcs11_module` (`PKCS11_MODULE_PATH`).
pub fn read_certificates(
    certificate: &str,
    pkcs11_lib: Option<&Path>,
    pkcs11_module: Option<PathBuf>,
) -> Result<CertificateListing> {
    if is_uri(certificate) {
        let uri = Uri::parse(certificate, "--certificate")?;
        let module = Module::load(pkcs11_lib, &uri, pkcs11_module)?;
        let found = module.certificates(&uri)?;
        Ok(CertificateListing::Token(
            found
                .into_iter()
                .map(|cert: TokenCertificate| {
                    let uri = cert.uri();
                    (cert.certificate, uri)
                })
                .collect(),
        ))
    } else {
        let (mut certs, _) = file_certificates(certificate)?;
        Ok(CertificateListing::File(certs.remove(0)))
    }
}

fn read_blocks(path: &str, what: &str, trust: Trust) -> Result<Vec<Block>> {
    let bytes = files::read(Path::new(path), what, limit::PEM, trust)?
        .ok_or_else(|| fail(Exit::Config, format!("{what} {path} does not exist")))?;
    pem::blocks(&bytes, &format!("{what} {path}"))
}

/// The certificates of a PEM (or DER) file, at least one, and its other PEM blocks (a key).
fn file_certificates(path: &str) -> Result<(Vec<Certificate>, Vec<Block>)> {
    let what = format!("certificate {path}");
    let bytes = files::read(Path::new(path), "certificate", limit::PEM, Trust::Data)?
        .ok_or_else(|| fail(Exit::Config, format!("{what} does not exist")))?;
    if !pem::looks_like_pem(&bytes) {
        return Ok((vec![Certificate::from_der(&bytes, &what)?], Vec::new()));
    }
    let (mut certs, mut others) = (Vec::new(), Vec::new());
    for block in pem::blocks(&bytes, &what)? {
        if block.label == "CERTIFICATE" {
            certs.push(Certificate::from_der(&block.der, &what)?);
        } else {
            others.push(block);
        }
    }
    if certs.is_empty() {
        return Err(fail(Exit::Config, format!("{what} holds no CERTIFICATE block")));
    }
    Ok((certs, others))
}

/// The first private key among `blocks`, decrypted when it must be.
fn file_key(blocks: &[Block], path: &str, secrets: &Secrets) -> Result<PrivateKey> {
    let what = format!("private key {path}");
    for block in blocks {
        match PrivateKey::from_block(&block.label, &block.der, &what)? {
            None => continue,
            Some(Parsed::Key(key)) => return Ok(key),
            Some(Parsed::Encrypted) => {
                for attempt in 0..3 {
                    let (passphrase, from) = secrets.passphrase(path, attempt)?;
                    if let Some(key) = PrivateKey::decrypt(&block.der, &passphrase, &what)? {
                        return Ok(key);
                    }
                    if from != "the terminal" {
                        return Err(fail(
                            Exit::Config,
                            format!("wrong passphrase for the {what} (from {from})"),
                        ));
                    }
                }
                return Err(fail(Exit::Config, format!("wrong passphrase for the {what}, three times")));
            }
        }
    }
    Err(fail(
        Exit::Config,
        format!(
            "{path} holds no private key (RSA PRIVATE KEY, EC PRIVATE KEY, PRIVATE KEY or ENCRYPTED PRIVATE KEY)"
        ),
    ))
}
