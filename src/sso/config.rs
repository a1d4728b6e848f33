//! Which IAM Identity Center instance and role an account means, read from the aws CLI's config
//! file as botocore reads it: `[sso-session NAME]` sections (`sso_start_url`, `sso_region`,
//! `sso_registration_scopes`) and the profiles that name one with `sso_session`, or legacy
//! profiles with `sso_start_url` and `sso_region` of their own; `sso_account_id` and
//! `sso_role_name` pick the role. `sso_use_device_code = true` (awsenv's own key, which the aws
//! CLI ignores) signs in with the device code flow.

use anyhow::Result;

use crate::config::parse_flag;
use crate::error::{Exit, fail};
use crate::profile::{Profile, Profiles};

/// The scope the portal needs; registered when the config names none, so that tokens come with a
/// refresh token (the aws CLI's authorization code flow does the same).
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// One sign-in: an IAM Identity Center instance and how its token is cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The `[sso-session NAME]`; `None` for a legacy profile, whose token is cached under its
    /// start URL instead.
    pub name: Option<String>,
    /// What the user calls it: the sso-session's name, or the legacy profile's.
    pub label: String,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes`, as configured (`None` when the key is absent: that is part of
    /// the aws CLI's registration cache key).
    pub scopes: Option<Vec<String>>,
    /// `sso_use_device_code`: never try a browser.
    pub device_code: bool,
}

/// A role reached through IAM Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRole {
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
}

fn get<'a>(settings: &'a [(String, String)], key: &str) -> Option<&'a str> {
    settings.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn bad(message: String) -> anyhow::Error {
    fail(Exit::Config, message)
}

impl SsoSession {
    /// The scopes registered for this session.
    pub fn registration_scopes(&self) -> Vec<String> {
        self.scopes.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| vec![DEFAULT_SCOPE.to_owned()])
    }

    /// `[sso-session NAME]` of the config file.
    pub fn named(profiles: &Profiles, name: &str) -> Result<Self> {
        let file = profiles.config_file();
        let Some(settings) = profiles.sso_session(name) else {
            return Err(bad(format!("{} has no [sso-session {name}] section", file.display())));
        };
        let where_ = format!("[sso-session {name}] in {}", file.display());
        let (start_url, region) = location(settings, &where_)?;
        let scopes = get(settings, "sso_registration_scopes").map(parse_scopes).transpose();
        Ok(Self {
            name: Some(name.to_owned()),
            label: name.to_owned(),
            start_url,
            region,
            scopes: scopes.map_err(|what| bad(format!("{where_}: {what}")))?,
            device_code: device_code(settings, &where_)?,
        })
    }

    /// The session `profile` signs in with; `None` when it is not an IAM Identity Center profile.
    pub fn of_profile(profiles: &Profiles, profile: &Profile) -> Result<Option<Self>> {
        let settings = |key: &str| profile.get(key);
        let where_ = format!("profile {} in {}", profile.name, profile.file.display());
        if let Some(name) = settings("sso_session") {
            let session = Self::named(profiles, name)?;
            // botocore refuses a profile whose own values contradict its session's.
            for (key, value) in [("sso_start_url", &session.start_url), ("sso_region", &session.region)] {
                if settings(key).is_some_and(|own| own != value) {
                    return Err(bad(format!("{where_}: {key} differs from the one of [sso-session {name}]")));
                }
            }
            return Ok(Some(session));
        }
        if settings("sso_start_url").is_none() && settings("sso_region").is_none() {
            return Ok(None);
        }
        let own: Vec<(String, String)> = ["sso_start_url", "sso_region", "sso_use_device_code"]
            .iter()
            .filter_map(|key| settings(key).map(|value| ((*key).to_owned(), value.to_owned())))
            .collect();
        let (start_url, region) = location(&own, &where_)?;
        Ok(Some(Self {
            name: None,
            label: profile.name.clone(),
            start_url,
            region,
            scopes: None,
            device_code: device_code(&own, &where_)?,
        }))
    }

    /// What `awsenv sso login [SESSION]` means: an sso-session, else an IAM Identity Center
    /// profile; without a name, the only session the config file has.
    pub fn find(profiles: &Profiles, name: Option<&str>) -> Result<Self> {
        let file = profiles.config_file();
        if let Some(name) = name {
            if profiles.sso_session(name).is_some() {
                return Self::named(profiles, name);
            }
            if let Some(profile) = profiles.get(name)
                && let Some(session) = Self::of_profile(profiles, profile)?
            {
                return Ok(session);
            }
            return Err(bad(format!(
                "{} has no [sso-session {name}] and no IAM Identity Center profile {name}",
                file.display()
            )));
        }
        let mut all: Vec<Self> = Vec::new();
        for name in profiles.sso_session_names() {
            all.push(Self::named(profiles, name)?);
        }
        for profile in profiles.iter() {
            if let Ok(Some(session)) = Self::of_profile(profiles, profile)
                && !all.iter().any(|known| known.token_key() == session.token_key())
            {
                all.push(session);
            }
        }
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(bad(format!(
                "{} has no [sso-session NAME] section and no profile with sso_start_url",
                file.display()
            ))),
            _ => {
                let names: Vec<&str> = all.iter().map(|s| s.label.as_str()).collect();
                Err(fail(Exit::Usage, format!("name the session to use: one of {}", names.join(", "))))
            }
        }
    }

    /// What the token cache is keyed by: the session's name, else (legacy) its start URL.
    pub fn token_key(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.start_url)
    }
}

/// A permission set's role name as IAM allows it: 1 to 64 of letters, digits and `_+=,.@-`.
pub fn is_role_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    !name.is_empty() && name.len() <= 64 && name.chars().all(allowed)
}

impl SsoRole {
    /// The role `profile` names through IAM Identity Center; `None` when it is not such a profile.
    pub fn of_profile(profiles: &Profiles, profile: &Profile) -> Result<Option<Self>> {
        let Some(session) = SsoSession::of_profile(profiles, profile)? else {
            return Ok(None);
        };
        let where_ = format!("profile {} in {}", profile.name, profile.file.display());
        let (Some(account_id), Some(role_name)) =
            (profile.get("sso_account_id"), profile.get("sso_role_name"))
        else {
            return Err(bad(format!(
                "{where_}: an IAM Identity Center profile needs sso_account_id and sso_role_name"
            )));
        };
        Self::new(session, account_id, role_name).map(Some).map_err(|what| bad(format!("{where_}: {what}")))
    }

    /// `SESSION/ACCOUNT_ID/ROLE`, the names `awsenv sso accounts` lists; `None` when `name` does not
    /// have that form or SESSION is not an sso-session or IAM Identity Center profile.
    pub fn parse_name(profiles: &Profiles, name: &str) -> Result<Option<Self>> {
        let mut parts = name.rsplitn(3, '/');
        let (Some(role_name), Some(account_id), Some(session)) = (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let session = if profiles.sso_session(session).is_some() {
            SsoSession::named(profiles, session)?
        } else {
            match profiles.get(session) {
                Some(profile) => match SsoSession::of_profile(profiles, profile)? {
                    Some(session) => session,
                    None => return Ok(None),
                },
                None => return Ok(None),
            }
        };
        Self::new(session, account_id, role_name).map(Some).map_err(|what| bad(format!("{name}: {what}")))
    }

    fn new(session: SsoSession, account_id: &str, role_name: &str) -> Result<Self, String> {
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the account id must be 12 digits, not {account_id:?}"));
        }
        if !is_role_name(role_name) {
            return Err(format!("{role_name:?} is not a role name (letters, digits and _+=,.@-)"));
        }
        Ok(Self { session, account_id: account_id.to_owned(), role_name: role_name.to_owned() })
    }

    /// The name `awsenv sso accounts` lists it under.
    pub fn name(&self) -> String {
        format!("{}/{}/{}", self.session.label, self.account_id, self.role_name)
    }

    /// What role credentials in awsenv's cache were made for: the same instance, account and role.
    /// The session's name is left out, so that renaming it keeps the cache.
    pub fn fingerprint(&self) -> String {
        format!("sso {} {} {}", self.session.start_url, self.account_id, self.role_name)
    }
}

/// `sso_start_url` and `sso_region`, both required and checked.
fn location(settings: &[(String, String)], where_: &str) -> Result<(String, String)> {
    let (Some(start_url), Some(region)) = (get(settings, "sso_start_url"), get(settings, "sso_region"))
    else {
        return Err(bad(format!("{where_}: sso_start_url and sso_region are both required")));
    };
    if start_url.chars().any(|c| c.is_whitespace() || c.is_control()) || !start_url.contains("://") {
        return Err(bad(format!("{where_}: sso_start_url is not a URL")));
    }
    let region_ok = region.len() <= 64
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(bad(format!("{where_}: sso_region {region:?} is not a region name")));
    }
    Ok((start_url.to_owned(), region.to_owned()))
}

/// `sso_registration_scopes`: comma-separated, as the aws CLI splits it.
fn parse_scopes(raw: &str) -> Result<Vec<String>, String> {
    let scopes: Vec<String> =
        raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    match scopes.iter().find(|s| !s.chars().all(|c| c.is_ascii_graphic())) {
        Some(scope) => Err(format!("sso_registration_scopes has an invalid scope {scope:?}")),
        None => Ok(scopes),
    }
}

fn device_code(settings: &[(String, String)], where_: &str) -> Result<bool> {
    match get(settings, "sso_use_device_code") {
        None => Ok(false),
        Some(raw) => parse_flag(raw)
            .ok_or_else(|| bad(format!("{where_}: sso_use_device_code must be true or false, not {raw:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_like_the_aws_cli() {
        assert_eq!(
            parse_scopes(" sso:account:access , ,codewhisperer:x").unwrap(),
            ["sso:account:access", "codewhisperer:x"]
        );
        assert!(parse_scopes("a b").unwrap_err().contains("invalid scope"));
    }

    #[test]
    fn role_names_and_account_ids_are_checked() {
        let session = SsoSession {
            name: Some("corp".into()),
            label: "corp".into(),
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: None,
            device_code: false,
        };
        let role = SsoRole::new(session.clone(), "111111111111", "Admin").unwrap();
        assert_eq!(role.name(), "corp/111111111111/Admin");
        assert_eq!(role.fingerprint(), "sso https://d-1.awsapps.com/start 111111111111 Admin");
        assert!(SsoRole::new(session.clone(), "11111111111", "Admin").is_err());
        assert!(SsoRole::new(session.clone(), "111111111111", "a/b").is_err());
        assert!(SsoRole::new(session, "111111111111", "").is_err());
    }

    #[test]
    fn a_location_needs_a_url_and_a_region() {
        let settings = |url: &str, region: &str| {
            vec![("sso_start_url".to_owned(), url.to_owned()), ("sso_region".to_owned(), region.to_owned())]
        };
        assert!(location(&settings("https://x/start", "eu-west-1"), "here").is_ok());
        assert!(location(&settings("not a url", "eu-west-1"), "here").is_err());
        assert!(location(&settings("https://x/start", "EU west"), "here").is_err());
        assert!(location(&settings("https://x/start", ""), "here").is_err());
    }
}
