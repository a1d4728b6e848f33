//! The session cache, `STORE/.awsenv/`: one JSON file per account session, replaced atomically,
//! and one lock file per account that serialises everyone who might call STS for it.
//!
//! Readers take no lock: a writer renames a complete file into place, so a reader sees the old
//! file or the new one. Writers hold the account's exclusive lock from the moment they decide a
//! session is needed until it is on disk, and re-read the cache once they hold it, so any number
//! of shells renewing at once make one STS call and ask for one MFA code.
//!
//! File names are an injective function of the account and the slot (see `file_key`), so that no
//! two accounts, and no account and another's role, ever share a file or a lock, whatever their
//! names, and on case-insensitive file systems too.

use std::fs::{self, DirBuilder};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

mod entry;
mod list;
mod lock;
mod names;

pub use entry::parse;
use entry::{Entry, MFA_KIND};
pub use list::{Found, Listed};
pub use lock::Lock;
use names::{arn_parts, legacy_arn_key};
pub use names::{bounded_name, file_key};

use crate::creds::{Credentials, Secret, Timestamp};
use crate::error::{Exit, debug, fail};
use crate::files::{self, Trust, check_private_dir, limit, write_atomic};

/// What a role session was asked for; a cached one is reused only for the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    pub role_arn: String,
    pub session_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub duration_seconds: i32,
}

