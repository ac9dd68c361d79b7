//! The federation directory: who the members are, where their nodes live, which keys they
//! sign with, which services they offer and who may call what for which purpose.
//!
//! The wire form is a [`SignedDirectory`]:
//!
//! ```json
//! {
//!   "directory": {
//!     "version": 7,
//!     "issued_at": "2025-03-01T00:00:00Z",
//!     "expires_at": "2025-04-01T00:00:00Z",
//!     "governance_key": "z6Mk…",
//!     "purposes": [{"id": "transfer-verification", "name": "转学核验", "name_en": "Transfer verification"}],
//!     "members": [{
//!       "code": "SC", "name": "四川省教育厅", "base_url": "https://sc.example.cn",
//!       "keys": [{"kid": "sc-2025-01", "public_key": "z6Mk…", "not_before": "2025-01-01T00:00:00Z"}],
//!       "services": ["student.lookup", "transfer"]
//!     }],
//!     "rules": [{"caller": "CQ", "callee": "SC", "service": "student.lookup",
//!                "purpose": "transfer-verification", "fields": ["name", "status"]}]
//!   },
//!   "signature": {"alg": "ed25519", "kid": "z6Mk…", "value": "<base64url>"}
//! }
//! ```
//!
//! The signature is Ed25519 over the RFC 8785 canonical bytes of `directory` as received, so
//! fields a newer directory adds are covered too and an older node may ignore them. Public
//! keys (and the governance key id) are multibase base58btc of the multicodec-prefixed key
//! (`z6Mk…`, did:key style); see [`encode_public_key`].

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use kernel::{Lang, Localized};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The multicodec prefix of an Ed25519 public key (varint of 0xed).
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// The largest integer JCS prints exactly: it writes numbers as IEEE doubles.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The only directory signature algorithm.
pub const DIRECTORY_ALG: &str = "ed25519";

/// A callee of `*` in a rule means any member.
pub const ANY_MEMBER: &str = "*";

/// The federation directory. Build one, then [`Directory::sign`] it; receive one through
/// [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// Increases with every issue; nodes refuse to go back ([`Directory::check_newer`]).
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The governance public key in multibase form; also the signature's `kid`.
    pub governance_key: String,
    pub purposes: Vec<Purpose>,
    pub members: Vec<Member>,
    pub rules: Vec<Rule>,
}

/// A purpose of processing (用途): an ASCII id used on the wire and its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// e.g. `transfer-verification`; lowercase ASCII letters, digits, `-` and `.`.
    pub id: String,
    /// Chinese name, e.g. 转学核验.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// A member of the federation (an education authority) and its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `CQ`, `SC`, …: uppercase ASCII letters and digits.
    pub code: String,
    /// Chinese name, e.g. 重庆市教育委员会.
    pub name: String,
    /// Where the node answers, e.g. `https://cq.example.cn`.
    pub base_url: String,
    pub keys: Vec<MemberKey>,
    /// Service names the node offers, e.g. `student.lookup`.
    pub services: Vec<String>,
}

/// One node signing key. Several may be listed during a rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberKey {
    /// The `keyid` used in HTTP signatures; unique across the whole directory.
    pub kid: String,
    /// Multibase Ed25519 public key (`z6Mk…`).
    pub public_key: String,
    /// Valid from (inclusive); absent means always.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<OffsetDateTime>,
    /// Valid until (exclusive); absent means no end.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_after: Option<OffsetDateTime>,
}

impl MemberKey {
    /// Whether the key may sign at `at`.
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before.is_none_or(|t| t <= at) && self.not_after.is_none_or(|t| at < t)
    }
}

/// An access rule: `caller` may call `service` on `callee` for `purpose`, and receives only
/// `fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub caller: String,
    /// A member code or [`ANY_MEMBER`].
    pub callee: String,
    pub service: String,
    /// A [`Purpose::id`].
    pub purpose: String,
    /// Top-level field names of the answer that this purpose allows.
    pub fields: Vec<String>,
}

/// The directory signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySignature {
    /// Always [`DIRECTORY_ALG`].
    pub alg: String,
    /// The signer's multibase public key.
    pub kid: String,
    /// Ed25519 signature, base64url without padding.
    pub value: String,
}

/// A directory with its signature, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDirectory {
    pub directory: Directory,
    pub signature: DirectorySignature,
}

impl SignedDirectory {
    /// The JSON to publish.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings, integers and formatted times cannot fail to serialise.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Why a directory was refused, or a directory operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Not JSON, or not shaped like a directory.
    Malformed {
        detail: String,
    },
    /// There is no `signature`.
    Unsigned,
    UnsupportedAlgorithm {
        alg: String,
    },
    /// Signed (or claiming to be signed) by a key other than the governance key.
    WrongKey {
        kid: String,
    },
    /// The signature does not match the content: it was changed after signing.
    SignatureInvalid,
    Expired {
        expires_at: OffsetDateTime,
    },
    NotYetValid {
        issued_at: OffsetDateTime,
    },
    DuplicateMember {
        code: String,
    },
    DuplicateKey {
        kid: String,
    },
    /// A member key is not a multibase Ed25519 key, or its validity is reversed.
    InvalidKey {
        kid: String,
    },
    /// A member code, purpose id, service or field name is not in the allowed form.
    InvalidName {
        what: &'static str,
        value: String,
    },
    /// A rule names a member or purpose that the directory does not define.
    UnknownReference {
        what: &'static str,
        value: String,
    },
    /// An older version than the one already in use.
    Rollback {
        current: u64,
        offered: u64,
    },
}

