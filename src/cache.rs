//! The session cache, `STORE/.awsenv/`: one JSON file per account session, replaced atomically,
//! and one lock file per account that serialises everyone who might call STS for it.
//!
//! Readers take no lock: a writer renames a complete file into place, so a reader sees the old
//! file or the new one. Writers hold the account's exclusive lock from the moment they decide a
//! session is needed until it is on disk, and re-read the cache once they hold it, so any number
//! of shells renewing at once make one STS call and ask for one MFA code.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::creds::{Credentials, Secret, Timestamp};
use crate::error::{Exit, debug, fail};
use crate::store::check_private_dir;

const ENTRY_VERSION: u32 = 1;

/// What one cache file holds. Not `Debug`: it carries secrets in plain strings.
#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    account: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
    /// The long-term key the session was made with: a rotated key invalidates its sessions.
    source_access_key_id: String,
    mfa_serial: String,
}

/// A session made with MFA, as it goes into the cache.
pub struct MfaSession {
    pub credentials: Credentials,
    pub source_access_key_id: String,
    pub mfa_serial: String,
}

pub struct Cache {
    dir: PathBuf,
}

/// The account's exclusive lock; released when dropped (and by the kernel if the process dies).
pub struct Lock {
    _file: File,
}

impl Cache {
    pub fn new(store_dir: &Path) -> Self {
        Self { dir: store_dir.join(".awsenv") }
    }

    fn mfa_path(&self, account: &str) -> PathBuf {
        self.dir.join(format!("{}.mfa.json", account.to_ascii_lowercase()))
    }

    fn lock_path(&self, account: &str) -> PathBuf {
        self.dir.join(format!("{}.lock", account.to_ascii_lowercase()))
    }

    /// The account's cached MFA session if it is still valid at `now` and was made with `source`.
    pub fn read_mfa(&self, account: &str, source: &Secret, now: Timestamp) -> Result<Option<Credentials>> {
        let path = self.mfa_path(account);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                debug!("no cached MFA session for {account} at {}", path.display());
                return Ok(None);
            }
            Err(e) => {
                return Err(e).with_context(|| format!("could not read cache entry {}", path.display()));
            }
        };
        check_private_dir(&self.dir, "cache directory")?;
        let entry = match parse(&text, account) {
            Ok(entry) => entry,
            Err(reason) => {
                self.quarantine(account, &path, &reason);
                return Ok(None);
            }
        };
        if entry.source_access_key_id.as_bytes() != source.expose() {
            debug!("cached MFA session for {account} was made with another access key; ignoring it");
            return Ok(None);
        }
        let credentials = entry.credentials();
        if !credentials.valid_at(now) {
            debug!("cached MFA session for {account} expired at {}", entry.expiration);
            return Ok(None);
        }
        debug!("cached MFA session for {account} valid until {} ({})", entry.expiration, path.display());
        Ok(Some(credentials))
    }

    /// Moves an unparsable entry aside so that it is reported once, not on every switch. Done only
    /// under the lock, after a second look, so that a fresh entry just renamed in is never moved.
    fn quarantine(&self, account: &str, path: &Path, reason: &str) {
        let Ok(Some(_lock)) = self.try_lock(account) else {
            debug!("cache entry {} is unreadable ({reason}) and being rewritten", path.display());
            return;
        };
        let still_bad = fs::read(path).map(|text| parse(&text, account).is_err()).unwrap_or(false);
        if !still_bad {
            return;
        }
        let aside = path.with_extension("json.corrupt");
        match fs::rename(path, &aside) {
            Ok(()) => eprintln!(
                "awsenv: cache entry {} was corrupt ({reason}); moved it to {} and will make a new session",
                path.display(),
                aside.display()
            ),
            Err(e) => eprintln!(
                "awsenv: cache entry {} is corrupt ({reason}) and could not be moved: {e}",
                path.display()
            ),
        }
    }

    fn ensure_dir(&self) -> Result<()> {
        match DirBuilder::new().mode(0o700).create(&self.dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("could not create cache directory {}", self.dir.display()));
            }
        }
        check_private_dir(&self.dir, "cache directory")?;
        let mode = fs::metadata(&self.dir)?.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(
                Exit::Config,
                format!(
                    "cache directory {} is readable by others (mode {mode:04o}); fix with: chmod 700 {}",
                    self.dir.display(),
                    self.dir.display()
                ),
            ));
        }
        Ok(())
    }

    fn open_lock(&self, account: &str) -> Result<File> {
        self.ensure_dir()?;
        let path = self.lock_path(account);
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("could not open lock file {}", path.display()))
    }

    /// Takes the account's exclusive lock, waiting (and saying so) while another process has it.
    pub fn lock(&self, account: &str) -> Result<Lock> {
        let file = self.open_lock(account)?;
        match file.try_lock() {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => {
                return Err(e)
                    .with_context(|| format!("could not lock {}", self.lock_path(account).display()));
            }
        }
        eprintln!("awsenv: waiting for another awsenv that is renewing {account}...");
        file.lock().with_context(|| format!("could not lock {}", self.lock_path(account).display()))?;
        Ok(Lock { _file: file })
    }

    fn try_lock(&self, account: &str) -> Result<Option<Lock>> {
        let file = self.open_lock(account)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// Writes the account's MFA session: temp file (0600), fsync, rename, fsync of the directory.
    pub fn write_mfa(&self, _lock: &Lock, account: &str, session: &MfaSession) -> Result<()> {
        let credentials = &session.credentials;
        let text = |secret: &Secret, what: &str| secret.as_str(what).map(str::to_owned);
        let token =
            credentials.session_token.as_ref().ok_or_else(|| anyhow!("an MFA session has a token"))?;
        let expiration = credentials.expiration.ok_or_else(|| anyhow!("an MFA session has an expiry"))?;
        let entry = Entry {
            version: ENTRY_VERSION,
            account: account.to_owned(),
            access_key_id: text(&credentials.access_key_id, "the session's access key id")?,
            secret_access_key: text(&credentials.secret_access_key, "the session's secret key")?,
            session_token: text(token, "the session token")?,
            expiration: expiration.rfc3339(),
            source_access_key_id: session.source_access_key_id.clone(),
            mfa_serial: session.mfa_serial.clone(),
        };
        let json = serde_json::to_vec_pretty(&entry)?;
        let path = self.mfa_path(account);
        write_atomic(&self.dir, &path, &json)
            .with_context(|| format!("could not write cache entry {}", path.display()))?;
        debug!("cached MFA session for {account} in {} until {}", path.display(), entry.expiration);
        Ok(())
    }
}

