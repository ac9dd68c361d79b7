//! The full check of one credential, as the offline verifier and the verification page run
//! it, in this order:
//!
//! 1. **format**: a VC 2.0 document (first `@context` `https://www.w3.org/ns/credentials/v2`,
//!    `type` containing `VerifiableCredential`, an `issuer`, a `credentialSubject`, dates in
//!    RFC 3339);
//! 2. **proof**: an `eddsa-jcs-2022` proof that verifies with the did:key it names;
//! 3. **issuer**: that key is in the [`TrustBundle`] and was valid when the proof was
//!    created, and the credential's `issuer` is that key's DID (any `issuer` for a key
//!    trusted directly);
//! 4. **dates**: `validFrom` ≤ now < `validUntil` (and before the proof's `expires`);
//! 5. **status**: every `credentialStatus` entry is a `BitstringStatusListEntry` whose list
//!    lives under the issuer's status prefix, was signed by the same issuer, is current, and
//!    has the entry's bit clear.
//!
//! Steps 1–3 are gates: after a failure there the later checks are not run. Unknown status
//! types fail closed: a verifier that cannot read a status cannot say the credential is valid.

use std::collections::HashMap;
use std::sync::Arc;

use kernel::{Lang, Localized};
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::did::{controller, resolve_did_key, resolve_did_key_cached};
use crate::proof::PreparedProof;
use crate::status::{BitstringStatusList, StatusPurpose};
use crate::trust::{TrustBundle, TrustedIssuer};
use crate::{CredentialError, Reason, parse_time};

/// The base context every VC 2.0 credential starts with.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// Where the verifier gets status lists. Implementations fetch (or read from disk) the
/// list credential at `url`, check it with [`FetchedList::from_credential`], and should
/// cache the result: the verifier asks once per entry of every credential.
///
/// The verifier checks a list it is given again (that its `id` is `url`, that the
/// credential's issuer signed it, its purpose and `validUntil`), so a source cannot make it
/// accept the wrong list.
pub trait StatusSource {
    /// The list at `url`, or why it cannot be had (a message for the person verifying,
    /// reported as `credential.status_unavailable`).
    fn status_list(&self, url: &str) -> Result<Arc<FetchedList>, String>;
}

/// A checked, decoded status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedList {
    pub list: BitstringStatusList,
    pub purpose: StatusPurpose,
    pub valid_until: Option<OffsetDateTime>,
    /// The list credential's `id`; the verifier requires it to be the URL the credential
    /// names, so one list cannot be passed off as another.
    pub id: String,
    /// The verification method that signed the list; the verifier requires it to belong to
    /// the credential's issuer.
    pub verification_method: String,
}

