//! IAM Identity Center against `tests/fakes/sso.py` (which gets role credentials from moto's STS),
//! reached only through `AWS_ENDPOINT_URL_SSO_OIDC` / `AWS_ENDPOINT_URL_SSO`, with
//! `tests/fakes/browser.sh` as the user's browser: both sign-in flows, the token cache shared with
//! botocore and the aws CLI, one sign-in and one refresh for many callers, logout, and the errors.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::clock::now;
use common::process::{detach, output_within, spawn_captured};
use common::sso::{FakeSso, START_URL, USER, browser_launches};
use common::{Moto, Sandbox, python, show, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(90);
/// `sha1("corp")`: the token file of `[sso-session corp]` (python3 -c 'import hashlib;
/// print(hashlib.sha1(b"corp").hexdigest())').
const CORP_TOKEN: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
/// `sha1(START_URL)`: the token file of the legacy profile.
const LEGACY_TOKEN: &str = "a574cfb52e1a87cd150b091145491e1f48cec919.json";
/// botocore's registration key for corp: `sha1(json.dumps({"tool": "botocore", "startUrl": START_URL,
/// "region": "us-east-1", "scopes": ["sso:account:access"], "session_name": "corp"}, sort_keys=True))`.
const CORP_REGISTRATION: &str = "21d4df947437f8b10f0b0a3d16e974513c0eef13.json";
const DEV_ROLE: &str = "corp/111111111111/ReadOnly";

struct World {
    moto: Moto,
    fake: FakeSso,
    sandbox: Sandbox,
}

fn world() -> World {
    let moto = Moto::start();
    let fake = FakeSso::start(&moto, &[]);
    let sandbox = fake.sandbox(&moto);
    World { moto, fake, sandbox }
}

impl World {
    /// awsenv with `args`, detached from any terminal.
    fn awsenv(&self, args: &[&str]) -> Output {
        output_within(self.sandbox.awsenv().args(args), LIMIT)
    }

    fn cache_file(&self, name: &str) -> PathBuf {
        self.sandbox.home().join(".aws/sso/cache").join(name)
    }

    fn token(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.cache_file(CORP_TOKEN)).expect("the token file exists");
        serde_json::from_str(&text).expect("the token file is JSON")
    }

    fn write_token(&self, token: &serde_json::Value) {
        let path = self.cache_file(CORP_TOKEN);
        fs::write(&path, serde_json::to_vec(token).unwrap()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Runs a python script with boto3 as the sandbox's user (HOME, config file, endpoints).
    fn python(&self, script: &str) -> Output {
        let mut cmd = self.sandbox.command(python().to_str().unwrap());
        cmd.args(["-c", script]);
        output_within(&mut cmd, LIMIT)
    }
}

#[track_caller]
fn ok(output: &Output) {
    assert!(output.status.success(), "{}", show(output));
}

/// Failed with `code`, nothing on stdout, one line on stderr holding `words`.
#[track_caller]
fn fails(output: &Output, code: i32, words: &[&str]) {
    fails_after_sign_in(output, code, words);
    assert_eq!(stderr(output).lines().count(), 1, "one line on stderr: {}", show(output));
}

/// As `fails`, after a sign-in started: the lines telling the user where to sign in, then one
/// line saying why it failed.
#[track_caller]
fn fails_after_sign_in(output: &Output, code: i32, words: &[&str]) {
    assert_eq!(output.status.code(), Some(code), "{}", show(output));
    assert!(output.stdout.is_empty(), "nothing on stdout: {}", show(output));
    let err = stderr(output);
    assert!(err.lines().all(|line| line.starts_with("awsenv: ")), "{err}");
    let last = err.lines().last().unwrap_or_default();
    for word in words {
        assert!(last.contains(word), "{word:?} in the last line of {err}");
    }
}

/// Whether `text` shows any secret the token file holds.
#[track_caller]
fn no_secret_in(text: &str, token: &serde_json::Value) {
    for key in ["accessToken", "refreshToken", "clientSecret"] {
        let secret = token[key].as_str().unwrap();
        assert!(!text.contains(secret), "{key} shown in {text}");
    }
}

fn rfc3339_in(seconds: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{}", now() + seconds), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date runs");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn seconds_until(rfc3339: &str) -> i64 {
    let out =
        std::process::Command::new("date").args(["-u", "-d", rfc3339, "+%s"]).output().expect("date runs");
    String::from_utf8(out.stdout).unwrap().trim().parse::<i64>().unwrap() - now()
}

#[test]
fn pkce_sign_in_fills_the_cache_the_aws_cli_reads() {
    let w = world();
    let started = Instant::now();
    let out = w.awsenv(&["sso", "login", "corp", "--debug"]);
    ok(&out);
    eprintln!("PKCE sign-in took {:?}", started.elapsed());
    assert!(out.stdout.is_empty(), "{}", show(&out));
    assert!(stderr(&out).contains("signed in to corp until"), "{}", show(&out));
    assert_eq!(browser_launches(&w.sandbox).len(), 1);

    let calls = w.fake.calls();
    assert_eq!(calls["operations"]["RegisterClient"], 1, "{calls}");
    assert_eq!(calls["operations"]["Authorize"], 1, "{calls}");
    assert_eq!(calls["granted"]["authorization_code"], 1, "{calls}");
    let register =
        calls["recent"].as_array().unwrap().iter().find(|r| r["operation"] == "RegisterClient").unwrap();
    assert_eq!(register["params"]["grantTypes"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert_eq!(register["params"]["redirectUris"], serde_json::json!(["http://127.0.0.1/oauth/callback"]));
    assert_eq!(register["params"]["issuerUrl"], START_URL);
    assert_eq!(register["params"]["scopes"], serde_json::json!(["sso:account:access"]));

    // The aws CLI v2's fields and time format, 0600 in a 0700 directory.
    let token = w.token();
    let keys: Vec<&str> = token.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "accessToken",
            "clientId",
            "clientSecret",
            "expiresAt",
            "refreshToken",
            "region",
            "registrationExpiresAt",
            "startUrl"
        ]
    );
    assert_eq!(token["startUrl"], START_URL);
    assert_eq!(token["region"], "us-east-1");
    for key in ["expiresAt", "registrationExpiresAt"] {
        let value = token[key].as_str().unwrap();
        assert!(value.len() == 20 && value.ends_with('Z') && value.as_bytes()[10] == b'T', "{key} {value}");
    }
    assert!((3500..=3600).contains(&seconds_until(token["expiresAt"].as_str().unwrap())), "{token}");
    let mode = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(w.cache_file(CORP_TOKEN)), 0o600);
    assert_eq!(mode(w.cache_file("")), 0o700);
    let registration: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(w.cache_file(CORP_REGISTRATION)).unwrap()).unwrap();
    assert_eq!(registration["clientId"], token["clientId"]);
    assert_eq!(registration["grantTypes"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert_eq!(mode(w.cache_file(CORP_REGISTRATION)), 0o600);
    no_secret_in(&stderr(&out), &token);

    // Valid: no second sign-in.
    let again = w.awsenv(&["sso", "login", "corp"]);
    ok(&again);
    assert!(stderr(&again).contains("already signed in to corp"), "{}", show(&again));
    assert_eq!(browser_launches(&w.sandbox).len(), 1);
    assert_eq!(w.fake.count("CreateToken"), 1);

    // Role credentials that moto's STS takes, for the fake's user.
    let creds = w.awsenv(&["sso", "credentials", DEV_ROLE]);
    ok(&creds);
    let doc: serde_json::Value = serde_json::from_slice(&creds.stdout).unwrap();
    assert_eq!(doc["Version"], 1);
    let who = w.moto.boto3(
        "print(client('sts').get_caller_identity()['Arn'])",
        &[
            ("AWS_ACCESS_KEY_ID", doc["AccessKeyId"].as_str().unwrap()),
            ("AWS_SECRET_ACCESS_KEY", doc["SecretAccessKey"].as_str().unwrap()),
            ("AWS_SESSION_TOKEN", doc["SessionToken"].as_str().unwrap()),
        ],
    );
    assert_eq!(who.trim(), format!("arn:aws:sts::111111111111:assumed-role/ReadOnly/{USER}"));
    no_secret_in(&stderr(&creds), &token);
}

/// Waits for the device code lines on stderr, then acts as the user: opens the complete URL
/// (Allow, or Deny when the fake is set to deny).
fn device_login(w: &World, extra: &[&str]) -> Output {
    let mut cmd = w.sandbox.awsenv();
    cmd.args(["sso", "login", "corp", "--device-code"]).args(extra);
    detach(&mut cmd).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no device code shown: {seen}");
        seen.push_str(&line);
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    let path = url.split_once("127.0.0.1:").unwrap().1.split_once('/').unwrap().1;
    assert!(path.starts_with("device?user_code="), "{url}");
    let (status, _) = w.fake.request("GET", &format!("/{path}"), "");
    assert_eq!(status, 200);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    Output { status: out.status, stdout: out.stdout, stderr: format!("{seen}{rest}").into_bytes() }
}

#[test]
fn device_code_sign_in_shows_a_code_and_opens_no_browser() {
    let w = world();
    let out = device_login(&w, &[]);
    ok(&out);
    assert!(out.stdout.is_empty(), "{}", show(&out));
    assert!(stderr(&out).contains("user_code="), "{}", show(&out));
    assert!(browser_launches(&w.sandbox).is_empty());
    let calls = w.fake.calls();
    assert_eq!(calls["operations"]["StartDeviceAuthorization"], 1, "{calls}");
    assert_eq!(calls["granted"]["urn:ietf:params:oauth:grant-type:device_code"], 1, "{calls}");
    let token = w.token();
    assert!(token["refreshToken"].is_string(), "a refresh token: registered with scopes");
    no_secret_in(&stderr(&out), &token);
    // The device flow's registration (no grant types, as botocore registers it) is cached.
    let registration: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(w.cache_file(CORP_REGISTRATION)).unwrap()).unwrap();
    assert!(registration.get("grantTypes").is_none(), "{registration}");
    ok(&w.awsenv(&["sso", "credentials", DEV_ROLE, "--no-sign-in"]));
}

#[test]
fn a_code_for_another_verifier_or_a_forged_state_is_refused() {
    let mut w = world();
    w.sandbox.set_env("FAKE_BROWSER_TAMPER", "challenge");
    fails_after_sign_in(&w.awsenv(&["sso", "login", "corp"]), 5, &["refused", "PKCE verifier"]);
    let calls = w.fake.calls();
    assert_eq!(calls["errors"]["CreateToken:InvalidGrantException"], 1, "{calls}");
    assert!(!w.cache_file(CORP_TOKEN).exists());

    w.sandbox.set_env("FAKE_BROWSER_TAMPER", "state");
    fails_after_sign_in(&w.awsenv(&["sso", "login", "corp"]), 5, &["refused", "state"]);
    assert_eq!(w.fake.count("CreateToken"), 1, "no CreateToken with a forged state");
    assert!(!w.cache_file(CORP_TOKEN).exists());
    assert_eq!(browser_launches(&w.sandbox).len(), 2);
}

#[test]
fn sixteen_logins_at_once_make_one_sign_in() {
    let w = world();
    // The browser takes a moment, as a person would: every login is waiting by then.
    w.fake.configure(r#"{"delays": {"Authorize": 1}}"#);
    let started = Instant::now();
    let running: Vec<_> =
        (0..16).map(|_| spawn_captured(detach(w.sandbox.awsenv().args(["sso", "login", "corp"])))).collect();
    for run in running {
        let out = run.finish(LIMIT);
        ok(&out);
        assert!(out.stdout.is_empty(), "{}", show(&out));
    }
    eprintln!("16 concurrent logins took {:?}", started.elapsed());
    assert_eq!(browser_launches(&w.sandbox).len(), 1, "one browser page");
    let calls = w.fake.calls();
    assert_eq!(calls["operations"]["CreateToken"], 1, "{calls}");
    assert_eq!(calls["operations"]["Authorize"], 1, "{calls}");
    assert_eq!(calls["operations"]["RegisterClient"], 1, "{calls}");
}

#[test]
fn a_token_near_its_end_is_refreshed_once_for_many_callers_without_a_browser() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let mut token = w.token();
    let old_refresh = token["refreshToken"].clone();
    // Five minutes left, as time passing would leave it (the service's token lives on).
    token["expiresAt"] = rfc3339_in(300).into();
    w.write_token(&token);
    let started = Instant::now();
    let running: Vec<_> = (0..8)
        .map(|_| {
            spawn_captured(detach(w.sandbox.awsenv().args(["sso", "credentials", DEV_ROLE, "--no-sign-in"])))
        })
        .collect();
    for run in running {
        ok(&run.finish(LIMIT));
    }
    eprintln!("8 concurrent callers with a refresh took {:?}", started.elapsed());
    assert_eq!(w.fake.granted("refresh_token"), 1, "{}", w.fake.calls());
    assert_eq!(w.fake.calls()["grantTypes"]["refresh_token"], 1);
    assert_eq!(browser_launches(&w.sandbox).len(), 1, "no browser for a refresh");
    let token = w.token();
    assert_ne!(token["refreshToken"], old_refresh, "the rotated refresh token is kept");
    assert!(seconds_until(token["expiresAt"].as_str().unwrap()) > 3000, "{token}");
    assert_eq!(w.fake.count("GetRoleCredentials"), 8);
}

#[test]
fn boto3_and_the_aws_cli_use_awsenvs_sign_in() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let out = w.python(
        "import boto3, json\n\
         s = boto3.Session(profile_name='dev')\n\
         print(json.dumps({'method': s.get_credentials().method, 'who': s.client('sts').get_caller_identity()['Arn']}))\n",
    );
    assert!(out.status.success(), "{}", show(&out));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["method"], "sso");
    assert_eq!(seen["who"], format!("arn:aws:sts::111111111111:assumed-role/ReadOnly/{USER}"));
    let mut aws = w.sandbox.command("aws");
    aws.args(["sts", "get-caller-identity", "--profile", "dev", "--query", "Arn", "--output", "text"]);
    let out = output_within(&mut aws, LIMIT);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(stdout(&out).trim(), format!("arn:aws:sts::111111111111:assumed-role/ReadOnly/{USER}"));
    assert_eq!(w.fake.count("GetRoleCredentials"), 2);
    assert_eq!(w.fake.count("CreateToken"), 1, "no refresh, no new sign-in");
}

