//! Verifiable credentials for chuanyu: teacher certificates, diplomas and transcripts issued
//! by a member node and checked by anyone, online or with the offline verifier.
//!
//! This crate is the whole engine, with no IO, no async and no database: the issuing service
//! signs with [`proof::sign`], the status service publishes [`status::BitstringStatusList`]s,
//! and the offline verifier (and the node's own verification page) runs [`Verifier`].
//!
//! # Formats
//!
//! - **Credentials** are W3C Verifiable Credentials Data Model 2.0 JSON documents (first
//!   `@context` `https://www.w3.org/ns/credentials/v2`, `type` containing
//!   `VerifiableCredential`, an `issuer`, `validFrom`/`validUntil` as RFC 3339).
//! - **Proofs** are W3C Data Integrity proofs, cryptosuite `eddsa-jcs-2022` (W3C Data Integrity
//!   EdDSA Cryptosuites v1.0 §3.3): the document without `proof` and the proof options without
//!   `proofValue` (carrying the document's `@context`) are each canonicalised with JCS
//!   (RFC 8785) and hashed with SHA-256; Ed25519 signs the 64 bytes `SHA-256(proof config) ||
//!   SHA-256(document)`; `proofValue` is multibase base58btc (`z…`). No RDF processing: JCS
//!   signs the JSON as written, so credits and grades are stored as integers or strings (JCS
//!   prints `3.0` as `3`, and integers above 2^53 cannot be signed exactly, so
//!   [`proof::sign`] refuses them).
//! - **Issuer keys** are did:key (`did:key:z6Mk…#z6Mk…`, see [`did`]); the trust decision is a
//!   [`TrustBundle`] built from the federation directory: which member holds which key, for
//!   which period, and under which URL prefix its status lists live.
//! - **Status** is W3C Bitstring Status List v1.0 ([`status`]): a GZIP-compressed bitstring
//!   of at least 131,072 entries, multibase base64url (`u…`), inside a signed
//!   `BitstringStatusListCredential`; one list for revocation, one for suspension.
//! - **Verification codes** ([`code`]) are short human-typable codes such as
//!   `SC-7K3M-9QXD-2HFA` (member code + 60 random bits in Crockford base32), the form Chinese
//!   users know from 学信网 reports.
//!
//! # Stricter than the specifications, on purpose
//!
//! - One proof per credential (no proof sets or chains), purpose `assertionMethod`; a proof's
//!   `@context` must *equal* the document's (the EdDSA spec only asks the document's to start
//!   with the proof's, which serves proof chains; with one proof any difference is a change).
//! - Status: only `BitstringStatusListEntry` with `statusSize` 1 and purpose `revocation` or
//!   `suspension`; any other status entry fails the check rather than being skipped, since a
//!   verifier that cannot read a status cannot call the credential valid. Lists shorter than
//!   131,072 entries are refused, as the specification requires of issuers.
//! - Offline resolution is did:key only; did:web issuers are reported as unresolvable.
//!
//! # Libraries, and why
//!
//! - `ed25519-dalek` 2: the Ed25519 implementation the node keys already use; `verify_strict`
//!   (rejects small-order keys and non-canonical signatures) everywhere.
//! - `sha2` (RustCrypto), the same 0.11 the federation crate uses.
//! - `serde_json_canonicalizer`: RFC 8785 canonical JSON, as the audit chain and the federation
//!   directory use. It serialises any `Serialize`, so the document is canonicalised without
//!   cloning it to drop `proof`, and its output is streamed straight into SHA-256. It is also
//!   slow (about 30 µs for a 1.7 KB credential, more than half an Ed25519 verification), so
//!   documents in the subset where `serde_json`'s compact output already is the canonical
//!   form (integers within ±2^53, no floats, sorted keys without characters ≥ U+E000) are
//!   written by `serde_json` instead (`kernel::jcs`, shared with the audit chain); a
//!   property test holds both to identical bytes. This is what makes offline verification
//!   reach DESIGN.md's 0.7× of raw Ed25519.
//! - `bs58` for multibase base58btc (proof values; the `z6Mk…` key form is
//!   `federation::directory::{encode_public_key, decode_public_key}`, not rewritten here);
//!   `base64` for the status list's base64url.
//! - `flate2` with its pure-Rust `zlib-rs` backend for GZIP: no C to build, and the backend the
//!   workspace already compiles for `.xlsx` reading, so one inflate implementation is linked.
//!   Decompression is capped ([`status::MAX_DECODED_BYTES`]): a status list is input from
//!   anywhere, and a gzip bomb must not exhaust memory.
//! - `time` for RFC 3339; `rand` for verification codes; `thiserror` for the error type.
//!
//! Every error implements [`kernel::Localized`] with a stable code (`credential.proof_invalid`,
//! `credential.revoked`, …) and Chinese and English messages. Nothing in this crate panics on
//! any input: credentials and status lists are files from anywhere.

pub mod code;
pub mod did;
pub mod proof;
pub mod status;
pub mod trust;
pub mod verify;

use kernel::{Lang, Localized};
use time::OffsetDateTime;

