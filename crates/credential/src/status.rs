//! W3C Bitstring Status List v1.0: revocation and suspension without asking the issuer
//! about a single credential.
//!
//! Each credential names an index in a list (a [`status_entry`]); the issuer publishes the
//! list as a signed `BitstringStatusListCredential` ([`status_list_credential`]) whose
//! `encodedList` is the bitstring GZIP-compressed, then multibase base64url without padding
//! (`u…`). Bit 0 is the most significant bit of the first byte. A set bit means revoked (or
//! suspended, for a suspension list). Lists have at least 131,072 entries so that one
//! credential's index tells little about the holder.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{CredentialError, rfc3339};

/// The minimum (and default) number of entries: 16 KiB of bits.
pub const MIN_BITS: usize = 131_072;

/// The largest decompressed list [`BitstringStatusList::decode`] accepts (128 million
/// entries). A few kilobytes of gzip can expand to gigabytes; this stops it.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// Which status a list records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Permanent: a set bit means the credential was revoked.
    Revocation,
    /// Reversible: a set bit means the credential is suspended for now.
    Suspension,
}

impl StatusPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }

    pub fn parse(s: &str) -> Option<StatusPurpose> {
        match s {
            "revocation" => Some(StatusPurpose::Revocation),
            "suspension" => Some(StatusPurpose::Suspension),
            _ => None,
        }
    }
}

impl std::fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bitstring of statuses, all clear when new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitstringStatusList {
    bytes: Vec<u8>,
}

impl Default for BitstringStatusList {
    fn default() -> Self {
        BitstringStatusList::new(MIN_BITS)
    }
}

impl BitstringStatusList {
    /// A list of at least `len_bits` entries: never fewer than [`MIN_BITS`], rounded up to
    /// whole bytes, and never more than [`MAX_DECODED_BYTES`] × 8.
    pub fn new(len_bits: usize) -> BitstringStatusList {
        let bytes = len_bits.max(MIN_BITS).div_ceil(8).min(MAX_DECODED_BYTES);
        BitstringStatusList {
            bytes: vec![0; bytes],
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Never true for a list made by [`Self::new`] or [`Self::decode`]; here for clippy.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status at `index`, or `None` beyond the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        let (byte, mask) = self.position(index)?;
        Some(self.bytes[byte] & mask != 0)
    }

    /// Sets or clears the status at `index`; returns false (and changes nothing) when
    /// `index` is beyond the end, which an issuer allocating indexes below [`Self::len`]
    /// never sees.
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some((byte, mask)) = self.position(index) else {
            return false;
        };
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        true
    }

    /// Byte offset and bit mask of `index`: bit 0 is the left-most bit of byte 0.
    fn position(&self, index: usize) -> Option<(usize, u8)> {
        let byte = index / 8;
        if byte >= self.bytes.len() {
            return None;
        }
        Some((byte, 0x80 >> (index % 8)))
    }

    /// The raw bitstring.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `u` + base64url (no padding) of the GZIP-compressed bitstring, for `encodedList`.
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let compressed = gz
            .write_all(&self.bytes)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Parses an `encodedList`. Refused: no `u` prefix, not base64url, not GZIP, fewer than
    /// [`MIN_BITS`] entries, more than [`MAX_DECODED_BYTES`] once decompressed.
    pub fn decode(encoded: &str) -> Result<BitstringStatusList, CredentialError> {
        let b64 = encoded.strip_prefix('u').ok_or_else(|| {
            CredentialError::malformed(
                "状态列表 encodedList 应以 u 开头（multibase base64url）",
                "encodedList must start with u (multibase base64url)",
            )
        })?;
        // Enough for any gzip of MAX_DECODED_BYTES (deflate stores at worst ~0.03% more).
        if b64.len() > MAX_DECODED_BYTES / 3 * 4 + 64 * 1024 {
            return Err(too_large());
        }
        let compressed = URL_SAFE_NO_PAD.decode(b64).map_err(|_| {
            CredentialError::malformed(
                "状态列表 encodedList 不是 base64url",
                "encodedList is not base64url",
            )
        })?;
        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_DECODED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| {
                CredentialError::malformed(
                    "状态列表 encodedList 不是有效的 GZIP 数据",
                    "encodedList is not valid GZIP data",
                )
            })?;
        if bytes.len() > MAX_DECODED_BYTES {
            return Err(too_large());
        }
        if bytes.len() * 8 < MIN_BITS {
            return Err(CredentialError::malformed(
                format!(
                    "状态列表只有 {} 位，至少应有 {MIN_BITS} 位",
                    bytes.len() * 8
                ),
                format!(
                    "the status list has {} entries; at least {MIN_BITS} are required",
                    bytes.len() * 8
                ),
            ));
        }
        Ok(BitstringStatusList { bytes })
    }
}

