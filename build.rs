//! Records the commit the binary is built from, for `awsenv version`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|out| out.status.success())?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned()).filter(|text| !text.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=AWSENV_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself, the branch it points to, and packed refs.
    if let (Some(git_dir), Some(common_dir)) =
        (git(&["rev-parse", "--git-dir"]), git(&["rev-parse", "--git-common-dir"]))
    {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        // A file named here that does not exist makes every build stale (and a release build
        // relinks for minutes): packed-refs is often absent in a fresh worktree.
        let packed_refs = format!("{common_dir}/packed-refs");
        if std::path::Path::new(&packed_refs).exists() {
            println!("cargo:rerun-if-changed={packed_refs}");
        }
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={common_dir}/{branch}");
        }
    }
}
