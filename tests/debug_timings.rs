//! Under `--debug` or `AWSENV_DEBUG=1`, every command ends with one line saying where its time
//! went (issue "First five minutes"): checked against moto, with a lock held by another process.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::process::output_within;
use common::world::World;
use common::{assert_success, show, stderr};

const LIMIT: Duration = Duration::from_secs(60);
const PHASES: [&str; 7] = ["start-up", "cache read", "lock wait", "code", "AWS", "write", "other"];

/// The milliseconds of each phase of the last stderr line, which must be the timing line.
#[track_caller]
fn timings(out: &Output) -> Vec<(String, f64)> {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default();
    let rest = last
        .strip_prefix("awsenv: debug: time: total ")
        .unwrap_or_else(|| panic!("the last line is not the timing line:\n{}", show(out)));
    let (total, parts) = rest.split_once(" = ").unwrap_or_else(|| panic!("no parts in {last:?}"));
    let ms = |text: &str| -> f64 {
        text.strip_suffix("ms").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{text:?} in {last:?}"))
    };
    let mut found = vec![("total".to_owned(), ms(total))];
    for part in parts.split(", ") {
        let (name, value) = part.rsplit_once(' ').unwrap_or_else(|| panic!("{part:?} in {last:?}"));
        found.push((name.to_owned(), ms(value)));
    }
    let names: Vec<&str> = found[1..].iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, PHASES, "{last:?}");
    let sum: f64 = found[1..].iter().map(|(_, ms)| ms).sum();
    assert!((sum - found[0].1).abs() < 1.0, "the parts add up to the total: {last:?}");
    found
}

fn phase(found: &[(String, f64)], name: &str) -> f64 {
    found.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms).unwrap()
}

#[test]
fn every_command_ends_with_where_its_time_went() {
    let World { moto, sb, .. } = World::for_aws_cli();
    // A new MFA session: the AWS call and the write show.
    let out = output_within(
        sb.awsenv().args(["--debug", "mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", "123456"),
        LIMIT,
    );
    assert_success(&out);
    let found = timings(&out);
    assert!(phase(&found, "AWS") > 0.0 && phase(&found, "write") > 0.0, "{}", show(&out));
    assert_eq!(moto.sts_token_count(), 1);
    // From the cache, with AWSENV_DEBUG: no AWS, no write.
    let out = output_within(
        sb.awsenv().args(["switch", "--shell", "bash", "work"]).env("AWSENV_DEBUG", "1"),
        LIMIT,
    );
    assert_success(&out);
    let found = timings(&out);
    assert_eq!((phase(&found, "AWS"), phase(&found, "write")), (0.0, 0.0), "{}", show(&out));
    assert!(phase(&found, "cache read") > 0.0, "{}", show(&out));
    // A failing command ends with the line too, after its error.
    let out = output_within(sb.awsenv().args(["--debug", "switch", "--shell", "bash", "nosuch"]), LIMIT);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    timings(&out);
    // Not without debugging.
    let out = output_within(sb.awsenv().args(["switch", "--shell", "bash", "work"]), LIMIT);
    assert!(!stderr(&out).contains("time:"), "{}", show(&out));
}

#[test]
fn a_lock_held_elsewhere_shows_as_lock_wait() {
    let World { sb, moto: _moto, .. } = World::for_aws_cli();
    let cache = sb.store().join(".awsenv");
    fs::create_dir_all(&cache).unwrap();
    fs::set_permissions(&cache, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // Another process renewing `work`: flock(1) holds the account's lock for two seconds.
    let mut holder = Command::new("flock")
        .arg(cache.join("work.lock"))
        .args(["sleep", "2"])
        .stdin(Stdio::null())
        .spawn()
        .expect("flock (util-linux) must be installed");
    std::thread::sleep(Duration::from_millis(300));
    let out = output_within(
        sb.awsenv().args(["--debug", "mfa", "--shell", "bash", "work"]).env("AWSENV_MFA_CODE", "123456"),
        LIMIT,
    );
    holder.wait().unwrap();
    assert_success(&out);
    let found = timings(&out);
    assert!(phase(&found, "lock wait") >= 1000.0, "{}", show(&out));
}