#[test]
fn awsenv_uses_a_token_botocore_wrote() {
    let w = world();
    // A sign-in made with boto3's own clients, saved the way botocore's SSOTokenProvider saves
    // tokens (JSONFileCache with its time format); the legacy profile's token with only the two
    // fields the aws CLI's legacy form has.
    let script = format!(
        "import datetime, json, os, urllib.request, boto3, botocore.tokens, botocore.utils\n\
         START = {START_URL:?}\n\
         DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'\n\
         oidc = boto3.client('sso-oidc', region_name='us-east-1')\n\
         reg = oidc.register_client(clientName='botocore-client-corp', clientType='public', scopes=['sso:account:access'])\n\
         opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))\n\
         def sign_in():\n\
         \x20   dev = oidc.start_device_authorization(clientId=reg['clientId'], clientSecret=reg['clientSecret'], startUrl=START)\n\
         \x20   opener.open(dev['verificationUriComplete']).read()\n\
         \x20   return oidc.create_token(grantType=DEVICE, clientId=reg['clientId'], clientSecret=reg['clientSecret'], deviceCode=dev['deviceCode'])\n\
         now = datetime.datetime.now(datetime.timezone.utc)\n\
         tok = sign_in()\n\
         cache = botocore.utils.JSONFileCache(os.path.expanduser('~/.aws/sso/cache'), dumps_func=botocore.tokens._sso_json_dumps)\n\
         loader = botocore.utils.SSOTokenLoader(cache=cache)\n\
         loader.save_token(START, {{'startUrl': START, 'region': 'us-east-1', 'accessToken': tok['accessToken'],\n\
         \x20   'expiresAt': now + datetime.timedelta(seconds=tok['expiresIn']), 'clientId': reg['clientId'],\n\
         \x20   'clientSecret': reg['clientSecret'],\n\
         \x20   'registrationExpiresAt': datetime.datetime.fromtimestamp(reg['clientSecretExpiresAt'], datetime.timezone.utc),\n\
         \x20   'refreshToken': tok['refreshToken']}}, session_name='corp')\n\
         legacy = sign_in()\n\
         loader.save_token(START, {{'startUrl': START, 'region': 'us-east-1', 'accessToken': legacy['accessToken'],\n\
         \x20   'expiresAt': now + datetime.timedelta(seconds=legacy['expiresIn'])}})\n"
    );
    let out = w.python(&script);
    assert!(out.status.success(), "{}", show(&out));
    assert!(w.cache_file(CORP_TOKEN).exists() && w.cache_file(LEGACY_TOKEN).exists());
    let before = w.fake.count("CreateToken");

    ok(&w.awsenv(&["sso", "credentials", DEV_ROLE, "--no-sign-in"]));
    ok(&w.awsenv(&["sso", "credentials", "legacy", "--no-sign-in"]));
    let login = w.awsenv(&["sso", "login", "corp"]);
    ok(&login);
    assert!(stderr(&login).contains("already signed in"), "{}", show(&login));
    assert!(browser_launches(&w.sandbox).is_empty());
    assert_eq!(w.fake.count("CreateToken"), before, "no refresh, no sign-in");
    assert_eq!(w.fake.count("GetRoleCredentials"), 2);
}

