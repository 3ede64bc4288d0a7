//! Findings: what the scanner tells the domain's owner, one problem each,
//! and the catalogue of every finding code.
//!
//! A code is a [`Code`] value, never a free string: the catalogue below is
//! the one list of codes with their default severity, title, RFC reference
//! and general advice, read by the JSON (the code's string), the reference
//! documentation and anything that lists rules. Adding a code is adding one
//! row to [`catalogue!`]; the compiler then lists the places that must
//! produce it.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::tlsrpt::report::ResultType;

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

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What the catalogue says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The stable, kebab-case identifier tools key on.
    pub code: &'static str,
    /// The severity the finding usually has; a finding may be milder or
    /// graver where the circumstances say so (e.g. MTA-STS testing mode).
    pub severity: Severity,
    /// The standard and section the rule comes from, or "mxtls" for our own
    /// judgement.
    pub rfc: &'static str,
    /// What the finding is about, in a few words.
    pub title: &'static str,
    /// What to do, in general; each finding carries advice for its case.
    pub advice: &'static str,
}

/// Declares [`Code`], its list and its catalogue entries from one table.
macro_rules! catalogue {
    ($($variant:ident = $code:literal, $severity:ident, $rfc:literal, $title:literal, $advice:literal;)*) => {
        /// Every finding code mxtls reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The catalogue entry of this code.
            pub fn entry(self) -> Entry {
                match self {
                    $(Code::$variant => Entry {
                        code: $code,
                        severity: Severity::$severity,
                        rfc: $rfc,
                        title: $title,
                        advice: $advice,
                    },)*
                }
            }
        }
    };
}

