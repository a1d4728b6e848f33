//! What an adversarial review broke (issue "Hardening"), one test per class of bug, through the
//! real binary, real shells and moto: the metadata endpoint, prompts, file trust, secrets in
//! errors, the credentials file, odd files and odd input.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use common::cache::{cache_dir, cache_file, last_code_file, lock_file};
use common::clock::{now, rfc3339};
use common::process::output_within;
use common::serve::{CREDS_PATH, Serve, TOKEN_HEADER, TOKEN_PATH, TTL_HEADER, raw, request};
use common::world::World;
use common::{MOTO_ACCOUNT_ID, Moto, Sandbox, Shell, assert_success, init_line, show, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(60);

/// [`World::for_aws_cli`] and alice's MFA device.
fn alice_with_device() -> (Moto, Sandbox) {
    let w = World::for_aws_cli();
    w.moto.create_virtual_mfa("alice");
    (w.moto, w.sb)
}

fn run(cmd: &mut Command) -> Output {
    output_within(cmd, LIMIT)
}

fn awsenv(sb: &Sandbox, args: &[&str]) -> Output {
    run(sb.awsenv().args(args))
}

fn mfa(sb: &Sandbox, account: &str, code: &str) -> Output {
    run(sb.awsenv().args(["mfa", "--shell", "bash", account]).env("AWSENV_MFA_CODE", code))
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The error contract: the exit code, nothing on stdout, one `awsenv:` line on stderr holding
/// `needle`; returns that line.
#[track_caller]
fn assert_refused(out: &Output, code: i32, needle: &str) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", show(out));
    assert!(out.stdout.is_empty(), "stdout must be empty\n{}", show(out));
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("awsenv: ")).collect();
    assert_eq!(lines.len(), 1, "one awsenv: line\n{}", show(out));
    assert!(lines[0].contains(needle), "{needle:?} not in {:?}", lines[0]);
    lines[0].to_owned()
}

// ---------------------------------------------------------------------------
// 1, 7, 8, 17: serve
// ---------------------------------------------------------------------------

fn serve(sb: &Sandbox, extra: &[&str]) -> Serve {
    let mut cmd = sb.awsenv();
    cmd.args(["serve", "work", "--port", "0"]).args(extra);
    Serve::start(&mut cmd)
}

fn token_for(port: u16, host: &str) -> String {
    let answer = request(port, "PUT", TOKEN_PATH, &[("Host", host), (TTL_HEADER, "60")]);
    assert_eq!(answer.status, 200, "token with Host {host}: {answer:?}");
    answer.text()
}

#[test]
fn serve_answers_local_metadata_clients_only() {
    let (_moto, sb) = alice_with_device();
    assert_success(&mfa(&sb, "work", "111111"));
    let server = serve(&sb, &[]);
    let port = server.port;
    let local = format!("127.0.0.1:{port}");
    let doc = format!("{CREDS_PATH}work");
    for host in [local.as_str(), "127.0.0.1", &format!("localhost:{port}"), "localhost", "169.254.169.254"] {
        let t = token_for(port, host);
        let answer = request(port, "GET", &doc, &[("Host", host), (TOKEN_HEADER, &t)]);
        assert_eq!(answer.status, 200, "Host {host}: {answer:?}");
    }
    // A page that rebound evil.com to 127.0.0.1 is refused before any work: no token, no document.
    let evil_with_port = format!("evil.com:{port}");
    for host in ["evil.com", evil_with_port.as_str(), "127.0.0.1.nip.io", "169.254.169.254.evil.com"] {
        let answer = request(port, "PUT", TOKEN_PATH, &[("Host", host), (TTL_HEADER, "60")]);
        assert_eq!(answer.status, 403, "token PUT with Host {host}: {answer:?}");
        assert!(answer.body.len() < 100, "no token for Host {host}: {answer:?}");
        let t = token_for(port, &local);
        let answer = request(port, "GET", &doc, &[("Host", host), (TOKEN_HEADER, &t)]);
        assert_eq!(answer.status, 403, "GET with Host {host}: {answer:?}");
        assert!(!answer.text().contains("SecretAccessKey"), "{answer:?}");
    }
    let no_host = raw(port, format!("GET {doc} HTTP/1.0\r\n\r\n").as_bytes(), false).unwrap();
    assert_eq!(no_host.status, 403, "no Host at all: {no_host:?}");
    // Whatever a proxy adds is refused like X-Forwarded-For.
    let t = token_for(port, &local);
    for header in [("Forwarded", "for=10.0.0.1"), ("X-Real-IP", "10.0.0.1"), ("X-Forwarded-For", "10.0.0.1")]
    {
        let answer = request(port, "GET", &doc, &[("Host", &local), (TOKEN_HEADER, &t), header]);
        assert_eq!(answer.status, 403, "{header:?}: {answer:?}");
        let answer = request(port, "PUT", TOKEN_PATH, &[("Host", &local), (TTL_HEADER, "60"), header]);
        assert_eq!(answer.status, 403, "token PUT with {header:?}: {answer:?}");
    }
}

