//! The checks `awsenv doctor` made, as lines for people or one JSON document: the same checks,
//! the same words, in the same order.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Not checked, and why (the shell outside its function, AWS with `--offline`).
    Skip,
    Warn,
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skip => "skip",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One check: one line, and for a warn or a fail the fix in one more.
#[derive(Debug, Serialize)]
pub struct Check {
    pub section: &'static str,
    pub name: String,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'a str,
    ok: bool,
    summary: Summary,
    checks: &'a [Check],
}

#[derive(Serialize)]
struct Summary {
    ok: usize,
    skip: usize,
    warn: usize,
    fail: usize,
}

/// The checks of one section, added in order.
pub struct Section<'a> {
    name: &'static str,
    report: &'a mut Report,
}

impl Section<'_> {
    pub fn ok(&mut self, name: &str, message: impl Into<String>) {
        self.add(name, Status::Ok, message.into(), None);
    }

    pub fn skip(&mut self, name: &str, message: impl Into<String>, hint: Option<String>) {
        self.add(name, Status::Skip, message.into(), hint);
    }

    pub fn warn(&mut self, name: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.add(name, Status::Warn, message.into(), Some(fix.into()));
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.add(name, Status::Fail, message.into(), Some(fix.into()));
    }

    /// A warn or a fail from an awsenv error, whose message often ends with its fix
    /// (`...; fix with: chmod 700 DIR`); `fix` is used when it does not.
    pub fn error(&mut self, name: &str, status: Status, error: &anyhow::Error, fix: &str) {
        let text = crate::error::one_line(error);
        let (message, fix) = match text.split_once("; fix with: ") {
            Some((message, own)) => (message.to_owned(), own.to_owned()),
            None => (text, fix.to_owned()),
        };
        self.add(name, status, message, Some(fix));
    }

    fn add(&mut self, name: &str, status: Status, message: String, fix: Option<String>) {
        self.report.checks.push(Check {
            section: self.name,
            name: name.to_owned(),
            status,
            message: one_line(&message),
            fix: fix.map(|fix| one_line(&fix)),
        });
    }
}

/// Text as one line with no control character: whatever a file name or a server held, a check
/// stays one line and cannot move the terminal's cursor.
fn one_line(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
pub struct Report {
    checks: Vec<Check>,
}

impl Report {
    pub fn section(&mut self, name: &'static str) -> Section<'_> {
        Section { name, report: self }
    }

    pub fn failed(&self) -> bool {
        self.checks.iter().any(|check| check.status == Status::Fail)
    }

    fn summary(&self) -> Summary {
        let count = |status| self.checks.iter().filter(|check| check.status == status).count();
        Summary {
            ok: count(Status::Ok),
            skip: count(Status::Skip),
            warn: count(Status::Warn),
            fail: count(Status::Fail),
        }
    }

    /// The checks by section, one line each (`  STATUS NAME  MESSAGE`), a fix under each warn and
    /// fail, and a summary line.
    pub fn text(&self) -> String {
        let width = self.checks.iter().map(|check| check.name.chars().count()).max().unwrap_or(0);
        let mut out = format!("awsenv doctor, awsenv {}\n", crate::VERSION);
        let mut section = "";
        for check in &self.checks {
            if check.section != section {
                section = check.section;
                out.push_str(&format!("{section}\n"));
            }
            let label = check.status.label();
            out.push_str(&format!("  {label:<4}  {:<width$}  {}\n", check.name, check.message));
            if let Some(fix) = &check.fix {
                let word = if check.status == Status::Skip { "to check" } else { "fix" };
                out.push_str(&format!("        {:<width$}  {word}: {fix}\n", ""));
            }
        }
        let Summary { ok, skip, warn, fail } = self.summary();
        out.push_str(&format!("{ok} ok, {warn} warn, {fail} fail, {skip} skipped\n"));
        out
    }

    pub fn json(&self) -> String {
        let document = Document {
            version: crate::VERSION,
            ok: !self.failed(),
            summary: self.summary(),
            checks: &self.checks,
        };
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_carry_the_same_checks() {
        let mut report = Report::default();
        report.section("store").ok("store", "~/aws-creds, yours, mode 0700");
        let error = crate::error::fail(
            crate::error::Exit::Config,
            "store /s is writable by others (mode 0777); fix with: chmod go-w /s",
        );
        report.section("store").error("modes", Status::Fail, &error, "unused");
        report.section("aws").warn("clock", "61s\nbehind \x1b[31m", "sync it");
        let text = report.text();
        assert!(text.contains("store\n  ok    store  ~/aws-creds, yours, mode 0700\n"), "{text}");
        assert!(text.contains("  fail  modes  store /s is writable by others (mode 0777)\n"), "{text}");
        assert!(text.contains("               fix: chmod go-w /s\n"), "{text}");
        assert!(text.contains("  warn  clock  61s behind [31m\n"), "{text}");
        assert!(text.ends_with("1 ok, 1 warn, 1 fail, 0 skipped\n"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][1]["fix"], "chmod go-w /s");
        assert_eq!(json["checks"][2]["section"], "aws");
        assert!(json["checks"][0].get("fix").is_none());
        assert!(report.failed());
    }
}
