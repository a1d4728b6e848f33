use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{Context, Run, print};
use crate::cli::Init;
use crate::shell::init_script;

impl Run for Init {
    fn run(&self, _ctx: &Context) -> Result<()> {
        print(&init_script(self.shell, binary_path()?.as_os_str().as_bytes()))
    }
}

/// The path the shell functions call. The one on PATH is preferred when it is this binary, so a
/// package manager's stable symlink is kept rather than the versioned file it points to.
fn binary_path() -> Result<PathBuf> {
    let current = std::env::current_exe().context("could not find the awsenv binary's own path")?;
    if let Ok(on_path) = which::which("awsenv") {
        let same = |a: &PathBuf, b: &PathBuf| {
            a.canonicalize().ok().zip(b.canonicalize().ok()).is_some_and(|(a, b)| a == b)
        };
        if same(&on_path, &current) {
            return Ok(on_path);
        }
    }
    Ok(current)
}
