use anyhow::Result;
use clap::CommandFactory;
use clap_complete::shells;

use super::{Context, Run, print};
use crate::cli::{Cli, Completions, Shell};
use crate::shell::account_completion;

impl Run for Completions {
    fn run(&self, _ctx: &Context) -> Result<()> {
        print(&script(self.shell))
    }
}

/// The completion script for `awsenv`: clap's, plus account names for the arguments that take one.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    match shell {
        Shell::Bash => {
            clap_complete::generate(shells::Bash, &mut command, "awsenv", &mut out);
            out.extend_from_slice(account_completion(Shell::Bash).as_bytes());
        }
        Shell::Zsh => {
            let mut generated = Vec::new();
            clap_complete::generate(shells::Zsh, &mut command, "awsenv", &mut generated);
            // clap offers files for the ACCOUNT arguments; offer the store's accounts instead. The
            // helper goes before the closing dispatch, which runs when zsh autoloads the file.
            for line in String::from_utf8_lossy(&generated).lines() {
                if line.starts_with("if [ \"$funcstack[1]\" = \"_awsenv\" ]") {
                    out.extend_from_slice(account_completion(Shell::Zsh).as_bytes());
                    out.push(b'\n');
                }
                let is_account = line.contains("'::account -- ") || line.contains("'--account=[");
                let line = if is_account {
                    line.replace(":_default'", ":_awsenv_accounts'")
                } else {
                    line.to_owned()
                };
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
        }
        Shell::Fish => {
            clap_complete::generate(shells::Fish, &mut command, "awsenv", &mut out);
            out.extend_from_slice(account_completion(Shell::Fish).as_bytes());
        }
    }
    out
}
