//! The user's browser, and the person at the terminal. A sign-in by authorization code needs a
//! browser on this machine (it comes back to a listener on 127.0.0.1); where there can be none
//! (an SSH session, a container, no display), the device code flow is used instead.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::config::Desktop;
use crate::error::debug;

/// A command that opens a URL: the program and the arguments before (or around, `%s`) the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opener {
    argv: Vec<String>,
}

/// The commands that may open a URL for the user, in order; empty when no browser here could
/// reach a loopback listener. `$BROWSER` always counts: the user named a browser for this
/// machine (a text browser in an SSH session reaches the loopback too).
pub fn openers(desktop: &Desktop) -> Vec<Opener> {
    if let Some(list) = &desktop.browser {
        // As Python's webbrowser and xdg-utils read it: commands separated by ':'.
        return list
            .split(':')
            .map(|command| Opener { argv: command.split_whitespace().map(str::to_owned).collect() })
            .filter(|opener| !opener.argv.is_empty())
            .collect();
    }
    let container =
        desktop.container || Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists();
    // Over SSH a browser here shows on the user's screen only through X forwarding (DISPLAY).
    let graphical = desktop.display || (cfg!(target_os = "macos") && !desktop.ssh);
    if container || !graphical {
        debug!(
            "no browser for the sign-in (ssh {}, container {container}, display {})",
            desktop.ssh, desktop.display
        );
        return Vec::new();
    }
    let program = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match which::which(program) {
        Ok(path) => vec![Opener { argv: vec![path.to_string_lossy().into_owned()] }],
        Err(_) => {
            debug!("no {program} to open a browser with");
            Vec::new()
        }
    }
}

/// Opens `url` with the first opener that starts. The URL holds the client id, the PKCE challenge
/// and the state, none of them a secret (the challenge is a hash; the state only has to be
/// unguessable before the redirect comes back). Its output goes nowhere: a browser that keeps it
/// open would hold up whoever reads awsenv's output (botocore's credential_process waits for EOF).
pub fn open(openers: &[Opener], url: &str) -> bool {
    for opener in openers {
        let mut argv = opener.argv.clone();
        if argv.iter().any(|arg| arg.contains("%s")) {
            argv.iter_mut().for_each(|arg| *arg = arg.replace("%s", url));
        } else {
            argv.push(url.to_owned());
        }
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        match command.spawn() {
            Ok(mut child) => {
                debug!("opened the sign-in page with {}", opener.argv[0]);
                // Reaped whenever it ends, so that a long-running awsenv (serve) keeps no zombie.
                std::thread::spawn(move || child.wait());
                return true;
            }
            Err(e) => debug!("could not start {}: {}", opener.argv[0], e.kind()),
        }
    }
    false
}

/// Whether someone can be told something: stderr is a terminal, or the process has one.
pub fn has_terminal() -> bool {
    std::io::stderr().is_terminal() || OpenOptions::new().write(true).open("/dev/tty").is_ok()
}

/// Tells the user `lines` (each prefixed `awsenv: `): on stderr when it is a terminal or there is
/// no terminal at all, else on the terminal (stderr may be a pipe that only an error is read
/// from, as under credential_process). Never on stdout, which the shell functions evaluate.
pub fn tell(lines: &[String]) {
    let text: String = lines.iter().map(|line| format!("awsenv: {line}\n")).collect();
    if !std::io::stderr().is_terminal()
        && let Ok(mut tty) = OpenOptions::new().write(true).open("/dev/tty")
        && tty.write_all(text.as_bytes()).is_ok()
    {
        return;
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_replaces_percent_s_or_is_appended() {
        // `true` exists everywhere; `open` reports whether it started.
        assert!(open(&[Opener { argv: vec!["true".into(), "--x=%s".into()] }], "http://127.0.0.1/"));
        assert!(open(
            &[Opener { argv: vec!["/nonexistent/browser".into()] }, Opener { argv: vec!["true".into()] }],
            "http://127.0.0.1/"
        ));
        assert!(!open(&[Opener { argv: vec!["/nonexistent/browser".into()] }], "http://127.0.0.1/"));
    }
}