fn parse(text: &[u8], account: &str) -> std::result::Result<Entry, String> {
    let entry: Entry = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    if entry.version != ENTRY_VERSION {
        return Err(format!("unknown version {}", entry.version));
    }
    if !entry.account.eq_ignore_ascii_case(account) {
        return Err(format!("it belongs to account {:?}", entry.account));
    }
    Timestamp::parse_rfc3339(&entry.expiration).map_err(|e| e.to_string())?;
    if entry.access_key_id.is_empty() || entry.secret_access_key.is_empty() || entry.session_token.is_empty()
    {
        return Err("a credential is empty".to_owned());
    }
    Ok(entry)
}

impl Entry {
    fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: Secret::new(self.access_key_id.as_bytes()),
            secret_access_key: Secret::new(self.secret_access_key.as_bytes()),
            session_token: Some(Secret::new(self.session_token.as_bytes())),
            // `parse` has checked it.
            expiration: Timestamp::parse_rfc3339(&self.expiration).ok(),
        }
    }
}

/// Replaces `path` with `contents` so that a crash at any moment leaves the old file or the new one.
/// Callers hold the lock, so any temp file left in `dir` is from a writer that died: remove it.
pub fn write_atomic(dir: &Path, path: &Path, contents: &[u8]) -> Result<()> {
    let file_name = path.file_name().and_then(|n| n.to_str()).context("cache path has a file name")?;
    let temp_prefix = format!("{file_name}.tmp-");
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_str().is_some_and(|n| n.starts_with(&temp_prefix)) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!("{temp_prefix}{}-{nanos}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        file.write_all(contents)?;
        // Rust ignores errors from close(); sync first so that a full disk is reported here.
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expiration: i64) -> MfaSession {
        MfaSession {
            credentials: Credentials {
                access_key_id: Secret::new("ASIATEST"),
                secret_access_key: Secret::new("secret"),
                session_token: Some(Secret::new("token")),
                expiration: Some(Timestamp(expiration)),
            },
            source_access_key_id: "AKIASOURCE".to_owned(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/me".to_owned(),
        }
    }

    #[test]
    fn round_trip_validity_and_modes() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("Work").unwrap();
        cache.write_mfa(&lock, "Work", &session(2_000)).unwrap();
        let source = Secret::new("AKIASOURCE");
        assert!(cache.read_mfa("work", &source, Timestamp(1_999)).unwrap().is_some());
        assert!(cache.read_mfa("work", &source, Timestamp(2_000)).unwrap().is_none());
        assert!(cache.read_mfa("work", &Secret::new("AKIAOTHER"), Timestamp(1)).unwrap().is_none());
        assert_eq!(fs::metadata(&cache.dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(cache.mfa_path("work")).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(cache.lock_path("work")).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn corrupt_entry_is_moved_aside_once() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        cache.ensure_dir().unwrap();
        fs::write(cache.mfa_path("work"), b"{\"version\": 1, \"acc").unwrap();
        let source = Secret::new("AKIASOURCE");
        assert!(cache.read_mfa("work", &source, Timestamp(1)).unwrap().is_none());
        assert!(!cache.mfa_path("work").exists());
        assert!(cache.mfa_path("work").with_extension("json.corrupt").exists());
    }

    #[test]
    fn the_lock_is_exclusive_between_handles() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let held = cache.lock("work").unwrap();
        assert!(cache.try_lock("work").unwrap().is_none());
        drop(held);
        assert!(cache.try_lock("work").unwrap().is_some());
    }
}
