//! Pre-flight: judging a planned change before it is published.
//!
//! `--sts-policy FILE` judges a planned MTA-STS policy as if it were
//! served, `--tlsa RR` a planned TLSA set as if published and signed for
//! every MX host, `--mx HOST` a planned MX set — each against what the MX
//! hosts serve today. Everything judged from planned data says so
//! (`planned` in the JSON, a note in the summary, `preflight` in the
//! report-id).

use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;
use serde::Serialize;

use crate::dane::tlsa::TlsaRecord;
use crate::dns::Dnssec;
use crate::evidence::{MxHost, Tlsa, TlsaStatus};
use crate::mta_sts::policy::{self, StsPolicy};

/// The planned data, parsed and checked before any scan.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub mx: Vec<Name>,
    pub tlsa: Vec<TlsaRecord>,
    /// For each planned TLSA record, the MX host its owner name names
    /// when it was given as a zone-file line (`_25._tcp.<host>`); such a
    /// record is planned for that host only.
    pub tlsa_hosts: Vec<Option<String>>,
    pub sts_policy: Option<(PathBuf, StsPolicy)>,
}

/// Which parts of a report come from planned data (`planned` in the JSON).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Planned {
    pub mx: bool,
    pub tlsa: bool,
    pub sts_policy: bool,
}

impl Planned {
    pub fn any(&self) -> bool {
        self.mx || self.tlsa || self.sts_policy
    }

    pub fn is_none(&self) -> bool {
        !self.any()
    }
}

/// Why planned data cannot be used: the run stops before scanning.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("cannot read --sts-policy {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--sts-policy {path}: {reason}; fix the file (see RFC 8461 §3.2) and run again")]
    Policy { path: PathBuf, reason: String },
    #[error(
        "--tlsa {value:?} is not a TLSA record: {reason} (expected e.g. \"3 1 1 <64 hex digits>\")"
    )]
    Tlsa { value: String, reason: String },
    #[error("--mx \"{value}\" is not a host name: {reason}")]
    Mx { value: String, reason: String },
}

