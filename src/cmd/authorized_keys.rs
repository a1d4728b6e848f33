use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Context, Run, print};
use crate::aws::Aws;
use crate::cli::AuthorizedKeys;
use crate::config::Settings;
use crate::creds::{Timestamp, human_duration, parse_human_duration};
use crate::error::{Exit, debug, fail, one_line, silent};
use crate::keycache::{Entry, KeyCache, OwnedKey};
use crate::keymap::{DEFAULT_MAP, KeyMap, Principal, is_iam_name};

/// How long a login may take at most, and how old cached keys may be.
struct Limits {
    fresh: i64,
    stale: i64,
    timeout: Duration,
}

impl Run for AuthorizedKeys {
    fn run(&self, ctx: &Context) -> Result<()> {
        let started = Instant::now();
        let map_path = self.map.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_MAP));
        let map = KeyMap::load(&map_path)?;
        let limits = self.limits(&map)?;
        let deadline = started + limits.timeout;
        let Some(principals) = map.principals_of(&self.local_user) else {
            debug!("{} lists no principals for {}: no keys", map_path.display(), self.local_user);
            return Ok(());
        };
        let cache_dir =
            self.cache_dir.clone().or_else(|| map.cache_dir()).unwrap_or_else(KeyCache::default_dir);
        let cache = KeyCache::open(&cache_dir)?;
        let now = ctx.now;
        let is_fresh = |entry: &Option<Entry>| entry.as_ref().is_some_and(|e| e.age(now) < limits.fresh);
        let mut entries: Vec<Option<Entry>> = principals.iter().map(|p| cache.read(p)).collect();
        let mut problem = None;
        if !entries.iter().all(is_fresh) {
            // Another login may be asking IAM right now: wait for it, then look again.
            match cache.lock(deadline)? {
                Some(_lock) => {
                    entries = principals.iter().map(|p| cache.read(p)).collect();
                    let stale: Vec<Principal> = principals
                        .iter()
                        .zip(&entries)
                        .filter(|(_, e)| !is_fresh(e))
                        .map(|(p, _)| p.clone())
                        .collect();
                    if !stale.is_empty() {
                        let budget = deadline.saturating_duration_since(Instant::now());
                        match fetch(&map, self.profile.as_deref(), &stale, budget, now, ctx.settings()) {
                            Ok(fetched) => {
                                for (principal, entry) in fetched {
                                    // A login still gets the keys it just fetched.
                                    if let Err(e) = cache.write(&principal, &entry) {
                                        eprintln!("awsenv: {}", one_line(&e));
                                    }
                                    let at = principals.iter().position(|p| *p == principal);
                                    if let Some(at) = at {
                                        entries[at] = Some(entry);
                                    }
                                }
                            }
                            Err(e) => problem = Some(one_line(&e)),
                        }
                    }
                }
                None => problem = Some(format!("another login held the cache lock for {:?}", limits.timeout)),
            }
        }
        let mut lines = BTreeSet::new();
        let mut refused = false;
        for (principal, entry) in principals.iter().zip(&entries) {
            match entry {
                Some(entry) if entry.age(now) < limits.fresh => lines.extend(entry.keys.iter().cloned()),
                Some(entry) if entry.age(now) < limits.stale => {
                    let why = problem.as_deref().unwrap_or("IAM was not asked");
                    eprintln!(
                        "awsenv: {why}; using the keys of {principal} fetched {} ago",
                        human_duration(entry.age(now))
                    );
                    lines.extend(entry.keys.iter().cloned());
                }
                _ => {
                    let why = problem.as_deref().unwrap_or("IAM was not asked");
                    let age = entry.as_ref().map_or("never fetched".to_owned(), |e| {
                        format!("fetched {} ago, past --stale", human_duration(e.age(now)))
                    });
                    eprintln!("awsenv: {why}; no keys for {principal} ({age})");
                    refused = true;
                }
            }
        }
        print(&render(&lines))?;
        if refused { Err(silent(Exit::Stale)) } else { Ok(()) }
    }
}

impl AuthorizedKeys {
    /// Each limit from its option, else the map file, else the default.
    fn limits(&self, map: &KeyMap) -> Result<Limits> {
        let pick = |flag: &Option<String>, name: &str, default: i64| -> Result<i64> {
            match flag.as_deref().or_else(|| map.setting(name)) {
                None => Ok(default),
                Some(text) => parse_human_duration(text).ok_or_else(|| {
                    fail(Exit::Usage, format!("{name} takes a duration like 90s, 5m or 1h, not {text:?}"))
                }),
            }
        };
        let timeout = pick(&self.timeout, "timeout", 5)?.max(1);
        Ok(Limits {
            fresh: pick(&self.fresh, "fresh", 300)?,
            stale: pick(&self.stale, "stale", 3600)?,
            timeout: Duration::from_secs(timeout as u64),
        })
    }
}

