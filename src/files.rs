//! Every file awsenv reads or writes goes through here: what it reads must be a regular file of a
//! bounded size (a FIFO must not hang it, `/dev/zero` must not exhaust memory), and what it trusts
//! (keys, commands, account and profile files, CA bundles) must belong to the user or root and be
//! writable by no one else, as OpenSSH requires of `authorized_keys`. What it writes is replaced
//! atomically, so that a crash at any moment leaves the old file or the new one.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::error::{Exit, fail};

/// Size limits, each what its format can need with room to spare.
pub mod limit {
    /// A key, an IAM user name, an MFA serial, a command line.
    pub const VALUE: u64 = 64 * 1024;
    /// A JSON document of awsenv's own (a cache entry, an account file).
    pub const JSON: u64 = 4 * 1024 * 1024;
    /// The aws CLI's config and credentials files (tens of thousands of profiles fit).
    pub const INI: u64 = 64 * 1024 * 1024;
    /// A PEM bundle of CA certificates.
    pub const PEM: u64 = 16 * 1024 * 1024;
}

/// Whether the owner of a file must be checked before its contents are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Its contents decide what awsenv runs or whom it trusts: the user's or root's, and
    /// writable by no one else.
    Required,
    /// Read as data only (awsenv's own cache in its private directory, a file it is about to
    /// rewrite).
    Data,
}

/// Reads `path` whole, or `None` when it does not exist. Anything but a regular file is refused
/// without blocking; so is a file over `max` bytes, and with `Trust::Required` a file that someone
/// other than the user (or root) owns or can write. `what` names the file in errors.
pub fn read(path: &Path, what: &str, max: u64, trust: Trust) -> Result<Option<Vec<u8>>> {
    let Some((file, meta)) = open_checked(path, what, trust)? else {
        return Ok(None);
    };
    read_open(file, meta.len(), path, what, max).map(Some)
}

/// As `read`, for a file that must be UTF-8 text; a byte-order mark at the start is dropped, as the
/// aws CLI and Python's readers drop it.
pub fn read_text(path: &Path, what: &str, max: u64, trust: Trust) -> Result<Option<String>> {
    let Some(bytes) = read(path, what, max, trust)? else {
        return Ok(None);
    };
    let bytes = strip_bom(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Some(text.to_owned())),
        Err(_) => Err(fail(Exit::Config, format!("{what} {} is not UTF-8 text", path.display()))),
    }
}

/// What is wrong with a JSON document, and where, without quoting any of it (serde_json's own
/// messages quote values, which may be secrets).
pub fn json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Io => "could not be read",
        Category::Syntax => "is not valid JSON",
        Category::Data => "has a value of the wrong type or a missing field",
        Category::Eof => "ends too early",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

/// The bytes without a leading UTF-8 byte-order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Opens `path` for reading when it is a regular file that passes `trust`; `None` when it does not
/// exist. The file is opened non-blocking and checked after opening, so that what is checked is
/// what is read.
pub fn open(path: &Path, what: &str, trust: Trust) -> Result<Option<File>> {
    Ok(open_checked(path, what, trust)?.map(|(file, _)| file))
}

/// As `open`, with the metadata it checked (the size, for reading the file in one call).
fn open_checked(path: &Path, what: &str, trust: Trust) -> Result<Option<(File, fs::Metadata)>> {
    let file = match OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(fail(
                Exit::Config,
                format!("could not open {what} {}: {}", path.display(), e.kind()),
            ));
        }
    };
    let meta = file.metadata().with_context(|| format!("could not read {what} {}", path.display()))?;
    if !meta.is_file() {
        return Err(fail(Exit::Config, format!("{what} {} is not a regular file", path.display())));
    }
    if trust == Trust::Required {
        check_owner(path, what, &meta)?;
    }
    Ok(Some((file, meta)))
}

