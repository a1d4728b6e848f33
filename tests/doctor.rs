//! `awsenv doctor` in real bash, zsh and fish: a healthy setup gives no warn or fail; each setup
//! broken on purpose gives the matching warn or fail with its fix (an alias `aws`, init before
//! compinit, a theme that replaces the prompt, a 0777 store, a clock 10 minutes off, an endpoint
//! that accepts and never answers, a broken CA bundle, a rotated key); `--json` says the same as
//! the text. AWS is moto, or a small server of the test's own on 127.0.0.1, reached through
//! AWS_ENDPOINT_URL.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::thread;
use std::time::{Duration, Instant};

use common::{Moto, Sandbox, Shell, fresh_code, init_line, stderr};
use serde_json::Value;

const ACCOUNTS_JSON: &str = r#"{"work": "arn:aws:iam::123456789012:"}"#;

/// One `awsenv doctor` run: its exit code, its text, and the same checks as JSON.
struct Doctor {
    shell: Shell,
    rc: i32,
    text: String,
    json: Value,
    /// Both runs' stderr and the script, for failure messages.
    context: String,
}

impl Doctor {
    /// The check named `name` in `section`.
    #[track_caller]
    fn check(&self, section: &str, name: &str) -> &Value {
        let checks = self.json["checks"].as_array().expect("checks");
        checks
            .iter()
            .find(|c| c["section"] == section && c["name"] == name)
            .unwrap_or_else(|| panic!("[{}] no check {section}/{name}\n{}", self.shell, self.context))
    }

    /// Asserts that `section`/`name` has `status`, a message holding `words`, and (for a warn or
    /// fail) a fix holding `fix`.
    #[track_caller]
    fn expect(&self, section: &str, name: &str, status: &str, words: &str, fix: &str) {
        let check = self.check(section, name);
        let message = check["message"].as_str().unwrap_or_default();
        assert_eq!(check["status"], status, "[{}] {section}/{name}: {check}\n{}", self.shell, self.context);
        assert!(
            message.contains(words),
            "[{}] {section}/{name} says {message:?}\n{}",
            self.shell,
            self.context
        );
        let given = check["fix"].as_str().unwrap_or_default();
        if status == "warn" || status == "fail" {
            assert!(
                given.contains(fix),
                "[{}] {section}/{name}'s fix is {given:?}\n{}",
                self.shell,
                self.context
            );
        }
    }

    /// Asserts that no check warns or fails, and that doctor exits 0.
    #[track_caller]
    fn expect_healthy(&self) {
        let checks = self.json["checks"].as_array().expect("checks");
        let bad: Vec<&Value> =
            checks.iter().filter(|c| c["status"] == "warn" || c["status"] == "fail").collect();
        assert!(
            bad.is_empty(),
            "[{}] warn or fail in a healthy setup: {bad:?}\n{}",
            self.shell,
            self.context
        );
        assert_eq!(self.rc, 0, "[{}] exit code\n{}", self.shell, self.context);
        assert_eq!(self.json["ok"], true, "[{}]\n{}", self.shell, self.context);
    }
}

