//! When the signatures of an answer run out: the earliest RRSIG expiration
//! (RFC 4034 §3.1.5) over the RRsets of one answer, and a per-scan log of
//! them.
//!
//! A validator stops trusting an RRset once its signature expires, so a zone
//! whose re-signing stopped turns bogus on that day (RFC 4035 §5.3.1).
//! This module only reads the dates; `lookahead` judges them.

use std::sync::Mutex;

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The earliest expiration among the RRSIGs of one answer, and the zone
/// that signed it (the RRSIG's signer name, whose DNSKEY RRset signs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureExpiry {
    /// Seconds since the Unix epoch.
    pub expires: i64,
    /// When that signature was made (its inception), likewise.
    pub inception: i64,
    pub signer: Name,
}

/// The earliest expiration of the RRSIGs in `answers` covering `rtype` or a
/// CNAME on the way to it; `now` places the 32-bit serial timestamps
/// (RFC 4034 §3.1.5: serial number arithmetic, RFC 1982) in time.
pub fn earliest(answers: &[Record], rtype: RecordType, now: i64) -> Option<SignatureExpiry> {
    answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some(sig.input()),
            _ => None,
        })
        .filter(|input| input.type_covered == rtype || input.type_covered == RecordType::CNAME)
        .map(|input| SignatureExpiry {
            expires: from_serial(input.sig_expiration.get(), now),
            inception: from_serial(input.sig_inception.get(), now),
            signer: input.signer_name.clone(),
        })
        .min_by_key(|s| s.expires)
}

/// A 32-bit RRSIG timestamp as the Unix time nearest to `now` with those
/// low 32 bits (RFC 4034 §3.1.5).
pub fn from_serial(serial: u32, now: i64) -> i64 {
    let low = (now & i64::from(u32::MAX)) as u32;
    let delta = serial.wrapping_sub(low) as i32;
    now + i64::from(delta)
}

/// One signed lookup of a scan: which RRset, and when its signatures end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLookup {
    pub name: Name,
    pub rtype: RecordType,
    pub expiry: SignatureExpiry,
}

/// The signed lookups of one domain's scan, in the order they were made.
#[derive(Debug, Default)]
pub struct SignatureLog {
    entries: Mutex<Vec<SignedLookup>>,
}

/// Most lookups one scan logs (a domain makes a few dozen).
const MAX_ENTRIES: usize = 1_000;

impl SignatureLog {
    pub fn record(&self, name: &Name, rtype: RecordType, expiry: Option<&SignatureExpiry>) {
        let Some(expiry) = expiry else { return };
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() < MAX_ENTRIES {
            entries.push(SignedLookup {
                name: name.clone(),
                rtype,
                expiry: expiry.clone(),
            });
        }
    }

    pub fn entries(&self) -> Vec<SignedLookup> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_timestamps_are_placed_nearest_to_now() {
        let now = 1_800_000_000_i64;
        for (serial, want) in [
            (1_800_000_100_u32, 1_800_000_100_i64),
            (1_799_999_000, 1_799_999_000),
            // After 2106 the 32 bits wrap: a date just past the wrap.
            (5, 4_294_967_301),
        ] {
            let at = if want > 4_294_967_295 {
                4_294_967_200
            } else {
                now
            };
            assert_eq!(from_serial(serial, at), want, "serial {serial} at {at}");
        }
    }
}
