//! Root cause first: which findings follow from another, so that the
//! summary shows them under their cause and counts them once.
//!
//! A producer that knows why its finding arises says so
//! ([`Finding::following`]): a session refused because its MX host matches
//! no `mx:` line follows from `sts-policy-mx-not-covered` for that host.
//! [`settle`] adds the links no single producer sees (a zone whose DNSSEC
//! chain is broken makes every record in it bogus) and keeps only links
//! that hold: the cause is among the findings, is at least as severe (so
//! the exit status is the same whether or not dependents are counted), and
//! no finding follows from itself.
//!
//! Advice that does not apply once the cause is known is replaced: a
//! policy host whose address cannot be validated says nothing about how
//! the policy is served, so "serve the policy over HTTPS" is not given.

use crate::finding::{Cause, Code, Finding, Severity};

/// Links findings to their causes and drops links that do not hold.
pub fn settle(findings: &mut [Finding]) {
    link_dnssec(findings);
    drop_broken_links(findings);
}

/// Records under the domain (`_mta-sts`, `_smtp._tls`) are in the zone
/// of the domain, or below it: when the MX RRset is bogus, their bogus
/// answers share the cause (RFC 4035 §5: the chain of trust to that zone).
/// A policy that could not be fetched while the record announcing it is
/// unreadable follows from that record: validating senders never fetch it.
fn link_dnssec(findings: &mut [Finding]) {
    let has = |code: Code| findings.iter().any(|f| f.code == code);
    let mx_bogus = has(Code::MxDnssecBogus);
    let record_bogus = has(Code::StsRecordDnssecBogus);
    for f in findings.iter_mut().filter(|f| f.is_root()) {
        match f.code {
            Code::StsRecordDnssecBogus | Code::TlsrptDnssecBogus if mx_bogus => {
                f.caused_by = Some(Cause {
                    code: Code::MxDnssecBogus,
                    subject: None,
                });
            }
            Code::StsPolicyFetchError | Code::StsPolicyNotFetched if record_bogus => {
                f.caused_by = Some(Cause {
                    code: Code::StsRecordDnssecBogus,
                    subject: None,
                });
                f.advice = "Nothing to change on the policy host for now: fix the DNSSEC failure this follows from, then scan again. Until then validating senders cannot read the _mta-sts record, so whether the domain publishes MTA-STS at all cannot be told.".to_string();
            }
            _ => {}
        }
    }
}

/// Keeps a link only when its cause is present, at least as severe, and not
/// (through its own causes) this finding again.
fn drop_broken_links(findings: &mut [Finding]) {
    for i in 0..findings.len() {
        let Some(cause) = findings[i].caused_by.clone() else {
            continue;
        };
        let holds = match findings.iter().position(|f| cause.names(f)) {
            Some(c) => {
                c != i && findings[c].severity >= findings[i].severity && root_of(findings, c) != i
            }
            None => false,
        };
        if !holds {
            findings[i].caused_by = None;
        }
    }
}

/// The index of the finding `i` ultimately follows from (itself when it
/// stands alone).
pub fn root_of(findings: &[Finding], i: usize) -> usize {
    causes(findings, i).last().unwrap_or(i)
}

/// The findings `i` follows from, nearest first (none when it stands
/// alone). Bounded by the number of findings, so a cycle ends.
pub fn causes(findings: &[Finding], i: usize) -> impl Iterator<Item = usize> + '_ {
    let mut at = i;
    (0..findings.len()).map_while(move |_| {
        let next = findings[at]
            .caused_by
            .as_ref()
            .and_then(|c| findings.iter().position(|f| c.names(f)))
            .filter(|&n| n != at && n != i)?;
        at = next;
        Some(next)
    })
}

/// The findings grouped by root cause, in their order: each root with the
/// indices of the findings that follow from it (directly or not).
pub fn groups(findings: &[Finding]) -> Vec<(usize, Vec<usize>)> {
    let roots: Vec<usize> = (0..findings.len()).map(|i| root_of(findings, i)).collect();
    let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, &root) in roots.iter().enumerate() {
        if root == i {
            out.push((i, Vec::new()));
        }
    }
    for (i, &root) in roots.iter().enumerate() {
        if root != i
            && let Some(group) = out.iter_mut().find(|(r, _)| *r == root)
        {
            group.1.push(i);
        }
    }
    out
}

/// How many findings of `severity` stand on their own: what the summary
/// counts (a consequence is counted with its cause).
pub fn count_roots(findings: &[Finding], severity: Severity) -> usize {
    findings
        .iter()
        .enumerate()
        .filter(|(i, f)| f.severity == severity && root_of(findings, *i) == *i)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(severity: Severity, code: Code, subject: &str) -> Finding {
        Finding::new(severity, code, subject, "m", "a")
    }

    #[test]
    fn a_broken_zone_chain_is_one_error_with_its_consequences_under_it() {
        let mut all = vec![
            f(
                Severity::Error,
                Code::StsRecordDnssecBogus,
                "_mta-sts.d.test",
            ),
            f(
                Severity::Error,
                Code::TlsrptDnssecBogus,
                "_smtp._tls.d.test",
            ),
            f(Severity::Error, Code::MxDnssecBogus, "d.test"),
            f(
                Severity::Error,
                Code::StsPolicyFetchError,
                "https://mta-sts.d.test/",
            ),
        ];
        settle(&mut all);
        assert_eq!(count_roots(&all, Severity::Error), 1, "{all:#?}");
        assert_eq!(groups(&all), vec![(2, vec![0, 1, 3])]);
        // The policy fetch follows from the record, the record from the MX.
        assert_eq!(
            all[3].caused_by.as_ref().map(|c| c.code),
            Some(Code::StsRecordDnssecBogus)
        );
        assert!(
            !all[3].advice.contains("Serve the policy"),
            "hosting advice is not given: {}",
            all[3].advice
        );
    }

    #[test]
    fn a_link_to_a_missing_or_milder_cause_or_to_itself_is_dropped() {
        let mut all = vec![
            f(Severity::Error, Code::MxValidationFailure, "mx1 127.0.0.1")
                .following(Code::StsPolicyMxNotCovered, Some("mx2".into())),
            f(Severity::Error, Code::MxValidationFailure, "mx2 127.0.0.2")
                .following(Code::StsPolicyMxNotCovered, Some("mx2".into())),
            f(Severity::Warning, Code::StsPolicyMxNotCovered, "mx2"),
            f(Severity::Warning, Code::MxCname, "mx3").following(Code::MxCname, None),
        ];
        settle(&mut all);
        assert!(all[0].is_root(), "no finding for mx1's cause");
        assert!(all[1].is_root(), "a warning does not carry an error");
        assert!(all[3].is_root(), "a finding does not follow from itself");
    }

    #[test]
    fn a_session_refused_for_an_uncovered_mx_counts_once_with_the_policy_finding() {
        let mut all = vec![
            f(Severity::Error, Code::StsPolicyMxNotCovered, "mx2.d.test"),
            f(
                Severity::Error,
                Code::MxValidationFailure,
                "mx2.d.test 127.0.0.2",
            )
            .following(Code::StsPolicyMxNotCovered, Some("mx2.d.test".into())),
        ];
        settle(&mut all);
        assert_eq!(count_roots(&all, Severity::Error), 1);
        assert_eq!(groups(&all), vec![(0, vec![1])]);
    }
}
