mod accounts;
mod aws;
mod cache;
mod cli;
mod cmd;
mod codes;
mod config;
mod creds;
mod error;
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

use std::process::ExitCode;

use clap::Parser;

/// The version and the commit it was built from, as `--version` and `awsenv version` print it.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AWSENV_COMMIT"), ")");

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let fast = config::clap_env_unset().then(|| cli::Cli::parse_fast(&args)).flatten();
    let cli = fast.unwrap_or_else(|| cli::Cli::parse_from(&args));
    error::enable_debug(cli.debug || config::legacy_debug());
    match cmd::run(&cli) {
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
