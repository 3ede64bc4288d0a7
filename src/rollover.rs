//! Rollover readiness: whether the published data lets the owner change a
//! key, a CA or an MX host without an outage.
//!
//! DANE (RFC 7671 §8.1, RFC 7672 §3.1): a TLSA set with one DANE-EE record
//! matches one key. A new key then has no match until its record is
//! published and every cached copy of the old RRset has expired (two TTLs):
//! a key change without an outage needs the next key's `3 1 1` published
//! beforehand, or a `2 1 1` for the issuing CA beside the `3 1 1` (the CA's
//! key survives a leaf key change, the leaf's record survives a CA change).
//!
//! MTA-STS (RFC 8461 §3.2, §5): senders keep a policy for max_age seconds
//! and refetch it only when the record's id changes, so an MX host must be
//! listed in the policy that long before mail moves to it.

use crate::evidence::MxHost;
use crate::finding::{Code, Finding, Severity};
use crate::mta_sts::policy::{Mode, StsPolicy};
use crate::pki::webpki::name_matches;
use crate::session::SessionOut;

/// DANE-TA and DANE-EE (RFC 7218).
const DANE_TA: u8 = 2;
const DANE_EE: u8 = 3;

/// One note per MX host whose TLSA set allows no key or CA change without an
/// outage, naming the record to add (from the chain the host serves).
pub fn dane_findings(mx: &[MxHost], sessions: &[SessionOut]) -> Vec<Finding> {
    let mut out = Vec::new();
    for host in mx.iter().filter(|h| h.tlsa.applies) {
        let usable: Vec<_> = host.tlsa.parsed.iter().filter(|r| r.is_usable()).collect();
        let mut ee: Vec<&[u8]> = usable
            .iter()
            .filter(|r| r.usage() == DANE_EE)
            .map(|r| r.data())
            .collect();
        ee.sort();
        ee.dedup();
        let ta = usable.iter().filter(|r| r.usage() == DANE_TA).count();
        if ee.len() >= 2 || (!ee.is_empty() && ta > 0) {
            continue;
        }
        let owner = host
            .tlsa
            .name
            .clone()
            .unwrap_or_else(|| format!("_25._tcp.{}", host.host));
        let chain = sessions
            .iter()
            .find(|s| s.mx == host.host && !s.chain.is_empty())
            .map(|s| s.chain.as_slice())
            .unwrap_or_default();
        // The owner actually queried: for an MX alias, the CNAME-expanded
        // base domain (RFC 7672 §2.2.2), which is where the records go.
        let set = if owner == format!("_25._tcp.{}", host.host) {
            format!("the TLSA set of {}", host.host)
        } else {
            format!("the TLSA set at {owner} (used for the alias {})", host.host)
        };
        let (message, advice) = if ee.len() == 1 {
            let ca = chain.get(1).map(|issuer| {
                format!(
                    "`{owner}. IN TLSA 2 1 1 {}` (the issuing CA {}, from the chain served)",
                    issuer.spki_sha256,
                    issuer.common_name.as_deref().unwrap_or(&issuer.subject)
                )
            });
            (
                format!(
                    "{set} has one DANE-EE record and no DANE-TA record: a new key has no matching record until it is published and the old set has left every cache"
                ),
                match ca {
                    Some(ca) => format!(
                        "Add {ca}, or a second `3 1 1` with the SHA-256 of the next key's SubjectPublicKeyInfo, at least two TTLs before the next key change."
                    ),
                    None => "Add a second `3 1 1` with the SHA-256 of the next key's SubjectPublicKeyInfo, or a `2 1 1` for the issuing CA, at least two TTLs before the next key change.".to_string(),
                },
            )
        } else {
            let leaf = chain
                .first()
                .map(|leaf| format!("`{owner}. IN TLSA 3 1 1 {}`", leaf.spki_sha256));
            (
                format!(
                    "{set} names only CA keys (DANE-TA): a change of CA has no matching record until the new CA's record is published and the old set has left every cache"
                ),
                match leaf {
                    Some(leaf) => format!(
                        "Add {leaf} (the key the server uses now) beside the `2 1 1`, so that a CA change does not break delivery."
                    ),
                    None => "Add a `3 1 1` for the server's key beside the `2 1 1`, so that a CA change does not break delivery.".to_string(),
                },
            )
        };
        out.push(Finding::new(
            Severity::Info,
            Code::DaneRolloverNotReady,
            &owner,
            message,
            advice,
        ));
    }
    out
}