fn too_large() -> CredentialError {
    CredentialError::malformed(
        format!("状态列表解压后超过 {} MiB", MAX_DECODED_BYTES >> 20),
        format!(
            "the status list exceeds {} MiB when decompressed",
            MAX_DECODED_BYTES >> 20
        ),
    )
}

/// The unsigned `BitstringStatusListCredential` publishing `list` at `id_url`; sign it
/// with [`crate::proof::sign`].
pub fn status_list_credential(
    id_url: &str,
    issuer: &Value,
    purpose: StatusPurpose,
    list: &BitstringStatusList,
    valid_from: OffsetDateTime,
    valid_until: OffsetDateTime,
) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": rfc3339(valid_from),
        "validUntil": rfc3339(valid_until),
        "credentialSubject": {
            "id": format!("{id_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": list.encode(),
        },
    })
}

/// The `credentialStatus` entry pointing at entry `index` of the list at `list_url`.
pub fn status_entry(list_url: &str, purpose: StatusPurpose, index: u64) -> Value {
    json!({
        "id": format!("{list_url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose.as_str(),
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(BitstringStatusList::default().len(), MIN_BITS);
        assert_eq!(BitstringStatusList::new(0).len(), MIN_BITS);
        assert_eq!(BitstringStatusList::new(MIN_BITS + 1).len(), MIN_BITS + 8);
        assert_eq!(
            BitstringStatusList::new(usize::MAX).as_bytes().len(),
            MAX_DECODED_BYTES
        );
        assert!(!BitstringStatusList::default().is_empty());
    }

    #[test]
    fn bit_order_is_msb_first() {
        let mut list = BitstringStatusList::default();
        assert!(list.set(0, true));
        assert_eq!(list.as_bytes()[0], 0b1000_0000);
        assert!(list.set(7, true));
        assert_eq!(list.as_bytes()[0], 0b1000_0001);
        assert!(list.set(9, true));
        assert_eq!(list.as_bytes()[1], 0b0100_0000);
        assert!(list.set(0, false));
        assert_eq!(list.as_bytes()[0], 0b0000_0001);
        assert_eq!(list.get(7), Some(true));
        assert_eq!(list.get(8), Some(false));
        assert_eq!(list.get(MIN_BITS), None);
        assert_eq!(list.get(usize::MAX), None);
        assert!(!list.set(MIN_BITS, true));
        assert!(!list.set(usize::MAX, true));
        let mut expected = BitstringStatusList::default();
        expected.set(7, true);
        expected.set(9, true);
        assert_eq!(list, expected);
    }

    #[test]
    fn empty_list_encodes_small() {
        let encoded = BitstringStatusList::default().encode();
        assert!(encoded.starts_with("uH4sI"), "{encoded}"); // gzip magic 1f 8b 08
        assert!(encoded.len() < 200);
        assert_eq!(
            BitstringStatusList::decode(&encoded).unwrap(),
            BitstringStatusList::default()
        );
    }

    #[test]
    fn entry_and_credential_shapes() {
        let entry = status_entry(
            "http://sc.example/credentials/status/1",
            StatusPurpose::Revocation,
            94567,
        );
        assert_eq!(entry["id"], "http://sc.example/credentials/status/1#94567");
        assert_eq!(entry["statusListIndex"], "94567");
        assert_eq!(entry["statusPurpose"], "revocation");
        let t = OffsetDateTime::UNIX_EPOCH;
        let cred = status_list_credential(
            "http://sc.example/credentials/status/1",
            &json!("did:key:z6Mk"),
            StatusPurpose::Suspension,
            &BitstringStatusList::default(),
            t,
            t,
        );
        assert_eq!(cred["credentialSubject"]["statusPurpose"], "suspension");
        assert_eq!(
            cred["credentialSubject"]["id"],
            "http://sc.example/credentials/status/1#list"
        );
        assert_eq!(cred["validFrom"], "1970-01-01T00:00:00Z");
    }
}
