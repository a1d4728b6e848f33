//! Read leases on Linux (`fcntl(F_SETLEASE)`): how awsenv notices a program that writes a file in
//! place without a lock, as the aws CLI writes `~/.aws/credentials` (it reads the file, then opens
//! it again to truncate or append). A read lease cannot be taken while any process has the file
//! open for writing, and while it is held, another process's open for writing waits (up to
//! `/proc/sys/fs/lease-break-time`, 45 s by default) until it is let go; `F_GETLEASE` then shows
//! that someone is waiting. Elsewhere (other systems, file systems without leases) `take` answers
//! `Unavailable` and the caller looks at the file again after a settle time instead.

use std::fs::File;

/// What an attempt to take a read lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Held: no one has the file open for writing, and whoever opens it to write waits.
    Held,
    /// Another process has the file open for writing now.
    WriterOpen,
    /// Leases cannot be had here (not Linux, leases disabled, a file system without them, a file
    /// of another user's).
    Unavailable,
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::sync::Once;

    use super::Lease;

    extern "C" fn on_lease_break(_: libc::c_int) {}

    /// The kernel tells a lease holder that someone waits with SIGIO, whose default action ends
    /// the process; awsenv asks with `F_GETLEASE` instead, so the signal only needs to be caught.
    /// A handler (unlike `SIG_IGN`) does not pass on to the programs awsenv runs.
    fn catch_lease_breaks() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: the handler does nothing; SA_RESTART keeps reads and sleeps going.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_lease_break as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGIO, &action, std::ptr::null_mut());
            }
        });
    }

    pub fn take(file: &File) -> Lease {
        catch_lease_breaks();
        // SAFETY: fcntl on a descriptor this File owns.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) } == 0 {
            return Lease::Held;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EAGAIN) => Lease::WriterOpen,
            _ => Lease::Unavailable,
        }
    }

    pub fn writer_waiting(file: &File) -> bool {
        // SAFETY: as above. While a writer waits, the lease reads as the type it must become.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLEASE) == libc::F_UNLCK }
    }

    pub fn release(file: &File) {
        // SAFETY: as above; closing the file would release it too.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::fs::File;

    use super::Lease;

    pub fn take(_: &File) -> Lease {
        Lease::Unavailable
    }

    pub fn writer_waiting(_: &File) -> bool {
        false
    }

    pub fn release(_: &File) {}
}

/// Takes a read lease on `file` (opened read-only).
pub fn take(file: &File) -> Lease {
    imp::take(file)
}

/// Whether, while a lease is held, another process waits to open the file for writing.
pub fn writer_waiting(file: &File) -> bool {
    imp::writer_waiting(file)
}

/// Lets the lease go: a writer that waited goes on.
pub fn release(file: &File) {
    imp::release(file)
}
