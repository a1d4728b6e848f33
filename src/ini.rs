//! The aws CLI's shared files, `~/.aws/config` and `~/.aws/credentials`: parsed for profiles,
//! and edited for `awsenv update` so that only the keys it owns change.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::{Exit, fail};
use crate::files::{self, Staged, Trust, limit};
use crate::lease::{self, Lease};

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

/// How long a writer that raced this one is given to reach the file before it is looked at.
const SETTLE: Duration = Duration::from_millis(25);

/// How long awsenv waits for another program to finish writing the file.
const WRITER_WAIT: Duration = Duration::from_secs(5);

/// Sets `values` in section `[header]` of the file at `path` (created 0600 in a 0700 directory
/// when missing), leaving every other byte alone. A symbolic link (a dotfiles setup) is followed
/// and its target replaced, as `aws configure set` writes through it. awsenv's writers take a
/// lock beside the file. The aws CLI takes none and writes the file in place (it reads it, then
/// opens it again to truncate or append), so a write of its can land in the file awsenv has just
/// replaced. Each file is therefore watched (see `Watched`) from when it is read until the new
/// one is in place: a write that went to the old one is merged, section by section, into the
/// new; a rewrite of the new one that dropped these values is followed by another update.
pub fn update_file(path: &Path, header: &str, values: &[(&str, &str)]) -> Result<()> {
    check_values(path, header, values)?;
    let path = &resolve_links(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    files::create_private_dir(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).context("the file has a name")?;
    let lock_path = dir.join(format!(".{file_name}.awsenv-lock"));
    let lock = files::open_lock_file(&lock_path)?;
    lock.lock().with_context(|| format!("could not lock {}", lock_path.display()))?;
    let edit = |text: &str| -> Result<String> {
        // A byte-order mark stays where it was, outside the lines being edited.
        let (bom, body) = split_bom(text);
        let after = format!("{bom}{}", set_in_section(body, header, values));
        parse(&after[bom.len()..], path).context("the edited file would not parse; left it as it was")?;
        Ok(after)
    };
    let open_watched = || -> Result<Option<Watched>> {
        files::open(path, "aws CLI file", Trust::Data)?.map(|file| Watched::start(file, path)).transpose()
    };
    let mut old = open_watched()?;
    let mut text = edit(old.as_ref().map_or("", |o| o.text.as_str()))?;
    // Each round either ends or takes in one write of another program's; a writer that keeps
    // writing faster than a round takes is given up on.
    for _ in 0..50 {
        let staged = Staged::write(dir, path, text.as_bytes(), 0o600)
            .with_context(|| format!("could not write {}", path.display()))?;
        let new = Watched::start(staged.reopen()?, path)?;
        staged.commit().with_context(|| format!("could not replace {}", path.display()))?;
        // A writer that found the old file just before the rename reaches it within this time.
        std::thread::sleep(SETTLE);
        if let Some(watched) = old.take_if(|o| o.written_to().unwrap_or(true)) {
            // Its write went to the file that was replaced: merged into the new one, which is
            // watched in turn.
            let base = watched.text.clone();
            let theirs = watched.finish()?;
            text = edit(&merge_sections(&base, &theirs, &new.text))?;
            old = Some(new);
            continue;
        }
        drop(old);
        if !new.written_to()? {
            return Ok(());
        }
        // Rewritten in place: fine if it kept these values (it read the new file), otherwise
        // edited again from what it holds now.
        let theirs = new.finish()?;
        if holds(split_bom(&theirs).1, header, values) {
            return Ok(());
        }
        old = open_watched()?;
        text = edit(old.as_ref().map_or("", |o| o.text.as_str()))?;
    }
    Err(fail(Exit::Failure, format!("{} kept changing while awsenv tried to update it", path.display())))
}

/// A version of the file (by its open descriptor, so even once replaced) and the text it held
/// when awsenv read or wrote it. Where leases work it is held under a read lease: no one else
/// has it open for writing, and a program that opens it to write waits and is seen waiting.
/// Elsewhere a write is noticed by reading the file again.
struct Watched {
    file: File,
    /// The path it was opened at, for messages.
    path: PathBuf,
    text: String,
    leased: bool,
}

impl Watched {
    /// Waits (a while) until no other program has the file open for writing, then reads it.
    fn start(file: File, path: &Path) -> Result<Self> {
        let started = Instant::now();
        let leased = loop {
            match lease::take(&file) {
                Lease::Held => break true,
                Lease::Unavailable => break false,
                // A program that keeps the file open for writing is looked at as where leases
                // do not work.
                Lease::WriterOpen if started.elapsed() > WRITER_WAIT => break false,
                Lease::WriterOpen => std::thread::sleep(Duration::from_millis(2)),
            }
        };
        let text = read_open(&file, path)?;
        Ok(Self { file, path: path.to_owned(), text, leased })
    }

    /// Whether another program wrote the file, or waits to, since it was read.
    fn written_to(&self) -> Result<bool> {
        if self.leased {
            return Ok(lease::writer_waiting(&self.file));
        }
        Ok(self.read()? != self.text)
    }

    /// Lets a waiting writer go and returns the file's text once it is done (or once it has
    /// stopped changing, where there are no leases).
    fn finish(self) -> Result<String> {
        if !self.leased {
            return self.settled();
        }
        lease::release(&self.file);
        let started = Instant::now();
        while started.elapsed() < WRITER_WAIT {
            std::thread::sleep(Duration::from_millis(2));
            // Held again means the writer has closed the file, or has not opened it yet.
            match lease::take(&self.file) {
                Lease::WriterOpen => continue,
                Lease::Unavailable => break,
                Lease::Held => {
                    let now = self.read();
                    lease::release(&self.file);
                    match now? {
                        now if now == self.text => continue,
                        now => return Ok(now),
                    }
                }
            }
        }
        self.read()
    }

    /// The file's text now.
    fn read(&self) -> Result<String> {
        read_open(&self.file, &self.path)
    }

    /// The file's text once another program's rewrite of it is complete, where no lease tells:
    /// the aws CLI truncates the file when it opens it and writes it later, so an empty or
    /// still-changing file is read again, a settle time apart, until it holds text that stays
    /// the same (at most about a second).
    fn settled(&self) -> Result<String> {
        let mut text = self.read()?;
        for _ in 0..40 {
            std::thread::sleep(SETTLE);
            let again = self.read()?;
            if again == text && !text.is_empty() {
                break;
            }
            text = again;
        }
        Ok(text)
    }
}

/// A leading byte-order mark and the text after it.
fn split_bom(text: &str) -> (&str, &str) {
    text.strip_prefix('\u{feff}').map_or(("", text), |rest| ("\u{feff}", rest))
}

/// A file's text cut at its section headers, each piece keyed by its header (`None` for what
/// comes before the first) and how many pieces of that header came before it.
fn pieces(text: &str) -> Vec<((Option<String>, usize), String)> {
    let kinds = classify(text);
    let mut pieces: Vec<((Option<String>, usize), String)> = vec![((None, 0), String::new())];
    for (line, kind) in text.split_inclusive('\n').zip(kinds) {
        if let Line::Header(header) = kind {
            let seen = pieces.iter().filter(|((h, _), _)| h.as_deref() == Some(header.as_str())).count();
            pieces.push(((Some(header), seen), String::new()));
        }
        pieces.last_mut().expect("never empty").1.push_str(line);
    }
    pieces
}

/// `into` with the changes another program made from `base` to `theirs`, a whole section at a
/// time: sections it changed or added take its text, sections it removed go. The aws CLI edits
/// one section per write, so this keeps both its edit and awsenv's.
fn merge_sections(base: &str, theirs: &str, into: &str) -> String {
    let (base, theirs) = (split_bom(base).1, split_bom(theirs).1);
    let (bom, into) = split_bom(into);
    let (base, theirs, mut merged) = (pieces(base), pieces(theirs), pieces(into));
    for (key, _) in &base {
        if !theirs.iter().any(|(k, _)| k == key) {
            merged.retain(|(k, _)| k != key);
        }
    }
    for (key, text) in theirs {
        if base.iter().any(|(k, t)| *k == key && *t == text) {
            continue;
        }
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some(piece) => piece.1 = text,
            None if key.0.is_none() => merged.insert(0, (key, text)),
            None => merged.push((key, text)),
        }
    }
    let newline = if into.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::new();
    for (_, text) in merged {
        if !out.is_empty() && !out.ends_with('\n') && !text.is_empty() {
            out.push_str(newline);
        }
        out.push_str(&text);
    }
    format!("{bom}{out}")
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
fn read_open(mut file: &File, path: &Path) -> Result<String> {
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

    #[test]
    fn merging_keeps_both_sides_edits_section_by_section() {
        let base = "# top\n[seed]\nk = 1\n\n[p]\nt = old\n";
        // Another program appended [w] and changed [seed]; awsenv rewrote [p].
        let theirs = "# top\n[seed]\nk = 2\n\n[p]\nt = old\n[w]\nk = 3\n";
        let into = "# top\n[seed]\nk = 1\n\n[p]\nt = new\n";
        assert_eq!(merge_sections(base, theirs, into), "# top\n[seed]\nk = 2\n\n[p]\nt = new\n[w]\nk = 3\n");
        // A section it removed goes; one without a final line break is not glued to the next.
        let theirs = "# top\n[p]\nt = old\n[w]\nk = 3";
        let into = "# top\n[seed]\nk = 1\n\n[p]\nt = new\n[q]\nx = 1\n";
        assert_eq!(merge_sections(base, theirs, into), "# top\n[p]\nt = new\n[q]\nx = 1\n[w]\nk = 3");
        // Repeated headers are told apart by their order; the byte-order mark of `into` stays.
        let base = "[a]\nx = 1\n[a]\ny = 1\n";
        let theirs = "[a]\nx = 1\n[a]\ny = 2\n";
        assert_eq!(
            merge_sections(base, theirs, "\u{feff}[a]\nx = 1\n[a]\ny = 1\n[p]\n"),
            "\u{feff}[a]\nx = 1\n[a]\ny = 2\n[p]\n"
        );
    }

    /// A writer of the aws CLI's kind (no lock; open for appending, a pause, the write) that
    /// opens the file while awsenv replaces it: under a lease it waits, its write lands in the
    /// replaced file and is merged; where leases work the result holds both, however long the
    /// pause.
    #[test]
    fn an_in_place_writer_racing_the_replacement_loses_nothing() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("awsenv-ini-race-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        fs::write(&path, "[seed]\nk = 1\n").unwrap();
        let probe = File::open(&path).unwrap();
        let leases = lease::take(&probe) == Lease::Held;
        lease::release(&probe);
        drop(probe);
        for round in 0..20 {
            let writer_path = path.clone();
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(round % 5));
                let mut file = fs::OpenOptions::new().append(true).open(&writer_path).unwrap();
                // Longer than the settle time: only the lease can tell.
                std::thread::sleep(Duration::from_millis(60));
                file.write_all(format!("[w{round}]\nk = {round}\n").as_bytes()).unwrap();
            });
            update_file(&path, &format!("p{}", round % 3), &[("t", &round.to_string())]).unwrap();
            writer.join().unwrap();
            if !leases {
                continue;
            }
            // The writer may have appended to the file in place after awsenv was done.
            let text = fs::read_to_string(&path).unwrap();
            let sections = parse(&text, &path).unwrap();
            for k in 0..=round {
                assert!(sections.iter().any(|s| s.header == format!("w{k}")), "[w{k}] lost:\n{text}");
            }
            assert!(holds(&text, &format!("p{}", round % 3), &[("t", &round.to_string())]), "{text}");
        }
        assert!(leases || !cfg!(target_os = "linux"), "read leases work on Linux");
        fs::remove_dir_all(&dir).unwrap();
    }
}
