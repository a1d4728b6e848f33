//! `Settings`: what sessions depend on in the environment, read once and handed down.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Result;

use super::*;
use crate::error::{Exit, fail};

/// A setting read from the environment whose error is kept until a command needs the value: a
/// malformed `AWSENV_TIMEOUT` must not break `ec2switch` to a cached session.
#[derive(Clone, Debug)]
pub(super) struct Deferred<T>(Result<T, (Exit, String)>);

impl<T: Clone> Deferred<T> {
    pub(super) fn of(result: Result<T>) -> Self {
        Self(result.map_err(|e| (crate::error::exit_of(&e), crate::error::one_line(&e))))
    }

    pub(super) fn get(&self) -> Result<T> {
        self.0.clone().map_err(|(exit, message)| fail(exit, message))
    }
}

impl<T: Default> Default for Deferred<T> {
    fn default() -> Self {
        Self(Ok(T::default()))
    }
}

/// A setting only some commands need (a sign-in, a certificate), read from the environment when
/// first asked for: `switch` and `credential-process` from the cache never pay for it.
#[derive(Clone)]
struct Lazy<T> {
    value: OnceLock<T>,
    read: fn() -> T,
}

impl<T> Lazy<T> {
    fn new(read: fn() -> T) -> Self {
        Self { value: OnceLock::new(), read }
    }

    fn get(&self) -> &T {
        self.value.get_or_init(self.read)
    }

    /// Already read, for tests, which never look at the environment.
    #[cfg(test)]
    fn ready(value: T) -> Self {
        fn never<T>() -> T {
            unreachable!("a ready setting is never read")
        }
        Self { value: OnceLock::from(value), read: never::<T> }
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
    home_dir: Lazy<Deferred<PathBuf>>,
    sso_timeout: Lazy<Deferred<Duration>>,
    desktop: Lazy<Desktop>,
    certificates: Lazy<CertificateEnv>,
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
            home_dir: Lazy::new(|| Deferred::of(home_dir())),
            sso_timeout: Lazy::new(|| Deferred::of(sso_timeout())),
            desktop: Lazy::new(desktop),
            certificates: Lazy::new(CertificateEnv::read),
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
            home_dir: Lazy::ready(Deferred(Ok(store_dir.to_owned()))),
            sso_timeout: Lazy::ready(Deferred(Ok(Duration::from_secs(1)))),
            desktop: Lazy::ready(Desktop::default()),
            certificates: Lazy::ready(CertificateEnv::default()),
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

    /// `HOME`: where the aws CLI keeps its SSO token cache, and what `~/` means in a store file.
    pub fn home_dir(&self) -> Result<PathBuf> {
        self.home_dir.get().get()
    }

    /// How long an IAM Identity Center sign-in may wait for its approval.
    pub fn sso_timeout(&self) -> Result<Duration> {
        self.sso_timeout.get().get()
    }

    /// Whether a browser on this machine could reach a loopback listener of awsenv's.
    pub fn desktop(&self) -> &Desktop {
        self.desktop.get()
    }

    /// What certificate accounts take from the environment.
    pub fn certificates(&self) -> &CertificateEnv {
        self.certificates.get()
    }
}
