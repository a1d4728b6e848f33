use std::os::unix::ffi::OsStrExt;

use anyhow::Result;

use super::{Context, Run, print};
use crate::cli::Init;
use crate::shell::{InitOptions, account_completion, init_script};

impl Run for Init {
    fn run(&self, ctx: &Context) -> Result<()> {
        let options = InitOptions { prompt_hook: !self.no_prompt, wrapper: !self.no_wrapper };
        let extra = account_completion(self.shell);
        print(&init_script(self.shell, ctx.binary_path()?.as_os_str().as_bytes(), options, extra))
    }
}
