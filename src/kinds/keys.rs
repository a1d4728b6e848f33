//! Long-term keys (the store's `NAME.access_key` and `NAME.secret_key`, or a profile's static
//! keys) with the IAM user's MFA device: the base session is STS GetSessionToken with a code.

use std::path::PathBuf;

use anyhow::Result;

pub use super::mfa_device::iam_user_of;
use super::mfa_device::{self, DeviceSource};
use super::{Base, Boxed, Env, Issue, Issued, KindInfo, Named, RoleSigning};
use crate::aws::{self, Connection};
use crate::codes::Device;
use crate::creds::{Credentials, Secret};
use crate::error::{Exit, fail};
use crate::profile::{Profile, Profiles};
use crate::store::{AccountFile, Store};

pub const KIND: KindInfo = KindInfo {
    name: "mfa",
    label_suffix: "-MFA-STS",
    session_noun: "MFA session",
    store_suffix: Some("access_key"),
    from_store,
    from_profile,
    from_name: super::no_own_name,
    known_names: super::no_known_names,
};

pub struct LongTermKeys {
    /// The account whose keys these are (for a role profile, the end of its chain).
    pub name: String,
    keys: Credentials,
    device: DeviceSource,
    /// The store, for store accounts: their MFA serial and IAM user live there.
    store: Option<Store>,
    /// A profile's `region`, for the calls that look for the device.
    region: Option<String>,
}

fn from_store(store: &Store, name: &str, _env: &Env) -> Result<Option<Named>> {
    let Some(name) = store.find(name)? else {
        return Ok(None);
    };
    let keys = store.long_term_keys(&name)?;
    let account = LongTermKeys {
        name: name.clone(),
        keys,
        device: DeviceSource::AccountFile,
        store: Some(store.clone()),
        region: None,
    };
    Ok(Some((name, Box::new(account))))
}

fn from_profile(
    profile: &Profile,
    user: Option<&Profile>,
    _profiles: &Profiles,
    _env: &Env,
) -> Result<Option<Boxed>> {
    let (Some(key_id), Some(secret)) =
        (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key"))
    else {
        return Ok(None);
    };
    let keys = Credentials {
        access_key_id: Secret::new(key_id),
        secret_access_key: Secret::new(secret),
        session_token: profile.get("aws_session_token").map(Secret::new),
        expiration: None,
    };
    // The device is the profile's own, else that of the role profile that uses these keys.
    let named = |p: &Profile| {
        p.get("mfa_serial").map(|serial| DeviceSource::Serial {
            serial: serial.to_owned(),
            command: p.get("mfa_process").map(str::to_owned),
        })
    };
    let device = named(profile).or_else(|| user.and_then(named)).unwrap_or(DeviceSource::None);
    let region = profile.get("region").map(str::to_owned);
    let account = LongTermKeys { name: profile.name.clone(), keys, device, store: None, region };
    Ok(Some(Box::new(account)))
}

impl LongTermKeys {
    /// The keys themselves.
    pub fn keys(&self) -> &Credentials {
        &self.keys
    }

    /// How to reach STS and IAM for these keys.
    pub fn connection(&self, env: &Env) -> Result<Connection> {
        let region = env.settings.regions(self.region.clone()).effective().to_owned();
        Ok(Connection { region, timeout: env.settings.timeout()?, ca_bundle: env.settings.ca_bundle.clone() })
    }

    /// The MFA device: for the store, `NAME.mfa_serial`, else the account file's prefix with
    /// `mfa/` and the IAM user, else asked of AWS (and remembered in `NAME.mfa_serial`); for a
    /// profile, its `mfa_serial`.
    pub fn device(&self, env: &Env) -> Result<Option<Device>> {
        mfa_device::resolve(self, &self.device, self.store.as_ref(), env)
    }

    /// Makes `serial` the MFA device for `ec2mfa` and the rest: `NAME.mfa_serial` in the store,
    /// `mfa_serial` in a profile's section of the config file. Returns the file.
    pub fn remember_serial(&self, serial: &str, env: &Env) -> Result<PathBuf> {
        if let Some(store) = &self.store {
            return store.write_text(&self.name, "mfa_serial", serial);
        }
        let path = env.settings.aws_config_file()?;
        let header =
            if self.name == "default" { "default".to_owned() } else { format!("profile {}", self.name) };
        crate::ini::update_file(&path, &header, &[("mfa_serial", serial)])?;
        Ok(path)
    }

    fn account_file_prefix(&self, env: &Env) -> Result<Option<String>> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        match AccountFile::locate(env.settings.account_file.as_deref(), store)? {
            Some(file) => file.arn_prefix(&self.name),
            None => Ok(None),
        }
    }
}

impl Base for LongTermKeys {
    fn info(&self) -> &'static KindInfo {
        &KIND
    }

    fn fingerprint(&self) -> Result<String> {
        Ok(self.keys.access_key_id.as_str("the access key id")?.to_owned())
    }

    fn standing(&self) -> Option<&Credentials> {
        Some(&self.keys)
    }

    fn issue(&self, request: &Issue) -> Result<Issued> {
        let device = self.device(request.env)?.ok_or_else(|| {
            fail(
                Exit::Config,
                format!("account {} has no MFA device: set mfa_serial in its profile", self.name),
            )
        })?;
        let code = request.codes.get(&device, request.sent, request.env.clock)?;
        let sending = request.sent.record(&device.serial, &code, request.env.clock.now())?;
        let result =
            aws::get_session_token(request.connection, &self.keys, &device.serial, &code, request.duration);
        sending.settle(&result);
        let credentials = result.map_err(|e| e.context(format!("account {}", self.name)))?;
        Ok(Issued { credentials, made_with: Some(device.serial) })
    }

    fn session_name(&self, env: &Env) -> String {
        let login = env.settings.login_user.clone();
        match &self.store {
            Some(store) => store.iam_user(&self.name, login).unwrap_or_else(|_| "awsenv".into()),
            None => match self.device(env) {
                Ok(Some(device)) => device.user,
                _ => login.unwrap_or_else(|| "awsenv".into()),
            },
        }
    }

    fn arn_prefix(&self, env: &Env) -> Result<Option<String>> {
        if let Some(prefix) = self.account_file_prefix(env)? {
            return Ok(Some(prefix));
        }
        let device = self.device(env)?;
        Ok(device.and_then(|device| device.serial.split_once("mfa/").map(|(prefix, _)| prefix.to_owned())))
    }

    fn role_signing(&self, env: &Env) -> Result<RoleSigning> {
        let device = self.device(env)?;
        Ok(RoleSigning { with_base_session: device.is_some(), direct: Some((self.keys.clone(), device)) })
    }

    fn long_term_keys(&self) -> Option<&LongTermKeys> {
        Some(self)
    }
}
