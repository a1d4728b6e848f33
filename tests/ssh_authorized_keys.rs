//! `awsenv authorized-keys` behind a real sshd (Debian's openssh-server) whose
//! AuthorizedKeysCommand asks moto's IAM: logins with IAM keys, SSH_KEY_OWNER in the session, the
//! fresh and stale windows, and one round of IAM calls for a burst of logins.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use common::ssh::{
    LOGIN_USER, Sshd, ensure_login_user, install_awsenv, keygen, recorded_body, recorded_requests,
    recording_env, root_dir,
};
use common::{Moto, stderr, stdout};
use tempfile::TempDir;

const NOBODY: u32 = 65534;

/// moto (recording) with alice (one key), bob and carol in group admins (one key each); an sshd
/// that maps LOGIN_USER to `users/alice, groups/admins` with `settings` in the map file.
struct KeysWorld {
    moto: Option<Moto>,
    dir: TempDir,
    sshd: Sshd,
    awsenv: PathBuf,
    map: PathBuf,
    keys: TempDir,
    alice_key_id: String,
    moto_url: String,
}

fn keys_world(settings: &str) -> KeysWorld {
    ensure_login_user();
    let dir = root_dir();
    let moto = Moto::start_with_env(&recording_env(dir.path()).each_ref().map(|(k, v)| (*k, v.as_str())));
    let keys = tempfile::tempdir().expect("client key dir");
    let mut bodies = Vec::new();
    for user in ["alice", "bob", "carol", "mallory"] {
        bodies.push(keygen("ed25519", &keys.path().join(user)));
    }
    let alice_key_id = moto.boto3(
        r#"
iam = client('iam')
for user in ['alice', 'bob', 'carol']:
    iam.create_user(UserName=user)
iam.create_group(GroupName='admins')
iam.add_user_to_group(GroupName='admins', UserName='bob')
iam.add_user_to_group(GroupName='admins', UserName='carol')
for user in ['bob', 'carol']:
    iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=os.environ['KEY_' + user])
print(iam.upload_ssh_public_key(UserName='alice', SSHPublicKeyBody=os.environ['KEY_alice'])['SSHPublicKey']['SSHPublicKeyId'])
"#,
        &[("KEY_alice", &bodies[0]), ("KEY_bob", &bodies[1]), ("KEY_carol", &bodies[2])],
    )
    .trim()
    .to_owned();
    let awsenv = install_awsenv(dir.path());
    let aws = dir.path().join("aws");
    fs::create_dir(&aws).unwrap();
    fs::set_permissions(&aws, fs::Permissions::from_mode(0o755)).unwrap();
    // moto's dummy keys; a real host has its instance role instead.
    fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    fs::set_permissions(aws.join("credentials"), fs::Permissions::from_mode(0o644)).unwrap();
    let cache = dir.path().join("cache");
    fs::create_dir(&cache).unwrap();
    chown(&cache, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o700)).unwrap();
    let map = dir.path().join("authorized-keys.conf");
    fs::write(
        &map,
        format!(
            "cache-dir = {}\n{settings}\n[users]\n{LOGIN_USER} = users/alice, groups/admins\n",
            cache.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&map, fs::Permissions::from_mode(0o644)).unwrap();
    let command = format!(
        "AuthorizedKeysCommand /usr/bin/env AWS_ENDPOINT_URL={} AWS_SHARED_CREDENTIALS_FILE={}/credentials \
         AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 {} authorized-keys --map {} %u\n\
         AuthorizedKeysCommandUser nobody\nPermitUserEnvironment SSH_KEY_OWNER",
        moto.url(),
        aws.display(),
        awsenv.display(),
        map.display()
    );
    let sshd = Sshd::start(dir.path(), &command);
    let moto_url = moto.url();
    KeysWorld { moto: Some(moto), dir, sshd, awsenv, map, keys, alice_key_id, moto_url }
}

impl KeysWorld {
    fn moto(&self) -> &Moto {
        self.moto.as_ref().expect("moto is running")
    }

    /// Logs in with `user`'s key and prints SSH_KEY_OWNER.
    fn login(&self, user: &str) -> Output {
        let key = self.keys.path().join(user);
        let key = key.to_str().unwrap();
        let options = ["-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"];
        self.sshd.ssh(&options, "echo owner=$SSH_KEY_OWNER").output().expect("run ssh")
    }

    #[track_caller]
    fn assert_login(&self, user: &str) {
        let out = self.login(user);
        assert!(
            out.status.success() && stdout(&out).trim() == format!("owner={user}"),
            "{user} could not log in: {}\nstdout {}\nstderr {}\n--- sshd ---\n{}",
            out.status,
            stdout(&out),
            stderr(&out),
            self.sshd.log()
        );
    }

    #[track_caller]
    fn assert_refused(&self, user: &str) {
        let out = self.login(user);
        assert!(!out.status.success(), "{user} logged in: {}", stdout(&out));
        assert!(stderr(&out).contains("Permission denied"), "{user}: {}", stderr(&out));
    }