impl Preflight {
    /// Parses what the user planned. A policy that does not parse names the
    /// file and the line.
    pub fn parse(
        mx: &[String],
        tlsa: &[String],
        sts_policy: Option<&Path>,
    ) -> Result<Preflight, PreflightError> {
        let mut out = Preflight::default();
        for value in mx {
            let text = value.trim().trim_end_matches('.');
            let name = Name::from_utf8(format!("{text}.")).map_err(|e| PreflightError::Mx {
                value: crate::sanitize::for_terminal(value, 300),
                reason: bad_character(text)
                    .unwrap_or_else(|| crate::sanitize::for_terminal(&e.to_string(), 200)),
            })?;
            if text.is_empty() || text.parse::<std::net::IpAddr>().is_ok() {
                return Err(PreflightError::Mx {
                    value: value.clone(),
                    reason: "an MX names a host, not an address".into(),
                });
            }
            out.mx.push(name);
        }
        for value in tlsa {
            let err = |reason: String| PreflightError::Tlsa {
                value: value.clone(),
                reason,
            };
            let (host, rdata) = split_zone_line(value).map_err(err)?;
            let rr = TlsaRecord::parse_presentation(&rdata).map_err(|e| err(e.to_string()))?;
            out.tlsa.push(rr);
            out.tlsa_hosts.push(host);
        }
        if let Some(path) = sts_policy {
            let body = std::fs::read(path).map_err(|source| PreflightError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let parsed = policy::parse(&body).map_err(|e| PreflightError::Policy {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            out.sts_policy = Some((path.to_path_buf(), parsed));
        }
        Ok(out)
    }

    pub fn planned(&self) -> Planned {
        Planned {
            mx: !self.mx.is_empty(),
            tlsa: !self.tlsa.is_empty(),
            sts_policy: self.sts_policy.is_some(),
        }
    }

    /// The planned TLSA set for `host`, as if published and signed; `None`
    /// when every planned record names another host (then what is
    /// published stays).
    pub fn tlsa_for(&self, host: &MxHost) -> Option<Tlsa> {
        let name = host.host.trim_end_matches('.').to_ascii_lowercase();
        let records: Vec<TlsaRecord> = self
            .tlsa
            .iter()
            .zip(&self.tlsa_hosts)
            .filter(|(_, owner)| owner.as_ref().is_none_or(|o| *o == name))
            .map(|(r, _)| r.clone())
            .collect();
        if records.is_empty() {
            return None;
        }
        Some(Tlsa {
            status: TlsaStatus::Found,
            name: Some(format!("_25._tcp.{}", host.host)),
            base_domain: Some(host.cname.clone().unwrap_or_else(|| host.host.clone())),
            dnssec: Dnssec::Secure,
            records: records.iter().map(TlsaRecord::to_presentation).collect(),
            usable: records.iter().filter(|t| t.is_usable()).count(),
            applies: true,
            reason: "planned TLSA records (--tlsa), judged as if published and signed".into(),
            parsed: records,
            planned: true,
            error: None,
            overloaded: false,
        })
    }
}

/// The MX hosts named by planned TLSA zone-file lines, and whether a
/// scanned domain had each among its MX hosts. A line whose host none had
/// was judged nowhere (a typo in the owner, or the wrong domain): the run
/// says so and fails rather than pass without checking it.
#[derive(Debug, Default)]
pub struct PlannedOwners {
    owners: Vec<(String, bool)>,
    /// A few MX hosts the scans found, to show beside an unused owner.
    seen: Vec<String>,
}

/// MX hosts shown beside an unused owner.
const SEEN_SHOWN: usize = 6;

impl PlannedOwners {
    pub fn new(preflight: &Preflight) -> PlannedOwners {
        let mut owners: Vec<(String, bool)> = Vec::new();
        for host in preflight.tlsa_hosts.iter().flatten() {
            if !owners.iter().any(|(h, _)| h == host) {
                owners.push((host.clone(), false));
            }
        }
        PlannedOwners {
            owners,
            seen: Vec::new(),
        }
    }

    /// Notes the MX hosts of one scanned domain.
    pub fn saw<'a>(&mut self, mx_hosts: impl IntoIterator<Item = &'a str>) {
        if self.owners.is_empty() {
            return;
        }
        for host in mx_hosts {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            for (owner, used) in &mut self.owners {
                *used |= *owner == host;
            }
            if self.seen.len() < SEEN_SHOWN && !self.seen.contains(&host) {
                self.seen.push(host);
            }
        }
    }

    /// What to tell the user about lines judged nowhere, if any.
    pub fn unused_message(&self) -> Option<String> {
        let unused: Vec<String> = self
            .owners
            .iter()
            .filter(|(_, used)| !used)
            .map(|(h, _)| format!("_25._tcp.{h}"))
            .collect();
        if unused.is_empty() {
            return None;
        }
        let seen = if self.seen.is_empty() {
            "no MX host was found".to_string()
        } else {
            format!(
                "the MX hosts found: {}{}",
                self.seen.join(", "),
                if self.seen.len() == SEEN_SHOWN {
                    ", …"
                } else {
                    ""
                }
            )
        };
        Some(format!(
            "--tlsa: {} names no MX host of the domain(s) scanned ({seen}), so it was not judged; write the owner as _25._tcp.<MX host>, or give the record without an owner to plan it for every MX host",
            unused.join(", ")
        ))
    }
}

/// The first character a host name may not hold, shown so that an
/// invisible one (a control character, a space) can be seen.
fn bad_character(text: &str) -> Option<String> {
    let (at, c) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '-' || *c == '.'))?;
    let shown = match c {
        ' ' => "a space".to_string(),
        c => format!("'{}'", c.escape_default()),
    };
    Some(format!(
        "character {} is {shown}: a host name has letters, digits, hyphens and dots only",
        at + 1
    ))
}

