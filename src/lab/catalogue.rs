//! The scenario catalogue: one row per case the scanner must recognise.
//!
//! The catalogue is TOML (`testdata/lab/catalogue.toml`). Each `[[scenario]]`
//! names a zone under the lab's TLD, says how it is signed, lists its records
//! in zone-file syntax (RFC 1035 §5.1, one record per line, origin = the
//! scenario zone) and which RRsets are broken on purpose. The `expect` table
//! is carried through unread: the tests that drive the lab read it.
//!
//! Parsing checks everything the lab later relies on, so that starting the
//! lab cannot fail on the catalogue's content: scenario names are single DNS
//! labels and unique, records stay inside their zone, the lab's own records
//! (SOA, apex NS, DNSSEC records) are not written by hand, zone-file
//! directives (`$INCLUDE`, `$ORIGIN`, `$TTL`) are refused, and every RRset
//! named in `corrupt` or `expire` exists in a signed zone.
//!
//! Left out: parenthesised records spanning several lines, classes other
//! than IN, nested delegations inside a scenario zone.

use std::{collections::BTreeMap, fmt, fs, ops::Range, path::Path, str::FromStr};

use hickory_proto::{
    rr::{DNSClass, LowerName, Name, RecordSet, RecordType, RrKey},
    serialize::txt::Parser,
};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use super::LabError;

/// Largest catalogue accepted, in bytes.
pub const MAX_CATALOGUE_BYTES: usize = 1 << 20;
/// Most scenarios accepted in one catalogue.
pub const MAX_SCENARIOS: usize = 500;
/// Most lines accepted in one scenario's zone text.
pub const MAX_ZONE_LINES: usize = 500;
/// Most selectors accepted in one of `corrupt`, `expire`, `servfail`.
pub const MAX_SELECTORS: usize = 64;
/// TTL given to every record of a scenario zone.
pub const RECORD_TTL: u32 = 3600;
/// Names the lab uses for itself under the TLD (its name server).
pub const RESERVED_NAMES: &[&str] = &["ns"];

/// How a scenario's zone is published and delegated from the TLD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnssecMode {
    /// A signed zone with a DS in the signed TLD: answers validate as secure.
    Secure,
    /// An unsigned zone delegated without DS: the TLD's NSEC proves the
    /// delegation insecure (RFC 4035 §5.2).
    Insecure,
    /// A signed zone whose DS in the TLD was made from an unrelated key:
    /// the chain of trust breaks and every answer is bogus.
    BogusDs,
    /// No zone at all: the name does not exist and the TLD answers NXDOMAIN
    /// with an NSEC proof.
    Absent,
}

impl DnssecMode {
    /// Whether the lab signs this scenario's zone.
    #[must_use]
    pub fn is_signed(self) -> bool {
        matches!(self, DnssecMode::Secure | DnssecMode::BogusDs)
    }

    /// The catalogue spelling of the mode.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecMode::Secure => "secure",
            DnssecMode::Insecure => "insecure",
            DnssecMode::BogusDs => "bogus-ds",
            DnssecMode::Absent => "absent",
        }
    }
}

impl fmt::Display for DnssecMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One RRset of a scenario zone, named as "relative-owner TYPE"
/// (`"@ MX"`, `"mx1 A"`, `"_smtp._tls TXT"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrsetSelector {
    raw: String,
    owner: Name,
    record_type: RecordType,
}

impl RrsetSelector {
    /// The selector as written in the catalogue.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The absolute owner name of the RRset.
    #[must_use]
    pub fn owner(&self) -> &Name {
        &self.owner
    }

    /// The type of the RRset.
    #[must_use]
    pub fn record_type(&self) -> RecordType {
        self.record_type
    }

    /// Parses `"owner TYPE"` relative to `origin`; the owner must lie in the zone.
    fn parse(raw: &str, origin: &Name) -> Result<Self, ScenarioError> {
        let bad = |reason: &str| ScenarioError::Selector {
            selector: raw.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = raw.split_whitespace();
        let (Some(owner), Some(rtype), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected \"relative-owner TYPE\", e.g. \"@ MX\""));
        };
        let owner = if owner == "@" {
            origin.clone()
        } else {
            Name::parse(owner, Some(origin)).map_err(|e| bad(&format!("bad owner name: {e}")))?
        };
        if !origin.zone_of(&owner) {
            return Err(bad("owner is outside the scenario zone"));
        }
        let record_type = RecordType::from_str(&rtype.to_ascii_uppercase())
            .map_err(|_| bad("unknown record type"))?;
        Ok(RrsetSelector {
            raw: raw.to_string(),
            owner,
            record_type,
        })
    }
}

