//! The one place that reads the process environment (besides the `env = ...` options declared in
//! `cli.rs`). Everything else receives these values as parameters.

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

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

pub fn home_dir() -> Result<PathBuf> {
    match var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home)),
        None => bail!("HOME is not set, so the store ~/aws-creds cannot be found (set AWSENV_DIR)"),
    }
}

/// The credential store: `AWSENV_DIR`, else `~/aws-creds`.
pub fn store_dir() -> Result<PathBuf> {
    match var_os("AWSENV_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(home_dir()?.join("aws-creds")),
    }
}

/// IAM user name used when the store has no `NAME.user` file.
pub fn login_user() -> Option<String> {
    var("USER").or_else(|| var("LOGNAME"))
}

/// An MFA code handed over by the environment (the shell functions pass it this way so that it
/// never appears in a process's argv).
pub fn mfa_code() -> Option<String> {
    var("AWSENV_MFA_CODE").or_else(|| var("AWS_SESSION_MFA_CODE"))
}

/// A command that prints an MFA code (`ykman oath accounts code -s aws`, a password manager's
/// `otp` command), for accounts without one of their own.
pub fn mfa_command() -> Option<String> {
    var("AWSENV_MFA_COMMAND")
}

/// How long an MFA command may take: `AWSENV_MFA_COMMAND_TIMEOUT` seconds, default 30.
pub fn mfa_command_timeout() -> Result<Duration> {
    let Some(raw) = var("AWSENV_MFA_COMMAND_TIMEOUT") else {
        return Ok(Duration::from_secs(30));
    };
    let seconds: u64 =
        raw.parse().ok().filter(|s| *s > 0).with_context(|| {
            format!("AWSENV_MFA_COMMAND_TIMEOUT must be a number of seconds, not {raw:?}")
        })?;
    Ok(Duration::from_secs(seconds))
}

/// aws-session's name for `AWSENV_DURATION` (which clap reads for `--duration`).
pub fn legacy_duration() -> Option<String> {
    var("AWS_SESSION_DURATION")
}

/// The MFA session lifetime asked for in the environment, for commands without `--duration`.
pub fn duration_env() -> Option<String> {
    var("AWSENV_DURATION").or_else(legacy_duration)
}

/// aws-session's name for `AWSENV_DEBUG` (which clap reads for `--debug`).
pub fn legacy_debug() -> bool {
    var("AWS_SESSION_DEBUG").is_some_and(|v| v != "0")
}

/// Seconds before expiry at which the aws wrapper renews: `AWSENV_REFRESH_WINDOW`, default 600.
pub fn refresh_window() -> Result<i64> {
    let Some(raw) = var("AWSENV_REFRESH_WINDOW") else {
        return Ok(600);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .with_context(|| format!("AWSENV_REFRESH_WINDOW must be a number of seconds, not {raw:?}"))
}

/// Whether prompt segments may carry colour: `NO_COLOR` wins, then `AWSENV_COLOR` (or
/// aws-session's `AWS_SESSION_COLOR`: 1/always, 0/never), else any terminal but a dumb one.
pub fn color() -> bool {
    if var("NO_COLOR").is_some() {
        return false;
    }
    match var("AWSENV_COLOR").or_else(|| var("AWS_SESSION_COLOR")).as_deref() {
        Some("0" | "never" | "no" | "false") => false,
        Some("1" | "always" | "yes" | "true") => true,
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
}

pub fn current_session() -> Option<CurrentSession> {
    let account = var("AWSENV_ACCOUNT")?;
    let ours = var("AWSENV_KEY_ID").zip(var("AWS_ACCESS_KEY_ID")).is_some_and(|(set, now)| set == now);
    ours.then(|| CurrentSession {
        account,
        kind: var("AWSENV_SESSION").unwrap_or_else(|| "keys".to_owned()),
        role_arn: var("AWSENV_ROLE"),
        expires: var("AWSENV_EXPIRES").and_then(|e| e.parse().ok()),
    })
}

/// True when no variable is set that clap reads for a global option (`--config`, `--debug`), so
/// that the fast path, which does not consult them, parses the same as clap.
pub fn clap_env_unset() -> bool {
    ["AWSENV_CONFIG", "AWSENV_DEBUG"].iter().all(|name| env::var_os(name).is_none())
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
}

pub fn shell_state() -> ShellState {
    ShellState {
        label: var("MY_AWS_SET_FOR").or_else(|| var("AWSENV_ACCOUNT")),
        region: var("AWS_DEFAULT_REGION").or_else(|| var("AWS_REGION")),
        expires: var("AWSENV_EXPIRES"),
    }
}

/// The two region variables as the shell has them now.
pub struct RegionVars {
    pub region: Option<String>,
    pub default_region: Option<String>,
    /// Used when the shell has neither: a profile's `region`, else us-east-1.
    pub fallback: Option<String>,
}

impl RegionVars {
    pub fn read(fallback: Option<String>) -> Self {
        Self { region: var("AWS_REGION"), default_region: var("AWS_DEFAULT_REGION"), fallback }
    }

    /// The region an AWS call goes to, in the SDK's order of precedence.
    pub fn effective(&self) -> &str {
        let set = self.region.as_deref().or(self.default_region.as_deref());
        set.or(self.fallback.as_deref()).unwrap_or(DEFAULT_REGION)
    }
}

/// Limit on one whole AWS operation, retries included: `AWSENV_TIMEOUT` seconds, default 30.
pub fn aws_timeout() -> Result<Duration> {
    let Some(raw) = var("AWSENV_TIMEOUT") else {
        return Ok(Duration::from_secs(30));
    };
    let seconds: f64 = raw
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .with_context(|| format!("AWSENV_TIMEOUT must be a positive number of seconds, not {raw:?}"))?;
    Ok(Duration::from_secs_f64(seconds))
}

/// The aws CLI's config file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn aws_config_file() -> Result<PathBuf> {
    match var_os("AWS_CONFIG_FILE") {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(home_dir()?.join(".aws").join("config")),
    }
}

/// The aws CLI's credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
pub fn aws_credentials_file() -> Result<PathBuf> {
    match var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(home_dir()?.join(".aws").join("credentials")),
    }
}

/// A PEM file of extra trusted certificates for AWS calls, as the aws CLI reads it.
pub fn ca_bundle() -> Option<PathBuf> {
    var_os("AWS_CA_BUNDLE").map(PathBuf::from)
}

/// The ssh-agent socket, for `ssh-cert --output agent`.
pub fn ssh_auth_sock() -> Option<PathBuf> {
    var_os("SSH_AUTH_SOCK").map(PathBuf::from)
}