impl Localized for DirectoryError {
    fn code(&self) -> &'static str {
        match self {
            DirectoryError::Malformed { .. } => "federation.directory_malformed",
            DirectoryError::Unsigned => "federation.directory_unsigned",
            DirectoryError::UnsupportedAlgorithm { .. } => "federation.directory_alg_unsupported",
            DirectoryError::WrongKey { .. } => "federation.directory_wrong_key",
            DirectoryError::SignatureInvalid => "federation.directory_signature_invalid",
            DirectoryError::Expired { .. } => "federation.directory_expired",
            DirectoryError::NotYetValid { .. } => "federation.directory_not_yet_valid",
            DirectoryError::DuplicateMember { .. } => "federation.directory_duplicate_member",
            DirectoryError::DuplicateKey { .. } => "federation.directory_duplicate_key",
            DirectoryError::InvalidKey { .. } => "federation.directory_key_invalid",
            DirectoryError::InvalidName { .. } => "federation.directory_name_invalid",
            DirectoryError::UnknownReference { .. } => "federation.directory_unknown_reference",
            DirectoryError::Rollback { .. } => "federation.directory_rollback",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            DirectoryError::Malformed { detail } => {
                if zh {
                    format!("联盟目录格式错误：{detail}")
                } else {
                    format!("The federation directory is malformed: {detail}")
                }
            }
            DirectoryError::Unsigned => {
                if zh {
                    "联盟目录未签名".into()
                } else {
                    "The federation directory is not signed".into()
                }
            }
            DirectoryError::UnsupportedAlgorithm { alg } => {
                if zh {
                    format!("联盟目录的签名算法 {alg} 不受支持，应为 ed25519")
                } else {
                    format!("The directory signature algorithm {alg} is not supported; use ed25519")
                }
            }
            DirectoryError::WrongKey { kid } => {
                if zh {
                    format!("联盟目录由非治理密钥签名（{kid}）")
                } else {
                    format!(
                        "The directory is signed by a key other than the governance key ({kid})"
                    )
                }
            }
            DirectoryError::SignatureInvalid => {
                if zh {
                    "联盟目录签名无效：内容在签名后被改动".into()
                } else {
                    "The directory signature is invalid: the content was changed after signing"
                        .into()
                }
            }
            DirectoryError::Expired { expires_at } => {
                if zh {
                    format!("联盟目录已于 {} 过期", rfc3339(*expires_at))
                } else {
                    format!(
                        "The federation directory expired at {}",
                        rfc3339(*expires_at)
                    )
                }
            }
            DirectoryError::NotYetValid { issued_at } => {
                if zh {
                    format!("联盟目录自 {} 起才生效", rfc3339(*issued_at))
                } else {
                    format!(
                        "The federation directory is not valid before {}",
                        rfc3339(*issued_at)
                    )
                }
            }
            DirectoryError::DuplicateMember { code } => {
                if zh {
                    format!("联盟目录中成员代码 {code} 重复")
                } else {
                    format!("Member code {code} appears more than once in the directory")
                }
            }
            DirectoryError::DuplicateKey { kid } => {
                if zh {
                    format!("联盟目录中密钥标识 {kid} 重复")
                } else {
                    format!("Key id {kid} appears more than once in the directory")
                }
            }
            DirectoryError::InvalidKey { kid } => {
                if zh {
                    format!("密钥 {kid} 不是有效的 Ed25519 公钥，或其有效期颠倒")
                } else {
                    format!(
                        "Key {kid} is not a valid Ed25519 public key, or its validity is reversed"
                    )
                }
            }
            DirectoryError::InvalidName { what, value } => {
                if zh {
                    format!("联盟目录中的{}“{value}”格式不正确", name_label(what, lang))
                } else {
                    format!(
                        "The {} “{value}” in the directory is not well-formed",
                        name_label(what, lang)
                    )
                }
            }
            DirectoryError::UnknownReference { what, value } => {
                if zh {
                    format!("访问规则引用了未定义的{}“{value}”", name_label(what, lang))
                } else {
                    format!(
                        "An access rule refers to an undefined {} “{value}”",
                        name_label(what, lang)
                    )
                }
            }
            DirectoryError::Rollback { current, offered } => {
                if zh {
                    format!("联盟目录版本 {offered} 低于正在使用的版本 {current}")
                } else {
                    format!("Directory version {offered} is older than version {current} in use")
                }
            }
        }
    }
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

