//! Robustness of awsenv under races, crashes, hostile file modes, hostile bytes, corrupt caches
//! and misbehaving endpoints, checked through the real binary and real bash, zsh and fish.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::cache::{cache_dir, cache_file, lock_file};
use common::files::mode;
use common::script::{awsenv_lines, sq};
use common::world::{ACCOUNTS_JSON, ALICE_SERIAL, World};
use common::{DEAD_ENDPOINT, Moto, Sandbox, Shell, assert_success, fresh_code, init_line, stderr, stdout};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A script for `shell`: the init line, then `body` (written in the syntax all three shells share).
fn script(shell: Shell, body: &str) -> String {
    format!("{} || exit 90\n{body}\n", init_line(shell))
}

/// `awsenv mfa --shell bash work` with `code` in the environment. awsenv never sends a code twice
/// for a device within 90 s, so a run that is meant to make a new session needs a code of its own
/// ([`fresh_code`]); processes racing for one session share one.
fn mfa_command(sb: &Sandbox, code: &str) -> Command {
    let mut cmd = sb.awsenv();
    cmd.args(["mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", code);
    cmd
}

/// Checks that the cache entry at `path` is complete and consistent; returns it.
#[track_caller]
fn assert_valid_entry(path: &Path, account: &str, source_key: &str) -> serde_json::Value {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let entry: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "cache entry {} is not complete JSON ({e}): {:?}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        )
    });
    let text = |field: &str| {
        entry[field]
            .as_str()
            .unwrap_or_else(|| panic!("cache entry field {field} missing: {entry}"))
            .to_owned()
    };
    assert_eq!(entry["version"], 1, "{entry}");
    assert_eq!(text("account"), account);
    for field in ["access_key_id", "secret_access_key", "session_token"] {
        assert!(!text(field).is_empty(), "empty {field} in {entry}");
    }
    assert_ne!(text("access_key_id"), source_key, "the session key is the long-term key");
    assert_eq!(text("source_access_key_id"), source_key);
    assert_eq!(text("mfa_serial"), ALICE_SERIAL);
    let expiration = text("expiration");
    let b = expiration.as_bytes();
    assert!(
        b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
        "expiration {expiration:?} is not RFC 3339 UTC"
    );
    entry
}

/// A tiny LCG: randomness for kill delays without another dependency. The seed is printed;
/// CRASH_SEED=N replays a run.
struct Lcg(u64);

