//! Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C Data Integrity EdDSA
//! Cryptosuites v1.0 §3.3).
//!
//! - proof configuration: the proof options without `proofValue`; when signing, the
//!   document's `@context` is copied into them;
//! - hashData = SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without `proof`));
//! - proofValue = `z` + base58btc(Ed25519 signature over hashData).
//!
//! Verification takes the proof options exactly as received (so fields a newer issuer adds
//! are covered too), requires `type` `DataIntegrityProof`, cryptosuite `eddsa-jcs-2022` and
//! purpose `assertionMethod`, and, when the proof carries an `@context`, requires it to
//! equal the document's. (The specification only requires the document's `@context` to
//! start with the proof's, which matters for proof sets and chains; we accept a single proof
//! only, so for us any difference is a change made after signing.)
//!
//! [`PreparedProof`] splits verification into the part that needs no key (parsing, JCS and
//! hashing) and the signature check, so a verifier can look the key up in its own cache.

use std::io;

use ed25519_dalek::{SIGNATURE_LENGTH, Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::did::resolve_did_key;
use crate::{CredentialError, parse_time};
use kernel::jcs::{self, Without};

/// The only proof type.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The only cryptosuite.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The proof purpose of an issuer's proof on a credential.
pub const PROOF_PURPOSE: &str = "assertionMethod";

/// The largest integer JCS prints exactly: it writes numbers as IEEE doubles.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A 64-byte signature is at most 88 base58 characters; longer input is refused before
/// decoding.
const MAX_PROOF_VALUE_CHARS: usize = 90;

/// What a valid proof tells about its signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    pub verification_method: String,
    pub created: Option<OffsetDateTime>,
    /// The Data Integrity `expires` of the proof, if it has one.
    pub expires: Option<OffsetDateTime>,
}

/// A parsed and hashed proof, ready for the signature check.
#[derive(Debug, Clone)]
pub struct PreparedProof<'a> {
    verification_method: &'a str,
    created: Option<OffsetDateTime>,
    expires: Option<OffsetDateTime>,
    signature: Signature,
    hash_data: [u8; 64],
}

impl<'a> PreparedProof<'a> {
    /// Parses the proof of `secured` and computes its hashData. Fails if there is no proof,
    /// it is not an `eddsa-jcs-2022` assertion proof, or a field is not in its form.
    pub fn new(secured: &'a Value) -> Result<PreparedProof<'a>, CredentialError> {
        let doc = secured.as_object().ok_or_else(|| {
            CredentialError::malformed("凭证不是 JSON 对象", "the credential is not a JSON object")
        })?;
        let proof = match doc.get("proof") {
            None | Some(Value::Null) => return Err(CredentialError::ProofMissing),
            Some(Value::Object(proof)) => proof,
            Some(Value::Array(_)) => {
                return Err(CredentialError::proof_unsupported(
                    "不支持多重签名（proof 为数组）",
                    "proof sets (an array of proofs) are not supported",
                ));
            }
            Some(_) => {
                return Err(CredentialError::proof_invalid(
                    "proof 不是 JSON 对象",
                    "proof is not a JSON object",
                ));
            }
        };
        let text = |name: &str| proof.get(name).and_then(Value::as_str);
        let kind = text("type").unwrap_or_default();
        let suite = text("cryptosuite").unwrap_or_default();
        if kind != PROOF_TYPE || suite != CRYPTOSUITE {
            return Err(CredentialError::proof_unsupported(
                format!("签名类型为 {kind} / {suite}，应为 {PROOF_TYPE} / {CRYPTOSUITE}"),
                format!("proof type {kind} / {suite}; expected {PROOF_TYPE} / {CRYPTOSUITE}"),
            ));
        }
        let purpose = text("proofPurpose").unwrap_or_default();
        if purpose != PROOF_PURPOSE {
            return Err(CredentialError::proof_unsupported(
                format!("签名用途为 {purpose}，应为 {PROOF_PURPOSE}"),
                format!("proof purpose {purpose}; expected {PROOF_PURPOSE}"),
            ));
        }
        let verification_method = text("verificationMethod").ok_or_else(|| {
            CredentialError::proof_invalid(
                "缺少 verificationMethod",
                "verificationMethod is missing",
            )
        })?;
        let created = optional_time(proof, "created")?;
        let expires = optional_time(proof, "expires")?;
        let signature = decode_proof_value(text("proofValue"))?;
        if let Some(context) = proof.get("@context")
            && doc.get("@context") != Some(context)
        {
            return Err(CredentialError::proof_invalid(
                "签名中的 @context 与凭证的 @context 不同",
                "the proof's @context differs from the document's",
            ));
        }
        let hash_data = hash_data(proof, doc)?;
        Ok(PreparedProof {
            verification_method,
            created,
            expires,
            signature,
            hash_data,
        })
    }

    pub fn verification_method(&self) -> &'a str {
        self.verification_method
    }

