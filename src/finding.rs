//! Findings: what the scanner tells the domain's owner, one problem each.

use serde::Serialize;

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is broken.
    Info,
    /// Works today, but weaker or more fragile than it should be.
    Warning,
    /// A sender would fail, or would not apply the protection published.
    Error,
}

/// One problem, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable, kebab-case identifier (`tlsrpt-multiple-records`): tools key on it.
    pub code: String,
    /// What the finding is about: a record name, a host, an address.
    pub subject: String,
    /// What is wrong, in one sentence, quoting the offending text.
    pub message: String,
    /// What to do next: the record to publish, the line to change.
    pub advice: String,
}

impl Finding {
    pub fn new(
        severity: Severity,
        code: &str,
        subject: impl Into<String>,
        message: impl Into<String>,
        advice: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            code: code.to_string(),
            subject: subject.into(),
            message: message.into(),
            advice: advice.into(),
        }
    }
}