impl fmt::Display for RrsetSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// What is wrong with one scenario.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The name is not a single lowercase LDH label (RFC 1035 §2.3.1).
    #[error("name {name:?} is not a single lowercase DNS label (a-z, 0-9, '-', at most 63)")]
    BadName {
        /// The name as written.
        name: String,
    },
    /// The name is one the lab uses itself.
    #[error("name {name:?} is reserved by the lab")]
    ReservedName {
        /// The name as written.
        name: String,
    },
    /// Two scenarios have the same name.
    #[error("name already used by the scenario at catalogue line {first_line}")]
    Duplicate {
        /// Line of the first scenario with that name.
        first_line: usize,
    },
    /// The zone text has more lines than accepted.
    #[error("zone has {lines} lines, more than the {max} accepted")]
    ZoneTooLarge {
        /// Lines in the zone text.
        lines: usize,
        /// The most accepted.
        max: usize,
    },
    /// One line of the zone text is wrong.
    #[error("zone line {zone_line} {text:?}: {reason}")]
    ZoneLine {
        /// Line within the zone text (1-based).
        zone_line: usize,
        /// The line as written.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A selector cannot be read or points outside the zone.
    #[error("selector {selector:?}: {reason}")]
    Selector {
        /// The selector as written.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `corrupt` or `expire` selector names an RRset the zone does not have.
    #[error("{field} selector {selector:?} names no RRset of the zone")]
    NoSuchRrset {
        /// `corrupt` or `expire`.
        field: &'static str,
        /// The selector as written.
        selector: String,
    },
    /// Breaking a signature needs a signed zone.
    #[error("{field} needs a signed zone, but dnssec is {mode}")]
    NotSigned {
        /// `corrupt` or `expire`.
        field: &'static str,
        /// The scenario's mode.
        mode: DnssecMode,
    },
    /// An absent zone cannot carry records or broken RRsets.
    #[error("dnssec = \"absent\" means no zone, but {field} is not empty")]
    AbsentWithContent {
        /// The field that should be empty.
        field: &'static str,
    },
    /// Too many selectors in one list.
    #[error("{field} has {count} selectors, more than the {max} accepted")]
    TooManySelectors {
        /// `corrupt`, `expire` or `servfail`.
        field: &'static str,
        /// How many were given.
        count: usize,
        /// The most accepted.
        max: usize,
    },
}

/// One scenario: a zone under the lab's TLD and how it is broken.
///
/// Built only by [`Catalogue::parse`]; the zone text is kept as written
/// beside the records parsed from it.
#[derive(Debug, Clone)]
pub struct Scenario {
    name: String,
    tld: String,
    origin: Name,
    about: String,
    dnssec: DnssecMode,
    zone: String,
    records: BTreeMap<RrKey, RecordSet>,
    corrupt: Vec<RrsetSelector>,
    expire: Vec<RrsetSelector>,
    servfail: Vec<RrsetSelector>,
    lossy: Vec<RrsetSelector>,
    silent: Vec<RrsetSelector>,
    policy: Option<PolicySpec>,
    signature_days: Option<u32>,
    signed_days_ago: Option<u32>,
    changed_records: Option<BTreeMap<RrKey, RecordSet>>,
    expect: BTreeMap<String, String>,
}

/// Which certificate the lab's HTTPS server shows for a policy host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// Issued by the lab CA, valid now, naming the host.
    #[default]
    Good,
    /// Issued by a CA the scanner is not told to trust.
    Untrusted,
    /// Validity ended days ago.
    Expired,
    /// Valid, for five more days only (through the intermediate).
    ExpiresSoon,
    /// Valid, but for another name.
    WrongName,
}

/// How the policy host answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Serve {
    /// `status`, `content_type` and `body` for the policy path.
    #[default]
    Policy,
    /// 301 to `location`.
    Redirect,
    /// Accepts the request and never answers.
    Hang,
    /// 200 with a body far over the 64 KiB cap.
    Oversized,
    /// Like `Policy`, but only after `delay_ms` (a slow backend).
    Slow,
    /// Header lines that never end.
    HeadersForever,
}