fn name_label(what: &str, lang: Lang) -> &'static str {
    match (what, lang) {
        ("member", Lang::Zh) => "成员代码",
        ("member", Lang::En) => "member code",
        ("purpose", Lang::Zh) => "用途",
        ("purpose", Lang::En) => "purpose",
        ("service", Lang::Zh) => "服务名",
        ("service", Lang::En) => "service name",
        ("field", Lang::Zh) => "字段名",
        ("field", Lang::En) => "field name",
        ("kid", Lang::Zh) => "密钥标识",
        ("kid", Lang::En) => "key id",
        ("version", Lang::Zh) => "版本号",
        ("version", Lang::En) => "version",
        (_, Lang::Zh) => "名称",
        (_, Lang::En) => "name",
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// A caller was refused by the access rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AccessDenied {
    pub caller: String,
    pub callee: String,
    pub service: String,
    pub purpose: String,
}

impl Localized for AccessDenied {
    fn code(&self) -> &'static str {
        "federation.not_allowed"
    }

    fn message(&self, lang: Lang) -> String {
        let AccessDenied {
            caller,
            callee,
            service,
            purpose,
        } = self;
        match lang {
            Lang::Zh => {
                format!("联盟目录不允许 {caller} 以用途 {purpose} 调用 {callee} 的服务 {service}")
            }
            Lang::En => format!(
                "The directory does not allow {caller} to call service {service} of {callee} \
                 for purpose {purpose}"
            ),
        }
    }
}

impl std::fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

/// The multibase (`z` + base58btc) form of a multicodec-prefixed Ed25519 public key, as in
/// did:key and W3C Multikey: always starts `z6Mk`.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_MULTICODEC);
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Parses [`encode_public_key`]'s form; `None` for anything else, including points that are
/// not valid Ed25519 public keys.
pub fn decode_public_key(multibase: &str) -> Option<VerifyingKey> {
    let encoded = multibase.strip_prefix('z')?;
    let bytes = bs58::decode(encoded).into_vec().ok()?;
    let raw = bytes.strip_prefix(&ED25519_MULTICODEC[..])?;
    let raw: &[u8; 32] = raw.try_into().ok()?;
    VerifyingKey::from_bytes(raw).ok()
}

/// Every member key of a directory, decoded once, to verify signatures with for as long as
/// the directory is in force: decoding a key decompresses a curve point, a third of the cost
/// of a verification. Resolves exactly as [`Directory::key`] does.
pub struct DecodedKeys(Vec<(String, MemberKey, VerifyingKey)>);

impl DecodedKeys {
    pub fn of(directory: &Directory) -> DecodedKeys {
        let keys = directory.members.iter().flat_map(|m| {
            m.keys.iter().filter_map(|k| {
                let key = decode_public_key(&k.public_key)?;
                Some((m.code.clone(), k.clone(), key))
            })
        });
        DecodedKeys(keys.collect())
    }
}

impl crate::httpsig::KeyResolver for DecodedKeys {
    fn resolve(&self, keyid: &str, at: OffsetDateTime) -> Option<crate::httpsig::ResolvedKey> {
        let (member, _, key) = self
            .0
            .iter()
            .find(|(_, k, _)| k.kid == keyid && k.valid_at(at))?;
        Some(crate::httpsig::ResolvedKey {
            member: member.clone(),
            key: *key,
        })
    }
}

impl Directory {
    /// The member with this code.
    pub fn member(&self, code: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.code == code)
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    /// The member holding key `kid` and the key itself, if the key is valid at `at`.
    ///
    /// The key is decoded on each call (a few microseconds); callers on a hot path may cache.
    pub fn key(&self, kid: &str, at: OffsetDateTime) -> Option<(&Member, VerifyingKey)> {
        self.members.iter().find_map(|member| {
            let key = member.keys.iter().find(|k| k.kid == kid)?;
            if !key.valid_at(at) {
                return None;
            }
            Some((member, decode_public_key(&key.public_key)?))
        })
    }

    /// Whether `member` offers `service`.
    pub fn offers(&self, member: &str, service: &str) -> bool {
        self.member(member)
            .is_some_and(|m| m.services.iter().any(|s| s == service))
    }

    /// The fields `caller` may receive from `callee`'s `service` for `purpose`, or `None`
    /// if no rule allows the call or the callee does not offer the service. A rule naming
    /// the callee wins over a `*` rule.
    pub fn allowed(
        &self,
        caller: &str,
        callee: &str,
        service: &str,
        purpose: &str,
    ) -> Option<&[String]> {
        if self.member(caller).is_none() || !self.offers(callee, service) {
            return None;
        }
        let matching = |wanted: &str| {
            self.rules.iter().find(|r| {
                r.caller == caller
                    && r.callee == wanted
                    && r.service == service
                    && r.purpose == purpose
            })
        };
        matching(callee)
            .or_else(|| matching(ANY_MEMBER))
            .map(|r| r.fields.as_slice())
    }

