//! The process entry. awsenv provides the C `main` itself (`no_main`) instead of Rust's wrapper
//! around `fn main`, because that wrapper's start-up is most of what a trivial Rust program
//! executes: to name the main thread's stack guard page for its overflow message, it reads and
//! parses `/proc/self/maps` (42k of the 96k instructions of a trivial static binary, measured
//! with callgrind; every prompt, switch and `aws` call would pay it). The two things of that
//! start-up awsenv relies on are done here instead, in the same way; the arguments still reach
//! `std::env::args_os` (glibc hands them to the binary's initialisers), and `process::exit`
//! flushes stdout as the wrapper's return would.

// `cargo test` builds this file with libtest's own `main`: the C one is for the binary only.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
mod entry {
    use std::ffi::{c_char, c_int};

    #[unsafe(no_mangle)]
    extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
        open_missing_standard_descriptors();
        ignore_sigpipe();
        let status = awsenv::run(std::env::args_os().collect());
        std::process::exit(c_int::from(status))
    }

    /// A closed stdin, stdout or stderr is opened on /dev/null, so that no file awsenv opens (a
    /// cache entry, a credentials file) can take descriptor 1 or 2 and receive what is printed.
    /// One `poll` finds the closed ones, as std does; `fcntl` per descriptor where poll fails.
    fn open_missing_standard_descriptors() {
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
        // SAFETY: three valid pollfd structures, and a zero timeout.
        let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } != -1;
        for pollfd in fds {
            let closed = if polled {
                pollfd.revents & libc::POLLNVAL != 0
            } else {
                // SAFETY: F_GETFD reads a descriptor's flags and changes nothing.
                (unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) }) == -1
            };
            // SAFETY: a NUL-terminated path; descriptors are allocated lowest first, so the
            // lowest closed one, `pollfd.fd`, is the one it takes.
            if closed && unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } != pollfd.fd {
                // Nothing to print to safely: stop before anything is opened.
                std::process::abort();
            }
        }
    }

    /// Writes to a closed pipe fail with EPIPE (an error awsenv reports, or ignores where the reader
    /// left on purpose) instead of killing the process, as in every Rust program; children started
    /// with `std::process::Command` get the default action back, as std does for them.
    fn ignore_sigpipe() {
        // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }
}
