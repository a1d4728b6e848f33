//! Questions for the person at the terminal. They go to `/dev/tty`, never to stdout, so they work
//! inside `eval "$(...)"`, pipes and `credential_process`.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};

use anyhow::Result;

use crate::error::{Exit, fail};

/// An MFA code is six digits; checked before anything reaches the network.
pub fn is_mfa_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Asks for an MFA code on the terminal, again after a malformed answer, at most three times.
pub fn ask_mfa_code(prompt: &str, no_terminal_hint: &str) -> Result<String> {
    let tty = OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| {
        fail(
            Exit::MfaCode,
            format!("an MFA code is needed and there is no terminal to ask for it; {no_terminal_hint}"),
        )
    })?;
    let mut writer = &tty;
    let mut reader = BufReader::new(&tty);
    for _ in 0..3 {
        writer.write_all(prompt.as_bytes())?;
        writer.flush()?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            writer.write_all(b"\n")?;
            return Err(fail(Exit::Interrupted, "no MFA code entered"));
        }
        let code = line.trim();
        if is_mfa_code(code) {
            return Ok(code.to_owned());
        }
        writer.write_all(format!("Not a valid code: {code:?} (6 digits expected)\n").as_bytes())?;
    }
    Err(fail(Exit::MfaCode, "no valid MFA code after three tries"))
}
