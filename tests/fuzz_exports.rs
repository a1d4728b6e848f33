//! The exports fuzz target's corpus (fuzz/corpus/exports, where crash reproducers are kept too)
//! through the real shells: each file's bytes are an account's secret key, and `eval` (bash, zsh)
//! or `source` (fish) of `awsenv switch --shell SHELL` gives back exactly the bytes awsenv read
//! (the key file without a byte-order mark and surrounding blanks). A value with a NUL byte, which
//! no shell can hold, is refused with one line on stderr and nothing on stdout.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{Sandbox, Shell, stderr};

const ACCOUNT: &str = "fz";

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/exports");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the exports corpus has only {} files", files.len());
    files
}

fn write_key(sandbox: &Sandbox, suffix: &str, bytes: &[u8]) {
    let path = sandbox.store().join(format!("{ACCOUNT}.{suffix}"));
    fs::write(&path, bytes).expect("write a key file");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod a key file");
}

/// What awsenv reads from a key file: no byte-order mark, no surrounding ASCII blanks.
fn key_value(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes).trim_ascii()
}

fn read_back_script(shell: Shell) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!(
            "out=$(awsenv switch --shell {shell} {ACCOUNT}) || exit 9\n\
             eval \"$out\" || exit 8\n\
             printf %s \"$AWS_SECRET_ACCESS_KEY\""
        ),
        // `source` ends with the status of the last line it ran (an unset of a variable that was
        // not set is 4), so what is checked is the value read back.
        Shell::Fish => format!(
            "awsenv switch --shell fish {ACCOUNT} | source\n\
             printf %s \"$AWS_SECRET_ACCESS_KEY\""
        ),
    }
}

#[test]
fn exports_corpus_reads_back_through_bash_zsh_and_fish() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in corpus() {
        let bytes = fs::read(&file).expect("read a corpus file");
        let value = key_value(&bytes);
        let sandbox = Sandbox::new(None);
        write_key(&sandbox, "access_key", b"AKIAFUZZEXAMPLE\n");
        write_key(&sandbox, "secret_key", &bytes);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if value.is_empty() || value.contains(&0) || bytes.len() > 64 * 1024 {
            let output =
                sandbox.awsenv().args(["switch", "--shell", "bash", ACCOUNT]).output().expect("run awsenv");
            let err = stderr(&output);
            if output.status.success()
                || !output.stdout.is_empty()
                || !err.starts_with("awsenv: ")
                || err.lines().count() != 1
            {
                failures.push(format!("{name}: not refused cleanly: {} {err:?}", output.status));
            }
            checked += 1;
            continue;
        }
        for shell in Shell::ALL {
            let output = sandbox.run_shell(shell, &read_back_script(shell));
            if !output.status.success() || output.stdout != value {
                failures.push(format!(
                    "{name} in {shell}: {}; wanted {:?}, read back {:?}; stderr {:?}",
                    output.status,
                    String::from_utf8_lossy(value),
                    String::from_utf8_lossy(&output.stdout),
                    stderr(&output)
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
}
