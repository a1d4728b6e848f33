//! What certificate and IAM Identity Center accounts read: passphrases, PINs, modules, endpoints,
//! the sign-in's time limit and whether a browser could reach awsenv.

#![allow(clippy::disallowed_methods, reason = "config/ is the one module that reads the environment")]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::settings::Deferred;
use super::{flag, seconds, var, var_os};
use crate::creds::Secret;

/// What certificate accounts and the aws_signing_helper flags take from the environment (a
/// passphrase, a PIN, a module, an endpoint), read once when the first of them needs it. Its
/// `Debug` shows no secret (`Secret` is redacted).
#[derive(Clone, Debug, Default)]
pub struct CertificateEnv {
    /// `AWSENV_PKCS8_PASSWORD`: the passphrase of an encrypted PKCS#8 private key (the flags'
    /// `--pkcs8-password` is visible in ps).
    pub pkcs8_password: Option<Secret>,
    /// `AWSENV_PKCS11_PIN`: the user PIN of a PKCS#11 token, when the key's URI has no
    /// pin-value or pin-source.
    pub pkcs11_pin: Option<Secret>,
    /// `PKCS11_MODULE_PATH`, the PKCS#11 module aws_signing_helper documents.
    pub pkcs11_module: Option<PathBuf>,
    rolesanywhere_endpoint: Deferred<Option<String>>,
}

impl CertificateEnv {
    pub(super) fn read() -> Self {
        let secret = |name: &str| var_os(name).map(|value| Secret::new(value.into_encoded_bytes()));
        Self {
            pkcs8_password: secret("AWSENV_PKCS8_PASSWORD"),
            pkcs11_pin: secret("AWSENV_PKCS11_PIN"),
            pkcs11_module: var_os("PKCS11_MODULE_PATH").map(PathBuf::from),
            rolesanywhere_endpoint: Deferred::of(rolesanywhere_endpoint()),
        }
    }

    /// The IAM Roles Anywhere endpoint the SDK's rules would take from the environment:
    /// `AWS_ENDPOINT_URL_ROLESANYWHERE`, else `AWS_ENDPOINT_URL`, unless
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
    pub fn rolesanywhere_endpoint(&self) -> Result<Option<String>> {
        self.rolesanywhere_endpoint.get()
    }

    /// Only the endpoint, for tests of certificate accounts.
    #[cfg(test)]
    pub fn with_endpoint(endpoint: Option<&str>) -> Self {
        let endpoint = Deferred::of(Ok(endpoint.map(str::to_owned)));
        Self { rolesanywhere_endpoint: endpoint, ..Self::default() }
    }
}

fn rolesanywhere_endpoint() -> Result<Option<String>> {
    if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.unwrap_or(false) {
        return Ok(None);
    }
    Ok(var("AWS_ENDPOINT_URL_ROLESANYWHERE").or_else(|| var("AWS_ENDPOINT_URL")))
}

/// How long an IAM Identity Center sign-in waits for the browser or the device approval:
/// `AWSENV_SSO_TIMEOUT` seconds (1 to 3600), default 600 (the aws CLI's limit too).
pub(super) fn sso_timeout() -> Result<Duration> {
    let seconds = seconds("AWSENV_SSO_TIMEOUT", 1..=3600)?.unwrap_or(600);
    Ok(Duration::from_secs(seconds.unsigned_abs()))
}

/// What says whether a browser on this machine could reach a loopback listener of awsenv's.
#[derive(Clone, Default)]
pub struct Desktop {
    /// `BROWSER`: the user's browser command(s), `:`-separated, as Python and xdg-utils read it.
    pub browser: Option<String>,
    /// `DISPLAY` or `WAYLAND_DISPLAY`: a graphical session.
    pub display: bool,
    /// `SSH_CONNECTION`, `SSH_CLIENT` or `SSH_TTY`: the user is on another machine.
    pub ssh: bool,
    /// `container` (set by systemd-nspawn, podman, LXC).
    pub container: bool,
}

pub(super) fn desktop() -> Desktop {
    Desktop {
        browser: var("BROWSER"),
        display: var_os("DISPLAY").is_some() || var_os("WAYLAND_DISPLAY").is_some(),
        ssh: ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"].iter().any(|name| var_os(name).is_some()),
        container: var_os("container").is_some(),
    }
}
