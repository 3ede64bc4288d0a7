//! DNSSEC trust anchors for the root: built in, or read from a file.
//!
//! The file holds zone-file lines of type DNSKEY or DS for ".", as unbound's
//! `root.key` and BIND's `trust-anchors` export do. hickory validates from
//! public keys only, so a DS anchor is turned into keys by fetching the root
//! DNSKEY RRset and keeping the keys whose digest matches (RFC 4034 §5.1.4),
//! as unbound does.

use std::path::{Path, PathBuf};

use hickory_proto::dnssec::{Algorithm, PublicKeyBuf, TrustAnchors};

/// A root DNSKEY taken from an anchor file or from the root zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorKey {
    pub flags: u16,
    pub protocol: u8,
    pub algorithm: u8,
    pub public_key: Vec<u8>,
}

/// A root DS record from an anchor file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorDs {
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    pub digest: Vec<u8>,
    /// Where it came from, for messages: `file:line`.
    pub origin: String,
}

/// The anchors a file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnchorFile {
    pub keys: Vec<AnchorKey>,
    pub ds: Vec<AnchorDs>,
}

/// Why an anchor file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read trust anchor file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: no DNSKEY or DS record for \".\" found")]
    Empty { path: PathBuf },
}

impl AnchorKey {
    /// The RDATA in wire form (RFC 4034 §2.1).
    pub fn rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + self.public_key.len());
        v.extend_from_slice(&self.flags.to_be_bytes());
        v.push(self.protocol);
        v.push(self.algorithm);
        v.extend_from_slice(&self.public_key);
        v
    }

    /// Key tag (RFC 4034 Appendix B).
    pub fn key_tag(&self) -> u16 {
        let rdata = self.rdata();
        let mut acc: u32 = 0;
        for (i, b) in rdata.iter().enumerate() {
            acc += if i & 1 == 0 {
                u32::from(*b) << 8
            } else {
                u32::from(*b)
            };
        }
        acc += (acc >> 16) & 0xFFFF;
        (acc & 0xFFFF) as u16
    }

    /// The digest a DS of `digest_type` would carry for this root key
    /// (RFC 4034 §5.1.4: owner name in wire form, then RDATA), or None for
    /// a digest type we do not know.
    pub fn ds_digest(&self, digest_type: u8) -> Option<Vec<u8>> {
        let algorithm = match digest_type {
            1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            2 => &ring::digest::SHA256,
            4 => &ring::digest::SHA384,
            _ => return None,
        };
        let mut ctx = ring::digest::Context::new(algorithm);
        ctx.update(&[0u8]); // the root name in wire form
        ctx.update(&self.rdata());
        Some(ctx.finish().as_ref().to_vec())
    }

    /// Whether `ds` designates this key.
    pub fn matches(&self, ds: &AnchorDs) -> bool {
        ds.algorithm == self.algorithm
            && ds.key_tag == self.key_tag()
            && self.ds_digest(ds.digest_type).as_deref() == Some(ds.digest.as_slice())
    }

    fn public_key_buf(&self) -> PublicKeyBuf {
        PublicKeyBuf::new(self.public_key.clone(), Algorithm::from_u8(self.algorithm))
    }
}

/// hickory's trust anchor set holding exactly `keys`.
pub fn trust_anchors(keys: &[AnchorKey]) -> TrustAnchors {
    let mut anchors = TrustAnchors::empty();
    for key in keys {
        anchors.insert(&key.public_key_buf());
    }
    anchors
}

