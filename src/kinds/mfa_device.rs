//! Which MFA device signs for long-term keys: named in the store or a profile, built from the
//! account file, or found by asking AWS (and then remembered), with a menu when there are several.

use anyhow::Result;

use super::Env;
use super::keys::LongTermKeys;
use crate::aws::Aws;
use crate::codes::Device;
use crate::error::{Exit, fail};
use crate::store::{AccountFile, Store};
use crate::tty;

/// Where an account's MFA device is named.
pub enum DeviceSource {
    /// The store: `NAME.mfa_serial`, else the account file (`PREFIX` + `mfa/` + the IAM user), else AWS.
    AccountFile,
    /// A profile's `mfa_serial`, and its `mfa_process` command for codes.
    Serial { serial: String, command: Option<String> },
    /// Nowhere: the keys are used without MFA.
    None,
}

pub fn resolve(
    keys: &LongTermKeys,
    source: &DeviceSource,
    store: Option<&Store>,
    env: &Env,
) -> Result<Option<Device>> {
    match (source, store) {
        (DeviceSource::AccountFile, Some(store)) => from_store(keys, store, env).map(Some),
        (DeviceSource::Serial { serial, command }, _) => {
            Ok(Some(Device { user: arn_tail(serial), serial: serial.clone(), command: command.clone() }))
        }
        _ => Ok(None),
    }
}

fn from_store(keys: &LongTermKeys, store: &Store, env: &Env) -> Result<Device> {
    let name = &keys.name;
    let login = env.settings.login_user.clone();
    let command = store.text(name, "mfa_command")?;
    if let Some(serial) = store.text(name, "mfa_serial")? {
        let user = store.iam_user(name, None).unwrap_or_else(|_| arn_tail(&serial));
        return Ok(Device { user, serial, command });
    }
    if let Some(file) = AccountFile::locate(env.settings.account_file.as_deref(), store)?
        && let Some(prefix) = file.arn_prefix(name)?
    {
        let user = store.iam_user(name, login)?;
        return Ok(Device { serial: format!("{prefix}mfa/{user}"), user, command });
    }
    let device = discover(keys, command, env)?;
    let path = store.write_text(name, "mfa_serial", &device.serial)?;
    eprintln!(
        "awsenv: MFA device {} of IAM user {} found; remembered in {}",
        device.serial,
        device.user,
        path.display()
    );
    Ok(device)
}

/// Finds the device as aws-session did: the caller's identity gives the IAM user, whose MFA
/// devices AWS lists; with several, the user picks one.
fn discover(keys: &LongTermKeys, command: Option<String>, env: &Env) -> Result<Device> {
    let name = &keys.name;
    let aws = Aws::connect(&keys.connection(env)?, keys.keys())?;
    let looking = || format!("looking for the MFA device of {name}");
    let arn = aws.caller_arn().map_err(|e| e.context(looking()))?;
    let user = iam_user_of(&arn).ok_or_else(|| {
        fail(
            Exit::Config,
            format!(
                "the keys of {name} belong to {arn}, not an IAM user: name the MFA device in {name}.mfa_serial"
            ),
        )
    })?;
    let mut serials = aws.mfa_devices(&user).map_err(|e| e.context(looking()))?;
    let serial = match serials.len() {
        0 => {
            return Err(fail(
                Exit::Config,
                format!("IAM user {user} has no MFA device: create one with awsenv provision-mfa {name}"),
            ));
        }
        1 => serials.remove(0),
        _ => choose(&user, name, &serials)?,
    };
    Ok(Device { user, serial, command })
}

/// Asks which of several MFA devices to use.
fn choose(user: &str, account: &str, serials: &[String]) -> Result<String> {
    let tty = tty::open(|| {
        format!(
            "IAM user {user} has {} MFA devices ({}) and there is no terminal to ask which: put one in {account}.mfa_serial",
            serials.len(),
            serials.join(", ")
        )
    })?;
    let mut menu = format!("IAM user {user} has {} MFA devices:\n", serials.len());
    for (number, serial) in serials.iter().enumerate() {
        menu.push_str(&format!("  {}) {serial}\n", number + 1));
    }
    std::io::Write::write_all(&mut &tty, menu.as_bytes())?;
    for _ in 0..3 {
        let answer = tty::ask(&tty, "Which one? ")?;
        let chosen = answer.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| serials.get(i));
        if let Some(serial) = chosen {
            return Ok(serial.clone());
        }
    }
    Err(fail(Exit::MfaCode, "no MFA device chosen"))
}

/// The last part of an ARN: the user of `arn:aws:iam::1:mfa/alice`.
fn arn_tail(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// The user name of an IAM user's ARN, `arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`.
pub fn iam_user_of(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource.strip_prefix("user/").map(arn_tail)
}