/// One round of IAM calls for `principals`: the members of the groups, then every user's keys.
fn fetch(
    map: &KeyMap,
    profile: Option<&str>,
    principals: &[Principal],
    budget: Duration,
    now: Timestamp,
    settings: &Settings,
) -> Result<Vec<(Principal, Entry)>> {
    let started = Instant::now();
    let region = map.setting("region").map(str::to_owned);
    let region = settings.regions(region).effective().to_owned();
    let profile = profile.or_else(|| map.setting("profile"));
    let aws = Aws::connect_default_chain(&region, profile, budget)?;
    let groups: Vec<String> = principals
        .iter()
        .filter_map(|p| match p {
            Principal::Group(name) => Some(name.clone()),
            Principal::User(_) => None,
        })
        .collect();
    let members = if groups.is_empty() { Vec::new() } else { aws.members_of(&groups, budget)? };
    let mut users: BTreeSet<String> = members.iter().flat_map(|(_, users)| users.iter().cloned()).collect();
    for principal in principals {
        if let Principal::User(name) = principal {
            users.insert(name.clone());
        }
    }
    let users: Vec<String> = users.into_iter().filter(|u| is_iam_name(u)).collect();
    let budget = budget.saturating_sub(started.elapsed());
    let keys = aws.ssh_keys_of(&users, budget)?;
    let keys_of = |user: &str| -> Vec<OwnedKey> {
        let bodies = keys.iter().find(|k| k.user == user).map(|k| k.bodies.as_slice()).unwrap_or_default();
        bodies
            .iter()
            .filter_map(|body| key_of(body))
            .map(|key| OwnedKey { owner: user.to_owned(), key })
            .collect()
    };
    let entry = |keys: Vec<OwnedKey>| Entry { fetched: now.0, keys };
    Ok(principals
        .iter()
        .map(|principal| {
            let keys = match principal {
                Principal::User(name) => keys_of(name),
                Principal::Group(name) => {
                    let users = members
                        .iter()
                        .find(|(g, _)| g == name)
                        .map(|(_, u)| u.as_slice())
                        .unwrap_or_default();
                    users.iter().flat_map(|user| keys_of(user)).collect()
                }
            };
            (principal.clone(), entry(keys))
        })
        .collect())
}

/// `TYPE BASE64` of a key body, its comment dropped: nothing IAM stores may add options or a
/// second line to what sshd reads.
fn key_of(body: &str) -> Option<String> {
    let mut fields = body.split_ascii_whitespace();
    let (kind, blob) = (fields.next()?, fields.next()?);
    let kind_ok = kind.chars().all(|c| c.is_ascii_alphanumeric() || "-.@".contains(c));
    let blob_ok = blob.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
    if !(kind_ok && blob_ok) {
        debug!("skipping an IAM key that is not TYPE BASE64");
        return None;
    }
    Some(format!("{kind} {blob}"))
}

/// The seed's line: `environment="SSH_KEY_OWNER=<user>" <key> <user>`.
fn render(keys: &BTreeSet<OwnedKey>) -> Vec<u8> {
    let mut out = String::new();
    for OwnedKey { owner, key } in keys {
        out.push_str(&format!("environment=\"SSH_KEY_OWNER={owner}\" {key} {owner}\n"));
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_body_cannot_smuggle_options_or_lines() {
        assert_eq!(key_of("ssh-ed25519 AAAAC3Nza alice@laptop\n").as_deref(), Some("ssh-ed25519 AAAAC3Nza"));
        assert_eq!(key_of("command=\"sh\" ssh-ed25519 AAAA"), None);
        assert_eq!(key_of("ssh-ed25519"), None);
        assert_eq!(key_of("ssh-ed25519 AA\"AA"), None);
    }

    #[test]
    fn lines_name_the_owner_twice() {
        let keys = BTreeSet::from([OwnedKey { owner: "alice".into(), key: "ssh-ed25519 AAAA".into() }]);
        assert_eq!(render(&keys), b"environment=\"SSH_KEY_OWNER=alice\" ssh-ed25519 AAAA alice\n");
    }
}