    /// [`Directory::allowed`] as a `Result`, for a receiving node to refuse with a stable code.
    pub fn authorize(
        &self,
        caller: &str,
        callee: &str,
        service: &str,
        purpose: &str,
    ) -> Result<&[String], AccessDenied> {
        self.allowed(caller, callee, service, purpose)
            .ok_or_else(|| AccessDenied {
                caller: caller.to_owned(),
                callee: callee.to_owned(),
                service: service.to_owned(),
                purpose: purpose.to_owned(),
            })
    }

    /// Refuses a directory older than the one in use (`current` version); the same version
    /// is accepted, so a node may re-verify what it has.
    pub fn check_newer(&self, current: u64) -> Result<(), DirectoryError> {
        if self.version < current {
            return Err(DirectoryError::Rollback {
                current,
                offered: self.version,
            });
        }
        Ok(())
    }

    /// Checks the rules a signed directory must satisfy: names in their forms, no duplicate
    /// member codes or key ids, decodable keys, rules referring to defined members and
    /// purposes, `issued_at` before `expires_at`.
    pub fn validate(&self) -> Result<(), DirectoryError> {
        if self.version > MAX_SAFE_INTEGER {
            return Err(DirectoryError::InvalidName {
                what: "version",
                value: self.version.to_string(),
            });
        }
        if self.issued_at >= self.expires_at {
            return Err(DirectoryError::Malformed {
                detail: "issued_at is not before expires_at".into(),
            });
        }
        let mut purposes = HashSet::new();
        for purpose in &self.purposes {
            check_name("purpose", &purpose.id, is_purpose_id)?;
            if !purposes.insert(purpose.id.as_str()) {
                return Err(DirectoryError::Malformed {
                    detail: format!("purpose {} is defined twice", purpose.id),
                });
            }
        }
        let mut codes = HashSet::new();
        let mut kids = HashSet::new();
        for member in &self.members {
            check_name("member", &member.code, is_member_code)?;
            if !codes.insert(member.code.as_str()) {
                return Err(DirectoryError::DuplicateMember {
                    code: member.code.clone(),
                });
            }
            for service in &member.services {
                check_name("service", service, is_service_name)?;
            }
            for key in &member.keys {
                check_name("kid", &key.kid, is_kid)?;
                if !kids.insert(key.kid.as_str()) {
                    return Err(DirectoryError::DuplicateKey {
                        kid: key.kid.clone(),
                    });
                }
                let reversed =
                    matches!((key.not_before, key.not_after), (Some(a), Some(b)) if a >= b);
                if reversed || decode_public_key(&key.public_key).is_none() {
                    return Err(DirectoryError::InvalidKey {
                        kid: key.kid.clone(),
                    });
                }
            }
        }
        for rule in &self.rules {
            if !codes.contains(rule.caller.as_str()) {
                return Err(DirectoryError::UnknownReference {
                    what: "member",
                    value: rule.caller.clone(),
                });
            }
            if rule.callee != ANY_MEMBER && !codes.contains(rule.callee.as_str()) {
                return Err(DirectoryError::UnknownReference {
                    what: "member",
                    value: rule.callee.clone(),
                });
            }
            if !purposes.contains(rule.purpose.as_str()) {
                return Err(DirectoryError::UnknownReference {
                    what: "purpose",
                    value: rule.purpose.clone(),
                });
            }
            check_name("service", &rule.service, is_service_name)?;
            for field in &rule.fields {
                check_name("field", field, |f| !f.is_empty())?;
            }
        }
        Ok(())
    }

    /// Validates and signs with the governance key, whose multibase form must be
    /// `governance_key`.
    pub fn sign(&self, governance: &SigningKey) -> Result<SignedDirectory, DirectoryError> {
        self.validate()?;
        let kid = encode_public_key(&governance.verifying_key());
        if kid != self.governance_key {
            return Err(DirectoryError::WrongKey { kid });
        }
        let value = serde_json::to_value(self).map_err(malformed)?;
        let canonical = serde_json_canonicalizer::to_vec(&value).map_err(malformed)?;
        let signature = governance.sign(&canonical);
        Ok(SignedDirectory {
            directory: self.clone(),
            signature: DirectorySignature {
                alg: DIRECTORY_ALG.into(),
                kid,
                value: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            },
        })
    }
}

fn malformed(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Malformed {
        detail: e.to_string(),
    }
}

