//! `--ignore CODE` and `--ignore CODE@domain`: findings the operator has
//! accepted. An ignored finding stays in every output (the JSON marks it
//! `"ignored": true`) but no longer counts towards the domain's severity,
//! the batch tally or the exit status, so that a CI job can accept a known
//! state without turning the whole check off (`--fail-on never`).
//!
//! Pure: rules are parsed once from the command line and applied to each
//! finished document.

use crate::document::DomainReport;
use crate::finding::Code;

/// One `--ignore` value: a catalogue code, for every domain or for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    pub code: Code,
    /// The domain (A-labels, lowercase, no trailing dot) the rule is
    /// limited to; `None` for every domain.
    pub domain: Option<String>,
}

/// Why an `--ignore` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoreError {
    #[error(
        "--ignore {value:?}: {code:?} is not a finding code{hint}; `mxtls explain --list` lists every code"
    )]
    UnknownCode {
        value: String,
        code: String,
        hint: String,
    },
    #[error("--ignore {value:?}: the domain after @ is empty (write CODE or CODE@example.com)")]
    EmptyDomain { value: String },
    #[error("--ignore {value:?}: {reason}")]
    BadDomain { value: String, reason: String },
}

impl IgnoreRule {
    /// Parses `CODE` or `CODE@domain`. The code must be in the catalogue,
    /// so that a typo cannot silently ignore nothing.
    pub fn parse(value: &str) -> Result<IgnoreRule, IgnoreError> {
        let trimmed = value.trim();
        let (code_text, domain) = match trimmed.split_once('@') {
            Some((c, d)) => {
                if d.trim().is_empty() {
                    return Err(IgnoreError::EmptyDomain {
                        value: crate::sanitize::for_terminal(value, 200),
                    });
                }
                // The same A-label form the scan uses, so `bücher.example`
                // matches `xn--bcher-kva.example`.
                let d = crate::scan::Domain::parse(d).map_err(|e| IgnoreError::BadDomain {
                    value: crate::sanitize::for_terminal(value, 200),
                    reason: e.to_string(),
                })?;
                (c.trim(), Some(d.ascii.to_ascii_lowercase()))
            }
            None => (trimmed, None),
        };
        let code_text = code_text.to_ascii_lowercase();
        match Code::from_code(&code_text) {
            Some(code) => Ok(IgnoreRule { code, domain }),
            None => {
                let near = crate::explain::suggestions(&code_text);
                Err(IgnoreError::UnknownCode {
                    value: crate::sanitize::for_terminal(value, 200),
                    code: crate::sanitize::for_terminal(&code_text, 100),
                    hint: if near.is_empty() {
                        String::new()
                    } else {
                        format!(" (did you mean {}?)", near.join(", "))
                    },
                })
            }
        }
    }

    fn matches(&self, domain: &str, code: Code) -> bool {
        self.code == code && self.domain.as_deref().is_none_or(|d| d == domain)
    }
}

/// Marks the findings of `report` that a rule accepts as ignored, and
/// those that follow from them (`caused_by`, directly or not): they are
/// shown and counted with their cause, so accepting the cause accepts
/// them too, and the exit status agrees with the summary.
pub fn apply(rules: &[IgnoreRule], report: &mut DomainReport) {
    if rules.is_empty() {
        return;
    }
    let domain = report.domain.to_ascii_lowercase();
    for f in &mut report.findings {
        if rules.iter().any(|r| r.matches(&domain, f.code)) {
            f.ignored = true;
        }
    }
    let carried: Vec<usize> = (0..report.findings.len())
        .filter(|&i| {
            !report.findings[i].ignored
                && crate::root_cause::causes(&report.findings, i)
                    .any(|c| report.findings[c].ignored)
        })
        .collect();
    for i in carried {
        report.findings[i].ignored = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_alone_applies_to_every_domain() {
        let r = IgnoreRule::parse("tlsrpt-missing").expect("parses");
        assert_eq!(r.code, Code::TlsrptMissing);
        assert_eq!(r.domain, None);
        assert!(r.matches("a.test", Code::TlsrptMissing));
        assert!(r.matches("b.test", Code::TlsrptMissing));
        assert!(!r.matches("a.test", Code::MxNull));
    }

    #[test]
    fn code_at_domain_applies_to_that_domain_only() {
        let r = IgnoreRule::parse(" TLSRPT-missing@Secure.Test. ").expect("parses");
        assert_eq!(r.domain.as_deref(), Some("secure.test"));
        assert!(r.matches("secure.test", Code::TlsrptMissing));
        assert!(!r.matches("other.test", Code::TlsrptMissing));
    }

    #[test]
    fn an_idn_domain_is_matched_in_a_labels() {
        let r = IgnoreRule::parse("mx-null@bücher.test").expect("parses");
        assert_eq!(r.domain.as_deref(), Some("xn--bcher-kva.test"));
    }

    #[test]
    fn an_unknown_code_is_refused_with_the_closest_one() {
        let e = IgnoreRule::parse("tlsrpt-mising").expect_err("unknown");
        let text = e.to_string();
        assert!(text.contains("did you mean tlsrpt-missing"), "{text}");
        assert!(IgnoreRule::parse("nothing-like-it-at-all").is_err());
    }

    #[test]
    fn an_empty_domain_is_refused() {
        assert!(matches!(
            IgnoreRule::parse("mx-null@"),
            Err(IgnoreError::EmptyDomain { .. })
        ));
    }
}
