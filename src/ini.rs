//! The aws CLI's shared files, `~/.aws/config` and `~/.aws/credentials`: parsed for profiles,
//! and edited for `awsenv update` so that only the keys it owns change.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cache::write_atomic;
use crate::error::{Exit, fail};

/// One `[section]` and its `key = value` settings, with line numbers for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The header's text between the brackets, trimmed: `default`, `profile dev`, `dev`.
    pub header: String,
    pub line: usize,
    pub settings: Vec<(String, String)>,
}

/// Parses an INI file as botocore reads it: `#` and `;` start comment lines, indented lines
/// continue the previous setting (nested settings such as `s3 =`), and anything else must be a
/// header or `key = value` inside a section. Errors name the file and line.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    let mut in_setting = false;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        let malformed =
            |what: &str| fail(Exit::Config, format!("malformed {}:{number}: {what}", path.display()));
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented && in_setting {
            continue;
        }
        if let Some(inner) = trimmed.strip_prefix('[') {
            let header =
                inner.strip_suffix(']').ok_or_else(|| malformed("a section header must end with ']'"))?;
            let header = header.trim();
            if header.is_empty() {
                return Err(malformed("empty section name"));
            }
            sections.push(Section { header: header.to_owned(), line: number, settings: Vec::new() });
            in_setting = false;
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(malformed(&format!("expected 'key = value', found {trimmed:?}")));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(malformed("a setting needs a name before '='"));
        }
        let Some(section) = sections.last_mut() else {
            return Err(malformed(&format!("setting {key:?} comes before any [section]")));
        };
        section.settings.push((key.to_owned(), value.trim().to_owned()));
        in_setting = true;
    }
    Ok(sections)
}

/// Sets `values` in section `[name]` of a credentials file's text and returns the new text.
/// Existing keys are rewritten where they stand, missing ones are added after the section's last
/// setting, a missing section is appended; every other byte stays as it was. New lines use the
/// file's own line ending.
pub fn set_in_section(text: &str, name: &str, values: &[(&str, &str)]) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let header_of = |line: &str| {
        let t = line.trim();
        t.strip_prefix('[').and_then(|s| s.strip_suffix(']')).map(|s| s.trim().to_owned())
    };
    let start = lines.iter().position(|line| header_of(line).as_deref() == Some(name));
    let Some(start) = start else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(newline);
        }
        if !out.trim().is_empty() && !out.ends_with(&format!("{newline}{newline}")) {
            out.push_str(newline);
        }
        out.push_str(&format!("[{name}]{newline}"));
        for (key, value) in values {
            out.push_str(&format!("{key} = {value}{newline}"));
        }
        return out;
    };
    let end = lines
        .iter()
        .skip(start + 1)
        .position(|line| header_of(line).is_some())
        .map_or(lines.len(), |i| start + 1 + i);
    let key_of = |line: &str| {
        let t = line.trim();
        if t.starts_with('#') || t.starts_with(';') || line.starts_with([' ', '\t']) {
            return None;
        }
        t.split_once('=').map(|(k, _)| k.trim().to_owned())
    };
    let mut missing = Vec::new();
    for (key, value) in values {
        match (start + 1..end).find(|&i| key_of(&lines[i]).as_deref() == Some(key)) {
            Some(i) => {
                let ending = if lines[i].ends_with("\r\n") {
                    "\r\n"
                } else if lines[i].ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                lines[i] = format!("{key} = {value}{ending}");
            }
            None => missing.push(format!("{key} = {value}{newline}")),
        }
    }
    if !missing.is_empty() {
        // After the last setting of the section, so blank lines and comments before the next
        // section stay where they are.
        let after = (start + 1..end).rev().find(|&i| key_of(&lines[i]).is_some()).unwrap_or(start);
        if !lines[after].ends_with('\n') {
            lines[after].push_str(newline);
        }
        for (offset, line) in missing.into_iter().enumerate() {
            lines.insert(after + 1 + offset, line);
        }
    }
    lines.concat()
}

