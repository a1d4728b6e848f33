//! Where MFA codes come from, in order: given (`--code`, `AWSENV_MFA_CODE`), a command (the
//! account's own, else `AWSENV_MFA_COMMAND`), the terminal. A code already sent for a device is
//! never sent again within its window: AWS would refuse it, after a round trip.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cache::{bounded_name, file_key};
use crate::config::Settings;
use crate::creds::{Clock, Timestamp};
use crate::error::{Exit, debug, fail, one_line};
use crate::files::{self, Trust, limit};
use crate::tty;

/// A TOTP code is accepted in its own 30-second step and the neighbouring ones.
const REUSE_WINDOW: i64 = 90;
const STEP: i64 = 30;
/// A code command still running after this is probably waiting for a touch: say so.
const NOTICE_AFTER: Duration = Duration::from_secs(1);

/// The MFA device that signs for an account.
#[derive(Debug, Clone)]
pub struct Device {
    pub user: String,
    pub serial: String,
    /// The account's own code command (`NAME.mfa_command`, a profile's `mfa_process`).
    pub command: Option<String>,
}

pub struct Codes {
    given: Option<String>,
    /// `AWSENV_MFA_COMMAND`, for devices without a command of their own.
    command: Option<String>,
    command_timeout: Result<Duration, String>,
    /// Whether the terminal may be asked.
    ask: bool,
    /// What to tell a user who gave no code and has no terminal.
    hint: &'static str,
}

impl Codes {
    /// `--code`, else `AWSENV_MFA_CODE` (or aws-session's `AWS_SESSION_MFA_CODE`); checked now so
    /// that a malformed code fails before any file lock or network call.
    pub fn new(flag: Option<String>, settings: &Settings) -> Result<Self> {
        let given = flag.or_else(|| settings.mfa_code.clone());
        if given.as_deref().is_some_and(|code| !tty::is_mfa_code(code)) {
            return Err(fail(Exit::MfaCode, "the MFA code must be 6 digits"));
        }
        Ok(Self {
            given,
            ask: true,
            hint: "pass it as ec2mfa CODE, --code or AWSENV_MFA_CODE, or set AWSENV_MFA_COMMAND",
            ..Self::none("", settings)
        })
    }

    /// No code given and no terminal: for renewals nobody is there to answer. A code command
    /// still works.
    pub fn none(hint: &'static str, settings: &Settings) -> Self {
        Self {
            given: None,
            command: settings.mfa_command.clone(),
            // Kept until a command runs: a malformed timeout must not stop a cached session.
            command_timeout: settings.mfa_command_timeout().map_err(|e| crate::error::one_line(&e)),
            ask: false,
            hint,
        }
    }

    /// Whether the user may be asked (a terminal, a browser), or only what needs nobody.
    pub fn may_ask(&self) -> bool {
        self.ask
    }

    /// Replaces the advice given when no code can be had.
    pub fn with_hint(self, hint: &'static str) -> Self {
        Self { hint, ..self }
    }

    /// A code for `device` from the first source that has one; the caller records it with
    /// `SentCodes::record` before sending it.
    pub fn get(&self, device: &Device, sent: &SentCodes, clock: Clock) -> Result<String> {
        crate::timing::measure(crate::timing::Phase::Code, || self.get_now(device, sent, clock))
    }

