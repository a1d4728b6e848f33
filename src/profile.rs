//! Profiles of the aws CLI's own files (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`), which
//! awsenv accepts wherever it accepts an account of the store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Settings;
use crate::files::{self, Trust, limit};
use crate::ini;
use crate::store::validate_name;

/// One profile, its settings merged from both files (the credentials file wins, as in botocore).
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// The file that defines it (the config file when both do), for messages and `awsenv accounts`.
    pub file: PathBuf,
    settings: Vec<(String, String)>,
}

impl Profile {
    /// The same profile without its role settings: the keys a self-referencing role uses.
    pub fn drop_role(&mut self) {
        self.settings
            .retain(|(key, _)| !matches!(key.as_str(), "role_arn" | "source_profile" | "credential_source"));
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// Every profile of the two files. They are read only when a name is not in the store.
pub struct Profiles {
    profiles: Vec<Profile>,
    /// The config file's `[sso-session NAME]` sections, in file order (IAM Identity Center).
    sso_sessions: Vec<(String, Vec<(String, String)>)>,
    /// The config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), whether it exists or not.
    config_file: PathBuf,
}

impl Profiles {
    pub fn load(settings: &Settings) -> Result<Self> {
        let mut profiles: Vec<Profile> = Vec::new();
        let mut sso_sessions: Vec<(String, Vec<(String, String)>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let config_file = settings.aws_config_file()?;
        let files = [(config_file.clone(), true), (settings.aws_credentials_file()?, false)];
        for (path, is_config) in files {
            let Some(text) = read_optional(&path)? else {
                continue;
            };
            for section in ini::parse(&text, &path)? {
                if is_config && let Some(name) = section.header.strip_prefix("sso-session ") {
                    let name = name.trim().to_owned();
                    match sso_sessions.iter_mut().find(|(known, _)| *known == name) {
                        Some((_, settings)) => settings.extend(section.settings),
                        None => sso_sessions.push((name, section.settings)),
                    }
                    continue;
                }
                let name = match (is_config, section.header.strip_prefix("profile ")) {
                    (true, Some(name)) => name.trim(),
                    (true, None) if section.header == "default" => "default",
                    (true, None) => continue,
                    (false, _) => section.header.as_str(),
                };
                if validate_name(name).is_err() {
                    crate::error::debug!(
                        "profile {name:?} in {} has a name awsenv cannot address",
                        path.display()
                    );
                    continue;
                }
                // An index by name keeps loading linear in the number of sections.
                match index.get(name) {
                    Some(&at) => profiles[at].settings.extend(section.settings),
                    None => {
                        index.insert(name.to_owned(), profiles.len());
                        profiles.push(Profile {
                            name: name.to_owned(),
                            file: path.clone(),
                            settings: section.settings,
                        });
                    }
                }
            }
        }
        Ok(Self { profiles, sso_sessions, config_file })
    }

    /// The config file the profiles were read from, for messages.
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// The settings of `[sso-session NAME]`, the last value of a repeated key last.
    pub fn sso_session(&self, name: &str) -> Option<&[(String, String)]> {
        self.sso_sessions.iter().find(|(known, _)| known == name).map(|(_, settings)| settings.as_slice())
    }

    pub fn sso_session_names(&self) -> impl Iterator<Item = &str> {
        self.sso_sessions.iter().map(|(name, _)| name.as_str())
    }

    /// The profile `name`: spelled exactly, else the only one that matches without regard to case.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name).or_else(|| {
            let mut matches = self.profiles.iter().filter(|p| p.name.eq_ignore_ascii_case(name));
            matches.next().filter(|_| matches.next().is_none())
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter()
    }
}

/// The aws CLI's file at `path`: the user's, writable by no one else, since its keys, roles and
/// `mfa_process` commands are used as they stand.
fn read_optional(path: &Path) -> Result<Option<String>> {
    files::read_text(path, "aws CLI file", limit::INI, Trust::Required)
}
