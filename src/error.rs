//! Exit codes, and the error type that carries one.

use std::fmt;

/// The documented exit codes (README, "Exit codes"). Clap's usage errors exit with 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not listed below: an I/O error, a bug.
    Failure = 1,
    /// A malformed option value (clap's own usage errors use the same code).
    Usage = 2,
    /// The store, the account file or an account name is missing, malformed or unsafe.
    Config = 3,
    /// An MFA code is needed but missing or malformed, or there is no terminal to ask for one.
    MfaCode = 4,
    /// AWS answered with an error (wrong code, access denied, invalid key).
    Rejected = 5,
    /// AWS could not be reached in time.
    Unreachable = 6,
    /// `provision-mfa`: the IAM user already has an MFA device (aws-session's code).
    HasDevice = 10,
    /// `ssh-cert`: the signer Lambda answered with a FunctionError, or with something that is not
    /// a certificate for the key.
    Signer = 11,
    /// `ssh-cert`: the ssh-agent could not be reached or refused the key.
    Agent = 12,
    /// `authorized-keys`: IAM could not be asked and the cached keys are past `--stale` (fail closed).
    Stale = 13,
    /// `awsenv exec` found the command but could not run it.
    CannotRun = 126,
    /// `awsenv exec` could not find the command.
    NotFound = 127,
    /// The user interrupted a prompt.
    Interrupted = 130,
}

/// An error that decides the exit code. Context added on top of it is kept in the message.
#[derive(Debug)]
pub struct Fail {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fail {}

pub fn fail(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Fail { exit, message: message.into() })
}

/// An exit code with nothing more to say: the command has already told the user.
pub fn silent(exit: Exit) -> anyhow::Error {
    fail(exit, "")
}

/// The exit code for an error: the first `Fail` in its chain, else `Exit::Failure`.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    exit_of(error) as i32
}

/// The `Exit` of an error: the first `Fail` in its chain, else `Exit::Failure`.
pub fn exit_of(error: &anyhow::Error) -> Exit {
    error.chain().find_map(|cause| cause.downcast_ref::<Fail>()).map_or(Exit::Failure, |fail| fail.exit)
}

/// The error as the single stderr line the contract promises, whatever the causes contain: blanks
/// and line breaks become one space, and other control characters (a terminal escape in a server's
/// message, a file name or a value) are written as `\xNN` or `\u{NNNN}`, so that nothing in an
/// error can drive the terminal it is printed on.
pub fn one_line(error: &anyhow::Error) -> String {
    printable_line(&format!("{error:#}"))
}

/// `text` on one line with its control characters visible, as `one_line` prints errors.
pub fn printable_line(text: &str) -> String {
    use std::fmt::Write as _;
    let mut line = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !line.is_empty() {
            line.push(' ');
        }
        for c in word.chars() {
            match c {
                c if !c.is_control() => line.push(c),
                c if u32::from(c) < 0x100 => {
                    let _ = write!(line, "\\x{:02x}", u32::from(c));
                }
                c => {
                    let _ = write!(line, "\\u{{{:04x}}}", u32::from(c));
                }
            }
        }
    }
    line
}

/// Prints a diagnostic on stderr when `--debug` or `AWSENV_DEBUG` is on.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::error::debug_enabled() {
            eprintln!("awsenv: debug: {}", $crate::error::printable_line(&format!($($arg)*)));
        }
    };
}
pub(crate) use debug;

static DEBUG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn enable_debug(on: bool) {
    DEBUG.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    DEBUG.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_show_control_characters_instead_of_sending_them() {
        let error = anyhow::anyhow!("AccessDenied: \x1b]0;owned\x07 \u{9b}31m\n  next\tline\u{0}")
            .context("rolesanywhere CreateSession");
        let line = one_line(&error);
        assert_eq!(
            line,
            "rolesanywhere CreateSession: AccessDenied: \\x1b]0;owned\\x07 \\x9b31m next line\\x00"
        );
        assert!(!line.chars().any(char::is_control));
        assert_eq!(printable_line("caf\u{e9} \u{2028}x"), "caf\u{e9} x");
    }
}
