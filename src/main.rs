use std::process::ExitCode;

fn main() -> ExitCode {
    awsenv::run(std::env::args_os().collect())
}
