//! `awsenv provision-mfa` and MFA device discovery against a local moto: the QR code drawn in a
//! real terminal (tmux) is read back from the pane and decoded with rqrr, the codes typed at the
//! prompts are real TOTP codes of the seed moto holds, and every way out of provisioning (a device
//! already there, no terminal, Ctrl-C, a refused EnableMFADevice) must leave no device behind.
//!
//! Needs tmux, setsid, bash and python3 with moto and boto3; a missing tool fails the test.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::cache::cache_file;
use common::tmux::{Pane, Tmux};
use common::{MOTO_ACCOUNT_ID, Moto, Sandbox, Shell, require_tool, show, stderr, stdout};

const FIRST_PROMPT: &str = "Please enter the 1st 6 digit MFA code:";
const SECOND_PROMPT: &str = "Please enter the 2nd 6 digit MFA code:";
const ISSUER: &str = "Amazon%20Web%20Services";
/// The quiet zone awsenv promises around the code, in modules.
const QUIET_ZONE: usize = 4;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A moto user `carol` whose keys are the store account `lab` (no `lab.user`, no accounts.json).
fn lab(moto: &Moto) -> Sandbox {
    let (key, secret) = moto.create_user("carol");
    let sb = Sandbox::new(Some(moto));
    sb.add_account("lab", &key, &secret, None);
    sb
}

fn serial_file(sb: &Sandbox) -> PathBuf {
    sb.store().join("lab.mfa_serial")
}

fn carol_serial() -> String {
    format!("arn:aws:iam::{MOTO_ACCOUNT_ID}:mfa/carol")
}

/// A virtual MFA device as moto lists it (ListVirtualMFADevices).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Virtual {
    serial: String,
    seed: String,
    user: Option<String>,
}

