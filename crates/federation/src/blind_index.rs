//! Blind indexes: finding a person across nodes without sending their ID number.
//!
//! Every node holds the same federation blind-index key (distributed out of band by the
//! joint office, never in the directory). A node stores, next to each identifier it holds,
//! `HMAC-SHA256(key, "chuanyu-blind-index/v1" 0x00 kind 0x00 normalised-identifier)`. To ask
//! another node "do you hold this person?", a node sends only that index: the receiver
//! matches it against its own column and learns nothing about identifiers it does not hold,
//! and an eavesdropper or a logged request shows no ID number. The kind in the input keeps
//! a citizen ID and a 学籍号 with the same characters from colliding, and lets one key serve
//! every kind.
//!
//! Limits, stated plainly: anyone holding the key can test guesses (ID numbers have little
//! entropy), so the key is as sensitive as the data and stays on the nodes; rotating it means
//! recomputing every stored index.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use kernel::ids::{CitizenId, StudentNo, normalize_code};
use kernel::{Lang, Localized};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Domain separation tag; the version changes if the input layout ever does.
const DOMAIN: &[u8] = b"chuanyu-blind-index/v1";

/// The kind of identifier an index is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentifierKind {
    /// 公民身份号码; legacy 15-digit numbers are indexed in their 18-character form.
    CitizenId,
    /// 学籍号.
    StudentNo,
    /// 教师资格证书编号.
    TeacherCertNo,
    /// 毕业证书编号.
    DiplomaNo,
}

impl IdentifierKind {
    /// The label mixed into the HMAC input; part of the format, never changed.
    pub fn label(self) -> &'static str {
        match self {
            IdentifierKind::CitizenId => "citizen-id",
            IdentifierKind::StudentNo => "student-no",
            IdentifierKind::TeacherCertNo => "teacher-cert-no",
            IdentifierKind::DiplomaNo => "diploma-no",
        }
    }
}

/// A blind index: base64url (no padding) of the 32-byte HMAC, 43 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlindIndex(String);

impl BlindIndex {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The federation blind-index key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct BlindIndexKey([u8; 32]);

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(..)")
    }
}

/// A blind-index key that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidBlindIndexKey;

impl Localized for InvalidBlindIndexKey {
    fn code(&self) -> &'static str {
        "federation.blind_index_key_invalid"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => "盲索引密钥应为 32 字节的 base64url 编码".into(),
            Lang::En => "The blind-index key must be 32 bytes in base64url".into(),
        }
    }
}

impl fmt::Display for InvalidBlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

