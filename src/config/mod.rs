//! The one place that reads the process environment. Library modules receive these values as
//! parameters, most through `Settings` (read once with the command's context); the readers of
//! the shell's own variables that commands use are reached through `cmd::Context` only
//! (clippy.toml), the rest are private here. An empty variable counts as unset; a malformed one
//! is an error naming it (exit 2), never a panic: every number is parsed with its bounds.

#![allow(clippy::disallowed_methods, reason = "the one module that reads the environment")]

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::error::{Exit, fail};

mod doctor;
mod identity;
mod settings;

pub use doctor::*;
pub use identity::*;
pub use settings::Settings;

/// Region used when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` is set, as the seed tools did.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Account file of the aws-sts-helpers Debian package, the last place searched.
pub const SYSTEM_ACCOUNT_FILE: &str = "/etc/default/aws-sts-helpers/accounts.json";

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.is_empty())
}

fn var_os(name: &str) -> Option<OsString> {
    env::var_os(name).filter(|value| !value.is_empty())
}

fn home_dir() -> Result<PathBuf> {
    match var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home)),
        None => bail!("HOME is not set, so the store ~/aws-creds cannot be found (set AWSENV_DIR)"),
    }
}

/// The credential store: `AWSENV_DIR`, else `~/aws-creds`.
fn store_dir() -> Result<PathBuf> {
    match var_os("AWSENV_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(home_dir()?.join("aws-creds")),
    }
}

/// IAM user name used when the store has no `NAME.user` file.
fn login_user() -> Option<String> {
    var("USER").or_else(|| var("LOGNAME"))
}

/// An MFA code handed over by the environment (the shell functions pass it this way so that it
/// never appears in a process's argv).
fn mfa_code() -> Option<String> {
    var("AWSENV_MFA_CODE").or_else(|| var("AWS_SESSION_MFA_CODE"))
}

/// A command that prints an MFA code (`ykman oath accounts code -s aws`, a password manager's
/// `otp` command), for accounts without one of their own.
fn mfa_command() -> Option<String> {
    var("AWSENV_MFA_COMMAND")
}

/// A variable's value as an error message may show it: quoted, and cut short.
fn shown(raw: &str) -> String {
    let cut: String = raw.chars().take(40).collect();
    if cut.len() < raw.len() { format!("{cut:?}...") } else { format!("{cut:?}") }
}