impl Lcg {
    fn from_clock() -> Self {
        let clock = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(clock);
        eprintln!("crash-safety seed: {seed}");
        Lcg(seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Snapshot (bytes, mode) of every regular file directly in `dir`.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| {
            let path = entry.path();
            (entry.file_name().into_string().unwrap(), (fs::read(&path).unwrap(), mode(&path)))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Concurrency
// ---------------------------------------------------------------------------

/// 24 bash, zsh and fish shells released at the same instant all run `ec2switch work; ec2mfa`:
/// one STS call, one session, and every shell ends up holding it.
#[test]
fn racing_shells_make_one_sts_call() {
    const SHELLS: usize = 24;
    let World { moto, sb, key: source_key } = World::start();

    let race = sb.root().join("race");
    fs::create_dir(&race).unwrap();
    let gate = race.join("gate");
    assert_success(&Command::new("mkfifo").arg(&gate).output().expect("run mkfifo"));

    let done = AtomicBool::new(false);
    let (outputs, elapsed) = thread::scope(|scope| {
        let handles: Vec<_> = (0..SHELLS)
            .map(|i| {
                let shell = Shell::ALL[i % 3];
                let ready = race.join(format!("ready.{i}"));
                // `cat` blocks opening the FIFO until the test opens it for writing, then reads
                // EOF when the test closes it: every shell is released by the same close().
                let body = format!(
                    "printf '' > {ready}\n\
                     cat {gate} > /dev/null\n\
                     ec2switch work || exit 91\n\
                     ec2mfa 123456 || exit 92\n\
                     printf '%s\\n' \"$AWS_SESSION_TOKEN\" \"$AWS_ACCESS_KEY_ID\" \"$AWSENV_EXPIRES\"",
                    ready = sq(&ready),
                    gate = sq(&gate),
                );
                let sb = &sb;
                scope.spawn(move || (shell, sb.run_shell(shell, &script(shell, &body))))
            })
            .collect();

        // Wait until every shell is at the gate; stop early if one has already exited.
        let deadline = Instant::now() + Duration::from_secs(60);
        let all_ready = loop {
            if (0..SHELLS).all(|i| race.join(format!("ready.{i}")).exists()) {
                break true;
            }
            if Instant::now() > deadline || handles.iter().any(|h| h.is_finished()) {
                break false;
            }
            thread::sleep(Duration::from_millis(5));
        };
        // Give the last shells time to block in open(); late ones are released by the loop below,
        // which also runs when something went wrong, so that no shell is left blocked.
        thread::sleep(Duration::from_millis(500));
        let released = Instant::now();
        let sweeper = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                // A non-blocking open for writing succeeds only while some reader is waiting; its
                // close() gives every waiting reader EOF.
                let _ = OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&gate);
                thread::sleep(Duration::from_millis(2));
            }
        });
        let outputs: Vec<(Shell, Output)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let elapsed = released.elapsed();
        done.store(true, Ordering::Relaxed);
        sweeper.join().unwrap();
        if !all_ready {
            let failed: Vec<String> = outputs
                .iter()
                .filter(|(_, out)| !out.status.success())
                .map(|(shell, out)| format!("{shell}: {}: {}", out.status, stderr(out)))
                .collect();
            panic!("the shells did not all reach the gate within 60 s:\n{}", failed.join("\n"));
        }
        (outputs, elapsed)
    });

    let mut waited = 0;
    let mut reused = 0;
    let mut first: Option<String> = None;
    for (shell, out) in &outputs {
        assert_success(out);
        let text = stdout(out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{shell}: {text:?}");
        assert!(!lines[0].is_empty(), "{shell}: no session token");
        assert_ne!(lines[1], source_key, "{shell}: still holds the long-term key");
        assert!(lines[2].parse::<i64>().is_ok(), "{shell}: AWSENV_EXPIRES {:?}", lines[2]);
        match &first {
            None => first = Some(text.clone()),
            Some(expected) => assert_eq!(&text, expected, "{shell} holds another session"),
        }
        let err = stderr(out);
        waited += err.matches("waiting for another awsenv").count();
        reused += err.matches("MFA STS token already cached").count();
    }
    eprintln!(
        "race: {SHELLS} shells finished {:.0} ms after release; {waited} waited for the lock",
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(moto.sts_token_count(), 1, "STS GetSessionToken calls for {SHELLS} racing shells");
    assert_eq!(reused, SHELLS - 1, "every shell but the one that called STS reused the session");
    let entry = assert_valid_entry(&cache_file(&sb, "work"), "work", &source_key);
    let first = first.unwrap();
    assert_eq!(first.lines().next(), entry["session_token"].as_str());

    // The same with 16 bare `awsenv mfa` processes started together, all given one new code (the
    // shells' 123456 was sent a moment ago and may not be sent again).
    moto.reset();
    fs::remove_file(cache_file(&sb, "work")).unwrap();
    let code = fresh_code();
    let start = Instant::now();
    let children: Vec<_> = (0..16)
        .map(|_| mfa_command(&sb, &code).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    eprintln!("race: 16 processes took {:.0} ms", start.elapsed().as_secs_f64() * 1000.0);
    for out in &outputs {
        assert_success(out);
        assert!(stdout(out).contains("export AWS_SESSION_TOKEN='"), "{}", stdout(out));
        assert_eq!(out.stdout, outputs[0].stdout, "processes printed different sessions");
    }
    assert_eq!(moto.sts_token_count(), 1, "STS GetSessionToken calls for 16 racing processes");
    assert_valid_entry(&cache_file(&sb, "work"), "work", &source_key);
}

// ---------------------------------------------------------------------------
// 2. Crash safety
// ---------------------------------------------------------------------------

/// SIGKILL at random moments of `awsenv mfa` never leaves a torn entry or a held lock, and the
/// next successful write removes the temp files of writers that died.
#[test]
fn sigkill_at_any_moment_leaves_a_usable_cache() {
    const ITERATIONS: usize = 40;
    let World { moto: _moto, sb, key: source_key } = World::start();
    let entry = cache_file(&sb, "work");
    let dir = cache_dir(&sb);
    // awsenv writes the entry to `ENTRY.tmp-...` first, then renames it.
    let temp_prefix = format!("{}.tmp-", entry.file_name().unwrap().to_str().unwrap());
    let temp_files = || -> Vec<String> {
        fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.starts_with(&temp_prefix))
                    .collect()
            })
            .unwrap_or_default()
    };

