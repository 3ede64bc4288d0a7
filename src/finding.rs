//! Findings: what the scanner tells the domain's owner, one problem each,
//! and the catalogue of every finding code.
//!
//! A code is a [`Code`] value, never a free string: the catalogue below is
//! the one list of codes with their default severity, title, RFC
//! reference, general advice, why it matters and an example, read by the
//! JSON (the code's string), `mxtls explain`, docs/FINDINGS.md, the SARIF
//! rules and anything else that lists rules. Adding a code is adding one
//! row to [`catalogue!`] (its last two texts: why it matters, an example);
//! the compiler then lists the places that must produce it.

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
    /// Why it matters: what senders do, what breaks or what is at risk.
    pub why: &'static str,
    /// A typical case: the record, the answer or the server behaviour.
    pub example: &'static str,
}

/// Declares [`Code`], its list and its catalogue entries from one table.
macro_rules! catalogue {
    ($($variant:ident = $code:literal, $severity:ident, $rfc:literal, $title:literal, $advice:literal, $why:literal, $example:literal;)*) => {
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
                        why: $why,
                        example: $example,
                    },)*
                }
            }
        }
    };
}

catalogue! {
    // The MX lookup and the domain.
    DomainNxdomain = "domain-nxdomain", Error, "RFC 5321 §5.1", "The domain does not exist", "Check the spelling, or register and delegate the domain.", "Senders bounce every message at once: a domain that does not exist cannot receive mail, and a misspelt domain in a CI job would otherwise check nothing.", "`mxtls check exmaple.com`: the TLD answers NXDOMAIN for exmaple.com.";
    MxDnssecBogus = "mx-dnssec-bogus", Error, "RFC 4035 §5; RFC 7672 §2.1.1", "The MX RRset is DNSSEC-bogus", "Fix the zone's signatures or the DS record at the parent.", "Validating resolvers answer SERVFAIL for a bogus MX RRset, so senders behind them cannot find the mail servers at all and mail queues until it bounces.", "The MX RRSIG of example.com has expired, or the DS at .com matches no DNSKEY of the zone.";
    MxLookupFailed = "mx-lookup-failed", Error, "RFC 5321 §5.1", "The MX lookup failed", "Make the domain's name servers answer MX queries.", "Without an MX answer a sender defers the mail; when the failure lasts, mail bounces after the queue lifetime (often five days).", "Every name server of example.com times out or answers SERVFAIL to `example.com. MX`.";
    MxNull = "mx-null", Info, "RFC 7505", "The domain publishes a null MX", "Nothing to do if the domain takes no mail.", "A null MX tells senders at once that the domain takes no mail, so they bounce rather than retry; it is correct only for domains that really send no mail replies.", "`example.com. IN MX 0 .`";
    MxNullMixed = "mx-null-mixed", Error, "RFC 7505 §3", "A null MX beside other MX records", "Keep either the null MX or the other MX records.", "RFC 7505 makes a null MX beside other MX records an error: senders differ, some bounce everything, some deliver to the other hosts.", "`example.com. IN MX 0 .` beside `example.com. IN MX 10 mail.example.com.`";
    MxImplicit = "mx-implicit", Warning, "RFC 5321 §5.1", "No MX records: the domain's own address is the mail host", "Publish an explicit MX, or a null MX if the domain takes no mail.", "Without MX records senders deliver to the domain's own A/AAAA address, often a web server that does not run SMTP; mail then waits in queues and bounces.", "example.com has an A record for its web site and no MX record.";
    MxInsecure = "mx-insecure", Info, "RFC 7672 §2.2.1", "The MX RRset is not DNSSEC-signed", "Sign the zone to make DANE possible.", "DANE needs a signed MX RRset: without DNSSEC an attacker on the path can rewrite the MX answer, and DANE senders fall back to opportunistic TLS.", "example.com is not signed: `delv example.com MX` says `unsigned answer`.";
    DnssecOff = "dnssec-off", Info, "mxtls", "DNSSEC was not checked", "Scan with --dnssec validate to assess DANE.", "With --dnssec off every answer is indeterminate, so DANE cannot be judged and DNS forgery cannot be told apart from real data.", "`mxtls check --dnssec off example.com`";
    MxIpLiteral = "mx-ip-literal", Error, "RFC 5321 §5.1; RFC 7505", "An MX target is an IP address", "Name a host in the MX record, not an address.", "An MX target must be a host name (RFC 5321 §5.1); senders look the address up as a name, which fails, so the mail cannot be delivered.", "`example.com. IN MX 10 192.0.2.25.`";
    MxCname = "mx-cname", Warning, "RFC 2181 §10.3; RFC 5321 §5.1", "An MX target is an alias (CNAME)", "Point the MX record at the canonical host name; under MTA-STS, first add that name to the policy's mx: lines (and to the certificate, if it does not name it) and change the record's id.", "RFC 2181 §10.3 forbids an MX target that is an alias; most senders follow it, but some refuse, and DANE and MTA-STS then name different hosts.", "`example.com. IN MX 10 mail.example.com.` with `mail.example.com. IN CNAME mx.provider.net.`";
    MxAddressBogus = "mx-address-bogus", Error, "RFC 7672 §2.1.1", "An MX host's address records are DNSSEC-bogus", "Fix the signatures of the zone holding the MX host.", "Validating senders cannot get the MX host's address, so they cannot connect to it at all.", "The A RRSIG of mail.example.com expired: validating resolvers answer SERVFAIL.";
    MxAddressLookupFailed = "mx-address-lookup-failed", Warning, "RFC 5321 §5.1; RFC 7672 §2.2.2", "One address lookup of an MX host failed", "Make the name servers answer A and AAAA queries for the MX host.", "Senders that need the failed family (often IPv6) cannot reach the host that way; DANE senders may treat the host as unusable.", "The AAAA query for mail.example.com gets SERVFAIL while A answers.";
    MxNoAddress = "mx-no-address", Error, "RFC 5321 §5.1", "An MX host has no address", "Publish A or AAAA records for the MX host.", "An MX host with no A or AAAA record cannot be reached: senders try the next MX, or defer and finally bounce.", "`example.com. IN MX 10 mail.example.com.` and mail.example.com has no address records.";
    // DANE.
    TlsaDnssecBogus = "tlsa-dnssec-bogus", Error, "RFC 7672 §2.1.1", "The TLSA lookup is DNSSEC-bogus", "Fix the signatures of the zone holding the TLSA records.", "A bogus TLSA lookup makes the MX unusable for DANE senders (RFC 7672 §2.1.1): they defer the mail instead of delivering it.", "The RRSIG over `_25._tcp.mail.example.com. TLSA` has a bad signature.";
    TlsaLookupFailed = "tlsa-lookup-failed", Error, "RFC 7672 §2.1.1", "The TLSA lookup failed", "Make the name servers answer TLSA queries with signed data or a signed denial.", "A DANE sender that cannot learn whether TLSA records exist must not deliver to that host (RFC 7672 §2.1.1): mail to it is deferred.", "`_25._tcp.mail.example.com. TLSA` gets SERVFAIL from every name server.";
    TlsaInsecure = "tlsa-insecure", Warning, "RFC 7672 §2.2", "TLSA records in an unsigned zone", "Sign the zone holding the TLSA records, or remove them.", "TLSA records in an unsigned zone are ignored by every DANE sender: they give a false sense of protection.", "`_25._tcp.mail.example.com. IN TLSA 3 1 1 …` in a zone without DS at its parent.";
    TlsaMxInsecure = "tlsa-mx-insecure", Warning, "RFC 7672 §2.2.1", "TLSA records behind an unsigned MX RRset", "Sign the domain's zone so that senders use the TLSA records.", "Behind an unsigned MX RRset, RFC 7672 senders do not use the host's TLSA records (an attacker could have changed the MX), so DANE protects nothing.", "example.com is unsigned; its MX mx.provider.net has signed TLSA records.";
    TlsaAllUnusable = "tlsa-all-unusable", Error, "RFC 7672 §3.1", "No TLSA record is usable for SMTP", "Publish DANE-EE (3 1 1) or DANE-TA (2 1 1) records.", "With only unusable TLSA records (PKIX usages, bad parameters) a DANE sender still requires TLS but authenticates nothing.", "`_25._tcp.mail.example.com. IN TLSA 1 0 1 …` (PKIX-EE only).";
    TlsaSomeUnusable = "tlsa-some-unusable", Warning, "RFC 7672 §3.1", "Some TLSA records are unusable for SMTP", "Remove records with PKIX usages or bad parameters.", "Unusable records are ignored; they are harmless but show a misunderstanding that may break the next key rollover.", "`3 1 1 …` beside `0 0 1 …` (a PKIX-TA record, unused for SMTP).";
    DanePartial = "dane-partial", Warning, "RFC 7672 §2.2", "DANE applies to some MX hosts only", "Publish secure TLSA records for every MX host.", "DANE protects only the MX hosts that have it: an attacker can push mail to the others by blocking the protected ones.", "mx1.example.com has secure TLSA records; mx2.example.com has none.";
    TlsaCombinationUnmatched = "tlsa-combination-unmatched", Warning, "RFC 7671 §8", "A published TLSA combination has no record for a certificate served", "Publish a record of that combination for each certificate the server serves.", "RFC 7671 §8 senders may pick any published combination of usage, selector and matching type; for a certificate with no record of that combination DANE fails for them.", "`3 1 1` records for both keys but a `3 0 1` record only for the ECDSA certificate.";
    DaneRequired = "dane-required", Error, "mxtls (--require-dane)", "DANE is required but does not apply", "Sign the zone and publish TLSA records for the MX host.", "You asked for DANE (--require-dane) and a sender cannot use it: delivery is only as safe as opportunistic TLS.", "`mxtls check --require-dane example.com` on a domain without TLSA records.";
    // The STARTTLS sessions.
    MxAddressNotPublic = "mx-address-not-public", Warning, "mxtls", "An MX address is not public and was not probed", "Publish only public addresses; pass --allow-private to scan a lab.", "A loopback or private MX address cannot be reached from the Internet; mxtls does not connect to it by default, so the server was not tested.", "`mail.example.com. IN A 10.0.0.25`";
    MxConnectFailed = "mx-connect-failed", Warning, "RFC 8460 §4.3.4", "No TCP connection to an MX address", "Check that the server listens on port 25 and that no firewall blocks it.", "No TCP connection means no TLS could be tested; if it lasts, senders defer and eventually bounce the mail.", "`connect 192.0.2.25:25: connection refused`";
    MxInconclusive = "mx-inconclusive", Warning, "RFC 8460 §4.3.4", "The server turned the session away or went silent before STARTTLS", "Retry later; check the server's connection limits and that it greets promptly.", "The server refused the session before STARTTLS (e.g. a 421 greeting) or did not answer within the timeout (e.g. no greeting from a stuck postscreen or proxy), so whether its TLS works cannot be told; senders retry later.", "`421 4.3.2 Service not available, closing transmission channel`";
    MxCertificateExpiresSoon = "mx-certificate-expires-soon", Warning, "mxtls", "The MX certificate expires soon", "Renew the certificate and check that automatic renewal works.", "When the certificate expires, MTA-STS senders refuse to deliver and DANE-TA and PKIX checks fail: renewal must not wait.", "The MX certificate's notAfter is in 5 days.";
    MxTlsLegacyOnly = "mx-tls-legacy-only", Warning, "RFC 8996; RFC 7525 §4.2", "The MX refuses rustls but accepts legacy TLS (CBC, DHE or static-RSA suites, a short RSA key)", "Enable ECDHE suites with AES-GCM or ChaCha20 and TLS 1.3; serve an RSA key of 2048 bits or more, or ECDSA.", "rustls-based senders (and soon others) cannot negotiate TLS with this server; they defer or deliver in plain text depending on their policy.", "The server offers only `TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA`, or a 1024-bit RSA key.";
    ProbeDeadline = "probe-deadline", Warning, "mxtls", "The sessions did not finish in time", "Scan again with a larger --timeout.", "Sessions cut off at the deadline were not judged, so what senders do at those addresses is not known.", "A server answering each SMTP step just under --timeout.";
    // The scanner's own vantage point (about the scanning host, not the domain).
    ScannerNoIpv4Route = "scanner-no-ipv4-route", Info, "mxtls", "This host has no IPv4 route: IPv4 MX addresses were not tested", "Run the scan from a host with IPv4 connectivity.", "This is about the scanning host, not the domain: the IPv4 addresses of its MX hosts were not tested, so their TLS is unknown.", "A scanner in an IPv6-only network checks a domain whose MX has only A records.";
    ScannerNoIpv6Route = "scanner-no-ipv6-route", Info, "mxtls", "This host has no IPv6 route: IPv6 MX addresses were not tested", "Run the scan from a host with IPv6 connectivity.", "This is about the scanning host, not the domain: the IPv6 addresses of its MX hosts were not tested, so their TLS is unknown, and IPv6 senders may see something else.", "A scanner without IPv6 checks a domain whose MX has an AAAA record: connect fails with ENETUNREACH.";
    MxStarttlsNotSupported = "mx-starttls-not-supported", Error, "RFC 8460 §4.3.1; RFC 3207", "STARTTLS is not offered or is refused", "Enable STARTTLS with a certificate.", "Without STARTTLS mail travels in plain text; DANE and MTA-STS enforce senders refuse to deliver at all.", "EHLO lists no STARTTLS, or STARTTLS is answered with `454 4.7.0 TLS not available`.";
    MxCertificateHostMismatch = "mx-certificate-host-mismatch", Error, "RFC 8460 §4.3.1; RFC 8461 §4.2", "The MX certificate does not name the MX host", "Serve a certificate whose subjectAltName includes the MX host name.", "MTA-STS senders check the MX name against the certificate (RFC 8461 §4.2) and refuse to deliver when it is absent.", "mail.example.com serves a certificate for `www.example.com` only.";
    MxCertificateExpired = "mx-certificate-expired", Error, "RFC 8460 §4.3.1", "The MX certificate has expired", "Renew the certificate and reload the server.", "MTA-STS enforce senders refuse an expired certificate; PKIX and DANE-TA checks fail too.", "notAfter 2024-03-01, scanned on 2024-03-10.";
    MxCertificateNotTrusted = "mx-certificate-not-trusted", Error, "RFC 8460 §4.3.1; RFC 8461 §4.2", "The MX certificate does not chain to a trusted root", "Serve a certificate from a public CA with its full chain.", "MTA-STS senders require a chain to a public CA; a self-signed or incomplete chain makes them refuse the mail.", "A self-signed certificate, or a leaf served without its intermediate.";
    MxValidationFailure = "mx-validation-failure", Error, "RFC 8460 §4.3.1", "TLS could not be negotiated as the policy requires", "Check the server's TLS configuration, or the policy's mx: lines.", "The policy requires authenticated TLS and the session could not provide it, so senders that apply the policy do not deliver.", "The server answers `220` to STARTTLS, then speaks plain SMTP.";
    MxTlsaInvalid = "mx-tlsa-invalid", Error, "RFC 8460 §4.3.2.1; RFC 7672 §3", "No usable TLSA record matches the certificate served", "Make the TLSA records match the certificate served now.", "DANE senders compare the served key with the TLSA records and refuse to deliver when none matches: this is the classic failed key rollover.", "TLSA `3 1 1 aa…` published, the server's key hashes to `3 1 1 bb…`.";
    MxDaneKeyTypeFails = "mx-dane-key-type-fails", Error, "RFC 7671 §8; RFC 7672 §3", "DANE fails for senders limited to one key type (RSA or ECDSA)", "Publish TLSA records for each of the server's certificates, RSA and ECDSA.", "Senders limited to RSA (or ECDSA) see the other certificate, whose key no TLSA record matches, and refuse to deliver.", "TLSA covers only the ECDSA key; an RSA-only OpenSSL sender gets the RSA certificate.";
    MxDaneKeyTypeUntested = "mx-dane-key-type-untested", Info, "RFC 7671 §8", "A key-type session could not be made", "Scan again later; if the server limits connections per client (Postfix anvil, postscreen), let the scanner's address through.", "Beside the session, mxtls connects offering only RSA and only ECDSA signatures, to see each certificate a DANE sender may get; when such a session is turned away or times out, whether senders limited to that key type deliver is not known.", "The RSA-only session got `421 4.7.0 Error: too many connections from 192.0.2.1`.";
    MxDnssecInvalid = "mx-dnssec-invalid", Error, "RFC 8460 §4.3.2.1; RFC 7672 §2.1.1", "DANE cannot be used: a DNSSEC lookup failed", "Fix DNSSEC for the MX host's TLSA records.", "A DANE sender that cannot validate the TLSA lookup treats the host as unusable and defers mail to it.", "The TLSA RRSIG for `_25._tcp.mail.example.com` is bogus.";
    MxDaneRequired = "mx-dane-required", Error, "RFC 8460 §4.3.2.1", "DANE is required but the MX has no secure TLSA records", "Publish signed TLSA records for the MX host.", "You required DANE and this MX has no secure TLSA records, so a sender could not authenticate it.", "`--require-dane` on an MX without `_25._tcp` TLSA records.";
    MxStsPolicyFetchError = "mx-sts-policy-fetch-error", Error, "RFC 8460 §4.3.2.2", "The MTA-STS policy could not be fetched for this session", "Serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.", "Senders that cannot fetch the policy deliver as if the domain had no MTA-STS: an attacker can strip TLS unopposed.", "`https://mta-sts.example.com/.well-known/mta-sts.txt` answers 404.";
    MxStsPolicyInvalid = "mx-sts-policy-invalid", Error, "RFC 8460 §4.3.2.2", "The MTA-STS policy is invalid for this session", "Fix the policy so that it parses.", "Senders discard an invalid policy and deliver without MTA-STS protection.", "A policy with `mode: enforce` and no `mx:` line.";
    MxStsWebpkiInvalid = "mx-sts-webpki-invalid", Error, "RFC 8460 §4.3.2.2", "The policy host's certificate is invalid for this session", "Serve a valid certificate on the policy host.", "Senders refuse a policy served with a bad certificate and deliver without MTA-STS protection.", "mta-sts.example.com serves an expired certificate.";
    // TLSRPT.
    TlsrptMissing = "tlsrpt-missing", Info, "RFC 8460 §3", "No TLSRPT record", "Publish a TLSRPT record to receive reports of delivery failures.", "Without a TLSRPT record you never hear that senders failed to deliver over TLS: a broken certificate or TLSA rollover goes unnoticed until mail bounces.", "No TXT record at `_smtp._tls.example.com`.";
    TlsrptDiscardedRecord = "tlsrpt-discarded-record", Warning, "RFC 8460 §3", "A TXT record senders discard", "Begin the record with exactly `v=TLSRPTv1;`.", "A record that does not begin with exactly `v=TLSRPTv1;` is skipped by senders, so no reports are sent.", "`_smtp._tls.example.com. TXT \"v=tlsrptv1; rua=mailto:tls@example.com\"`";
    TlsrptRecordPrefixSpacing = "tlsrpt-record-prefix-spacing", Warning, "RFC 8460 §3", "The only TLSRPT record has whitespace before its first `;`", "Publish the record beginning with exactly `v=TLSRPTv1;`: senders filtering on that prefix drop it.", "The grammar allows the space, but senders that select the record by its literal prefix drop it and send no reports.", "`v=TLSRPTv1 ; rua=mailto:tls@example.com`";
    TlsrptMultipleRecords = "tlsrpt-multiple-records", Error, "RFC 8460 §3", "More than one TLSRPT record", "Publish exactly one TLSRPT record.", "With two TLSRPT records senders use neither (RFC 8460 §3): no reports at all.", "Two TXT records at `_smtp._tls.example.com`, both starting `v=TLSRPTv1;`.";
    TlsrptInvalid = "tlsrpt-invalid", Error, "RFC 8460 §3", "The TLSRPT record breaks the grammar", "Publish a record that follows RFC 8460 §3.", "A record that breaks the grammar is ignored: no reports are sent.", "`v=TLSRPTv1;` without `rua=`.";
    TlsrptRuaUnsupportedScheme = "tlsrpt-rua-unsupported-scheme", Warning, "RFC 8460 §3", "A report address is neither mailto: nor https:", "Use mailto: or https: report addresses.", "Senders deliver reports only by mail or HTTPS; other addresses are skipped.", "`rua=http://reports.example.com/` (http, not https).";
    TlsrptRuaMailtoInvalid = "tlsrpt-rua-mailto-invalid", Warning, "RFC 8460 §3; RFC 6068", "A mailto: report address is not a mailbox", "Give a full address: mailto:tlsrpt@example.com.", "A mailto: address without a valid mailbox cannot receive reports.", "`rua=mailto:example.com` (no local part).";
    TlsrptRuaHttpsWithoutHost = "tlsrpt-rua-https-without-host", Warning, "RFC 8460 §3", "An https: report address has no host", "Give a full https:// URL.", "An https: report address with no host cannot be posted to.", "`rua=https:///tlsrpt`";
    TlsrptRuaDuplicate = "tlsrpt-rua-duplicate", Info, "RFC 8460 §3", "A report address is listed twice", "List each address once.", "Senders may send each report twice to the same address.", "`rua=mailto:tls@example.com,mailto:tls@example.com`";
    TlsrptRuaRepeatedField = "tlsrpt-rua-repeated-field", Info, "RFC 8460 §3", "The record has more than one rua= field", "Put every address in one rua= field.", "Senders may use only one of the rua= fields, so some addresses may get no reports.", "`v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com`";
    TlsrptUnknownField = "tlsrpt-unknown-field", Info, "RFC 8460 §3", "The record has a field senders ignore", "Remove fields that RFC 8460 does not define.", "Senders ignore fields RFC 8460 does not define; the field does nothing, which may not be what was meant.", "`v=TLSRPTv1; rua=mailto:tls@example.com; ruf=mailto:x@example.com`";
    TlsrptRuaNoMail = "tlsrpt-rua-no-mail", Error, "RFC 8460 §3; RFC 7505", "Reports to a mailto: address cannot be delivered", "Send reports to a domain that receives mail.", "Reports sent to a domain that takes no mail (null MX, no MX host) bounce: you receive nothing.", "`rua=mailto:tls@reports.example` where reports.example has `MX 0 .`.";
    TlsrptDnssecBogus = "tlsrpt-dnssec-bogus", Error, "RFC 4035 §5", "The TLSRPT record is DNSSEC-bogus", "Fix the signatures of the zone holding the record.", "Validating senders get SERVFAIL for a bogus record and send no reports.", "The RRSIG over `_smtp._tls.example.com. TXT` has expired.";
    TlsrptLookupFailed = "tlsrpt-lookup-failed", Warning, "RFC 8460 §3", "The TLSRPT lookup failed", "Make the name servers answer TXT queries for the record.", "Senders that cannot read the record send no reports for as long as the lookup fails.", "`_smtp._tls.example.com. TXT` gets SERVFAIL.";
    // MTA-STS record.
    StsRecordDiscarded = "sts-record-discarded", Error, "RFC 8461 §3.1", "A TXT record senders discard", "Begin the record with exactly `v=STSv1;`.", "Senders skip a record that does not begin with exactly `v=STSv1;`, so they never fetch the policy: no MTA-STS protection.", "`_mta-sts.example.com. TXT \"v=stsv1; id=20240101\"`";
    StsRecordPrefixSpacing = "sts-record-prefix-spacing", Warning, "RFC 8461 §3.1", "The only MTA-STS record has whitespace before its first `;`", "Publish the record beginning with exactly `v=STSv1;`: senders filtering on that prefix see no MTA-STS.", "The grammar allows the space, but senders that select the record by its literal prefix see no MTA-STS at all.", "`v=STSv1 ; id=20240101`";
    StsRecordMultiple = "sts-record-multiple", Error, "RFC 8461 §3.1", "More than one MTA-STS record", "Publish exactly one MTA-STS record.", "With two MTA-STS records senders treat the domain as having none (RFC 8461 §3.1).", "Two TXT records at `_mta-sts.example.com`, both starting `v=STSv1;`.";
    StsRecordDuplicateField = "sts-record-duplicate-field", Warning, "RFC 8461 §3.1", "A field appears twice in the MTA-STS record", "Give each field once.", "Senders may read either value; the record's meaning depends on the sender.", "`v=STSv1; id=1; id=2`";
    StsRecordInvalidId = "sts-record-invalid-id", Error, "RFC 8461 §3.1", "The record's id is not 1 to 32 letters and digits", "Use an id of letters and digits, e.g. a timestamp.", "Senders use id= to notice a policy change; an invalid id makes the record invalid, so the policy is not fetched.", "`v=STSv1; id=2024-01-01` (hyphens are not allowed).";
    StsRecordMissingId = "sts-record-missing-id", Error, "RFC 8461 §3.1", "The record has no id", "Add an id= field.", "Without id= the record is invalid and senders never fetch the policy.", "`v=STSv1;`";
    StsRecordInvalid = "sts-record-invalid", Error, "RFC 8461 §3.1", "The MTA-STS record breaks the grammar", "Publish a record that follows RFC 8461 §3.1.", "Senders ignore a record that breaks the grammar: no MTA-STS protection.", "`v=STSv1 id=1` (no `;` after the version).";
    StsRecordDnssecBogus = "sts-record-dnssec-bogus", Error, "RFC 4035 §5", "The MTA-STS record is DNSSEC-bogus", "Fix the signatures of the zone holding the record.", "Validating senders get SERVFAIL for a bogus record and behave as if there were no MTA-STS.", "The RRSIG over `_mta-sts.example.com. TXT` has a bad signature.";
    StsRecordLookupFailed = "sts-record-lookup-failed", Warning, "RFC 8461 §3.1", "The MTA-STS record lookup failed", "Make the name servers answer TXT queries for the record.", "Senders that cannot read the record use a cached policy if they have one, else deliver without MTA-STS.", "`_mta-sts.example.com. TXT` times out.";
    // MTA-STS policy.
    StsPolicyNotFetched = "sts-policy-not-fetched", Warning, "RFC 8461 §3.3", "The policy was not fetched", "See the finding: the policy host could not be asked.", "Without the policy nothing about MTA-STS enforcement can be judged.", "mta-sts.example.com has no address, or only non-public ones.";
    StsPolicyFetchError = "sts-policy-fetch-error", Error, "RFC 8461 §3.3; RFC 8460 §4.3.2.2", "The policy cannot be fetched", "Serve the policy over HTTPS with status 200 and no redirect.", "Senders that cannot fetch the policy deliver as if the domain had no MTA-STS, so an attacker can strip TLS.", "`GET /.well-known/mta-sts.txt` answers `301` to another URL: senders do not follow redirects.";
    StsWebpkiInvalid = "sts-webpki-invalid", Error, "RFC 8461 §3.3; RFC 8460 §4.3.2.2", "The policy host's certificate is not valid", "Serve a publicly trusted certificate for mta-sts.<domain>.", "The policy is trusted only over authenticated HTTPS: with a bad certificate senders discard it.", "mta-sts.example.com serves a certificate for example.com only.";
    StsPolicyInvalid = "sts-policy-invalid", Error, "RFC 8461 §3.2; RFC 8460 §4.3.2.2", "The policy breaks the grammar", "Fix the policy so that it parses.", "Senders discard a policy that does not parse and deliver without MTA-STS protection.", "`mode: enforced` (not a mode), or `max_age` missing.";
    StsPolicyWrongMediaType = "sts-policy-wrong-media-type", Warning, "RFC 8461 §3.2", "The policy is not served as text/plain", "Serve the policy with Content-Type: text/plain.", "RFC 8461 §3.2 requires text/plain; strict senders (mox) reject other media types and apply no policy.", "`Content-Type: text/html`";
    StsPolicySlow = "sts-policy-slow", Warning, "RFC 8461 §3.3", "The policy took seconds to fetch", "Serve the policy within a second or two: some senders give up after 2 s.", "Some senders give up on the fetch after 2 to 4 seconds and then deliver without MTA-STS.", "The policy arrives after 2.5 s; postfix-tlspol waits 2 s.";
    StsPolicyWithoutRecord = "sts-policy-without-record", Warning, "RFC 8461 §3.1", "A policy is served but no record announces it", "Publish the _mta-sts TXT record, or remove the policy.", "Senders fetch the policy only when the _mta-sts record announces it, so this policy is never used.", "The policy is served at mta-sts.example.com, but `_mta-sts.example.com` has no TXT record.";
    StsPolicyDuplicateField = "sts-policy-duplicate-field", Info, "RFC 8461 §3.2", "A policy field appears twice", "Give each field once (mx: may repeat).", "Senders may read either value of a repeated field.", "`mode: testing` and later `mode: enforce`.";
    StsPolicyUnknownField = "sts-policy-unknown-field", Warning, "RFC 8461 §3.2", "The policy has a field senders ignore", "Remove fields that RFC 8461 does not define.", "Senders ignore unknown fields; a misspelt field silently does nothing.", "`max-age: 86400` instead of `max_age: 86400`.";
    StsPolicyShortMaxAge = "sts-policy-short-max-age", Warning, "RFC 8461 §3.2", "The policy's max_age is short", "Raise max_age to at least a week once the policy works.", "Senders cache the policy only for max_age; a short one leaves a window where an attacker can strip it.", "`max_age: 3600`";
    StsPolicyModeTesting = "sts-policy-mode-testing", Warning, "RFC 8461 §5", "The policy is in testing mode", "Switch to mode: enforce once reports show no failures.", "In testing mode senders report failures but deliver anyway: the policy protects nothing yet.", "`mode: testing`";
    StsPolicyModeNone = "sts-policy-mode-none", Warning, "RFC 8461 §5", "The policy is in mode none", "Remove the record and policy, or switch to testing or enforce.", "Mode none tells senders to forget the policy: no protection.", "`mode: none`";
    StsPolicyMxNotCovered = "sts-policy-mx-not-covered", Error, "RFC 8461 §4.1", "An MX host is not covered by the policy", "Add an mx: line for every MX host.", "Under an enforce policy, senders refuse to deliver to an MX host no mx: line names.", "Policy `mx: mail.example.com`; MX record `mx2.example.net`.";
    StsPolicyMxPatternUnused = "sts-policy-mx-pattern-unused", Warning, "RFC 8461 §4.1", "An mx: pattern covers no MX host", "Remove patterns that match no MX host.", "A pattern that matches no MX host is harmless, but it usually means a typo or an old host that now lets too much through.", "`mx: *.old-provider.net` while the MX is mail.example.com.";
    StsPlannedWithoutRecord = "sts-planned-without-record", Warning, "RFC 8461 §3.1", "A planned policy has no record to announce it", "Publish the _mta-sts TXT record with the policy.", "The planned policy would never be fetched: senders need the _mta-sts record to know it exists.", "`--sts-policy new.txt` for a domain with no `_mta-sts` TXT record.";
    StsRequired = "sts-required", Error, "mxtls (--require-sts)", "MTA-STS is required but no policy applies", "Publish an MTA-STS record and policy.", "You required MTA-STS (--require-sts) and no usable policy applies.", "`mxtls check --require-sts example.com` on a domain without `_mta-sts`.";
    // The scanner's own DNS client (about the scanning host, not the domain).
    ScannerDnsOverloaded = "scanner-dns-overloaded", Warning, "mxtls", "The scanner's own DNS queue was full: some lookups are inconclusive", "Scan the domain again with a lower --concurrency, or spread the load with more --resolver.", "Lookups were lost to the scanner's own load (its queue to the resolver was full): the MX, address, TLSA, TLSRPT or MTA-STS lookups named in the message say nothing about the domain, so what depends on them is inconclusive (exit status 3) instead of a failure blamed on the domain. One finding per domain names them all.", "A batch at --concurrency 2000 behind one small resolver: queries wait for a place and time out.";
    // Over time: look ahead, rollover readiness, changes since the last stored scan.
    StsCertificateExpiresSoon = "sts-certificate-expires-soon", Warning, "RFC 8461 §3.3", "The policy host's certificate expires soon", "Renew the certificate of mta-sts.<domain> and check that automatic renewal works.", "Once the policy host's certificate expires, senders cannot fetch the policy: those without a cached copy deliver as if the domain had no MTA-STS, and a changed policy never reaches anyone.", "The certificate of mta-sts.example.com ends in 5 days and its ACME renewal job has been failing.";
    DnssecSignatureExpiresSoon = "dnssec-signature-expires-soon", Warning, "RFC 4034 §3.1.5", "A DNSSEC signature expires soon", "Check that the zone is re-signed automatically before its signatures run out.", "When an RRSIG expires, validating resolvers treat the RRset as bogus: the MX, TLSA or policy records vanish for validating senders and DANE stops.", "The RRSIGs of example.com end in 4 days: the signer's cron job stopped a month ago.";
    DnssecSignatureExpired = "dnssec-signature-expired", Error, "RFC 4035 §5.3.1", "A DNSSEC signature has expired by the day judged", "Re-sign the zone before that day; validating senders treat expired signatures as bogus.", "Judged as of the --at day, the RRSIG has ended: from then on validating senders get SERVFAIL for those records.", "`mxtls check --at 2026-12-27 example.com` when the zone's RRSIGs end on 2026-12-25.";
    DaneRolloverNotReady = "dane-rollover-not-ready", Info, "RFC 7671 §8.1", "The TLSA set allows no key or CA change without an outage", "Publish a second record now: a `3 1 1` for the next key, or a `2 1 1` for the issuing CA beside the `3 1 1`.", "A new key has no matching TLSA record until its record is published and the old RRset has left every cache (two TTLs): a renewal with a new key then breaks DANE delivery.", "`_25._tcp.mail.example.com. IN TLSA 3 1 1 …` alone, with an ACME client that makes a new key at every renewal.";
    StsChangeWindow = "sts-change-window", Info, "RFC 8461 §3.2", "How long a change to the MTA-STS policy takes to reach senders", "List a new MX host in the policy (with a new id) at least max_age before mail moves to it.", "Senders keep a policy for max_age and refetch it only when the record's id changes: an MX host added without that notice is refused by senders with the old policy.", "`max_age: 604800` in enforce mode: a new MX must be in the policy a week before it receives mail.";
    StsPolicyChangedSameId = "sts-policy-changed-same-id", Error, "RFC 8461 §3.1", "The policy changed but the record's id did not", "Change the id of the _mta-sts record whenever the policy changes: senders refetch only on a new id.", "Senders that cached the old policy keep it until its max_age runs out: they refuse new MX hosts, or keep enforcing a policy you meant to relax.", "The policy gained `mx: mx2.example.com` between two scans, and `_mta-sts.example.com` still says `id=20240101`.";
    DaneKeyChangeBreaksTlsa = "dane-key-change-breaks-tlsa", Error, "RFC 7671 §8.1", "The MX key changed and no TLSA record matches it", "Publish the new key's TLSA record (or restore the old key) at once; DANE senders refuse the server.", "DANE senders authenticate the server by its TLSA records; a key with no matching record is refused, and mail to that MX queues until it bounces.", "The certificate of mail.example.com was renewed with a new key; `_25._tcp.mail.example.com` still holds the old key's `3 1 1`.";
    DaneKeyChangeNewRecordOnly = "dane-key-change-new-record-only", Warning, "RFC 7671 §8.1", "The MX key changed and only a just-added TLSA record matches it", "Publish the next key's record at least two TTLs before the switch; senders that cached the old TLSA set refuse the server until then.", "Resolvers keep the old TLSA RRset for up to its TTL: senders behind them see no record for the new key and refuse the server until the cache expires.", "The new key's `3 1 1` was published the same day the server switched to the key.";
    SessionNewFailure = "session-new-failure", Warning, "mxtls", "A session fails that passed at the last stored scan", "See the session's own finding; compare with `mxtls diff`.", "Something changed since the last stored scan: a certificate, a key, a TLSA record or the server itself.", "mx1.example.com 192.0.2.25 passed yesterday and fails with `certificate-expired` today.";
    SessionFixed = "session-fixed", Info, "mxtls", "A session passes that failed at the last stored scan", "Nothing to do.", "A failure of the last stored scan is gone.", "mx1.example.com 192.0.2.25 failed with `validation-failure` yesterday and passes today.";
    MxSetChanged = "mx-set-changed", Info, "RFC 8461 §4.1; RFC 7672 §2.2", "The MX hosts changed since the last stored scan", "Check that the MTA-STS policy covers the new hosts and that they have TLSA records.", "New MX hosts need an mx: pattern in the MTA-STS policy and their own TLSA records, or senders refuse them.", "mx2.example.com appeared in the MX RRset since the last scan.";
    TlsrptRuaChanged = "tlsrpt-rua-changed", Info, "RFC 8460 §3", "The TLSRPT report addresses changed since the last stored scan", "Check that the new address receives the reports.", "Reports go to the new address from now on; a typo there means you hear of no failure.", "`rua=mailto:tls@example.com` became `rua=mailto:tlsrpt@example.com`.";
    StsModeChanged = "sts-mode-changed", Info, "RFC 8461 §5", "The MTA-STS mode changed since the last stored scan", "Change the record's id with the policy so that senders refetch it.", "Senders apply the new mode only after they refetch the policy, which they do when the record's id changes.", "The policy went from `mode: testing` to `mode: enforce`.";
    StsMaxAgeChanged = "sts-max-age-changed", Info, "RFC 8461 §3.2", "The MTA-STS max_age changed since the last stored scan", "Change the record's id with the policy so that senders refetch it.", "max_age says how long senders keep the policy; a new value reaches them only after a refetch.", "`max_age: 86400` became `max_age: 604800`.";
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
    /// Accepted with `--ignore`: shown, but not counted in the severity
    /// tally or the exit status.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
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
            ignored: false,
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
            assert!(
                !e.why.is_empty() && !e.example.is_empty(),
                "{} says why it matters and gives an example",
                e.code
            );
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
