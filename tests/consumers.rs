//! Consumers that are not shells: `credential-process` behind the real aws CLI and boto3,
//! `update` writing a profile of the credentials file (byte preservation, concurrency, the renewal
//! loop), `serve` as an IMDSv2 endpoint (protocol, SDKs, load), profiles of `~/.aws` as accounts,
//! and `version`. Everything runs the real binary against moto on 127.0.0.1.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::cache::{cache_file, entry, set_expiration};
use common::clock::{epoch, is_rfc3339_utc_seconds, now};
use common::files::{mode, path_str, write_file};
use common::process::{detach, output_within, spawn_captured};
use common::script::value;
use common::serve::{CREDS_PATH, Conn, Serve, TOKEN_HEADER, TOKEN_PATH, TTL_HEADER, request};
use common::world::{CODE, World, mfa_session};
use common::{MOTO_ACCOUNT_ID, Moto, Sandbox, Shell, assert_success, init_line, show, stderr, stdout};
use serde_json::Value;

const OWNED_KEYS: [&str; 4] =
    ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "expiration"];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn field<'a>(json: &'a Value, name: &str) -> &'a str {
    json[name].as_str().unwrap_or_else(|| panic!("no string {name} in {json}"))
}

/// The real aws CLI in the sandbox, given at most a minute.
fn aws(sb: &Sandbox, args: &[&str]) -> Output {
    output_within(sb.command("aws").args(args), Duration::from_secs(60))
}

/// boto3 in the sandbox: `script` runs with `os`, `json` and `boto3` imported.
fn boto3(sb: &Sandbox, script: &str, env: &[(&str, &str)]) -> Output {
    let full = format!("import os, sys, json, boto3\n{script}");
    let mut cmd = sb.command("python3");
    cmd.args(["-c", &full]).envs(env.iter().copied());
    output_within(&mut cmd, Duration::from_secs(60))
}

/// The caller identity's ARN from the aws CLI's JSON answer.
#[track_caller]
fn caller_arn(o: &Output) -> String {
    assert!(o.status.success(), "aws sts get-caller-identity failed\n{}", show(o));
    let json: Value =
        serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e})\n{}", show(o)));
    assert_eq!(json["Account"], MOTO_ACCOUNT_ID, "{json}");
    field(&json, "Arn").to_owned()
}

type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// The file as botocore reads it (`configparser.RawConfigParser`), or configparser's error.
fn configparser(sb: &Sandbox, path: &Path) -> Result<Ini, String> {
    let script = "import configparser, json, sys\n\
                  cp = configparser.RawConfigParser()\n\
                  try:\n    cp.read(sys.argv[1], encoding='utf-8')\n\
                  except configparser.Error as e:\n    print(json.dumps({'error': str(e)})); sys.exit(0)\n\
                  print(json.dumps({'sections': {s: dict(cp.items(s)) for s in cp.sections()}}))\n";
    let out = sb.command("python3").args(["-c", script, path_str(path)]).output().unwrap();
    assert_success(&out);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    if let Some(error) = json["error"].as_str() {
        return Err(error.to_owned());
    }
    Ok(serde_json::from_value(json["sections"].clone()).unwrap())
}

fn moto_data(moto: &Moto) -> Value {
    serde_json::from_str(&moto.data()).unwrap()
}

// ---------------------------------------------------------------------------
// 1. credential_process
// ---------------------------------------------------------------------------

#[track_caller]
fn check_process_json(o: &Output) -> Value {
    assert!(o.status.success(), "credential-process failed\n{}", show(o));
    let json: Value =
        serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", show(o)));
    let keys: Vec<&str> = json.as_object().expect("a JSON object").keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"], "{json}");
    assert_eq!(json["Version"], Value::from(1), "Version is the number 1: {json}");
    for key in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
        assert!(!field(&json, key).is_empty(), "{key} is empty: {json}");
    }
    let expiration = field(&json, "Expiration");
    assert!(is_rfc3339_utc_seconds(expiration), "Expiration {expiration:?} is not RFC 3339 UTC with Z");
    json
}