/// The lab's HTTPS site `mta-sts.<scenario>` (`[scenario.policy]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    #[serde(default)]
    pub cert: CertKind,
    #[serde(default)]
    pub serve: Serve,
    #[serde(default = "default_status")]
    pub status: u16,
    /// Content-Type header; `text/plain` when absent, none when empty.
    pub content_type: Option<String>,
    #[serde(default)]
    pub body: String,
    /// Serve the body with CRLF line ends (as many web servers' files have).
    #[serde(default)]
    pub crlf: bool,
    /// The body served once the lab is told the policy changed
    /// (`Lab::change_policy`): an edit between two scans.
    #[serde(default)]
    pub changed_body: Option<String>,
    pub location: Option<String>,
    /// How long `serve = "slow"` waits before it answers, in milliseconds
    /// ([`DEFAULT_SLOW_MS`] when absent).
    pub delay_ms: Option<u64>,
}

/// The wait of `serve = "slow"` when no `delay_ms` is given: past the
/// 2 s after which a fetch is reported slow, well within the lab's
/// connection lifetime.
pub const DEFAULT_SLOW_MS: u64 = 2_500;

fn default_status() -> u16 {
    200
}

impl Scenario {
    /// The MTA-STS policy site, when the scenario has one.
    #[must_use]
    pub fn policy(&self) -> Option<&PolicySpec> {
        self.policy.as_ref()
    }

    /// The scenario name, which is also the zone's first label.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scenario's domain without the trailing dot (`"secure.test"`).
    #[must_use]
    pub fn domain(&self) -> String {
        format!("{}.{}", self.name, self.tld)
    }

    /// The scenario's zone as an absolute name (`secure.test.`).
    #[must_use]
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// One line saying what the scenario shows.
    #[must_use]
    pub fn about(&self) -> &str {
        &self.about
    }

    /// How the zone is signed and delegated.
    #[must_use]
    pub fn dnssec(&self) -> DnssecMode {
        self.dnssec
    }

    /// The zone text exactly as written in the catalogue.
    #[must_use]
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The records parsed from the zone text (no SOA, NS or DNSSEC records:
    /// the lab adds those).
    #[must_use]
    pub fn records(&self) -> &BTreeMap<RrKey, RecordSet> {
        &self.records
    }

    /// RRsets whose RRSIG gets one signature byte flipped.
    #[must_use]
    pub fn corrupt(&self) -> &[RrsetSelector] {
        &self.corrupt
    }

    /// RRsets whose RRSIG validity ended days ago.
    #[must_use]
    pub fn expire(&self) -> &[RrsetSelector] {
        &self.expire
    }

    /// The records of the zone's second state (`changed_zone`), served
    /// once a test flips the zone's switch.
    #[must_use]
    pub fn changed_records(&self) -> Option<&BTreeMap<RrKey, RecordSet>> {
        self.changed_records.as_ref()
    }

    /// Days the zone's signatures are valid from now, when the scenario
    /// sets it (`signature_days`, 1 to 365).
    #[must_use]
    pub fn signature_days(&self) -> Option<u32> {
        self.signature_days
    }

    /// Days ago the zone was signed (`signed_days_ago`, 1 to 365): its
    /// RRSIGs' inception, as a zone signed then and not since.
    #[must_use]
    pub fn signed_days_ago(&self) -> Option<u32> {
        self.signed_days_ago
    }

    /// (owner, type) pairs the authoritative server answers with SERVFAIL.
    #[must_use]
    pub fn servfail(&self) -> &[RrsetSelector] {
        &self.servfail
    }

    /// RRsets whose first UDP query (and every other one after) the lab's
    /// servers drop without an answer.
    pub fn lossy(&self) -> &[RrsetSelector] {
        &self.lossy
    }

    /// RRsets whose every query (UDP and TCP) the lab's servers leave
    /// unanswered, as a server that has lost them does.
    pub fn silent(&self) -> &[RrsetSelector] {
        &self.silent
    }

    /// The free-form expectations, carried through unread.
    #[must_use]
    pub fn expect(&self) -> &BTreeMap<String, String> {
        &self.expect
    }
}

/// The whole catalogue: the TLD and its scenarios, in file order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    tld: String,
    scenarios: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    tld: Spanned<String>,
    /// Read by `servers::prepare` before this parse; accepted here.
    #[serde(default)]
    #[allow(dead_code)]
    smtp: Vec<toml::Value>,
    #[serde(default)]
    scenario: Vec<Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    about: String,
    dnssec: DnssecMode,
    #[serde(default)]
    zone: Option<Spanned<String>>,
    #[serde(default)]
    corrupt: Vec<Spanned<String>>,
    #[serde(default)]
    expire: Vec<Spanned<String>>,
    #[serde(default)]
    servfail: Vec<Spanned<String>>,
    /// RRsets whose UDP queries are lost every other time, starting with
    /// the first, as on a lossy path.
    #[serde(default)]
    lossy: Vec<Spanned<String>>,
    /// RRsets whose queries are never answered.
    #[serde(default)]
    silent: Vec<Spanned<String>>,
    #[serde(default)]
    policy: Option<PolicySpec>,
    /// Days the zone's signatures are valid from now (30 by default): a
    /// zone whose re-signing stopped.
    #[serde(default)]
    signature_days: Option<u32>,
    /// Days ago the signatures were made (now by default): with
    /// `signature_days`, a validity period that mostly passed.
    #[serde(default)]
    signed_days_ago: Option<u32>,
    /// The zone served once a test calls `Lab::change_zone` (a TLSA
    /// record added for a rollover, say), in the syntax of `zone`.
    #[serde(default)]
    changed_zone: Option<String>,
    #[serde(default)]
    expect: BTreeMap<String, String>,
}