impl FetchedList {
    /// Checks a `BitstringStatusListCredential` and decodes its list: a valid
    /// `eddsa-jcs-2022` proof by a key the bundle trusts (at the proof's `created`), an `id`
    /// under that issuer's status prefix, an `issuer` matching the key (unless trusted
    /// directly), and `validFrom` ≤ `now` < `validUntil`.
    pub fn from_credential(
        credential: &Value,
        bundle: &TrustBundle,
        now: OffsetDateTime,
    ) -> Result<FetchedList, CredentialError> {
        let id = credential
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                CredentialError::malformed(
                    "状态列表凭证缺少 id",
                    "the status list credential has no id",
                )
            })?;
        let untrusted = |e: &dyn Localized| CredentialError::status_untrusted(id, Reason::of(e));
        let prepared = PreparedProof::new(credential).map_err(|e| untrusted(&e))?;
        let vm = prepared.verification_method();
        let issuer = bundle
            .issuer_for(vm, prepared.created().unwrap_or(now))
            .ok_or_else(|| {
                untrusted(&CredentialError::UntrustedIssuer {
                    method: vm.to_owned(),
                })
            })?;
        if !issuer.owns_status_url(id) {
            return Err(CredentialError::status_untrusted(
                id,
                outside_prefix(issuer),
            ));
        }
        let key = resolve_did_key(vm).map_err(|e| untrusted(&e))?;
        prepared.verify(&key).map_err(|e| untrusted(&e))?;
        let fields = credential_fields(credential).map_err(|e| untrusted(&e))?;
        check_issuer(issuer, fields.issuer, vm).map_err(|e| untrusted(&e))?;

        if !has_type(credential.get("type"), "BitstringStatusListCredential") {
            return Err(CredentialError::malformed(
                "不是 BitstringStatusListCredential",
                "not a BitstringStatusListCredential",
            ));
        }
        let subject = credential
            .get("credentialSubject")
            .and_then(Value::as_object)
            .filter(|s| s.get("type").and_then(Value::as_str) == Some("BitstringStatusList"))
            .ok_or_else(|| {
                CredentialError::malformed(
                    "状态列表凭证的 credentialSubject 不是 BitstringStatusList",
                    "the credentialSubject is not a BitstringStatusList",
                )
            })?;
        let purpose = subject
            .get("statusPurpose")
            .and_then(Value::as_str)
            .and_then(StatusPurpose::parse)
            .ok_or_else(|| {
                CredentialError::malformed(
                    "状态列表的 statusPurpose 应为 revocation 或 suspension",
                    "the list's statusPurpose must be revocation or suspension",
                )
            })?;
        let list = BitstringStatusList::decode(
            subject
                .get("encodedList")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )?;
        let unavailable =
            |e: CredentialError| CredentialError::status_unavailable(id, Reason::of(&e));
        check_dates(&fields, prepared.expires(), now).map_err(unavailable)?;
        Ok(FetchedList {
            list,
            purpose,
            valid_until: fields.valid_until,
            id: id.to_owned(),
            verification_method: vm.to_owned(),
        })
    }
}

/// Status lists held in memory, e.g. fetched once and cached by the offline verifier.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStatus {
    lists: HashMap<String, Arc<FetchedList>>,
}

impl InMemoryStatus {
    pub fn new() -> InMemoryStatus {
        InMemoryStatus::default()
    }

    /// Holds `list` under its own `id`.
    pub fn insert(&mut self, list: FetchedList) {
        self.lists.insert(list.id.clone(), Arc::new(list));
    }

    pub fn remove(&mut self, url: &str) {
        self.lists.remove(url);
    }
}

impl StatusSource for InMemoryStatus {
    fn status_list(&self, url: &str) -> Result<Arc<FetchedList>, String> {
        self.lists
            .get(url)
            .cloned()
            .ok_or_else(|| "未获取该状态列表 (the list was not fetched)".to_owned())
    }
}

/// Which check a [`Check`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Format,
    Proof,
    Issuer,
    Dates,
    Status,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Format => "format",
            CheckKind::Proof => "proof",
            CheckKind::Issuer => "issuer",
            CheckKind::Dates => "dates",
            CheckKind::Status => "status",
        }
    }
}

/// What the status lists say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusOutcome {
    /// Every status list says the credential is in good standing.
    Valid,
    Revoked,
    Suspended,
    /// Not checked (an earlier check failed) or a list could not be used.
    Unknown,
    /// The credential has no `credentialStatus`.
    None,
}

impl StatusOutcome {
    /// `valid`, `revoked`, `suspended`, `unknown` or `none`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusOutcome::Valid => "valid",
            StatusOutcome::Revoked => "revoked",
            StatusOutcome::Suspended => "suspended",
            StatusOutcome::Unknown => "unknown",
            StatusOutcome::None => "none",
        }
    }
}

/// One check's result; `code` and `message` (Chinese) are set when it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: CheckKind,
    pub ok: bool,
    pub code: Option<&'static str>,
    pub message: Option<String>,
    /// The failure itself, for messages in another language.
    #[serde(skip)]
    pub error: Option<CredentialError>,
}

/// The verdict on one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Set by the caller (the offline verifier's file name).
    pub file: Option<String>,
    /// The credential's `id`.
    pub id: Option<String>,
    /// True only when every check ran and passed.
    pub ok: bool,
    /// The trusted issuer's member code.
    pub issuer: Option<String>,
    pub status: StatusOutcome,
    pub checks: Vec<Check>,
}

impl Report {
    fn new(id: Option<String>) -> Report {
        Report {
            file: None,
            id,
            ok: false,
            issuer: None,
            status: StatusOutcome::Unknown,
            checks: Vec::with_capacity(5),
        }
    }

