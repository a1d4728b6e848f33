//! `Settings`: what sessions depend on in the environment, read once and handed down.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::*;
use crate::error::{Exit, fail};

/// A setting read from the environment whose error is kept until a command needs the value: a
/// malformed `AWSENV_TIMEOUT` must not break `ec2switch` to a cached session.
#[derive(Clone)]
struct Deferred<T>(Result<T, (Exit, String)>);

impl<T: Clone> Deferred<T> {
    fn of(result: Result<T>) -> Self {
        Self(result.map_err(|e| (crate::error::exit_of(&e), crate::error::one_line(&e))))
    }

    fn get(&self) -> Result<T> {
        self.0.clone().map_err(|(exit, message)| fail(exit, message))
    }
}

/// Everything the sessions of an account depend on in the environment, read once when a command
/// first needs it and handed down from there.
#[derive(Clone)]
pub struct Settings {
    store_dir: Deferred<PathBuf>,
    aws_config_file: Deferred<PathBuf>,
    aws_credentials_file: Deferred<PathBuf>,
    timeout: Deferred<Duration>,
    mfa_command_timeout: Deferred<Duration>,
    refresh_window: Deferred<i64>,
    /// `--config`, else `AWSENV_CONFIG`: the account file, when not in the usual places.
    pub account_file: Option<PathBuf>,
    pub login_user: Option<String>,
    pub mfa_code: Option<String>,
    pub mfa_command: Option<String>,
    /// `AWSENV_DURATION` (or `AWS_SESSION_DURATION`) as given, parsed by whoever uses it.
    pub duration: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    region: Option<String>,
    default_region: Option<String>,
}

impl Settings {
    pub fn read(account_file_flag: Option<PathBuf>) -> Self {
        Self {
            store_dir: Deferred::of(store_dir()),
            aws_config_file: Deferred::of(aws_config_file()),
            aws_credentials_file: Deferred::of(aws_credentials_file()),
            timeout: Deferred::of(aws_timeout()),
            mfa_command_timeout: Deferred::of(mfa_command_timeout()),
            refresh_window: Deferred::of(refresh_window()),
            account_file: account_file_flag.or_else(account_file),
            login_user: login_user(),
            mfa_code: mfa_code(),
            mfa_command: mfa_command(),
            duration: duration_env(),
            ca_bundle: ca_bundle(),
            region: var("AWS_REGION"),
            default_region: var("AWS_DEFAULT_REGION"),
        }
    }

    pub fn store_dir(&self) -> Result<PathBuf> {
        self.store_dir.get()
    }

    /// The errors of every setting that would be refused, for `doctor`, which reports them all
    /// instead of stopping at the first.
    pub fn refused(&self) -> Vec<String> {
        let errors = [
            self.store_dir.0.as_ref().err(),
            self.aws_config_file.0.as_ref().err(),
            self.aws_credentials_file.0.as_ref().err(),
            self.timeout.0.as_ref().err(),
            self.mfa_command_timeout.0.as_ref().err(),
            self.refresh_window.0.as_ref().err(),
        ];
        let mut messages: Vec<String> = errors.into_iter().flatten().map(|(_, m)| m.clone()).collect();
        messages.dedup();
        messages
    }

    /// Settings as an empty environment gives them, with the store at `store_dir`.
    #[cfg(test)]
    pub fn for_tests(store_dir: &std::path::Path) -> Self {
        let path = |p: PathBuf| Deferred(Ok(p));
        Self {
            store_dir: path(store_dir.to_owned()),
            aws_config_file: path(store_dir.join("no-config")),
            aws_credentials_file: path(store_dir.join("no-credentials")),
            timeout: Deferred(Ok(Duration::from_secs(1))),
            mfa_command_timeout: Deferred(Ok(Duration::from_secs(1))),
            refresh_window: Deferred(Ok(600)),
            account_file: None,
            login_user: Some("tester".to_owned()),
            mfa_code: None,
            mfa_command: None,
            duration: None,
            ca_bundle: None,
            region: None,
            default_region: None,
        }
    }

    pub fn aws_config_file(&self) -> Result<PathBuf> {
        self.aws_config_file.get()
    }

    pub fn aws_credentials_file(&self) -> Result<PathBuf> {
        self.aws_credentials_file.get()
    }

    pub fn timeout(&self) -> Result<Duration> {
        self.timeout.get()
    }

    pub fn mfa_command_timeout(&self) -> Result<Duration> {
        self.mfa_command_timeout.get()
    }

    pub fn refresh_window(&self) -> Result<i64> {
        self.refresh_window.get()
    }

    /// The shell's region variables, with `fallback` (a profile's region) for when it has none.
    pub fn regions(&self, fallback: Option<String>) -> RegionVars {
        RegionVars { region: self.region.clone(), default_region: self.default_region.clone(), fallback }
    }
}