#[test]
fn logout_ends_the_sign_in_and_removes_the_token() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let token = w.token();
    let out = w.awsenv(&["sso", "logout", "corp"]);
    ok(&out);
    assert!(stderr(&out).contains("signed out of corp"), "{}", show(&out));
    assert_eq!(w.fake.count("Logout"), 1);
    assert!(!w.cache_file(CORP_TOKEN).exists());
    // The service no longer takes the token.
    let access = token["accessToken"].as_str().unwrap();
    let request = format!(
        "GET /federation/credentials?role_name=ReadOnly&account_id=111111111111 HTTP/1.0\r\nx-amz-sso_bearer_token: {access}\r\n\r\n"
    );
    let answer = raw_http(&w.fake.url(), &request);
    assert!(answer.starts_with("HTTP/1.0 401") || answer.starts_with("HTTP/1.1 401"), "{answer}");
    fails(
        &w.awsenv(&["sso", "credentials", DEV_ROLE, "--no-sign-in"]),
        4,
        &["not signed in", "awsenv sso login corp"],
    );
    let again = w.awsenv(&["sso", "logout", "corp"]);
    ok(&again);
    assert!(stderr(&again).contains("not signed in"), "{}", show(&again));
}

fn raw_http(url: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_denied_sign_in_fails_in_both_flows() {
    let w = world();
    w.fake.configure(r#"{"deny": true}"#);
    fails_after_sign_in(&w.awsenv(&["sso", "login", "corp"]), 5, &["sign-in to corp was denied"]);
    fails_after_sign_in(&device_login(&w, &[]), 5, &["sign-in to corp was denied"]);
    assert!(!w.cache_file(CORP_TOKEN).exists());
}

#[test]
fn a_sign_in_nobody_completes_times_out() {
    let mut w = world();
    w.sandbox.set_env("FAKE_BROWSER_MODE", "ignore");
    w.sandbox.set_env("AWSENV_SSO_TIMEOUT", "2");
    let started = Instant::now();
    fails_after_sign_in(&w.awsenv(&["sso", "login", "corp"]), 4, &["timed out after 2s", "--device-code"]);
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(!w.cache_file(CORP_TOKEN).exists());
}

#[test]
fn without_a_browser_or_a_terminal_the_error_names_the_command() {
    let mut w = world();
    w.sandbox.remove_env("BROWSER");
    fails(&w.awsenv(&["sso", "login", "corp"]), 4, &["needs a browser", "awsenv sso login corp"]);
    fails(&w.awsenv(&["sso", "credentials", DEV_ROLE]), 4, &["needs a browser", "awsenv sso login corp"]);
    assert_eq!(w.fake.count("RegisterClient"), 0);
}

#[test]
fn an_ended_sign_in_with_an_expired_registration_asks_for_a_login() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let mut token = w.token();
    token["expiresAt"] = rfc3339_in(-60).into();
    token["registrationExpiresAt"] = rfc3339_in(-30).into();
    w.write_token(&token);
    fails(
        &w.awsenv(&["sso", "credentials", DEV_ROLE, "--no-sign-in"]),
        4,
        &["client registration has expired", "awsenv sso login corp"],
    );
    assert_eq!(
        w.fake.calls()["grantTypes"].get("refresh_token"),
        None,
        "no refresh with an expired registration"
    );
    // Allowed to, it signs in again.
    ok(&w.awsenv(&["sso", "credentials", DEV_ROLE]));
    assert_eq!(browser_launches(&w.sandbox).len(), 2);
}

#[test]
fn accounts_are_listed_by_name_and_cached_briefly() {
    let w = world();
    fails(&w.awsenv(&["sso", "accounts", "corp"]), 4, &["not signed in", "awsenv sso login corp"]);
    // Two sessions in the file (corp, and the legacy profile's start URL): one must be named.
    fails(&w.awsenv(&["sso", "accounts"]), 2, &["name the session", "corp", "legacy"]);
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let out = w.awsenv(&["sso", "accounts", "corp", "--names"]);
    ok(&out);
    assert_eq!(
        stdout(&out),
        "corp/111111111111/ReadOnly\ncorp/111111111111/Admin\ncorp/222222222222/ReadOnly\n"
    );
    let out = w.awsenv(&["sso", "accounts", "corp"]);
    ok(&out);
    assert!(stdout(&out).contains("corp/222222222222/ReadOnly  prod <prod@example.com>"), "{}", show(&out));
    assert_eq!(w.fake.count("ListAccounts"), 1, "the second listing came from the cache");
    ok(&w.awsenv(&["sso", "accounts", "corp", "--refresh"]));
    assert_eq!(w.fake.count("ListAccounts"), 2);
    // Every name it lists is usable; one it does not is refused.
    ok(&w.awsenv(&["sso", "credentials", "corp/111111111111/Admin"]));
    fails(
        &w.awsenv(&["sso", "credentials", "corp/222222222222/Admin"]),
        5,
        &["no access", "corp/222222222222/Admin"],
    );
}

#[test]
fn an_sso_profile_is_an_account_of_the_broker() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let before = w.fake.count("GetRoleCredentials");
    // ec2switch in bash, then credential-process twice: one GetRoleCredentials, from the cache after.
    let script = format!(
        "{}\nec2switch dev || exit 91\necho SESSION=$AWSENV_SESSION\necho LABEL=$MY_AWS_SET_FOR\necho KEY=$AWS_ACCESS_KEY_ID",
        common::init_line(common::Shell::Bash)
    );
    let out = w.sandbox.run_shell(common::Shell::Bash, &script);
    assert!(out.status.success(), "{}", show(&out));
    let text = stdout(&out);
    assert!(text.contains("SESSION=sso\n") && text.contains("LABEL=dev-SSO\n"), "{text}");
    for _ in 0..2 {
        let out = w.awsenv(&["credential-process", "dev"]);
        ok(&out);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let key = text.lines().find_map(|l| l.strip_prefix("KEY=")).unwrap();
        assert_eq!(doc["AccessKeyId"], key, "the cached role credentials");
    }
    assert_eq!(w.fake.count("GetRoleCredentials") - before, 1, "one call for the shell and both consumers");
    assert_eq!(w.fake.count("CreateToken"), 1, "no new sign-in");
}

