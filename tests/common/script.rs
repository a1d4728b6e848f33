//! The text of shell scripts the tests run, and what the scripts print back.

use std::ffi::OsStr;
use std::process::Output;

use super::{Shell, show, stdout};

/// `text` in single quotes for any of the three shells. It must hold no quote and no backslash
/// (fish reads a backslash inside single quotes), which test paths and values never do.
pub fn sq(text: &(impl AsRef<OsStr> + ?Sized)) -> String {
    let text = text.as_ref().to_str().expect("utf-8 text");
    assert!(!text.contains(['\'', '\\']), "cannot single-quote {text:?} for every shell");
    format!("'{text}'")
}

/// `export NAME='value'`, or fish's `set -gx NAME 'value'`.
pub fn export(shell: Shell, name: &str, value: &str) -> String {
    match shell {
        Shell::Fish => format!("set -gx {name} {}", sq(value)),
        _ => format!("export {name}={}", sq(value)),
    }
}

/// The shell's variable holding the last command's status.
pub fn status_var(shell: Shell) -> &'static str {
    match shell {
        Shell::Fish => "$status",
        _ => "$?",
    }
}

/// The lines awsenv wrote (`awsenv: ...`) among `text`.
pub fn awsenv_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("awsenv: ")).collect()
}

/// The value of a `NAME=value` line a script printed; the last one wins.
pub fn value(o: &Output, name: &str) -> String {
    let prefix = format!("{name}=");
    stdout(o)
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {name}= line\n{}", show(o)))
}
