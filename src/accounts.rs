//! Every account awsenv knows: the store's, then the aws CLI's profiles it does not shadow, then
//! the names kinds know of their own (the roles of an SSO sign-in, as last listed).

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Result;

use crate::config::Settings;
use crate::profile::Profiles;
use crate::store::Store;

/// An account name and the file or directory it comes from.
pub struct Listed {
    pub name: String,
    pub origin: PathBuf,
}

/// The store's accounts (sorted), then the profiles of the aws CLI's files whose names the store
/// does not already have, in file order, then the kinds' own names.
pub fn list(settings: &Settings) -> Result<Vec<Listed>> {
    let store_dir = settings.store_dir()?;
    let mut listed: Vec<Listed> = match Store::open_optional(store_dir)? {
        Some(store) => store
            .accounts(&crate::kinds::store_suffixes())?
            .into_iter()
            .map(|name| Listed { name, origin: store.dir().to_owned() })
            .collect(),
        None => Vec::new(),
    };
    // A set of the names so far keeps this linear in the number of profiles.
    let mut seen: HashSet<String> = listed.iter().map(|l| l.name.to_ascii_lowercase()).collect();
    for profile in Profiles::load(settings)?.iter() {
        if seen.insert(profile.name.to_ascii_lowercase()) {
            listed.push(Listed { name: profile.name.clone(), origin: profile.file.clone() });
        }
    }
    for kind in crate::kinds::KINDS {
        for (name, origin) in (kind.known_names)(settings)? {
            if seen.insert(name.to_ascii_lowercase()) {
                listed.push(Listed { name, origin });
            }
        }
    }
    Ok(listed)
}
