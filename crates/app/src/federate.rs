//! A ready-made federation of running nodes, for the demo and the tests: what the joint
//! office does with `chuanyu federation init | add-member | allow | sign`, in one call.

use std::path::{Path, PathBuf};

use anyhow::Context;
use federation::directory::{Member, MemberKey, Purpose, Rule, encode_public_key};
use federation::{BlindIndexKey, Directory};
use time::{Duration, OffsetDateTime};

pub use crate::federation_cli::publish;
use crate::federation_cli::{STANDARD_PURPOSES, key_id};

/// A node to put in the directory.
pub struct Peer {
    pub code: String,
    pub name: String,
    pub base_url: String,
    /// The node's signing key (created if missing).
    pub signing_key: PathBuf,
}

/// What each node's config must name.
#[derive(Debug, Clone)]
pub struct Files {
    pub directory: PathBuf,
    pub governance_key: String,
    pub index_key: PathBuf,
    /// Kept so tests can issue new versions.
    pub governance_key_file: PathBuf,
}

/// The fields a peer receives of a student's record for 转学核验: enough to identify the
/// student and see their status and history, never the ID number or addresses.
pub const TRANSFER_FIELDS: [&str; 12] = [
    "student_no",
    "name",
    "sex",
    "birth_date",
    "school_code",
    "school_name",
    "stage",
    "grade",
    "class_name",
    "enrol_date",
    "status",
    "changes",
];

/// Writes into `dir` a governance key, a shared blind-index key and a directory signed for
/// `days` in which every node may look up students at every other for 转学核验, send it
/// the steps of transfers and notices, verify teacher certificates and credentials, and
/// search and read its jobs.
/// Existing keys are kept, so a second run publishes a new version with the same keys.
pub fn write(dir: &Path, peers: &[Peer], days: i64) -> anyhow::Result<Files> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let governance_key_file = dir.join("governance.key");
    let governance = load_or_generate(&governance_key_file)?;
    let index_key = dir.join("blind-index.key");
    if !index_key.exists() {
        std::fs::write(&index_key, BlindIndexKey::generate().to_base64url())
            .with_context(|| format!("cannot write {}", index_key.display()))?;
    }
    let mut members = Vec::new();
    for p in peers {
        let key = load_or_generate(&p.signing_key)?.verifying_key();
        members.push(Member {
            code: p.code.clone(),
            name: p.name.clone(),
            base_url: p.base_url.clone(),
            keys: vec![MemberKey {
                kid: key_id(&p.code, &key),
                public_key: encode_public_key(&key),
                not_before: None,
                not_after: None,
            }],
            services: vec![
                exchange::STUDENT_LOOKUP.into(),
                exchange::outbox::NOTICE_DELIVER.into(),
                exchange::outbox::TRANSFER_MESSAGE.into(),
                certificates::service::CERTIFICATE_LOOKUP.into(),
                certificates::service::CREDENTIAL_BY_CODE.into(),
                employment::service::JOBS_SEARCH.into(),
                employment::service::JOBS_GET.into(),
                employment::applications::APPLICATION_SUBMIT.into(),
                employment::applications::APPLICATION_STATUS.into(),
                employment::applications::APPLICATION_RESPOND.into(),
                employment::stats::EMPLOYMENT_STATS.into(),
            ],
        });
    }
    let rules = peers
        .iter()
        .flat_map(|a| peers.iter().map(move |b| (a, b)))
        .filter(|(a, b)| a.code != b.code)
        .flat_map(|(a, b)| {
            let rule = |service: &str, purpose: &str, fields: &[&str]| Rule {
                caller: a.code.clone(),
                callee: b.code.clone(),
                service: service.into(),
                purpose: purpose.into(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
            };
            [
                rule(
                    exchange::STUDENT_LOOKUP,
                    "transfer-verification",
                    &TRANSFER_FIELDS,
                ),
                // A receipt carries no personal data: nothing to minimise.
                rule(exchange::outbox::NOTICE_DELIVER, "notice", &[]),
                rule(
                    exchange::outbox::TRANSFER_MESSAGE,
                    "transfer-verification",
                    &[],
                ),
                // Answers carry a verdict or a credential the holder chose to share.
                rule(
                    certificates::service::CERTIFICATE_LOOKUP,
                    certificates::service::PURPOSE,
                    &[],
                ),
                rule(
                    certificates::service::CREDENTIAL_BY_CODE,
                    certificates::service::PURPOSE,
                    &[],
                ),
                // Jobs are public: nothing personal to minimise.
                rule(
                    employment::service::JOBS_SEARCH,
                    employment::service::PURPOSE,
                    &[],
                ),
                rule(
                    employment::service::JOBS_GET,
                    employment::service::PURPOSE,
                    &[],
                ),
                // An application carries what the graduate chose to send; the answers carry
                // its progress only.
                rule(
                    employment::applications::APPLICATION_SUBMIT,
                    employment::service::PURPOSE,
                    &[],
                ),
                rule(
                    employment::applications::APPLICATION_STATUS,
                    employment::service::PURPOSE,
                    &[],
                ),
                rule(
                    employment::applications::APPLICATION_RESPOND,
                    employment::service::PURPOSE,
                    &[],
                ),
                // Counts only.
                rule(
                    employment::stats::EMPLOYMENT_STATS,
                    employment::service::PURPOSE,
                    &[],
                ),
            ]
        })
        .collect();
    let directory_path = dir.join("directory.signed.json");
    let previous = std::fs::read(&directory_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/directory/version").and_then(|v| v.as_u64()))
        .unwrap_or(0);
    let now = OffsetDateTime::now_utc();
    let directory = Directory {
        version: previous + 1,
        issued_at: now,
        expires_at: now + Duration::days(days),
        governance_key: encode_public_key(&governance.verifying_key()),
        purposes: STANDARD_PURPOSES
            .iter()
            .map(|(id, zh, en)| Purpose {
                id: id.to_string(),
                name: zh.to_string(),
                name_en: Some(en.to_string()),
            })
            .collect(),
        members,
        rules,
    };
    let signed = directory.sign(&governance)?;
    publish(&directory_path, &signed.to_json())?;
    Ok(Files {
        directory: directory_path,
        governance_key: encode_public_key(&governance.verifying_key()),
        index_key,
        governance_key_file,
    })
}

fn load_or_generate(path: &Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    Ok(if path.exists() {
        platform::keys::load(path)?
    } else {
        platform::keys::generate(path)?
    })
}