#[test]
fn config_mistakes_are_one_line_naming_the_file() {
    let sandbox = Sandbox::new(None);
    let aws = sandbox.home().join(".aws");
    fs::create_dir_all(&aws).unwrap();
    let config = aws.join("config");
    let run = |text: &str, args: &[&str]| {
        fs::write(&config, text).unwrap();
        output_within(sandbox.awsenv().args(args), LIMIT)
    };
    let session = format!("[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n");
    let file = config.to_str().unwrap();
    fails(
        &run("[sso-session corp]\nsso_region = us-east-1\n", &["sso", "login", "corp"]),
        3,
        &["[sso-session corp]", file, "sso_start_url and sso_region"],
    );
    fails(&run(&session, &["sso", "login", "other"]), 3, &["no [sso-session other]", file]);
    let conflicting = format!(
        "{session}[profile p]\nsso_session = corp\nsso_region = eu-west-1\nsso_account_id = 111111111111\nsso_role_name = R\n"
    );
    fails(&run(&conflicting, &["sso", "credentials", "p"]), 3, &["profile p", "sso_region differs"]);
    let no_role = format!("{session}[profile p]\nsso_session = corp\nsso_account_id = 111111111111\n");
    fails(&run(&no_role, &["sso", "credentials", "p"]), 3, &["profile p", "sso_role_name"]);
    fails(&run(&session, &["sso", "credentials", "corp/1234/R"]), 3, &["12 digits"]);
    let device = format!("{session}sso_use_device_code = maybe\n");
    fails(&run(&device, &["sso", "login"]), 3, &["sso_use_device_code must be true or false"]);
    fails(&run("", &["sso", "login"]), 3, &["no [sso-session NAME] section", file]);
    // Nothing was written.
    assert!(!aws.join("sso").exists());
}

