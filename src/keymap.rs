//! The root-owned file that says which IAM principals may log in as which local user, for
//! `authorized-keys`. sshd runs the command as root's delegate, so the file is trusted only when
//! root alone can change it, checked as sshd checks its own files.
//!
//! ```text
//! # /etc/awsenv/authorized-keys.conf
//! cache-dir = /var/cache/awsenv-keys
//! fresh = 5m
//! stale = 1h
//! timeout = 5s
//! profile = ssh-keys-reader
//! region = eu-west-1
//!
//! [users]
//! ec2-user = groups/admins, users/alice
//! alice =
//! ```
//! A local user with nothing after `=` gets the IAM user of the same name; one not listed gets
//! nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::{Exit, fail};

pub const DEFAULT_MAP: &str = "/etc/awsenv/authorized-keys.conf";

/// An IAM user or group whose members' keys are accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    User(String),
    Group(String),
}

impl Principal {
    /// `users/NAME` or `groups/NAME`, as the seed's `IAM_PRINCIPALS`.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, name) = text.split_once('/')?;
        if !is_iam_name(name) {
            return None;
        }
        match kind {
            "users" => Some(Self::User(name.to_owned())),
            "groups" => Some(Self::Group(name.to_owned())),
            _ => None,
        }
    }

    /// A name usable as a file name in the cache.
    pub fn file_stem(&self) -> String {
        match self {
            Self::User(name) => format!("user-{name}"),
            Self::Group(name) => format!("group-{name}"),
        }
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(name) => write!(f, "users/{name}"),
            Self::Group(name) => write!(f, "groups/{name}"),
        }
    }
}

/// IAM's character set for user and group names; it has no quote, space or slash, so a name is
/// safe inside sshd's `environment="..."` option and as a file name.
pub fn is_iam_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[derive(Debug, Default)]
pub struct KeyMap {
    pub settings: BTreeMap<String, String>,
    users: BTreeMap<String, Vec<Principal>>,
}

impl KeyMap {
    /// Reads `path` after checking that it and every directory above it belong to root and are
    /// writable by no one else.
    pub fn load(path: &Path) -> Result<Self> {
        check_root_owned(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(Exit::Config, format!("{}: cannot read it: {e}", path.display())))?;
        Self::parse(&text).map_err(|why| fail(Exit::Config, format!("{}: {why}", path.display())))
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut map = Self::default();
        let mut in_users = false;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("line {}", number + 1);
            if line.starts_with('[') {
                in_users = line == "[users]";
                if !in_users {
                    return Err(format!("{}: unknown section {line} (only [users])", at()));
                }
                continue;
            }
            let (key, value) =
                line.split_once('=').ok_or_else(|| format!("{}: expected NAME = VALUE", at()))?;
            let (key, value) = (key.trim(), value.trim());
            if in_users {
                let principals = if value.is_empty() {
                    vec![Principal::User(key.to_owned())]
                } else {
                    let parsed: Option<Vec<_>> =
                        value.split(',').map(|p| Principal::parse(p.trim())).collect();
                    parsed.ok_or_else(|| {
                        format!("{}: principals are users/NAME or groups/NAME, not {value:?}", at())
                    })?
                };
                if !is_iam_name(key) && !key.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                    return Err(format!("{}: {key:?} is not a user name", at()));
                }
                map.users.insert(key.to_owned(), principals);
            } else {
                const KNOWN: [&str; 6] = ["cache-dir", "fresh", "stale", "timeout", "profile", "region"];
                if !KNOWN.contains(&key) {
                    return Err(format!("{}: unknown setting {key:?} (known: {})", at(), KNOWN.join(", ")));
                }
                map.settings.insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(map)
    }

    /// The principals of `local_user`; `None` when the map does not list it.
    pub fn principals_of(&self, local_user: &str) -> Option<&[Principal]> {
        self.users.get(local_user).map(Vec::as_slice)
    }

    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(String::as_str)
    }

    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.setting("cache-dir").map(PathBuf::from)
    }
}

/// sshd's rule for the files it trusts: owned by root, not writable by group or others, and the
/// same for each directory up to `/`.
fn check_root_owned(path: &Path) -> Result<()> {
    let absolute = std::path::absolute(path)?;
    for component in absolute.ancestors() {
        let meta = std::fs::metadata(component)
            .map_err(|e| fail(Exit::Config, format!("{}: {e}", component.display())))?;
        if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
            return Err(fail(
                Exit::Config,
                format!(
                    "{}: must be owned by root and writable by no one else (owner uid {}, mode {:o}), as {} is trusted",
                    component.display(),
                    meta.uid(),
                    meta.mode() & 0o7777,
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_map_to_principals_or_to_their_namesake() {
        let map =
            KeyMap::parse("fresh = 90s\n[users]\nubuntu = groups/admins, users/alice\nbob =\n").unwrap();
        assert_eq!(
            map.principals_of("ubuntu").unwrap(),
            [Principal::Group("admins".into()), Principal::User("alice".into())]
        );
        assert_eq!(map.principals_of("bob").unwrap(), [Principal::User("bob".into())]);
        assert!(map.principals_of("carol").is_none());
        assert_eq!(map.setting("fresh"), Some("90s"));
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        for (text, want) in [
            ("[users]\nx = user/alice\n", "line 2"),
            ("[users]\nx = users/a\"b\n", "line 2"),
            ("colour = blue\n", "unknown setting"),
            ("[groups]\n", "unknown section"),
            ("junk\n", "line 1"),
        ] {
            let err = KeyMap::parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