    pub fn created(&self) -> Option<OffsetDateTime> {
        self.created
    }

    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.expires
    }

    /// The 64 bytes the signature covers.
    pub fn hash_data(&self) -> &[u8; 64] {
        &self.hash_data
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Checks the signature with `key` (strict Ed25519 verification).
    pub fn verify(&self, key: &VerifyingKey) -> Result<VerifiedProof, CredentialError> {
        key.verify_strict(&self.hash_data, &self.signature)
            .map_err(|_| {
                CredentialError::proof_invalid(
                    "签名与内容不符：凭证或签名在签发后被改动，或由其他密钥签名",
                    "the signature does not match: the credential or the proof was changed \
                     after signing, or another key signed it",
                )
            })?;
        Ok(VerifiedProof {
            verification_method: self.verification_method.to_owned(),
            created: self.created,
            expires: self.expires,
        })
    }
}

/// Adds an `eddsa-jcs-2022` proof to `unsecured` and returns the secured document.
///
/// `created` is written in UTC with whole seconds. Refused: a document that is not an
/// object or already has a proof, integers beyond ±2^53 (JCS could not sign them exactly:
/// write such numbers as strings), and a did:key `verification_method` naming another key.
pub fn sign(
    unsecured: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: OffsetDateTime,
) -> Result<Value, CredentialError> {
    let doc = unsecured.as_object().ok_or_else(|| {
        CredentialError::malformed("凭证不是 JSON 对象", "the credential is not a JSON object")
    })?;
    if doc.contains_key("proof") {
        return Err(CredentialError::proof_unsupported(
            "凭证已有签名，不支持多重签名",
            "the document already has a proof; proof sets and chains are not supported",
        ));
    }
    check_exact_numbers(unsecured)?;
    if let Ok(named) = resolve_did_key(verification_method)
        && named != key.verifying_key()
    {
        return Err(CredentialError::proof_invalid(
            "验证方法指向的不是签名所用的密钥",
            "the verification method names a key other than the signing key",
        ));
    }
    let created = created
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .map(crate::rfc3339)
        .filter(|s| s.ends_with('Z') && s.len() == 20)
        .ok_or_else(|| {
            CredentialError::malformed(
                "签名时间超出范围",
                "the proof's created time is out of range",
            )
        })?;

    let mut proof = Map::new();
    proof.insert("type".into(), PROOF_TYPE.into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), created.into());
    proof.insert("verificationMethod".into(), verification_method.into());
    proof.insert("proofPurpose".into(), PROOF_PURPOSE.into());
    if let Some(context) = doc.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    let signature = key.sign(&hash_data(&proof, doc)?);
    proof.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature.to_bytes()).into_string()).into(),
    );
    let mut secured = doc.clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// Verifies the proof of `secured` with the key its did:key verification method names.
/// This says nothing about whether that key is trusted: see [`crate::Verifier`].
pub fn verify(secured: &Value) -> Result<VerifiedProof, CredentialError> {
    let prepared = PreparedProof::new(secured)?;
    let key = resolve_did_key(prepared.verification_method)?;
    prepared.verify(&key)
}