    // Calibrate: how long one complete run takes (the fastest of three), so the kills cover it.
    // Every run makes a new session, with a code of its own.
    let mut full_run = Duration::MAX;
    for _ in 0..3 {
        let _ = fs::remove_file(&entry);
        let start = Instant::now();
        let out = mfa_command(&sb, &fresh_code()).output().unwrap();
        full_run = full_run.min(start.elapsed());
        assert_success(&out);
    }
    let full_ms = full_run.as_millis() as u64;
    let max_delay_ms = (full_ms * 6 / 5).max(60);

    let mut rng = Lcg::from_clock();
    let (mut killed, mut completed, mut with_entry) = (0, 0, 0);
    let mut temps_seen = std::collections::BTreeSet::new();
    for i in 0..ITERATIONS {
        let _ = fs::remove_file(&entry);
        let mut child =
            mfa_command(&sb, &fresh_code()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        // Every other kill aims at the end of a run, where the entry is written and renamed.
        let delay = Duration::from_millis(if i % 2 == 0 {
            rng.below(max_delay_ms + 1)
        } else {
            full_ms * 3 / 4 + rng.below(full_ms * 7 / 20 + 1)
        });
        thread::sleep(delay);
        // Child::kill sends SIGKILL; it may already have exited.
        let _ = child.kill();
        let status = child.wait().unwrap();
        match (status.signal(), status.code()) {
            (Some(9), _) => killed += 1,
            (None, Some(0)) => completed += 1,
            other => panic!("iteration {i}: awsenv mfa ended with {other:?} after {delay:?}"),
        }

        // The kernel released the lock with the process.
        let lock = lock_file(&sb, "work");
        if lock.exists() {
            let file = File::open(&lock).unwrap();
            file.try_lock().unwrap_or_else(|e| panic!("iteration {i}: work.lock still held: {e:?}"));
        }

        let has_entry = entry.exists();
        if has_entry {
            with_entry += 1;
            assert_valid_entry(&entry, "work", &source_key);
        }
        temps_seen.extend(temp_files());

        let out = sb.awsenv().args(["switch", "--shell", "bash", "work"]).output().unwrap();
        assert_success(&out);
        let exports = stdout(&out);
        let session = exports.contains("export AWS_SESSION_TOKEN='");
        assert_eq!(session, has_entry, "iteration {i}: switch after a kill printed:\n{exports}");
        assert!(awsenv_lines(&stderr(&out)).is_empty(), "iteration {i}: {}", stderr(&out));
    }
    eprintln!(
        "crash: full run {:.0} ms, delays 0..={max_delay_ms} ms (half near the end); {killed} killed, \
         {completed} completed, {with_entry} left an entry, {} temp file(s) left by dead writers",
        full_run.as_secs_f64() * 1000.0,
        temps_seen.len()
    );

    // A final clean run: never blocked by a dead writer's lock, and it sweeps stale temp files
    // (plant one too, in case no kill happened to land between create and rename).
    let _ = fs::remove_file(&entry);
    let planted = dir.join(format!("{temp_prefix}4194304-123"));
    fs::write(&planted, b"{\"version\": 1, \"acc").unwrap();
    let out = mfa_command(&sb, &fresh_code()).output().unwrap();
    assert_success(&out);
    assert!(!stderr(&out).contains("waiting for another"), "{}", stderr(&out));
    assert_eq!(temp_files(), Vec::<String>::new(), "stale temp files survived a successful write");
    assert_valid_entry(&entry, "work", &source_key);
}

// ---------------------------------------------------------------------------
// 3. File modes
// ---------------------------------------------------------------------------

/// Under `umask 000` the cache is still private, and the user's own files are left alone.
#[test]
fn cache_files_are_private_even_with_umask_000() {
    let World { moto: _moto, sb, key: source_key } = World::start();
    // Odd but legal modes on the user's files, to see that awsenv keeps them.
    fs::set_permissions(sb.store().join("work.user"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(sb.store().join("work.access_key"), fs::Permissions::from_mode(0o400)).unwrap();
    let before = snapshot(&sb.store());
    let store_mode = mode(&sb.store());

    for shell in Shell::ALL {
        let _ = fs::remove_dir_all(cache_dir(&sb));
        let probe = sb.root().join(format!("probe-{shell}"));
        let body = format!(
            "umask 000\n\
             printf '' > {probe}\n\
             ec2switch work || exit 91\n\
             ec2mfa 123456 || exit 92",
            probe = sq(&probe)
        );
        let out = sb.run_shell(shell, &script(shell, &body));
        assert_success(&out);
        assert_eq!(mode(&probe), 0o666, "{shell}: umask 000 was not in effect");
        assert_eq!(mode(&cache_dir(&sb)), 0o700, "{shell}: .awsenv");
        assert_eq!(mode(&cache_file(&sb, "work")), 0o600, "{shell}: work.mfa.json");
        assert_eq!(mode(&lock_file(&sb, "work")), 0o600, "{shell}: work.lock");
        assert_valid_entry(&cache_file(&sb, "work"), "work", &source_key);
        assert_eq!(snapshot(&sb.store()), before, "{shell}: the user's files changed");
        assert_eq!(mode(&sb.store()), store_mode, "{shell}: the store's mode changed");
    }
}

/// A process started with stdout and stderr closed gets them on /dev/null, as every Rust
/// program's start-up does: the lock file and the cache's temp file, opened next, would otherwise
/// take descriptors 1 and 2 and receive the exports and the debug lines.
#[test]
fn closed_stdout_and_stderr_never_land_in_the_cache() {
    let World { moto: _moto, sb, key: source_key } = World::start();
    let mut cmd = sb.command("sh");
    cmd.args(["-c", r#"exec "$0" "$@" >&- 2>&-"#, env!("CARGO_BIN_EXE_awsenv")])
        .args(["--debug", "mfa", "--shell", "bash", "work"])
        .env("AWSENV_MFA_CODE", fresh_code());
    let out = cmd.output().expect("run sh");
    assert!(out.status.success(), "mfa with closed stdout and stderr failed: {:?}", out.status);
    assert_valid_entry(&cache_file(&sb, "work"), "work", &source_key);
    let lock = fs::read(lock_file(&sb, "work")).expect("read the lock file");
    assert!(lock.is_empty(), "the lock file received output: {:?}", String::from_utf8_lossy(&lock));
}

// ---------------------------------------------------------------------------
// 4. Quoting
// ---------------------------------------------------------------------------

/// Bytes that mean something to some shell, weighted heavily.
const SPECIAL: &[u8] = b"'\"$()`\\\n!%{} \t*?[]~#;&|<>";

fn secret_bytes() -> impl Strategy<Value = Vec<u8>> {
    let chunk = prop_oneof![
        6 => prop::sample::select(SPECIAL).prop_map(|b| vec![b]),
        3 => (0x80u8..=0xff).prop_map(|b| vec![b]),
        2 => (1u8..=0x7f).prop_map(|b| vec![b]),
        2 => prop::char::any()
            .prop_filter("no NUL", |c| *c != '\0')
            .prop_map(|c| c.to_string().into_bytes()),
    ];
    prop::collection::vec(chunk, 1..40)
        .prop_map(|chunks| chunks.concat())
        .prop_filter("not only whitespace", |v| !v.trim_ascii().is_empty())
        // An editor's byte-order mark at the start of a key file is not part of the key.
        .prop_filter("no leading byte-order mark", |v| !v.starts_with(&[0xef, 0xbb, 0xbf]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// Any secret key (bar NUL, surrounding ASCII whitespace, which awsenv trims, and a leading
/// byte-order mark, which it strips) reaches the shell's variable byte for byte.
fn secret_round_trips(shell: Shell) {
    let sb = Sandbox::new(None);
    sb.add_account("prop", "AKIAPROPERTY", "placeholder", None);
    let secret_file = sb.store().join("prop.secret_key");
    let out_file = sb.root().join("out");
    let print = match shell {
        Shell::Fish => "printf '%s' $AWS_SECRET_ACCESS_KEY",
        Shell::Bash | Shell::Zsh => "printf '%s' \"$AWS_SECRET_ACCESS_KEY\"",
    };
    let body = format!("ec2switch prop || exit 91\n{print} > {}", sq(&out_file));
    let full = script(shell, &body);

    // PROPTEST_CASES=N runs more cases, e.g. for a longer hunt.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&secret_bytes(), |value| {
        fs::write(&secret_file, &value).unwrap();
        let _ = fs::remove_file(&out_file);
        let out = sb.run_shell(shell, &full);
        if !out.status.success() {
            return Err(TestCaseError::fail(format!(
                "{shell} failed ({}): {}",
                out.status,
                stderr(&out).trim_end()
            )));
        }
        let got = fs::read(&out_file).map_err(|e| TestCaseError::fail(format!("no output: {e}")))?;
        let want = value.trim_ascii();
        if got != want {
            return Err(TestCaseError::fail(format!(
                "{shell} read back [{}], expected [{}]",
                hex(&got),
                hex(want)
            )));
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("{shell}: secret [{}] does not round-trip: {reason}", hex(&value))
        }
        Err(TestError::Abort(reason)) => panic!("{shell}: property test aborted: {reason}"),
    }
}

#[test]
fn any_secret_round_trips_in_bash() {
    secret_round_trips(Shell::Bash);
}

#[test]
fn any_secret_round_trips_in_zsh() {
    secret_round_trips(Shell::Zsh);
}

#[test]
fn any_secret_round_trips_in_fish() {
    secret_round_trips(Shell::Fish);
}

// ---------------------------------------------------------------------------
// 5. Corrupt cache entry
// ---------------------------------------------------------------------------

/// A garbage cache entry falls back to the long-term keys, is reported once, and is replaced by
/// the next `ec2mfa`.
#[test]
fn corrupt_cache_entry_is_reported_once_and_replaced() {
    let World { moto, sb, key: source_key } = World::start();
    DirBuilder::new().mode(0o700).create(cache_dir(&sb)).unwrap();
    let entry = cache_file(&sb, "work");
    let garbage: &[u8] = b"{\"version\": 1, \"account\": \"work\", \"access_key_id\": \"ASIA\xff\xfe";
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&entry)
        .unwrap()
        .write_all(garbage)
        .unwrap();

    let show = "printf '%s\\n' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SESSION_TOKEN\"";
    let body = format!("ec2switch work || exit 91\n{show}");
    let out = sb.run_shell(Shell::Bash, &script(Shell::Bash, &body));
    assert_success(&out);
    assert_eq!(stdout(&out), format!("{source_key}\n\n"), "the long-term keys are used");
    let err = stderr(&out);
    let reports = awsenv_lines(&err);
    assert_eq!(reports.len(), 1, "one report expected:\n{err}");
    assert!(reports[0].contains(entry.to_str().unwrap()) && reports[0].contains("corrupt"), "{err}");
    assert_eq!(fs::read(entry.with_extension("json.corrupt")).unwrap(), garbage, "the bad entry is kept");

    let out = sb.run_shell(Shell::Bash, &script(Shell::Bash, &body));
    assert_success(&out);
    assert_eq!(stdout(&out), format!("{source_key}\n\n"));
    assert!(awsenv_lines(&stderr(&out)).is_empty(), "reported twice:\n{}", stderr(&out));

    let body = format!("ec2switch work || exit 91\nec2mfa 123456 || exit 92\n{show}");
    let out = sb.run_shell(Shell::Bash, &script(Shell::Bash, &body));
    assert_success(&out);
    let written = assert_valid_entry(&entry, "work", &source_key);
    let expected = format!(
        "{}\n{}\n",
        written["access_key_id"].as_str().unwrap(),
        written["session_token"].as_str().unwrap()
    );
    assert_eq!(stdout(&out), expected);
    assert_eq!(moto.sts_token_count(), 1);
}

// ---------------------------------------------------------------------------
// 6. Insecure store and cache directory
// ---------------------------------------------------------------------------

#[test]
fn writable_store_or_readable_cache_dir_is_refused() {
    let mut sb = Sandbox::new(None);
    sb.set_env("AWS_ENDPOINT_URL", DEAD_ENDPOINT);
    sb.add_account("work", "AKIALONGTERMKEY00001", "long-term-secret", Some("alice"));
    sb.write_accounts_json(ACCOUNTS_JSON);
    let store = sb.store();

    for bad in [0o777, 0o770, 0o702] {
        fs::set_permissions(&store, fs::Permissions::from_mode(bad)).unwrap();
        for args in [&["switch", "--shell", "bash", "work"][..], &["mfa", "--shell", "bash", "work"][..]] {
            let out = sb.awsenv().args(args).env("AWSENV_MFA_CODE", "123456").output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{args:?} with store mode {bad:o}: {err}");
            assert!(out.stdout.is_empty(), "{args:?} with store mode {bad:o} printed {}", stdout(&out));
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains("chmod go-w") && err.contains(store.to_str().unwrap()), "{err}");
        }
    }
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();

    let cache = cache_dir(&sb);
    DirBuilder::new().mode(0o700).create(&cache).unwrap();
    for bad in [0o755, 0o750] {
        fs::set_permissions(&cache, fs::Permissions::from_mode(bad)).unwrap();
        let body = "ec2switch work || exit 91\n\
                    ec2mfa 123456\n\
                    printf '%s\\n' \"rc=$?\" \"$AWS_ACCESS_KEY_ID\" \"$AWSENV_SESSION\"";
        let out = sb.run_shell(Shell::Bash, &script(Shell::Bash, body));
        assert_success(&out);
        assert_eq!(stdout(&out), "rc=3\nAKIALONGTERMKEY00001\nkeys\n", "cache dir mode {bad:o}");
        let err = stderr(&out);
        let reports = awsenv_lines(&err);
        assert_eq!(reports.len(), 1, "{err}");
        assert!(reports[0].contains("chmod 700") && reports[0].contains(cache.to_str().unwrap()), "{err}");
        assert!(!cache_file(&sb, "work").exists() && !lock_file(&sb, "work").exists());
        assert_eq!(mode(&cache), bad, "awsenv changed the mode itself");
    }
}

/// The same readable cache directory, now holding a valid session that anyone on the machine can
/// read (entry 0644): `ec2switch` and `ec2mfa` refuse it as they refuse to write there, rather
/// than hand it out.
#[test]
fn readable_cache_dir_is_refused_even_with_a_cached_session() {
    let mut sb = Sandbox::new(None);
    sb.set_env("AWS_ENDPOINT_URL", DEAD_ENDPOINT);
    sb.add_account("work", "AKIALONGTERMKEY00001", "long-term-secret", Some("alice"));
    sb.write_accounts_json(ACCOUNTS_JSON);
    let cache = cache_dir(&sb);
    DirBuilder::new().mode(0o700).create(&cache).unwrap();
    let entry = format!(
        r#"{{"version": 1, "account": "work", "access_key_id": "ASIACACHEDSESSION001",
            "secret_access_key": "cached-secret", "session_token": "cached-token",
            "expiration": "2099-01-01T00:00:00Z", "source_access_key_id": "AKIALONGTERMKEY00001",
            "mfa_serial": "{ALICE_SERIAL}"}}"#
    );
    fs::write(cache_file(&sb, "work"), entry).unwrap();
    fs::set_permissions(cache_file(&sb, "work"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o755)).unwrap();

    let body = "ec2switch work\n\
                printf '%s\\n' \"rc=$?\"\n\
                AWSENV_ACCOUNT=work ec2mfa 123456\n\
                printf '%s\\n' \"rc=$?\" \"${AWS_ACCESS_KEY_ID-unset}\"";
    let out = sb.run_shell(Shell::Bash, &script(Shell::Bash, body));
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        stdout(&out).starts_with("rc=3\nrc=3\nunset\n") && err.matches("chmod 700").count() == 2,
        "ec2mfa used a session from a cache directory of mode 0755 (entry 0644):\n--- stdout ---\n{}\
         --- stderr ---\n{err}",
        stdout(&out)
    );
}

// ---------------------------------------------------------------------------
// 7. Slow endpoint
// ---------------------------------------------------------------------------

/// An HTTP endpoint on 127.0.0.1 run by the test: it either never answers (holding every
/// connection open) or answers every request with `answer`.
struct FakeEndpoint {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<Vec<String>>>,
}

impl FakeEndpoint {
    fn start(answer: Option<String>) -> FakeEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let (mut requests, mut held) = (Vec::new(), Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    match &answer {
                        None => {
                            requests.push(String::new());
                            held.push(stream);
                        }
                        Some(answer) => {
                            stream.set_nonblocking(false).unwrap();
                            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                            requests.push(read_request(&mut stream));
                            let _ = stream.write_all(answer.as_bytes());
                        }
                    }
                }
                requests
            })
        };
        FakeEndpoint { port, stop, thread: Some(thread) }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the endpoint; returns the requests it received (empty strings when silent).
    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for FakeEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One HTTP/1.1 request: the head, then as many body bytes as Content-Length says.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&raw).into_owned(),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// An endpoint that accepts connections and never answers: exit 6 once AWSENV_TIMEOUT is spent.