#[test]
fn credential_process_serves_the_aws_cli_and_boto3() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    assert_eq!(w.moto.sts_token_count(), 1, "awsenv mfa made the session");
    let mfa = entry(sb, "work").json;

    let bin = env!("CARGO_BIN_EXE_awsenv");
    write_file(
        &sb.home().join(".aws/config"),
        &format!(
            "[profile viaawsenv]\ncredential_process = {bin} credential-process work\n\n\
             [profile viarole]\ncredential_process = {bin} credential-process work --role Admin\n"
        ),
    );

    // The document itself: exactly the five keys, the cached session's values.
    let out = output_within(sb.awsenv().args(["credential-process", "work"]), Duration::from_secs(30));
    let json = check_process_json(&out);
    assert_eq!(json["AccessKeyId"], mfa["access_key_id"]);
    assert_eq!(json["SessionToken"], mfa["session_token"]);
    assert_eq!(epoch(field(&json, "Expiration")), epoch(field(&mfa, "expiration")));
    assert!(stderr(&out).is_empty(), "nothing on stderr when all is well\n{}", show(&out));

    // The aws CLI, three times: the cached session each time, no new GetSessionToken.
    for run in 1..=3 {
        let out = aws(sb, &["sts", "get-caller-identity", "--profile", "viaawsenv"]);
        caller_arn(&out);
        assert_eq!(w.moto.sts_token_count(), 1, "aws CLI run {run} made a GetSessionToken");
    }
    // boto3 with the profile.
    let script = "s = boto3.Session(profile_name=os.environ['PROFILE'])\n\
                  print(json.dumps(s.client('sts').get_caller_identity()))";
    let out = boto3(sb, script, &[("PROFILE", "viaawsenv")]);
    caller_arn(&out);
    assert_eq!(w.moto.sts_token_count(), 1, "boto3 made a GetSessionToken");

    // The role: one AssumeRole for three runs, the assumed-role ARN, still no GetSessionToken.
    assert_eq!(w.moto.assumed_role_count(), 0);
    for run in 1..=3 {
        let out = aws(sb, &["sts", "get-caller-identity", "--profile", "viarole"]);
        let arn = caller_arn(&out);
        assert!(
            arn.starts_with(&format!("arn:aws:sts::{MOTO_ACCOUNT_ID}:assumed-role/Admin/")),
            "run {run}: not the role's ARN: {arn}"
        );
        assert_eq!(w.moto.assumed_role_count(), 1, "aws CLI run {run}: the role session is cached");
    }
    let out = boto3(sb, script, &[("PROFILE", "viarole")]);
    assert!(caller_arn(&out).contains(":assumed-role/Admin/"), "{}", show(&out));
    assert_eq!((w.moto.sts_token_count(), w.moto.assumed_role_count()), (1, 1));

    let out = output_within(
        sb.awsenv().args(["credential-process", "work", "--role", "Admin"]),
        Duration::from_secs(30),
    );
    let role = check_process_json(&out);
    let left = epoch(field(&role, "Expiration")) - now();
    assert!((3000..=3600).contains(&left), "a role session of an hour: {left} s left");

    // No cached session, no terminal, no code: exit 4, a hint to run ec2mfa, nothing on stdout.
    fs::remove_file(cache_file(sb, "work")).unwrap();
    let out = output_within(sb.awsenv().args(["credential-process", "work"]), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    assert!(out.stdout.is_empty(), "stdout must be empty\n{}", show(&out));
    assert!(stderr(&out).contains("ec2mfa"), "the message says to run ec2mfa\n{}", show(&out));
    assert!(stderr(&out).starts_with("awsenv: "), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1, "no STS call without a code");
}

// ---------------------------------------------------------------------------
// 2. update
// ---------------------------------------------------------------------------

fn update_once(sb: &Sandbox, credentials: &Path, profile: &str) -> Output {
    let mut cmd = sb.awsenv();
    cmd.args(["update", "--once", "--profile", profile, "work"])
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials);
    output_within(&mut cmd, Duration::from_secs(60))
}

/// Asserts that `profile` of `ini` holds the MFA session of the cache entry `mfa`.
#[track_caller]
fn assert_profile_holds(ini: &Ini, profile: &str, mfa: &Value) {
    let section = ini.get(profile).unwrap_or_else(|| panic!("no [{profile}] in {ini:#?}"));
    assert_eq!(section.get("aws_access_key_id").map(String::as_str), mfa["access_key_id"].as_str());
    assert_eq!(section.get("aws_secret_access_key").map(String::as_str), mfa["secret_access_key"].as_str());
    assert_eq!(section.get("aws_session_token").map(String::as_str), mfa["session_token"].as_str());
    let expiration = section.get("expiration").unwrap_or_else(|| panic!("no expiration in [{profile}]"));
    assert!(is_rfc3339_utc_seconds(expiration), "[{profile}] expiration {expiration:?}");
    assert_eq!(epoch(expiration), epoch(field(mfa, "expiration")), "[{profile}]");
}

#[test]
fn update_once_writes_a_profile_the_aws_cli_uses() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    let mfa = entry(sb, "work").json;
    let dot_aws = sb.home().join(".aws");
    assert!(!dot_aws.exists(), "the sandbox starts without ~/.aws");
    let credentials = dot_aws.join("credentials");

    let out = update_once(sb, &credentials, "written");
    assert_success(&out);
    assert!(out.stdout.is_empty(), "{}", show(&out));
    assert_eq!(mode(&dot_aws), 0o700, "~/.aws is created 0700");
    assert_eq!(mode(&credentials), 0o600, "the credentials file is 0600");
    let ini = configparser(sb, &credentials).unwrap_or_else(|e| panic!("does not parse: {e}"));
    assert_profile_holds(&ini, "written", &mfa);
    assert_eq!(ini["written"].len(), 4, "exactly the four keys: {ini:?}");

    let out = aws(sb, &["sts", "get-caller-identity", "--profile", "written"]);
    caller_arn(&out);
    assert_eq!(w.moto.sts_token_count(), 1, "only the GetSessionToken of awsenv mfa");

    // An existing file that others could read ends 0600 too.
    fs::set_permissions(&credentials, fs::Permissions::from_mode(0o644)).unwrap();
    assert_success(&update_once(sb, &credentials, "written"));
    assert_eq!(mode(&credentials), 0o600, "the credentials file ends 0600");

    // Without --profile, aws_signing_helper's default: [default], the other profile kept.
    let mut cmd = sb.awsenv();
    cmd.args(["update", "--once", "work"]).env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    assert_success(&output_within(&mut cmd, Duration::from_secs(60)));
    let ini = configparser(sb, &credentials).unwrap_or_else(|e| panic!("does not parse: {e}"));
    assert_profile_holds(&ini, "default", &mfa);
    assert_profile_holds(&ini, "written", &mfa);
}