impl Catalogue {
    /// Parses a catalogue from its TOML text.
    pub fn parse(text: &str) -> Result<Catalogue, LabError> {
        if text.len() > MAX_CATALOGUE_BYTES {
            return Err(LabError::TooLarge {
                size: text.len() as u64,
                max: MAX_CATALOGUE_BYTES,
            });
        }
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| LabError::Toml {
            line: e.span().map_or(1, |span| line_of(text, span.start)),
            message: e.message().lines().next().unwrap_or_default().to_string(),
        })?;

        let tld_line = line_of(text, raw.tld.span().start);
        let tld = raw.tld.into_inner();
        if !is_label(&tld) {
            return Err(LabError::BadTld {
                tld,
                line: tld_line,
            });
        }
        if raw.scenario.len() > MAX_SCENARIOS {
            return Err(LabError::TooManyScenarios {
                count: raw.scenario.len(),
                max: MAX_SCENARIOS,
            });
        }

        let mut first_lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut scenarios = Vec::with_capacity(raw.scenario.len());
        for raw_scenario in raw.scenario {
            let scenario_line = line_of(text, raw_scenario.span().start);
            let raw_scenario = raw_scenario.into_inner();
            let name_line = line_of(text, raw_scenario.name.span().start);
            let name = raw_scenario.name.get_ref().clone();
            let fail = |line: usize, problem: ScenarioError| LabError::Scenario {
                scenario: name.clone(),
                line,
                problem,
            };
            if let Some(first_line) = first_lines.get(&name) {
                return Err(fail(
                    name_line,
                    ScenarioError::Duplicate {
                        first_line: *first_line,
                    },
                ));
            }
            first_lines.insert(name.clone(), scenario_line);
            let scenario = build_scenario(text, &tld, raw_scenario)
                .map_err(|(line, p)| fail(if line == 0 { scenario_line } else { line }, p))?;
            scenarios.push(scenario);
        }
        Ok(Catalogue { tld, scenarios })
    }

    /// Reads and parses a catalogue file.
    pub fn load(path: impl AsRef<Path>) -> Result<Catalogue, LabError> {
        let path = path.as_ref();
        let read_error = |source| LabError::Read {
            path: path.to_path_buf(),
            source,
        };
        let size = fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_CATALOGUE_BYTES as u64 {
            return Err(LabError::TooLarge {
                size,
                max: MAX_CATALOGUE_BYTES,
            });
        }
        let text = fs::read_to_string(path).map_err(read_error)?;
        Catalogue::parse(&text)
    }

    /// The lab's top-level domain, without dots (`"test"`).
    #[must_use]
    pub fn tld(&self) -> &str {
        &self.tld
    }

    /// The scenarios, in catalogue order.
    #[must_use]
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The scenario with this name, if any.
    #[must_use]
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }
}