fn read_open(file: File, size: u64, path: &Path, what: &str, max: u64) -> Result<Vec<u8>> {
    // Room for the whole file and one byte more, so that it is read in one call and its end seen
    // in a second (`Take` hides the size from `read_to_end`, which would start at 32 bytes).
    let mut bytes = Vec::with_capacity(size.min(max) as usize + 1);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("could not read {what} {}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(fail(
            Exit::Config,
            format!("{what} {} is larger than {max} bytes, too large to be one", path.display()),
        ));
    }
    Ok(bytes)
}

/// The user's effective uid.
pub fn my_uid() -> u32 {
    // Asked once: every file awsenv trusts is checked against it.
    static UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    *UID.get_or_init(|| unsafe { libc::geteuid() })
}

/// Refuses a file or directory that another user owns or can write: whoever can write it can
/// change what awsenv runs or trusts. Root may own it, as OpenSSH allows; a group write bit is
/// harmless when the group is the user's own private group (Debian's OpenSSH allows that too).
pub fn check_owner(path: &Path, what: &str, meta: &fs::Metadata) -> Result<()> {
    let uid = my_uid();
    let owner = meta.uid();
    if owner != uid && owner != 0 {
        return Err(fail(
            Exit::Config,
            format!(
                "{what} {} belongs to uid {owner}, not to you (uid {uid}); fix with: chown $(id -u) {}",
                path.display(),
                path.display()
            ),
        ));
    }
    let mode = meta.mode() & 0o7777;
    // Looked up only for a group-writable file: the lookup reads the user and group databases.
    let group_only_me = || mode & 0o002 == 0 && owner == uid && private_group(meta.gid(), uid);
    if mode & 0o022 != 0 && !group_only_me() {
        return Err(fail(
            Exit::Config,
            format!(
                "{what} {} is writable by others (mode {mode:04o}); fix with: chmod go-w {}",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Whether `gid` is the user's own group: named like the user, the user's primary group, and with
/// no other members.
fn private_group(gid: u32, uid: u32) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: the structs are plain C data; the buffers outlive the calls that fill them, and the
    // pointers read back point into those buffers.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut found) != 0
            || found.is_null()
            || pw.pw_gid != gid
        {
            return false;
        }
        let user = std::ffi::CStr::from_ptr(pw.pw_name).to_owned();
        let mut gbuf = vec![0u8; 64 * 1024];
        let mut gr: libc::group = std::mem::zeroed();
        let mut gfound: *mut libc::group = std::ptr::null_mut();
        if libc::getgrgid_r(gid, &mut gr, gbuf.as_mut_ptr().cast(), gbuf.len(), &mut gfound) != 0
            || gfound.is_null()
            || std::ffi::CStr::from_ptr(gr.gr_name) != user.as_c_str()
        {
            return false;
        }
        let mut member = gr.gr_mem;
        while !member.is_null() && !(*member).is_null() {
            if std::ffi::CStr::from_ptr(*member) != user.as_c_str() {
                return false;
            }
            member = member.add(1);
        }
        true
    }
}

/// Refuses a directory that another user could change: whoever can write there can swap files.
pub fn check_private_dir(dir: &Path, what: &str) -> Result<fs::Metadata> {
    let meta = fs::metadata(dir).with_context(|| format!("could not read {what} {}", dir.display()))?;
    check_private_dir_meta(dir, what, &meta)?;
    Ok(meta)
}

/// `check_private_dir` for metadata the caller already has.
pub fn check_private_dir_meta(dir: &Path, what: &str, meta: &fs::Metadata) -> Result<()> {
    if !meta.is_dir() {
        return Err(fail(Exit::Config, format!("{what} {} is not a directory", dir.display())));
    }
    let uid = my_uid();
    if meta.uid() != uid {
        return Err(fail(
            Exit::Config,
            format!(
                "{what} {} belongs to uid {}, not to you (uid {uid}); fix with: chown -R $(id -u) {}",
                dir.display(),
                meta.uid(),
                dir.display()
            ),
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(fail(
            Exit::Config,
            format!(
                "{what} {} is writable by others (mode {mode:04o}); fix with: chmod go-w {}",
                dir.display(),
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// Creates `dir` (and its parents) 0700 when missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("could not create directory {}", dir.display()))
}

/// Opens the lock file `path` (made 0600 when missing; never truncated, its contents unused): the
/// caller takes its `flock`, which the kernel releases when the process dies.
pub fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not open lock file {}", path.display()))
}

/// Replaces `path` with `contents` so that a crash at any moment leaves the old file or the new
/// one. Callers hold a lock, so any temp file left in `dir` is from a writer that died: removed.
pub fn write_atomic(dir: &Path, path: &Path, contents: &[u8]) -> Result<()> {
    Staged::write(dir, path, contents, 0o600)?.commit()
}

/// A new version of a file, written and synced beside it, not yet renamed into place.
pub struct Staged {
    dir: PathBuf,
    path: PathBuf,
    temp: PathBuf,
}

impl Staged {
    pub fn write(dir: &Path, path: &Path, contents: &[u8], mode: u32) -> Result<Self> {
        let file_name = path.file_name().and_then(|n| n.to_str()).context("the file has a name")?;
        let temp_prefix = format!("{file_name}.tmp-");
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_str().is_some_and(|n| n.starts_with(&temp_prefix)) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        #[allow(clippy::disallowed_methods, reason = "a temp file's name, not a time")]
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let temp = dir.join(format!("{temp_prefix}{}-{nanos}", std::process::id()));
        let staged = Self { dir: dir.to_owned(), path: path.to_owned(), temp };
        let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&staged.temp)?;
        file.write_all(contents)?;
        // Rust ignores errors from close(); sync first so that a full disk is reported here.
        file.sync_all()?;
        Ok(staged)
    }

    /// The new version, opened read-only (to watch it once it is in place).
    pub fn reopen(&self) -> Result<File> {
        Ok(File::open(&self.temp)?)
    }

    /// Renames the new version into place and syncs the directory.
    pub fn commit(self) -> Result<()> {
        fs::rename(&self.temp, &self.path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

impl Drop for Staged {
    /// A version that was not committed is removed (after a commit there is nothing to remove).
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.temp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn fifos_devices_and_huge_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let error = read(&fifo, "key file", limit::VALUE, Trust::Required).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let error = read(Path::new("/dev/zero"), "config file", limit::INI, Trust::Data).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let big = dir.path().join("big");
        fs::write(&big, vec![b'x'; 100]).unwrap();
        let error = read(&big, "key file", 99, Trust::Data).unwrap_err();
        assert!(error.to_string().contains("larger than 99 bytes"), "{error}");
        assert_eq!(read(&big, "key file", 100, Trust::Data).unwrap().unwrap().len(), 100);
        assert!(read(&dir.path().join("none"), "key file", 1, Trust::Data).unwrap().is_none());
    }

    #[test]
    fn files_writable_by_others_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cmd");
        fs::write(&file, "x").unwrap();
        for (mode, ok) in [(0o600, true), (0o644, true), (0o666, false), (0o646, false)] {
            fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
            let result = read(&file, "command file", 10, Trust::Required);
            assert_eq!(result.is_ok(), ok, "mode {mode:o}: {result:?}");
            if !ok {
                let message = result.unwrap_err().to_string();
                assert!(message.contains("chmod go-w"), "{message}");
            }
            assert!(read(&file, "data", 10, Trust::Data).is_ok());
        }
    }

    #[test]
    fn a_byte_order_mark_is_dropped_from_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.json");
        fs::write(&file, b"\xEF\xBB\xBF{}").unwrap();
        assert_eq!(read_text(&file, "account file", 10, Trust::Data).unwrap().unwrap(), "{}");
    }
}