/// Verifies the proof of `secured` with `key`, whatever the verification method says.
pub fn verify_with(secured: &Value, key: &VerifyingKey) -> Result<VerifiedProof, CredentialError> {
    PreparedProof::new(secured)?.verify(key)
}

/// SHA-256(JCS(proof options without proofValue)) || SHA-256(JCS(document without proof)).
fn hash_data(
    proof: &Map<String, Value>,
    doc: &Map<String, Value>,
) -> Result<[u8; 64], CredentialError> {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&jcs_sha256(&Without {
        map: proof,
        skip: "proofValue",
    })?);
    out[32..].copy_from_slice(&jcs_sha256(&Without {
        map: doc,
        skip: "proof",
    })?);
    Ok(out)
}

/// Feeds the canonical bytes straight into the hash instead of collecting them first.
struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn jcs_sha256(value: &Without<'_>) -> Result<[u8; 32], CredentialError> {
    let mut writer = HashWriter(Sha256::new());
    jcs::to_writer(value, &mut writer).map_err(|e| {
        CredentialError::malformed(
            format!("无法规范化（RFC 8785）：{e}"),
            format!("cannot be canonicalised (RFC 8785): {e}"),
        )
    })?;
    Ok(writer.0.finalize().into())
}

fn optional_time(
    proof: &Map<String, Value>,
    name: &str,
) -> Result<Option<OffsetDateTime>, CredentialError> {
    match proof.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if parse_time(s).is_some() => Ok(parse_time(s)),
        Some(_) => Err(CredentialError::proof_invalid(
            format!("签名的 {name} 不是 RFC 3339 时间"),
            format!("the proof's {name} is not an RFC 3339 date-time"),
        )),
    }
}

fn decode_proof_value(value: Option<&str>) -> Result<Signature, CredentialError> {
    let invalid = || {
        CredentialError::proof_invalid(
            "proofValue 不是 base58btc 编码的 64 字节签名",
            "proofValue is not a base58btc-encoded 64-byte signature",
        )
    };
    let encoded = value
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(invalid)?;
    if encoded.len() > MAX_PROOF_VALUE_CHARS {
        return Err(invalid());
    }
    let mut bytes = [0u8; SIGNATURE_LENGTH];
    match bs58::decode(encoded).onto(&mut bytes[..]) {
        Ok(SIGNATURE_LENGTH) => Ok(Signature::from_bytes(&bytes)),
        _ => Err(invalid()),
    }
}