fn check_name(
    what: &'static str,
    value: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<(), DirectoryError> {
    if ok(value) {
        Ok(())
    } else {
        Err(DirectoryError::InvalidName {
            what,
            value: value.to_owned(),
        })
    }
}

fn is_member_code(s: &str) -> bool {
    (1..=16).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Purpose ids travel in a header and in signatures: keep them to a token-safe set.
fn is_purpose_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

fn is_service_name(s: &str) -> bool {
    is_purpose_id(s)
}

/// Key ids appear as sf-strings in `Signature-Input`: printable ASCII without `"` or `\`.
fn is_kid(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// Verifies a published directory against the governance public key and the current time,
/// and returns it. Refuses: malformed JSON, no signature, another algorithm, another key,
/// a signature that does not match the content, a directory outside its validity period,
/// and a directory that fails [`Directory::validate`] (duplicate member codes or key ids,
/// among others).
pub fn verify(
    bytes: &[u8],
    governance: &VerifyingKey,
    now: OffsetDateTime,
) -> Result<Directory, DirectoryError> {
    let document: Value = serde_json::from_slice(bytes).map_err(malformed)?;
    let Value::Object(mut document) = document else {
        return Err(malformed("not a JSON object"));
    };
    let signature = match document.remove("signature") {
        None | Some(Value::Null) => return Err(DirectoryError::Unsigned),
        Some(s) => serde_json::from_value::<DirectorySignature>(s).map_err(malformed)?,
    };
    let content = document
        .remove("directory")
        .ok_or_else(|| malformed("no directory"))?;
    if signature.alg != DIRECTORY_ALG {
        return Err(DirectoryError::UnsupportedAlgorithm { alg: signature.alg });
    }
    let expected_kid = encode_public_key(governance);
    if signature.kid != expected_kid {
        return Err(DirectoryError::WrongKey { kid: signature.kid });
    }
    let raw = URL_SAFE_NO_PAD
        .decode(signature.value.as_bytes())
        .map_err(|_| DirectoryError::SignatureInvalid)?;
    let sig = Signature::from_slice(&raw).map_err(|_| DirectoryError::SignatureInvalid)?;
    // The signature covers the directory exactly as received, unknown fields included.
    let canonical = serde_json_canonicalizer::to_vec(&content).map_err(malformed)?;
    governance
        .verify_strict(&canonical, &sig)
        .map_err(|_| DirectoryError::SignatureInvalid)?;
    let directory: Directory = serde_json::from_value(content).map_err(malformed)?;
    if directory.governance_key != expected_kid {
        return Err(DirectoryError::WrongKey {
            kid: directory.governance_key,
        });
    }
    directory.validate()?;
    if now < directory.issued_at {
        return Err(DirectoryError::NotYetValid {
            issued_at: directory.issued_at,
        });
    }
    if now >= directory.expires_at {
        return Err(DirectoryError::Expired {
            expires_at: directory.expires_at,
        });
    }
    Ok(directory)
}

/// Data minimisation: keeps only the `allowed` top-level fields of an object; an array is
/// minimised element by element; any other value becomes `null`, since no field name can
/// allow it. Nested objects under an allowed field are kept whole.
pub fn minimise(value: Value, allowed: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| allowed.iter().any(|a| a == k))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| minimise(item, allowed))
                .collect(),
        ),
        _ => Value::Null,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    pub(crate) fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    pub(crate) const NOW: OffsetDateTime = datetime!(2025-03-15 08:00 UTC);

    /// Three members, so nothing can quietly assume two.
    pub(crate) fn sample(governance: &SigningKey) -> Directory {
        let member = |code: &str, name: &str, seed: u8, services: &[&str]| Member {
            code: code.into(),
            name: name.into(),
            base_url: format!("https://{}.example.cn", code.to_lowercase()),
            keys: vec![MemberKey {
                kid: format!("{}-2025", code.to_lowercase()),
                public_key: encode_public_key(&key(seed).verifying_key()),
                not_before: Some(datetime!(2025-01-01 0:00 UTC)),
                not_after: None,
            }],
            services: services.iter().map(|s| s.to_string()).collect(),
        };
        Directory {
            version: 7,
            issued_at: datetime!(2025-03-01 0:00 UTC),
            expires_at: datetime!(2025-04-01 0:00 UTC),
            governance_key: encode_public_key(&governance.verifying_key()),
            purposes: vec![
                Purpose {
                    id: "transfer-verification".into(),
                    name: "转学核验".into(),
                    name_en: Some("Transfer verification".into()),
                },
                Purpose {
                    id: "certificate-check".into(),
                    name: "证书核验".into(),
                    name_en: None,
                },
            ],
            members: vec![
                member("CQ", "重庆市教育委员会", 1, &["student.lookup", "transfer"]),
                member(
                    "SC",
                    "四川省教育厅",
                    2,
                    &["student.lookup", "teacher-cert.verify"],
                ),
                member("GZ", "贵州省教育厅", 3, &["teacher-cert.verify"]),
            ],
            rules: vec![
                Rule {
                    caller: "CQ".into(),
                    callee: "SC".into(),
                    service: "student.lookup".into(),
                    purpose: "transfer-verification".into(),
                    fields: vec!["name".into(), "status".into()],
                },
                Rule {
                    caller: "SC".into(),
                    callee: "*".into(),
                    service: "student.lookup".into(),
                    purpose: "transfer-verification".into(),
                    fields: vec!["status".into()],
                },
                Rule {
                    caller: "CQ".into(),
                    callee: "*".into(),
                    service: "teacher-cert.verify".into(),
                    purpose: "certificate-check".into(),
                    fields: vec!["valid".into()],
                },
            ],
        }
    }

    pub(crate) fn signed_bytes(governance: &SigningKey) -> Vec<u8> {
        sample(governance).sign(governance).unwrap().to_json()
    }

    fn code(r: Result<Directory, DirectoryError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn round_trip() {
        let gov = key(9);
        let bytes = signed_bytes(&gov);
        let dir = verify(&bytes, &gov.verifying_key(), NOW).unwrap();
        assert_eq!(dir, sample(&gov));
        assert!(
            encode_public_key(&gov.verifying_key()).starts_with("z6Mk"),
            "did:key form"
        );
    }

    #[test]
    fn multibase_key_round_trip_and_rejects() {
        let k = key(5).verifying_key();
        assert_eq!(decode_public_key(&encode_public_key(&k)), Some(k));
        assert_eq!(decode_public_key(""), None);
        assert_eq!(decode_public_key("z"), None);
        assert_eq!(decode_public_key("m6Mk"), None);
        assert_eq!(decode_public_key("z0OIl"), None, "not base58");
        // Right length, wrong multicodec prefix.
        let mut other = vec![0xe7, 0x01];
        other.extend_from_slice(k.as_bytes());
        assert_eq!(
            decode_public_key(&format!("z{}", bs58::encode(other).into_string())),
            None
        );
    }

    #[test]
    fn did_key_test_vector() {
        // The W3C did:key spec's first Ed25519 example decodes to a key.
        let did = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let k = decode_public_key(did).unwrap();
        assert_eq!(encode_public_key(&k), did);
    }

    #[test]
    fn refuses_unsigned() {
        let gov = key(9);
        let mut doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        doc.as_object_mut().unwrap().remove("signature");
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_unsigned"
        );
        doc["signature"] = Value::Null;
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_unsigned"
        );
        let bare = serde_json::to_vec(&sample(&gov)).unwrap();
        assert_eq!(
            code(verify(&bare, &gov.verifying_key(), NOW)),
            "federation.directory_unsigned"
        );
    }

    #[test]
    fn refuses_tampered() {
        let gov = key(9);
        let mut doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        doc["directory"]["rules"][0]["fields"] = json!(["name", "status", "citizen_id"]);
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_signature_invalid"
        );
        // An added field is covered too.
        let mut doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        doc["directory"]["extra"] = json!(1);
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_signature_invalid"
        );
        // Garbage signature value.
        let mut doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        doc["signature"]["value"] = json!("!!");
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_signature_invalid"
        );
    }

    #[test]
    fn whitespace_and_key_order_do_not_matter() {
        let gov = key(9);
        let doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        let compact = serde_json::to_vec(&doc).unwrap();
        assert!(verify(&compact, &gov.verifying_key(), NOW).is_ok());
    }

    #[test]
    fn refuses_other_key() {
        let gov = key(9);
        let intruder = key(10);
        // Signed by the intruder, claiming to be the intruder.
        let mut dir = sample(&intruder);
        dir.governance_key = encode_public_key(&intruder.verifying_key());
        let bytes = dir.sign(&intruder).unwrap().to_json();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_wrong_key"
        );
        // Signed by the intruder, claiming the governance kid.
        let mut signed = sample(&intruder).sign(&intruder).unwrap();
        signed.signature.kid = encode_public_key(&gov.verifying_key());
        signed.directory.governance_key = signed.signature.kid.clone();
        assert_eq!(
            code(verify(&signed.to_json(), &gov.verifying_key(), NOW)),
            "federation.directory_signature_invalid"
        );
        // Signing with a key that is not the named governance key is refused up front.
        assert_eq!(
            sample(&gov).sign(&intruder).unwrap_err().code(),
            "federation.directory_wrong_key"
        );
    }

    #[test]
    fn refuses_other_algorithm() {
        let gov = key(9);
        let mut doc: Value = serde_json::from_slice(&signed_bytes(&gov)).unwrap();
        doc["signature"]["alg"] = json!("none");
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(
            code(verify(&bytes, &gov.verifying_key(), NOW)),
            "federation.directory_alg_unsupported"
        );
    }

    #[test]
    fn refuses_outside_validity() {
        let gov = key(9);
        let bytes = signed_bytes(&gov);
        let vk = gov.verifying_key();
        assert_eq!(
            code(verify(&bytes, &vk, datetime!(2025-04-01 0:00 UTC))),
            "federation.directory_expired"
        );
        assert_eq!(
            code(verify(&bytes, &vk, datetime!(2025-02-28 23:59:59 UTC))),
            "federation.directory_not_yet_valid"
        );
        assert!(verify(&bytes, &vk, datetime!(2025-03-01 0:00 UTC)).is_ok());
    }

    #[test]
    fn refuses_malformed() {
        let gov = key(9);
        let vk = gov.verifying_key();
        for bytes in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            "{\"signature\":{\"alg\":\"ed25519\"}}".as_bytes(),
            "{\"signature\":{\"alg\":\"ed25519\",\"kid\":\"x\",\"value\":\"\"}}".as_bytes(),
        ] {
            assert_eq!(
                code(verify(bytes, &vk, NOW)),
                "federation.directory_malformed",
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        // Signed but not a directory.
        let content = json!({"version": "seven"});
        let canonical = serde_json_canonicalizer::to_vec(&content).unwrap();
        let sig = gov.sign(&canonical);
        let doc = json!({"directory": content, "signature": {
            "alg": "ed25519", "kid": encode_public_key(&vk),
            "value": URL_SAFE_NO_PAD.encode(sig.to_bytes())}});
        assert_eq!(
            code(verify(&serde_json::to_vec(&doc).unwrap(), &vk, NOW)),
            "federation.directory_malformed"
        );
    }

    /// Signs a directory without validating it, to check that `verify` validates.
    fn sign_unchecked(dir: &Directory, gov: &SigningKey) -> Vec<u8> {
        let value = serde_json::to_value(dir).unwrap();
        let sig = gov.sign(&serde_json_canonicalizer::to_vec(&value).unwrap());
        serde_json::to_vec(&json!({"directory": value, "signature": {
            "alg": "ed25519", "kid": encode_public_key(&gov.verifying_key()),
            "value": URL_SAFE_NO_PAD.encode(sig.to_bytes())}}))
        .unwrap()
    }

    #[test]
    fn refuses_duplicates_and_bad_references() {
        let gov = key(9);
        let vk = gov.verifying_key();
        let mut dup_member = sample(&gov);
        dup_member.members[2].code = "SC".into();
        assert_eq!(
            code(verify(&sign_unchecked(&dup_member, &gov), &vk, NOW)),
            "federation.directory_duplicate_member"
        );
        assert_eq!(
            dup_member.sign(&gov).unwrap_err().code(),
            "federation.directory_duplicate_member"
        );

        let mut dup_kid = sample(&gov);
        dup_kid.members[1].keys[0].kid = "cq-2025".into();
        assert_eq!(
            code(verify(&sign_unchecked(&dup_kid, &gov), &vk, NOW)),
            "federation.directory_duplicate_key"
        );

        let mut bad_key = sample(&gov);
        bad_key.members[0].keys[0].public_key = "z6Mkxyz".into();
        assert_eq!(
            code(verify(&sign_unchecked(&bad_key, &gov), &vk, NOW)),
            "federation.directory_key_invalid"
        );

        let mut unknown_member = sample(&gov);
        unknown_member.rules[0].callee = "XZ".into();
        assert_eq!(
            code(verify(&sign_unchecked(&unknown_member, &gov), &vk, NOW)),
            "federation.directory_unknown_reference"
        );

        let mut unknown_purpose = sample(&gov);
        unknown_purpose.rules[0].purpose = "curiosity".into();
        assert_eq!(
            code(verify(&sign_unchecked(&unknown_purpose, &gov), &vk, NOW)),
            "federation.directory_unknown_reference"
        );

        let mut bad_code = sample(&gov);
        bad_code.members[0].code = "cq".into();
        assert_eq!(
            code(verify(&sign_unchecked(&bad_code, &gov), &vk, NOW)),
            "federation.directory_name_invalid"
        );

        let mut huge = sample(&gov);
        huge.version = u64::MAX;
        assert_eq!(
            huge.sign(&gov).unwrap_err().code(),
            "federation.directory_name_invalid"
        );
    }

    #[test]
    fn rollback() {
        let dir = sample(&key(9));
        assert!(dir.check_newer(7).is_ok());
        assert!(dir.check_newer(6).is_ok());
        assert_eq!(
            dir.check_newer(8).unwrap_err().code(),
            "federation.directory_rollback"
        );
    }

    #[test]
    fn lookups() {
        let dir = sample(&key(9));
        assert_eq!(dir.member("SC").unwrap().name, "四川省教育厅");
        assert!(dir.member("XZ").is_none());
        assert_eq!(
            dir.purpose("transfer-verification").unwrap().name,
            "转学核验"
        );

        let (member, vk) = dir.key("sc-2025", NOW).unwrap();
        assert_eq!(member.code, "SC");
        assert_eq!(vk, key(2).verifying_key());
        assert!(dir.key("nope", NOW).is_none());
        assert!(
            dir.key("sc-2025", datetime!(2024-12-31 23:59 UTC))
                .is_none(),
            "before not_before"
        );

        assert!(dir.offers("CQ", "transfer"));
        assert!(!dir.offers("GZ", "transfer"));
        assert!(!dir.offers("XZ", "transfer"));

        let fields = |a, b, c, d| dir.allowed(a, b, c, d).map(|f| f.join(","));
        assert_eq!(
            fields("CQ", "SC", "student.lookup", "transfer-verification").as_deref(),
            Some("name,status")
        );
        // Wrong purpose, wrong direction, service not offered.
        assert_eq!(
            fields("CQ", "SC", "student.lookup", "certificate-check"),
            None
        );
        assert_eq!(
            fields("GZ", "SC", "student.lookup", "transfer-verification"),
            None
        );
        assert_eq!(
            fields("CQ", "GZ", "student.lookup", "transfer-verification"),
            None
        );
        // Wildcard callee.
        assert_eq!(
            fields("SC", "CQ", "student.lookup", "transfer-verification").as_deref(),
            Some("status")
        );
        assert_eq!(
            fields("CQ", "GZ", "teacher-cert.verify", "certificate-check").as_deref(),
            Some("valid")
        );
        assert_eq!(
            fields("CQ", "SC", "teacher-cert.verify", "certificate-check").as_deref(),
            Some("valid")
        );
        let denied = dir
            .authorize("GZ", "SC", "student.lookup", "transfer-verification")
            .unwrap_err();
        assert_eq!(denied.code(), "federation.not_allowed");
        assert!(denied.message(Lang::En).contains("GZ"));
    }

    #[test]
    fn key_rotation_windows() {
        let gov = key(9);
        let mut dir = sample(&gov);
        dir.members[0].keys[0].not_after = Some(datetime!(2025-03-10 0:00 UTC));
        dir.members[0].keys.push(MemberKey {
            kid: "cq-2025b".into(),
            public_key: encode_public_key(&key(4).verifying_key()),
            not_before: Some(datetime!(2025-03-09 0:00 UTC)),
            not_after: None,
        });
        let dir = verify(
            &dir.sign(&gov).unwrap().to_json(),
            &gov.verifying_key(),
            NOW,
        )
        .unwrap();
        let overlap = datetime!(2025-03-09 12:00 UTC);
        assert!(dir.key("cq-2025", overlap).is_some());
        assert!(dir.key("cq-2025b", overlap).is_some());
        assert!(
            dir.key("cq-2025", datetime!(2025-03-10 0:00 UTC)).is_none(),
            "not_after is exclusive"
        );
        assert!(dir.key("cq-2025b", NOW).is_some());
        // The decoded keys a node verifies with resolve exactly as the directory does.
        use crate::httpsig::KeyResolver;
        let decoded = DecodedKeys::of(&dir);
        let times = [overlap, datetime!(2025-03-10 0:00 UTC), NOW];
        for kid in ["cq-2025", "cq-2025b", "sc-2025", "nope"] {
            for at in times {
                let from_directory = dir.resolve(kid, at).map(|r| (r.member, r.key));
                let from_decoded = decoded.resolve(kid, at).map(|r| (r.member, r.key));
                assert_eq!(from_decoded, from_directory, "{kid} at {at}");
            }
        }

        let mut reversed = sample(&gov);
        reversed.members[0].keys[0].not_after = Some(datetime!(2024-01-01 0:00 UTC));
        assert_eq!(
            reversed.sign(&gov).unwrap_err().code(),
            "federation.directory_key_invalid"
        );
    }

    #[test]
    fn minimisation() {
        let allowed = vec!["name".to_string(), "status".to_string()];
        let record = json!({"name": "张三", "status": "在读", "citizen_id": "510104200801011234",
                            "guardian": {"name": "张父"}});
        assert_eq!(
            minimise(record.clone(), &allowed),
            json!({"name": "张三", "status": "在读"})
        );
        assert_eq!(
            minimise(json!([record, {"citizen_id": "x"}, 5]), &allowed),
            json!([{"name": "张三", "status": "在读"}, {}, null])
        );
        assert_eq!(minimise(json!("510104200801011234"), &allowed), Value::Null);
        assert_eq!(
            minimise(record_with_guardian(), &["guardian".into()]),
            json!({"guardian": {"name": "张父"}})
        );
    }

    fn record_with_guardian() -> Value {
        json!({"name": "张三", "guardian": {"name": "张父"}})
    }

    #[test]
    fn messages_in_both_languages() {
        let errors = [
            DirectoryError::Malformed { detail: "x".into() },
            DirectoryError::Unsigned,
            DirectoryError::UnsupportedAlgorithm { alg: "rsa".into() },
            DirectoryError::WrongKey { kid: "k".into() },
            DirectoryError::SignatureInvalid,
            DirectoryError::Expired { expires_at: NOW },
            DirectoryError::NotYetValid { issued_at: NOW },
            DirectoryError::DuplicateMember { code: "CQ".into() },
            DirectoryError::DuplicateKey { kid: "k".into() },
            DirectoryError::InvalidKey { kid: "k".into() },
            DirectoryError::InvalidName {
                what: "member",
                value: "x".into(),
            },
            DirectoryError::UnknownReference {
                what: "purpose",
                value: "x".into(),
            },
            DirectoryError::Rollback {
                current: 2,
                offered: 1,
            },
        ];
        let mut codes = HashSet::new();
        for e in &errors {
            assert!(e.code().starts_with("federation."));
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            assert_ne!(e.message(Lang::Zh), e.message(Lang::En));
            assert_eq!(e.to_string(), e.message(Lang::Zh));
        }
    }
}
