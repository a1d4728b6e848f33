//! The world most tests start from: moto with IAM user alice, and a sandbox whose store accounts
//! sign with her keys; and what the tests know about alice.

use std::time::Duration;

use super::process::output_within;
use super::{MOTO_ACCOUNT_ID, Moto, REGION, Sandbox, assert_success, fresh_code};

/// How an account file names moto's account: the prefix of its ARNs.
pub const ACCOUNT_ARN: &str = "arn:aws:iam::123456789012:";
/// The account file of [`World::start`]: `work` in moto's account.
pub const ACCOUNTS_JSON: &str = r#"{"work": "arn:aws:iam::123456789012:"}"#;
/// alice's MFA device, as awsenv finds it for account `work` (moto names devices after users).
pub const ALICE_SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
/// What awsenv asks on the terminal when alice's session needs a code.
pub const ALICE_QUESTION: &str = "Enter token for user alice: ";
/// A valid MFA code, fixed; [`fresh_code`] never gives it.
pub const CODE: &str = "123456";

/// moto, and a sandbox whose accounts sign with the keys of moto's IAM user alice (`key` is her
/// access key id).
pub struct World {
    pub moto: Moto,
    pub sb: Sandbox,
    pub key: String,
}

impl World {
    /// Account `work` in [`ACCOUNTS_JSON`].
    pub fn start() -> World {
        World::build(Moto::start(), &["work"], ACCOUNT_ARN)
    }

    /// The same with moto over TLS ([`Moto::start_tls`]): the sandbox reaches it through an
    /// `https://` endpoint and does not trust its CA unless told to.
    pub fn start_tls() -> World {
        World::build(Moto::start_tls(), &["work"], ACCOUNT_ARN)
    }

    /// `accounts`, each in moto's account by its ARN prefix.
    pub fn with_accounts(accounts: &[&str]) -> World {
        World::build(Moto::start(), accounts, ACCOUNT_ARN)
    }

    /// Account `work`, in the account file by moto's bare account id, and `AWS_DEFAULT_REGION`
    /// for the aws CLI and the SDKs run in the sandbox.
    pub fn for_aws_cli() -> World {
        let mut w = World::build(Moto::start(), &["work"], MOTO_ACCOUNT_ID);
        w.sb.set_env("AWS_DEFAULT_REGION", REGION);
        w
    }

    /// alice in `moto`; each of `accounts` holds her keys (and `NAME.user` alice), and the
    /// account file maps each to `account`.
    fn build(moto: Moto, accounts: &[&str], account: &str) -> World {
        let (key, secret) = moto.create_user("alice");
        let sb = Sandbox::new(Some(&moto));
        for name in accounts {
            sb.add_account(name, &key, &secret, Some("alice"));
        }
        let json: Vec<String> = accounts.iter().map(|name| format!("\"{name}\": \"{account}\"")).collect();
        sb.write_accounts_json(&format!("{{{}}}", json.join(", ")));
        World { moto, sb, key }
    }
}

/// `awsenv mfa --shell bash ACCOUNT` (with `--duration` if given) with a code of its own, without a
/// terminal and within a minute; it must succeed.
pub fn mfa_session(sb: &Sandbox, account: &str, duration: Option<&str>) {
    let mut cmd = sb.awsenv();
    cmd.args(["mfa", "--shell", "bash"]);
    if let Some(duration) = duration {
        cmd.args(["--duration", duration]);
    }
    cmd.arg(account).env("AWSENV_MFA_CODE", fresh_code());
    assert_success(&output_within(&mut cmd, Duration::from_secs(60)));
}