catalogue! {
    // The MX lookup and the domain.
    DomainNxdomain = "domain-nxdomain", Error, "RFC 5321 §5.1", "The domain does not exist", "Check the spelling, or register and delegate the domain.";
    MxDnssecBogus = "mx-dnssec-bogus", Error, "RFC 4035 §5; RFC 7672 §2.1.1", "The MX RRset is DNSSEC-bogus", "Fix the zone's signatures or the DS record at the parent.";
    MxLookupFailed = "mx-lookup-failed", Error, "RFC 5321 §5.1", "The MX lookup failed", "Make the domain's name servers answer MX queries.";
    MxNull = "mx-null", Info, "RFC 7505", "The domain publishes a null MX", "Nothing to do if the domain takes no mail.";
    MxNullMixed = "mx-null-mixed", Error, "RFC 7505 §3", "A null MX beside other MX records", "Keep either the null MX or the other MX records.";
    MxImplicit = "mx-implicit", Warning, "RFC 5321 §5.1", "No MX records: the domain's own address is the mail host", "Publish an explicit MX, or a null MX if the domain takes no mail.";
    MxInsecure = "mx-insecure", Info, "RFC 7672 §2.2.1", "The MX RRset is not DNSSEC-signed", "Sign the zone to make DANE possible.";
    DnssecOff = "dnssec-off", Info, "mxtls", "DNSSEC was not checked", "Scan with --dnssec validate to assess DANE.";
    MxIpLiteral = "mx-ip-literal", Error, "RFC 5321 §5.1; RFC 7505", "An MX target is an IP address", "Name a host in the MX record, not an address.";
    MxCname = "mx-cname", Warning, "RFC 2181 §10.3; RFC 5321 §5.1", "An MX target is an alias (CNAME)", "Point the MX record at the canonical host name.";
    MxAddressBogus = "mx-address-bogus", Error, "RFC 7672 §2.1.1", "An MX host's address records are DNSSEC-bogus", "Fix the signatures of the zone holding the MX host.";
    MxAddressLookupFailed = "mx-address-lookup-failed", Warning, "RFC 5321 §5.1; RFC 7672 §2.2.2", "One address lookup of an MX host failed", "Make the name servers answer A and AAAA queries for the MX host.";
    MxNoAddress = "mx-no-address", Error, "RFC 5321 §5.1", "An MX host has no address", "Publish A or AAAA records for the MX host.";
    // DANE.
    TlsaDnssecBogus = "tlsa-dnssec-bogus", Error, "RFC 7672 §2.1.1", "The TLSA lookup is DNSSEC-bogus", "Fix the signatures of the zone holding the TLSA records.";
    TlsaLookupFailed = "tlsa-lookup-failed", Error, "RFC 7672 §2.1.1", "The TLSA lookup failed", "Make the name servers answer TLSA queries with signed data or a signed denial.";
    TlsaInsecure = "tlsa-insecure", Warning, "RFC 7672 §2.2", "TLSA records in an unsigned zone", "Sign the zone holding the TLSA records, or remove them.";
    TlsaMxInsecure = "tlsa-mx-insecure", Warning, "RFC 7672 §2.2.1", "TLSA records behind an unsigned MX RRset", "Sign the domain's zone so that senders use the TLSA records.";
    TlsaAllUnusable = "tlsa-all-unusable", Error, "RFC 7672 §3.1", "No TLSA record is usable for SMTP", "Publish DANE-EE (3 1 1) or DANE-TA (2 1 1) records.";
    TlsaSomeUnusable = "tlsa-some-unusable", Warning, "RFC 7672 §3.1", "Some TLSA records are unusable for SMTP", "Remove records with PKIX usages or bad parameters.";
    DanePartial = "dane-partial", Warning, "RFC 7672 §2.2", "DANE applies to some MX hosts only", "Publish secure TLSA records for every MX host.";
    TlsaCombinationUnmatched = "tlsa-combination-unmatched", Warning, "RFC 7671 §8", "A published TLSA combination has no record for a certificate served", "Publish a record of that combination for each certificate the server serves.";
    DaneRequired = "dane-required", Error, "mxtls (--require-dane)", "DANE is required but does not apply", "Sign the zone and publish TLSA records for the MX host.";
    // The STARTTLS sessions.
    MxAddressNotPublic = "mx-address-not-public", Warning, "mxtls", "An MX address is not public and was not probed", "Publish only public addresses; pass --allow-private to scan a lab.";
    MxConnectFailed = "mx-connect-failed", Warning, "RFC 8460 §4.3.4", "No TCP connection to an MX address", "Check that the server listens on port 25 and that no firewall blocks it.";
    MxInconclusive = "mx-inconclusive", Warning, "RFC 8460 §4.3.4", "The server turned the session away before STARTTLS", "Retry later; check the server's connection limits.";
    MxCertificateExpiresSoon = "mx-certificate-expires-soon", Warning, "mxtls", "The MX certificate expires soon", "Renew the certificate and check that automatic renewal works.";
    MxTlsLegacyOnly = "mx-tls-legacy-only", Warning, "RFC 8996; RFC 7525 §4.2", "The MX refuses rustls but accepts legacy TLS (CBC, DHE or static-RSA suites, a short RSA key)", "Enable ECDHE suites with AES-GCM or ChaCha20 and TLS 1.3; serve an RSA key of 2048 bits or more, or ECDSA.";
    ProbeDeadline = "probe-deadline", Warning, "mxtls", "The sessions did not finish in time", "Scan again with a larger --timeout.";
    // The scanner's own vantage point (about the scanning host, not the domain).
    ScannerNoIpv4Route = "scanner-no-ipv4-route", Info, "mxtls", "This host has no IPv4 route: IPv4 MX addresses were not tested", "Run the scan from a host with IPv4 connectivity.";
    ScannerNoIpv6Route = "scanner-no-ipv6-route", Info, "mxtls", "This host has no IPv6 route: IPv6 MX addresses were not tested", "Run the scan from a host with IPv6 connectivity.";
    MxStarttlsNotSupported = "mx-starttls-not-supported", Error, "RFC 8460 §4.3.1; RFC 3207", "STARTTLS is not offered or is refused", "Enable STARTTLS with a certificate.";
    MxCertificateHostMismatch = "mx-certificate-host-mismatch", Error, "RFC 8460 §4.3.1; RFC 8461 §4.2", "The MX certificate does not name the MX host", "Serve a certificate whose subjectAltName includes the MX host name.";
    MxCertificateExpired = "mx-certificate-expired", Error, "RFC 8460 §4.3.1", "The MX certificate has expired", "Renew the certificate and reload the server.";
    MxCertificateNotTrusted = "mx-certificate-not-trusted", Error, "RFC 8460 §4.3.1; RFC 8461 §4.2", "The MX certificate does not chain to a trusted root", "Serve a certificate from a public CA with its full chain.";
    MxValidationFailure = "mx-validation-failure", Error, "RFC 8460 §4.3.1", "TLS could not be negotiated as the policy requires", "Check the server's TLS configuration, or the policy's mx: lines.";
    MxTlsaInvalid = "mx-tlsa-invalid", Error, "RFC 8460 §4.3.2.1; RFC 7672 §3", "No usable TLSA record matches the certificate served", "Make the TLSA records match the certificate served now.";
    MxDaneKeyTypeFails = "mx-dane-key-type-fails", Error, "RFC 7671 §8; RFC 7672 §3", "DANE fails for senders limited to one key type (RSA or ECDSA)", "Publish TLSA records for each of the server's certificates, RSA and ECDSA.";
    MxDnssecInvalid = "mx-dnssec-invalid", Error, "RFC 8460 §4.3.2.1; RFC 7672 §2.1.1", "DANE cannot be used: a DNSSEC lookup failed", "Fix DNSSEC for the MX host's TLSA records.";
    MxDaneRequired = "mx-dane-required", Error, "RFC 8460 §4.3.2.1", "DANE is required but the MX has no secure TLSA records", "Publish signed TLSA records for the MX host.";
    MxStsPolicyFetchError = "mx-sts-policy-fetch-error", Error, "RFC 8460 §4.3.2.2", "The MTA-STS policy could not be fetched for this session", "Serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.";
    MxStsPolicyInvalid = "mx-sts-policy-invalid", Error, "RFC 8460 §4.3.2.2", "The MTA-STS policy is invalid for this session", "Fix the policy so that it parses.";
    MxStsWebpkiInvalid = "mx-sts-webpki-invalid", Error, "RFC 8460 §4.3.2.2", "The policy host's certificate is invalid for this session", "Serve a valid certificate on the policy host.";
    // TLSRPT.
    TlsrptMissing = "tlsrpt-missing", Info, "RFC 8460 §3", "No TLSRPT record", "Publish a TLSRPT record to receive reports of delivery failures.";
    TlsrptDiscardedRecord = "tlsrpt-discarded-record", Warning, "RFC 8460 §3", "A TXT record senders discard", "Begin the record with exactly `v=TLSRPTv1;`.";
    TlsrptRecordPrefixSpacing = "tlsrpt-record-prefix-spacing", Warning, "RFC 8460 §3", "The only TLSRPT record has whitespace before its first `;`", "Publish the record beginning with exactly `v=TLSRPTv1;`: senders filtering on that prefix drop it.";
    TlsrptMultipleRecords = "tlsrpt-multiple-records", Error, "RFC 8460 §3", "More than one TLSRPT record", "Publish exactly one TLSRPT record.";
    TlsrptInvalid = "tlsrpt-invalid", Error, "RFC 8460 §3", "The TLSRPT record breaks the grammar", "Publish a record that follows RFC 8460 §3.";
    TlsrptRuaUnsupportedScheme = "tlsrpt-rua-unsupported-scheme", Warning, "RFC 8460 §3", "A report address is neither mailto: nor https:", "Use mailto: or https: report addresses.";
    TlsrptRuaMailtoInvalid = "tlsrpt-rua-mailto-invalid", Warning, "RFC 8460 §3; RFC 6068", "A mailto: report address is not a mailbox", "Give a full address: mailto:tlsrpt@example.com.";
    TlsrptRuaHttpsWithoutHost = "tlsrpt-rua-https-without-host", Warning, "RFC 8460 §3", "An https: report address has no host", "Give a full https:// URL.";
    TlsrptRuaDuplicate = "tlsrpt-rua-duplicate", Info, "RFC 8460 §3", "A report address is listed twice", "List each address once.";
    TlsrptRuaRepeatedField = "tlsrpt-rua-repeated-field", Info, "RFC 8460 §3", "The record has more than one rua= field", "Put every address in one rua= field.";
    TlsrptUnknownField = "tlsrpt-unknown-field", Info, "RFC 8460 §3", "The record has a field senders ignore", "Remove fields that RFC 8460 does not define.";
    TlsrptRuaNoMail = "tlsrpt-rua-no-mail", Error, "RFC 8460 §3; RFC 7505", "Reports to a mailto: address cannot be delivered", "Send reports to a domain that receives mail.";
    TlsrptDnssecBogus = "tlsrpt-dnssec-bogus", Error, "RFC 4035 §5", "The TLSRPT record is DNSSEC-bogus", "Fix the signatures of the zone holding the record.";
    TlsrptLookupFailed = "tlsrpt-lookup-failed", Warning, "RFC 8460 §3", "The TLSRPT lookup failed", "Make the name servers answer TXT queries for the record.";
    // MTA-STS record.
    StsRecordDiscarded = "sts-record-discarded", Error, "RFC 8461 §3.1", "A TXT record senders discard", "Begin the record with exactly `v=STSv1;`.";
    StsRecordPrefixSpacing = "sts-record-prefix-spacing", Warning, "RFC 8461 §3.1", "The only MTA-STS record has whitespace before its first `;`", "Publish the record beginning with exactly `v=STSv1;`: senders filtering on that prefix see no MTA-STS.";
    StsRecordMultiple = "sts-record-multiple", Error, "RFC 8461 §3.1", "More than one MTA-STS record", "Publish exactly one MTA-STS record.";
    StsRecordDuplicateField = "sts-record-duplicate-field", Warning, "RFC 8461 §3.1", "A field appears twice in the MTA-STS record", "Give each field once.";
    StsRecordInvalidId = "sts-record-invalid-id", Error, "RFC 8461 §3.1", "The record's id is not 1 to 32 letters and digits", "Use an id of letters and digits, e.g. a timestamp.";
    StsRecordMissingId = "sts-record-missing-id", Error, "RFC 8461 §3.1", "The record has no id", "Add an id= field.";
    StsRecordInvalid = "sts-record-invalid", Error, "RFC 8461 §3.1", "The MTA-STS record breaks the grammar", "Publish a record that follows RFC 8461 §3.1.";
    StsRecordDnssecBogus = "sts-record-dnssec-bogus", Error, "RFC 4035 §5", "The MTA-STS record is DNSSEC-bogus", "Fix the signatures of the zone holding the record.";
    StsRecordLookupFailed = "sts-record-lookup-failed", Warning, "RFC 8461 §3.1", "The MTA-STS record lookup failed", "Make the name servers answer TXT queries for the record.";
    // MTA-STS policy.
    StsPolicyNotFetched = "sts-policy-not-fetched", Warning, "RFC 8461 §3.3", "The policy was not fetched", "See the finding: the policy host could not be asked.";
    StsPolicyFetchError = "sts-policy-fetch-error", Error, "RFC 8461 §3.3; RFC 8460 §4.3.2.2", "The policy cannot be fetched", "Serve the policy over HTTPS with status 200 and no redirect.";
    StsWebpkiInvalid = "sts-webpki-invalid", Error, "RFC 8461 §3.3; RFC 8460 §4.3.2.2", "The policy host's certificate is not valid", "Serve a publicly trusted certificate for mta-sts.<domain>.";
    StsPolicyInvalid = "sts-policy-invalid", Error, "RFC 8461 §3.2; RFC 8460 §4.3.2.2", "The policy breaks the grammar", "Fix the policy so that it parses.";
    StsPolicyWrongMediaType = "sts-policy-wrong-media-type", Warning, "RFC 8461 §3.2", "The policy is not served as text/plain", "Serve the policy with Content-Type: text/plain.";
    StsPolicySlow = "sts-policy-slow", Warning, "RFC 8461 §3.3", "The policy took seconds to fetch", "Serve the policy within a second or two: some senders give up after 2 s.";
    StsPolicyWithoutRecord = "sts-policy-without-record", Warning, "RFC 8461 §3.1", "A policy is served but no record announces it", "Publish the _mta-sts TXT record, or remove the policy.";
    StsPolicyDuplicateField = "sts-policy-duplicate-field", Info, "RFC 8461 §3.2", "A policy field appears twice", "Give each field once (mx: may repeat).";
    StsPolicyUnknownField = "sts-policy-unknown-field", Warning, "RFC 8461 §3.2", "The policy has a field senders ignore", "Remove fields that RFC 8461 does not define.";
    StsPolicyShortMaxAge = "sts-policy-short-max-age", Warning, "RFC 8461 §3.2", "The policy's max_age is short", "Raise max_age to at least a week once the policy works.";
    StsPolicyModeTesting = "sts-policy-mode-testing", Warning, "RFC 8461 §5", "The policy is in testing mode", "Switch to mode: enforce once reports show no failures.";
    StsPolicyModeNone = "sts-policy-mode-none", Warning, "RFC 8461 §5", "The policy is in mode none", "Remove the record and policy, or switch to testing or enforce.";
    StsPolicyMxNotCovered = "sts-policy-mx-not-covered", Error, "RFC 8461 §4.1", "An MX host is not covered by the policy", "Add an mx: line for every MX host.";
    StsPolicyMxPatternUnused = "sts-policy-mx-pattern-unused", Warning, "RFC 8461 §4.1", "An mx: pattern covers no MX host", "Remove patterns that match no MX host.";
    StsPlannedWithoutRecord = "sts-planned-without-record", Warning, "RFC 8461 §3.1", "A planned policy has no record to announce it", "Publish the _mta-sts TXT record with the policy.";
    StsRequired = "sts-required", Error, "mxtls (--require-sts)", "MTA-STS is required but no policy applies", "Publish an MTA-STS record and policy.";
}