#[test]
fn silent_endpoint_times_out_with_exit_6() {
    let endpoint = FakeEndpoint::start(None);
    let mut sb = Sandbox::new(None);
    sb.set_env("AWS_ENDPOINT_URL", &endpoint.url());
    sb.set_env("AWSENV_TIMEOUT", "2");
    sb.add_account("work", "AKIALONGTERMKEY00001", "long-term-secret", Some("alice"));
    sb.write_accounts_json(ACCOUNTS_JSON);

    let start = Instant::now();
    let out = mfa_command(&sb, "123456").output().unwrap();
    let elapsed = start.elapsed();
    let connections = endpoint.finish().len();
    eprintln!("timeout: exit after {:.2} s, {connections} connection(s) accepted", elapsed.as_secs_f64());

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1500), "gave up after {elapsed:?}, before the timeout");
    assert!(connections >= 1, "awsenv never connected");
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("awsenv: ") && err.contains("timed out"), "{err}");
    assert!(!cache_file(&sb, "work").exists());
}

// ---------------------------------------------------------------------------
// 8. STS rejection
// ---------------------------------------------------------------------------

/// A rejection exactly as AWS STS words it (awsQuery: `ErrorResponse/Error/Code`): exit 5, AWS's
/// code and message and the account on one line, nothing cached.
#[test]
fn sts_rejection_exits_5_with_the_aws_error_code() {
    let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
                <Type>Sender</Type>\n    <Code>InvalidClientTokenId</Code>\n    \
                <Message>The security token included in the request is invalid.</Message>\n  \
                </Error>\n  <RequestId>4a1b2c3d-0000-4000-8000-000000000000</RequestId>\n</ErrorResponse>\n";
    let answer = format!(
        "HTTP/1.1 403 Forbidden\r\nx-amzn-RequestId: 4a1b2c3d-0000-4000-8000-000000000000\r\n\
         Content-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let endpoint = FakeEndpoint::start(Some(answer));
    let mut sb = Sandbox::new(None);
    sb.set_env("AWS_ENDPOINT_URL", &endpoint.url());
    sb.add_account("work", "AKIAUNKNOWNUNKNOWN00", "not-a-real-secret-key-at-all-000000000", Some("alice"));
    sb.write_accounts_json(ACCOUNTS_JSON);

    let out = mfa_command(&sb, "123456").output().unwrap();
    let requests = endpoint.finish();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("awsenv: ") && err.contains("InvalidClientTokenId") && err.contains("work"),
        "{err}"
    );
    assert!(err.contains("The security token included in the request is invalid."), "{err}");
    assert!(!cache_file(&sb, "work").exists(), "a session was cached");
    // A rejection is final: one request, which carried the device and the code.
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].contains("Action=GetSessionToken")
            && requests[0].contains("SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice")
            && requests[0].contains("TokenCode=123456"),
        "{}",
        requests[0]
    );
}

