//! Questions for the person at the terminal. They go to `/dev/tty`, never to stdout, so they work
//! inside `eval "$(...)"`, pipes and `credential_process`.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::error::{Exit, fail};

/// An MFA code is six digits; checked before anything reaches the network.
pub fn is_mfa_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The terminal, or why there is none.
pub fn open(no_terminal: impl FnOnce() -> String) -> Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| fail(Exit::MfaCode, no_terminal()))
}

/// Asks for an MFA code on the terminal until `check` accepts one, at most three times. A
/// malformed answer is refused here; `check` may refuse more (a code already used).
pub fn ask_mfa_code(
    prompt: &str,
    no_terminal_hint: &str,
    check: impl Fn(&str) -> Option<String>,
) -> Result<String> {
    let tty =
        open(|| format!("an MFA code is needed and there is no terminal to ask for it; {no_terminal_hint}"))?;
    for _ in 0..3 {
        let code = ask(&tty, prompt)?;
        let refusal = match is_mfa_code(&code) {
            false => Some(format!("Not a valid code: {code:?} (6 digits expected)")),
            true => check(&code),
        };
        match refusal {
            None => return Ok(code),
            Some(why) => (&tty).write_all(format!("{why}\n").as_bytes())?,
        }
    }
    Err(fail(Exit::MfaCode, "no valid MFA code after three tries"))
}

/// Asks one question on the terminal and returns the answer without its line end.
pub fn ask(tty: &File, prompt: &str) -> Result<String> {
    let line = read_line(tty, prompt)?;
    Ok(String::from_utf8_lossy(&line).trim().to_owned())
}

/// Asks for a passphrase or a PIN on the terminal with echo off; the answer is kept whole (spaces
/// too) and never shown. `no_terminal` says what to do instead when there is no terminal.
pub fn ask_secret(prompt: &str, no_terminal: impl FnOnce() -> String) -> Result<crate::creds::Secret> {
    use std::os::fd::AsRawFd;
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| fail(Exit::Config, no_terminal()))?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data, filled by tcgetattr on an open descriptor before any use.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let echo_off = unsafe { libc::tcgetattr(fd, &mut saved) } == 0 && {
        let mut quiet = saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
        quiet.c_lflag |= libc::ICANON;
        // SAFETY: as above; the settings are restored below whatever the read gives.
        unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) == 0 }
    };
    let answer = read_line(&tty, prompt);
    if echo_off {
        // SAFETY: restores what tcgetattr read from this descriptor.
        unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
    }
    let mut line = answer?;
    (&tty).write_all(b"\n")?;
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(crate::creds::Secret::new(line))
}

/// Writes `prompt`, then reads one line up to (not including) its line end.
fn read_line(tty: &File, prompt: &str) -> Result<Vec<u8>> {
    let mut writer = tty;
    writer.write_all(prompt.as_bytes())?;
    writer.flush()?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        // One byte at a time, so an interrupt (EINTR) is seen at once rather than retried.
        match (&mut &*tty).read(&mut byte) {
            Ok(0) => {
                writer.write_all(b"\n")?;
                return Err(fail(Exit::Interrupted, "no answer: the terminal was closed"));
            }
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == ErrorKind::Interrupted && interrupted() => {
                writer.write_all(b"\n")?;
                return Err(fail(Exit::Interrupted, "interrupted"));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(line)
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on Ctrl-C does not kill the process: it sets a flag (see `interrupted`) and makes a
/// pending terminal read return, so that a command can undo what it has started.
pub fn catch_interrupts() {
    // SAFETY: the handler only stores to an atomic; sa_flags leaves out SA_RESTART on purpose, so
    // that a blocked read returns EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

/// Whether Ctrl-C (or SIGTERM) came since `catch_interrupts`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