/// Refuses integers JCS cannot print exactly, so what is signed is what was meant.
fn check_exact_numbers(value: &Value) -> Result<(), CredentialError> {
    match value {
        Value::Number(n) => {
            let exact = n
                .as_u64()
                .map(|u| u <= MAX_SAFE_INTEGER)
                .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER))
                .unwrap_or(true);
            if exact {
                Ok(())
            } else {
                Err(CredentialError::malformed(
                    format!("整数 {n} 超出 JSON 规范化可精确表示的范围，请写成字符串"),
                    format!(
                        "the integer {n} cannot be canonicalised exactly; write it as a string"
                    ),
                ))
            }
        }
        Value::Array(items) => items.iter().try_for_each(check_exact_numbers),
        Value::Object(map) => map.values().try_for_each(check_exact_numbers),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did::verification_method;
    use kernel::Localized as _;
    use serde_json::json;
    use time::macros::datetime;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn doc() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:1",
            "credentialSubject": {"name": "张三", "credits": 3, "𠀀": "rare"}
        })
    }

    #[test]
    fn sign_then_verify() {
        let k = key(1);
        let vm = verification_method(&k.verifying_key());
        let created = datetime!(2025-03-01 8:30:15.123 +8);
        let secured = sign(&doc(), &k, &vm, created).unwrap();
        assert_eq!(secured["proof"]["created"], "2025-03-01T00:30:15Z");
        assert_eq!(secured["proof"]["@context"], doc()["@context"]);
        let verified = verify(&secured).unwrap();
        assert_eq!(verified.verification_method, vm);
        assert_eq!(verified.created, Some(datetime!(2025-03-01 0:30:15 UTC)));
        assert!(verify_with(&secured, &k.verifying_key()).is_ok());
        assert_eq!(
            verify_with(&secured, &key(2).verifying_key())
                .unwrap_err()
                .code(),
            "credential.proof_invalid"
        );
    }

    #[test]
    fn sign_refuses() {
        let k = key(1);
        let vm = verification_method(&k.verifying_key());
        let now = datetime!(2025-03-01 0:00 UTC);
        let mut big = doc();
        big["credentialSubject"]["certificateNo"] = json!(20245100120000123u64);
        assert_eq!(
            sign(&big, &k, &vm, now).unwrap_err().code(),
            "credential.malformed"
        );
        big["credentialSubject"]["certificateNo"] = json!(-(1i64 << 60));
        assert!(sign(&big, &k, &vm, now).is_err());
        assert!(sign(&json!([1]), &k, &vm, now).is_err());
        let signed = sign(&doc(), &k, &vm, now).unwrap();
        assert_eq!(
            sign(&signed, &k, &vm, now).unwrap_err().code(),
            "credential.proof_unsupported"
        );
        let other = verification_method(&key(2).verifying_key());
        assert_eq!(
            sign(&doc(), &k, &other, now).unwrap_err().code(),
            "credential.proof_invalid"
        );
    }

    #[test]
    fn no_context_in_document() {
        // Without an @context the proof carries none, and still verifies.
        let k = key(3);
        let vm = verification_method(&k.verifying_key());
        let secured = sign(&json!({"a": 1}), &k, &vm, datetime!(2025-01-01 0:00 UTC)).unwrap();
        assert!(secured["proof"].get("@context").is_none());
        assert!(verify(&secured).is_ok());
    }

    #[test]
    fn proof_shape_errors() {
        let k = key(1);
        let vm = verification_method(&k.verifying_key());
        let signed = sign(&doc(), &k, &vm, datetime!(2025-01-01 0:00 UTC)).unwrap();
        let code = |f: &dyn Fn(&mut Value)| {
            let mut d = signed.clone();
            f(&mut d);
            verify(&d).unwrap_err().code()
        };
        assert_eq!(
            code(&|d| d["proof"] = Value::Null),
            "credential.proof_missing"
        );
        assert_eq!(
            code(&|d| {
                d.as_object_mut().unwrap().remove("proof");
            }),
            "credential.proof_missing"
        );
        assert_eq!(
            code(&|d| d["proof"] = json!([d["proof"].clone()])),
            "credential.proof_unsupported"
        );
        assert_eq!(
            code(&|d| d["proof"] = json!("x")),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022")),
            "credential.proof_unsupported"
        );
        assert_eq!(
            code(&|d| d["proof"]["proofPurpose"] = json!("authentication")),
            "credential.proof_unsupported"
        );
        assert_eq!(
            code(&|d| d["proof"]["created"] = json!("yesterday")),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["proof"]["proofValue"] = json!("z")),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["proof"]["proofValue"] = json!("z".repeat(400))),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["proof"]["proofValue"] = json!(5)),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["@context"] = json!(["https://www.w3.org/ns/credentials/v2", "x"])),
            "credential.proof_invalid"
        );
        assert_eq!(
            code(&|d| d["proof"]["verificationMethod"] = json!("did:web:x#k")),
            "credential.key_unresolvable"
        );
        // A field added to the proof is covered by the signature.
        assert_eq!(
            code(&|d| d["proof"]["nonce"] = json!("1")),
            "credential.proof_invalid"
        );
        assert_eq!(code(&|d| *d = json!(null)), "credential.malformed");
    }
}