/// The lines the text must have for the JSON's checks, in order: `  STATUS  NAME  MESSAGE`
/// (names padded to the longest), then `fix: ...` (or `to check: ...`) under it.
#[track_caller]
fn assert_text_matches_json(text: &str, json: &Value, context: &str) {
    let checks = json["checks"].as_array().unwrap_or_else(|| panic!("no checks in the JSON\n{context}"));
    assert!(!checks.is_empty(), "no checks\n{context}");
    let width = checks.iter().map(|c| c["name"].as_str().unwrap().chars().count()).max().unwrap();
    let mut expected = Vec::new();
    let mut section = "";
    for check in checks {
        let name = check["name"].as_str().unwrap();
        let status = check["status"].as_str().unwrap();
        if check["section"] != section {
            section = check["section"].as_str().unwrap();
            expected.push(section.to_owned());
        }
        expected.push(format!("  {status:<4}  {name:<width$}  {}", check["message"].as_str().unwrap()));
        if let Some(fix) = check["fix"].as_str() {
            let word = if status == "skip" { "to check" } else { "fix" };
            expected.push(format!("        {:<width$}  {word}: {fix}", ""));
        }
        if status == "warn" || status == "fail" {
            assert!(
                check["fix"].as_str().is_some_and(|f| !f.is_empty()),
                "a {status} without a fix: {check}"
            );
        }
    }
    // The two runs are moments apart: times left and timings may differ in their digits.
    let digits = |line: &str| {
        let mut out = String::new();
        for c in line.chars() {
            match c {
                '0'..='9' if out.ends_with('#') => {}
                '0'..='9' => out.push('#'),
                _ => out.push(c),
            }
        }
        out.replace("#.# s", "# ms")
    };
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() == expected.len() + 2,
        "text has {} lines, JSON {} checks\n{context}",
        lines.len(),
        checks.len()
    );
    assert!(lines[0].starts_with("awsenv doctor, awsenv "), "{context}");
    for (line, want) in lines[1..].iter().zip(&expected) {
        assert_eq!(digits(line), digits(want), "text and JSON differ\n{context}");
    }
    let count = |s: &str| checks.iter().filter(|c| c["status"] == s).count();
    let summary = format!(
        "{} ok, {} warn, {} fail, {} skipped",
        count("ok"),
        count("warn"),
        count("fail"),
        count("skip")
    );
    assert_eq!(lines[lines.len() - 1], summary, "{context}");
    assert_eq!(json["summary"]["fail"], count("fail"), "{context}");
}

/// Runs `setup` in `shell` after init (zsh: after compinit, unless `setup` runs it itself), then
/// `awsenv doctor ARGS` and `awsenv doctor --json ARGS` through the shell's awsenv function.
fn doctor_in(sb: &Sandbox, shell: Shell, before_init: &str, setup: &str, args: &str) -> Doctor {
    let status = if shell == Shell::Fish { "$status" } else { "$?" };
    let compinit = if shell == Shell::Zsh && !before_init.contains("compinit") && !setup.contains("compinit")
    {
        "autoload -Uz compinit && compinit -u\n"
    } else {
        ""
    };
    let script = format!(
        "{compinit}{before_init}\n{}\n{setup}\nawsenv doctor {args}\necho \"@@rc={status}\"\nawsenv \
            doctor --json {args}\necho @@end\n",
        init_line(shell),
    );
    let started = Instant::now();
    let out = sb.run_shell(shell, &script);
    let took = started.elapsed();
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    let context = format!(
        "--- script ---\n{script}\n--- stdout ---\n{all}\n--- stderr ---\n{}\n(took {took:?})",
        stderr(&out)
    );
    let (text, rest) = all.split_once("@@rc=").unwrap_or_else(|| panic!("[{shell}] no exit code\n{context}"));
    let (rc, json) = rest.split_once('\n').unwrap_or_else(|| panic!("[{shell}]\n{context}"));
    let json =
        json.strip_suffix("@@end\n").unwrap_or_else(|| panic!("[{shell}] the script did not end\n{context}"));
    let rc: i32 = rc.trim().parse().unwrap_or_else(|_| panic!("[{shell}] exit code {rc:?}\n{context}"));
    let json: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("[{shell}] --json is not JSON: {e}\n{context}"));
    assert_text_matches_json(text, &json, &context);
    assert_eq!(rc == 0, json["ok"] == true, "[{shell}] exit code and ok disagree\n{context}");
    assert_eq!(
        rc == 0,
        json["summary"]["fail"] == 0,
        "[{shell}] exit {rc} with fails {}\n{context}",
        json["summary"]["fail"]
    );
    Doctor { shell, rc, text: text.to_owned(), json, context }
}

/// A sandbox whose account `work` has moto's user alice's keys and an MFA session.
fn healthy(moto: &Moto, shell: Shell) -> Sandbox {
    moto.reset();
    let keys = moto.create_user("alice");
    let sb = Sandbox::new(Some(moto));
    sb.add_account("work", &keys.0, &keys.1, Some("alice"));
    sb.write_accounts_json(ACCOUNTS_JSON);
    let script = format!(
        "{}\n{}\nec2switch work && ec2mfa {} && ec2now",
        if shell == Shell::Zsh { "autoload -Uz compinit && compinit -u" } else { "" },
        init_line(shell),
        fresh_code()
    );
    let out = sb.run_shell(shell, &script);
    assert!(out.status.success(), "[{shell}] ec2mfa failed: {}", stderr(&out));
    sb
}

