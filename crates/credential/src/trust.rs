//! The trust bundle: which issuer keys an offline verifier trusts, for which period, and
//! where each issuer's status lists live.
//!
//! ```json
//! {
//!   "type": "chuanyu-trust-bundle", "version": 1, "generated": "2025-03-01T00:00:00Z",
//!   "issuers": [{
//!     "member": "SC", "name": "四川省教育厅",
//!     "verificationMethods": [{"id": "did:key:z6Mk…#z6Mk…", "notBefore": "2025-01-01T00:00:00Z"}],
//!     "statusListPrefix": "https://sc.example.cn/credentials/status/"
//!   }]
//! }
//! ```
//!
//! It is built from the verified federation directory ([`TrustBundle::from_directory`]), so
//! it inherits the directory's key rotation windows; `notAfter` is exclusive. Keys given
//! directly ([`TrustBundle::trust_key`]) form issuers of member [`DIRECT_MEMBER`], one per key,
//! with an empty status prefix (any status list URL, as long as the same key signs the list).

use ed25519_dalek::VerifyingKey;
use federation::directory::{Directory, decode_public_key};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::CredentialError;
use crate::did::{resolve_did_key, verification_method};

/// The bundle's `type`.
pub const BUNDLE_TYPE: &str = "chuanyu-trust-bundle";
/// The bundle format version this crate reads and writes.
pub const BUNDLE_VERSION: u32 = 1;
/// The member code of keys trusted directly rather than through the directory.
pub const DIRECT_MEMBER: &str = "direct";
/// Where a node publishes status lists, under its base URL.
pub const STATUS_PATH: &str = "/credentials/status/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustBundle {
    /// Always [`BUNDLE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub generated: OffsetDateTime,
    pub issuers: Vec<TrustedIssuer>,
}

/// A trusted issuer: a federation member and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedIssuer {
    /// `SC`, `CQ`, … or [`DIRECT_MEMBER`].
    pub member: String,
    pub name: String,
    pub verification_methods: Vec<TrustedMethod>,
    /// Status list URLs of this issuer start with this; empty means any.
    pub status_list_prefix: String,
}

/// A trusted did:key verification method and its validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedMethod {
    /// `did:key:z6Mk…#z6Mk…`.
    pub id: String,
    /// Inclusive; absent means always.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<OffsetDateTime>,
    /// Exclusive; absent means no end.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_after: Option<OffsetDateTime>,
}

impl TrustedMethod {
    /// Whether the key could sign at `at`.
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before.is_none_or(|t| t <= at) && self.not_after.is_none_or(|t| at < t)
    }
}

impl TrustedIssuer {
    /// Whether this issuer is a key given directly (which may issue under any `issuer`).
    pub fn is_direct(&self) -> bool {
        self.member == DIRECT_MEMBER
    }

    pub fn method(&self, vm: &str) -> Option<&TrustedMethod> {
        self.verification_methods.iter().find(|m| m.id == vm)
    }

    /// Whether a status list at `url` belongs to this issuer.
    pub fn owns_status_url(&self, url: &str) -> bool {
        url.starts_with(&self.status_list_prefix)
    }
}

impl TrustBundle {
    /// A bundle trusting nobody yet.
    pub fn new(generated: OffsetDateTime) -> TrustBundle {
        TrustBundle {
            kind: BUNDLE_TYPE.to_owned(),
            version: BUNDLE_VERSION,
            generated,
            issuers: Vec::new(),
        }
    }

    /// Every member key of a (verified) directory, with its validity window, and each
    /// member's status list prefix `base_url` + [`STATUS_PATH`]. Keys that do not decode
    /// are left out (a verified directory has none).
    pub fn from_directory(directory: &Directory, generated: OffsetDateTime) -> TrustBundle {
        let issuers = directory
            .members
            .iter()
            .map(|member| TrustedIssuer {
                member: member.code.clone(),
                name: member.name.clone(),
                verification_methods: member
                    .keys
                    .iter()
                    .filter_map(|key| {
                        Some(TrustedMethod {
                            id: verification_method(&decode_public_key(&key.public_key)?),
                            not_before: key.not_before,
                            not_after: key.not_after,
                        })
                    })
                    .collect(),
                status_list_prefix: format!(
                    "{}{STATUS_PATH}",
                    member.base_url.trim_end_matches('/')
                ),
            })
            .collect();
        TrustBundle {
            issuers,
            ..TrustBundle::new(generated)
        }
    }