    pub fn with_file(mut self, file: impl Into<String>) -> Report {
        self.file = Some(file.into());
        self
    }

    fn pass(&mut self, check: CheckKind) {
        self.checks.push(Check {
            check,
            ok: true,
            code: None,
            message: None,
            error: None,
        });
    }

    fn fail(&mut self, check: CheckKind, error: CredentialError) {
        self.checks.push(Check {
            check,
            ok: false,
            code: Some(error.code()),
            message: Some(error.message(Lang::Zh)),
            error: Some(error),
        });
    }

    fn failed(mut self, check: CheckKind, error: CredentialError) -> Report {
        self.fail(check, error);
        self
    }

    /// The code and Chinese message of the first failed check.
    pub fn first_error(&self) -> Option<(&'static str, String)> {
        self.first_failure()
            .map(|e| (e.code(), e.message(Lang::Zh)))
    }

    /// The first failed check's error.
    pub fn first_failure(&self) -> Option<&CredentialError> {
        self.checks.iter().find_map(|c| c.error.as_ref())
    }
}

/// Verifies credentials against a trust bundle at a fixed time. Cheap to build: issuer keys
/// are decoded once per thread and remembered.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub bundle: TrustBundle,
    pub now: OffsetDateTime,
}

impl Verifier {
    pub fn new(bundle: TrustBundle, now: OffsetDateTime) -> Verifier {
        Verifier { bundle, now }
    }

    /// Parses and verifies a credential file; a file that is not JSON fails the format
    /// check. A UTF-8 byte order mark is ignored.
    pub fn verify_bytes(&self, bytes: &[u8], status: &dyn StatusSource) -> Report {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match serde_json::from_slice::<Value>(bytes) {
            Ok(doc) => self.verify(&doc, status),
            Err(e) => Report::new(None).failed(
                CheckKind::Format,
                CredentialError::malformed(
                    format!("不是有效的 JSON：{e}"),
                    format!("not valid JSON: {e}"),
                ),
            ),
        }
    }

    /// Runs every check on one credential.
    pub fn verify(&self, doc: &Value, status: &dyn StatusSource) -> Report {
        let mut report = Report::new(doc.get("id").and_then(Value::as_str).map(str::to_owned));

        let fields = match credential_fields(doc) {
            Ok(fields) => fields,
            Err(e) => return report.failed(CheckKind::Format, e),
        };
        report.pass(CheckKind::Format);

        let prepared = match PreparedProof::new(doc) {
            Ok(prepared) => prepared,
            Err(e) => return report.failed(CheckKind::Proof, e),
        };
        let vm = prepared.verification_method();
        if let Err(e) = resolve_did_key_cached(vm).and_then(|key| prepared.verify(&key)) {
            return report.failed(CheckKind::Proof, e);
        }
        report.pass(CheckKind::Proof);

        let Some(issuer) = self
            .bundle
            .issuer_for(vm, prepared.created().unwrap_or(self.now))
        else {
            let error = CredentialError::UntrustedIssuer {
                method: vm.to_owned(),
            };
            return report.failed(CheckKind::Issuer, error);
        };
        if let Err(e) = check_issuer(issuer, fields.issuer, vm) {
            return report.failed(CheckKind::Issuer, e);
        }
        report.issuer = Some(issuer.member.clone());
        report.pass(CheckKind::Issuer);

        match check_dates(&fields, prepared.expires(), self.now) {
            Ok(()) => report.pass(CheckKind::Dates),
            Err(e) => report.fail(CheckKind::Dates, e),
        }

        let (outcome, result) = self.check_status(doc.get("credentialStatus"), issuer, status);
        report.status = outcome;
        match result {
            Ok(()) => report.pass(CheckKind::Status),
            Err(e) => report.fail(CheckKind::Status, e),
        }
        report.ok = report.checks.iter().all(|c| c.ok);
        report
    }

