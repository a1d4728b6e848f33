use anyhow::Result;

use super::{Context, Run, print};
use crate::cache::Cache;
use crate::cli::{Shell, Switch};
use crate::config::{self, RegionVars};
use crate::creds::Credentials;
use crate::shell::{Exports, Kind};
use crate::store::Store;

impl Run for Switch {
    fn run(&self, ctx: &Context) -> Result<()> {
        let store = Store::open(config::store_dir()?)?;
        let Some(name) = &self.account else {
            eprintln!("Possible accounts: {}", store.accounts()?.join(" "));
            return Ok(());
        };
        let account = store.resolve(name)?;
        let keys = store.long_term_keys(&account)?;
        match Cache::new(store.dir()).read_mfa(&account, &keys.access_key_id, ctx.now)? {
            Some(session) => emit(self.shell, &account, Kind::Mfa, &session),
            None => emit(self.shell, &account, Kind::LongTerm, &keys),
        }
    }
}

/// Prints the complete exports for `creds` on stdout, then says on stderr what was set.
pub(super) fn emit(shell: Shell, account: &str, kind: Kind, creds: &Credentials) -> Result<()> {
    print(&Exports::new(account, kind, creds, &RegionVars::read()).render(shell))?;
    eprintln!("Set keys for {} AWS account", kind.label(account));
    Ok(())
}
