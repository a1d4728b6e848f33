use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result};

use super::{Context, Run, say_keys_set};
use crate::cli::{Shell, ShellCmd};
use crate::codes::Codes;
use crate::error::{Exit, fail};
use crate::files::{self, write_atomic};
use crate::kinds::Held;
use crate::shell::quote;

/// Opens the user's shell with the account's credentials and the awsenv functions, as
/// `aws-session shell` did; the user's own rc files are read first.
impl Run for ShellCmd {
    fn run(&self, ctx: &Context) -> Result<()> {
        let shell_path = ctx.user_shell().unwrap_or_else(|| "/bin/bash".into());
        let mut command = Command::new(&shell_path);
        match &self.account {
            Some(name) => {
                let account = ctx.open(name)?;
                let codes = || Codes::new(None, ctx.settings());
                let (held, creds) = match &self.role {
                    Some(role) => {
                        let session = account.consumer_session(Some(role), &codes()?, 0, false)?;
                        (Held::role_of(&session), session.credentials)
                    }
                    None => account.current(codes)?,
                };
                for (name, value) in account.exports(&held, &creds)?.pairs() {
                    match value {
                        Some(value) => command.env(name, OsStr::from_bytes(value)),
                        None => command.env_remove(name),
                    };
                }
                say_keys_set(&held.label(&account.name));
            }
            None if self.role.is_some() => {
                return Err(fail(Exit::Usage, "--role needs an account: awsenv shell ACCOUNT --role ROLE"));
            }
            None => {}
        }

        let bin = ctx.binary_path()?;
        let bin = bin.as_os_str().as_bytes();
        let shell_name = shell_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // The bash rc pipe must stay open until exec, which hands it to bash.
        let _rc_pipe = match shell_name.as_str() {
            "bash" => {
                let mut rc = b"[ -f ~/.bashrc ] && . ~/.bashrc\neval \"$(".to_vec();
                quote(Shell::Bash, bin, &mut rc);
                rc.extend_from_slice(b" init bash)\"\n");
                let read_end = rc_pipe(&rc)?;
                command.arg("--rcfile").arg(format!("/dev/fd/{}", read_end.as_raw_fd())).arg("-i");
                Some(read_end)
            }
            "zsh" => {
                // awsenv's own start-up files, private like the session cache beside them.
                let dir = ctx.settings().store_dir()?.join(".awsenv").join("zsh");
                files::create_private_dir(&dir)?;
                files::check_private_dir(&dir, "directory")?;
                write_zsh_files(&dir, bin)?;
                let real = ctx.zdotdir().unwrap_or_default();
                command.env("AWSENV_ZDOTDIR", real).env("ZDOTDIR", &dir).arg("-i");
                None
            }
            "fish" => {
                let mut init = Vec::new();
                quote(Shell::Fish, bin, &mut init);
                init.extend_from_slice(b" init fish | source");
                command.arg("-C").arg(OsStr::from_bytes(&init));
                None
            }
            _ => {
                eprintln!(
                    "awsenv: {} is not bash, zsh or fish: the shell gets the credentials but not the awsenv functions",
                    shell_path.display()
                );
                None
            }
        };
        command.env_remove("AWSENV_MFA_CODE").env_remove("AWS_SESSION_MFA_CODE");
        let error = command.exec();
        Err(fail(Exit::CannotRun, format!("could not start {}: {error}", shell_path.display())))
    }
}

/// A pipe holding `contents`, whose read end survives exec: bash reads it as its rc file.
fn rc_pipe(contents: &[u8]) -> Result<OwnedFd> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error()).context("could not create a pipe for bash's rc file");
    }
    // SAFETY: pipe() just returned these descriptors and nothing else owns them.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    std::fs::File::from(write_end).write_all(contents).context("could not write bash's rc file")?;
    Ok(read_end)
}

/// zsh reads its start-up files from `$ZDOTDIR`: these load the user's own, then awsenv.
fn write_zsh_files(dir: &Path, bin: &[u8]) -> Result<()> {
    let mut zshenv = b"# Written by awsenv shell: read the user's own .zshenv, then come back for .zshrc.\n\
        ZDOTDIR=${AWSENV_ZDOTDIR:-$HOME}\n\
        [[ -f $ZDOTDIR/.zshenv ]] && source $ZDOTDIR/.zshenv\n\
        __awsenv_zdotdir=$ZDOTDIR\n\
        ZDOTDIR="
        .to_vec();
    quote(Shell::Zsh, dir.as_os_str().as_bytes(), &mut zshenv);
    zshenv.push(b'\n');
    let mut zshrc = b"# Written by awsenv shell: read the user's own .zshrc, then load awsenv.\n\
        ZDOTDIR=$__awsenv_zdotdir\n\
        unset __awsenv_zdotdir AWSENV_ZDOTDIR\n\
        [[ -f $ZDOTDIR/.zshrc ]] && source $ZDOTDIR/.zshrc\n\
        eval \"$("
        .to_vec();
    quote(Shell::Zsh, bin, &mut zshrc);
    zshrc.extend_from_slice(b" init zsh)\"\n");
    write_atomic(dir, &dir.join(".zshenv"), &zshenv)?;
    write_atomic(dir, &dir.join(".zshrc"), &zshrc)
}