fn virtual_devices(moto: &Moto) -> Vec<Virtual> {
    let out = moto.boto3(
        r#"
iam = client('iam')
for d in iam.list_virtual_mfa_devices()['VirtualMFADevices']:
    seed = d.get('Base32StringSeed', b'')
    if isinstance(seed, bytes):
        seed = seed.decode()
    print(json.dumps({'serial': d['SerialNumber'], 'seed': seed,
                      'user': (d.get('User') or {}).get('UserName')}))
"#,
        &[],
    );
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("device JSON");
            Virtual {
                serial: v["serial"].as_str().expect("serial").to_owned(),
                seed: v["seed"].as_str().expect("seed").to_owned(),
                user: v["user"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// The serials ListMFADevices gives for `user`.
fn user_devices(moto: &Moto, user: &str) -> Vec<String> {
    let out = moto.boto3(
        r#"
iam = client('iam')
for d in iam.list_mfa_devices(UserName=os.environ['IAM_USER'])['MFADevices']:
    print(d['SerialNumber'])
"#,
        &[("IAM_USER", user)],
    );
    out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The one virtual device moto has, with its seed.
fn only_device(moto: &Moto) -> Virtual {
    let devices = virtual_devices(moto);
    assert_eq!(devices.len(), 1, "moto should hold exactly one virtual MFA device: {devices:?}");
    let device = devices[0].clone();
    assert_eq!(device.serial, carol_serial(), "the device is named after the IAM user");
    assert_eq!(device.seed.len(), 64, "moto's seed: {device:?}");
    assert!(device.seed.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    device
}

/// Three consecutive TOTP codes (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) of the base32 `seed`,
/// starting one step before `at` (seconds since the epoch; now when None).
fn totp(sb: &Sandbox, seed: &str, at: Option<u64>) -> Vec<String> {
    let script = "import base64, hmac, hashlib, os, struct, time\n\
                  key = base64.b32decode(os.environ['SEED'])\n\
                  at = int(os.environ.get('AT') or time.time())\n\
                  for step in range(at // 30 - 1, at // 30 + 2):\n    \
                      h = hmac.new(key, struct.pack('>Q', step), hashlib.sha1).digest()\n    \
                      o = h[-1] & 15\n    \
                      print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))\n";
    let mut cmd = sb.command("python3");
    cmd.args(["-c", script]).env("SEED", seed);
    if let Some(at) = at {
        cmd.env("AT", at.to_string());
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run python3: {e}"));
    assert!(out.status.success(), "TOTP: {}", show(&out));
    let codes: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert!(codes.len() == 3 && codes.iter().all(|c| c.len() == 6), "TOTP codes: {codes:?}");
    codes
}

// ---------------------------------------------------------------------------
// A terminal: bash in its own tmux server
// ---------------------------------------------------------------------------

/// bash in a 200x80 pane of its own tmux server, with the sandbox's environment.
fn terminal(sb: &Sandbox) -> Pane {
    Tmux::in_sandbox(sb).session("t", (200, 80), Shell::Bash, &["bash", "--norc", "--noprofile"])
}

// ---------------------------------------------------------------------------
// Reading the QR code back from the pane
// ---------------------------------------------------------------------------

const BLOCKS: [char; 3] = ['█', '▀', '▄'];

/// The character lines of the one QR code in the pane, padded to the same width. The lines of the
/// quiet zone that hold no dark module are blank and are not included.
fn qr_lines(screen: &str) -> Vec<Vec<char>> {
    let lines: Vec<&str> = screen.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains(BLOCKS))
        .unwrap_or_else(|| panic!("no QR code in the pane:\n{screen}"));
    let end = start + lines[start..].iter().take_while(|l| l.contains(BLOCKS)).count();
    assert!(
        !lines[end..].iter().any(|l| l.contains(BLOCKS)),
        "more than one block of half-block characters in the pane:\n{screen}"
    );
    // Top quiet zone: four light modules are two blank character lines.
    assert!(
        start >= QUIET_ZONE / 2 && lines[start - QUIET_ZONE / 2..start].iter().all(|l| l.trim().is_empty()),
        "no {QUIET_ZONE}-module quiet zone above the QR code:\n{screen}"
    );
    let mut cells: Vec<Vec<char>> = lines[start..end].iter().map(|l| l.chars().collect()).collect();
    for line in &cells {
        assert!(
            line.iter().all(|c| *c == ' ' || BLOCKS.contains(c)),
            "a QR line holds something else than half blocks: {:?}",
            line.iter().collect::<String>()
        );
    }
    let width = cells.iter().map(Vec::len).max().unwrap_or(0);
    for line in &mut cells {
        line.resize(width, ' ');
    }
    cells
}

/// Decodes the drawn code: each cell is one module wide and two tall.
fn decode_qr(cells: &[Vec<char>]) -> String {
    let mut rows: Vec<Vec<bool>> = Vec::new();
    for line in cells {
        rows.push(line.iter().map(|c| matches!(c, '█' | '▀')).collect());
        rows.push(line.iter().map(|c| matches!(c, '█' | '▄')).collect());
    }
    // The code starts at the terminal's first column after its quiet zone, and on a top half.
    let left = rows.iter().filter_map(|r| r.iter().position(|&d| d)).min().expect("a dark module");
    assert_eq!(left, QUIET_ZONE, "the left quiet zone is {left} modules");
    assert!(rows[0].iter().any(|&d| d), "the first drawn line starts with a light module row");
    let (margin, scale) = (8, 4);
    let (w, h) = (rows[0].len() + 2 * margin, rows.len() + 2 * margin);
    let dark = |x: usize, y: usize| {
        let (x, y) = (x / scale, y / scale);
        x >= margin && y >= margin && rows.get(y - margin).and_then(|r| r.get(x - margin)) == Some(&true)
    };
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(
            w * scale,
            h * scale,
            |x, y| {
                if dark(x, y) { 0 } else { 255 }
            },
        );
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "rqrr found {} QR codes in the drawing", grids.len());
    let (_, text) = grids[0].decode().unwrap_or_else(|e| panic!("the QR code does not decode: {e:?}"));
    text
}

/// The numbers of every SGR escape sequence (`ESC [ n;m... m`) in `text`.
fn sgr_parameters(text: &str) -> Vec<u32> {
    let mut numbers = Vec::new();
    for part in text.split("\x1b[").skip(1) {
        if let Some((parameters, _)) = part.split_once('m')
            && parameters.bytes().all(|b| b.is_ascii_digit() || b == b';')
        {
            numbers.extend(parameters.split(';').filter_map(|n| n.parse::<u32>().ok()));
        }
    }
    numbers
}

fn expected_uri(user: &str, seed: &str) -> String {
    format!("otpauth://totp/{ISSUER}:{user}@{MOTO_ACCOUNT_ID}?secret={seed}&issuer={ISSUER}")
}

/// Starts `awsenv provision-mfa ARGS` in the terminal and waits for the first code prompt.
fn provision_until_prompt(term: &Pane, args: &str) -> (usize, String) {
    let n = term.start_command(&format!("awsenv provision-mfa {args}"));
    let screen = term.wait("the 1st code prompt", |s| s.contains(FIRST_PROMPT) || s.contains("EXIT-"));
    assert!(screen.contains(FIRST_PROMPT), "awsenv ended before asking for a code:\n{screen}");
    (n, screen)
}

// ---------------------------------------------------------------------------
// 1. End to end
// ---------------------------------------------------------------------------

#[test]
fn provision_draws_a_decodable_qr_code_and_activates_the_device() {
    let moto = Moto::start();
    let sb = lab(&moto);
    // The TOTP helper against RFC 6238's test vector (SHA1, T=59 s, last six of 94287082).
    let rfc = totp(&sb, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Some(59 + 30));
    assert_eq!(rfc[0], "287082", "the test's own TOTP is wrong");

    let term = terminal(&sb);
    let (n, screen) = provision_until_prompt(&term, "lab");
    let device = only_device(&moto);
    assert_eq!(device.user, None, "the device is not assigned before the codes");
    let uri = decode_qr(&qr_lines(&screen));
    assert_eq!(uri, expected_uri("carol", &device.seed), "the QR code's text");
    assert!(!screen.contains(&device.seed), "the secret is shown without --show-secret:\n{screen}");
    assert!(!screen.contains("Secret for manual entry"), "{screen}");

    // Black on white, explicitly: the quiet zone's first line and the code carry a foreground and a
    // background colour (tmux's capture gives each colour once, where it starts).
    let coloured = term.capture(&["-e", "-S", "-"]);
    let lines: Vec<&str> = coloured.lines().collect();
    let first = lines.iter().position(|l| l.contains(BLOCKS)).expect("a QR line");
    let colours = sgr_parameters(&lines[first.saturating_sub(QUIET_ZONE / 2)..=first].join("\n"));
    assert!(
        colours.contains(&30) && (colours.contains(&47) || colours.contains(&107)),
        "the QR code is not drawn black on white (SGR parameters {colours:?}):\n{}",
        lines[first.saturating_sub(QUIET_ZONE / 2)..=first].join("\n")
    );

    let codes = totp(&sb, &device.seed, None);
    term.type_line(&codes[0]);
    term.wait("the 2nd code prompt", |s| s.contains(SECOND_PROMPT));
    term.type_line(&codes[1]);
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 0, "provision-mfa failed:\n{screen}");
    let serial = carol_serial();
    let path = serial_file(&sb);
    assert!(
        screen.contains(&format!("Virtual MFA device {serial} activated for IAM user carol"))
            && screen.contains(&path.display().to_string()),
        "no activation message:\n{screen}"
    );
    assert!(!screen.contains(&device.seed), "the secret was shown:\n{screen}");
    assert_eq!(user_devices(&moto, "carol"), vec![serial.clone()], "ListMFADevices for carol");
    let after = only_device(&moto);
    assert_eq!((after.seed.as_str(), after.user.as_deref()), (device.seed.as_str(), Some("carol")));

    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(text.trim(), serial, "{}", path.display());
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode of {}", path.display());

    // ec2mfa now uses that serial, with no account file and no discovery.
    assert!(!sb.store().join("accounts.json").exists());
    let out = sb
        .awsenv()
        .args(["--debug", "mfa", "--shell", "bash", "lab"])
        .env("AWSENV_MFA_CODE", &codes[2])
        .output()
        .unwrap();
    assert!(out.status.success(), "awsenv mfa after provisioning: {}", show(&out));
    assert!(!stderr(&out).contains("found; remembered"), "the device was looked up again: {}", show(&out));
    assert!(
        stderr(&out).contains(&format!("sts GetSessionToken serial {serial} ")),
        "GetSessionToken was not called with {serial}: {}",
        show(&out)
    );
    assert_eq!(moto.sts_token_count(), 1, "GetSessionToken calls");
}

// ---------------------------------------------------------------------------
// 2. --show-secret
// ---------------------------------------------------------------------------

#[test]
fn show_secret_prints_the_seed_of_the_qr_code() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let term = terminal(&sb);
    let (n, screen) = provision_until_prompt(&term, "lab --show-secret");
    let device = only_device(&moto);
    let uri = decode_qr(&qr_lines(&screen));
    assert_eq!(uri, expected_uri("carol", &device.seed), "the QR code's text");
    let printed: Vec<&str> =
        screen.lines().filter_map(|l| l.strip_prefix("Secret for manual entry: ")).map(str::trim).collect();
    assert_eq!(printed, vec![device.seed.as_str()], "the printed secret:\n{screen}");

    term.keys(&["C-c"]);
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 130, "after Ctrl-C:\n{screen}");
}

// ---------------------------------------------------------------------------
// 3. A device already there
// ---------------------------------------------------------------------------

#[test]
fn a_user_with_a_device_is_refused_with_exit_10() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let existing = moto.create_virtual_mfa("carol");
    let term = terminal(&sb);
    let n = term.start_command("awsenv provision-mfa lab");
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 10, "provision-mfa for a user with a device:\n{screen}");
    assert!(
        screen.contains("IAM user carol already has an MFA device") && screen.contains(&existing),
        "the message does not name the existing device:\n{screen}"
    );
    assert!(!screen.contains(FIRST_PROMPT) && !screen.contains(BLOCKS), "{screen}");
    let devices = virtual_devices(&moto);
    assert_eq!(devices.len(), 1, "a device was created: {devices:?}");
    assert_eq!(devices[0].serial, existing);
    assert_eq!(user_devices(&moto, "carol"), vec![existing]);
    assert!(!serial_file(&sb).exists());
}