/// (before, section, after) around `[name]`: its header line up to the next header or the end.
/// The name between the brackets is taken as botocore takes it: `[ name ]` is another section.
fn split_section<'a>(text: &'a str, name: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let is_header = |line: &str| {
        let t = line.trim();
        t.starts_with('[') && t.ends_with(']')
    };
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        if let Some(s) = start {
            if is_header(line) {
                return Some((&text[..s], &text[s..offset], &text[offset..]));
            }
        } else if is_header(line) && line.trim()[1..line.trim().len() - 1] == *name {
            start = Some(offset);
        }
        offset += line.len();
    }
    start.map(|s| (&text[..s], &text[s..], ""))
}

fn strip_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The key a line sets, as any reader would see it (indented or not, any case).
fn line_key(line: &str) -> Option<String> {
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', ';', '[']) {
        return None;
    }
    t.split_once('=').map(|(k, _)| k.trim().to_ascii_lowercase())
}

/// Every way `update` may have damaged the file `original` in becoming `result`.
fn preservation_problems(original: &str, result: &str, target: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let Some((before, section, after)) = split_section(result, target) else {
        return vec![format!("no [{target}] section in the result")];
    };
    match split_section(original, target) {
        Some((o_before, o_section, o_after)) => {
            if before != o_before {
                problems.push(format!("bytes before [{target}] changed: {o_before:?} -> {before:?}"));
            }
            if after != o_after {
                problems.push(format!("bytes after [{target}] changed: {o_after:?} -> {after:?}"));
            }
            // Every line of the section that is not an owned key is kept, in order.
            let kept: Vec<&str> = o_section
                .split_inclusive('\n')
                .filter(|l| line_key(l).is_none_or(|k| !OWNED_KEYS.contains(&k.as_str())))
                .map(strip_ending)
                .collect();
            let mut lines = section.split_inclusive('\n').map(strip_ending);
            for want in &kept {
                if !lines.any(|l| l == *want) {
                    problems.push(format!("line {want:?} of [{target}] was lost or reordered: {section:?}"));
                    break;
                }
            }
        }
        None => {
            if !after.is_empty() {
                problems.push(format!("the new section is not at the end: {after:?}"));
            }
            match before.strip_prefix(original) {
                Some(added) if added.chars().all(|c| c == '\n' || c == '\r') => {}
                _ => problems.push(format!(
                    "the text before the new section is not the original plus line ends: {before:?}"
                )),
            }
        }
    }
    for key in OWNED_KEYS {
        let count = section.split_inclusive('\n').filter(|l| line_key(l).as_deref() == Some(key)).count();
        if count != 1 {
            problems.push(format!("[{target}] sets {key} {count} times: {section:?}"));
        }
    }
    let crlf = original.contains("\r\n");
    let bytes = result.as_bytes();
    if crlf && bytes.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r')) {
        problems.push(format!("a CRLF file got a bare LF line: {result:?}"));
    }
    if !crlf && result.contains('\r') {
        problems.push(format!("an LF file got a CR: {result:?}"));
    }
    problems
}

#[test]
fn update_changes_only_the_target_section() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    let mfa = entry(sb, "work").json;
    let cases: [(&str, &str); 11] = [
        (
            "comments, odd spacing, profiles before and after, target with region and output",
            "# leading comment\n; semicolon comment\n[default]\naws_access_key_id=DEFAULTKEY\n\
             aws_secret_access_key   =   defaultsecret  \nregion=us-east-2\n\n# before the target\n\
             [target]\nregion   =   eu-west-1  \naws_access_key_id=OLDKEY\noutput = json\n\
             ; comment inside the target\n\n[after]\n  key   =   value  \nother=thing\n# trailing comment\n",
        ),
        (
            "new target after a last section without trailing newline",
            "[default]\naws_access_key_id = A\naws_secret_access_key = B",
        ),
        ("new target in an empty file", ""),
        (
            "CRLF, target in the middle",
            "# crlf\r\n[a]\r\nx = 1\r\n\r\n[target]\r\nregion = eu-west-1\r\noutput = text\r\n\r\n[b]\r\ny = 2\r\n",
        ),
        ("CRLF, new target", "[a]\r\nx = 1\r\n; end\r\n"),
        (
            "target is the last section, no trailing newline",
            "[a]\nx=1\n\n[target]\nregion = us-west-2\noutput = text",
        ),
        (
            "target already holds every key",
            "[target]\naws_access_key_id = OLD\naws_secret_access_key = OLD\naws_session_token = OLD\n\
             expiration = 2020-01-01T00:00:00Z\nregion = eu-west-1\n[z]\nk = v\n",
        ),
        (
            "odd spacing: the target's first key indented",
            "[other]\nk = v\n\n[target]\n  aws_access_key_id   =   OLDKEY  \nregion = eu-west-1\n",
        ),
        (
            "odd spacing: key=value without spaces in the target, comments between",
            "[target]\n# c1\naws_secret_access_key=OLD\n; c2\nexpiration=2020-01-01T00:00:00Z\noutput=json\n",
        ),
        (
            "a key in capitals, as botocore accepts",
            "[target]\nAWS_ACCESS_KEY_ID = OLDKEY\nregion = eu-west-1\n",
        ),
        ("a header with spaces inside the brackets", "[a]\nx = 1\n\n[ target ]\nregion = eu-west-1\n"),
    ];
    let mut failures = Vec::new();
    for (index, (name, original)) in cases.iter().enumerate() {
        let path = sb.root().join(format!("case{index}/credentials"));
        write_file(&path, original);
        let before = configparser(sb, &path).unwrap_or_else(|e| panic!("case {name}: the fixture: {e}"));
        let out = update_once(sb, &path, "target");
        if !out.status.success() {
            failures.push(format!("{name}: update failed\n{}", show(&out)));
            continue;
        }
        let result = fs::read_to_string(&path).unwrap();
        let mut problems = preservation_problems(original, &result, "target");
        match configparser(sb, &path) {
            Err(e) => problems.push(format!("configparser (botocore's reader) rejects the result: {e}")),
            Ok(after) => {
                let section = after.get("target");
                if section.is_some_and(|s| OWNED_KEYS.iter().all(|k| s.contains_key(*k))) {
                    assert_profile_holds(&after, "target", &mfa);
                } else {
                    problems.push(format!("configparser sees an incomplete [target]: {section:?}"));
                }
                for (section, settings) in &before {
                    let mut settings = settings.clone();
                    let mut got = after.get(section).cloned().unwrap_or_default();
                    if section == "target" {
                        settings.retain(|k, _| !OWNED_KEYS.contains(&k.as_str()));
                        got.retain(|k, _| !OWNED_KEYS.contains(&k.as_str()));
                    }
                    if settings != got {
                        problems.push(format!("[{section}] reads {got:?}, was {settings:?}"));
                    }
                }
            }
        }
        if mode(&path) != 0o600 {
            problems.push(format!("mode {:o}", mode(&path)));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}:\n  {}\n  original: {original:?}\n  result:   {result:?}",
                problems.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "update damaged the file:\n{}", failures.join("\n\n"));
}