/// Moto checking signatures rejects an unknown key and a wrong secret: exit 5, one line naming
/// the account and the cause, nothing cached, no session made.
///
/// Moto 5 words its auth errors `ErrorResponse/Errors/Error` (EC2 style), which the SDK's awsQuery
/// parser does not read, so the cause has to come from the HTTP status when there is no code.
#[test]
fn moto_rejection_exits_5_and_caches_nothing() {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let sb = Sandbox::new(Some(&moto));
    let (key, _secret) = moto.create_user("alice");
    sb.add_account("ghost", "AKIAUNKNOWNUNKNOWN00", "not-a-real-secret-key-at-all-000000000", Some("alice"));
    sb.add_account("forged", &key, "wrong-secret-wrong-secret-wrong-secret00", Some("alice"));
    sb.write_accounts_json(
        r#"{"ghost": "arn:aws:iam::123456789012:", "forged": "arn:aws:iam::123456789012:"}"#,
    );

    // Both accounts sign with alice's device, and AWS has answered the first one's code (with a
    // rejection), so each account sends a code of its own: the same code would be refused (exit 4)
    // before reaching AWS, and the second rejection would go untested.
    let mut failures = Vec::new();
    for (account, code) in [("ghost", "InvalidClientTokenId"), ("forged", "SignatureDoesNotMatch")] {
        let out = sb
            .awsenv()
            .args(["mfa", "--shell", "bash", account])
            .env("AWSENV_MFA_CODE", fresh_code())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{account}: {err}");
        assert!(out.stdout.is_empty(), "{account}: {}", stdout(&out));
        assert_eq!(err.lines().count(), 1, "{account}: {err}");
        assert!(err.starts_with("awsenv: ") && err.contains(account), "{err}");
        assert!(!cache_file(&sb, account).exists(), "{account}: a session was cached");
        if !(err.contains(code) || err.contains("403")) {
            failures.push(format!("{account}: neither {code} nor HTTP 403 in: {}", err.trim_end()));
        }
    }
    assert_eq!(moto.sts_token_count(), 0);
    assert!(failures.is_empty(), "the rejection's cause is lost:\n{}", failures.join("\n"));
}