// ---------------------------------------------------------------------------
// 4. No terminal
// ---------------------------------------------------------------------------

#[test]
fn without_a_terminal_nothing_is_created_and_exit_is_4() {
    require_tool("setsid", "--version");
    let moto = Moto::start();
    let sb = lab(&moto);
    let requests = |log: &str| log.matches("\"POST / ").count();
    let before = requests(&moto.log_contents());
    assert!(before > 0, "moto's log does not show requests as expected:\n{}", moto.log_contents());
    let out = sb
        .command("setsid")
        .args(["--wait", env!("CARGO_BIN_EXE_awsenv"), "provision-mfa", "lab"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run setsid: {e}"));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    assert!(stderr(&out).contains("provision-mfa needs a terminal"), "{}", show(&out));
    assert!(virtual_devices(&moto).is_empty(), "a device was created: {:?}", virtual_devices(&moto));
    assert!(!serial_file(&sb).exists());
    // Not even GetCallerIdentity: the terminal is checked first (the two listings above made 1).
    let after = requests(&moto.log_contents());
    assert!(after <= before + 1, "awsenv called AWS without a terminal ({before} -> {after} requests)");
}

// ---------------------------------------------------------------------------
// 5. Ctrl-C rolls back
// ---------------------------------------------------------------------------

#[test]
fn ctrl_c_at_the_prompt_deletes_the_device() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let term = terminal(&sb);
    let (n, _) = provision_until_prompt(&term, "lab");
    assert_eq!(virtual_devices(&moto).len(), 1, "the device exists while awsenv asks");
    term.keys(&["C-c"]);
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 130, "exit status after Ctrl-C:\n{screen}");
    assert!(
        screen.contains(&format!("awsenv: deleting the unfinished MFA device {}", carol_serial())),
        "no rollback message:\n{screen}"
    );
    assert!(!screen.contains("could not delete"), "{screen}");
    assert!(virtual_devices(&moto).is_empty(), "left behind: {:?}", virtual_devices(&moto));
    assert!(user_devices(&moto, "carol").is_empty());
    assert!(!serial_file(&sb).exists(), "lab.mfa_serial written after Ctrl-C");
}

