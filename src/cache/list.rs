//! A read-only look at the whole cache, for `awsenv doctor`: what each file holds except the
//! credentials, read without a lock and without changing anything (an unreadable entry is
//! reported, never moved aside).

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::names::name_of_key;
use super::{Cache, parse};
use crate::creds::Timestamp;
use crate::files::{self, Trust, limit};

/// A cached session, described without its credentials.
pub struct Listed {
    pub file: PathBuf,
    pub account: String,
    /// The kind of base session at its root (`mfa`, ...).
    pub kind: String,
    /// The role, for a role session.
    pub role_arn: Option<String>,
    /// What it was made from (for long-term keys, the access key id).
    pub fingerprint: String,
    pub expiration: Timestamp,
}

/// One file of the cache directory.
pub enum Found {
    Entry(Listed),
    /// An entry that cannot be used, and why.
    Unreadable {
        file: PathBuf,
        reason: String,
    },
    /// An entry awsenv moved aside as corrupt.
    Corrupt(PathBuf),
    /// An account's lock file, and the account its name encodes (`None`: a shortened name).
    Lock {
        file: PathBuf,
        account: Option<String>,
    },
}

impl Cache {
    /// Every entry, corrupt entry and lock file of the cache, by file name; `None` when there is
    /// no cache directory.
    pub fn list(&self) -> Result<Option<Vec<Found>>> {
        let entries = match fs::read_dir(&self.dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            other => {
                other.with_context(|| format!("could not list cache directory {}", self.dir.display()))?
            }
        };
        let mut names: Vec<String> =
            entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect();
        names.sort();
        let mut found = Vec::new();
        for name in names {
            let file = self.dir.join(&name);
            if name.ends_with(".json.corrupt") {
                found.push(Found::Corrupt(file));
            } else if let Some(key) = name.strip_suffix(".lock") {
                found.push(Found::Lock { file, account: name_of_key(key) });
            } else if name.ends_with(".json") {
                found.push(describe(file));
            }
        }
        Ok(Some(found))
    }

    /// Whether the cache directory is the user's and closed to everyone else, as every read and
    /// write of a session requires.
    pub fn check(&self) -> Result<()> {
        self.check_dir()
    }
}

fn describe(file: PathBuf) -> Found {
    let text = match files::read(&file, "cache entry", limit::JSON, Trust::Data) {
        Ok(Some(text)) => text,
        Ok(None) => return Found::Unreadable { file, reason: "it vanished while being read".to_owned() },
        Err(e) => return Found::Unreadable { file, reason: crate::error::one_line(&e) },
    };
    match parse(&text) {
        Ok(entry) => {
            let expiration = Timestamp::parse_rfc3339(&entry.expiration).unwrap_or(Timestamp(0));
            Found::Entry(Listed {
                file,
                account: entry.account.clone(),
                kind: entry.kind().to_owned(),
                role_arn: entry.role.as_ref().map(|spec| spec.role_arn.clone()),
                fingerprint: entry.fingerprint().to_owned(),
                expiration,
            })
        }
        Err(reason) => Found::Unreadable { file, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{RoleSpec, Session};
    use crate::creds::{Credentials, Secret};

    #[test]
    fn the_listing_describes_entries_and_locks_without_changing_them() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        assert!(cache.list().unwrap().is_none(), "no directory, nothing listed");
        let lock = cache.lock("Work").unwrap();
        let session = |role: Option<RoleSpec>| Session {
            credentials: Credentials {
                access_key_id: Secret::new("ASIA"),
                secret_access_key: Secret::new("s"),
                session_token: Some(Secret::new("t")),
                expiration: Some(Timestamp(2_000)),
            },
            kind: "mfa".to_owned(),
            fingerprint: "AKIAOLD".to_owned(),
            made_with: None,
            role,
        };
        cache.write(&lock, "Work", &session(None)).unwrap();
        let admin = RoleSpec {
            role_arn: "arn:aws:iam::1:role/Admin".to_owned(),
            session_name: "me".to_owned(),
            external_id: None,
            duration_seconds: 900,
        };
        cache.write(&lock, "Work", &session(Some(admin))).unwrap();
        fs::write(cache.dir().join("bad.mfa.json"), "{").unwrap();
        fs::write(cache.dir().join("old.mfa.json.corrupt"), "{").unwrap();
        let found = cache.list().unwrap().unwrap();
        let entries: Vec<&Listed> =
            found.iter().filter_map(|f| if let Found::Entry(e) = f { Some(e) } else { None }).collect();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.account == "Work" && e.fingerprint == "AKIAOLD"));
        assert!(entries.iter().any(|e| e.role_arn.as_deref() == Some("arn:aws:iam::1:role/Admin")));
        assert_eq!(entries[0].expiration, Timestamp(2_000));
        assert!(found.iter().any(|f| matches!(f, Found::Lock { account: Some(a), .. } if a == "Work")));
        assert!(found.iter().any(|f| matches!(f, Found::Corrupt(_))));
        assert!(found.iter().any(|f| matches!(f, Found::Unreadable { .. })));
        assert!(cache.dir().join("bad.mfa.json").exists(), "a listing moves nothing aside");
    }

    #[test]
    fn lock_file_names_give_back_their_account() {
        use crate::cache::names::{file_key, name_of_key};
        for name in ["work", "Work.Prod", "a_b-c.9", "ÜBER"] {
            assert_eq!(name_of_key(&file_key(name)).as_deref(), Some(name));
        }
        assert_eq!(name_of_key("work~0123"), None);
        assert_eq!(name_of_key("^W"), None);
        assert_eq!(name_of_key("%zz"), None);
    }
}
