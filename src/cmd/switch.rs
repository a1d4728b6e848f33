use anyhow::Result;

use super::{Context, ExportsTo, Run, emit};
use crate::accounts;
use crate::cli::Switch;
use crate::codes::Codes;
use crate::error::{Exit, fail};

impl Run for Switch {
    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(name) = &self.account else {
            let settings = ctx.settings();
            let names: Vec<String> =
                accounts::list(settings)?.into_iter().map(|listed| listed.name).collect();
            let store = settings.store_dir()?;
            if names.is_empty() && !store.exists() {
                let config_file = settings.aws_config_file()?;
                return Err(fail(
                    Exit::Config,
                    format!(
                        "No creds directory? {} does not exist, and {} has no profiles",
                        store.display(),
                        config_file.display()
                    ),
                ));
            }
            eprintln!("Possible accounts: {}", names.join(" "));
            return Ok(());
        };
        let account = ctx.open(name)?;
        let (held, creds) = account.current(|| Codes::new(None, ctx.settings()))?;
        emit(ctx, ExportsTo { shell: self.shell, only_changes: self.only_changes }, &account, &held, &creds)
    }
}