#[test]
fn concurrent_updates_and_aws_configure_lose_nothing() {
    let w = World::for_aws_cli();
    mfa_session(&w.sb, "work", None);
    let sb = Arc::new(w.sb);
    let mfa = entry(&sb, "work").json;
    let credentials = sb.home().join(".aws/credentials");
    let seed = "# seed comment\n[seed]\naws_access_key_id = SEEDKEY\naws_secret_access_key = SEEDSECRET\n";
    write_file(&credentials, seed);
    fs::set_permissions(&credentials, fs::Permissions::from_mode(0o600)).unwrap();

    let barrier = Arc::new(Barrier::new(9));
    let mut handles = Vec::new();
    for i in 0..8 {
        let (sb, barrier, credentials) = (Arc::clone(&sb), Arc::clone(&barrier), credentials.clone());
        handles.push(thread::spawn(move || {
            barrier.wait();
            update_once(&sb, &credentials, &format!("p{i}"))
        }));
    }
    let configure = {
        let (sb, barrier) = (Arc::clone(&sb), Arc::clone(&barrier));
        thread::spawn(move || {
            barrier.wait();
            aws(&sb, &["configure", "set", "aws_access_key_id", "OTHERKEY", "--profile", "other"])
        })
    };
    for handle in handles {
        assert_success(&handle.join().unwrap());
    }
    assert_success(&configure.join().unwrap());

    let text = fs::read_to_string(&credentials).unwrap();
    let ini = configparser(&sb, &credentials).unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"));
    for i in 0..8 {
        assert_profile_holds(&ini, &format!("p{i}"), &mfa);
    }
    assert_eq!(
        ini.get("other").and_then(|s| s.get("aws_access_key_id")).map(String::as_str),
        Some("OTHERKEY"),
        "aws configure set's profile was lost:\n{text}"
    );
    assert_eq!(ini["seed"]["aws_access_key_id"], "SEEDKEY", "{text}");
    assert!(text.starts_with(seed), "the seed stays first, byte for byte:\n{text}");
    let leftovers: Vec<String> = fs::read_dir(sb.home().join(".aws"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    assert_eq!(w.moto.sts_token_count(), 1, "the cached session served all eight");
}

/// The aws CLI's own writer (`ConfigFileWriter`, what `aws configure set` runs: read, modify,
/// write in place) adding 20 profiles one after the other, while eight `update --once` keep
/// rewriting their own profiles. The README promises that such a writer "loses nothing"; the
/// writes are sequential, so any lost profile was overwritten by awsenv.
#[test]
fn update_never_overwrites_a_concurrent_aws_cli_write() {
    const WRITES: usize = 20;
    let w = World::for_aws_cli();
    mfa_session(&w.sb, "work", None);
    let sb = Arc::new(w.sb);
    let mfa = entry(&sb, "work").json;
    let credentials = sb.home().join(".aws/credentials");
    write_file(&credentials, "[seed]\naws_access_key_id = SEEDKEY\n");
    fs::set_permissions(&credentials, fs::Permissions::from_mode(0o600)).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let updaters: Vec<_> = (0..8)
        .map(|i| {
            let (sb, done, credentials) = (Arc::clone(&sb), Arc::clone(&done), credentials.clone());
            thread::spawn(move || {
                let started = Instant::now();
                let mut runs = 0;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    assert_success(&update_once(&sb, &credentials, &format!("p{i}")));
                    runs += 1;
                    if finished || started.elapsed() > Duration::from_secs(60) {
                        return runs;
                    }
                }
            })
        })
        .collect();
    let script = "import sys, time\n\
                  from awscli.customizations.configure.writer import ConfigFileWriter\n\
                  writer = ConfigFileWriter()\n\
                  for k in range(int(sys.argv[2])):\n    \
                      writer.update_config({'__section__': 'w%d' % k, 'aws_access_key_id': 'WRITER%d' % k}, sys.argv[1])\n    \
                      time.sleep(0.02)\n";
    let count = WRITES.to_string();
    let mut cmd = sb.command("python3");
    cmd.args(["-c", script, path_str(&credentials), &count]);
    let out = output_within(&mut cmd, Duration::from_secs(60));
    done.store(true, Ordering::SeqCst);
    let runs: Vec<usize> = updaters.into_iter().map(|h| h.join().unwrap()).collect();
    assert_success(&out);

    let text = fs::read_to_string(&credentials).unwrap();
    let ini = configparser(&sb, &credentials).unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"));
    for i in 0..8 {
        assert_profile_holds(&ini, &format!("p{i}"), &mfa);
    }
    assert_eq!(ini["seed"]["aws_access_key_id"], "SEEDKEY", "{text}");
    let lost: Vec<String> = (0..WRITES)
        .map(|k| format!("w{k}"))
        .filter(|name| ini.get(name).and_then(|s| s.get("aws_access_key_id")).is_none())
        .collect();
    assert!(
        lost.is_empty(),
        "awsenv update overwrote {} of {WRITES} profiles the aws CLI's writer added meanwhile: {lost:?} \
         ({runs:?} update runs)",
        lost.len()
    );
}

#[test]
fn update_loop_stops_when_renewal_needs_a_code() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", Some("900"));
    let left = epoch(field(&entry(sb, "work").json, "expiration")) - now();
    assert!((800..=900).contains(&left), "a 15-minute session: {left}");
    let credentials = sb.home().join(".aws/credentials");
    let update = |profile: &str| {
        let mut cmd = sb.awsenv();
        cmd.args(["update", "--profile", profile, "work"]);
        spawn_captured(detach(&mut cmd))
    };
    let check_stopped = |out: &Output| {
        assert_eq!(out.status.code(), Some(4), "{}", show(out));
        assert!(out.stdout.is_empty(), "{}", show(out));
        let err = stderr(out);
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("awsenv: ") && last.contains("ec2mfa"),
            "the last line says to run ec2mfa\n{}",
            show(out)
        );
    };

    // 330 s left: less than update wants for a round (5 min + 1 min), and no code to renew.
    set_expiration(sb, "work", now() + 330);
    let started = Instant::now();
    let out = update("early").finish(Duration::from_secs(100));
    check_stopped(&out);
    eprintln!("update with 330 s left stopped after {:?}: {}", started.elapsed(), stderr(&out).trim());

    // 363 s left: the first round writes; the next, 5 minutes before expiry (~63 s later),
    // would need a new code and stops.
    set_expiration(sb, "work", now() + 363);
    let mfa = entry(sb, "work").json;
    let started = Instant::now();
    let mut running = update("p");
    let written = loop {
        if let Ok(ini) = configparser(sb, &credentials)
            && ini.contains_key("p")
        {
            break ini;
        }
        assert!(!running.exited(), "update exited before writing the profile");
        assert!(started.elapsed() < Duration::from_secs(15), "the first round did not write in 15 s");
        thread::sleep(Duration::from_millis(100));
    };
    assert_profile_holds(&written, "p", &mfa);
    let out = running.finish(Duration::from_secs(100));
    let took = started.elapsed();
    check_stopped(&out);
    assert!(
        took >= Duration::from_secs(50),
        "stopped after {took:?}, before the renewal point\n{}",
        show(&out)
    );
    assert!(stderr(&out).contains("wrote profile p"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1, "no STS call without a code");
}

