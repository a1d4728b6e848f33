use anyhow::Result;

use super::{Context, Run, print};
use crate::accounts;
use crate::cli::Accounts;

/// Lists the accounts with where each comes from, or only the names with `--names`.
impl Run for Accounts {
    fn run(&self, ctx: &Context) -> Result<()> {
        let listed = accounts::list(ctx.settings())?;
        let width = listed.iter().map(|l| l.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for entry in &listed {
            if self.names {
                out.push_str(&format!("{}\n", entry.name));
            } else {
                out.push_str(&format!("{:width$}  {}\n", entry.name, entry.origin.display()));
            }
        }
        print(out.as_bytes())
    }
}