/// The session setup of `healthy`, for a doctor script: switch to work's cached session.
const SWITCH: &str = "ec2switch work";

#[test]
fn a_healthy_setup_gives_no_warn_or_fail_and_json_matches_the_text() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let doctor = doctor_in(&sb, shell, "", SWITCH, "");
        doctor.expect_healthy();
        doctor.expect("shell", "init", "ok", &format!("loaded in {shell}"), "");
        doctor.expect("shell", "aws", "ok", "awsenv's wrapper", "");
        let prompt =
            if shell == Shell::Fish { "fish_right_prompt shows the segment" } else { "the hook is in" };
        doctor.expect("shell", "prompt", "ok", prompt, "");
        doctor.expect("shell", "completion", "ok", "complete on Tab", "");
        doctor.expect("store", "accounts", "ok", "1: work from", "");
        doctor.expect("cache", "work", "ok", "MFA session, ", "");
        let left = doctor.check("cache", "work")["message"].as_str().unwrap().to_owned();
        assert!(left.ends_with("3h 59m left") || left.ends_with("4h 00m left"), "[{shell}] {left}");
        doctor.expect("cache", "locks", "ok", "none held", "");
        doctor.expect("environment", "keys", "ok", "awsenv's session of work", "");
        doctor.expect("aws", "endpoint", "ok", &format!("{} (AWS_ENDPOINT_URL)", moto.url()), "");
        doctor.expect("aws", "call", "ok", "answered HTTP", "");
        doctor.expect("aws", "clock", "ok", "the endpoint's", "");
        assert!(doctor.text.contains("\nshell\n  ok    init"), "{}", doctor.context);
        // --offline skips what needs the network, and says so.
        let offline = doctor_in(&sb, shell, "", SWITCH, "--offline");
        offline.expect("aws", "network", "skip", "--offline", "");
        assert!(offline.json["checks"].as_array().unwrap().iter().all(|c| c["name"] != "call"));
    }
}

#[test]
fn doctor_outside_the_shell_function_says_the_shell_was_not_checked() {
    let moto = Moto::start();
    let sb = healthy(&moto, Shell::Bash);
    let out = sb.awsenv().args(["doctor", "--json"]).output().expect("run awsenv");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let check = &json["checks"][0];
    assert_eq!(
        (check["section"].as_str(), check["status"].as_str()),
        (Some("shell"), Some("skip")),
        "{json}"
    );
    assert!(check["message"].as_str().unwrap().contains("not checked"), "{check}");
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert_eq!(stderr(&out), "");
}

#[test]
fn an_alias_aws_that_bypasses_the_wrapper_fails() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        // Interactive bash expands aliases; a script must ask for it.
        let aliases = if shell == Shell::Bash { "shopt -s expand_aliases\n" } else { "" };
        let alias = format!("{aliases}alias aws='command aws --no-cli-pager'");
        let doctor = doctor_in(&sb, shell, "", &alias, "--offline");
        let words = if shell == Shell::Fish { "replaced the wrapper" } else { "an alias aws comes before" };
        let fix = if shell == Shell::Fish { "remove that aws function" } else { "unalias aws" };
        doctor.expect("shell", "aws", "fail", words, fix);
        assert_eq!(doctor.rc, 1, "{}", doctor.context);
        if shell != Shell::Fish {
            // An alias whose first word is aws still reaches the wrapper.
            let alias = format!("{aliases}alias aws='AWS_PAGER= aws --no-cli-pager'");
            let fine = doctor_in(&sb, shell, "", &alias, "--offline");
            fine.expect("shell", "aws", "ok", "calls awsenv's wrapper", "");
        }
    }
}

#[test]
fn zsh_init_before_compinit_fails() {
    Shell::Zsh.require();
    let moto = Moto::start();
    let sb = healthy(&moto, Shell::Zsh);
    let doctor = doctor_in(&sb, Shell::Zsh, "", "autoload -Uz compinit && compinit -u", "--offline");
    doctor.expect("shell", "completion", "fail", "ran before compinit", "after compinit");
    let without = doctor_in(&sb, Shell::Zsh, "", "true", "--offline");
    // doctor_in runs compinit first unless the setup names it: here it does not, so it did run.
    without.expect("shell", "completion", "ok", "complete on Tab", "");
}

