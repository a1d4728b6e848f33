use anyhow::Result;

use super::{Context, Run, print};
use crate::accounts;
use crate::cli::{Shell, Switch};
use crate::config;
use crate::creds::Credentials;
use crate::error::{Exit, fail};
use crate::session::{Account, Codes, Want};
use crate::shell::Kind;

impl Run for Switch {
    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(name) = &self.account else {
            let names: Vec<String> = accounts::list()?.into_iter().map(|listed| listed.name).collect();
            let store = config::store_dir()?;
            if names.is_empty() && !store.exists() {
                let config_file = config::aws_config_file()?;
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
        let account = Account::open(name)?;
        let (kind, creds) = best_credentials(&account, ctx)?;
        emit(self.shell, &account, &kind, &creds)
    }
}

/// What `ec2switch` switches to: for keys, the cached MFA session while it is valid, else the
/// keys themselves; for a role profile, its role session, assumed now if none is cached.
pub(super) fn best_credentials(account: &Account, ctx: &Context) -> Result<(Kind, Credentials)> {
    let Some(request) = account.profile_role() else {
        return Ok(match account.cached_mfa(ctx.now, 0)? {
            Some(session) => (Kind::Mfa, session.credentials),
            None => (Kind::LongTerm, account.keys().clone()),
        });
    };
    let session = match account.cached_profile_role(ctx.now, 0)? {
        Some(session) => session,
        None => {
            let codes = Codes::new(None)?;
            let want = Want::new(&codes, ctx.account_file.as_deref())?;
            account.role_session(request, &want)?
        }
    };
    Ok((Kind::role_of(&session), session.credentials))
}

/// Prints the complete exports for `creds` on stdout, then says on stderr what was set.
pub(super) fn emit(shell: Shell, account: &Account, kind: &Kind, creds: &Credentials) -> Result<()> {
    print(&account.exports(kind, creds)?.render(shell))?;
    eprintln!("Set keys for {} AWS account", kind.label(&account.name));
    Ok(())
}
