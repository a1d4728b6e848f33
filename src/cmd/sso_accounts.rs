use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::SsoAccounts;
use crate::profile::Profiles;
use crate::sso::{SsoSession, assignments};

/// Lists what the signed-in user may use, one role per line: `SESSION/ACCOUNT_ID/ROLE`, then the
/// account's name and e-mail address (`--names`: the names alone).
impl Run for SsoAccounts {
    fn run(&self, ctx: &Context) -> Result<()> {
        let session = SsoSession::find(&Profiles::load(ctx.settings())?, self.session.as_deref())?;
        let accounts = assignments(ctx.settings(), &session, self.refresh, ctx.now, ctx.clock)?;
        let label = session.label.as_str();
        let rows: Vec<(String, String)> = accounts
            .iter()
            .flat_map(|account| {
                let about =
                    format!("{} <{}>", printable(&account.account_name), printable(&account.email_address));
                account.roles.iter().map(move |role| {
                    (format!("{label}/{}/{}", account.account_id, printable(role)), about.clone())
                })
            })
            .collect();
        let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, about) in &rows {
            if self.names {
                out.push_str(&format!("{name}\n"));
            } else {
                out.push_str(&format!("{name:width$}  {about}\n"));
            }
        }
        print(out.as_bytes())
    }
}

/// A name from the service as a terminal may show it: control characters become `?`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}