/// A provision-mfa killed with SIGKILL leaves its device behind, not enabled; the next run replaces
/// it instead of failing with EntityAlreadyExists.
#[test]
fn a_device_left_by_a_killed_run_is_replaced() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let term = terminal(&sb);
    let (killed, _) = provision_until_prompt(&term, "lab");
    let left = only_device(&moto);
    // SIGKILL: no rollback can run. Only this terminal's awsenv: other tests run beside this one.
    let shell_pid = term.tmux(&["list-panes", "-t", "t", "-F", "#{pane_pid}"]).trim().to_owned();
    let out =
        Command::new("pkill").args(["-KILL", "-P", &shell_pid, "-f", "provision-mfa"]).output().unwrap();
    assert!(out.status.success(), "pkill: {}", show(&out));
    let (status, _, _) = term.finish(killed);
    assert_eq!(status, 137, "killed with SIGKILL");
    assert_eq!(virtual_devices(&moto), vec![left.clone()], "the killed run left its device");
    let n = term.start_command("awsenv provision-mfa lab");
    let screen = term.wait("the 1st code prompt again", |s| {
        s.matches(FIRST_PROMPT).count() == 2 || s.contains(&format!("EXIT-{n}:"))
    });
    assert!(
        screen.contains(&format!("awsenv: replacing the unfinished MFA device {}", carol_serial())),
        "no word about the device replaced:\n{screen}"
    );
    let device = only_device(&moto);
    assert_ne!(device.seed, left.seed, "a new device with a new seed");
    let codes = totp(&sb, &device.seed, None);
    term.type_line(&codes[0]);
    term.wait("the 2nd code prompt", |s| s.contains(SECOND_PROMPT));
    term.type_line(&codes[1]);
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 0, "provisioning after a killed run:\n{screen}");
    assert_eq!(user_devices(&moto, "carol"), vec![carol_serial()]);
}