    fn get_now(&self, device: &Device, sent: &SentCodes, clock: Clock) -> Result<String> {
        let last = sent.last(&device.serial)?;
        let reused = |code: &str| match &last {
            Some((used, at)) if used == code => {
                let ago = clock.now().seconds_since(*at);
                (ago < REUSE_WINDOW).then_some(ago)
            }
            _ => None,
        };
        let command = device.command.clone().or_else(|| self.command.clone());
        let run_command = |command: &str| {
            let limit = self.command_timeout.clone().map_err(|message| fail(Exit::Usage, message))?;
            run_command(command, limit)
        };
        let code = if let Some(code) = &self.given {
            if let Some(ago) = reused(code) {
                return Err(fail(
                    Exit::MfaCode,
                    format!(
                        "this MFA code was already sent for {} {ago}s ago and AWS accepts a code once; wait for the next one",
                        device.serial
                    ),
                ));
            }
            code.clone()
        } else if let Some(command) = command {
            let mut code = run_command(&command)?;
            if reused(&code).is_some() {
                let wait = STEP - clock.now().0.rem_euclid(STEP) + 1;
                eprintln!(
                    "awsenv: the MFA command gave the code already sent; waiting {wait}s for the next one"
                );
                std::thread::sleep(Duration::from_secs(wait.unsigned_abs()));
                code = run_command(&command)?;
                if reused(&code).is_some() {
                    return Err(fail(Exit::MfaCode, "the MFA command keeps giving the code already sent"));
                }
            }
            code
        } else if self.ask {
            let prompt = format!("Enter token for user {}: ", device.user);
            let check = |code: &str| {
                reused(code)
                    .map(|ago| format!("That code was already used {ago}s ago; wait for the next one."))
            };
            tty::ask_mfa_code(&prompt, self.hint, check)?
        } else {
            return Err(fail(
                Exit::MfaCode,
                format!(
                    "an MFA code is needed and none of --code, AWSENV_MFA_CODE, an MFA command (AWSENV_MFA_COMMAND) or a terminal can give one; {}",
                    self.hint
                ),
            ));
        };
        Ok(code)
    }
}