pub use code::VerificationCode;
pub use did::{did_key, resolve_did_key, verification_method};
pub use proof::{PreparedProof, VerifiedProof};
pub use status::{BitstringStatusList, StatusPurpose, status_entry, status_list_credential};
pub use trust::{TrustBundle, TrustedIssuer, TrustedMethod};
pub use verify::{
    Check, CheckKind, FetchedList, InMemoryStatus, Report, StatusOutcome, StatusSource, Verifier,
};

/// A message in both interface languages, for errors whose detail varies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub zh: String,
    pub en: String,
}

impl Reason {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Reason {
        Reason {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// An error's messages, to carry as the cause of another.
    pub fn of(error: &(impl Localized + ?Sized)) -> Reason {
        Reason::new(error.message(Lang::Zh), error.message(Lang::En))
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Why a credential, a status list, a trust bundle or a verification code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Not JSON, or not shaped like what was expected.
    Malformed(Reason),
    /// The document carries no `proof`.
    ProofMissing,
    /// A proof of another type, cryptosuite or purpose, or a proof set.
    ProofUnsupported(Reason),
    /// The proof does not verify: the document or the proof was changed after signing, or
    /// it was signed by another key.
    ProofInvalid(Reason),
    /// The verification method is not a did:key URL this crate can resolve offline.
    KeyUnresolvable {
        method: String,
    },
    /// The signing key is not trusted (at the time the proof was created).
    UntrustedIssuer {
        method: String,
    },
    /// The credential's `issuer` is not the DID of the key that signed it.
    IssuerMismatch {
        issuer: String,
        method: String,
    },
    /// `validUntil` (or the proof's `expires`) has passed.
    Expired {
        at: OffsetDateTime,
    },
    /// `validFrom` is still in the future.
    NotYetValid {
        at: OffsetDateTime,
    },
    Revoked {
        list: String,
        index: u64,
    },
    Suspended {
        list: String,
        index: u64,
    },
    /// The status list could not be obtained, has expired, or does not answer for this entry.
    StatusUnavailable {
        list: String,
        reason: Reason,
    },
    /// The status list is not vouched for by the credential's issuer: outside its URL
    /// prefix, signed by another key, or tampered with.
    StatusUntrusted {
        list: String,
        reason: Reason,
    },
    /// A status list index beyond the end of the list.
    IndexOutOfRange {
        index: u64,
        len: u64,
    },
    /// Not a verification code.
    CodeInvalid {
        input: String,
    },
}

impl CredentialError {
    pub fn malformed(zh: impl Into<String>, en: impl Into<String>) -> CredentialError {
        CredentialError::Malformed(Reason::new(zh, en))
    }

    pub fn proof_invalid(zh: impl Into<String>, en: impl Into<String>) -> CredentialError {
        CredentialError::ProofInvalid(Reason::new(zh, en))
    }

    pub fn proof_unsupported(zh: impl Into<String>, en: impl Into<String>) -> CredentialError {
        CredentialError::ProofUnsupported(Reason::new(zh, en))
    }

    /// The status list at `list` cannot be used, and why (a network error, an expired
    /// list, or any error's messages through [`Reason::of`]).
    pub fn status_unavailable(list: &str, reason: Reason) -> CredentialError {
        CredentialError::StatusUnavailable {
            list: list.to_owned(),
            reason,
        }
    }

    /// The status list at `list` is not vouched for by the issuer, and why.
    pub fn status_untrusted(list: &str, reason: Reason) -> CredentialError {
        CredentialError::StatusUntrusted {
            list: list.to_owned(),
            reason,
        }
    }
}

impl Localized for CredentialError {
    fn code(&self) -> &'static str {
        match self {
            CredentialError::Malformed(_) => "credential.malformed",
            CredentialError::ProofMissing => "credential.proof_missing",
            CredentialError::ProofUnsupported(_) => "credential.proof_unsupported",
            CredentialError::ProofInvalid(_) => "credential.proof_invalid",
            CredentialError::KeyUnresolvable { .. } => "credential.key_unresolvable",
            CredentialError::UntrustedIssuer { .. } => "credential.untrusted_issuer",
            CredentialError::IssuerMismatch { .. } => "credential.issuer_mismatch",
            CredentialError::Expired { .. } => "credential.expired",
            CredentialError::NotYetValid { .. } => "credential.not_yet_valid",
            CredentialError::Revoked { .. } => "credential.revoked",
            CredentialError::Suspended { .. } => "credential.suspended",
            CredentialError::StatusUnavailable { .. } => "credential.status_unavailable",
            CredentialError::StatusUntrusted { .. } => "credential.status_untrusted",
            CredentialError::IndexOutOfRange { .. } => "credential.status_index_out_of_range",
            CredentialError::CodeInvalid { .. } => "credential.code_invalid",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            CredentialError::Malformed(r) => {
                if zh {
                    format!("凭证格式错误：{}", r.zh)
                } else {
                    format!("The credential is malformed: {}", r.en)
                }
            }
            CredentialError::ProofMissing => {
                if zh {
                    "凭证没有签名（缺少 proof）".into()
                } else {
                    "The credential is not signed (no proof)".into()
                }
            }
            CredentialError::ProofUnsupported(r) => {
                if zh {
                    format!("不支持的签名：{}", r.zh)
                } else {
                    format!("Unsupported proof: {}", r.en)
                }
            }
            CredentialError::ProofInvalid(r) => {
                if zh {
                    format!("签名无效：{}", r.zh)
                } else {
                    format!("The proof is invalid: {}", r.en)
                }
            }
            CredentialError::KeyUnresolvable { method } => {
                if zh {
                    format!("无法解析验证方法 {method}：离线核验只支持 did:key")
                } else {
                    format!(
                        "Cannot resolve verification method {method}: offline verification \
                         supports did:key only"
                    )
                }
            }
            CredentialError::UntrustedIssuer { method } => {
                if zh {
                    format!("签发密钥不在信任列表中（或签发时不在有效期内）：{method}")
                } else {
                    format!(
                        "The signing key is not trusted (or was not valid when the proof was \
                         created): {method}"
                    )
                }
            }
            CredentialError::IssuerMismatch { issuer, method } => {
                if zh {
                    format!("凭证的签发者 {issuer} 与签名密钥 {method} 不符")
                } else {
                    format!(
                        "The credential's issuer {issuer} does not match the signing key {method}"
                    )
                }
            }
            CredentialError::Expired { at } => {
                if zh {
                    format!("凭证已于 {} 过期", rfc3339(*at))
                } else {
                    format!("The credential expired at {}", rfc3339(*at))
                }
            }
            CredentialError::NotYetValid { at } => {
                if zh {
                    format!("凭证自 {} 起才生效", rfc3339(*at))
                } else {
                    format!("The credential is not valid before {}", rfc3339(*at))
                }
            }
            CredentialError::Revoked { list, index } => {
                if zh {
                    format!("凭证已被撤销（状态列表 {list} 第 {index} 位）")
                } else {
                    format!("The credential has been revoked (status list {list}, entry {index})")
                }
            }
            CredentialError::Suspended { list, index } => {
                if zh {
                    format!("凭证已被暂停（状态列表 {list} 第 {index} 位）")
                } else {
                    format!("The credential is suspended (status list {list}, entry {index})")
                }
            }
            CredentialError::StatusUnavailable { list, reason } => {
                if zh {
                    format!("无法确认凭证状态，状态列表 {list} 不可用：{}", reason.zh)
                } else {
                    format!(
                        "The credential's status is unknown: status list {list} is unavailable: {}",
                        reason.en
                    )
                }
            }
            CredentialError::StatusUntrusted { list, reason } => {
                if zh {
                    format!("状态列表 {list} 不可信：{}", reason.zh)
                } else {
                    format!("Status list {list} is not trusted: {}", reason.en)
                }
            }
            CredentialError::IndexOutOfRange { index, len } => {
                if zh {
                    format!("状态列表序号 {index} 超出列表长度 {len}")
                } else {
                    format!("Status list index {index} is beyond the list's {len} entries")
                }
            }
            CredentialError::CodeInvalid { input } => {
                if zh {
                    format!("“{input}”不是有效的核验码，应形如 SC-7K3M-9QXD-2HFA")
                } else {
                    format!("“{input}” is not a verification code; expected e.g. SC-7K3M-9QXD-2HFA")
                }
            }
        }
    }
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Parses an RFC 3339 date-time (XML Schema `dateTimeStamp`, as VC 2.0 uses).
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn messages_in_both_languages_and_codes_unique() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let r = || Reason::new("原因", "reason");
        let errors = [
            CredentialError::Malformed(r()),
            CredentialError::ProofMissing,
            CredentialError::ProofUnsupported(r()),
            CredentialError::ProofInvalid(r()),
            CredentialError::KeyUnresolvable { method: "m".into() },
            CredentialError::UntrustedIssuer { method: "m".into() },
            CredentialError::IssuerMismatch {
                issuer: "i".into(),
                method: "m".into(),
            },
            CredentialError::Expired { at: t },
            CredentialError::NotYetValid { at: t },
            CredentialError::Revoked {
                list: "l".into(),
                index: 1,
            },
            CredentialError::Suspended {
                list: "l".into(),
                index: 1,
            },
            CredentialError::status_unavailable("l", r()),
            CredentialError::status_untrusted("l", Reason::of(&CredentialError::ProofMissing)),
            CredentialError::IndexOutOfRange { index: 9, len: 8 },
            CredentialError::CodeInvalid { input: "x".into() },
        ];
        let mut codes = HashSet::new();
        for e in &errors {
            assert!(e.code().starts_with("credential."));
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            assert_ne!(e.message(Lang::Zh), e.message(Lang::En));
            assert_eq!(e.to_string(), e.message(Lang::Zh));
        }
        // A wrapped cause is rendered in the same language.
        let wrapped =
            CredentialError::status_untrusted("l", Reason::of(&CredentialError::ProofMissing));
        assert!(wrapped.message(Lang::En).contains("not signed"));
        assert!(wrapped.message(Lang::Zh).contains("没有签名"));
    }
}