/// Reads an anchor file.
pub fn load(path: &Path) -> Result<AnchorFile, AnchorError> {
    let text = std::fs::read_to_string(path).map_err(|source| AnchorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses zone-file text holding DNSKEY and DS lines for the root. Other
/// record types (SOA, NS, RRSIG: a dump of the root apex) are skipped.
pub fn parse(text: &str, path: &Path) -> Result<AnchorFile, AnchorError> {
    let mut file = AnchorFile::default();
    for (line, tokens) in records(text, path)? {
        let syntax = |reason: String| AnchorError::Syntax {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut it = tokens.iter().map(String::as_str).peekable();
        let owner = it.next().unwrap_or_default();
        // TTL and class are optional and may come in either order.
        while let Some(t) = it.peek() {
            if t.chars().all(|c| c.is_ascii_digit()) || t.eq_ignore_ascii_case("IN") {
                it.next();
            } else {
                break;
            }
        }
        let rtype = it.next().unwrap_or_default().to_ascii_uppercase();
        if rtype != "DNSKEY" && rtype != "DS" {
            continue;
        }
        if owner != "." {
            return Err(syntax(format!(
                "{rtype} for \"{owner}\": only anchors for the root \".\" are supported"
            )));
        }
        let rest: Vec<&str> = it.collect();
        if rest.len() < 4 {
            return Err(syntax(format!(
                "{rtype} needs 4 fields after the type, found {}",
                rest.len()
            )));
        }
        let num = |s: &str, what: &str, max: u32| -> Result<u32, AnchorError> {
            s.parse::<u32>()
                .ok()
                .filter(|v| *v <= max)
                .ok_or_else(|| syntax(format!("{what} \"{s}\" is not a number up to {max}")))
        };
        if rtype == "DNSKEY" {
            let public_key = data_encoding::BASE64
                .decode(rest[3..].concat().as_bytes())
                .map_err(|e| syntax(format!("DNSKEY public key is not base64: {e}")))?;
            file.keys.push(AnchorKey {
                flags: num(rest[0], "flags", 65535)? as u16,
                protocol: num(rest[1], "protocol", 255)? as u8,
                algorithm: num(rest[2], "algorithm", 255)? as u8,
                public_key,
            });
        } else {
            let digest = data_encoding::HEXLOWER_PERMISSIVE
                .decode(rest[3..].concat().as_bytes())
                .map_err(|e| syntax(format!("DS digest is not hex: {e}")))?;
            file.ds.push(AnchorDs {
                key_tag: num(rest[0], "key tag", 65535)? as u16,
                algorithm: num(rest[1], "algorithm", 255)? as u8,
                digest_type: num(rest[2], "digest type", 255)? as u8,
                digest,
                origin: format!("{}:{line}", path.display()),
            });
        }
    }
    if file.keys.is_empty() && file.ds.is_empty() {
        return Err(AnchorError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Splits zone-file text into records: comments removed, parenthesised
/// groups joined, each with the line it starts on.
fn records(text: &str, path: &Path) -> Result<Vec<(usize, Vec<String>)>, AnchorError> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    let mut depth = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split(';').next().unwrap_or_default();
        if content.trim_start().starts_with('$') && depth == 0 {
            continue; // $TTL, $ORIGIN: not needed for root anchors
        }
        for ch in content.chars() {
            if !ch.is_ascii() {
                return Err(AnchorError::Syntax {
                    path: path.to_path_buf(),
                    line,
                    reason: "non-ASCII character".into(),
                });
            }
        }
        let spaced = content.replace('(', " ( ").replace(')', " ) ");
        for tok in spaced.split_whitespace() {
            let entry = current.get_or_insert_with(|| (line, Vec::new()));
            match tok {
                "(" => depth += 1,
                ")" => {
                    depth = depth.checked_sub(1).ok_or_else(|| AnchorError::Syntax {
                        path: path.to_path_buf(),
                        line,
                        reason: "\")\" without \"(\"".into(),
                    })?
                }
                t => entry.1.push(t.to_string()),
            }
        }
        if depth == 0 {
            if let Some(rec) = current.take() {
                if !rec.1.is_empty() {
                    out.push(rec);
                }
            }
        }
    }
    if depth != 0 {
        let line = current.map(|c| c.0).unwrap_or(0);
        return Err(AnchorError::Syntax {
            path: path.to_path_buf(),
            line,
            reason: "\"(\" is never closed".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The IANA root KSK-2017 and its published DS (root-anchors.xml).
    const KSK2017: &str = ". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
    const DS2017: &str =
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

    fn p(text: &str) -> Result<AnchorFile, AnchorError> {
        parse(text, Path::new("anchors.txt"))
    }

    #[test]
    fn dnskey_line_parses_and_has_the_published_key_tag() {
        let f = p(KSK2017).expect("valid");
        assert_eq!(f.keys.len(), 1);
        assert_eq!(f.keys[0].key_tag(), 20326);
    }

    #[test]
    fn published_ds_matches_published_key() {
        let f = p(&format!("{KSK2017}\n{DS2017}\n")).expect("valid");
        assert!(f.keys[0].matches(&f.ds[0]));
    }

    #[test]
    fn parenthesised_multi_line_record_with_comments_parses() {
        let text = ". 3600 IN DNSKEY 257 3 8 ( ; KSK\n AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=\n ) ; end\n";
        let f = p(text).expect("valid");
        assert_eq!(f.keys[0].key_tag(), 20326);
    }

    #[test]
    fn malformed_files_name_the_line() {
        for (text, needle) in [
            (
                ". IN DNSKEY 257 3 8 !!!notbase64",
                "anchors.txt:1: DNSKEY public key is not base64",
            ),
            (
                "\n. IN DS 20326 8 2 XYZ",
                "anchors.txt:2: DS digest is not hex",
            ),
            ("example. IN DS 1 8 2 00", "only anchors for the root"),
            (". IN DS 1 8", "needs 4 fields"),
            (". IN DNSKEY 257 3 8 ( AAAA", "never closed"),
            ("; nothing here\n", "no DNSKEY or DS record"),
            (". IN DS 99999 8 2 00", "key tag \"99999\""),
        ] {
            let err = p(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{text:?} gave {err:?}");
        }
    }
}