// ---------------------------------------------------------------------------
// 3. serve
// ---------------------------------------------------------------------------

fn token(port: u16, ttl: &str) -> String {
    let r = request(port, "PUT", TOKEN_PATH, &[(TTL_HEADER, ttl)]);
    assert_eq!(r.status, 200, "PUT token ttl {ttl}: {r:?}");
    assert_eq!(r.header(TTL_HEADER), Some(ttl), "{r:?}");
    assert!(r.text().len() >= 32 && r.text().bytes().all(|b| b.is_ascii_hexdigit()), "token {:?}", r.text());
    r.text()
}

#[test]
fn serve_speaks_imdsv2() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    let mfa = entry(sb, "work").json;
    let server = Serve::start(sb.awsenv().args(["serve", "work", "--port", "0"]));
    let port = server.port;

    let t = token(port, "60");
    let r = request(port, "GET", CREDS_PATH, &[(TOKEN_HEADER, &t)]);
    assert_eq!((r.status, r.text().as_str()), (200, "work"), "{r:?}");
    let r = request(port, "GET", &format!("{CREDS_PATH}work"), &[(TOKEN_HEADER, &t)]);
    assert_eq!(r.status, 200, "{r:?}");
    let doc: Value = serde_json::from_str(&r.text()).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
    assert_eq!(doc["Code"], "Success", "{doc}");
    assert_eq!(doc["Type"], "AWS-HMAC", "{doc}");
    assert_eq!(doc["AccessKeyId"], mfa["access_key_id"], "{doc}");
    assert_eq!(doc["SecretAccessKey"], mfa["secret_access_key"], "{doc}");
    assert_eq!(doc["Token"], mfa["session_token"], "{doc}");
    for key in ["Expiration", "LastUpdated"] {
        assert!(is_rfc3339_utc_seconds(field(&doc, key)), "{key}: {doc}");
    }
    assert_eq!(epoch(field(&doc, "Expiration")), epoch(field(&mfa, "expiration")));
    assert!((epoch(field(&doc, "LastUpdated")) - now()).abs() < 120, "{doc}");

    // Tokens.
    let doc_path = format!("{CREDS_PATH}work");
    assert_eq!(request(port, "GET", &doc_path, &[]).status, 401, "no token");
    assert_eq!(request(port, "GET", CREDS_PATH, &[]).status, 401, "no token (listing)");
    let wrong = "0".repeat(64);
    assert_eq!(request(port, "GET", &doc_path, &[(TOKEN_HEADER, &wrong)]).status, 401, "wrong token");
    let short = token(port, "1");
    assert_eq!(request(port, "GET", &doc_path, &[(TOKEN_HEADER, &short)]).status, 200, "fresh 1 s token");
    thread::sleep(Duration::from_millis(2100));
    assert_eq!(request(port, "GET", &doc_path, &[(TOKEN_HEADER, &short)]).status, 401, "expired token");
    for ttl in ["0", "21601", "abc", "-1", ""] {
        let r = request(port, "PUT", TOKEN_PATH, &[(TTL_HEADER, ttl)]);
        assert_eq!(r.status, 400, "ttl {ttl:?}: {r:?}");
    }
    assert_eq!(request(port, "PUT", TOKEN_PATH, &[]).status, 400, "ttl missing");
    assert_eq!(token(port, "21600").len(), t.len());

    // Proxies, methods, paths.
    let xff = ("X-Forwarded-For", "10.0.0.1");
    assert_eq!(
        request(port, "PUT", TOKEN_PATH, &[(TTL_HEADER, "60"), xff]).status,
        403,
        "PUT through a proxy"
    );
    assert_eq!(
        request(port, "GET", &doc_path, &[(TOKEN_HEADER, &t), xff]).status,
        403,
        "GET through a proxy"
    );
    assert_eq!(request(port, "POST", TOKEN_PATH, &[(TTL_HEADER, "60")]).status, 405, "POST token");
    assert_eq!(request(port, "GET", TOKEN_PATH, &[(TTL_HEADER, "60")]).status, 405, "GET token");
    for path in ["/latest/meta-data/ami-id", "/foo", "/"] {
        let r = request(port, "GET", path, &[(TOKEN_HEADER, &t)]);
        assert_eq!(r.status, 404, "{path}: {r:?}");
    }
    let r = request(port, "GET", &format!("{CREDS_PATH}other"), &[(TOKEN_HEADER, &t)]);
    assert_eq!(r.status, 404, "another role name: {r:?}");

    // The SDKs, with nothing but the endpoint.
    let empty = sb.root().join("empty");
    write_file(&empty.join("config"), "");
    write_file(&empty.join("credentials"), "");
    let endpoint = format!("http://127.0.0.1:{port}/");
    let imds_env = |cmd: &mut Command| {
        cmd.env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)
            .env("AWS_CONFIG_FILE", empty.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", empty.join("credentials"));
        for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
            cmd.env_remove(var);
        }
    };
    let mut cmd = sb.command("aws");
    cmd.args(["sts", "get-caller-identity"]);
    imds_env(&mut cmd);
    let out = output_within(&mut cmd, Duration::from_secs(60));
    caller_arn(&out);
    let mut cmd = sb.command("python3");
    cmd.args([
        "-c",
        "import boto3, json\ns = boto3.Session()\nc = s.get_credentials()\n\
         print(json.dumps({'method': c.method, 'key': c.access_key, \
         'id': s.client('sts').get_caller_identity()}))",
    ]);
    imds_env(&mut cmd);
    let out = output_within(&mut cmd, Duration::from_secs(60));
    assert!(out.status.success(), "boto3 through the endpoint\n{}", show(&out));
    let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(got["method"], "iam-role", "boto3 found the credentials in IMDS: {got}");
    assert_eq!(got["key"], mfa["access_key_id"], "{got}");
    assert_eq!(got["id"]["Account"], MOTO_ACCOUNT_ID, "{got}");
    assert_eq!(w.moto.sts_token_count(), 1, "serving makes no GetSessionToken");
    assert!(!server.log().contains("could not renew"), "{}", server.log());
}