#[test]
fn a_listed_role_is_an_account_by_name_in_every_shell_and_renews_without_a_browser() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    let name = "corp/111111111111/Admin";
    // Not listed yet: awsenv accounts knows only the profiles.
    let out = w.awsenv(&["accounts", "--names"]);
    ok(&out);
    assert!(!stdout(&out).contains(name), "{}", show(&out));
    ok(&w.awsenv(&["sso", "accounts", "corp"]));
    let out = w.awsenv(&["accounts", "--names"]);
    ok(&out);
    assert!(stdout(&out).lines().any(|line| line == name), "{}", show(&out));
    // Short role credentials, so that the wrapper renews them on its next call.
    w.fake.configure(r#"{"role_ttl": 600}"#);
    let launches = browser_launches(&w.sandbox).len();
    for shell in common::Shell::ALL {
        let before = w.fake.count("GetRoleCredentials");
        let script = match shell {
            common::Shell::Fish => format!(
                "{}\nec2switch {name}; or exit 91\necho ACCOUNT=$AWSENV_ACCOUNT\necho LABEL=$MY_AWS_SET_FOR\n\
                 echo KEY=$AWS_ACCESS_KEY_ID\necho PROMPT=(awsenv_prompt)\nec2now\n\
                 echo COMPLETE=(__awsenv_accounts | string match 'corp/*' | string join ' ')\n\
                 AWSENV_REFRESH_WINDOW=1000 aws sts get-caller-identity --query Arn --output text; or exit 92\n\
                 echo RENEWED=$AWS_ACCESS_KEY_ID",
                common::init_line(shell)
            ),
            _ => format!(
                "{}\nec2switch {name} || exit 91\necho ACCOUNT=$AWSENV_ACCOUNT\necho LABEL=$MY_AWS_SET_FOR\n\
                 echo KEY=$AWS_ACCESS_KEY_ID\n__awsenv_prompt_update\necho \"PROMPT=$AWSENV_PROMPT\"\nec2now\n\
                 AWSENV_REFRESH_WINDOW=1000 aws sts get-caller-identity --query Arn --output text || exit 92\n\
                 echo RENEWED=$AWS_ACCESS_KEY_ID{}",
                common::init_line(shell),
                if shell == common::Shell::Bash {
                    "\n__awsenv_complete_accounts corp/; echo \"COMPLETE=${COMPREPLY[*]}\""
                } else {
                    ""
                }
            ),
        };
        let out = w.sandbox.run_shell(shell, &script);
        assert!(out.status.success(), "{}: {}", shell.name(), show(&out));
        let text = stdout(&out);
        let value = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{}: no {key} in {text}", shell.name()))
                .to_owned()
        };
        assert_eq!(value("ACCOUNT"), name, "{}", shell.name());
        assert_eq!(value("LABEL"), format!("{name}-SSO"), "{}", shell.name());
        let prompt = value("PROMPT");
        assert!(
            prompt.starts_with(&format!("(aws:{name}+")) && prompt.trim_end().ends_with("m*)"),
            "{}: the prompt marks the renewable session: {prompt:?}",
            shell.name()
        );
        assert!(text.contains("Renewed with no sign-in or code for"), "{}: ec2now: {text}", shell.name());
        assert!(
            text.contains("assumed-role/Admin/"),
            "{}: the aws CLI ran as the role: {text}",
            shell.name()
        );
        assert_ne!(value("RENEWED"), value("KEY"), "{}: the wrapper renewed the credentials", shell.name());
        // ec2switch uses the credentials the previous shell's wrapper renewed, if any.
        let calls = w.fake.count("GetRoleCredentials") - before;
        assert!((1..=2).contains(&calls), "{}: {calls} GetRoleCredentials calls", shell.name());
        if shell != common::Shell::Zsh {
            let complete = value("COMPLETE");
            for listed in ["corp/111111111111/ReadOnly", name, "corp/222222222222/ReadOnly"] {
                assert!(
                    complete.split(' ').any(|c| c == listed),
                    "{}: {listed} in {complete:?}",
                    shell.name()
                );
            }
        }
    }
    assert_eq!(browser_launches(&w.sandbox).len(), launches, "no browser after the sign-in");
    assert_eq!(w.fake.count("CreateToken"), 1, "one sign-in for everything");
    // A name of an unknown session is one clear line.
    let out = w.awsenv(&["switch", "--shell", "bash", "nosuch/111111111111/Admin"]);
    fails(&out, 3, &["nosuch/111111111111/Admin", "sso-session nosuch"]);
}

