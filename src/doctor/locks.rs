//! Who holds a lock file now, read from /proc (Linux) without touching the lock: `/proc/locks`
//! names the process and the inode, `/proc/PID/fd` confirms that the process has this very file
//! open (an inode number alone may be another file system's).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::creds::Timestamp;

pub struct Holder {
    pub pid: u32,
    /// The process's name (`/proc/PID/comm`; never its arguments, which may hold a code).
    pub command: String,
    /// Seconds since the process started, when /proc tells.
    pub running_for: Option<i64>,
}

/// Whether this system tells who holds a lock (Linux's `/proc/locks`).
pub fn visible() -> bool {
    std::path::Path::new("/proc/locks").exists()
}

/// The process holding `file`'s lock, or `None` when it is free (or /proc cannot tell).
pub fn holder(file: &Path, now: Timestamp) -> Option<Holder> {
    let inode = fs::metadata(file).ok()?.ino();
    let canonical = file.canonicalize().ok()?;
    let locks = fs::read_to_string("/proc/locks").ok()?;
    locks.lines().filter(|line| !line.contains("->")).find_map(|line| {
        // `1: FLOCK  ADVISORY  WRITE 1234 fe:00:6463910 0 EOF`; `->` marks a waiter.
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&"FLOCK") {
            return None;
        }
        let pid: u32 = fields.get(4)?.parse().ok()?;
        let lock_inode: u64 = fields.get(5)?.rsplit(':').next()?.parse().ok()?;
        (lock_inode == inode && has_open(pid, &canonical)).then(|| Holder {
            pid,
            command: command(pid),
            running_for: running_for(pid, now),
        })
    })
}

fn has_open(pid: u32, path: &Path) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == path))
}

fn command(pid: u32) -> String {
    let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() { "?".to_owned() } else { name }
}

/// From the process's start (field 22 of `/proc/PID/stat`, in clock ticks after boot) and the
/// boot time (`btime` of `/proc/stat`).
fn running_for(pid: u32, now: Timestamp) -> Option<i64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) is in parentheses and may hold anything; the fields after it start at 3.
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let start_ticks: i64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let boot = fs::read_to_string("/proc/stat").ok()?;
    let boot: i64 = boot.lines().find_map(|line| line.strip_prefix("btime "))?.trim().parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| now.0 - (boot + start_ticks / ticks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;

    #[test]
    fn the_holder_of_a_lock_is_this_process_and_a_free_lock_has_none() {
        let store = tempfile::tempdir().unwrap();
        let cache = Cache::new(store.path());
        let lock = cache.lock("work").unwrap();
        let file = cache.dir().join("work.lock");
        // The wall clock's now, as the kernel stamped the lock file it just made: the holder's
        // age is measured against the real boot time, so no fake clock will do.
        let made = std::fs::metadata(&file).unwrap().modified().unwrap();
        let now = Timestamp(made.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64);
        let holder = holder(&file, now).expect("the lock is held");
        assert_eq!(holder.pid, std::process::id());
        assert!(holder.running_for.is_some_and(|age| (0..3600).contains(&age)));
        assert!(!holder.command.is_empty());
        drop(lock);
        assert!(super::holder(&file, now).is_none());
    }
}