#[test]
fn serve_under_load() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    let server = Serve::start(sb.awsenv().args(["serve", "work", "--port", "0"]));
    let port = server.port;

    // Keep-alive connections from 8 threads, each a PUT then GETs; every answer 200.
    let hammer = |per_thread: usize| -> (usize, Duration) {
        let started = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                thread::spawn(move || -> Result<usize, String> {
                    let mut conn = Conn::open(port).map_err(|e| format!("connect: {e}"))?;
                    let r = conn
                        .send("PUT", TOKEN_PATH, &[(TTL_HEADER, "300")])
                        .map_err(|e| format!("PUT: {e}"))?;
                    if r.status != 200 {
                        return Err(format!("PUT: {r:?}"));
                    }
                    let token = r.text();
                    for i in 1..per_thread {
                        let path =
                            if i % 4 == 0 { CREDS_PATH.to_owned() } else { format!("{CREDS_PATH}work") };
                        let r = conn
                            .send("GET", &path, &[(TOKEN_HEADER, &token)])
                            .map_err(|e| format!("GET {i}: {e}"))?;
                        if r.status != 200 || r.header("Connection") == Some("close") {
                            return Err(format!("GET {i}: {r:?}"));
                        }
                    }
                    Ok(per_thread)
                })
            })
            .collect();
        let mut total = 0;
        for t in threads {
            total += t.join().unwrap().unwrap_or_else(|e| panic!("load: {e}"));
        }
        (total, started.elapsed())
    };
    let (first, _) = hammer(63);
    let rss_500 = server.rss_kb();
    let (rest, took) = hammer(313);
    let rss_3000 = server.rss_kb();
    let total = first + rest;
    let rate = rest as f64 / took.as_secs_f64();
    eprintln!(
        "serve load: {total} keep-alive requests; {rest} in {took:?} = {rate:.0} requests/s; \
         VmRSS {rss_500} kB after {first}, {rss_3000} kB after {total}"
    );
    assert!(total >= 3000);
    assert!(
        rss_3000 < rss_500 + 2048,
        "RSS grew by {} kB between {first} and {total} requests",
        rss_3000 as i64 - rss_500 as i64
    );

    // 400 short connections from 8 threads: half a request each, half closed at once.
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            thread::spawn(move || -> Result<(), String> {
                for i in 0..50 {
                    if (t + i) % 2 == 0 {
                        let stream =
                            TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
                        let _ = stream.shutdown(Shutdown::Both);
                        continue;
                    }
                    let mut conn = Conn::open(port).map_err(|e| format!("connect: {e}"))?;
                    let r = conn
                        .send("PUT", TOKEN_PATH, &[(TTL_HEADER, "60"), ("Connection", "close")])
                        .map_err(|e| format!("PUT: {e}"))?;
                    if r.status != 200 || r.header("Connection") != Some("close") {
                        return Err(format!("PUT: {r:?}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap_or_else(|e| panic!("short connections: {e}"));
    }
    let short_took = started.elapsed();
    let t = token(port, "60");
    assert_eq!(request(port, "GET", &format!("{CREDS_PATH}work"), &[(TOKEN_HEADER, &t)]).status, 200);
    let rss_after = server.rss_kb();
    eprintln!("serve: 400 short connections in {short_took:?}; VmRSS {rss_after} kB after them");
    assert!(!server.log().contains("could not"), "{}", server.log());
    assert_eq!(w.moto.sts_token_count(), 1);
}

#[test]
fn serve_listens_on_loopback_only() {
    let sb = Sandbox::new(None);
    for bind in ["0.0.0.0", "192.168.1.1", "::"] {
        let out = output_within(
            sb.awsenv().args(["serve", "work", "--port", "0", "--bind", bind]),
            Duration::from_secs(5),
        );
        assert_eq!(out.status.code(), Some(2), "--bind {bind}\n{}", show(&out));
        assert!(stderr(&out).contains("loopback"), "--bind {bind}\n{}", show(&out));
        assert!(out.stdout.is_empty(), "{}", show(&out));
    }
}

#[test]
fn serve_fails_at_startup_without_a_session() {
    let w = World::for_aws_cli();
    let sb = &w.sb;
    mfa_session(sb, "work", None);
    set_expiration(sb, "work", now() - 60);
    let out = output_within(sb.awsenv().args(["serve", "work", "--port", "0"]), Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    assert!(!stderr(&out).contains("serving"), "it must not serve\n{}", show(&out));
    assert!(stderr(&out).contains("ec2mfa"), "{}", show(&out));
    assert_eq!(w.moto.sts_token_count(), 1);
}

// ---------------------------------------------------------------------------
// 4. Profiles of ~/.aws
// ---------------------------------------------------------------------------

#[test]
fn config_profiles_are_accounts() {
    let moto = Moto::start();
    let mut sb = Sandbox::new(Some(&moto));
    sb.remove_env("AWS_REGION");
    sb.remove_env("AWS_DEFAULT_REGION");
    let (key, secret) = moto.create_user("alice");
    let serial = format!("arn:aws:iam::{MOTO_ACCOUNT_ID}:mfa/alice");
    let config = sb.home().join(".aws/config");
    let credentials = sb.home().join(".aws/credentials");
    write_file(
        &config,
        &format!(
            "[profile base]\nmfa_serial = {serial}\nregion = eu-west-1\n\n\
             [profile admin]\nrole_arn = arn:aws:iam::{MOTO_ACCOUNT_ID}:role/Admin\nsource_profile = base\n\n\
             [profile deep]\nrole_arn = arn:aws:iam::{MOTO_ACCOUNT_ID}:role/Deep\nsource_profile = admin\n\
             duration_seconds = 1800\nrole_session_name = deep-session\nexternal_id = X\n"
        ),
    );
    write_file(
        &credentials,
        &format!(
            "[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n\
             [dup]\naws_access_key_id = AKIAPROFILEDUP000000\naws_secret_access_key = profilesecret\n"
        ),
    );

    // ec2switch base: the long-term keys and the profile's region; ec2mfa with its serial.
    let script = format!(
        "{}\nec2switch base || exit 91\necho KEY=$AWS_ACCESS_KEY_ID\necho TOKEN=${{AWS_SESSION_TOKEN-unset}}\n\
         echo REGION=$AWS_REGION\necho DREGION=$AWS_DEFAULT_REGION\n\
         ec2mfa {CODE} || exit 92\necho KEY2=$AWS_ACCESS_KEY_ID\necho TOKEN2=${{AWS_SESSION_TOKEN:+set}}\n\
         echo REGION2=$AWS_REGION",
        init_line(Shell::Bash)
    );
    let out = sb.run_shell(Shell::Bash, &script);
    assert_success(&out);
    assert_eq!(value(&out, "KEY"), key, "{}", show(&out));
    assert_eq!(value(&out, "TOKEN"), "unset", "{}", show(&out));
    assert_eq!((value(&out, "REGION"), value(&out, "DREGION")), ("eu-west-1".into(), "eu-west-1".into()));
    assert_eq!(value(&out, "TOKEN2"), "set", "{}", show(&out));
    assert_eq!(value(&out, "REGION2"), "eu-west-1");
    assert_eq!(moto.sts_token_count(), 1, "ec2mfa made one GetSessionToken");
    let base = entry(&sb, "base").json;
    assert_eq!(base["mfa_serial"], serial.as_str(), "the session was made with the profile's serial");
    assert_eq!(value(&out, "KEY2"), field(&base, "access_key_id"));

    // credential-process deep: admin then deep assumed, deep with its own settings.
    let deep = || {
        let mut cmd = sb.awsenv();
        cmd.args(["credential-process", "deep"]).env("AWSENV_MFA_CODE", CODE);
        output_within(&mut cmd, Duration::from_secs(60))
    };
    let json = check_process_json(&deep());
    assert_eq!((moto.sts_token_count(), moto.assumed_role_count()), (1, 2), "Token 1, AssumedRole 2");
    let left = epoch(field(&json, "Expiration")) - now();
    assert!((1700..=1800).contains(&left), "deep lasts duration_seconds = 1800: {left} s left");
    let data = moto_data(&moto);
    let roles = data["sts"]["AssumedRole"].as_array().cloned().unwrap_or_default();
    let assumed = |role: &str| {
        let arn = format!("arn:aws:iam::{MOTO_ACCOUNT_ID}:role/{role}");
        roles
            .iter()
            .find(|r| r["role_arn"] == arn.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{arn}: {roles:#?}"))
    };
    assert_eq!(assumed("Admin")["external_id"], Value::Null);
    let deep_call = assumed("Deep");
    assert_eq!(deep_call["session_name"], "deep-session", "{deep_call:#}");
    assert_eq!(deep_call["external_id"], "X", "{deep_call:#}");
    let arn = moto.boto3(
        "print(client('sts').get_caller_identity()['Arn'])",
        &[
            ("AWS_ACCESS_KEY_ID", field(&json, "AccessKeyId")),
            ("AWS_SECRET_ACCESS_KEY", field(&json, "SecretAccessKey")),
            ("AWS_SESSION_TOKEN", field(&json, "SessionToken")),
        ],
    );
    assert!(arn.contains("assumed-role/Deep/deep-session"), "{arn}");
    let again = check_process_json(&deep());
    assert_eq!(again["AccessKeyId"], json["AccessKeyId"], "the cached deep session");
    assert_eq!((moto.sts_token_count(), moto.assumed_role_count()), (1, 2), "a second run calls nothing");

    // A store account wins over a profile of the same name.
    sb.add_account("dup", "AKIASTOREDUP00000000", "storesecret", None);
    let out = sb.awsenv().args(["switch", "--shell", "bash", "dup"]).output().unwrap();
    assert_success(&out);
    assert!(stdout(&out).contains("AKIASTOREDUP00000000"), "{}", show(&out));
    assert!(!stdout(&out).contains("AKIAPROFILEDUP"), "{}", show(&out));
    let out = sb.awsenv().arg("accounts").output().unwrap();
    assert_success(&out);
    let listed: Vec<(String, String)> = stdout(&out)
        .lines()
        .map(|l| {
            let (name, origin) = l.split_once(' ').unwrap_or_else(|| panic!("line {l:?}"));
            (name.to_owned(), origin.trim().to_owned())
        })
        .collect();
    let store = path_str(&sb.store()).to_owned();
    let config_path = path_str(&config).to_owned();
    let expected: Vec<(String, String)> = [
        ("dup", store.as_str()),
        ("base", config_path.as_str()),
        ("admin", config_path.as_str()),
        ("deep", config_path.as_str()),
    ]
    .iter()
    .map(|(n, o)| (n.to_string(), o.to_string()))
    .collect();
    assert_eq!(listed, expected, "{}", show(&out));
}

#[test]
fn broken_profiles_are_configuration_errors() {
    let mut sb = Sandbox::new(None);
    let role = |name: &str| format!("role_arn = arn:aws:iam::{MOTO_ACCOUNT_ID}:role/{name}");
    let cases: Vec<(&str, String, &str, String)> = vec![
        ("header without ]", "[profile ok]\nregion = x\n\n[profile x\nregion = y\n".into(), "x", ":4".into()),
        ("garbage line", "[profile x]\nregion = y\ngarbage\n".into(), "x", ":3".into()),
        (
            "source_profile loop",
            format!(
                "[profile a]\n{}\nsource_profile = b\n\n[profile b]\n{}\nsource_profile = a\n",
                role("A"),
                role("B")
            ),
            "a",
            "loops".into(),
        ),
        (
            "missing source_profile",
            format!("[profile orphan]\n{}\nsource_profile = nowhere\n", role("O")),
            "orphan",
            "nowhere".into(),
        ),
    ];
    for (index, (name, text, account, needle)) in cases.iter().enumerate() {
        let path = sb.root().join(format!("config{index}"));
        write_file(&path, text);
        sb.set_env("AWS_CONFIG_FILE", path_str(&path));
        let out =
            output_within(sb.awsenv().args(["switch", "--shell", "bash", account]), Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(3), "{name}\n{}", show(&out));
        assert!(out.stdout.is_empty(), "{name}\n{}", show(&out));
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: one line\n{}", show(&out));
        assert!(lines[0].starts_with("awsenv: "), "{name}\n{}", show(&out));
        assert!(lines[0].contains(path_str(&path)), "{name}: names the file\n{}", show(&out));
        let needle =
            if needle.starts_with(':') { format!("{}{needle}", path_str(&path)) } else { needle.clone() };
        assert!(lines[0].contains(&needle), "{name}: {needle:?}\n{}", show(&out));
    }
}

// ---------------------------------------------------------------------------
// 5. version
// ---------------------------------------------------------------------------

#[test]
fn version_names_the_commit() {
    let sb = Sandbox::new(None);
    let a = sb.awsenv().arg("version").output().unwrap();
    let b = sb.awsenv().arg("--version").output().unwrap();
    assert_success(&a);
    assert_success(&b);
    assert_eq!(stdout(&a), stdout(&b), "version and --version agree");
    let text = stdout(&a);
    let commit = text
        .strip_prefix("awsenv 0.1.0 (")
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("unexpected version line {text:?}"));
    let is_hash =
        commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    assert!(is_hash || commit == "unknown commit", "commit {commit:?}");
}
