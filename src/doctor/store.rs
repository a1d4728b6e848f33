//! The store and the accounts: who owns the store and its files and who may read them (with the
//! checks of `files.rs` that every read of them makes), the account file, and every account
//! found, opened as a command would open it.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::report::{Section, Status};
use crate::account::Account;
use crate::accounts;
use crate::files::{self, Trust, check_private_dir};
use crate::kinds::Env;
use crate::store::{AccountFile, Store};

/// The store's files, by suffix: those whose contents are secrets, then the rest awsenv reads.
const SECRET_SUFFIXES: [&str; 1] = ["secret_key"];
const READ_SUFFIXES: [&str; 5] = ["access_key", "user", "mfa_serial", "mfa_command", "json"];

/// What the cache's checks need of the accounts.
#[derive(Default)]
pub struct Accounts {
    /// Every account's name, when they could be listed.
    pub listed: Option<Vec<String>>,
    /// The accounts that opened.
    pub opened: Vec<Account>,
}

pub fn check(section: &mut Section, env: &Env) -> Accounts {
    let store_dir = match env.settings.store_dir() {
        Ok(dir) => dir,
        Err(e) => {
            section.error("store", Status::Fail, &e, "set AWSENV_DIR to the store, or HOME");
            return Accounts::default();
        }
    };
    store(section, &store_dir);
    if let Ok(Some(store)) = Store::open_optional(store_dir) {
        account_file(section, env, &store);
    }
    let listed = match accounts::list(&env.settings) {
        Ok(listed) => listed,
        Err(e) => {
            section.error("accounts", Status::Fail, &e, "correct the file it names");
            return Accounts::default();
        }
    };
    if listed.is_empty() {
        section.warn(
            "accounts",
            "no account: the store has no NAME.access_key and the aws CLI's files have no profile",
            "put NAME.access_key and NAME.secret_key in the store, or add a profile (aws configure \
                --profile NAME)",
        );
        return Accounts { listed: Some(Vec::new()), opened: Vec::new() };
    }
    let mut origins: Vec<(String, Vec<&str>)> = Vec::new();
    for entry in &listed {
        let origin = entry.origin.display().to_string();
        match origins.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, names)) => names.push(&entry.name),
            None => origins.push((origin, vec![&entry.name])),
        }
    }
    let described: Vec<String> =
        origins.iter().map(|(origin, names)| format!("{} from {origin}", names.join(", "))).collect();
    section.ok("accounts", format!("{}: {}", listed.len(), described.join("; ")));
    let mut opened = Vec::new();
    for entry in &listed {
        match Account::open(&entry.name, env) {
            Ok(account) => opened.push(account),
            Err(e) => section.error(
                &entry.name,
                Status::Fail,
                &e,
                &format!("correct account {} in {}", entry.name, entry.origin.display()),
            ),
        }
    }
    Accounts { listed: Some(listed.into_iter().map(|entry| entry.name).collect()), opened }
}

fn store(section: &mut Section, dir: &Path) {
    let shown = dir.display();
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            section.ok("store", format!("no store at {shown}: accounts come from the aws CLI's files only"));
            return;
        }
        Err(e) => {
            section.fail("store", format!("{shown} cannot be read: {}", e.kind()), format!("ls -ld {shown}"));
            return;
        }
    };
    if let Err(e) = check_private_dir(dir, "store") {
        section.error("store", Status::Fail, &e, &format!("chmod 700 {shown}"));
        return;
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        section.warn(
            "store",
            format!(
                "store {shown} is open to others (mode {mode:04o}): its secret keys rest on their own modes"
            ),
            format!("chmod 700 {shown}"),
        );
    } else {
        section.ok("store", format!("{shown}: yours, mode {mode:04o}"));
    }
    files(section, dir, mode);
}

/// Each file the store's accounts are read from: the owner and write checks every read makes,
/// and, for a secret, whether others may read it.
fn files(section: &mut Section, dir: &Path, dir_mode: u32) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    let (mut count, mut bad) = (0, 0);
    for name in &names {
        let suffix = name.rsplit('.').next().unwrap_or_default();
        let secret = SECRET_SUFFIXES.contains(&suffix);
        if !secret && !READ_SUFFIXES.contains(&suffix) {
            continue;
        }
        count += 1;
        let path = dir.join(name);
        let file = match files::open(&path, "store file", Trust::Required) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(e) => {
                bad += 1;
                section.error("store files", Status::Fail, &e, &format!("chmod 600 {}", path.display()));
                continue;
            }
        };
        let mode = file.metadata().map(|m| m.mode() & 0o777).unwrap_or(0);
        // A secret others can read is exposed only when they can reach it through the directory.
        if secret && mode & 0o044 != 0 && dir_mode & 0o011 != 0 {
            bad += 1;
            section.fail(
                "store files",
                format!("{} holds a secret key and others can read it (mode {mode:04o})", path.display()),
                format!("chmod 600 {}", path.display()),
            );
        }
    }
    if bad == 0 {
        section.ok(
            "store files",
            format!("{count} files: yours, and no one else can change them or read a secret"),
        );
    }
}

fn account_file(section: &mut Section, env: &Env, store: &Store) {
    match AccountFile::locate(env.settings.account_file.as_deref(), store) {
        Ok(Some(file)) => section
            .ok("account file", format!("{}: it reads, and its owner is trusted", file.path().display())),
        Ok(None) => section.ok("account file", "none (optional: it maps account names to account ids)"),
        Err(e) => section.error(
            "account file",
            Status::Fail,
            &e,
            "correct the account file, or unset AWSENV_CONFIG",
        ),
    }
}