    fn check_status(
        &self,
        entries: Option<&Value>,
        issuer: &TrustedIssuer,
        source: &dyn StatusSource,
    ) -> (StatusOutcome, Result<(), CredentialError>) {
        let entries = match entries {
            None | Some(Value::Null) => return (StatusOutcome::None, Ok(())),
            Some(Value::Array(entries)) if entries.is_empty() => {
                return (StatusOutcome::None, Ok(()));
            }
            Some(Value::Array(entries)) => entries.as_slice(),
            Some(entry) => std::slice::from_ref(entry),
        };
        let mut revoked = None;
        let mut suspended = None;
        let mut failure = None;
        for entry in entries {
            match self.check_entry(entry, issuer, source) {
                Ok(None) => {}
                Ok(Some((StatusPurpose::Revocation, list, index))) => {
                    revoked.get_or_insert(CredentialError::Revoked { list, index });
                }
                Ok(Some((StatusPurpose::Suspension, list, index))) => {
                    suspended.get_or_insert(CredentialError::Suspended { list, index });
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        // A set revocation bit is final whatever the other lists say.
        if let Some(e) = revoked {
            (StatusOutcome::Revoked, Err(e))
        } else if let Some(e) = suspended {
            (StatusOutcome::Suspended, Err(e))
        } else if let Some(e) = failure {
            (StatusOutcome::Unknown, Err(e))
        } else {
            (StatusOutcome::Valid, Ok(()))
        }
    }

    /// `Some` (purpose, list, index) when the entry's bit is set.
    fn check_entry(
        &self,
        entry: &Value,
        issuer: &TrustedIssuer,
        source: &dyn StatusSource,
    ) -> Result<Option<(StatusPurpose, String, u64)>, CredentialError> {
        let entry = entry.as_object().ok_or_else(|| {
            CredentialError::malformed(
                "credentialStatus 不是 JSON 对象",
                "credentialStatus is not an object",
            )
        })?;
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        let url = text("statusListCredential").unwrap_or_default();
        let unsupported =
            |zh: String, en: String| CredentialError::status_unavailable(url, Reason::new(zh, en));
        let kind = text("type").unwrap_or_default();
        if kind != "BitstringStatusListEntry" {
            return Err(unsupported(
                format!("不支持的状态类型 {kind}"),
                format!("unsupported status type {kind}"),
            ));
        }
        let purpose_text = text("statusPurpose").unwrap_or_default();
        let purpose = StatusPurpose::parse(purpose_text).ok_or_else(|| {
            unsupported(
                format!("不支持的状态用途 {purpose_text}"),
                format!("unsupported status purpose {purpose_text}"),
            )
        })?;
        if entry
            .get("statusSize")
            .is_some_and(|s| s.as_u64() != Some(1) && s.as_str() != Some("1"))
        {
            return Err(unsupported(
                "只支持 statusSize 为 1 的状态列表".into(),
                "only status lists with statusSize 1 are supported".into(),
            ));
        }
        let index = match entry.get("statusListIndex") {
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse::<u64>().ok()
            }
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| {
            CredentialError::malformed(
                "statusListIndex 应为非负整数",
                "statusListIndex must be a non-negative integer",
            )
        })?;
        if url.is_empty() {
            return Err(CredentialError::malformed(
                "credentialStatus 缺少 statusListCredential",
                "credentialStatus has no statusListCredential",
            ));
        }
        if !issuer.owns_status_url(url) {
            return Err(CredentialError::status_untrusted(
                url,
                outside_prefix(issuer),
            ));
        }
        let fetched = source
            .status_list(url)
            .map_err(|e| CredentialError::status_unavailable(url, Reason::new(e.clone(), e)))?;
        if fetched.id != url {
            return Err(CredentialError::status_untrusted(
                url,
                Reason::new(
                    format!("取得的是另一份状态列表 {}", fetched.id),
                    format!("the list obtained is another one, {}", fetched.id),
                ),
            ));
        }
        if issuer.method(&fetched.verification_method).is_none() {
            return Err(CredentialError::status_untrusted(
                url,
                Reason::new(
                    format!("状态列表由其他密钥签名：{}", fetched.verification_method),
                    format!(
                        "the list is signed by another key: {}",
                        fetched.verification_method
                    ),
                ),
            ));
        }
        if fetched.purpose != purpose {
            return Err(unsupported(
                format!("该列表记录的是 {}，而非 {}", fetched.purpose, purpose),
                format!("the list records {}, not {}", fetched.purpose, purpose),
            ));
        }
        if let Some(until) = fetched.valid_until
            && self.now >= until
        {
            return Err(CredentialError::status_unavailable(
                url,
                Reason::of(&CredentialError::Expired { at: until }),
            ));
        }
        match usize::try_from(index)
            .ok()
            .and_then(|i| fetched.list.get(i))
        {
            None => Err(CredentialError::IndexOutOfRange {
                index,
                len: fetched.list.len() as u64,
            }),
            Some(false) => Ok(None),
            Some(true) => Ok(Some((purpose, url.to_owned(), index))),
        }
    }
}

/// What the format check reads from a credential.
struct CredentialFields<'a> {
    issuer: &'a str,
    valid_from: Option<OffsetDateTime>,
    valid_until: Option<OffsetDateTime>,
}

fn credential_fields(doc: &Value) -> Result<CredentialFields<'_>, CredentialError> {
    let malformed = |zh: &str, en: &str| Err(CredentialError::malformed(zh, en));
    let Some(map) = doc.as_object() else {
        return malformed("凭证不是 JSON 对象", "the credential is not a JSON object");
    };
    let first_context = match map.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if first_context != Some(VC_V2_CONTEXT) {
        return malformed(
            "第一个 @context 应为 https://www.w3.org/ns/credentials/v2（W3C 可验证凭证 2.0）",
            "the first @context must be https://www.w3.org/ns/credentials/v2 (VC Data Model 2.0)",
        );
    }
    if !has_type(map.get("type"), "VerifiableCredential") {
        return malformed(
            "type 中缺少 VerifiableCredential",
            "type does not include VerifiableCredential",
        );
    }
    let issuer = match map.get("issuer") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).unwrap_or_default(),
        _ => "",
    };
    if issuer.is_empty() {
        return malformed("缺少签发者 issuer", "issuer is missing");
    }
    if !matches!(
        map.get("credentialSubject"),
        Some(Value::Object(_) | Value::Array(_))
    ) {
        return malformed("缺少 credentialSubject", "credentialSubject is missing");
    }
    Ok(CredentialFields {
        issuer,
        valid_from: date(map, "validFrom")?,
        valid_until: date(map, "validUntil")?,
    })
}

