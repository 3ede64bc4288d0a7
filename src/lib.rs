//! mxtls: audit how securely a domain receives mail, the way a sending MTA
//! sees it: MX and DNSSEC, DANE (TLSA) and TLSRPT.
//!
//! The pipeline (DESIGN.md): `discover` gathers evidence over DNS,
//! `classify` judges it without I/O, `render` presents it. `scan` ties them
//! together for one domain or many.
#![forbid(unsafe_code)]

pub mod classify;
pub mod cli;
pub mod cli_docs;
pub mod clock_map;
pub mod dane;
pub mod datetime;
pub mod discover;
pub mod dns;
pub mod document;
pub mod evidence;
pub mod exit;
pub mod explain;
pub mod finding;
pub mod history;
pub mod ignore;
pub mod input;
pub mod interrupt;
pub mod ip_scope;
pub mod key_variants;
#[cfg(feature = "lab")]
pub mod lab;
pub mod lookahead;
pub mod mta_sts;
pub mod mx;
pub mod outlook;
pub mod pki;
pub mod politeness;
pub mod preflight;
pub mod probe;
pub mod render;
pub mod rollover;
pub mod root_cause;
pub mod run;
pub mod sanitize;
pub mod scan;
pub mod session;
pub mod shard;
pub mod smtp;
pub mod step;
pub mod timeline;
pub mod tls_report;
pub mod tlsrpt;
pub mod txt_record;
pub mod vantage;
pub mod verdict;
