use anyhow::Result;

use super::{Context, Run, print};
use crate::config;
use crate::store::Store;

/// Lists the store's accounts, one per line, for completion and scripts.
pub struct Accounts;

impl Run for Accounts {
    fn run(&self, _ctx: &Context) -> Result<()> {
        let store = Store::open(config::store_dir()?)?;
        let mut out = String::new();
        for name in store.accounts()? {
            out.push_str(&name);
            out.push('\n');
        }
        print(out.as_bytes())
    }
}