/// Sets `values` in section `[header]` of the file at `path` (created 0600 in a 0700 directory
/// when missing), leaving every other byte alone. awsenv's writers take a lock beside the file;
/// against other writers (the aws CLI) the file is read again just before it is replaced, and the
/// edit redone if it changed meanwhile.
pub fn update_file(path: &Path, header: &str, values: &[(&str, &str)]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("could not create {}", dir.display()))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).context("the file has a name")?;
    let lock_path = dir.join(format!(".{file_name}.awsenv-lock"));
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .with_context(|| format!("could not open lock file {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("could not lock {}", lock_path.display()))?;
    for _ in 0..5 {
        let before = read_text(path)?;
        let after = set_in_section(&before, header, values);
        parse(&after, path).context("the edited file would not parse; left it as it was")?;
        if read_text(path)? != before {
            continue;
        }
        write_atomic(dir, path, after.as_bytes())
            .with_context(|| format!("could not write {}", path.display()))?;
        return Ok(());
    }
    Err(fail(Exit::Failure, format!("{} kept changing while awsenv tried to update it", path.display())))
}

fn read_text(path: &Path) -> Result<String> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| fail(Exit::Config, format!("{} is not UTF-8 text", path.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/home/u/.aws/config")
    }

    #[test]
    fn parses_profiles_comments_and_nested_settings() {
        let text = "# comment\n[default]\nregion = eu-west-1\n\n[profile dev]\nrole_arn=arn:aws:iam::1:role/x\n\
                    s3 =\n  max_concurrent_requests = 20\n; more\nsource_profile = default\n";
        let sections = parse(text, p()).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[1].header, "profile dev");
        let keys: Vec<&str> = sections[1].settings.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["role_arn", "s3", "source_profile"]);
        assert_eq!(sections[1].settings[0].1, "arn:aws:iam::1:role/x");
    }

    #[test]
    fn malformed_lines_are_reported_with_file_and_line() {
        let error = parse("[default]\nregion = x\nthis is not ini\n", p()).unwrap_err().to_string();
        assert!(error.contains("/home/u/.aws/config:3"), "{error}");
        let error = parse("region = x\n", p()).unwrap_err().to_string();
        assert!(error.contains(":1") && error.contains("before any [section]"), "{error}");
        let error = parse("[default\n", p()).unwrap_err().to_string();
        assert!(error.contains(":1"), "{error}");
    }

    #[test]
    fn updates_only_the_named_section() {
        let text = "# keep me\n[other]\naws_access_key_id=OTHER\n\n[p]\n  odd = spacing\naws_access_key_id = OLD\noutput = json\n\n# tail\n[z]\nk = v";
        let new = set_in_section(text, "p", &[("aws_access_key_id", "NEW"), ("aws_session_token", "T")]);
        assert_eq!(
            new,
            "# keep me\n[other]\naws_access_key_id=OTHER\n\n[p]\n  odd = spacing\naws_access_key_id = NEW\noutput = json\naws_session_token = T\n\n# tail\n[z]\nk = v"
        );
    }

    #[test]
    fn appends_missing_sections_and_keeps_crlf() {
        assert_eq!(set_in_section("", "p", &[("k", "v")]), "[p]\nk = v\n");
        assert_eq!(set_in_section("[a]\nx = 1", "p", &[("k", "v")]), "[a]\nx = 1\n\n[p]\nk = v\n");
        assert_eq!(
            set_in_section("[a]\r\nx = 1\r\n", "p", &[("k", "v")]),
            "[a]\r\nx = 1\r\n\r\n[p]\r\nk = v\r\n"
        );
        assert_eq!(
            set_in_section("[p]\r\nk = old", "p", &[("k", "v"), ("j", "w")]),
            "[p]\r\nk = v\r\nj = w\r\n"
        );
    }
}