#[test]
fn the_aws_cli_gets_an_sso_role_through_credential_process_and_serve() {
    let w = world();
    ok(&w.awsenv(&["sso", "login", "corp"]));
    // A credential_process profile naming the role by its SESSION/ACCOUNT_ID/ROLE name.
    let config = w.sandbox.home().join(".aws/config");
    let before = fs::read_to_string(&config).unwrap();
    // awsenv is on the sandbox's PATH.
    fs::write(
        &config,
        format!("{before}\n[profile viaproc]\ncredential_process = awsenv credential-process {DEV_ROLE}\n"),
    )
    .unwrap();
    let caller = |cmd: &mut std::process::Command| {
        cmd.args([
            "sts",
            "get-caller-identity",
            "--region",
            "us-east-1",
            "--output",
            "text",
            "--query",
            "Arn",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
        output_within(cmd, LIMIT)
    };
    let calls = w.fake.count("GetRoleCredentials");
    for _ in 0..2 {
        let out = caller(w.sandbox.command("aws").args(["--profile", "viaproc"]));
        ok(&out);
        assert!(stdout(&out).contains("assumed-role/ReadOnly/"), "{}", show(&out));
    }
    assert_eq!(w.fake.count("GetRoleCredentials") - calls, 1, "the second aws call used awsenv's cache");
    // serve: the metadata endpoint hands the same role to the aws CLI.
    let mut cmd = w.sandbox.awsenv();
    cmd.args(["serve", "dev", "--port", "0"]).stdin(Stdio::null());
    let serve = common::serve::Serve::start(&mut cmd);
    let endpoint = format!("http://127.0.0.1:{}/", serve.port);
    let out = caller(
        w.sandbox
            .command("aws")
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
    );
    ok(&out);
    assert!(stdout(&out).contains("assumed-role/ReadOnly/"), "{}\n{}", show(&out), serve.log());
    assert_eq!(browser_launches(&w.sandbox).len(), 1, "only the first sign-in opened a browser");
    assert_eq!(w.fake.count("CreateToken"), 1);
}
