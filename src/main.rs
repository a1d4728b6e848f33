mod aws;
mod cache;
mod cli;
mod cmd;
mod config;
mod creds;
mod error;
mod session;
mod shell;
mod store;
mod tty;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
