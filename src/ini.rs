//! The aws CLI's shared files, `~/.aws/config` and `~/.aws/credentials`: parsed for profiles,
//! and edited for `awsenv update` so that only the keys it owns change.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::error::{Exit, fail};
use crate::files::{self, Staged, Trust, limit};

/// One `[section]` and its `key = value` settings, with line numbers for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The header's text between the brackets, as botocore reads it (`[ x ]` is " x ").
    pub header: String,
    pub line: usize,
    /// Key names lowercased, as botocore's parser does.
    pub settings: Vec<(String, String)>,
}

/// What one line of an INI file is, read the way Python's configparser (botocore's) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Blank,
    Comment,
    Header(String),
    /// `key = value` (or `key: value`); the key lowercased.
    Setting(String, String),
    /// Indented deeper than the setting before it: part of that setting's value.
    Continuation,
    Malformed(String),
}

fn classify(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    // The indentation of the last setting, while a continuation may follow it.
    let mut setting_indent: Option<usize> = None;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        let kind = if trimmed.is_empty() {
            Line::Blank
        } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
            Line::Comment
        } else if setting_indent.is_some_and(|level| indent > level) {
            Line::Continuation
        } else if let Some(inner) = trimmed.strip_prefix('[') {
            match inner.rfind(']') {
                Some(end) if end > 0 => Line::Header(inner[..end].to_owned()),
                _ => Line::Malformed("a section header must be [name]".to_owned()),
            }
        } else {
            match trimmed.find(['=', ':']) {
                Some(at) if at > 0 => {
                    let key = trimmed[..at].trim().to_ascii_lowercase();
                    Line::Setting(key, trimmed[at + 1..].trim().to_owned())
                }
                // The line itself is not quoted: it may be a pasted secret.
                _ => Line::Malformed("expected 'key = value' or a [section] header".to_owned()),
            }
        };
        setting_indent = match &kind {
            Line::Setting(..) => Some(indent),
            Line::Header(_) => None,
            _ => setting_indent,
        };
        lines.push(kind);
    }
    lines
}

/// Parses an INI file as botocore reads it: `#` and `;` start comment lines, lines indented
/// deeper than a setting continue it (nested settings such as `s3 =`), and anything else must be
/// a header or `key = value` inside a section. Errors name the file and line.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    for (index, line) in classify(text).into_iter().enumerate() {
        let number = index + 1;
        let malformed =
            |what: &str| fail(Exit::Config, format!("malformed {}:{number}: {what}", path.display()));
        match line {
            Line::Blank | Line::Comment | Line::Continuation => {}
            Line::Malformed(what) => return Err(malformed(&what)),
            Line::Header(header) => sections.push(Section { header, line: number, settings: Vec::new() }),
            Line::Setting(key, value) => match sections.last_mut() {
                Some(section) => section.settings.push((key, value)),
                None => return Err(malformed("a setting comes before any [section]")),
            },
        }
    }
    Ok(sections)
}

/// Sets `values` in section `[name]` of an INI file's text and returns the new text. Existing keys
/// are rewritten where they stand, missing ones are added after the section's last setting, a
/// missing section is appended; every other byte stays as it was. New lines use the file's own
/// line ending.
pub fn set_in_section(text: &str, name: &str, values: &[(&str, &str)]) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let kinds = classify(text);
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let start = kinds.iter().position(|kind| *kind == Line::Header(name.to_owned()));
    let Some(start) = start.filter(|&i| i < lines.len()) else {
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
    let end = (start + 1..lines.len()).find(|&i| matches!(kinds[i], Line::Header(_))).unwrap_or(lines.len());
    let is_key = |i: usize, key: &str| matches!(&kinds[i], Line::Setting(k, _) if k == key);
    let mut missing = Vec::new();
    for (key, value) in values {
        // Every line of a repeated key (botocore reads the last), each at its own indentation: a
        // less indented setting below must not become its continuation.
        let found: Vec<usize> = (start + 1..end).filter(|&i| is_key(i, &key.to_ascii_lowercase())).collect();
        if found.is_empty() {
            missing.push(format!("{key} = {value}{newline}"));
        }
        for i in found {
            let indent = &lines[i][..lines[i].len() - lines[i].trim_start().len()];
            let ending = &lines[i][lines[i].trim_end_matches(['\r', '\n']).len()..];
            lines[i] = format!("{indent}{key} = {value}{ending}");
        }
    }
    if !missing.is_empty() {
        // After the section's last setting (and its continuation lines), so that blank lines and
        // comments before the next section stay where they are.
        let last =
            (start + 1..end).rev().find(|&i| matches!(kinds[i], Line::Setting(..) | Line::Continuation));
        let after = last.unwrap_or(start);
        if !lines[after].ends_with('\n') {
            lines[after].push_str(newline);
        }
        for (offset, line) in missing.into_iter().enumerate() {
            lines.insert(after + 1 + offset, line);
        }
    }
    lines.concat()
}