    /// Parses and checks a bundle: its type and version, and that every method is a
    /// resolvable did:key.
    pub fn from_json(bytes: &[u8]) -> Result<TrustBundle, CredentialError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let bundle: TrustBundle = serde_json::from_slice(bytes).map_err(|e| {
            CredentialError::malformed(
                format!("信任列表无法解析：{e}"),
                format!("the trust bundle cannot be parsed: {e}"),
            )
        })?;
        if bundle.kind != BUNDLE_TYPE || bundle.version != BUNDLE_VERSION {
            return Err(CredentialError::malformed(
                format!("信任列表类型或版本不符（应为 {BUNDLE_TYPE} 第 {BUNDLE_VERSION} 版）"),
                format!("not a {BUNDLE_TYPE} of version {BUNDLE_VERSION}"),
            ));
        }
        for method in bundle.issuers.iter().flat_map(|i| &i.verification_methods) {
            resolve_did_key(&method.id)?;
        }
        Ok(bundle)
    }

    /// The bundle as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings and formatted times cannot fail to serialise.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Trusts one key directly (the offline verifier's `--trust-key`), given as a did:key
    /// verification method, a did:key, or a bare `z6Mk…` key. Returns the verification
    /// method now trusted.
    pub fn trust_key(&mut self, key: &str) -> Result<String, CredentialError> {
        let key = key.trim();
        let multikey = key.strip_prefix("did:key:").map_or(key, |rest| {
            rest.split_once('#').map_or(rest, |(did, _)| did)
        });
        let vk: VerifyingKey = match decode_public_key(multikey) {
            Some(vk) if key.contains('#') => resolve_did_key(key).map(|_| vk)?,
            Some(vk) => vk,
            None => {
                return Err(CredentialError::KeyUnresolvable {
                    method: key.to_owned(),
                });
            }
        };
        let vm = verification_method(&vk);
        if !self
            .issuers
            .iter()
            .any(|i| i.is_direct() && i.method(&vm).is_some())
        {
            self.issuers.push(TrustedIssuer {
                member: DIRECT_MEMBER.to_owned(),
                name: DIRECT_MEMBER.to_owned(),
                verification_methods: vec![TrustedMethod {
                    id: vm.clone(),
                    not_before: None,
                    not_after: None,
                }],
                status_list_prefix: String::new(),
            });
        }
        Ok(vm)
    }

    /// The issuer trusting `vm` at `at` (when the proof was created).
    pub fn issuer_for(&self, vm: &str, at: OffsetDateTime) -> Option<&TrustedIssuer> {
        self.issuers
            .iter()
            .find(|i| i.method(vm).is_some_and(|m| m.valid_at(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use federation::directory::{Member, MemberKey, encode_public_key};
    use kernel::Localized as _;
    use time::macros::datetime;

    fn vk(n: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[n; 32]).verifying_key()
    }

    fn directory() -> Directory {
        Directory {
            version: 1,
            issued_at: datetime!(2025-01-01 0:00 UTC),
            expires_at: datetime!(2026-01-01 0:00 UTC),
            governance_key: encode_public_key(&vk(9)),
            purposes: vec![],
            members: vec![
                Member {
                    code: "SC".into(),
                    name: "四川省教育厅".into(),
                    base_url: "http://127.0.0.1:8081/".into(),
                    keys: vec![
                        MemberKey {
                            kid: "sc-1".into(),
                            public_key: encode_public_key(&vk(1)),
                            not_before: None,
                            not_after: Some(datetime!(2025-06-01 0:00 UTC)),
                        },
                        MemberKey {
                            kid: "sc-2".into(),
                            public_key: encode_public_key(&vk(2)),
                            not_before: Some(datetime!(2025-05-01 0:00 UTC)),
                            not_after: None,
                        },
                    ],
                    services: vec![],
                },
                Member {
                    code: "CQ".into(),
                    name: "重庆市教育委员会".into(),
                    base_url: "http://127.0.0.1:8082".into(),
                    keys: vec![MemberKey {
                        kid: "cq-1".into(),
                        public_key: encode_public_key(&vk(3)),
                        not_before: None,
                        not_after: None,
                    }],
                    services: vec![],
                },
            ],
            rules: vec![],
        }
    }

    #[test]
    fn from_directory_and_windows() {
        let bundle = TrustBundle::from_directory(&directory(), datetime!(2025-03-01 0:00 UTC));
        let sc = &bundle.issuers[0];
        assert_eq!(sc.member, "SC");
        assert_eq!(
            sc.status_list_prefix,
            "http://127.0.0.1:8081/credentials/status/"
        );
        assert_eq!(
            bundle.issuers[1].status_list_prefix,
            "http://127.0.0.1:8082/credentials/status/"
        );
        let vm1 = verification_method(&vk(1));
        let vm2 = verification_method(&vk(2));
        assert_eq!(
            bundle
                .issuer_for(&vm1, datetime!(2025-03-01 0:00 UTC))
                .map(|i| &i.member[..]),
            Some("SC")
        );
        assert!(
            bundle
                .issuer_for(&vm1, datetime!(2025-06-01 0:00 UTC))
                .is_none()
        );
        assert!(
            bundle
                .issuer_for(&vm2, datetime!(2025-04-30 23:59 UTC))
                .is_none()
        );
        assert!(
            bundle
                .issuer_for(&vm2, datetime!(2030-01-01 0:00 UTC))
                .is_some()
        );
        assert!(
            bundle
                .issuer_for(&verification_method(&vk(4)), datetime!(2025-03-01 0:00 UTC))
                .is_none()
        );

        // Serialised form and round trip.
        let json: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
        assert_eq!(json["type"], BUNDLE_TYPE);
        assert_eq!(json["version"], 1);
        assert_eq!(
            json["issuers"][0]["verificationMethods"][0]["notAfter"],
            "2025-06-01T00:00:00Z"
        );
        assert!(
            json["issuers"][0]["verificationMethods"][0]
                .get("notBefore")
                .is_none()
        );
        assert_eq!(
            json["issuers"][0]["statusListPrefix"],
            "http://127.0.0.1:8081/credentials/status/"
        );
        assert_eq!(TrustBundle::from_json(&bundle.to_json()).unwrap(), bundle);
    }

    #[test]
    fn from_json_refuses() {
        let bundle = TrustBundle::from_directory(&directory(), datetime!(2025-03-01 0:00 UTC));
        let mut json: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
        json["type"] = "other".into();
        assert!(TrustBundle::from_json(json.to_string().as_bytes()).is_err());
        json["type"] = BUNDLE_TYPE.into();
        json["issuers"][0]["verificationMethods"][0]["id"] = "did:web:x#k".into();
        assert_eq!(
            TrustBundle::from_json(json.to_string().as_bytes())
                .unwrap_err()
                .code(),
            "credential.key_unresolvable"
        );
        assert_eq!(
            TrustBundle::from_json(b"{").unwrap_err().code(),
            "credential.malformed"
        );
    }

    #[test]
    fn trust_key_forms() {
        let mut bundle = TrustBundle::new(datetime!(2025-03-01 0:00 UTC));
        let vm = verification_method(&vk(5));
        let mk = encode_public_key(&vk(5));
        assert_eq!(bundle.trust_key(&vm).unwrap(), vm);
        assert_eq!(bundle.trust_key(&format!("did:key:{mk}")).unwrap(), vm);
        assert_eq!(bundle.trust_key(&mk).unwrap(), vm);
        assert_eq!(bundle.issuers.len(), 1, "trusting a key twice adds it once");
        let issuer = bundle
            .issuer_for(&vm, datetime!(1990-01-01 0:00 UTC))
            .unwrap();
        assert!(issuer.is_direct());
        assert!(issuer.owns_status_url("http://anywhere/list"));
        for bad in ["", "z6Mk", "did:web:x", &format!("did:key:{mk}#other")] {
            assert!(bundle.trust_key(bad).is_err(), "{bad}");
        }
    }
}
