//! The aws-sts-helpers store, `~/aws-creds`: `NAME.access_key`, `NAME.secret_key`, optional
//! `NAME.user`, and the account file mapping NAME to `arn:aws:iam::ACCOUNT:`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::creds::{Credentials, Secret};
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, check_private_dir_meta, limit};

/// Account names are what the seed accepted in practice, with nothing that can leave the store.
pub fn validate_name(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 128 {
        return Err(fail(
            Exit::Config,
            format!("invalid account name {name:?}: it must have 1 to 128 characters"),
        ));
    }
    if !name.chars().all(allowed) || name.starts_with('.') || name.contains("..") {
        return Err(fail(
            Exit::Config,
            format!(
                "invalid account name {name:?}: use letters, digits, '.', '_' and '-', not starting with '.'"
            ),
        ));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store at `dir`, or `None` when there is no such directory (a user of ~/.aws only).
    /// One `stat` serves both the existence and the ownership checks.
    pub fn open_optional(dir: PathBuf) -> Result<Option<Self>> {
        match fs::metadata(&dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("could not read store {}", dir.display())),
            Ok(meta) if meta.is_dir() => {
                check_private_dir_meta(&dir, "store", &meta)?;
                Ok(Some(Self { dir }))
            }
            Ok(_) => Err(fail(Exit::Config, format!("store {} is not a directory", dir.display()))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, name: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{name}.{suffix}"))
    }

    /// Every account with a file of one of the `suffixes` (each kind's: `access_key`, ...), sorted.
    pub fn accounts(&self, suffixes: &[&str]) -> Result<Vec<String>> {
        let entries = fs::read_dir(&self.dir)
            .with_context(|| format!("could not list store {}", self.dir.display()))?;
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|file| {
                let (name, suffix) = file.rsplit_once('.')?;
                suffixes.contains(&suffix).then(|| name.to_owned())
            })
            .filter(|name| validate_name(name).is_ok())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The account's name as its files spell it, or `None` when the store has no such account.
    /// Names match without regard to case, as the seed's lowercasing did, but the exact spelling
    /// is tried first so the usual case costs one stat.
    pub fn find(&self, name: &str) -> Result<Option<String>> {
        self.find_with(name, "access_key")
    }

    /// `find` for the accounts defined by a `NAME.SUFFIX` file.
    pub fn find_with(&self, name: &str, suffix: &str) -> Result<Option<String>> {
        validate_name(name)?;
        if self.file(name, suffix).is_file() {
            return Ok(Some(name.to_owned()));
        }
        let matches: Vec<String> =
            self.accounts(&[suffix])?.into_iter().filter(|known| known.eq_ignore_ascii_case(name)).collect();
        match matches.as_slice() {
            [one] => Ok(Some(one.clone())),
            [] => Ok(None),
            _ => Err(fail(
                Exit::Config,
                format!("account {name} is ambiguous in {}: {}", self.dir.display(), matches.join(", ")),
            )),
        }
    }

    /// An optional text file of the account, `NAME.SUFFIX` (`mfa_serial`, `mfa_command`).
    pub fn text(&self, name: &str, suffix: &str) -> Result<Option<String>> {
        let path = self.file(name, suffix);
        self.read_value(name, suffix)?
            .map(|value| Ok(value.as_str(&path.display().to_string())?.to_owned()))
            .transpose()
    }

    /// Writes `NAME.SUFFIX` (0600, atomically): awsenv remembers a discovered MFA serial this way.
    pub fn write_text(&self, name: &str, suffix: &str, value: &str) -> Result<PathBuf> {
        let path = self.file(name, suffix);
        files::write_atomic(&self.dir, &path, format!("{value}\n").as_bytes())
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(path)
    }

    /// The trimmed value of `NAME.SUFFIX`: a file of the user's that no one else can write, or a
    /// key could be swapped and a command run as the user.
    fn read_value(&self, name: &str, suffix: &str) -> Result<Option<Secret>> {
        let path = self.file(name, suffix);
        let Some(bytes) = files::read(&path, "store file", limit::VALUE, Trust::Required)? else {
            return Ok(None);
        };
        // An editor's byte-order mark is not part of a key.
        let value = files::strip_bom(&bytes).trim_ascii();
        if value.is_empty() {
            return Err(fail(Exit::Config, format!("{} is empty", path.display())));
        }
        if value.contains(&0) {
            return Err(fail(Exit::Config, format!("{} contains a NUL byte", path.display())));
        }
        Ok(Some(Secret::new(value)))
    }

    fn require_value(&self, name: &str, suffix: &str) -> Result<Secret> {
        self.read_value(name, suffix)?.ok_or_else(|| {
            fail(Exit::Config, format!("missing {} for account {name}", self.file(name, suffix).display()))
        })
    }

    /// The account's long-term keys; `name` must come from `resolve`.
    pub fn long_term_keys(&self, name: &str) -> Result<Credentials> {
        debug!("long-term keys from {}", self.file(name, "access_key").display());
        Ok(Credentials {
            access_key_id: self.require_value(name, "access_key")?,
            secret_access_key: self.require_value(name, "secret_key")?,
            session_token: None,
            expiration: None,
        })
    }

    /// The IAM user whose MFA device signs for the account: `NAME.user`, else the login name.
    pub fn iam_user(&self, name: &str, login_user: Option<String>) -> Result<String> {
        if let Some(user) = self.read_value(name, "user")? {
            return Ok(user.as_str(&format!("{}", self.file(name, "user").display()))?.to_owned());
        }
        login_user.ok_or_else(|| {
            fail(
                Exit::Config,
                format!(
                    "no IAM user for account {name}: create {} or set USER",
                    self.file(name, "user").display()
                ),
            )
        })
    }
}

/// The account file: `{"work": "arn:aws:iam::012123456789:", "lab": "210987654321"}`.
pub struct AccountFile {
    path: PathBuf,
    entries: Vec<(String, String)>,
}

impl AccountFile {
    /// The first of: `--config`/`AWSENV_CONFIG`, `STORE/accounts.json`, the seed's system file;
    /// `None` when none exists (a file named explicitly must exist).
    pub fn locate(explicit: Option<&Path>, store: &Store) -> Result<Option<Self>> {
        if let Some(path) = explicit {
            return Self::load(path).map(Some);
        }
        // Each read as it is, a missing one skipped: no separate look first.
        for path in [store.dir().join("accounts.json"), PathBuf::from(crate::config::SYSTEM_ACCOUNT_FILE)] {
            if let Some(file) = Self::read(&path)? {
                return Ok(Some(file));
            }
        }
        Ok(None)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(path: &Path) -> Result<Self> {
        Self::read(path)?.ok_or_else(|| {
            fail(Exit::Config, format!("could not read account file {}: it does not exist", path.display()))
        })
    }

    /// The account file at `path`; `None` when there is none.
    fn read(path: &Path) -> Result<Option<Self>> {
        let Some(text) = files::read_text(path, "account file", limit::JSON, Trust::Required)? else {
            return Ok(None);
        };
        debug!("account file {}", path.display());
        Self::parse(path, &text).map(Some)
    }

    /// The account file's text, read from `path` (which messages name).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            fail(
                Exit::Config,
                format!("malformed account file {}: it {}", path.display(), files::json_error(&e)),
            )
        })?;
        let mut entries = Vec::with_capacity(map.len());
        for (name, value) in map {
            let Some(text) = value.as_str() else {
                return Err(fail(
                    Exit::Config,
                    format!("account file {}: the value of {name:?} must be a string", path.display()),
                ));
            };
            entries.push((name, text.trim().to_owned()));
        }
        Ok(Self { path: path.to_owned(), entries })
    }

    /// `arn:PARTITION:iam::ACCOUNT:` for the account, from an ARN prefix or a bare 12-digit id;
    /// `None` when the file does not list the account.
    pub fn arn_prefix(&self, name: &str) -> Result<Option<String>> {
        let Some((_, value)) = self.entries.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)) else {
            debug!("account {name} is not in account file {}", self.path.display());
            return Ok(None);
        };
        parse_arn_prefix(value).map(Some).ok_or_else(|| {
            fail(
                Exit::Config,
                format!(
                    "account file {}: {name} is {value:?}, expected \"arn:aws:iam::123456789012:\" or a 12-digit account id",
                    self.path.display()
                ),
            )
        })
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_arn_prefix(value: &str) -> Option<String> {
    if is_account_id(value) {
        return Some(format!("arn:aws:iam::{value}:"));
    }
    let rest = value.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let account = rest.strip_prefix("iam::")?;
    let account = account.strip_suffix(':').unwrap_or(account);
    let partition_ok =
        !partition.is_empty() && partition.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    (partition_ok && is_account_id(account)).then(|| format!("arn:{partition}:iam::{account}:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_store_are_refused() {
        for bad in ["", "a/b", "..", "../x", ".hidden", "a..b", "sp ace", "é", "a\nb"] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["work", "Personal", "prod-eu.1", "a_b"] {
            validate_name(good).unwrap();
        }
    }

    #[test]
    fn arn_prefixes_and_bare_ids() {
        assert_eq!(parse_arn_prefix("arn:aws:iam::012123456789:").unwrap(), "arn:aws:iam::012123456789:");
        assert_eq!(parse_arn_prefix("012123456789").unwrap(), "arn:aws:iam::012123456789:");
        assert_eq!(
            parse_arn_prefix("arn:aws-cn:iam::012123456789:").unwrap(),
            "arn:aws-cn:iam::012123456789:"
        );
        for bad in
            ["12345", "arn:aws:iam::0121234567:", "arn:aws:s3::012123456789:", "arn::iam::012123456789:"]
        {
            assert!(parse_arn_prefix(bad).is_none(), "{bad} accepted");
        }
    }
}
