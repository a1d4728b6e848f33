use anyhow::Result;

use super::{Context, Run, print};

/// `awsenv version`: the version and the commit, as `--version` prints them.
pub struct Version;

impl Run for Version {
    fn run(&self, _ctx: &Context) -> Result<()> {
        print(format!("awsenv {}\n", crate::VERSION).as_bytes())
    }
}
