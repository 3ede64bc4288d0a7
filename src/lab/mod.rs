//! The lab: real servers on loopback that play every scenario the scanner
//! must recognise, started in-process by the tests and by the demo.
//!
//! This module holds the scenario catalogue (data: `testdata/lab/catalogue.toml`)
//! and the DNS part of the lab: an authoritative server for a fake signed
//! root, a TLD and one zone per scenario, with a validating resolver in
//! front of it. Everything binds to 127.0.0.1 only and never talks to
//! anything else. SMTP and HTTPS servers live beside it and are not part of
//! this module yet.

pub mod bulk;
pub mod ca;
pub mod catalogue;
pub mod dns;
pub mod https;
pub mod link;
pub mod prepare;
pub mod servers;
pub mod smtp;

use std::{io, path::PathBuf};

use thiserror::Error;

/// Everything that can go wrong while reading the catalogue or starting the lab.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LabError {
    /// The catalogue file could not be read.
    #[error("cannot read catalogue {path}: {source}")]
    Read {
        /// The file that was read.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: io::Error,
    },
    /// The catalogue is larger than the lab accepts.
    #[error("catalogue is {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Size of the catalogue text, in bytes.
        size: u64,
        /// The most the lab accepts.
        max: usize,
    },
    /// The catalogue is not valid TOML, or does not have the expected shape
    /// (unknown keys are refused so that typos are caught).
    #[error("catalogue line {line}: {message}")]
    Toml {
        /// Line of the catalogue where the problem was found (1-based).
        line: usize,
        /// What the TOML reader said, first line only.
        message: String,
    },
    /// The top-level domain is not a single DNS label.
    #[error("catalogue line {line}: tld {tld:?} is not a single lowercase DNS label")]
    BadTld {
        /// The `tld` value as written.
        tld: String,
        /// Line of the catalogue.
        line: usize,
    },
    /// The catalogue holds more scenarios than the lab accepts.
    #[error("catalogue has {count} scenarios, more than the {max} accepted")]
    TooManyScenarios {
        /// How many scenarios the catalogue holds.
        count: usize,
        /// The most the lab accepts.
        max: usize,
    },
    /// One scenario is wrong; the error names it and the line.
    #[error("scenario {scenario:?} (catalogue line {line}): {problem}")]
    Scenario {
        /// The scenario name as written.
        scenario: String,
        /// Line of the catalogue where the problem is (1-based).
        line: usize,
        /// What is wrong.
        #[source]
        problem: catalogue::ScenarioError,
    },
    /// A key could not be made or a zone could not be signed.
    #[error("cannot sign zone {zone}: {detail}")]
    Signing {
        /// The zone being built.
        zone: String,
        /// What the DNSSEC code said.
        detail: String,
    },
    /// A zone could not be assembled from its records.
    #[error("cannot build zone {zone}: {detail}")]
    Zone {
        /// The zone being built.
        zone: String,
        /// What went wrong.
        detail: String,
    },
    /// No pair of UDP and TCP sockets could be bound on one loopback port.
    #[error(
        "cannot bind UDP and TCP on one port of 127.0.0.1 for the {server} after {attempts} attempts: {source}"
    )]
    Bind {
        /// Which server was being started.
        server: &'static str,
        /// How many ports were tried.
        attempts: usize,
        /// The last error.
        #[source]
        source: io::Error,
    },
    /// A server of the lab could not be started.
    #[error("cannot start the lab's {what}: {detail}")]
    Server {
        /// Which server or part.
        what: String,
        /// What went wrong.
        detail: String,
    },
}
