use std::fs::File;
use std::io::Write;

use anyhow::Result;

use super::{Context, Run};
use crate::aws::Aws;
use crate::cli::ProvisionMfa;
use crate::creds::Secret;
use crate::error::{Exit, fail, one_line};
use crate::kinds::keys::iam_user_of;
use crate::qr;
use crate::tty;

/// What authenticator apps show as the issuer, as the AWS console's own QR codes say.
const ISSUER: &str = "Amazon Web Services";

impl Run for ProvisionMfa {
    fn run(&self, ctx: &Context) -> Result<()> {
        let name = self.account.clone().or_else(|| ctx.current_account()).ok_or_else(|| {
            fail(Exit::Config, "No keys set: name the account, awsenv provision-mfa ACCOUNT")
        })?;
        let account = ctx.open(&name)?;
        let root = account.root();
        let keys = root.base().long_term_keys().ok_or_else(|| {
            fail(
                Exit::Config,
                format!("account {} has no long-term keys to make an MFA device with", root.name),
            )
        })?;
        // Everything that can stop provisioning is checked before a device exists.
        let tty =
            tty::open(|| "provision-mfa needs a terminal: it draws a QR code and asks for two codes".into())?;
        let aws = Aws::connect(&keys.connection(ctx.env())?, keys.keys())?;
        let arn = aws.caller_arn()?;
        let user = iam_user_of(&arn).ok_or_else(|| {
            fail(Exit::Config, format!("the keys of {} belong to {arn}, not an IAM user", root.name))
        })?;
        let account_id = arn.split(':').nth(4).unwrap_or_default().to_owned();
        let existing = aws.mfa_devices(&user)?;
        if !existing.is_empty() {
            return Err(fail(
                Exit::HasDevice,
                format!(
                    "IAM user {user} already has an MFA device ({}); nothing was created",
                    existing.join(", ")
                ),
            ));
        }

        tty::catch_interrupts();
        let (serial, seed) = match aws.create_virtual_mfa_device(&user)? {
            Some(created) => created,
            None => {
                // A device named for the user exists but is enabled for no one (checked above):
                // what an earlier provision-mfa left when it was killed. Replace it.
                let left = format!("arn:{}:iam::{account_id}:mfa/{user}", partition_of(&arn));
                eprintln!(
                    "awsenv: replacing the unfinished MFA device {left} left by an earlier provision-mfa"
                );
                if let Err(error) = aws.delete_virtual_mfa_device(&left) {
                    return Err(fail(
                        Exit::Rejected,
                        format!(
                            "an unfinished MFA device {left} is in the way and could not be deleted ({}); delete it with: aws iam delete-virtual-mfa-device --serial-number {left}",
                            one_line(&error)
                        ),
                    ));
                }
                aws.create_virtual_mfa_device(&user)?.ok_or_else(|| {
                    fail(
                        Exit::Rejected,
                        format!("IAM still has a virtual MFA device named {user}; delete it with: aws iam delete-virtual-mfa-device --serial-number {left}"),
                    )
                })?
            }
        };
        let device = Device { aws: &aws, tty: &tty, user: &user, serial: &serial };
        let codes = match device.activate(&seed, &account_id, self.show_secret) {
            Ok(codes) => codes,
            Err(error) => {
                device.delete();
                return Err(error);
            }
        };
        let remembered = keys.remember_serial(&serial, ctx.env())?;
        // The second code is spent: ec2mfa must wait for the next one.
        drop(account.sent_codes().record(&serial, &codes.1, ctx.clock.now())?);
        eprintln!(
            "Virtual MFA device {serial} activated for IAM user {user}; remembered in {}, so ec2mfa uses it",
            remembered.display()
        );
        Ok(())
    }
}

/// A virtual MFA device that exists but is not enabled yet.
struct Device<'a> {
    aws: &'a Aws,
    tty: &'a File,
    user: &'a str,
    serial: &'a str,
}

impl Device<'_> {
    /// Shows the QR code, asks for two consecutive codes and enables the device with them.
    fn activate(&self, seed: &Secret, account_id: &str, show_secret: bool) -> Result<(String, String)> {
        check_interrupt()?;
        let seed = seed.as_str("the device's seed")?;
        let label = format!("{}:{}@{account_id}", percent_encode(ISSUER), percent_encode(self.user));
        let uri = format!("otpauth://totp/{label}?secret={seed}&issuer={}", percent_encode(ISSUER));
        let mut out = self.tty;
        out.write_all(b"\n")?;
        out.write_all(qr::render(&uri)?.as_bytes())?;
        if show_secret {
            out.write_all(format!("\nSecret for manual entry: {seed}\n").as_bytes())?;
        }
        out.write_all(
            b"\nImport the QR code into your authenticator app, then enter two consecutive codes.\n",
        )?;
        let first = self.ask_code("the 1st", None)?;
        let second = self.ask_code("the 2nd", Some(&first))?;
        check_interrupt()?;
        self.aws.enable_mfa_device(self.user, self.serial, (&first, &second))?;
        Ok((first, second))
    }

    fn ask_code(&self, which: &str, previous: Option<&str>) -> Result<String> {
        for _ in 0..3 {
            let code = tty::ask(self.tty, &format!("Please enter {which} 6 digit MFA code: "))?;
            check_interrupt()?;
            let refusal = match (tty::is_mfa_code(&code), previous) {
                (false, _) => format!("Not a valid code: {code:?}"),
                (true, Some(previous)) if previous == code => {
                    "That is the same code again: wait for the next one".into()
                }
                (true, _) => return Ok(code),
            };
            (&mut &*self.tty).write_all(format!("{refusal}\n").as_bytes())?;
        }
        Err(fail(Exit::MfaCode, "no valid MFA code after three tries"))
    }

    /// Deletes the half-made device, so that a new attempt starts clean.
    fn delete(&self) {
        eprintln!("awsenv: deleting the unfinished MFA device {}", self.serial);
        if let Err(error) = self.aws.delete_virtual_mfa_device(self.serial) {
            eprintln!(
                "awsenv: could not delete it ({}); delete it with: aws iam delete-virtual-mfa-device --serial-number {}",
                one_line(&error),
                self.serial
            );
        }
    }
}

fn check_interrupt() -> Result<()> {
    if tty::interrupted() {
        return Err(fail(Exit::Interrupted, "interrupted"));
    }
    Ok(())
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

/// Percent-encoding for the label and issuer of an otpauth URI (RFC 3986 unreserved kept).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
