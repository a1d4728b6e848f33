use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::Doctor;
use crate::doctor::{self, Facts, Inputs};
use crate::error::{Exit, silent};
use crate::shell::doctor_probe;

/// Checks the setup and prints one line per check (or one JSON document); exits 1 when a check
/// failed. With `--shell-probe`, prints the shell code the `awsenv` function gathers facts with.
impl Run for Doctor {
    fn run(&self, ctx: &Context) -> Result<()> {
        if let Some(shell) = self.shell_probe {
            return print(doctor_probe(shell).as_bytes());
        }
        let facts = self.from_shell.map(|shell| Facts::new(shell, &self.shell_facts));
        let running = std::env::current_exe().unwrap_or_default();
        let on_path = ctx.awsenv_on_path();
        let vars = ctx.doctor_env();
        let inputs = Inputs {
            env: ctx.env(),
            vars: &vars,
            now: ctx.now,
            shell: facts.as_ref(),
            running: &running,
            on_path: on_path.as_deref(),
            offline: self.offline,
        };
        let report = doctor::examine(&inputs);
        print(if self.json { report.json() } else { report.text() }.as_bytes())?;
        if report.failed() { Err(silent(Exit::Failure)) } else { Ok(()) }
    }
}