impl Code {
    /// The code as it appears in the JSON, e.g. `mx-certificate-expired`.
    pub fn as_str(self) -> &'static str {
        self.entry().code
    }

    /// The finding for a session that failed with this RFC 8460 result type.
    pub fn for_session_failure(result: ResultType) -> Code {
        match result {
            ResultType::StarttlsNotSupported => Code::MxStarttlsNotSupported,
            ResultType::CertificateHostMismatch => Code::MxCertificateHostMismatch,
            ResultType::CertificateExpired => Code::MxCertificateExpired,
            ResultType::CertificateNotTrusted => Code::MxCertificateNotTrusted,
            ResultType::ValidationFailure => Code::MxValidationFailure,
            ResultType::TlsaInvalid => Code::MxTlsaInvalid,
            ResultType::DnssecInvalid => Code::MxDnssecInvalid,
            ResultType::DaneRequired => Code::MxDaneRequired,
            ResultType::StsPolicyFetchError => Code::MxStsPolicyFetchError,
            ResultType::StsPolicyInvalid => Code::MxStsPolicyInvalid,
            ResultType::StsWebpkiInvalid => Code::MxStsWebpkiInvalid,
        }
    }

    /// The code with this string, if there is one.
    pub fn from_code(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable, kebab-case identifier (`tlsrpt-multiple-records`): tools key on it.
    pub code: Code,
    /// What the finding is about: a record name, a host, an address.
    pub subject: String,
    /// What is wrong, in one sentence, quoting the offending text.
    pub message: String,
    /// What to do next: the record to publish, the line to change.
    pub advice: String,
    /// The finding this one follows from, when fixing that one fixes this
    /// one too (`root_cause`): shown under it, counted once with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<Cause>,
}