fn date(map: &Map<String, Value>, name: &str) -> Result<Option<OffsetDateTime>, CredentialError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if parse_time(s).is_some() => Ok(parse_time(s)),
        Some(_) => Err(CredentialError::malformed(
            format!("{name} 不是带时区的 RFC 3339 时间"),
            format!("{name} is not an RFC 3339 date-time with a time zone"),
        )),
    }
}

fn has_type(value: Option<&Value>, wanted: &str) -> bool {
    match value {
        Some(Value::Array(items)) => items.iter().any(|t| t.as_str() == Some(wanted)),
        Some(Value::String(s)) => s == wanted,
        _ => false,
    }
}

fn check_issuer(issuer: &TrustedIssuer, claimed: &str, vm: &str) -> Result<(), CredentialError> {
    if issuer.is_direct() || claimed == controller(vm) {
        Ok(())
    } else {
        Err(CredentialError::IssuerMismatch {
            issuer: claimed.to_owned(),
            method: vm.to_owned(),
        })
    }
}

fn check_dates(
    fields: &CredentialFields<'_>,
    proof_expires: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), CredentialError> {
    if let Some(from) = fields.valid_from
        && now < from
    {
        return Err(CredentialError::NotYetValid { at: from });
    }
    for until in [fields.valid_until, proof_expires].into_iter().flatten() {
        if now >= until {
            return Err(CredentialError::Expired { at: until });
        }
    }
    Ok(())
}

fn outside_prefix(issuer: &TrustedIssuer) -> Reason {
    Reason::new(
        format!(
            "地址不在签发者 {} 的状态列表地址 {} 之下",
            issuer.member, issuer.status_list_prefix
        ),
        format!(
            "the URL is not under issuer {}'s status list prefix {}",
            issuer.member, issuer.status_list_prefix
        ),
    )
}