/// Which session of an account a cache file holds.
#[derive(Debug, Clone, Copy)]
pub enum Slot<'a> {
    /// The account's base session, of the kind named (`mfa` for long-term keys and a code).
    Base(&'a str),
    Role(&'a RoleSpec),
}

/// A session as the cache keeps it.
#[derive(Debug, Clone)]
pub struct Session {
    pub credentials: Credentials,
    /// The kind of base session at the root of it.
    pub kind: String,
    pub fingerprint: String,
    pub made_with: Option<String>,
    pub role: Option<RoleSpec>,
}

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(store_dir: &Path) -> Self {
        Self { dir: store_dir.join(".awsenv") }
    }

    /// The cache directory, for the other files awsenv keeps beside the sessions.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, account: &str, slot: Slot) -> PathBuf {
        let name = match slot {
            // The kind is one of awsenv's own names (lowercase letters), safe in a file name.
            Slot::Base(kind) => format!("{}.{kind}.json", file_key(account)),
            Slot::Role(spec) => {
                let (account_id, role) = arn_parts(&spec.role_arn);
                format!("{}.role.{}.{}.json", file_key(account), file_key(account_id), file_key(role))
            }
        };
        self.dir.join(bounded_name(name))
    }

    /// Where versions before 0.2 kept the slot: the account lowercased, so that `Work` and
    /// `work` shared a file. Read (never written) when the new file does not exist.
    fn legacy_path(&self, account: &str, slot: Slot) -> PathBuf {
        let account = account.to_ascii_lowercase();
        match slot {
            Slot::Base(kind) => self.dir.join(format!("{account}.{kind}.json")),
            Slot::Role(spec) => {
                self.dir.join(format!("{account}.role.{}.json", legacy_arn_key(&spec.role_arn)))
            }
        }
    }

    fn lock_path(&self, account: &str) -> PathBuf {
        self.dir.join(bounded_name(format!("{}.lock", file_key(account))))
    }

    /// The entry of `slot`, from its file or a file of an earlier version, and the file it is in.
    fn load(&self, account: &str, slot: Slot) -> Result<Option<(PathBuf, Vec<u8>)>> {
        let path = self.path(account, slot);
        if let Some(text) = files::read(&path, "cache entry", limit::JSON, Trust::Data)? {
            return Ok(Some((path, text)));
        }
        let legacy = self.legacy_path(account, slot);
        if legacy != path
            && let Some(text) = files::read(&legacy, "cache entry", limit::JSON, Trust::Data)?
        {
            return Ok(Some((legacy, text)));
        }
        Ok(None)
    }

    /// The account's cached session in `slot` if it was made from `fingerprint` and is still
    /// valid at `valid_at` (now, plus whatever lifetime the caller needs left).
    pub fn read(
        &self,
        account: &str,
        slot: Slot,
        fingerprint: &str,
        valid_at: Timestamp,
    ) -> Result<Option<Session>> {
        crate::timing::measure(crate::timing::Phase::CacheRead, || {
            self.read_now(account, slot, fingerprint, valid_at)
        })
    }

    fn read_now(
        &self,
        account: &str,
        slot: Slot,
        fingerprint: &str,
        valid_at: Timestamp,
    ) -> Result<Option<Session>> {
        let Some((path, text)) = self.load(account, slot)? else {
            debug!("no cached session for {account} at {}", self.path(account, slot).display());
            return Ok(None);
        };
        self.check_dir()?;
        let entry = match parse(&text) {
            Ok(entry) => entry,
            Err(reason) => {
                self.quarantine(account, &path, &reason);
                return Ok(None);
            }
        };
        if entry.account != account {
            // Only a file of an earlier version can hold another account's session.
            debug!("cache entry {} belongs to account {:?}; ignoring it", path.display(), entry.account);
            return Ok(None);
        }
        if entry.fingerprint() != fingerprint {
            debug!("cached session {} was made from other credentials; ignoring it", path.display());
            return Ok(None);
        }
        let wanted_role = match slot {
            Slot::Base(kind) if entry.kind() != kind => {
                debug!("cached session {} is of kind {}; ignoring it", path.display(), entry.kind());
                return Ok(None);
            }
            Slot::Base(_) => None,
            Slot::Role(spec) => Some(spec),
        };
        if entry.role.as_ref() != wanted_role {
            debug!("cached session {} was made for another request; ignoring it", path.display());
            return Ok(None);
        }
        let expiration = entry.expiration.clone();
        let session = entry.session();
        if !session.credentials.valid_at(valid_at) {
            debug!("cached session {} ends at {expiration}, too soon to use", path.display());
            return Ok(None);
        }
        debug!("cached session {} valid until {expiration}", path.display());
        Ok(Some(session))
    }

    /// What the cached session of the role `role_arn` was asked for, to renew it the same way.
    pub fn role_spec(&self, account: &str, role_arn: &str) -> Option<RoleSpec> {
        let probe = RoleSpec {
            role_arn: role_arn.to_owned(),
            session_name: String::new(),
            external_id: None,
            duration_seconds: 0,
        };
        let (_, text) = self.load(account, Slot::Role(&probe)).ok()??;
        let entry = parse(&text).ok().filter(|entry| entry.account == account)?;
        entry.role.filter(|spec| spec.role_arn == role_arn)
    }

    /// Moves an unparsable entry aside so that it is reported once, not on every switch. Done only
    /// under the lock, after a second look, so that a fresh entry just renamed in is never moved.
    fn quarantine(&self, account: &str, path: &Path, reason: &str) {
        let Ok(Some(_lock)) = self.try_lock(account) else {
            debug!("cache entry {} is unreadable ({reason}) and being rewritten", path.display());
            return;
        };
        let still_bad = matches!(files::read(path, "cache entry", limit::JSON, Trust::Data), Ok(Some(text)) if parse(&text).is_err());
        if !still_bad {
            return;
        }
        let mut aside = path.as_os_str().to_owned();
        aside.push(".corrupt");
        let aside = PathBuf::from(aside);
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
        // The store itself may not exist for a user of ~/.aws profiles only: make both, private.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("could not create cache directory {}", self.dir.display()))?;
        self.check_dir()
    }

    /// Sessions are secrets: the directory must be yours and closed to everyone else, for
    /// reading as much as for writing.
    fn check_dir(&self) -> Result<()> {
        let mode = check_private_dir(&self.dir, "cache directory")?.mode() & 0o777;
        if mode & 0o077 != 0 {
            let dir = self.dir.display();
            return Err(fail(
                Exit::Config,
                format!(
                    "cache directory {dir} is open to others (mode {mode:04o}); fix with: chmod 700 {dir}"
                ),
            ));
        }
        Ok(())
    }

    /// Writes a session: temp file (0600), fsync, rename, fsync of the directory.
    pub fn write(&self, lock: &Lock, account: &str, session: &Session) -> Result<()> {
        crate::timing::measure(crate::timing::Phase::Write, || self.write_now(lock, account, session))
    }

    fn write_now(&self, _lock: &Lock, account: &str, session: &Session) -> Result<()> {
        let credentials = &session.credentials;
        let text = |secret: &Secret, what: &str| secret.as_str(what).map(str::to_owned);
        let token = credentials.session_token.as_ref().ok_or_else(|| anyhow!("a session has a token"))?;
        let expiration = credentials.expiration.ok_or_else(|| anyhow!("a session has an expiry"))?;
        let v1 = session.kind == MFA_KIND;
        let entry = Entry {
            version: if v1 { 1 } else { 2 },
            account: account.to_owned(),
            kind: (!v1).then(|| session.kind.clone()),
            access_key_id: text(&credentials.access_key_id, "the session's access key id")?,
            secret_access_key: text(&credentials.secret_access_key, "the session's secret key")?,
            session_token: text(token, "the session token")?,
            expiration: expiration.rfc3339(),
            source_access_key_id: v1.then(|| session.fingerprint.clone()),
            fingerprint: (!v1).then(|| session.fingerprint.clone()),
            mfa_serial: session.made_with.clone().filter(|_| v1),
            made_with: session.made_with.clone().filter(|_| !v1),
            role: session.role.clone(),
        };
        let json = serde_json::to_vec_pretty(&entry)?;
        let slot = session.role.as_ref().map_or(Slot::Base(&session.kind), Slot::Role);
        let path = self.path(account, slot);
        write_atomic(&self.dir, &path, &json)
            .with_context(|| format!("could not write cache entry {}", path.display()))?;
        debug!("cached session for {account} in {} until {}", path.display(), entry.expiration);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expiration: i64, role: Option<RoleSpec>) -> Session {
        Session {
            credentials: Credentials {
                access_key_id: Secret::new("ASIATEST"),
                secret_access_key: Secret::new("secret"),
                session_token: Some(Secret::new("token")),
                expiration: Some(Timestamp(expiration)),
            },
            kind: "mfa".to_owned(),
            fingerprint: "AKIASOURCE".to_owned(),
            made_with: Some("arn:aws:iam::123456789012:mfa/me".to_owned()),
            role,
        }
    }

    const MFA: Slot = Slot::Base("mfa");

    fn spec(name: &str) -> RoleSpec {
        RoleSpec {
            role_arn: format!("arn:aws:iam::123456789012:role/path/{name}"),
            session_name: "me".to_owned(),
            external_id: None,
            duration_seconds: 3600,
        }
    }

    #[test]
    fn round_trip_validity_and_modes() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("work").unwrap();
        cache.write(&lock, "work", &session(2_000, None)).unwrap();
        let source = "AKIASOURCE";
        assert!(cache.read("work", MFA, source, Timestamp(1_999)).unwrap().is_some());
        assert!(cache.read("work", MFA, source, Timestamp(2_000)).unwrap().is_none());
        assert!(cache.read("work", MFA, "AKIAOTHER", Timestamp(1)).unwrap().is_none());
        assert_eq!(fs::metadata(&cache.dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(cache.path("work", MFA)).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(cache.lock_path("work")).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn role_sessions_are_kept_per_role_and_request() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("work").unwrap();
        let (admin, reader) = (spec("Admin"), spec("Reader"));
        cache.write(&lock, "work", &session(2_000, Some(admin.clone()))).unwrap();
        let source = "AKIASOURCE";
        assert!(cache.read("work", Slot::Role(&admin), source, Timestamp(1)).unwrap().is_some());
        assert!(cache.read("work", Slot::Role(&reader), source, Timestamp(1)).unwrap().is_none());
        assert!(cache.read("work", MFA, source, Timestamp(1)).unwrap().is_none());
        let other_id = RoleSpec { external_id: Some("x".to_owned()), ..admin.clone() };
        assert!(cache.read("work", Slot::Role(&other_id), source, Timestamp(1)).unwrap().is_none());
        assert!(cache.path("work", Slot::Role(&admin)).ends_with("work.role.123456789012.^admin.json"));
    }

    #[test]
    fn names_are_injective_and_case_safe() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let b_mfa = spec("b.mfa");
        let paths = [
            cache.path("work", MFA),
            cache.path("Work", MFA),
            cache.path("work.role.123456789012.b", MFA),
            cache.path("work", Slot::Role(&b_mfa)),
            cache.path("work.mfa", MFA),
            cache.lock_path("work"),
            cache.lock_path("Work"),
        ];
        let lowered: std::collections::HashSet<String> =
            paths.iter().map(|p| p.to_string_lossy().to_lowercase()).collect();
        assert_eq!(lowered.len(), paths.len(), "{paths:?}");
        assert!(paths[0].ends_with("work.mfa.json"), "plain names keep their file: {:?}", paths[0]);
        let long = "x".repeat(128);
        let name = cache.path(&long.to_uppercase(), MFA);
        assert!(name.file_name().unwrap().len() <= 200, "{name:?}");
        assert_ne!(name, cache.path(&format!("{}Y", &long.to_uppercase()[..127]), MFA));
    }

    #[test]
    fn entries_of_earlier_versions_are_read_for_their_own_account_only() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("Work").unwrap();
        cache.write(&lock, "Work", &session(2_000, None)).unwrap();
        // Where 0.1 kept Work's session: the name lowercased.
        fs::rename(cache.path("Work", MFA), cache.dir.join("work.mfa.json")).unwrap();
        let source = "AKIASOURCE";
        assert!(cache.read("Work", MFA, source, Timestamp(1)).unwrap().is_some());
        assert!(cache.read("work", MFA, source, Timestamp(1)).unwrap().is_none());
        assert!(cache.dir.join("work.mfa.json").exists(), "another account's entry is not corrupt");
    }

    #[test]
    fn files_written_by_version_1_are_read() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        cache.ensure_dir().unwrap();
        let admin = spec("Admin");
        fs::write(cache.path("work", MFA), include_str!("../../tests/fixtures/cache-v1-mfa.json")).unwrap();
        fs::write(
            cache.path("work", Slot::Role(&admin)),
            include_str!("../../tests/fixtures/cache-v1-role.json"),
        )
        .unwrap();
        let mfa = cache.read("work", MFA, "AKIASOURCE", Timestamp(1)).unwrap().expect("the MFA session");
        assert_eq!(mfa.credentials.access_key_id.expose(), b"ASIAV1SESSION");
        assert_eq!((mfa.kind.as_str(), mfa.fingerprint.as_str()), ("mfa", "AKIASOURCE"));
        assert_eq!(mfa.made_with.as_deref(), Some("arn:aws:iam::123456789012:mfa/me"));
        assert_eq!(mfa.credentials.expiration, Some(Timestamp(2_000_000_000)));
        let role =
            cache.read("work", Slot::Role(&admin), "AKIASOURCE", Timestamp(1)).unwrap().expect("the role");
        assert_eq!(role.credentials.access_key_id.expose(), b"ASIAV1ROLE");
        assert_eq!(role.role.as_ref(), Some(&admin));
        assert!(cache.read("work", MFA, "AKIAROTATED", Timestamp(1)).unwrap().is_none());
        assert!(cache.read("work", Slot::Base("x509"), "AKIASOURCE", Timestamp(1)).unwrap().is_none());
    }

    #[test]
    fn the_mfa_kind_writes_version_1_and_others_version_2() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("work").unwrap();
        cache.write(&lock, "work", &session(2_000_000_000, None)).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(cache.path("work", MFA)).unwrap()).unwrap();
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/cache-v1-mfa.json")).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&written), keys(&fixture));
        let mut other = session(2_000, None);
        other.kind = "x509".to_owned();
        cache.write(&lock, "work", &other).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(cache.path("work", Slot::Base("x509"))).unwrap()).unwrap();
        assert_eq!((written["version"].as_u64(), written["kind"].as_str()), (Some(2), Some("x509")));
        assert_eq!(written["fingerprint"], "AKIASOURCE");
        assert!(written.get("source_access_key_id").is_none() && written.get("mfa_serial").is_none());
    }

    #[test]
    fn kinds_have_their_own_slots() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("work").unwrap();
        let mut other = session(2_000, None);
        other.kind = "x509".to_owned();
        cache.write(&lock, "work", &other).unwrap();
        assert!(cache.path("work", Slot::Base("x509")).ends_with("work.x509.json"));
        assert!(cache.read("work", Slot::Base("x509"), "AKIASOURCE", Timestamp(1)).unwrap().is_some());
        assert!(cache.read("work", MFA, "AKIASOURCE", Timestamp(1)).unwrap().is_none());
    }

    #[test]
    fn corrupt_entry_is_moved_aside_once() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        cache.ensure_dir().unwrap();
        fs::write(cache.path("work", MFA), b"{\"version\": 1, \"acc").unwrap();
        let source = "AKIASOURCE";
        assert!(cache.read("work", MFA, source, Timestamp(1)).unwrap().is_none());
        assert!(!cache.path("work", MFA).exists());
        assert!(cache.path("work", MFA).with_extension("json.corrupt").exists());
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
