//! What certificate and IAM Identity Center accounts read: passphrases, PINs, modules, endpoints,
//! the sign-in's time limit and whether a browser could reach awsenv.

#![allow(clippy::disallowed_methods, reason = "config/ is the one module that reads the environment")]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::{flag, seconds, var, var_os};

/// The passphrase of an encrypted PKCS#8 private key, for certificate accounts and the
/// aws_signing_helper flags (which otherwise take `--pkcs8-password`, visible in ps).
pub fn pkcs8_password() -> Option<crate::creds::Secret> {
    var_os("AWSENV_PKCS8_PASSWORD").map(|value| crate::creds::Secret::new(value.into_encoded_bytes()))
}

/// The user PIN of a PKCS#11 token, when the key's URI has no pin-value or pin-source.
pub fn pkcs11_pin() -> Option<crate::creds::Secret> {
    var_os("AWSENV_PKCS11_PIN").map(|value| crate::creds::Secret::new(value.into_encoded_bytes()))
}

/// The PKCS#11 module aws_signing_helper documents: `PKCS11_MODULE_PATH`.
pub fn pkcs11_module() -> Option<PathBuf> {
    var_os("PKCS11_MODULE_PATH").map(PathBuf::from)
}

/// The IAM Roles Anywhere endpoint the SDK's rules would take from the environment:
/// `AWS_ENDPOINT_URL_ROLESANYWHERE`, else `AWS_ENDPOINT_URL`, unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
pub fn rolesanywhere_endpoint() -> Result<Option<String>> {
    if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.unwrap_or(false) {
        return Ok(None);
    }
    Ok(var("AWS_ENDPOINT_URL_ROLESANYWHERE").or_else(|| var("AWS_ENDPOINT_URL")))
}
/// How long an IAM Identity Center sign-in waits for the browser or the device approval:
/// `AWSENV_SSO_TIMEOUT` seconds (1 to 3600), default 600 (the aws CLI's limit too).
pub fn sso_timeout() -> Result<Duration> {
    let seconds = seconds("AWSENV_SSO_TIMEOUT", 1..=3600)?.unwrap_or(600);
    Ok(Duration::from_secs(seconds.unsigned_abs()))
}

/// What says whether a browser on this machine could reach a loopback listener of awsenv's.
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

pub fn desktop() -> Desktop {
    Desktop {
        browser: var("BROWSER"),
        display: var_os("DISPLAY").is_some() || var_os("WAYLAND_DISPLAY").is_some(),
        ssh: ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"].iter().any(|name| var_os(name).is_some()),
        container: var_os("container").is_some(),
    }
}