/// Checks one scenario; errors carry the catalogue line (0 = the scenario's
/// own line).
fn build_scenario(
    text: &str,
    tld: &str,
    raw: RawScenario,
) -> Result<Scenario, (usize, ScenarioError)> {
    let name_line = line_of(text, raw.name.span().start);
    let name = raw.name.into_inner();
    if !is_label(&name) {
        return Err((name_line, ScenarioError::BadName { name }));
    }
    if RESERVED_NAMES.contains(&name.as_str()) {
        return Err((name_line, ScenarioError::ReservedName { name }));
    }
    let origin = Name::from_ascii(format!("{name}.{tld}."))
        .map_err(|_| (name_line, ScenarioError::BadName { name: name.clone() }))?;

    let (zone, zone_first_line) = match &raw.zone {
        Some(zone) => (zone.get_ref().clone(), zone_content_line(text, zone.span())),
        None => (String::new(), 0),
    };

    if raw.dnssec == DnssecMode::Absent {
        let non_empty = [
            ("zone", zone.trim().is_empty()),
            ("corrupt", raw.corrupt.is_empty()),
            ("expire", raw.expire.is_empty()),
            ("servfail", raw.servfail.is_empty()),
        ];
        if let Some((field, _)) = non_empty.iter().find(|(_, empty)| !empty) {
            return Err((0, ScenarioError::AbsentWithContent { field }));
        }
    }

    let records = parse_zone(&zone, &origin).map_err(|e| {
        let line = match &e {
            ScenarioError::ZoneLine { zone_line, .. } if zone_first_line > 0 => {
                zone_first_line + zone_line - 1
            }
            _ => zone_first_line,
        };
        (line, e)
    })?;

    let changed_records = match &raw.changed_zone {
        Some(changed) if raw.dnssec != DnssecMode::Absent => {
            Some(parse_zone(changed, &origin).map_err(|e| (zone_first_line, e))?)
        }
        _ => None,
    };
    let corrupt = selectors(text, "corrupt", &raw.corrupt, &origin)?;
    let expire = selectors(text, "expire", &raw.expire, &origin)?;
    let servfail = selectors(text, "servfail", &raw.servfail, &origin)?;
    let lossy = selectors(text, "lossy", &raw.lossy, &origin)?;
    let silent = selectors(text, "silent", &raw.silent, &origin)?;
    for (field, list, spans) in [
        ("corrupt", &corrupt, &raw.corrupt),
        ("expire", &expire, &raw.expire),
    ] {
        for (selector, span) in list.iter().zip(spans.iter()) {
            let line = line_of(text, span.span().start);
            if !raw.dnssec.is_signed() {
                return Err((
                    line,
                    ScenarioError::NotSigned {
                        field,
                        mode: raw.dnssec,
                    },
                ));
            }
            let key = RrKey::new(LowerName::new(selector.owner()), selector.record_type());
            if !records.contains_key(&key) {
                return Err((
                    line,
                    ScenarioError::NoSuchRrset {
                        field,
                        selector: selector.raw().to_string(),
                    },
                ));
            }
        }
    }

    Ok(Scenario {
        name,
        tld: tld.to_string(),
        origin,
        about: raw.about,
        dnssec: raw.dnssec,
        zone,
        records,
        corrupt,
        expire,
        servfail,
        lossy,
        silent,
        policy: raw.policy,
        signature_days: raw.signature_days.map(|d| d.clamp(1, 365)),
        signed_days_ago: raw.signed_days_ago.map(|d| d.clamp(1, 365)),
        changed_records,
        expect: raw.expect,
    })
}

fn selectors(
    text: &str,
    field: &'static str,
    raw: &[Spanned<String>],
    origin: &Name,
) -> Result<Vec<RrsetSelector>, (usize, ScenarioError)> {
    if raw.len() > MAX_SELECTORS {
        return Err((
            0,
            ScenarioError::TooManySelectors {
                field,
                count: raw.len(),
                max: MAX_SELECTORS,
            },
        ));
    }
    raw.iter()
        .map(|s| {
            RrsetSelector::parse(s.get_ref(), origin)
                .map_err(|e| (line_of(text, s.span().start), e))
        })
        .collect()
}

/// Record types the lab writes itself, or that would make a zone cut inside
/// a scenario zone.
fn lab_owned(record_type: RecordType, at_apex: bool) -> Option<&'static str> {
    match record_type {
        RecordType::SOA => Some("the lab adds the SOA itself"),
        RecordType::NS if at_apex => Some("the lab adds the apex NS itself"),
        RecordType::NS | RecordType::DS => {
            Some("delegations inside a scenario zone are not supported")
        }
        t if t.is_dnssec() => Some("the lab makes DNSSEC records itself"),
        _ => None,
    }
}

