use anyhow::Result;

use super::switch::emit;
use super::{Context, Run};
use crate::aws::{self, Connection};
use crate::cache::{Cache, MfaSession};
use crate::cli::Mfa;
use crate::config::{self, RegionVars};
use crate::creds::Timestamp;
use crate::error::{Exit, fail};
use crate::shell::Kind;
use crate::store::{AccountFile, Store};
use crate::tty;

/// The seed's `ec2mfa` asked for four hours.
const DEFAULT_DURATION: i32 = 4 * 3600;
/// GetSessionToken's limits for IAM users.
const DURATION_RANGE: std::ops::RangeInclusive<i32> = 900..=129_600;

impl Run for Mfa {
    fn run(&self, ctx: &Context) -> Result<()> {
        let name = self.account.clone().or_else(config::current_account).ok_or_else(|| {
            fail(Exit::Config, "No keys set: switch to an account first with ec2switch NAME")
        })?;
        let store = Store::open(config::store_dir()?)?;
        let account = store.resolve(&name)?;
        let keys = store.long_term_keys(&account)?;
        let cache = Cache::new(store.dir());
        if let Some(session) = cache.read_mfa(&account, &keys.access_key_id, ctx.now)? {
            eprintln!("MFA STS token already cached");
            return emit(self.shell, &account, Kind::Mfa, &session);
        }

        // Everything that can be checked without AWS or the terminal is checked before either.
        let duration = parse_duration(self.duration.as_deref())?;
        let given_code = config::mfa_code();
        if given_code.as_deref().is_some_and(|code| !tty::is_mfa_code(code)) {
            return Err(fail(Exit::MfaCode, "the MFA code must be 6 digits"));
        }
        let user = store.iam_user(&account, config::login_user())?;
        let prefix = AccountFile::locate(ctx.cli.config.as_deref(), &store)?.arn_prefix(&account)?;
        let serial = format!("{prefix}mfa/{user}");
        let source_access_key_id = keys.access_key_id.as_str("the access key id")?.to_owned();
        let connection = Connection {
            region: RegionVars::read().effective().to_owned(),
            timeout: config::aws_timeout()?,
            ca_bundle: config::ca_bundle(),
        };

        let lock = cache.lock(&account)?;
        // Another shell may have made the session while this one waited for the lock.
        if let Some(session) = cache.read_mfa(&account, &keys.access_key_id, Timestamp::now())? {
            eprintln!("MFA STS token already cached");
            drop(lock);
            return emit(self.shell, &account, Kind::Mfa, &session);
        }
        let code = match given_code {
            Some(code) => code,
            None => tty::ask_mfa_code(
                &format!("Enter token for user {user}: "),
                "pass it as ec2mfa CODE or in AWSENV_MFA_CODE",
            )?,
        };
        let credentials = aws::get_session_token(&connection, &keys, &serial, &code, duration)
            .map_err(|e| e.context(format!("account {account}")))?;
        let session = MfaSession { credentials, source_access_key_id, mfa_serial: serial };
        cache.write_mfa(&lock, &account, &session)?;
        drop(lock);
        emit(self.shell, &account, Kind::Mfa, &session.credentials)
    }
}

fn parse_duration(raw: Option<&str>) -> Result<i32> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_DURATION);
    };
    raw.trim().parse::<i32>().ok().filter(|s| DURATION_RANGE.contains(s)).ok_or_else(|| {
        fail(Exit::Usage, format!("the session duration must be 900 to 129600 seconds, not {raw:?}"))
    })
}