/// Whether section `[name]` of `text` holds each of `values`.
fn holds(text: &str, name: &str, values: &[(&str, &str)]) -> bool {
    let Ok(sections) = parse(text, Path::new("-")) else {
        return false;
    };
    let settings: Vec<&(String, String)> =
        sections.iter().filter(|s| s.header == name).flat_map(|s| s.settings.iter()).collect();
    values
        .iter()
        .all(|(key, value)| settings.iter().rev().find(|(k, _)| k == key).is_some_and(|(_, v)| v == value))
}

/// Refuses a value that would not read back as itself: a line break would start a line of its
/// own (a session token from a hostile endpoint could add a profile), other control characters
/// and surrounding blanks are lost or changed by INI readers. The value itself may be a secret,
/// so only its key is named.
fn check_values(path: &Path, header: &str, values: &[(&str, &str)]) -> Result<()> {
    for (key, value) in values {
        if value.chars().any(char::is_control) || value.trim() != *value {
            return Err(fail(
                Exit::Failure,
                format!(
                    "the value of {key} for [{header}] holds a line break, a control character or surrounding blanks, which {} cannot hold; left it as it was",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// How long a writer that raced this one is given to finish before the result is checked.
const SETTLE: Duration = Duration::from_millis(25);

/// Sets `values` in section `[header]` of the file at `path` (created 0600 in a 0700 directory
/// when missing), leaving every other byte alone. A symbolic link (a dotfiles setup) is followed
/// and its target replaced, as `aws configure set` writes through it. awsenv's writers take a
/// lock beside the file. The aws CLI takes none and rewrites the file in place, so after each
/// replacement the old file and the new one are checked: a change the CLI made to the old one is
/// merged in, a rewrite of the new one that dropped these values is done again.
pub fn update_file(path: &Path, header: &str, values: &[(&str, &str)]) -> Result<()> {
    check_values(path, header, values)?;
    let path = &resolve_links(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    files::create_private_dir(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).context("the file has a name")?;
    let lock_path = dir.join(format!(".{file_name}.awsenv-lock"));
    let lock = files::open_lock_file(&lock_path)?;
    lock.lock().with_context(|| format!("could not lock {}", lock_path.display()))?;
    let mut base = None;
    for _ in 0..10 {
        let old = files::open(path, "aws CLI file", Trust::Data)?;
        let before = match base.take() {
            Some(text) => text,
            None => read_open(old.as_ref(), path)?,
        };
        // A byte-order mark stays where it was, outside the lines being edited.
        let (bom, body) =
            before.strip_prefix('\u{feff}').map_or(("", before.as_str()), |rest| ("\u{feff}", rest));
        let after = format!("{bom}{}", set_in_section(body, header, values));
        parse(&after[bom.len()..], path).context("the edited file would not parse; left it as it was")?;
        let staged = Staged::write(dir, path, after.as_bytes(), 0o600)
            .with_context(|| format!("could not write {}", path.display()))?;
        if read_open(old.as_ref(), path)? != before {
            continue;
        }
        staged.commit().with_context(|| format!("could not replace {}", path.display()))?;
        std::thread::sleep(SETTLE);
        let old_now = read_open(old.as_ref(), path)?;
        if old.is_some() && old_now != before {
            base = Some(settled(old.as_ref(), path, old_now)?);
            continue;
        }
        let current = read_open(files::open(path, "aws CLI file", Trust::Data)?.as_ref(), path)?;
        if holds(current.strip_prefix('\u{feff}').unwrap_or(&current), header, values) {
            return Ok(());
        }
        base = Some(current);
    }
    Err(fail(Exit::Failure, format!("{} kept changing while awsenv tried to update it", path.display())))
}

/// The old file's text once the aws CLI's rewrite of it is complete: it truncates the file when it
/// opens it and writes it later, so an empty or still-changing file is read again, a settle time
/// apart, until it holds text that stays the same (at most about a second).
fn settled(old: Option<&File>, path: &Path, mut text: String) -> Result<String> {
    for _ in 0..40 {
        std::thread::sleep(SETTLE);
        let again = read_open(old, path)?;
        if again == text && !text.is_empty() {
            break;
        }
        text = again;
    }
    Ok(text)
}

/// The file a chain of symbolic links ends at (which may not exist yet).
fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut path = path.to_owned();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&path)
                    .with_context(|| format!("could not read the link {}", path.display()))?;
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(fail(Exit::Config, format!("{} is a loop of symbolic links", path.display())))
}

/// The text of an open file from its start (the file as it was opened, even once replaced).
fn read_open(file: Option<&File>, path: &Path) -> Result<String> {
    let Some(mut file) = file else {
        return Ok(String::new());
    };
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.take(limit::INI + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("could not read {}", path.display()))?;
    if bytes.len() as u64 > limit::INI {
        return Err(fail(Exit::Config, format!("{} is larger than {} bytes", path.display(), limit::INI)));
    }
    String::from_utf8(bytes).map_err(|_| fail(Exit::Config, format!("{} is not UTF-8 text", path.display())))
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

    /// A case of the `ini_edit` fuzz target's property (the section's other settings keep their
    /// values): a rewritten line keeps its indentation, or a less indented setting after it turns
    /// into its continuation and is lost.
    #[test]
    fn a_rewritten_setting_keeps_its_indentation() {
        let text = "[p]\n  aws_session_token = OLD\n output = json\n";
        let new = set_in_section(text, "p", &[("aws_session_token", "NEW")]);
        assert_eq!(new, "[p]\n  aws_session_token = NEW\n output = json\n");
        let settings = &parse(&new, p()).unwrap()[0].settings;
        assert!(settings.contains(&("output".to_owned(), "json".to_owned())), "{settings:?}");
    }

    /// A key repeated in the section is read as its last line: every line of it is rewritten.
    #[test]
    fn every_line_of_a_repeated_key_is_rewritten() {
        let new = set_in_section("[p]\nregion = a\nx = 1\nREGION = b\n", "p", &[("region", "c")]);
        assert_eq!(new, "[p]\nregion = c\nx = 1\nregion = c\n");
        assert!(holds(&new, "p", &[("region", "c")]));
    }

    #[test]
    fn keys_match_as_botocore_reads_them() {
        // An indented first key and a capitalised key are the same settings to botocore.
        let text = "[t]\n  aws_access_key_id   =   OLD  \nAWS_SECRET_ACCESS_KEY: S\nregion = x\n";
        let new = set_in_section(text, "t", &[("aws_access_key_id", "NEW"), ("aws_secret_access_key", "T")]);
        assert_eq!(new, "[t]\n  aws_access_key_id = NEW\naws_secret_access_key = T\nregion = x\n");
        // [ t ] is the section " t ", not "t".
        let new = set_in_section("[ t ]\nk = v\n", "t", &[("k", "w")]);
        assert_eq!(new, "[ t ]\nk = v\n\n[t]\nk = w\n");
        assert!(holds(&new, "t", &[("k", "w")]) && !holds(&new, " t ", &[("k", "w")]));
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

    #[test]
    fn values_a_line_cannot_hold_are_refused_and_the_file_is_untouched() {
        let dir = std::env::temp_dir().join(format!("awsenv-ini-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        fs::write(&path, "[base]\naws_access_key_id = A\n").unwrap();
        for bad in ["T\n[base]\naws_access_key_id = EVIL", "T\rX", "T\0", " T", "T\t"] {
            let error = update_file(&path, "p", &[("aws_session_token", bad)]).unwrap_err();
            let message = crate::error::one_line(&error);
            assert!(message.contains("aws_session_token") && !message.contains("EVIL"), "{message}");
            assert_eq!(fs::read_to_string(&path).unwrap(), "[base]\naws_access_key_id = A\n");
        }
        update_file(&path, "p", &[("aws_session_token", "T+/=")]).unwrap();
        assert!(fs::read_to_string(&path).unwrap().ends_with("[p]\naws_session_token = T+/=\n"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