/// Parses the zone text, one record per line, relative to `origin`.
///
/// A line that starts with a blank reuses the previous owner (RFC 1035 §5.1).
fn parse_zone(zone: &str, origin: &Name) -> Result<BTreeMap<RrKey, RecordSet>, ScenarioError> {
    let lines: Vec<&str> = zone.lines().collect();
    if lines.len() > MAX_ZONE_LINES {
        return Err(ScenarioError::ZoneTooLarge {
            lines: lines.len(),
            max: MAX_ZONE_LINES,
        });
    }
    let mut records: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
    let mut last_owner: Option<&str> = None;
    for (index, line) in lines.iter().enumerate() {
        let bad = |reason: String| ScenarioError::ZoneLine {
            zone_line: index + 1,
            text: (*line).to_string(),
            reason,
        };
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('$') {
            return Err(bad("zone-file directives are not accepted".to_string()));
        }
        let starts_blank = trimmed.len() != line.len();
        let input = if starts_blank {
            let owner = last_owner.ok_or_else(|| {
                bad("the first record must name its owner (use @ for the apex)".to_string())
            })?;
            format!("$TTL {RECORD_TTL}\n{owner} {trimmed}\n")
        } else {
            last_owner = trimmed.split_whitespace().next();
            format!("$TTL {RECORD_TTL}\n{trimmed}\n")
        };
        let (_, parsed) = Parser::new(input, None, Some(origin.clone()))
            .parse()
            .map_err(|e| bad(e.to_string()))?;
        for (key, rrset) in parsed {
            let name = rrset.name().clone();
            if !origin.zone_of(&name) {
                return Err(bad(format!("owner {name} is outside the zone {origin}")));
            }
            if rrset.dns_class() != DNSClass::IN {
                return Err(bad("only class IN is supported".to_string()));
            }
            if let Some(reason) = lab_owned(key.record_type, &name == origin) {
                return Err(bad(reason.to_string()));
            }
            // RFC 2181 §10.1: a CNAME is alone at its name, and single.
            let lower = LowerName::new(&name);
            let is_cname = key.record_type == RecordType::CNAME;
            let others_here = records
                .keys()
                .any(|k| k.name() == &lower && (is_cname || k.record_type == RecordType::CNAME));
            if is_cname && (&name == origin || others_here || rrset.records_count() > 1) {
                return Err(bad(format!("a CNAME must be the only record at {name}")));
            }
            if !is_cname && others_here {
                return Err(bad(format!("{name} already has a CNAME")));
            }
            for record in rrset.records_without_rrsigs() {
                match records.get_mut(&key) {
                    Some(existing) => {
                        existing.insert(record.clone(), 0);
                    }
                    None => {
                        records.insert(key.clone(), RecordSet::from(record.clone()));
                    }
                }
            }
        }
    }
    Ok(records)
}