/// Which finding another follows from: its code, and its subject where
/// the code alone does not say which (one per MX host, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub code: Code,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl Cause {
    /// Whether `f` is the finding this cause names.
    pub fn names(&self, f: &Finding) -> bool {
        f.code == self.code && self.subject.as_ref().is_none_or(|s| *s == f.subject)
    }
}

impl Finding {
    pub fn new(
        severity: Severity,
        code: Code,
        subject: impl Into<String>,
        message: impl Into<String>,
        advice: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            code,
            subject: subject.into(),
            message: message.into(),
            advice: advice.into(),
            caused_by: None,
        }
    }

    /// The same finding, following from the finding of `code` (about
    /// `subject`, when given). `root_cause::settle` drops the link when no
    /// such finding is among the domain's.
    pub fn following(mut self, code: Code, subject: Option<String>) -> Self {
        self.caused_by = Some(Cause { code, subject });
        self
    }

    /// Whether this finding stands on its own (it is nobody's consequence).
    pub fn is_root(&self) -> bool {
        self.caused_by.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_code_is_unique_kebab_case_with_a_title_and_advice() {
        let mut seen = BTreeSet::new();
        for code in Code::ALL {
            let e = code.entry();
            assert!(seen.insert(e.code), "{} is listed twice", e.code);
            assert!(
                e.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                e.code
            );
            assert!(!e.title.is_empty() && !e.advice.is_empty() && !e.rfc.is_empty());
            assert_eq!(Code::from_code(e.code), Some(*code));
        }
    }

    #[test]
    fn every_result_type_has_its_session_finding() {
        for t in ResultType::ALL {
            assert_eq!(
                Code::for_session_failure(t).as_str(),
                format!("mx-{}", t.as_str()),
                "the session finding of {t} keeps the mx-<result-type> name"
            );
        }
    }
}