    /// The command as sshd runs it, as nobody, for what it says on stderr.
    fn run_as_nobody(&self) -> Output {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/env", "-i"])
            .arg(format!("AWS_ENDPOINT_URL={}", self.moto_url))
            .arg(format!("AWS_SHARED_CREDENTIALS_FILE={}", self.dir.path().join("aws/credentials").display()))
            .args(["AWS_CONFIG_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_REGION=us-east-1"])
            .arg(&self.awsenv)
            .args(["authorized-keys", "--map"])
            .arg(&self.map)
            .arg(LOGIN_USER);
        cmd.output().expect("setpriv")
    }

    /// IAM calls of `action` moto has served so far.
    fn iam_calls(&self, action: &str) -> usize {
        let needle = format!("Action={action}&");
        recorded_requests(self.moto()).iter().filter(|r| recorded_body(r).contains(&needle)).count()
    }
}

fn wait_until(at: Instant) {
    thread::sleep(at.saturating_duration_since(Instant::now()));
}

#[test]
fn iam_users_and_group_members_log_in_with_their_owner_in_the_session() {
    let w = keys_world("fresh = 5m");
    w.assert_login("alice");
    w.assert_login("bob");
    w.assert_login("carol");
    w.assert_refused("mallory");
    // A local user the map does not list gets no key at all.
    let out =
        Command::new(&w.awsenv).args(["authorized-keys", "--map"]).arg(&w.map).arg("root").output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
}

#[test]
fn deactivated_keys_and_removed_members_are_refused_after_the_fresh_window() {
    // Generous windows: logins take seconds on a loaded machine.
    let w = keys_world("fresh = 15s\nstale = 1h");
    let before = Instant::now();
    w.assert_login("alice");
    w.assert_login("bob");
    let fetched = Instant::now();
    w.moto().boto3(
        r#"
iam = client('iam')
iam.update_ssh_public_key(UserName='alice', SSHPublicKeyId=os.environ['KEY_ID'], Status='Inactive')
iam.remove_user_from_group(GroupName='admins', UserName='bob')
"#,
        &[("KEY_ID", &w.alice_key_id)],
    );
    // Still inside the fresh window: the cache answers, IAM is not asked.
    let calls = w.iam_calls("ListSSHPublicKeys");
    w.assert_login("alice");
    assert_eq!(w.iam_calls("ListSSHPublicKeys"), calls, "a fresh cache asked IAM");
    assert!(before.elapsed() < Duration::from_secs(15), "too slow to check the fresh window");
    wait_until(fetched + Duration::from_secs(16));
    w.assert_refused("alice");
    w.assert_refused("bob");
    w.assert_login("carol");
}

#[test]
fn without_iam_a_stale_copy_serves_until_the_stale_bound_then_nothing() {
    let mut w = keys_world("fresh = 1s\nstale = 20s\ntimeout = 3s");
    let before = Instant::now();
    w.assert_login("alice");
    let fetched = Instant::now();
    drop(w.moto.take());
    wait_until(fetched + Duration::from_secs(2));
    w.assert_login("alice");
    w.assert_login("bob");
    let out = w.run_as_nobody();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("SSH_KEY_OWNER=alice"), "{}", stdout(&out));
    assert!(stderr(&out).contains("using the keys of users/alice fetched"), "{}", stderr(&out));
    assert!(before.elapsed() < Duration::from_secs(20), "too slow to check the stale window");
    wait_until(fetched + Duration::from_secs(21));
    w.assert_refused("alice");
    let started = Instant::now();
    let out = w.run_as_nobody();
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "printed past the stale bound: {}", stdout(&out));
    assert!(stderr(&out).contains("past --stale"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}, past --timeout", started.elapsed());
}

#[test]
fn twenty_logins_at_once_make_one_round_of_iam_calls() {
    let w = keys_world("fresh = 5m");
    let (lists, groups) = (w.iam_calls("ListSSHPublicKeys"), w.iam_calls("GetGroup"));
    let logins: Vec<_> = (0..20)
        .map(|i| {
            let user = if i % 2 == 0 { "alice" } else { "bob" };
            let key = w.keys.path().join(user);
            let options: Vec<String> =
                ["-i", key.to_str().unwrap(), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
                    .map(String::from)
                    .into();
            let options: Vec<&str> = options.iter().map(String::as_str).collect();
            (user, w.sshd.ssh(&options, "echo owner=$SSH_KEY_OWNER").spawn_output())
        })
        .collect();
    for (user, login) in logins {
        let out = login.join().expect("ssh thread");
        assert_eq!(stdout(&out).trim(), format!("owner={user}"), "{}\n{}", stderr(&out), w.sshd.log());
    }
    // One round: GetGroup for admins, ListSSHPublicKeys for alice, bob and carol.
    assert_eq!(w.iam_calls("GetGroup") - groups, 1);
    assert_eq!(w.iam_calls("ListSSHPublicKeys") - lists, 3);
}

trait SpawnOutput {
    fn spawn_output(&mut self) -> thread::JoinHandle<Output>;
}

impl SpawnOutput for Command {
    /// Starts the command now and collects its output on a thread.
    fn spawn_output(&mut self) -> thread::JoinHandle<Output> {
        let child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        thread::spawn(move || child.wait_with_output().expect("wait"))
    }
}
