//! The cache of `authorized-keys`: one JSON file per IAM principal in a directory only the command
//! user (`nobody`) can enter, and one lock so that a burst of logins makes one round of IAM calls.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::creds::Timestamp;
use crate::error::{Exit, fail};
use crate::files::write_atomic;
use crate::keymap::Principal;

/// The keys one principal had when IAM was last asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the epoch.
    pub fetched: i64,
    pub keys: Vec<OwnedKey>,
}

/// A key and the IAM user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OwnedKey {
    pub owner: String,
    pub key: String,
}

impl Entry {
    pub fn age(&self, now: Timestamp) -> i64 {
        now.0 - self.fetched
    }
}

pub struct KeyCache {
    dir: PathBuf,
}

impl KeyCache {
    /// The default directory: one per user in /tmp, which `nobody` can create without any setup;
    /// `open` refuses it unless it is this user's own 0700 directory (another user cannot plant one).
    pub fn default_dir() -> PathBuf {
        PathBuf::from(format!("/tmp/awsenv-authorized-keys-{}", euid()))
    }

    /// Opens `dir`, creating it 0700 if it is missing.
    pub fn open(dir: &Path) -> Result<Self> {
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(fail(Exit::Config, format!("cache {}: cannot create it: {e}", dir.display())));
            }
        }
        let meta = fs::symlink_metadata(dir).with_context(|| format!("cache {}", dir.display()))?;
        if !meta.is_dir() || meta.uid() != euid() || meta.mode() & 0o077 != 0 {
            return Err(fail(
                Exit::Config,
                format!(
                    "cache {}: must be a directory of uid {} with mode 0700 (it is uid {}, mode {:o})",
                    dir.display(),
                    euid(),
                    meta.uid(),
                    meta.mode() & 0o7777
                ),
            ));
        }
        Ok(Self { dir: dir.to_owned() })
    }

    fn path(&self, principal: &Principal) -> PathBuf {
        self.dir.join(format!("{}.json", principal.file_stem()))
    }

    /// The cached entry; a missing or unreadable one is simply absent (IAM will be asked).
    pub fn read(&self, principal: &Principal) -> Option<Entry> {
        let bytes = fs::read(self.path(principal)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn write(&self, principal: &Principal, entry: &Entry) -> Result<()> {
        let path = self.path(principal);
        write_atomic(&self.dir, &path, &serde_json::to_vec(entry)?)
            .with_context(|| format!("cache {}", path.display()))
    }

    /// The cache's lock, waited for until `deadline`; `None` when another process held it all along.
    pub fn lock(&self, deadline: Instant) -> Result<Option<File>> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cache lock {}", path.display()))?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => return Ok(None),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cache lock {}", path.display()));
                }
            }
        }
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