#[test]
fn a_theme_that_replaces_the_prompt_after_init_fails() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let theme = match shell {
            Shell::Bash => "__theme() { PS1='\\u\\$ '; }\nPROMPT_COMMAND+=$'\\n'__theme",
            Shell::Zsh => "__theme() { PS1='%n%# '; }\nadd-zsh-hook precmd __theme",
            Shell::Fish => "function fish_right_prompt; echo theme; end",
        };
        let doctor = doctor_in(&sb, shell, "", theme, "--offline");
        let words = match shell {
            Shell::Fish => "fish_right_prompt was redefined",
            _ => "__theme runs after awsenv's prompt hook and sets PS1",
        };
        doctor.expect("shell", "prompt", "fail", words, "after the prompt theme");
        if shell == Shell::Bash {
            let replaced = doctor_in(&sb, shell, "", "PROMPT_COMMAND='history -a'", "--offline");
            replaced.expect(
                "shell",
                "prompt",
                "fail",
                "no longer in PROMPT_COMMAND",
                "after the prompt theme",
            );
        }
    }
}

#[test]
fn a_store_open_to_everyone_fails_with_its_fix() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        fs::set_permissions(sb.store(), fs::Permissions::from_mode(0o777)).expect("chmod");
        let doctor = doctor_in(&sb, shell, "", "", "--offline");
        let store = sb.store();
        doctor.expect(
            "store",
            "store",
            "fail",
            "writable by others (mode 0777)",
            &format!("chmod go-w {}", store.display()),
        );
        assert_eq!(doctor.rc, 1);
        let mode = fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o777, "doctor changed the store's mode");
    }
}

/// A server on 127.0.0.1 that answers every request as STS answers an unsigned call, with a
/// `Date` `offset` seconds from now.
fn skewed_server(offset: i64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer_unsigned(stream, offset));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn answer_unsigned(mut stream: TcpStream, offset: i64) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = Vec::new();
    let mut buf = [0; 4096];
    // The head, then as many body bytes as Content-Length says.
    let (head_end, length) = loop {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..at]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("a request with a body has its length");
            break (at + 4, length);
        }
    };
    while request.len() < head_end + length {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&request[..head_end]);
    assert!(head.starts_with("POST / HTTP/1.1\r\n"), "unexpected request {head:?}");
    assert!(!head.to_ascii_lowercase().contains("authorization"), "doctor's call is unsigned: {head:?}");
    let body = &request[head_end..];
    assert_eq!(body, b"Action=GetCallerIdentity&Version=2011-06-15");
    let date = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = date.format(format).unwrap();
    let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>\
               <Message>Request is missing Authentication Token</Message></Error>\
               <RequestId>1</RequestId></ErrorResponse>";
    let answer = format!(
        "HTTP/1.1 403 Forbidden\r\nDate: {date}\r\nx-amzn-RequestId: 1\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        xml.len()
    );
    let _ = stream.write_all(answer.as_bytes());
}

#[test]
fn a_clock_ten_minutes_off_fails_and_two_minutes_warns() {
    let moto = Moto::start();
    let behind = skewed_server(-600);
    let close = skewed_server(120);
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let setup = format!("{SWITCH}\n{}", export(shell, "AWS_ENDPOINT_URL", &behind));
        let doctor = doctor_in(&sb, shell, "", &setup, "");
        doctor.expect("aws", "call", "ok", "answered HTTP 403", "");
        doctor.expect("aws", "clock", "fail", "ahead of the endpoint's: STS refuses", "timedatectl");
        let message = doctor.check("aws", "clock")["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("10m ") || message.starts_with("9m 59s"), "[{shell}] {message}");
        let setup = format!("{SWITCH}\n{}", export(shell, "AWS_ENDPOINT_URL", &close));
        let doctor = doctor_in(&sb, shell, "", &setup, "");
        doctor.expect("aws", "clock", "warn", "behind the endpoint's", "timedatectl");
        assert_eq!(doctor.rc, 0, "a warning alone exits 0\n{}", doctor.context);
    }
}