#[test]
fn serve_answers_at_once_while_another_awsenv_holds_the_lock() {
    let (_moto, sb) = alice_with_device();
    assert_success(&mfa(&sb, "work", "111111"));
    // The cached session has 605 s left: served at start, due for renewal 5 s later.
    let entry = cache_file(&sb, "work");
    let mut json: serde_json::Value = serde_json::from_slice(&fs::read(&entry).unwrap()).unwrap();
    let ends = rfc3339(now() + 605);
    json["expiration"] = serde_json::Value::String(ends.clone());
    fs::write(&entry, serde_json::to_vec(&json).unwrap()).unwrap();
    let server = serve(&sb, &[]);
    let port = server.port;
    // Another awsenv holds the account's lock (as a shell waiting at "Enter token" does).
    let lock = fs::OpenOptions::new().write(true).open(lock_file(&sb, "work")).unwrap();
    lock.lock().unwrap();
    thread::sleep(Duration::from_secs(6));
    let local = format!("127.0.0.1:{port}");
    let started = Instant::now();
    for round in 0..70 {
        let t = token_for(port, &local);
        let answer =
            request(port, "GET", &format!("{CREDS_PATH}work"), &[("Host", &local), (TOKEN_HEADER, &t)]);
        assert_eq!(answer.status, 200, "round {round}: {answer:?}\n{}", server.log());
        let doc: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(doc["Expiration"], ends.as_str(), "the cached session, while it is valid");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "70 token+document rounds took {took:?} while the lock was held");
    drop(lock);
}

#[test]
fn serve_is_not_held_up_by_slow_clients() {
    let (_moto, sb) = alice_with_device();
    assert_success(&mfa(&sb, "work", "111111"));
    let server = serve(&sb, &[]);
    let port = server.port;
    // 64 sockets trickling a request head one byte at a time, and some sending blank lines.
    let mut slow: Vec<TcpStream> =
        (0..64).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    for (i, socket) in slow.iter_mut().enumerate() {
        let first: &[u8] = if i % 2 == 0 { b"G" } else { b"\r\n" };
        socket.write_all(first).unwrap();
    }
    let local = format!("127.0.0.1:{port}");
    for _ in 0..20 {
        let started = Instant::now();
        let t = token_for(port, &local);
        let answer =
            request(port, "GET", &format!("{CREDS_PATH}work"), &[("Host", &local), (TOKEN_HEADER, &t)]);
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "a normal client waited {:?}", started.elapsed());
        for socket in &mut slow {
            let _ = socket.write_all(b"\r\n");
        }
    }
    // A head that never completes is cut off within seconds, not hours.
    let mut trickle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let closed = loop {
        if trickle.write_all(b"G").is_err() || started.elapsed() > Duration::from_secs(30) {
            break started.elapsed();
        }
        thread::sleep(Duration::from_millis(500));
    };
    assert!(closed < Duration::from_secs(20), "a trickling head was kept {closed:?}");
}