/// `--tlsa` takes the RDATA (`3 1 1 <hex>`) or a whole zone-file line as
/// admins paste it (`_25._tcp.mx.example. 3600 IN TLSA 3 1 1 <hex>`, TTL
/// and class optional). A line's owner must be `_25._tcp.<host>`: the
/// name SMTP clients look up (RFC 7672 §2.2, port 25 whatever the lab
/// uses). Returns the host the owner names, if any, and the RDATA.
fn split_zone_line(value: &str) -> Result<(Option<String>, String), String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let Some(first) = words.first() else {
        return Err("it is empty".into());
    };
    if first.parse::<u8>().is_ok() {
        return Ok((None, value.trim().to_string()));
    }
    let mut rest = &words[1..];
    if rest.first().is_some_and(|w| w.parse::<u32>().is_ok()) {
        rest = &rest[1..];
    }
    if rest.first().is_some_and(|w| w.eq_ignore_ascii_case("IN")) {
        rest = &rest[1..];
    }
    match rest.first() {
        Some(t) if t.eq_ignore_ascii_case("TLSA") => {}
        Some(t) => {
            return Err(format!(
                "a zone-file line must have type TLSA after the owner, TTL and class, not {:?}",
                crate::sanitize::for_terminal(t, 20)
            ));
        }
        None => return Err("the zone-file line has no type and no RDATA".into()),
    }
    let owner = first.trim_end_matches('.').to_ascii_lowercase();
    let Some(host) = owner.strip_prefix("_25._tcp.").filter(|h| !h.is_empty()) else {
        return Err(format!(
            "the owner {:?} is not _25._tcp.<MX host>, the name senders look up for SMTP (RFC 7672 §2.2)",
            crate::sanitize::for_terminal(first, 80)
        ));
    };
    Ok((Some(host.to_string()), rest[1..].join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_owner_no_scanned_domain_has_is_named_with_the_hosts_found() {
        let zeros = "00".repeat(32);
        let p = Preflight::parse(
            &[],
            &[
                format!("_25._tcp.mx1.example.com. IN TLSA 3 1 1 {zeros}"),
                format!("_25._tcp.MX2.example.com 3600 TLSA 3 1 1 {zeros}"),
                format!("3 1 1 {zeros}"),
            ],
            None,
        )
        .expect("parses");
        let mut owners = PlannedOwners::new(&p);
        assert!(owners.unused_message().is_some(), "nothing scanned yet");
        owners.saw(["mx2.example.com."]);
        let text = owners.unused_message().expect("mx1 unused");
        assert!(
            text.contains("_25._tcp.mx1.example.com names no MX host"),
            "{text}"
        );
        assert!(!text.contains("_25._tcp.mx2"), "{text}");
        assert!(
            text.contains("the MX hosts found: mx2.example.com"),
            "{text}"
        );
        owners.saw(["MX1.example.com"]);
        assert_eq!(owners.unused_message(), None);
        // Records without an owner apply to every host: nothing to report.
        let p = Preflight::parse(&[], &[format!("3 1 1 {zeros}")], None).expect("parses");
        assert_eq!(PlannedOwners::new(&p).unused_message(), None);
    }

    #[test]
    fn bad_planned_data_is_refused_with_its_value() {
        let err = Preflight::parse(&[], &["3 1 1 zz".into()], None).expect_err("bad hex");
        assert!(err.to_string().contains("--tlsa \"3 1 1 zz\""), "{err}");
        let err = Preflight::parse(&["192.0.2.1".into()], &[], None).expect_err("address");
        assert!(err.to_string().contains("not an address"), "{err}");
        let dir = std::env::temp_dir().join(format!("mxtls-preflight-{}", std::process::id()));
        std::fs::write(&dir, "version: STSv1\nmode: enforce\nmax_age: 86400\n").expect("write");
        let err = Preflight::parse(&[], &[], Some(&dir)).expect_err("no mx line");
        assert!(err.to_string().contains("--sts-policy"), "{err}");
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn a_tlsa_zone_file_line_is_taken_with_or_without_ttl_and_class() {
        let hex = "ab".repeat(32);
        for line in [
            format!("_25._tcp.mx.example. 3600 IN TLSA 3 1 1 {hex}"),
            format!("_25._tcp.MX.example. IN TLSA 3 1 1 {hex}"),
            format!("_25._tcp.mx.example 300 TLSA 3 1 1 {hex}"),
            format!("_25._tcp.mx.example. TLSA 3 1 1 {hex}"),
        ] {
            let p = Preflight::parse(&[], std::slice::from_ref(&line), None).expect(&line);
            assert_eq!(p.tlsa_hosts, [Some("mx.example".to_string())], "{line}");
            assert_eq!(
                p.tlsa[0].to_presentation(),
                format!("3 1 1 {hex}"),
                "{line}"
            );
        }
        let p = Preflight::parse(&[], &[format!("3 1 1 {hex}")], None).expect("rdata");
        assert_eq!(p.tlsa_hosts, [None]);
        for (line, want) in [
            (
                format!("_443._tcp.mx.example. IN TLSA 3 1 1 {hex}"),
                "_25._tcp",
            ),
            (format!("mx.example. IN TLSA 3 1 1 {hex}"), "_25._tcp"),
            (
                format!("_25._tcp.mx.example. IN TXT 3 1 1 {hex}"),
                "type TLSA",
            ),
            ("_25._tcp.mx.example. IN TLSA".to_string(), "TLSA record"),
        ] {
            let err = Preflight::parse(&[], std::slice::from_ref(&line), None).expect_err(&line);
            assert!(err.to_string().contains(want), "{line}: {err}");
        }
    }

    #[test]
    fn an_invalid_character_in_mx_is_shown_visibly() {
        for (value, want) in [
            ("mx\u{1b}1.example", "character 3 is '\\u{1b}'"),
            ("mx 1.example", "character 3 is a space"),
            ("mx_1.example", "character 3 is '_'"),
        ] {
            let err = Preflight::parse(&[value.into()], &[], None).expect_err(value);
            let text = err.to_string();
            assert!(text.contains(want), "{value:?}: {text}");
            assert!(!text.contains('\x1b'), "{value:?}: {text}");
        }
    }

    #[test]
    fn good_planned_data_parses() {
        let p = Preflight::parse(
            &["mx2.example.com.".into()],
            &[format!("3 1 1 {}", "ab".repeat(32))],
            None,
        )
        .expect("valid");
        assert_eq!(p.mx.len(), 1);
        assert!(p.planned().mx && p.planned().tlsa && !p.planned().sts_policy);
    }
}