/// Runs a code command through `sh -c` (so it may be a pipeline) in its own process group, with
/// no input; its stderr goes to the user (a YubiKey asking for a touch), its stdout must be six
/// digits. On timeout the whole group is killed, so nothing it started holds awsenv's stderr.
fn run_command(command: &str, limit: Duration) -> Result<String> {
    debug!("MFA code from: {command}");
    let mut child = Command::new("/bin/sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| "could not start the MFA command")?;
    let started = Instant::now();
    let mut told = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if !told && started.elapsed() >= NOTICE_AFTER {
            eprintln!("awsenv: waiting for the MFA command (touch your key if it asks)");
            told = true;
        }
        if started.elapsed() >= limit {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: kill has no memory effects; -pid names the group the child leads.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            let _ = child.wait();
            return Err(fail(
                Exit::MfaCode,
                format!(
                    "the MFA command gave no code within {}s (AWSENV_MFA_COMMAND_TIMEOUT)",
                    limit.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        // A code is six digits: a command that prints megabytes is wrong, not worth the memory.
        stdout.take(4096).read_to_string(&mut output).context("could not read the MFA command's output")?;
    }
    if !status.success() {
        return Err(fail(Exit::MfaCode, format!("the MFA command failed ({status})")));
    }
    let code = output.trim();
    if !tty::is_mfa_code(code) {
        // Not echoed: it might be anything, a secret included.
        return Err(fail(
            Exit::MfaCode,
            format!("the MFA command printed {} characters, not a 6-digit code", code.chars().count()),
        ));
    }
    Ok(code.to_owned())
}

/// The last code sent for each MFA device, in the cache directory: AWS accepts a code once, so a
/// code that has reached AWS is never sent again within its window. The guard fails closed: a code
/// whose sending cannot be recorded is not sent.
pub struct SentCodes {
    dir: PathBuf,
}

/// A code recorded as sent, before the call that sends it; `settle` takes the record back when
/// the call never reached AWS, so that the code may be tried again.
pub struct Sending<'a> {
    codes: &'a SentCodes,
    serial: &'a str,
    previous: Option<Vec<u8>>,
}

impl SentCodes {
    pub fn new(cache_dir: &Path) -> Self {
        Self { dir: cache_dir.to_owned() }
    }

    fn path(&self, serial: &str) -> PathBuf {
        let account_id = serial.split(':').nth(4).unwrap_or("");
        let device = serial.rsplit('/').next().unwrap_or(serial);
        self.dir.join(bounded_name(format!("last-code.{}.{}", file_key(account_id), file_key(device))))
    }

    /// The last code sent for the device `serial`, and when.
    pub fn last(&self, serial: &str) -> Result<Option<(String, Timestamp)>> {
        let path = self.path(serial);
        let Some(text) = files::read_text(&path, "MFA code record", limit::VALUE, Trust::Data)? else {
            return Ok(None);
        };
        let record = text.trim().split_once(' ').and_then(|(code, at)| Some((code, at.parse().ok()?)));
        Ok(record.map(|(code, at)| (code.to_owned(), Timestamp(at))))
    }

    /// Records `code` as sent for `serial` at `at`, before it is sent. Callers hold the account's
    /// lock, or are alone with the device (provisioning).
    pub fn record<'a>(&'a self, serial: &'a str, code: &str, at: Timestamp) -> Result<Sending<'a>> {
        let path = self.path(serial);
        let previous = files::read(&path, "MFA code record", limit::VALUE, Trust::Data).unwrap_or(None);
        let written = files::create_private_dir(&self.dir)
            .and_then(|()| files::write_atomic(&self.dir, &path, format!("{code} {}\n", at.0).as_bytes()));
        written.map_err(|e| {
            fail(
                Exit::Failure,
                format!(
                    "could not record the MFA code before sending it, so it was not sent ({}: {})",
                    path.display(),
                    one_line(&e)
                ),
            )
        })?;
        Ok(Sending { codes: self, serial, previous })
    }
}

impl Sending<'_> {
    /// Keeps the record when AWS answered (whatever it said); takes it back when the call never
    /// reached AWS (unreachable, timed out), so that the code may be tried again.
    pub fn settle<T>(self, result: &Result<T>) {
        let reached = match result {
            Ok(_) => true,
            Err(error) => crate::error::exit_code(error) != Exit::Unreachable as i32,
        };
        if reached {
            return;
        }
        let path = self.codes.path(self.serial);
        let restored = match &self.previous {
            Some(previous) => files::write_atomic(&self.codes.dir, &path, previous),
            None => std::fs::remove_file(&path).map_err(Into::into),
        };
        if let Err(error) = restored {
            debug!("could not take back the MFA code record {}: {}", path.display(), one_line(&error));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_that_cannot_be_recorded_is_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let sent = SentCodes::new(&dir.path().join("cache"));
        let serial = "arn:aws:iam::123456789012:mfa/alice";
        let sending = sent.record(serial, "123456", Timestamp(1_000)).unwrap();
        assert_eq!(sent.last(serial).unwrap(), Some(("123456".to_owned(), Timestamp(1_000))));
        sending.settle(&Err::<(), _>(fail(Exit::Unreachable, "timed out")));
        assert_eq!(sent.last(serial).unwrap(), None, "an unsent code is taken back");
        let sending = sent.record(serial, "654321", Timestamp(2_000)).unwrap();
        sending.settle(&Err::<(), _>(fail(Exit::Rejected, "AccessDenied")));
        assert_eq!(sent.last(serial).unwrap().unwrap().0, "654321", "a refused code stays recorded");
        // A serial far longer than a file name still has a record.
        let long = format!("arn:aws:iam::123456789012:mfa/{}", "x".repeat(5000));
        sent.record(&long, "111111", Timestamp(3_000)).unwrap();
        assert_eq!(sent.last(&long).unwrap().unwrap().0, "111111");
        // A cache directory that cannot be written refuses to send.
        let blocked = SentCodes::new(Path::new("/proc/awsenv-cannot-exist"));
        let error = blocked.record(serial, "222222", Timestamp(4_000)).err().unwrap();
        assert!(one_line(&error).contains("was not sent"), "{error:#}");
    }
}