#[test]
fn serve_speaks_http_as_a_server_must() {
    let (_moto, sb) = alice_with_device();
    assert_success(&mfa(&sb, "work", "111111"));
    let server = serve(&sb, &["--debug"]);
    let port = server.port;
    let local = format!("127.0.0.1:{port}");
    let t = token_for(port, &local);
    let head = request(port, "HEAD", &format!("{CREDS_PATH}work"), &[("Host", &local), (TOKEN_HEADER, &t)]);
    assert_eq!(head.status, 200, "{head:?}");
    assert!(head.body.is_empty(), "a HEAD answer carries no body: {head:?}");
    let twice = format!(
        "PUT {TOKEN_PATH} HTTP/1.1\r\nHost: {local}\r\n{TTL_HEADER}: 60\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(port, twice.as_bytes(), false).unwrap();
    assert_eq!(answer.status, 400, "two Content-Length headers: {answer:?}");
    // Terminal escapes in a request never reach the log raw.
    let _ = raw(
        port,
        format!("GET /\x1b[31mred\x1b]0;title\x07 HTTP/1.1\r\nHost: {local}\r\n\r\n").as_bytes(),
        false,
    );
    let _ = request(port, "GET", "/%1b[31mred", &[("Host", &local)]);
    thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(!log.contains('\x1b') && !log.contains('\x07'), "raw escapes in the log: {log:?}");
    assert!(log.contains("imds"), "--debug logs requests: {log}");
}

// ---------------------------------------------------------------------------
// 2: prompts
// ---------------------------------------------------------------------------

#[test]
fn prompts_show_only_the_characters_of_names() {
    let (_moto, sb) = alice_with_device();
    // Commands run in HOME, the shells' working directory: the names need no slash.
    let pwn = sb.home().join("PWN");
    let bad_role = "arn:aws:iam::1:role/y$(touch PWN1)`touch PWN2`%F{red}\\w".to_owned();
    let bad_expires = "a[$(touch PWN3)]".to_owned();
    let vars = |cmd: &mut Command, expires: &str| {
        cmd.env("AWS_ACCESS_KEY_ID", "ASIAX")
            .env("AWSENV_KEY_ID", "ASIAX")
            .env("AWSENV_ACCOUNT", "work")
            .env("AWSENV_SESSION", "role")
            .env("AWSENV_ROLE", &bad_role)
            .env("AWSENV_EXPIRES", expires)
            .env("TERM", "xterm");
    };
    let in_an_hour = (now() + 3600).to_string();
    for expires in [in_an_hour.as_str(), bad_expires.as_str()] {
        // bash expands PS1 with ${PS1@P} exactly as at a prompt; zsh with print -P, PROMPT_SUBST on.
        let bash = format!("{}\n__awsenv_prompt_hook\nprintf '%s\\n' \"${{PS1@P}}\"", init_line(Shell::Bash));
        let mut cmd = sb.command("bash");
        cmd.args(["--noprofile", "--norc", "-c", &bash]);
        vars(&mut cmd, expires);
        let out = run(&mut cmd);
        assert_success(&out);
        assert!(stdout(&out).starts_with("(aws:work/y?"), "bash prompt: {}", show(&out));
        let zsh = format!(
            "setopt prompt_subst\n{}\nPS1='> '\n__awsenv_prompt_hook\nprint -P -- \"$PS1\"",
            init_line(Shell::Zsh)
        );
        let mut cmd = sb.command("zsh");
        cmd.args(["-f", "-c", &zsh]);
        vars(&mut cmd, expires);
        let out = run(&mut cmd);
        assert_success(&out);
        assert!(stdout(&out).starts_with("(aws:work/y?"), "zsh prompt: {}", show(&out));
        assert!(!stdout(&out).contains("%F"), "zsh prompt: {}", show(&out));
        let mut cmd = sb.command("fish");
        cmd.args(["--no-config", "-c", &format!("{}\nawsenv_prompt", init_line(Shell::Fish))]);
        vars(&mut cmd, expires);
        let out = run(&mut cmd);
        assert_success(&out);
        assert!(stdout(&out).starts_with("(aws:work/y?"), "fish prompt: {}", show(&out));
        for shell in ["bash", "zsh", "fish"] {
            let mut cmd = sb.awsenv();
            cmd.args(["prompt", "--shell", shell]);
            vars(&mut cmd, expires);
            let out = run(&mut cmd);
            assert_success(&out);
            assert!(
                stdout(&out).starts_with("(aws:work/y?"),
                "awsenv prompt --shell {shell}: {}",
                show(&out)
            );
        }
    }
    for n in 1..=3 {
        assert!(!Path::new(&format!("{}{n}", pwn.display())).exists(), "a prompt ran code ({n})");
    }
    // At the source: a role that cannot be a name is refused before STS or the shell sees it.
    let out = awsenv(&sb, &["assume", "--format", "bash", "--account", "work", "--role", "y$(cd;id>PWN)"]);
    assert_refused(&out, 2, "invalid role");
}

// ---------------------------------------------------------------------------
// 3: files awsenv trusts
// ---------------------------------------------------------------------------

#[test]
fn files_awsenv_trusts_must_be_the_users_and_closed_to_others() {
    let (_moto, sb) = alice_with_device();
    let store = sb.store();
    fs::set_permissions(&store, fs::Permissions::from_mode(0o755)).unwrap();
    let marker = sb.root().join("ran");
    write(&store.join("work.mfa_command"), &format!("touch {}; echo 123456", marker.display()), 0o666);
    let out = run(sb.awsenv().args(["mfa", "--shell", "bash", "work"]));
    assert_refused(&out, 3, "chmod go-w");
    assert!(!marker.exists(), "a command others can write was run");
    fs::remove_file(store.join("work.mfa_command")).unwrap();

    let key = store.join("work.secret_key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o666)).unwrap();
    assert_refused(&awsenv(&sb, &["switch", "--shell", "bash", "work"]), 3, "chmod go-w");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
    assert_refused(&awsenv(&sb, &["switch", "--shell", "bash", "work"]), 3, "chown");
    std::os::unix::fs::chown(&key, Some(0), None).unwrap();
    assert_success(&awsenv(&sb, &["switch", "--shell", "bash", "work"]));

    fs::set_permissions(store.join("accounts.json"), fs::Permissions::from_mode(0o666)).unwrap();
    let out = run(sb.awsenv().args(["mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", "111111"));
    assert_refused(&out, 3, "chmod go-w");

    write(
        &sb.home().join(".aws/config"),
        "[profile p]\naws_access_key_id = AKIAP\naws_secret_access_key = s\n",
        0o666,
    );
    assert_refused(&awsenv(&sb, &["switch", "--shell", "bash", "p"]), 3, "chmod go-w");
    fs::set_permissions(sb.home().join(".aws/config"), fs::Permissions::from_mode(0o644)).unwrap();
    assert_success(&awsenv(&sb, &["switch", "--shell", "bash", "p"]));
}

// ---------------------------------------------------------------------------
// 4: secrets in errors
// ---------------------------------------------------------------------------

#[test]
fn errors_name_what_failed_without_secrets() {
    let (_moto, mut sb) = alice_with_device();
    sb.set_env("AWS_ENDPOINT_URL", "not a url");
    let out = mfa(&sb, "work", "864209");
    assert!(!out.status.success(), "{}", show(&out));
    assert!(!stderr(&out).contains("864209"), "the code in an error: {}", show(&out));
    assert!(!stderr(&out).contains("TokenCode"), "a request body in an error: {}", show(&out));
    let out = awsenv(
        &sb,
        &["assume", "--account", "work", "--role", "R", "--external-id", "s3cr3t-ext-id", "--code", "864210"],
    );
    assert!(!out.status.success(), "{}", show(&out));
    assert!(!stderr(&out).contains("s3cr3t-ext-id"), "the external id in an error: {}", show(&out));
    assert!(!stderr(&out).contains("864210"), "{}", show(&out));
    sb.set_env("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    write(
        &sb.home().join(".aws/credentials"),
        "[p]\naws_secret_access_key wJalrXUtnFEMIpastedSECRET\n",
        0o600,
    );
    let line = assert_refused(&awsenv(&sb, &["switch", "--shell", "bash", "p"]), 3, "credentials:2");
    assert!(!line.contains("pastedSECRET"), "a malformed line is echoed: {line}");
}

// ---------------------------------------------------------------------------
// 5, 6: update
// ---------------------------------------------------------------------------

#[test]
fn update_never_overwrites_the_keys_a_session_comes_from() {
    let (_moto, sb) = alice_with_device();
    let (key, secret) = ("AKIABASEKEY", "base-secret-that-must-survive");
    let credentials = sb.home().join(".aws/credentials");
    let text = format!(
        "[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\nmfa_serial = arn:aws:iam::{MOTO_ACCOUNT_ID}:mfa/alice\n"
    );
    write(&credentials, &text, 0o600);
    write(
        &sb.home().join(".aws/config"),
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n",
        0o600,
    );
    for (profile, account) in [("base", "base"), ("base", "dev"), ("dev", "dev"), ("BASE", "base")] {
        let out = run(sb
            .awsenv()
            .args(["update", "--once", "--profile", profile, account])
            .env("AWSENV_MFA_CODE", "111111"));
        assert_refused(&out, 2, "choose another --profile");
        assert_eq!(fs::read_to_string(&credentials).unwrap(), text, "update --profile {profile} {account}");
    }
}

#[test]
fn update_writes_through_a_symlinked_credentials_file() {
    let (_moto, sb) = alice_with_device();
    let target = sb.home().join("dotfiles/aws/credentials");
    write(&target, "# mine\n[other]\naws_access_key_id = AKIAOTHER\n", 0o600);
    let link = sb.home().join(".aws/credentials");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink("../dotfiles/aws/credentials", &link).unwrap();
    let out = run(sb
        .awsenv()
        .args(["update", "--once", "--profile", "s", "work"])
        .env("AWSENV_MFA_CODE", "111111"));
    assert_success(&out);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced by a file");
    let text = fs::read_to_string(&target).unwrap();
    assert!(text.starts_with("# mine\n[other]\naws_access_key_id = AKIAOTHER\n"), "{text}");
    assert!(text.contains("[s]\naws_access_key_id = "), "the target holds the session: {text}");
    assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
}

// ---------------------------------------------------------------------------
// 9: FIFOs, devices, huge files
// ---------------------------------------------------------------------------

fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

#[test]
fn special_files_are_refused_without_hanging() {
    let (_moto, mut sb) = alice_with_device();
    let store = sb.store();
    assert_success(&mfa(&sb, "work", "111111"));
    for (path, name) in [
        (cache_file(&sb, "work"), "cache entry"),
        (store.join("work.access_key"), "key file"),
        (store.join("accounts.json"), "account file"),
    ] {
        let saved = fs::read(&path).unwrap();
        if name != "cache entry" {
            fs::remove_file(cache_file(&sb, "work")).unwrap();
        }
        mkfifo(&path);
        let started = Instant::now();
        let out = run(sb.awsenv().args(["mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", "222222"));
        assert!(started.elapsed() < Duration::from_secs(20), "{name}: {:?}", started.elapsed());
        assert_refused(&out, 3, "not a regular file");
        fs::remove_file(&path).unwrap();
        write(&path, std::str::from_utf8(&saved).unwrap(), 0o600);
        if name != "account file" {
            let code = if name == "cache entry" { "333333" } else { "444444" };
            assert_success(&mfa(&sb, "work", code));
        }
    }
    sb.set_env("AWS_CONFIG_FILE", "/dev/zero");
    let out = awsenv(&sb, &["switch", "--shell", "bash", "nosuchprofile"]);
    assert_refused(&out, 3, "/dev/zero");
    let big = sb.home().join("big-config");
    let file = fs::File::create(&big).unwrap();
    file.set_len(200 * 1024 * 1024).unwrap();
    sb.set_env("AWS_CONFIG_FILE", big.to_str().unwrap());
    let out = awsenv(&sb, &["switch", "--shell", "bash", "nosuchprofile"]);
    assert_refused(&out, 3, "larger than");
}

// ---------------------------------------------------------------------------
// 11, 12: variables and numbers
// ---------------------------------------------------------------------------

#[test]
fn yes_no_variables_take_the_usual_spellings() {
    let (_moto, sb) = alice_with_device();
    for name in ["AWSENV_DEBUG", "AWS_SESSION_DEBUG"] {
        for value in ["1", "0", "true", "false", "yes", "no", "on", "off", "TRUE", "Off", ""] {
            let out = run(sb.awsenv().args(["switch", "--shell", "bash", "work"]).env(name, value));
            assert_success(&out);
            let on = matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on");
            assert_eq!(stderr(&out).contains("awsenv: debug:"), on, "{name}={value:?}: {}", show(&out));
        }
        let out = run(sb.awsenv().args(["switch", "--shell", "bash", "work"]).env(name, "maybe"));
        assert_refused(&out, 2, name);
    }
    let out = run(sb.awsenv().args(["switch", "--shell", "bash", "work"]).env("AWSENV_CONFIG", ""));
    assert_success(&out);
    let expiring = (now() + 120).to_string();
    for (value, colour) in
        [("on", true), ("1", true), ("always", true), ("off", false), ("no", false), ("never", false)]
    {
        let mut cmd = sb.awsenv();
        cmd.args(["prompt", "--shell", "fish"])
            .env("AWS_ACCESS_KEY_ID", "ASIAX")
            .env("AWSENV_KEY_ID", "ASIAX")
            .env("AWSENV_ACCOUNT", "work")
            .env("AWSENV_EXPIRES", &expiring)
            .env("AWSENV_COLOR", value);
        let out = run(&mut cmd);
        assert_success(&out);
        assert_eq!(stdout(&out).contains('\x1b'), colour, "AWSENV_COLOR={value}: {}", show(&out));
    }
}

#[test]
fn numbers_are_bounded_and_never_panic() {
    let (_moto, sb) = alice_with_device();
    let bad_seconds = ["1e300", "1.8e19", "-1", "0", "nan", "inf", "abc", "99999999999999999999999"];
    for (name, needle) in [
        ("AWSENV_TIMEOUT", "AWSENV_TIMEOUT"),
        ("AWSENV_MFA_COMMAND_TIMEOUT", "AWSENV_MFA_COMMAND_TIMEOUT"),
        ("AWSENV_DURATION", "duration"),
    ] {
        for value in bad_seconds {
            let mut cmd = sb.awsenv();
            cmd.args(["mfa", "--shell", "bash", "work"])
                .env(name, value)
                .env("AWSENV_MFA_COMMAND", "echo 123456");
            let out = run(&mut cmd);
            assert_refused(&out, 2, needle);
        }
    }
    let mut cmd = sb.awsenv();
    cmd.args(["refresh", "--shell", "bash"])
        .env("AWSENV_REFRESH_WINDOW", "99999999999999999999")
        .env("AWS_ACCESS_KEY_ID", "ASIAX")
        .env("AWSENV_KEY_ID", "ASIAX")
        .env("AWSENV_ACCOUNT", "work")
        .env("AWSENV_SESSION", "mfa");
    assert_refused(&run(&mut cmd), 2, "AWSENV_REFRESH_WINDOW");
    for ttl in ["9999999999999h", "99999999999999999999s", "1e300"] {
        let out = awsenv(&sb, &["assume", "--account", "work", "--role", "R", "--min-ttl", ttl]);
        assert_refused(&out, 2, "--min-ttl");
    }
    for expires in ["-9223372036854775808", "9223372036854775807", "99999999999999999999"] {
        for args in [&["prompt", "--shell", "bash"][..], &["now"][..]] {
            let mut cmd = sb.awsenv();
            cmd.args(args)
                .env("AWS_ACCESS_KEY_ID", "ASIAX")
                .env("AWSENV_KEY_ID", "ASIAX")
                .env("AWSENV_ACCOUNT", "work")
                .env("AWSENV_EXPIRES", expires);
            let out = run(&mut cmd);
            assert_success(&out);
        }
    }
}

// ---------------------------------------------------------------------------
// 13, 15: cache and code record names
// ---------------------------------------------------------------------------

#[test]
fn cache_files_never_collide_between_accounts() {
    let (moto, sb) = alice_with_device();
    let (key, secret) = moto.create_user("bob");
    let tricky = "work.role.123456789012.b";
    sb.add_account(tricky, &key, &secret, Some("bob"));
    sb.add_account("Work", &key, &secret, Some("bob"));
    moto.create_virtual_mfa("bob");
    sb.write_accounts_json(&format!(
        "{{\"work\": \"{MOTO_ACCOUNT_ID}\", \"{tricky}\": \"{MOTO_ACCOUNT_ID}\", \"Work\": \"{MOTO_ACCOUNT_ID}\"}}"
    ));
    assert_success(&mfa(&sb, "work", "111111"));
    // work's role b.mfa and the account named like its cache file.
    let out = run(sb.awsenv().args(["assume", "--account", "work", "--role", "b.mfa"]));
    assert_success(&out);
    assert_success(&mfa(&sb, tricky, "222222"));
    assert_success(&mfa(&sb, "Work", "333333"));
    for name in ["work", tricky, "Work"] {
        let out = awsenv(&sb, &["switch", "--shell", "bash", name]);
        assert_success(&out);
        assert!(
            stdout(&out).contains("export AWSENV_SESSION='mfa'"),
            "{name} lost its session: {}",
            show(&out)
        );
        assert!(stdout(&out).contains(&format!("export AWSENV_ACCOUNT='{name}'")), "{}", show(&out));
    }
    let out = run(sb.awsenv().args(["assume", "--account", "work", "--role", "b.mfa"]));
    assert_success(&out);
    assert!(!stderr(&out).contains("corrupt"), "{}", show(&out));
    let names: Vec<String> = fs::read_dir(cache_dir(&sb))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".corrupt")), "{names:?}");
    let entries = names.iter().filter(|n| n.ends_with(".json")).count();
    assert_eq!(entries, 4, "one file per account and slot: {names:?}");
    assert_eq!(moto.sts_token_count(), 3);
    assert_eq!(moto.assumed_role_count(), 1, "the role session was reused");
}

#[test]
fn a_code_guard_that_cannot_record_fails_closed() {
    let (moto, sb) = alice_with_device();
    // A serial far longer than a file name: the guard still records.
    let long = format!("arn:aws:iam::{MOTO_ACCOUNT_ID}:mfa/{}", "x".repeat(5000));
    write(&sb.store().join("work.mfa_serial"), &long, 0o600);
    assert_success(&mfa(&sb, "work", "444444"));
    fs::remove_file(cache_file(&sb, "work")).unwrap();
    let out = mfa(&sb, "work", "444444");
    assert_refused(&out, 4, "already sent");
    assert_eq!(moto.sts_token_count(), 1, "the same code was sent twice");
    // A record that cannot be written: the code is not sent at all.
    fs::remove_file(sb.store().join("work.mfa_serial")).unwrap();
    fs::create_dir_all(last_code_file(&sb, MOTO_ACCOUNT_ID, "alice").join("blocker")).unwrap();
    let out = mfa(&sb, "work", "555555");
    assert!(!out.status.success() && out.stdout.is_empty(), "{}", show(&out));
    assert_eq!(moto.sts_token_count(), 1, "a code that could not be recorded was sent");
}

// ---------------------------------------------------------------------------
// 14: values no shell can hold
// ---------------------------------------------------------------------------

#[test]
fn values_no_shell_can_hold_are_refused_before_anything_is_printed() {
    let (_moto, sb) = alice_with_device();
    write(
        &sb.home().join(".aws/config"),
        "[profile p]\nregion = eu\0west-1\naws_access_key_id = AKIAP\naws_secret_access_key = s\n",
        0o600,
    );
    let mut cmd = sb.awsenv();
    cmd.args(["switch", "--shell", "fish", "p"]).env_remove("AWS_DEFAULT_REGION");
    assert_refused(&run(&mut cmd), 3, "NUL");
    for shell in Shell::ALL {
        let body =
            "set -gx AWS_ACCESS_KEY_ID OLD; ec2switch p; echo \"status=$status key=$AWS_ACCESS_KEY_ID\"";
        let body = match shell {
            Shell::Fish => body.to_owned(),
            _ => body
                .replace("set -gx AWS_ACCESS_KEY_ID OLD", "export AWS_ACCESS_KEY_ID=OLD")
                .replace("$status", "$?"),
        };
        let mut sandbox_cmd = sb.command(shell.name());
        let script = format!("{}\n{body}", init_line(shell));
        match shell {
            Shell::Bash => sandbox_cmd.args(["--noprofile", "--norc", "-c", &script]),
            Shell::Zsh => sandbox_cmd.args(["-f", "-c", &script]),
            Shell::Fish => sandbox_cmd.args(["--no-config", "-c", &script]),
        };
        sandbox_cmd.env_remove("AWS_DEFAULT_REGION");
        let out = run(&mut sandbox_cmd);
        assert!(stdout(&out).contains("key=OLD"), "{shell}: {}", show(&out));
        assert!(!stdout(&out).contains("status=0"), "{shell}: {}", show(&out));
    }
}

// ---------------------------------------------------------------------------
// 16: many profiles
// ---------------------------------------------------------------------------

#[test]
fn profiles_load_in_linear_time() {
    let (_moto, mut sb) = alice_with_device();
    let time_with = |sb: &mut Sandbox, count: usize| {
        let path = sb.home().join(format!("config-{count}"));
        let mut text = String::with_capacity(count * 60);
        for i in 0..count {
            text.push_str(&format!("[profile p{i}]\nregion = eu-west-1\noutput = json\n"));
        }
        fs::write(&path, text).unwrap();
        sb.set_env("AWS_CONFIG_FILE", path.to_str().unwrap());
        let started = Instant::now();
        let out = awsenv(sb, &["accounts", "--names"]);
        assert_success(&out);
        assert_eq!(stdout(&out).lines().count(), count + 1);
        started.elapsed()
    };
    let small = time_with(&mut sb, 10_000);
    let large = time_with(&mut sb, 40_000);
    // Linear: four times the profiles, about four times the time (quadratic was sixteen).
    assert!(large < small * 8 + Duration::from_millis(300), "10k: {small:?}, 40k: {large:?}");
}

// ---------------------------------------------------------------------------
// 17: smaller things
// ---------------------------------------------------------------------------

#[test]
fn small_contract_points() {
    let (_moto, sb) = alice_with_device();
    // ec2now with nothing set: stderr and exit 3, stdout empty.
    let out = awsenv(&sb, &["now"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(out.stdout.is_empty() && stderr(&out).contains("No keys set"), "{}", show(&out));
    // clap's errors are one line with the prefix.
    for args in [&["switch", "--bogus"][..], &["nosuchcommand"][..], &[][..], &["serve"][..]] {
        let out = awsenv(&sb, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", show(&out));
        assert!(stderr(&out).starts_with("awsenv: "), "{args:?}: {}", show(&out));
    }
    assert_success(&awsenv(&sb, &["--help"]));
    // Byte-order marks: accepted in JSON and INI files, never exported from a key file.
    let bom = "\u{feff}";
    write(&sb.store().join("accounts.json"), &format!("{bom}{{\"work\": \"{MOTO_ACCOUNT_ID}\"}}"), 0o600);
    write(
        &sb.home().join(".aws/config"),
        &format!("{bom}[profile p]\naws_access_key_id = AKIAP\naws_secret_access_key = s\n"),
        0o600,
    );
    assert_success(&awsenv(&sb, &["switch", "--shell", "bash", "p"]));
    let key = fs::read_to_string(sb.store().join("work.access_key")).unwrap();
    write(&sb.store().join("work.access_key"), &format!("{bom}{key}"), 0o600);
    let out = mfa(&sb, "work", "666666");
    assert_success(&out);
    let out = awsenv(&sb, &["switch", "--shell", "bash", "work"]);
    assert!(!stdout(&out).contains(bom), "{}", show(&out));
    // exec keeps the code to itself.
    let out = run(sb.awsenv().args(["exec", "work", "--", "env"]).env("AWSENV_MFA_CODE", "777777"));
    assert_success(&out);
    assert!(!stdout(&out).contains("777777") && !stdout(&out).contains("AWSENV_MFA_CODE"), "{}", show(&out));
}
