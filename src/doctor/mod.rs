//! `awsenv doctor`'s checks, one module per part of the setup (the live shell, the store and its
//! accounts, the cache, the environment, the way to AWS), gathered into one report. Nothing here
//! changes a file, takes a lock or prints a secret.

mod aws;
mod cache;
mod environment;
mod locks;
mod report;
mod shell;
mod store;

use std::path::Path;

pub use report::Report;
pub use shell::Facts;

use crate::config::DoctorEnv;
use crate::creds::Timestamp;
use crate::kinds::Env;

/// What the checks look at.
pub struct Inputs<'a> {
    pub env: &'a Env,
    /// The environment beyond `Settings`.
    pub vars: &'a DoctorEnv,
    pub now: Timestamp,
    /// What the shell function saw, when doctor ran through it.
    pub shell: Option<&'a Facts>,
    /// This binary, and the awsenv on PATH.
    pub running: &'a Path,
    pub on_path: Option<&'a Path>,
    pub offline: bool,
}

pub fn examine(inputs: &Inputs) -> Report {
    let mut report = Report::default();
    shell::check(&mut report.section("shell"), inputs.shell, inputs.running, inputs.on_path);
    let accounts = store::check(&mut report.section("store"), inputs.env);
    cache::check(&mut report.section("cache"), inputs.env, &accounts, inputs.now);
    let (settings, vars) = (&inputs.env.settings, inputs.vars);
    environment::check(&mut report.section("environment"), settings, vars, inputs.now);
    aws::check(&mut report.section("aws"), settings, vars, inputs.env.clock, inputs.offline);
    report
}