#[test]
fn an_endpoint_from_the_config_file_is_the_one_checked() {
    // The SDK takes endpoint_url from the config file's profile when no variable names one:
    // doctor must check that endpoint, not the region's default.
    let moto = Moto::start();
    let behind = skewed_server(-600);
    let sb = healthy(&moto, Shell::Bash);
    let config = sb.home().join(".aws/config");
    let before = fs::read_to_string(&config).unwrap_or_default();
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, format!("{before}\n[default]\nendpoint_url = {behind}\n")).unwrap();
    let out = sb
        .awsenv()
        .args(["doctor", "--json"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json is not JSON: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let check = |name: &str| {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["section"] == "aws" && c["name"] == name)
            .unwrap_or_else(|| panic!("no aws/{name} in {json}"))
            .clone()
    };
    let endpoint = check("endpoint");
    let message = endpoint["message"].as_str().unwrap();
    assert_eq!(endpoint["status"], "ok", "{endpoint}");
    assert!(message.starts_with(&behind) && message.contains("endpoint_url in "), "{message}");
    assert!(message.contains(&config.display().to_string()), "names the file: {message}");
    assert_eq!(check("clock")["status"], "fail", "the configured endpoint was probed: {json}");
    // A variable still wins over the file.
    let out = sb.awsenv().args(["doctor", "--json", "--offline"]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let network = json["checks"].as_array().unwrap().iter().find(|c| c["name"] == "network").unwrap().clone();
    assert!(network["message"].as_str().unwrap().contains("AWS_ENDPOINT_URL"), "{network}");
}

#[test]
fn an_endpoint_that_accepts_and_never_answers_fails_in_bounded_time() {
    let moto = Moto::start();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    // Accepts every connection and keeps it open, silent.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let setup = format!(
            "{SWITCH}\n{}\n{}",
            export(shell, "AWS_ENDPOINT_URL", &url),
            export(shell, "AWSENV_TIMEOUT", "1")
        );
        let started = Instant::now();
        let doctor = doctor_in(&sb, shell, "", &setup, "");
        let took = started.elapsed();
        doctor.expect("aws", "tcp", "ok", "connected to 127.0.0.1", "");
        doctor.expect("aws", "call", "fail", "no answer within 1s", "AWSENV_TIMEOUT");
        assert_eq!(doctor.rc, 1);
        // Two doctor runs of about one second each, plus the shell and init.
        assert!(took < Duration::from_secs(15), "[{shell}] took {took:?}\n{}", doctor.context);
    }
}

#[test]
fn a_broken_ca_bundle_fails_and_a_tls_endpoint_needs_its_ca() {
    let moto = Moto::start();
    let tls = Moto::start_tls();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let bundle = sb.root().join("broken.pem");
        fs::write(&bundle, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
            .unwrap();
        let setup = format!("{SWITCH}\n{}", export(shell, "AWS_CA_BUNDLE", bundle.to_str().unwrap()));
        let doctor = doctor_in(&sb, shell, "", &setup, "");
        doctor.expect("aws", "ca bundle", "fail", &format!("AWS_CA_BUNDLE {}", bundle.display()), "PEM file");
        assert_eq!(doctor.rc, 1);

        // An https endpoint whose CA is not trusted fails at TLS, and passes with the CA.
        let untrusted = format!("{SWITCH}\n{}", export(shell, "AWS_ENDPOINT_URL", &tls.url()));
        let doctor = doctor_in(&sb, shell, "", &untrusted, "");
        doctor.expect("aws", "tls", "fail", "certificate", "AWS_CA_BUNDLE");
        let trusted = format!("{untrusted}\n{}", export(shell, "AWS_CA_BUNDLE", tls.ca().to_str().unwrap()));
        let doctor = doctor_in(&sb, shell, "", &trusted, "");
        doctor.expect("aws", "ca bundle", "ok", "1 certificate loads", "");
        doctor.expect("aws", "tls", "ok", "certificate of 127.0.0.1 trusted", "");
        doctor.expect("aws", "call", "ok", "answered HTTP", "");
        doctor.expect_healthy();
    }
}

