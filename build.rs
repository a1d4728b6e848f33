//! Records the commit the binary is built from, for `awsenv version`, and writes the values
//! the shell code shares with the binary (`src/shared.rs`) into the shell files.

use std::process::Command;

#[allow(dead_code, reason = "build.rs uses the table; the crate uses the constants")]
mod shared {
    include!("src/shared.rs");
}

/// `shell/awsenv.SHELL` with each `@NAME@` replaced, in OUT_DIR for `include_str!`.
fn shell_files() {
    #[allow(clippy::disallowed_methods, reason = "a build script's input is its environment")]
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["awsenv.bash", "awsenv.zsh", "awsenv.fish"] {
        let source = format!("shell/{name}");
        println!("cargo:rerun-if-changed={source}");
        let mut text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
        for (placeholder, value) in shared::PLACEHOLDERS {
            text = text.replace(placeholder, &value.to_string());
        }
        if let Some(at) =
            text.find('@').filter(|&at| text[at + 1..].starts_with(|c: char| c.is_ascii_uppercase()))
        {
            let line = text[..at].lines().count();
            panic!("{source}:{line}: a placeholder src/shared.rs does not define");
        }
        let layout = layout(&source, &text);
        std::fs::write(std::path::Path::new(&out).join(name), text).expect("OUT_DIR is writable");
        std::fs::write(std::path::Path::new(&out).join(format!("{name}.layout.rs")), layout)
            .expect("OUT_DIR is writable");
    }
    println!("cargo:rerun-if-changed=src/shared.rs");
}

/// Where `awsenv init` cuts the script, as a `shell::Layout` expression: the binary's one
/// placeholder, and each optional section from its `# >>> awsenv:NAME` line to the end of its
/// `# <<< awsenv:NAME` line. Found here once, so that `init` copies slices and searches nothing.
fn layout(source: &str, text: &str) -> String {
    let once = |needle: &str| {
        let mut found = text.match_indices(needle).map(|(at, _)| at);
        match (found.next(), found.next()) {
            (Some(at), None) => at,
            _ => panic!("{source}: {needle:?} must be there exactly once"),
        }
    };
    let section = |name: &str| {
        let start = once(&format!("\n# >>> awsenv:{name}\n")) + 1;
        let close = format!("\n# <<< awsenv:{name}\n");
        let end = once(&close) + close.len();
        assert!(start < end, "{source}: section {name} closes before it opens");
        format!("{start}..{end}")
    };
    format!(
        "Layout {{ bin: {}, wrapper: {}, prompt_hook: {} }}\n",
        once("'::AWSENV_BIN::'"),
        section("wrapper"),
        section("prompt-hook")
    )
}

/// The release build under .cargo/static-pie.toml, which names the list in AWSENV_HOT_SYMBOLS:
/// the functions that the hot paths run go first and together in `.text` (lld's
/// `--symbol-ordering-file`). Each page fault of these short-lived processes costs about 2 us on
/// the benchmark's machine; scattered over 5.5 MB of code, those functions took 24 to 43 faults,
/// and together about 11. Names carry a hash of the profile, so the file's profile keeps the symbol
/// table (`strip = false`) and this strips it at the link instead: `scripts/bench --hot-symbols`
/// then builds the very same names with AWSENV_KEEP_SYMBOLS=1 and writes the list anew. A name the
/// build does not have (after a toolchain or dependency update) is skipped without a word; only the
/// layout suffers. The order needs rustc's own lld, the default of x86_64-unknown-linux-gnu since
/// rustc 1.90, unless a linker or linker flags are chosen (GNU ld has no such option).
#[allow(clippy::disallowed_methods, reason = "a build script's input is its environment")]
fn release_link() {
    for name in ["AWSENV_HOT_SYMBOLS", "AWSENV_KEEP_SYMBOLS", "RUSTC_LINKER"] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let Some(list) = std::env::var_os("AWSENV_HOT_SYMBOLS") else {
        return;
    };
    if var("PROFILE") != "release" {
        return;
    }
    if std::env::var_os("AWSENV_KEEP_SYMBOLS").is_none() {
        match var("CARGO_CFG_TARGET_OS").as_str() {
            "macos" | "ios" => println!("cargo:rustc-link-arg-bins=-Wl,-S,-x"),
            "windows" => {}
            _ => println!("cargo:rustc-link-arg-bins=-Wl,--strip-all"),
        }
    }
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_lld = var("TARGET") == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !["linker", "fuse-ld"].iter().any(|flag| flags.contains(flag));
    if !own_lld {
        return;
    }
    let list = std::path::PathBuf::from(list);
    println!("cargo:rerun-if-changed={}", list.display());
    if !list.is_file() {
        println!("cargo:warning=AWSENV_HOT_SYMBOLS names {}, which is not a file", list.display());
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", list.display());
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|out| out.status.success())?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned()).filter(|text| !text.is_empty())
}

fn main() {
    shell_files();
    release_link();
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=AWSENV_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself, the branch it points to, and packed refs. Only files
    // that exist: cargo takes a missing one as changed, and would rebuild awsenv on every build.
    if let (Some(git_dir), Some(common_dir)) =
        (git(&["rev-parse", "--git-dir"]), git(&["rev-parse", "--git-common-dir"]))
    {
        let mut watched = vec![format!("{git_dir}/HEAD"), format!("{common_dir}/packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(format!("{common_dir}/{branch}"));
        }
        for path in watched.iter().filter(|path| std::path::Path::new(path).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
