//! The account's lock file, `STORE/.awsenv/ACCOUNT.lock`: an exclusive `flock` held by whoever
//! may call STS for the account, from deciding a session is needed until it is on disk.

use std::fs::{self, File};

use anyhow::{Context, Result};

use super::Cache;

/// The account's exclusive lock; released when dropped (and by the kernel if the process dies).
pub struct Lock {
    _file: File,
}

impl Cache {
    fn open_lock(&self, account: &str) -> Result<File> {
        self.ensure_dir()?;
        crate::files::open_lock_file(&self.lock_path(account))
    }

    /// Takes the account's exclusive lock, waiting (and saying so) while another process has it.
    pub fn lock(&self, account: &str) -> Result<Lock> {
        crate::timing::measure(crate::timing::Phase::LockWait, || self.lock_now(account))
    }

    fn lock_now(&self, account: &str) -> Result<Lock> {
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

    /// The account's lock if no other process holds it now.
    pub fn try_lock(&self, account: &str) -> Result<Option<Lock>> {
        let file = self.open_lock(account)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}