#[test]
fn a_session_made_with_a_rotated_key_warns() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        // The key is rotated: work's store file now holds a new key of alice's.
        let new_key = moto.boto3_admin(
            "print(client('iam').create_access_key(UserName='alice')['AccessKey']['AccessKeyId'])",
            &[],
        );
        fs::write(sb.store().join("work.access_key"), format!("{}\n", new_key.trim())).unwrap();
        let doctor = doctor_in(&sb, shell, "", "", "--offline");
        doctor.expect("cache", "work", "warn", "made from other credentials than work's now", "ec2mfa work");
        assert!(!doctor.text.contains(new_key.trim()), "doctor printed an access key id\n{}", doctor.context);
    }
}

#[test]
fn other_tools_variables_beside_awsenvs_keys_warn() {
    let moto = Moto::start();
    for shell in Shell::ALL {
        shell.require();
        let sb = healthy(&moto, shell);
        let setup = format!(
            "{SWITCH}\n{}\n{}\n{}",
            export(shell, "AWS_PROFILE", "dev"),
            export(shell, "AWS_VAULT", "dev"),
            export(shell, "AWSENV_TIMEOUT", "soon")
        );
        let doctor = doctor_in(&sb, shell, "", &setup, "--offline");
        doctor.expect(
            "environment",
            "AWS_PROFILE",
            "warn",
            "AWS_PROFILE=dev is set beside awsenv's keys",
            "unset AWS_PROFILE",
        );
        doctor.expect("environment", "aws-vault", "warn", "(AWS_VAULT)", "exit the aws-vault subshell");
        doctor.expect(
            "environment",
            "AWSENV_TIMEOUT",
            "fail",
            "AWSENV_TIMEOUT must be",
            "correct AWSENV_TIMEOUT",
        );
    }
}

/// `export NAME='value'` in `shell`'s syntax.
fn export(shell: Shell, name: &str, value: &str) -> String {
    assert!(!value.contains('\''), "{value:?}");
    match shell {
        Shell::Fish => format!("set -gx {name} '{value}'"),
        _ => format!("export {name}='{value}'"),
    }
}

#[test]
fn doctor_never_prints_a_secret() {
    let moto = Moto::start();
    let sb = healthy(&moto, Shell::Bash);
    let secret = fs::read_to_string(sb.store().join("work.secret_key")).unwrap();
    let doctor = doctor_in(&sb, Shell::Bash, "", SWITCH, "");
    let session = fs::read_dir(sb.store().join(".awsenv"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .map(|e| fs::read_to_string(e.path()).unwrap())
        .expect("a cached session");
    let session: Value = serde_json::from_str(&session).unwrap();
    for value in [
        secret.trim(),
        session["secret_access_key"].as_str().unwrap(),
        session["session_token"].as_str().unwrap(),
    ] {
        assert!(!doctor.text.contains(value), "doctor printed a secret\n{}", doctor.context);
        assert!(!doctor.json.to_string().contains(value), "doctor printed a secret\n{}", doctor.context);
    }
}

#[test]
fn a_held_lock_is_reported_with_its_holder_and_doctor_does_not_wait_for_it() {
    let moto = Moto::start();
    let sb = healthy(&moto, Shell::Bash);
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(sb.store().join(".awsenv/work.lock"))
        .expect("ec2mfa left work's lock file");
    lock.lock().expect("lock work");
    let started = Instant::now();
    let doctor = doctor_in(&sb, Shell::Bash, "", SWITCH, "--offline");
    assert!(started.elapsed() < Duration::from_secs(15), "doctor waited for the lock\n{}", doctor.context);
    let check = doctor.check("cache", "lock");
    let message = check["message"].as_str().unwrap();
    let holder = format!("the lock of work is held by pid {} (", std::process::id());
    assert!(message.starts_with(&holder), "{check}\n{}", doctor.context);
    // This test process may have run for more than two minutes by now: a warn then, with a fix.
    match check["status"].as_str() {
        Some("ok") => assert!(message.ends_with("renewing it now"), "{check}"),
        Some("warn") => {
            assert!(check["fix"].as_str().unwrap().contains(&format!("kill {}", std::process::id())))
        }
        other => panic!("lock check {other:?}: {check}"),
    }
    drop(lock);
    let doctor = doctor_in(&sb, Shell::Bash, "", SWITCH, "--offline");
    doctor.expect("cache", "locks", "ok", "none held", "");
}
