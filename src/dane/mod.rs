//! DANE for SMTP (RFC 7672, RFC 7671, RFC 6698): TLSA records and what they
//! say about a presented chain.
//!
//! - [`tlsa`]: the record, its presentation form, and whether SMTP may use
//!   it (only DANE-TA(2) and DANE-EE(3), RFC 7672 §3.1).
//! - [`verdict`]: the verdict of a TLSA RRset on a chain (RFC 7672 §3,
//!   RFC 7671 §5 and §9), with its RFC 8460 §4.3 result type, and the
//!   RFC 7671 §8 check that every published combination matches the chain.
//!
//! - [`applies`]: whether DANE applies to an MX host (RFC 7672 §2.2),
//!   decided once for discovery, the sessions and the report.
//!
//! Everything here is pure.

pub mod applies;
pub mod tlsa;
pub mod verdict;