/// A single lowercase LDH label (RFC 1035 §2.3.1, RFC 1123 §2.1).
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Catalogue line holding the first line of a string value's content.
///
/// TOML trims a newline right after an opening `"""` or `'''` (TOML 1.0,
/// "String"), so the content then starts on the next line. Lines joined by
/// a line-ending backslash make later line numbers approximate.
fn zone_content_line(text: &str, span: Range<usize>) -> usize {
    let start = line_of(text, span.start);
    let raw = text.get(span).unwrap_or_default();
    let multi = raw.starts_with("\"\"\"") || raw.starts_with("'''");
    let after = raw.get(3..).unwrap_or_default();
    if multi && (after.starts_with('\n') || after.starts_with("\r\n")) {
        start + 1
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "tld = \"test\"\n";

    fn scenario_toml(body: &str) -> String {
        format!("{HEAD}[[scenario]]\nname = \"s\"\nabout = \"a\"\n{body}\n")
    }

    #[test]
    fn bad_catalogues_are_refused_with_scenario_and_line() {
        // (rule, catalogue text, words the error must contain)
        let rows: &[(&str, String, &[&str])] = &[
            (
                "unknown key is an error",
                scenario_toml("dnssec = \"secure\"\nzonee = \"\""),
                &["catalogue line 6", "unknown field `zonee`"],
            ),
            (
                "unknown top-level key is an error",
                format!("{HEAD}tlds = \"x\"\n"),
                &["catalogue line 2", "unknown field `tlds`"],
            ),
            (
                "unknown dnssec mode is an error",
                scenario_toml("dnssec = \"signed\""),
                &["catalogue line 5", "signed"],
            ),
            (
                "tld must be one label",
                "tld = \"lab.test\"\n".to_string(),
                &["catalogue line 1", "\"lab.test\""],
            ),
            (
                "scenario name must be one label",
                format!("{HEAD}[[scenario]]\nname = \"a.b\"\nabout = \"a\"\ndnssec = \"secure\"\n"),
                &[
                    "scenario \"a.b\" (catalogue line 3)",
                    "single lowercase DNS label",
                ],
            ),
            (
                "scenario name must be lowercase",
                format!(
                    "{HEAD}[[scenario]]\nname = \"Secure\"\nabout = \"a\"\ndnssec = \"secure\"\n"
                ),
                &["scenario \"Secure\"", "single lowercase DNS label"],
            ),
            (
                "the name server's name is reserved",
                format!("{HEAD}[[scenario]]\nname = \"ns\"\nabout = \"a\"\ndnssec = \"secure\"\n"),
                &["scenario \"ns\"", "reserved"],
            ),
            (
                "scenario names are unique",
                format!(
                    "{HEAD}[[scenario]]\nname = \"s\"\nabout = \"a\"\ndnssec = \"secure\"\n\
                     [[scenario]]\nname = \"s\"\nabout = \"b\"\ndnssec = \"secure\"\n"
                ),
                &["scenario \"s\" (catalogue line 7)", "catalogue line 2"],
            ),
            (
                "a bad zone line names its zone line and catalogue line",
                scenario_toml(
                    "dnssec = \"secure\"\nzone = \"\"\"\n@ MX 10 mx1\nmx1 A 300.1.1.1\n\"\"\"",
                ),
                &["catalogue line 8", "zone line 2", "\"mx1 A 300.1.1.1\""],
            ),
            (
                "unknown record type in the zone",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ MXX 10 mx1\""),
                &["zone line 1", "MXX"],
            ),
            (
                "zone-file directives are refused",
                scenario_toml("dnssec = \"secure\"\nzone = \"$INCLUDE /etc/passwd\""),
                &["zone line 1", "directives are not accepted"],
            ),
            (
                "records outside the zone are refused",
                scenario_toml("dnssec = \"secure\"\nzone = \"mx.other.test. A 127.0.0.1\""),
                &["outside the zone"],
            ),
            (
                "the lab writes the SOA",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ SOA ns.test. h.test. 1 2 3 4 5\""),
                &["adds the SOA"],
            ),
            (
                "the lab writes the apex NS",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ NS ns.test.\""),
                &["apex NS"],
            ),
            (
                "no delegations inside a scenario zone",
                scenario_toml("dnssec = \"secure\"\nzone = \"sub NS ns.test.\""),
                &["delegations"],
            ),
            (
                "nothing beside a CNAME",
                scenario_toml(
                    "dnssec = \"secure\"\nzone = \"\"\"\nmail CNAME mx1.secure.test.\nmail A 127.0.0.1\n\"\"\"",
                ),
                &["zone line 2", "already has a CNAME"],
            ),
            (
                "no CNAME beside other data",
                scenario_toml(
                    "dnssec = \"secure\"\nzone = \"\"\"\nmail A 127.0.0.1\nmail CNAME mx1.secure.test.\n\"\"\"",
                ),
                &["zone line 2", "must be the only record"],
            ),
            (
                "no CNAME at the apex",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ CNAME secure.test.\""),
                &["zone line 1", "must be the only record"],
            ),
            (
                "a continuation line needs an owner before it",
                scenario_toml("dnssec = \"secure\"\nzone = \"  A 127.0.0.1\""),
                &["must name its owner"],
            ),
            (
                "selector syntax is owner and type",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ MX 10 mx1\"\ncorrupt = [\"@\"]"),
                &["catalogue line 7", "selector \"@\"", "relative-owner TYPE"],
            ),
            (
                "selector type must exist",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ MX 10 mx1\"\ncorrupt = [\"@ MXX\"]"),
                &["unknown record type"],
            ),
            (
                "corrupt needs an RRset of the zone",
                scenario_toml("dnssec = \"secure\"\nzone = \"@ MX 10 mx1\"\ncorrupt = [\"@ TXT\"]"),
                &["corrupt selector \"@ TXT\" names no RRset"],
            ),
            (
                "expire needs a signed zone",
                scenario_toml("dnssec = \"insecure\"\nzone = \"@ MX 10 mx1\"\nexpire = [\"@ MX\"]"),
                &["expire needs a signed zone", "insecure"],
            ),
            (
                "servfail owners stay in the zone",
                scenario_toml("dnssec = \"secure\"\nservfail = [\"other.test. TXT\"]"),
                &["outside the scenario zone"],
            ),
            (
                "an absent zone has no records",
                scenario_toml("dnssec = \"absent\"\nzone = \"@ MX 10 mx1\""),
                &["absent", "zone is not empty"],
            ),
        ];
        for (rule, text, words) in rows {
            match Catalogue::parse(text) {
                Ok(_) => panic!("{rule}: accepted\n{text}"),
                Err(e) => {
                    let message = e.to_string();
                    for word in *words {
                        assert!(
                            message.contains(word),
                            "{rule}: error {message:?} lacks {word:?}\n{text}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn good_scenarios_parse_into_records_and_selectors() {
        let text = scenario_toml(
            "dnssec = \"secure\"\nzone = \"\"\"\n; a comment\n\n\
             @            MX    10 mx1\n\
             mx1          A     127.0.0.1\n\
             \x20            AAAA  ::1\n\
             _smtp._tls   TXT   \"v=TLSRPTv1; rua=mailto:a@\" \"s.test\"\n\"\"\"\n\
             corrupt = [\"@ MX\"]\nexpire = [\"mx1 a\"]\nservfail = [\"_smtp._tls TXT\"]\n\
             [scenario.expect]\nmx_lookup = \"found\"",
        );
        let catalogue = Catalogue::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let scenario = &catalogue.scenarios()[0];
        assert_eq!(scenario.domain(), "s.test");
        assert_eq!(scenario.origin().to_string(), "s.test.");
        assert_eq!(scenario.dnssec(), DnssecMode::Secure);
        assert!(
            scenario.zone().contains("; a comment"),
            "raw zone text is kept"
        );
        let mut keys: Vec<String> = scenario
            .records()
            .keys()
            .map(|k| format!("{} {}", k.name(), k.record_type))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "_smtp._tls.s.test. TXT",
                "mx1.s.test. A",
                "mx1.s.test. AAAA",
                "s.test. MX"
            ],
            "a blank-started line reuses the previous owner"
        );
        let txt_key = RrKey::new(
            LowerName::from(Name::from_ascii("_smtp._tls.s.test.").expect("valid name")),
            RecordType::TXT,
        );
        let txt: Vec<Vec<u8>> = scenario.records()[&txt_key]
            .records_without_rrsigs()
            .flat_map(|r| match &r.data {
                hickory_proto::rr::RData::TXT(txt) => txt.txt_data.to_vec(),
                _ => Vec::new(),
            })
            .map(|s| s.to_vec())
            .collect();
        assert_eq!(
            txt,
            [b"v=TLSRPTv1; rua=mailto:a@".to_vec(), b"s.test".to_vec()],
            "a TXT with two strings keeps two strings"
        );
        assert_eq!(scenario.corrupt()[0].raw(), "@ MX");
        assert_eq!(scenario.corrupt()[0].owner().to_string(), "s.test.");
        assert_eq!(
            scenario.expire()[0].record_type(),
            RecordType::A,
            "type is case-insensitive"
        );
        assert_eq!(
            scenario.servfail()[0].owner().to_string(),
            "_smtp._tls.s.test."
        );
        assert_eq!(
            scenario.expect().get("mx_lookup").map(String::as_str),
            Some("found")
        );
    }

    #[test]
    fn the_shipped_catalogue_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/lab/catalogue.toml");
        let catalogue = crate::lab::prepare::prepare_file(std::path::Path::new(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .catalogue;
        assert_eq!(catalogue.tld(), "test");
        let names: Vec<&str> = catalogue.scenarios().iter().map(Scenario::name).collect();
        for wanted in [
            "secure",
            "insecure",
            "bogus-rrsig",
            "bogus-expired",
            "bogus-ds",
            "nullmx",
            "nullmx-mixed",
            "implicit",
            "nxdomain",
            "mx-cname",
            "mx-ip-literal",
            "tlsrpt-multiple",
            "tlsrpt-invalid",
            "tlsrpt-nearmiss",
            "tlsrpt-missing",
            "tlsrpt-bogus",
            "tlsrpt-servfail",
            "tlsa-bogus",
            "mx-insecure-host",
            "mx-host-expired",
        ] {
            assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
        }
        assert!(
            catalogue.scenarios().iter().all(|s| !s.expect().is_empty()),
            "every scenario states the verdicts the end-to-end tests check"
        );
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let text = format!("{HEAD}# {}\n", "x".repeat(MAX_CATALOGUE_BYTES));
        assert!(
            matches!(Catalogue::parse(&text), Err(LabError::TooLarge { .. })),
            "a catalogue over {MAX_CATALOGUE_BYTES} bytes is refused"
        );
        let zone: String = (0..=MAX_ZONE_LINES)
            .map(|i| format!("h{i} A 127.0.0.1\n"))
            .collect();
        let text = scenario_toml(&format!("dnssec = \"secure\"\nzone = \"\"\"\n{zone}\"\"\""));
        let error = Catalogue::parse(&text)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(m) if m.contains("more than the 500 accepted")),
            "a zone over {MAX_ZONE_LINES} lines is refused: {error:?}"
        );
    }
}
