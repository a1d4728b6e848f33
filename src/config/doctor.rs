//! What only `doctor` reads: the awsenv on PATH, the STS endpoint and the proxy as the SDK sees
//! them, and the settings it reports on.

#![allow(clippy::disallowed_methods, reason = "config/ is the one module that reads the environment")]

use std::path::PathBuf;

use super::*;

/// The `awsenv` on PATH, if any: `doctor` compares it with the binary the shell functions call.
pub fn awsenv_on_path() -> Option<PathBuf> {
    which::which("awsenv").ok()
}

/// The STS endpoint the environment names, as the SDK reads it: the variable's name and its value
/// (`AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`); none when
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
fn sts_endpoint() -> Option<(&'static str, String)> {
    if var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").as_deref().and_then(parse_flag) == Some(true) {
        return None;
    }
    ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"].into_iter().find_map(|name| Some((name, var(name)?)))
}

/// The proxy rules of `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case), read
/// by the same code the SDK's HTTP client reads them with.
fn proxy_rules() -> hyper_util::client::proxy::matcher::Matcher {
    hyper_util::client::proxy::matcher::Matcher::from_env()
}

/// What `awsenv doctor` checks in the environment beyond `Settings`. Values are kept only for
/// variables that hold no secret; of the rest, only whether they are set.
pub struct DoctorEnv {
    /// Why `AWSENV_DEBUG` (or `AWS_SESSION_DEBUG`) would be refused.
    pub debug_error: Option<String>,
    /// `AWSENV_COLOR` or `AWS_SESSION_COLOR`, with its name, when the value means nothing to awsenv.
    pub unknown_color: Option<(&'static str, String)>,
    /// The variable that gives the MFA session lifetime, and its value.
    pub duration: Option<(&'static str, String)>,
    pub account: Option<String>,
    /// Whether `AWS_ACCESS_KEY_ID` is set, and whether it is the key awsenv set (`AWSENV_KEY_ID`).
    pub access_key_set: bool,
    pub keys_are_awsenvs: bool,
    pub expires: Option<String>,
    pub profile: Option<String>,
    pub default_profile: Option<String>,
    /// Names of other tools' variables that are set (aws-vault's, awsume's, Granted's, ...).
    pub foreign: Vec<String>,
    /// The variable that names the STS endpoint, and its value.
    pub sts_endpoint: Option<(&'static str, String)>,
    /// The proxy rules the SDK's HTTP client would follow.
    pub proxies: hyper_util::client::proxy::matcher::Matcher,
}

impl DoctorEnv {
    pub fn read() -> Self {
        let color =
            ["AWSENV_COLOR", "AWS_SESSION_COLOR"].into_iter().find_map(|name| Some((name, var(name)?)));
        let known = |raw: &str| parse_flag(raw).is_some() || matches!(raw, "always" | "never" | "auto");
        let key = var("AWS_ACCESS_KEY_ID");
        let mut foreign: Vec<String> = env::vars_os()
            .filter_map(|(name, value)| Some(name.into_string().ok()?).filter(|_| !value.is_empty()))
            .filter(|name| {
                ["AWSUME_", "GRANTED_", "AWS_SSO_"].iter().any(|prefix| name.starts_with(prefix))
                    || matches!(name.as_str(), "AWS_VAULT" | "AWSU_PROFILE" | "SAML2AWS_PROFILE")
            })
            .collect();
        foreign.sort();
        Self {
            debug_error: debug().err().map(|e| crate::error::one_line(&e)),
            unknown_color: color.filter(|(_, raw)| !known(raw)),
            duration: ["AWSENV_DURATION", "AWS_SESSION_DURATION"]
                .into_iter()
                .find_map(|name| Some((name, var(name)?))),
            account: var("AWSENV_ACCOUNT"),
            access_key_set: key.is_some(),
            keys_are_awsenvs: key.is_some() && var("AWSENV_KEY_ID") == key,
            expires: var("AWSENV_EXPIRES"),
            profile: var("AWS_PROFILE"),
            default_profile: var("AWS_DEFAULT_PROFILE"),
            foreign,
            sts_endpoint: sts_endpoint(),
            proxies: proxy_rules(),
        }
    }
}
