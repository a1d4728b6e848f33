//! Where a key's passphrase and a token's PIN come from: the command line or the store, the
//! environment, else the terminal with echo off. None of them is ever printed.

use std::fmt;
use std::path::Path;

use anyhow::Result;

use super::pkcs11_uri::Uri;
use crate::config::CertificateEnv;
use crate::creds::Secret;
use crate::error::{Exit, fail};
use crate::files::{self, Trust, limit};

#[derive(Clone, Default)]
pub struct Secrets {
    /// `--pkcs8-password`.
    password: Option<Secret>,
    /// `AWSENV_PKCS8_PASSWORD`.
    env_password: Option<Secret>,
    /// `AWSENV_PKCS11_PIN`.
    env_pin: Option<Secret>,
    /// `--reuse-pin`: a key that asks for the PIN before each signature gets the login PIN again.
    pub reuse_pin: bool,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("env_password", &self.env_password.as_ref().map(|_| "<redacted>"))
            .field("env_pin", &self.env_pin.as_ref().map(|_| "<redacted>"))
            .field("reuse_pin", &self.reuse_pin)
            .finish()
    }
}

impl Secrets {
    /// The passphrase given on the command line, if any, and the environment's.
    pub fn new(password: Option<Secret>, reuse_pin: bool, env: &CertificateEnv) -> Self {
        Self {
            password,
            env_password: env.pkcs8_password.clone(),
            env_pin: env.pkcs11_pin.clone(),
            reuse_pin,
        }
    }

    /// The passphrase for attempt number `attempt` (from 0), and where it came from; only the
    /// terminal is asked again after a wrong one.
    pub(super) fn passphrase(&self, what: &str, attempt: u32) -> Result<(Secret, &'static str)> {
        if let Some(password) = &self.password {
            return Ok((password.clone(), "--pkcs8-password"));
        }
        if let Some(password) = &self.env_password {
            return Ok((password.clone(), "AWSENV_PKCS8_PASSWORD"));
        }
        let again = if attempt > 0 { "Wrong passphrase. " } else { "" };
        let prompt = format!("{again}Passphrase for the private key {what}: ");
        let answer = crate::tty::ask_secret(&prompt, || {
            format!(
                "the private key {what} is encrypted and there is no terminal to ask for its passphrase; \
                 give --pkcs8-password or set AWSENV_PKCS8_PASSWORD"
            )
        })?;
        Ok((answer, "the terminal"))
    }

    /// The user PIN for `token`, and whether it came from the terminal (which may be asked again).
    pub(super) fn pin(&self, uri: &Uri, token: &str, attempt: u32) -> Result<(Secret, bool)> {
        if let Some(pin) = &uri.pin_value {
            return Ok((pin.clone(), false));
        }
        if let Some(source) = &uri.pin_source {
            let path =
                source.strip_prefix("file://").or_else(|| source.strip_prefix("file:")).unwrap_or(source);
            let what = "the PKCS#11 pin-source file";
            let bytes = files::read(Path::new(path), what, limit::VALUE, Trust::Required)?
                .ok_or_else(|| fail(Exit::Config, format!("{what} {path} does not exist")))?;
            let end = bytes.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |at| at + 1);
            return Ok((Secret::new(&bytes[..end]), false));
        }
        if let Some(pin) = &self.env_pin {
            return Ok((pin.clone(), false));
        }
        let again = if attempt > 0 { "Wrong PIN. " } else { "" };
        let prompt = format!("{again}User PIN for PKCS#11 token {token:?}: ");
        let pin = self.ask_pin(&prompt, || {
            "a PKCS#11 PIN is needed and there is no terminal to ask for it; put pin-value or pin-source \
             in the URI, or set AWSENV_PKCS11_PIN"
                .to_owned()
        })?;
        Ok((pin, true))
    }

    /// A PIN from the terminal; `no_terminal` says what to do instead when there is none.
    pub(super) fn ask_pin(&self, prompt: &str, no_terminal: impl FnOnce() -> String) -> Result<Secret> {
        crate::tty::ask_secret(prompt, no_terminal)
    }
}
