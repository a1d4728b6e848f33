//! awsenv as a library: the binary's `main` calls `run`; the fuzz targets (under `fuzz/`) reach the
//! parsers and renderers that see outside input through `fuzzing`. Nothing else is public.

mod accounts;
mod aws;
mod cache;
mod cli;
mod cmd;
mod codes;
mod config;
mod creds;
mod error;
mod files;
mod imds;
mod ini;
mod keycache;
mod keymap;
mod profile;
mod qr;
mod session;
mod shell;
mod sshagent;
mod store;
mod tty;

use std::ffi::OsString;
use std::process::ExitCode;

/// The version and the commit it was built from, as `--version` and `awsenv version` print it.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AWSENV_COMMIT"), ")");

/// Runs awsenv with `args` (the program name first) and returns its exit code. Every error ends
/// here as one line on stderr.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let cli = match cli::Cli::parse_fast(&args).map_or_else(|| cli::Cli::parse_args(&args), Ok) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let result = config::debug().and_then(|debug| {
        error::enable_debug(cli.debug || debug);
        cmd::run(&cli)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = error::one_line(&error);
            if !message.is_empty() {
                eprintln!("awsenv: {message}");
            }
            ExitCode::from(error::exit_code(&error) as u8)
        }
    }
}

/// The parsers and renderers that see outside input, for the fuzz targets. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::cache::file_key;
    pub use crate::cli::Shell;
    pub use crate::creds::parse_human_duration;
}