/// The usual spellings of yes and no, in any case: 1/0, true/false, yes/no, on/off.
pub fn parse_flag(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A yes/no variable; unset or empty is `None`.
fn flag(name: &str) -> Result<Option<bool>> {
    let Some(raw) = var(name) else {
        return Ok(None);
    };
    parse_flag(&raw).map(Some).ok_or_else(|| {
        fail(
            Exit::Usage,
            format!("{name} must be 1 or 0 (or true/false, yes/no, on/off), not {}", shown(&raw)),
        )
    })
}

/// A whole number of seconds within `range`; unset or empty is `None`.
fn seconds(name: &str, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>> {
    let Some(raw) = var(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<i64>() {
        Ok(value) if range.contains(&value) => Ok(Some(value)),
        _ => Err(fail(
            Exit::Usage,
            format!("{name} must be {} to {} seconds, not {}", range.start(), range.end(), shown(&raw)),
        )),
    }
}

/// Whether `AWSENV_DEBUG` (or aws-session's `AWS_SESSION_DEBUG`) asks for diagnostics.
pub fn debug() -> Result<bool> {
    Ok(flag("AWSENV_DEBUG")?.or(flag("AWS_SESSION_DEBUG")?).unwrap_or(false))
}

/// The account file named by `AWSENV_CONFIG`, for commands without `--config`.
fn account_file() -> Option<PathBuf> {
    var_os("AWSENV_CONFIG").map(PathBuf::from)
}

/// How long an MFA command may take: `AWSENV_MFA_COMMAND_TIMEOUT` seconds (1 to 3600), default 30.
fn mfa_command_timeout() -> Result<Duration> {
    let seconds = seconds("AWSENV_MFA_COMMAND_TIMEOUT", 1..=3600)?.unwrap_or(30);
    Ok(Duration::from_secs(seconds.unsigned_abs()))
}

/// The MFA session lifetime asked for in the environment (`AWSENV_DURATION`, or aws-session's
/// `AWS_SESSION_DURATION`), for commands without `--duration`.
fn duration_env() -> Option<String> {
    var("AWSENV_DURATION").or_else(|| var("AWS_SESSION_DURATION"))
}

/// Seconds before expiry at which the aws wrapper renews: `AWSENV_REFRESH_WINDOW`, default 600
/// (`shared::REFRESH_WINDOW`).
fn refresh_window() -> Result<i64> {
    // Longer than any session is allowed: the wrapper caps it at half the session.
    Ok(seconds("AWSENV_REFRESH_WINDOW", 0..=crate::creds::MAX_DURATION)?
        .unwrap_or(crate::shared::REFRESH_WINDOW))
}

/// Whether prompt segments may carry colour: `NO_COLOR` wins, then `AWSENV_COLOR` (or
/// aws-session's `AWS_SESSION_COLOR`: yes or always, no or never, else auto), else any terminal
/// but a dumb one. A prompt never fails: an unknown value means auto.
pub fn color() -> bool {
    if var("NO_COLOR").is_some() {
        return false;
    }
    let choice = var("AWSENV_COLOR").or_else(|| var("AWS_SESSION_COLOR"));
    match choice.as_deref().map(|raw| (raw, parse_flag(raw))) {
        Some((_, Some(on))) => on,
        Some(("always", _)) => true,
        Some(("never", _)) => false,
        _ => var("TERM").is_some_and(|term| term != "dumb"),
    }
}

/// Where zsh reads the user's start-up files: `ZDOTDIR`, else `HOME`.
pub fn zdotdir() -> Option<OsString> {
    var_os("ZDOTDIR").or_else(|| var_os("HOME"))
}

/// The user's login shell, for `awsenv shell`.
pub fn user_shell() -> Option<PathBuf> {
    var_os("SHELL").map(PathBuf::from)
}

/// The session awsenv set in this shell, if the shell's keys are still the ones it set.
pub struct CurrentSession {
    pub account: String,
    /// `keys`, `mfa` or `role`.
    pub kind: String,
    pub role_arn: Option<String>,
    pub expires: Option<i64>,
    /// `AWSENV_RENEWABLE`: until when the wrapper renews with no question asked.
    pub renewable: Option<i64>,
}

pub fn current_session() -> Option<CurrentSession> {
    let account = var("AWSENV_ACCOUNT")?;
    let ours = var("AWSENV_KEY_ID").zip(var("AWS_ACCESS_KEY_ID")).is_some_and(|(set, now)| set == now);
    ours.then(|| CurrentSession {
        account,
        kind: var("AWSENV_SESSION").unwrap_or_else(|| "keys".to_owned()),
        role_arn: var("AWSENV_ROLE"),
        // Not a number: shown as expired rather than as keys that never expire.
        expires: var("AWSENV_EXPIRES").map(|e| e.parse().unwrap_or(0)),
        // Not a number: no mark, rather than a promise.
        renewable: var("AWSENV_RENEWABLE").and_then(|e| e.parse().ok()),
    })
}

/// The account the current shell is switched to: `AWSENV_ACCOUNT`, else the seed's
/// `MY_AWS_SET_FOR` without its `-MFA-STS` suffix.
pub fn current_account() -> Option<String> {
    var("AWSENV_ACCOUNT")
        .or_else(|| var("MY_AWS_SET_FOR").map(|label| label.trim_end_matches("-MFA-STS").to_owned()))
}

/// What the shell's variables say about the credentials it holds, for `ec2now`.
pub struct ShellState {
    pub label: Option<String>,
    pub region: Option<String>,
    pub expires: Option<String>,
    pub renewable: Option<String>,
}

pub fn shell_state() -> ShellState {
    ShellState {
        label: var("MY_AWS_SET_FOR").or_else(|| var("AWSENV_ACCOUNT")),
        region: var("AWS_DEFAULT_REGION").or_else(|| var("AWS_REGION")),
        expires: var("AWSENV_EXPIRES"),
        renewable: var("AWSENV_RENEWABLE"),
    }
}

/// A variable as awsenv inherited it from the shell, exactly (empty included): what the shell
/// holds exported under that name.
pub fn exported(name: &str) -> Option<OsString> {
    env::var_os(name)
}

/// The two region variables as the shell has them now.
pub struct RegionVars {
    pub region: Option<String>,
    pub default_region: Option<String>,
    /// Used when the shell has neither: a profile's `region`, else us-east-1.
    pub fallback: Option<String>,
}

impl RegionVars {
    /// The region an AWS call goes to, in the SDK's order of precedence.
    pub fn effective(&self) -> &str {
        let set = self.region.as_deref().or(self.default_region.as_deref());
        set.or(self.fallback.as_deref()).unwrap_or(DEFAULT_REGION)
    }
}

/// Limit on one whole AWS operation, retries included: `AWSENV_TIMEOUT` seconds (a fraction
/// allowed), more than 0 and at most 3600, default 30.
fn aws_timeout() -> Result<Duration> {
    let Some(raw) = var("AWSENV_TIMEOUT") else {
        return Ok(Duration::from_secs(30));
    };
    let seconds = raw.trim().parse::<f64>().ok().filter(|s| *s > 0.0 && *s <= 3600.0);
    match seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
        Some(timeout) if !timeout.is_zero() => Ok(timeout),
        _ => Err(fail(
            Exit::Usage,
            format!(
                "AWSENV_TIMEOUT must be a number of seconds above 0 and at most 3600, not {}",
                shown(&raw)
            ),
        )),
    }
}

/// The aws CLI's config file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
fn aws_config_file() -> Result<PathBuf> {
    match var_os("AWS_CONFIG_FILE") {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(home_dir()?.join(".aws").join("config")),
    }
}

/// The aws CLI's credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
fn aws_credentials_file() -> Result<PathBuf> {
    match var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(home_dir()?.join(".aws").join("credentials")),
    }
}

/// A PEM file of extra trusted certificates for AWS calls, as the aws CLI reads it.
fn ca_bundle() -> Option<PathBuf> {
    var_os("AWS_CA_BUNDLE").map(PathBuf::from)
}

/// The ssh-agent socket, for `ssh-cert --output agent`.
pub fn ssh_auth_sock() -> Option<PathBuf> {
    var_os("SSH_AUTH_SOCK").map(PathBuf::from)
}

/// The path the shell functions call. The one on PATH is preferred when it is this binary, so a
/// package manager's stable symlink is kept rather than the versioned file it points to.
pub fn binary_path() -> Result<PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let current = std::env::current_exe().context("could not find the awsenv binary's own path")?;
    // The first executable `awsenv` on PATH, as a shell finds it, compared by device and inode
    // (symbolic links followed): a stat per PATH entry, where `which` and `canonicalize` cost
    // `awsenv init` a tenth of its instructions.
    let executable = |path: &Path| {
        std::fs::metadata(path).ok().filter(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("awsenv"))
        .find_map(|candidate| executable(&candidate).map(|meta| (candidate, meta)));
    if let (Some((on_path, found)), Ok(this)) = (on_path, std::fs::metadata(&current))
        && (found.dev(), found.ino()) == (this.dev(), this.ino())
    {
        return Ok(on_path);
    }
    Ok(current)
}