/// Three malformed answers end provisioning like any other failure: the device goes.
#[test]
fn three_bad_codes_delete_the_device() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let term = terminal(&sb);
    let (n, _) = provision_until_prompt(&term, "lab");
    for (tries, answer) in ["12345", "abcdef", "1234567"].iter().enumerate() {
        term.type_line(answer);
        if tries < 2 {
            term.wait("the question again", |s| s.matches(FIRST_PROMPT).count() == tries + 2);
        }
    }
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 4, "after three malformed codes:\n{screen}");
    assert!(screen.contains("Not a valid code: \"12345\""), "{screen}");
    assert!(screen.contains("no valid MFA code after three tries"), "{screen}");
    assert!(screen.contains("awsenv: deleting the unfinished MFA device"), "no rollback message:\n{screen}");
    assert!(virtual_devices(&moto).is_empty(), "left behind: {:?}", virtual_devices(&moto));
    assert!(!serial_file(&sb).exists());
}

// ---------------------------------------------------------------------------
// 6. A refused EnableMFADevice rolls back
// ---------------------------------------------------------------------------

/// The IAM user is deleted while awsenv waits at the prompt, so moto's EnableMFADevice answers
/// NoSuchEntity.
#[test]
fn a_failed_enable_deletes_the_device() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let term = terminal(&sb);
    let (n, _) = provision_until_prompt(&term, "lab");
    let device = only_device(&moto);
    moto.boto3(
        r#"
iam = client('iam')
iam.delete_user_policy(UserName='carol', PolicyName='allow-all')
iam.delete_user(UserName='carol')
"#,
        &[],
    );
    let codes = totp(&sb, &device.seed, None);
    term.type_line(&codes[0]);
    term.wait("the 2nd code prompt", |s| s.contains(SECOND_PROMPT));
    term.type_line(&codes[1]);
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 5, "provision-mfa should exit 5 (AWS refused) for a deleted user:\n{screen}");
    assert!(
        screen.contains("iam EnableMFADevice failed: NoSuchEntity"),
        "the IAM error is not reported:\n{screen}"
    );
    assert!(
        screen.contains(&format!("awsenv: deleting the unfinished MFA device {}", device.serial)),
        "no rollback message:\n{screen}"
    );
    assert!(!screen.contains("activated"), "{screen}");
    assert!(virtual_devices(&moto).is_empty(), "left behind: {:?}", virtual_devices(&moto));
    assert!(!serial_file(&sb).exists());
}

// ---------------------------------------------------------------------------
// 7. Discovery of the serial by ec2mfa
// ---------------------------------------------------------------------------

fn mfa(sb: &Sandbox, code: &str) -> Output {
    sb.awsenv().args(["mfa", "--shell", "bash", "lab"]).env("AWSENV_MFA_CODE", code).output().unwrap()
}

