//! The session cache, read without a lock and changed in no way: its directory's owner and mode,
//! each account's cached sessions and the time they have left, sessions made from credentials
//! the account no longer has (a rotated key), unreadable entries, and locks held now.

use std::collections::BTreeSet;

use super::locks;
use super::report::{Section, Status};
use super::store::Accounts;
use crate::cache::{Cache, Found, Listed};
use crate::creds::{Timestamp, human_duration};
use crate::kinds::{self, Env};

/// A lock held this long by one process is more than a renewal.
const STALE_AFTER: i64 = 120;

pub fn check(section: &mut Section, env: &Env, accounts: &Accounts, now: Timestamp) {
    let Ok(store_dir) = env.settings.store_dir() else {
        return;
    };
    let cache = Cache::new(&store_dir);
    let shown = cache.dir().display().to_string();
    let found = match cache.list() {
        Ok(Some(found)) => found,
        Ok(None) => {
            section.ok("cache", format!("no cache yet at {shown}: no session was made"));
            return;
        }
        Err(e) => {
            section.error("cache", Status::Fail, &e, &format!("ls -ld {shown}"));
            return;
        }
    };
    match cache.check() {
        Ok(()) => section.ok("cache", format!("{shown}: yours, closed to others")),
        Err(e) => section.error("cache", Status::Fail, &e, &format!("chmod 700 {shown}")),
    }
    let entries: Vec<&Listed> =
        found.iter().filter_map(|f| if let Found::Entry(entry) = f { Some(entry) } else { None }).collect();
    sessions(section, accounts, &entries, now);
    problems(section, &found);
    held_locks(section, &found, now);
}

fn sessions(section: &mut Section, accounts: &Accounts, entries: &[&Listed], now: Timestamp) {
    if entries.is_empty() {
        section.ok("sessions", "none cached");
        return;
    }
    let names: BTreeSet<&str> = entries.iter().map(|entry| entry.account.as_str()).collect();
    let mut others = Vec::new();
    for name in names {
        if accounts.listed.as_ref().is_some_and(|listed| !listed.iter().any(|known| known == name)) {
            others.push(name);
            continue;
        }
        let mine: Vec<&Listed> = entries.iter().copied().filter(|entry| entry.account == name).collect();
        let account = accounts.opened.iter().find(|account| account.name == name);
        let fingerprint = account.and_then(|account| account.base().fingerprint().ok());
        let (rotated, current): (Vec<&Listed>, Vec<&Listed>) =
            mine.iter().partition(|entry| fingerprint.as_deref().is_some_and(|f| f != entry.fingerprint));
        let list = |entries: &[&Listed]| {
            entries.iter().map(|entry| describe(entry, now)).collect::<Vec<_>>().join("; ")
        };
        match rotated.first() {
            Some(first) => section.warn(
                name,
                format!(
                    "{}: made from other credentials than {name}'s now (a rotated key?), so awsenv no \
                        longer uses {}{}",
                    list(&rotated),
                    if rotated.len() == 1 { "it" } else { "them" },
                    if current.is_empty() { String::new() } else { format!("; in use: {}", list(&current)) },
                ),
                format!("the next ec2mfa {name} makes a new session; or remove {}", first.file.display()),
            ),
            None => section.ok(name, list(&current)),
        }
    }
    if !others.is_empty() {
        section.ok(
            "other sessions",
            format!("cached for accounts awsenv does not have now: {}", others.join(", ")),
        );
    }
}

/// `MFA session, 3h 12m left` or `role Admin, expired 2h 05m ago`.
fn describe(entry: &Listed, now: Timestamp) -> String {
    let what = match &entry.role_arn {
        Some(arn) => format!("role {}", arn.rsplit('/').next().unwrap_or(arn)),
        None => kinds::by_name(&entry.kind).map_or(entry.kind.clone(), |kind| kind.session_noun.to_owned()),
    };
    let left = entry.expiration.seconds_since(now);
    if left > 0 {
        format!("{what}, {} left", human_duration(left))
    } else {
        format!("{what}, expired {} ago", human_duration(-left))
    }
}

fn problems(section: &mut Section, found: &[Found]) {
    for item in found {
        match item {
            Found::Unreadable { file, reason } => section.warn(
                "cache entry",
                format!("{} cannot be used: {reason}", file.display()),
                format!("rm {} (awsenv makes a new session when one is needed)", file.display()),
            ),
            Found::Corrupt(file) => section.warn(
                "cache entry",
                format!("{} was moved aside as corrupt", file.display()),
                format!("rm {}", file.display()),
            ),
            _ => {}
        }
    }
}

fn held_locks(section: &mut Section, found: &[Found], now: Timestamp) {
    if !locks::visible() {
        section.skip("locks", "not checked: this system has no /proc/locks to tell who holds a lock", None);
        return;
    }
    let mut held = 0;
    for item in found {
        let Found::Lock { file, account } = item else {
            continue;
        };
        let Some(holder) = locks::holder(file, now) else {
            continue;
        };
        held += 1;
        let whose = account.clone().unwrap_or_else(|| file.display().to_string());
        let process = format!("pid {} ({})", holder.pid, holder.command);
        match holder.running_for {
            Some(age) if age >= STALE_AFTER => section.warn(
                "lock",
                format!(
                    "the lock of {whose} is held by {process}, running for {}: awsenv commands for \
                        {whose} wait for it",
                    human_duration(age)
                ),
                format!(
                    "answer what pid {} asks (an MFA code in another terminal?), or end it: kill \
                    {}",
                    holder.pid, holder.pid
                ),
            ),
            _ => section.ok("lock", format!("the lock of {whose} is held by {process}, renewing it now")),
        }
    }
    if held == 0 {
        section.ok("locks", "none held");
    }
}
