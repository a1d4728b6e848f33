use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::{Shell, Switch};
use crate::config::{self, RegionVars};
use crate::creds::Credentials;
use crate::session::Account;
use crate::shell::{Exports, Kind};
use crate::store::Store;

impl Run for Switch {
    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(name) = &self.account else {
            let store = Store::open(config::store_dir()?)?;
            eprintln!("Possible accounts: {}", store.accounts()?.join(" "));
            return Ok(());
        };
        let account = Account::open(name)?;
        match account.cached_mfa(ctx.now, 0)? {
            Some(session) => emit(self.shell, &account.name, &Kind::Mfa, &session.credentials),
            None => emit(self.shell, &account.name, &Kind::LongTerm, &account.keys),
        }
    }
}

/// Prints the complete exports for `creds` on stdout, then says on stderr what was set.
pub(super) fn emit(shell: Shell, account: &str, kind: &Kind, creds: &Credentials) -> Result<()> {
    print(&Exports::new(account, kind, creds, &RegionVars::read()).render(shell))?;
    eprintln!("Set keys for {} AWS account", kind.label(account));
    Ok(())
}