impl BlindIndexKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        BlindIndexKey(bytes)
    }

    /// A new random key (for the joint office to distribute).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        BlindIndexKey(bytes)
    }

    /// Reads the base64url form (padding optional), as kept in node configuration.
    pub fn from_base64url(text: &str) -> Result<Self, InvalidBlindIndexKey> {
        let trimmed = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(trimmed)
            .map_err(|_| InvalidBlindIndexKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| InvalidBlindIndexKey)?;
        Ok(BlindIndexKey(bytes))
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The index of `identifier` of `kind`, after normalisation: trimmed, full-width to
    /// half-width, uppercase ([`normalize_code`]); a citizen ID that parses is taken in its
    /// 18-character form, so the legacy and current numbers of one person match.
    pub fn index(&self, kind: IdentifierKind, identifier: &str) -> BlindIndex {
        let normalised = normalize_code(identifier);
        let normalised = match kind {
            IdentifierKind::CitizenId => CitizenId::parse(&normalised)
                .map(|id| id.to_18().as_str().to_owned())
                .unwrap_or(normalised),
            _ => normalised,
        };
        self.raw(kind, &normalised)
    }

    /// The index of a parsed citizen ID.
    pub fn citizen_id(&self, id: &CitizenId) -> BlindIndex {
        self.raw(IdentifierKind::CitizenId, id.to_18().as_str())
    }

    /// The index of a parsed 学籍号.
    pub fn student_no(&self, no: &StudentNo) -> BlindIndex {
        self.raw(IdentifierKind::StudentNo, no.as_str())
    }

    fn raw(&self, kind: IdentifierKind, normalised: &str) -> BlindIndex {
        // HMAC accepts keys of any length, so this cannot fail for 32 bytes.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return BlindIndex(String::new());
        };
        mac.update(DOMAIN);
        mac.update(&[0]);
        mac.update(kind.label().as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        BlindIndex(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BlindIndexKey {
        BlindIndexKey::from_bytes([7; 32])
    }

    #[test]
    fn deterministic_and_shaped() {
        let a = key().index(IdentifierKind::CitizenId, "11010519491231002X");
        assert_eq!(
            a,
            key().index(IdentifierKind::CitizenId, "11010519491231002X")
        );
        assert_eq!(a.as_str().len(), 43);
        assert!(!a.as_str().contains("110105"), "no trace of the ID");
        assert!(
            a.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }

    #[test]
    fn matches_a_known_hmac() {
        // HMAC-SHA256 with key 0x07 × 32 over the documented input, computed independently
        // (Python: hmac.new(bytes([7]*32), b"chuanyu-blind-index/v1\0citizen-id\0" +
        // b"11010519491231002X", "sha256")).
        let index = key().index(IdentifierKind::CitizenId, "11010519491231002X");
        assert_eq!(index.as_str(), EXPECTED);
    }

    const EXPECTED: &str = "Dc--yr6fY4RfoNv2vau3sQ37prppbLFgV5nENTHghSI";

    #[test]
    fn normalisation() {
        let k = key();
        let canonical = k.index(IdentifierKind::CitizenId, "11010519491231002X");
        for typed in [
            " 11010519491231002x ",
            "１１０１０５１９４９１２３１００２Ｘ",
            "11010519491231002X\u{3000}",
        ] {
            assert_eq!(
                k.index(IdentifierKind::CitizenId, typed),
                canonical,
                "{typed:?}"
            );
        }
        // Legacy 15-digit form of the same person.
        let id18 = CitizenId::parse("110105491231002").unwrap().to_18();
        assert_eq!(
            k.index(IdentifierKind::CitizenId, "110105491231002"),
            k.index(IdentifierKind::CitizenId, id18.as_str())
        );
        assert_eq!(
            k.citizen_id(&CitizenId::parse("110105491231002").unwrap()),
            k.index(IdentifierKind::CitizenId, id18.as_str())
        );
        let no = StudentNo::parse("g11010519491231002x").unwrap();
        assert_eq!(
            k.student_no(&no),
            k.index(IdentifierKind::StudentNo, "G11010519491231002X")
        );
    }

    #[test]
    fn separated_by_kind_and_key() {
        let k = key();
        let value = "12345678901234567";
        let kinds = [
            IdentifierKind::CitizenId,
            IdentifierKind::StudentNo,
            IdentifierKind::TeacherCertNo,
            IdentifierKind::DiplomaNo,
        ];
        let indexes: std::collections::HashSet<_> =
            kinds.iter().map(|kind| k.index(*kind, value)).collect();
        assert_eq!(indexes.len(), kinds.len());
        assert_ne!(
            k.index(IdentifierKind::DiplomaNo, value),
            BlindIndexKey::from_bytes([8; 32]).index(IdentifierKind::DiplomaNo, value)
        );
    }

    #[test]
    fn key_round_trip() {
        let k = BlindIndexKey::generate();
        assert_eq!(BlindIndexKey::from_base64url(&k.to_base64url()).unwrap(), k);
        assert_ne!(BlindIndexKey::generate(), k);
        assert_eq!(format!("{k:?}"), "BlindIndexKey(..)");
        let err = BlindIndexKey::from_base64url("c2hvcnQ").unwrap_err();
        assert_eq!(err.code(), "federation.blind_index_key_invalid");
        assert!(BlindIndexKey::from_base64url("!!").is_err());
        assert_ne!(err.message(Lang::Zh), err.message(Lang::En));
    }
}