/// Completes the `mx-cname` advice (publish the MX under the canonical
/// name) when an MTA-STS policy is in force: MTA-STS senders match the MX
/// name against the cached policy's `mx:` lines and the certificate (RFC
/// 8461 §4.1), so a new MX name the policy does not list is refused for
/// up to max_age. The name goes into the policy (and the certificate)
/// first, with a new id, as `sts-change-window` explains.
pub fn amend_mx_cname(
    findings: &mut [Finding],
    domain: &str,
    policy: Option<&StsPolicy>,
    mx: &[MxHost],
    sessions: &[SessionOut],
) {
    let Some(policy) = policy.filter(|p| p.mode() != Mode::None) else {
        return;
    };
    for f in findings.iter_mut().filter(|f| f.code == Code::MxCname) {
        let Some(target) = mx
            .iter()
            .find(|h| h.host == f.subject)
            .and_then(|h| h.cname.as_deref())
        else {
            continue;
        };
        let target = target.trim_end_matches('.');
        let listed = policy.mx().iter().any(|p| p.matches(target));
        // Every certificate the alias's addresses served names the target?
        let certificates: Vec<_> = sessions
            .iter()
            .filter(|s| s.mx == f.subject)
            .filter_map(|s| s.certificate.as_ref())
            .collect();
        let named = !certificates.is_empty()
            && certificates
                .iter()
                .all(|c| c.dns_names.iter().any(|n| name_matches(n, target)));
        let certificate = if named {
            String::new()
        } else {
            format!(" and make the certificate served there name {target}")
        };
        let outcome = if policy.mode() == Mode::Enforce {
            "or MTA-STS senders refuse the new MX name"
        } else {
            "or MTA-STS senders report the new MX name as a failure (mode testing)"
        };
        let note = if listed {
            if named {
                continue;
            }
            format!(
                " The MTA-STS policy in force lists {target}; before changing the MX,{} (senders match it against the MX name, RFC 8461 §4.1).",
                certificate.trim_start_matches(" and")
            )
        } else {
            format!(
                " An MTA-STS policy is in force and does not list {target}: before changing the MX, add `mx: {target}` to the policy at https://mta-sts.{domain}/.well-known/mta-sts.txt{certificate}, change the id of _mta-sts.{domain} and wait max_age ({} s), {outcome} (RFC 8461 §4.1).",
                policy.max_age()
            )
        };
        f.advice.push_str(&note);
    }
}

/// How long a change of the MTA-STS policy takes to reach senders, for an
/// applied policy in testing or enforce mode.
pub fn sts_findings(domain: &str, mode: Option<Mode>, max_age: Option<u32>) -> Vec<Finding> {
    let (Some(mode), Some(max_age)) = (mode, max_age) else {
        return Vec::new();
    };
    if mode == Mode::None {
        return Vec::new();
    }
    let days = max_age / 86_400;
    let span = if days == 1 {
        "1 day".to_string()
    } else if days > 1 {
        format!("{days} days")
    } else {
        format!("{max_age} s")
    };
    let enforce = mode == Mode::Enforce;
    vec![Finding::new(
        Severity::Info,
        Code::StsChangeWindow,
        format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"),
        format!(
            "senders keep this {} policy for max_age = {max_age} s ({span}) and refetch it only when the record's id changes{}",
            if enforce { "enforce" } else { "testing" },
            if enforce {
                ": an MX host missing from the cached policy is refused that long"
            } else {
                ""
            }
        ),
        format!(
            "To move mail to a new MX host: list it in the policy beside the old ones, change the id of _mta-sts.{domain}, wait {span}, then change the MX records. {}",
            if enforce {
                "For a risky change, switch to mode: testing (new id) first and wait max_age."
            } else {
                "Switch to enforce once the reports show no failures."
            }
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_window_is_told_for_applied_policies_only() {
        assert!(sts_findings("example.com", None, None).is_empty());
        assert!(sts_findings("example.com", Some(Mode::None), Some(86_400)).is_empty());
        let f = sts_findings("example.com", Some(Mode::Enforce), Some(604_800));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("7 days"), "{}", f[0].message);
        assert!(f[0].advice.contains("wait 7 days"), "{}", f[0].advice);
        let f = sts_findings("example.com", Some(Mode::Testing), Some(86_400));
        assert!(f[0].message.contains("(1 day)"), "{}", f[0].message);
        assert!(f[0].advice.contains("wait 1 day,"), "{}", f[0].advice);
    }
}
