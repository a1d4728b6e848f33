use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::completions::{BASH_ACCOUNTS, FISH_ACCOUNTS, ZSH_ACCOUNTS};
use super::{Context, Run, print};
use crate::cli::{Init, Shell};
use crate::shell::{InitOptions, init_script};

impl Run for Init {
    fn run(&self, _ctx: &Context) -> Result<()> {
        let options = InitOptions { prompt_hook: !self.no_prompt, wrapper: !self.no_wrapper };
        let extra = match self.shell {
            Shell::Bash => BASH_ACCOUNTS,
            Shell::Zsh => ZSH_ACCOUNTS,
            Shell::Fish => FISH_ACCOUNTS,
        };
        print(&init_script(self.shell, binary_path()?.as_os_str().as_bytes(), options, extra))
    }
}

/// The path the shell functions call. The one on PATH is preferred when it is this binary, so a
/// package manager's stable symlink is kept rather than the versioned file it points to.
pub(super) fn binary_path() -> Result<PathBuf> {
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
