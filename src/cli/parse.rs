//! From arguments to a `Cli`: clap for everything, and before it a clap-free path for the forms
//! the shell functions run on every prompt and switch.

use std::ffi::OsString;

use clap::Parser;
use clap::error::ErrorKind;

use super::*;

impl Cli {
    /// Parses with clap. Help and version go to stdout with exit 0; an error becomes one line,
    /// `awsenv: ...`, on stderr with the usage exit code, like every other error.
    pub fn parse_args(args: &[OsString]) -> Result<Self, u8> {
        match Self::try_parse_from(args) {
            Ok(cli) => Ok(cli),
            Err(error) if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                let _ = error.print();
                Err(0)
            }
            Err(error) => {
                let text = match error.kind() {
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        "a command is required; see awsenv --help".to_owned()
                    }
                    _ => error.to_string(),
                };
                let line =
                    text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("invalid usage");
                let line = line.strip_prefix("error: ").unwrap_or(line);
                eprintln!("awsenv: {line} (see awsenv --help)");
                Err(crate::error::Exit::Usage as u8)
            }
        }
    }

    /// The forms the shell functions run at start-up, on every switch, prompt, `ec2role` and aws
    /// call, and the `credential_process` line of the README, recognised without clap: building
    /// clap's command tree costs more than their work (callgrind: about 180k instructions, where
    /// `awsenv switch` executes 295k in all). Anything else goes through
    /// `Cli::parse_args`.
    pub fn parse_fast(args: &[OsString]) -> Option<Self> {
        let args: Vec<&str> = args.iter().skip(1).map(|arg| arg.to_str()).collect::<Option<_>>()?;
        let shell = |name: &str| match name {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        };
        // A value clap would take as an option instead is left to clap, and to its error.
        let value = |text: &str| (!text.starts_with('-')).then(|| text.to_owned());
        let switch = |sh: &str, only_changes: bool, account: &str| {
            Some(Command::Switch(Switch {
                shell: shell(sh)?,
                only_changes,
                account: Some(account.to_owned()),
            }))
        };
        let refresh = |sh: &str, only_changes: bool| {
            Some(Command::Refresh(Refresh { shell: shell(sh)?, only_changes, code: None }))
        };
        let assume = |format: &str, only_changes: bool, account: &str, role: &str| {
            Some(Command::Assume(Assume {
                account: value(account)?,
                role: value(role)?,
                duration: None,
                session_name: None,
                external_id: None,
                code: None,
                min_ttl: None,
                format: Format::from_str(format, false).ok()?,
                only_changes,
            }))
        };
        let credential_process = |account: &str, role: Option<&str>| {
            let role = match role {
                Some(role) => Some(value(role)?),
                None => None,
            };
            let min_ttl = "15m".to_owned();
            Some(Command::CredentialProcess(CredentialProcess {
                account: Some(value(account)?),
                role,
                min_ttl,
                certificate: CertificateArgs::default(),
            }))
        };
        let command = match args.as_slice() {
            ["init", sh] => Command::Init(Init { shell: shell(sh)?, no_prompt: false, no_wrapper: false }),
            ["switch", "--shell", sh, "--", account] => switch(sh, false, account)?,
            ["switch", "--shell", sh, account] if !account.starts_with('-') => switch(sh, false, account)?,
            ["switch", "--shell", sh, "--only-changes", "--", account] => switch(sh, true, account)?,
            ["prompt", "--shell", sh] => Command::Prompt(Prompt { shell: shell(sh)? }),
            ["refresh", "--shell", sh] => refresh(sh, false)?,
            ["refresh", "--shell", sh, "--only-changes"] => refresh(sh, true)?,
            ["assume", "--format", format, "--account", account, "--role", role] => {
                assume(format, false, account, role)?
            }
            ["assume", "--format", format, "--only-changes", "--account", account, "--role", role] => {
                assume(format, true, account, role)?
            }
            ["credential-process", account] => credential_process(account, None)?,
            ["credential-process", account, "--role", role] => credential_process(account, Some(role))?,
            _ => return None,
        };
        Some(Self { config: None, debug: false, command })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_reads_what_clap_reads() {
        let forms: [&[&str]; 20] = [
            &["awsenv", "init", "zsh"],
            &["awsenv", "switch", "--shell", "fish", "work"],
            &["awsenv", "switch", "--shell", "bash", "--", "-odd"],
            &["awsenv", "prompt", "--shell", "bash"],
            &["awsenv", "refresh", "--shell", "zsh"],
            &["awsenv", "assume", "--format", "bash", "--account", "work", "--role", "Admin"],
            &["awsenv", "assume", "--format", "zsh", "--account", "work", "--role", "arn:aws:iam::1:role/R"],
            &["awsenv", "assume", "--format", "fish", "--account", "work", "--role", "R"],
            &["awsenv", "credential-process", "work"],
            &["awsenv", "credential-process", "work", "--role", "Admin"],
            &["awsenv", "switch", "--shell", "zsh", "--only-changes", "--", "work"],
            &["awsenv", "refresh", "--shell", "fish", "--only-changes"],
            &["awsenv", "assume", "--format", "bash", "--only-changes", "--account", "work", "--role", "R"],
            &["awsenv", "assume", "--format", "fish", "--only-changes", "--account", "w", "--role", "--help"],
            &["awsenv", "switch", "--shell", "bash", "--help"],
            &["awsenv", "init", "tcsh"],
            &["awsenv", "assume", "--format", "tcsh", "--account", "work", "--role", "R"],
            &["awsenv", "assume", "--format", "bash", "--account", "work", "--role", "--help"],
            &["awsenv", "credential-process", "--help"],
            &["awsenv", "credential-process", "work", "--role", "--help"],
        ];
        for form in forms {
            let args: Vec<OsString> = form.iter().map(OsString::from).collect();
            match Cli::parse_fast(&args) {
                Some(fast) => {
                    assert_eq!(
                        format!("{fast:?}"),
                        format!("{:?}", Cli::try_parse_from(&args).unwrap()),
                        "{form:?}"
                    )
                }
                None => assert!(form.contains(&"--help") || form.contains(&"tcsh"), "{form:?} not taken"),
            }
        }
    }
}