#[test]
fn discovery_finds_and_remembers_the_only_device() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let serial = moto.create_virtual_mfa("carol");
    let path = serial_file(&sb);
    let out = mfa(&sb, "123456");
    assert!(out.status.success(), "{}", show(&out));
    let line =
        format!("awsenv: MFA device {serial} of IAM user carol found; remembered in {}", path.display());
    assert!(stderr(&out).contains(&line), "no discovery line {line:?}: {}", show(&out));
    assert_eq!(fs::read_to_string(&path).expect("lab.mfa_serial").trim(), serial);
    assert_eq!(moto.sts_token_count(), 1);

    let cached = cache_file(&sb, "lab");
    fs::remove_file(&cached).unwrap_or_else(|e| panic!("{}: {e}", cached.display()));
    let out = mfa(&sb, "654321");
    assert!(out.status.success(), "{}", show(&out));
    assert!(!stderr(&out).contains("found; remembered"), "discovered again: {}", show(&out));
    assert_eq!(moto.sts_token_count(), 2);
}

#[test]
fn discovery_with_two_devices_asks_which_one() {
    require_tool("setsid", "--version");
    let moto = Moto::start();
    let sb = lab(&moto);
    let first = moto.create_virtual_mfa("carol");
    let second = moto
        .boto3(
            r#"
iam = client('iam')
serial = iam.create_virtual_mfa_device(VirtualMFADeviceName='carol-2')['VirtualMFADevice']['SerialNumber']
iam.enable_mfa_device(UserName='carol', SerialNumber=serial,
                      AuthenticationCode1='111111', AuthenticationCode2='222222')
print(serial)
"#,
            &[],
        )
        .trim()
        .to_owned();
    assert_eq!(user_devices(&moto, "carol").len(), 2);

    // No terminal: the serials are listed and the file to write is named.
    let out = sb
        .command("setsid")
        .args(["--wait", env!("CARGO_BIN_EXE_awsenv"), "mfa", "--shell", "bash", "lab"])
        .env("AWSENV_MFA_CODE", "123456")
        .output()
        .unwrap_or_else(|e| panic!("cannot run setsid: {e}"));
    assert!(matches!(out.status.code(), Some(3 | 4)), "{}", show(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&first) && err.contains(&second) && err.contains("lab.mfa_serial"),
        "the message should list both devices and suggest lab.mfa_serial: {}",
        show(&out)
    );
    assert!(!serial_file(&sb).exists());
    assert_eq!(moto.sts_token_count(), 0);

    // In a terminal: a numbered list and a question.
    let term = terminal(&sb);
    let n = term.start_command("AWSENV_MFA_CODE=123456 awsenv mfa --shell bash lab >/dev/null");
    let screen = term.wait("the question", |s| s.contains("Which one?") || s.contains("EXIT-"));
    assert!(screen.contains("Which one?"), "no question:\n{screen}");
    assert!(screen.contains("IAM user carol has 2 MFA devices:"), "{screen}");
    let listed = |number: usize| {
        let prefix = format!("  {number}) ");
        screen.lines().find_map(|l| l.strip_prefix(&prefix)).map(|s| s.trim().to_owned())
    };
    assert_eq!((listed(1), listed(2)), (Some(first.clone()), Some(second.clone())), "the list:\n{screen}");
    term.type_line("2");
    let (status, _, screen) = term.finish(n);
    assert_eq!(status, 0, "after choosing:\n{screen}");
    assert!(screen.contains(&format!("MFA device {second} of IAM user carol found")), "{screen}");
    assert_eq!(fs::read_to_string(serial_file(&sb)).expect("lab.mfa_serial").trim(), second);
    assert_eq!(moto.sts_token_count(), 1);
}

#[test]
fn discovery_without_a_device_suggests_provision_mfa() {
    let moto = Moto::start();
    let sb = lab(&moto);
    let out = mfa(&sb, "123456");
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(
        stderr(&out).contains("IAM user carol has no MFA device")
            && stderr(&out).contains("awsenv provision-mfa lab"),
        "{}",
        show(&out)
    );
    assert!(!serial_file(&sb).exists());
    assert_eq!(moto.sts_token_count(), 0);
}
