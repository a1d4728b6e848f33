//! The environment: variables awsenv reads that hold values it will refuse, the credentials this
//! shell holds, and other tools' variables beside awsenv's keys. Values are shown only for
//! variables that hold no secret.

use super::report::Section;
use crate::config::{DoctorEnv, Settings};
use crate::creds::{Timestamp, human_duration};

pub fn check(section: &mut Section, settings: &Settings, vars: &DoctorEnv, now: Timestamp) {
    refused(section, settings, vars);
    held(section, vars, now);
    conflicts(section, vars);
    regions(section, settings);
}

fn refused(section: &mut Section, settings: &Settings, vars: &DoctorEnv) {
    let mut bad = 0;
    for message in settings.refused() {
        bad += 1;
        let name = message.split_whitespace().next().unwrap_or("setting").to_owned();
        section.fail(&name, message, format!("correct {name}, or unset it for the default"));
    }
    if let Some(message) = &vars.debug_error {
        bad += 1;
        section.fail(
            "AWSENV_DEBUG",
            format!("{message}: every awsenv command refuses it"),
            "export AWSENV_DEBUG=1 (or 0), or unset it",
        );
    }
    if let Some((name, raw)) = &vars.duration
        && let Err(e) = crate::broker::parse_base_duration(Some(raw))
    {
        bad += 1;
        let message = crate::error::one_line(&e);
        section.fail(
            name,
            format!("{name}: {message}"),
            format!("export {name}=14400 (900 to 129600), or unset it"),
        );
    }
    if let Some((name, raw)) = &vars.unknown_color {
        bad += 1;
        section.warn(
            name,
            format!("{name}={raw:?} is not a choice awsenv knows, so the prompt's colour is automatic"),
            format!("export {name}=always (or never, auto), or unset it"),
        );
    }
    if bad == 0 {
        section.ok("settings", "every awsenv variable set holds a value awsenv accepts");
    }
}

/// The credentials the shell holds: awsenv's, expired or changed since, or another tool's.
fn held(section: &mut Section, vars: &DoctorEnv, now: Timestamp) {
    let Some(account) = &vars.account else {
        let message = if vars.access_key_set {
            "the shell holds AWS keys awsenv did not set; awsenv leaves them alone"
        } else {
            "the shell holds no AWS keys (ec2switch ACCOUNT sets them)"
        };
        section.ok("keys", message);
        return;
    };
    if !vars.keys_are_awsenvs {
        section.warn(
            "keys",
            format!(
                "AWSENV_ACCOUNT is {account}, but AWS_ACCESS_KEY_ID is no longer the key awsenv set \
                (another tool changed it?), so the prompt and the aws wrapper ignore it"
            ),
            format!("ec2switch {account} to set awsenv's keys again, or unset AWSENV_ACCOUNT"),
        );
        return;
    }
    match vars.expires.as_deref().map(str::parse::<i64>) {
        None => section.ok("keys", format!("the shell holds awsenv's long-term keys of {account}")),
        Some(Ok(expires)) if expires > now.0 => section.ok(
            "keys",
            format!(
                "the shell holds awsenv's session of {account}, {} left",
                human_duration(expires - now.0)
            ),
        ),
        Some(Ok(expires)) => section.warn(
            "keys",
            format!("the session of {account} in this shell expired {} ago", human_duration(now.0 - expires)),
            format!("ec2mfa (or ec2switch {account}); the aws wrapper renews it before aws runs"),
        ),
        Some(Err(_)) => section.warn(
            "keys",
            format!("AWSENV_EXPIRES of {account} is not a number, so the prompt shows it expired"),
            format!("ec2switch {account}"),
        ),
    }
}

/// Another tool that sets credentials in the shell: the variables it leaves, and how to clear them.
struct Tool {
    name: &'static str,
    owns: fn(&str) -> bool,
    fix: &'static str,
}

const TOOLS: [Tool; 6] = [
    Tool {
        name: "aws-vault",
        owns: |n| n == "AWS_VAULT",
        fix: "exit the aws-vault subshell, or unset AWS_VAULT",
    },
    Tool { name: "awsume", owns: |n| n.starts_with("AWSUME_"), fix: "awsume --unset" },
    Tool { name: "Granted", owns: |n| n.starts_with("GRANTED_"), fix: "assume --unset" },
    Tool { name: "aws-sso-cli", owns: |n| n.starts_with("AWS_SSO_"), fix: "aws-sso-clear" },
    Tool { name: "awsu", owns: |n| n == "AWSU_PROFILE", fix: "unset AWSU_PROFILE" },
    Tool { name: "saml2aws", owns: |n| n == "SAML2AWS_PROFILE", fix: "unset SAML2AWS_PROFILE" },
];

/// Other tools' variables beside awsenv's keys: the tools that read them (prompts, the aws CLI,
/// SDKs) disagree on which wins.
fn conflicts(section: &mut Section, vars: &DoctorEnv) {
    let ours = vars.account.is_some() && vars.keys_are_awsenvs;
    for (name, value) in [("AWS_PROFILE", &vars.profile), ("AWS_DEFAULT_PROFILE", &vars.default_profile)] {
        if let (true, Some(profile)) = (ours, value) {
            section.warn(
                name,
                format!(
                    "{name}={profile} is set beside awsenv's keys: the SDKs use the keys, while \
                    --profile, some tools and prompts use the profile"
                ),
                format!("unset {name}"),
            );
        }
    }
    for Tool { name: tool, owns, fix } in TOOLS {
        let names: Vec<&str> = vars.foreign.iter().map(String::as_str).filter(|n| owns(n)).collect();
        if names.is_empty() {
            continue;
        }
        let names = names.join(", ");
        if ours {
            section.warn(
                tool,
                format!(
                    "{tool}'s variables ({names}) are set beside awsenv's keys: prompts (starship) \
                    and scripts show {tool}'s profile, not the keys in use"
                ),
                fix,
            );
        } else {
            section.ok(tool, format!("{tool}'s variables ({names}) are set: this shell's keys are {tool}'s"));
        }
    }
}

fn regions(section: &mut Section, settings: &Settings) {
    let regions = settings.regions(None);
    match (&regions.region, &regions.default_region) {
        (Some(region), Some(default)) if region != default => section.warn(
            "region",
            format!(
                "AWS_REGION={region} and AWS_DEFAULT_REGION={default} differ: the SDKs and aws CLI \
                v2 use the first, aws CLI v1 the second"
            ),
            "export both with the same region, or unset one",
        ),
        _ => section.ok("region", format!("{} for STS and the other calls", regions.effective())),
    }
}
