//! Issuing: a certificate becomes a W3C Verifiable Credential signed with the node's key
//! (`eddsa-jcs-2022`, issuer = the key's did:key), with two Bitstring Status List entries
//! (revocation and suspension, the same index in both lists); the node publishes its lists
//! at `{origin}/credentials/status/{purpose}/{list}`, signed, valid for the configured cache
//! lifetime. Holders share a credential by a short verification code they can revoke or let
//! expire.
//!
//! Status indices are allocated in order (the next free index); the spec's advice to pick
//! them at random, for herd privacy, matters once lists are large and is left for then.

use credential::code::VerificationCode;
use credential::status::{BitstringStatusList, StatusPurpose};
use ed25519_dalek::SigningKey;
use kernel::access::Principal;
use platform::audit::{self, AuditEntry, AuditLog};
use platform::db::{Db, DbError};
use platform::{on_db, on_tx};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{CertError, Certificate, KIND_TEACHER_CERTIFICATE};

/// Entries per status list: the spec's minimum, 16 KiB uncompressed.
pub const LIST_LEN: u64 = 131_072;

/// The node as issuer: its member code and name, its signing key and how long a published
/// status list may be cached.
pub struct Issuer {
    pub member: String,
    pub name: String,
    key: SigningKey,
    did: String,
    verification_method: String,
    pub status_ttl: time::Duration,
}

impl Issuer {
    pub fn new(member: &str, name: &str, key: SigningKey, status_ttl: time::Duration) -> Issuer {
        let public = key.verifying_key();
        Issuer {
            member: member.to_owned(),
            name: name.to_owned(),
            did: credential::did::did_key(&public),
            verification_method: credential::did::verification_method(&public),
            key,
            status_ttl,
        }
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    pub fn verification_method(&self) -> &str {
        &self.verification_method
    }

    fn issuer_value(&self) -> Value {
        json!({ "id": self.did, "name": self.name })
    }

    fn sign(&self, unsecured: &Value, at: OffsetDateTime) -> Result<Value, CertError> {
        credential::proof::sign(unsecured, &self.key, &self.verification_method, at)
            .map_err(|e| CertError::Invalid(kernel::Localized::message(&e, kernel::Lang::Zh)))
    }
}

/// Where a node's status lists live; a verifier trusts a list only under its issuer's base.
pub fn status_base(origin: &str) -> String {
    format!("{}/credentials/status/", origin.trim_end_matches('/'))
}

pub fn status_list_url(origin: &str, purpose: StatusPurpose, list_no: u64) -> String {
    format!("{}{}/{list_no}", status_base(origin), purpose.as_str())
}

/// A credential as issued, with its current standing on this node.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Issued {
    pub id: String,
    pub kind: String,
    pub subject_ref: String,
    pub holder: String,
    pub revoked: bool,
    pub suspended: bool,
    pub document: String,
    pub issued_ms: i64,
}

impl Issued {
    pub fn document(&self) -> Value {
        serde_json::from_str(&self.document).unwrap_or(Value::Null)
    }
}

const ISSUED: &str = "SELECT id, kind, subject_ref, holder, revoked, suspended, document, issued_ms FROM credentials";

pub async fn issued_for(db: &Db, kind: &str, subject_ref: &str) -> Result<Option<Issued>, DbError> {
    let sql = format!("{ISSUED} WHERE kind = $1 AND subject_ref = $2");
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(kind).bind(subject_ref).fetch_optional(p).await?),
    )
}

pub async fn issued(db: &Db, id: &str) -> Result<Option<Issued>, DbError> {
    let sql = format!("{ISSUED} WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
}

/// What a credential says about its subject, before it is numbered and signed. Teacher
/// certificates and diplomas (and later kinds) differ only here.
pub struct Claims {
    /// The `kind` column: one credential per (kind, subject_ref).
    pub kind: &'static str,
    pub subject_ref: String,
    /// The holder's ID number: who may make codes for it, whose access log names it.
    pub holder: String,
    /// The organisation the record belongs to, for the audit entry.
    pub org_code: Option<String>,
    pub credential_type: &'static str,
    pub name: &'static str,
    /// RFC 3339.
    pub valid_from: String,
    pub subject: Value,
    pub revoked: bool,
    pub suspended: bool,
}

/// The credential for a certificate the caller may read (their own, or in their scope),
/// issued on first request and the same document afterwards, with the certificate as the
/// caller sees it (read and audited once).
pub async fn credential_for(
    db: &Db,
    audit: &AuditLog,
    issuer: &Issuer,
    origin: &str,
    who: &Principal,
    person_key: Option<&str>,
    cert_no: &str,
) -> Result<(Issued, crate::CertificateView), CertError> {
    // Authorises and audits the read of the certificate itself.
    let view = crate::read_certificate(db, audit, who, person_key, cert_no, "证书下载").await?;
    if let Some(found) = issued_for(db, KIND_TEACHER_CERTIFICATE, &view.certificate.cert_no).await?
    {
        return Ok((found, view));
    }
    let cert = crate::locate(db, &view.certificate.cert_no)
        .await?
        .ok_or(CertError::NotFound)?;
    let issued = issue_once(db, issuer, origin, who, &teacher_certificate(&cert)).await?;
    Ok((issued, view))
}

/// The credential for `claims`: the one issued before, or a new one. Two first requests at
/// once: one insert wins, the other reads what it wrote.
async fn issue_once(
    db: &Db,
    issuer: &Issuer,
    origin: &str,
    who: &Principal,
    claims: &Claims,
) -> Result<Issued, CertError> {
    for _ in 0..3 {
        if let Some(found) = issued_for(db, claims.kind, &claims.subject_ref).await? {
            return Ok(found);
        }
        match insert(db, issuer, origin, who, claims).await {
            Err(CertError::Db(DbError::Duplicate { .. })) => continue,
            done => return done,
        }
    }
    Err(DbError::Changed(claims.subject_ref.clone()).into())
}

async fn insert(
    db: &Db,
    issuer: &Issuer,
    origin: &str,
    who: &Principal,
    claims: &Claims,
) -> Result<Issued, CertError> {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let mut tx = db.begin().await?;
    let (index,): (i64,) = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT COALESCE(MAX(status_index), -1) + 1 FROM credentials").fetch_one(&mut *c).await?);
    let document = document(issuer, origin, claims, &id, index as u64, now)?;
    let issued = Issued {
        id: id.clone(),
        kind: claims.kind.to_owned(),
        subject_ref: claims.subject_ref.clone(),
        holder: claims.holder.clone(),
        revoked: claims.revoked,
        suspended: claims.suspended,
        document: document.to_string(),
        issued_ms: platform::now_ms(),
    };
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO credentials (id, kind, subject_ref, holder, status_index, revoked, suspended, document, issued_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&issued.id).bind(&issued.kind).bind(&issued.subject_ref).bind(&issued.holder).bind(index)
        .bind(issued.revoked).bind(issued.suspended).bind(&issued.document).bind(issued.issued_ms)
        .execute(&mut *c).await?.rows_affected());
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "credential.issue",
        "证书下载",
    )
    .subject(&claims.holder, claims.org_code.as_deref())
    .detail(json!({ "credential": id, "kind": claims.kind, "subject": claims.subject_ref }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(issued)
}

/// The signed document: the claims, numbered, with their two status entries. Only what the
/// paper certificate shows, with the ID number masked (PIPL: minimal).
fn document(
    issuer: &Issuer,
    origin: &str,
    claims: &Claims,
    id: &str,
    index: u64,
    now: OffsetDateTime,
) -> Result<Value, CertError> {
    let list_no = index / LIST_LEN;
    let status = |purpose| {
        credential::status::status_entry(&status_list_url(origin, purpose, list_no), purpose, index)
    };
    let unsecured = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", claims.credential_type],
        "name": claims.name,
        "issuer": issuer.issuer_value(),
        "validFrom": claims.valid_from,
        "credentialSubject": claims.subject,
        "credentialStatus": [status(StatusPurpose::Revocation), status(StatusPurpose::Suspension)],
    });
    issuer.sign(&unsecured, now)
}

fn teacher_certificate(cert: &Certificate) -> Claims {
    let status = cert.status();
    Claims {
        kind: KIND_TEACHER_CERTIFICATE,
        subject_ref: cert.cert_no.clone(),
        holder: cert.citizen_id.clone(),
        org_code: Some(cert.school_code.clone()),
        credential_type: "TeacherQualificationCredential",
        name: "教师资格证书 Teacher Qualification Certificate",
        valid_from: format!("{}T00:00:00+08:00", cert.issue_date),
        subject: json!({
            "type": "TeacherQualification",
            "name": cert.name,
            "idNumberMasked": registry::mask_id(&cert.citizen_id),
            "certificateNumber": cert.cert_no,
            "qualificationType": cert.type_label(kernel::Lang::Zh),
            "teachingSubject": cert.subject,
            "certifyingBody": cert.certifying_body,
            "issueDate": cert.issue_date,
        }),
        revoked: status == crate::CertStatus::Revoked,
        suspended: status == crate::CertStatus::Suspended,
    }
}

/// The credential kind of a diploma (毕业证书).
pub const KIND_DIPLOMA: &str = "diploma";

/// A graduate's diploma as its institution records it. The records themselves belong to
/// the institutions' graduate lists (the employment capability); this is what a diploma
/// credential says.
#[derive(Debug, Clone)]
pub struct Diploma {
    pub diploma_no: kernel::ids::DiplomaNo,
    pub name: String,
    pub citizen_id: kernel::ids::CitizenId,
    /// The institution's organisation code on this node, and its division.
    pub org_code: String,
    pub division: String,
    pub institution: String,
    /// 层次: 本科, 专科, 硕士研究生, ...
    pub level: String,
    pub major: String,
    /// 学习形式: 普通全日制, ...
    pub study_form: String,
    /// YYYY-MM-DD.
    pub graduation_date: String,
}

/// The diploma credential, issued by this node for the institution on the first request of
/// someone who may read the record (the graduate, the institution, a bureau over it), the
/// same document afterwards.
pub async fn diploma_credential(
    db: &Db,
    issuer: &Issuer,
    origin: &str,
    who: &Principal,
    d: &Diploma,
) -> Result<Issued, CertError> {
    let resource = kernel::access::Resource::PersonRecord {
        org_code: &d.org_code,
        division: &d.division,
        person_key: d.citizen_id.as_str(),
    };
    kernel::access::authorize(who, kernel::access::Action::Read, resource)
        .map_err(|_| CertError::NotFound)?;
    let claims = Claims {
        kind: KIND_DIPLOMA,
        subject_ref: d.diploma_no.as_str().to_owned(),
        holder: d.citizen_id.as_str().to_owned(),
        org_code: Some(d.org_code.clone()),
        credential_type: "DiplomaCredential",
        name: "毕业证书 Diploma",
        valid_from: format!("{}T00:00:00+08:00", d.graduation_date),
        subject: json!({
            "type": "Diploma",
            "name": d.name,
            "idNumberMasked": d.citizen_id.masked(),
            "diplomaNumber": d.diploma_no.as_str(),
            "institution": d.institution,
            "level": d.level,
            "major": d.major,
            "studyForm": d.study_form,
            "graduationDate": d.graduation_date,
        }),
        revoked: false,
        suspended: false,
    };
    issue_once(db, issuer, origin, who, &claims).await
}

/// Revokes or suspends (or reinstates) a diploma's credential: its institution, or a
/// bureau over it, with a reason; audited in the same transaction.
pub async fn change_diploma_status(
    db: &Db,
    who: &Principal,
    d: &Diploma,
    to: crate::CertStatus,
    reason: &str,
) -> Result<(), CertError> {
    let resource = kernel::access::Resource::PersonRecord {
        org_code: &d.org_code,
        division: &d.division,
        person_key: d.citizen_id.as_str(),
    };
    kernel::access::authorize(who, kernel::access::Action::Write, resource)
        .map_err(|_| CertError::NotAllowed)?;
    if reason.trim().is_empty() {
        return Err(CertError::Invalid("请填写变更原因。".into()));
    }
    let mut tx = db.begin().await?;
    crate::set_credential_status(&mut tx, KIND_DIPLOMA, d.diploma_no.as_str(), to).await?;
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "credential.status",
        "学历管理",
    )
    .subject(d.citizen_id.as_str(), Some(&d.org_code))
    .detail(
        json!({ "diploma_no": d.diploma_no.as_str(), "to": to.as_str(), "reason": reason.trim() }),
    );
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// A signed status list credential of this node: the bits of list `list_no` for
/// `purpose`, valid for the issuer's cache lifetime.
pub async fn status_list(
    db: &Db,
    issuer: &Issuer,
    origin: &str,
    purpose: StatusPurpose,
    list_no: u64,
) -> Result<Value, CertError> {
    // The list number comes from a URL anyone can write: beyond the index range is no list.
    let first = list_no
        .checked_mul(LIST_LEN)
        .and_then(|f| i64::try_from(f).ok())
        .filter(|f| f.checked_add(LIST_LEN as i64).is_some())
        .ok_or(CertError::NotFound)?;
    let column = match purpose {
        StatusPurpose::Revocation => "revoked",
        StatusPurpose::Suspension => "suspended",
    };
    let sql = format!(
        "SELECT status_index FROM credentials WHERE {column} AND status_index >= $1 AND status_index < $2"
    );
    let set: Vec<(i64,)> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first).bind(first + LIST_LEN as i64).fetch_all(p).await.map_err(DbError::from)?);
    let mut list = BitstringStatusList::new(LIST_LEN as usize);
    for (i,) in set {
        list.set((i - first) as usize, true);
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let url = status_list_url(origin, purpose, list_no);
    // Times have whole seconds: one more keeps the full lifetime after the truncation.
    let unsecured = credential::status::status_list_credential(
        &url,
        &issuer.issuer_value(),
        purpose,
        &list,
        now,
        now + issuer.status_ttl + time::Duration::SECOND,
    );
    issuer.sign(&unsecured, now)
}

/// A verification code as its holder sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CodeInfo {
    pub code: String,
    pub credential_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
}

impl CodeInfo {
    pub fn active(&self, now_ms: i64) -> bool {
        self.revoked_ms.is_none() && self.expires_ms > now_ms
    }
}

/// The longest a holder may make a code live (学信网 allows up to a year).
pub const MAX_CODE_DAYS: i64 = 365;

/// The holder of a credential creates a code for it, valid for `days`.
pub async fn create_code(
    db: &Db,
    issuer: &Issuer,
    who: &Principal,
    person_key: &str,
    credential_id: &str,
    days: i64,
) -> Result<CodeInfo, CertError> {
    let held = issued(db, credential_id)
        .await?
        .filter(|c| c.holder == person_key);
    let held = held.ok_or(CertError::NotFound)?;
    if !(1..=MAX_CODE_DAYS).contains(&days) {
        return Err(CertError::Invalid(format!(
            "有效期应为 1 至 {MAX_CODE_DAYS} 天。"
        )));
    }
    // The member prefix tells any node's portal where to resolve the code.
    let code = VerificationCode::generate(&issuer.member, &mut rand::thread_rng());
    let now = platform::now_ms();
    let info = CodeInfo {
        code: code.as_str().to_owned(),
        credential_id: held.id.clone(),
        created_ms: now,
        expires_ms: now + days * 86_400_000,
        revoked_ms: None,
    };
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO verification_codes (code, credential_id, created_by, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5)")
        .bind(&info.code).bind(&info.credential_id).bind(&who.username).bind(info.created_ms).bind(info.expires_ms)
        .execute(&mut *c).await?.rows_affected());
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "credential.code.create",
        "证书分享",
    )
    .subject(person_key, None)
    .detail(json!({ "credential": held.id, "expires_ms": info.expires_ms }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(info)
}

/// The codes a holder made for their credentials, newest first.
pub async fn codes(db: &Db, person_key: &str) -> Result<Vec<CodeInfo>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT v.code, v.credential_id, v.created_ms, v.expires_ms, v.revoked_ms FROM verification_codes v \
         JOIN credentials c ON c.id = v.credential_id WHERE c.holder = $1 ORDER BY v.created_ms DESC")
        .bind(person_key).fetch_all(p).await?))
}

/// The holder withdraws a code: it stops resolving at once, on every node.
pub async fn revoke_code(
    db: &Db,
    who: &Principal,
    person_key: &str,
    code: &VerificationCode,
) -> Result<(), CertError> {
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE verification_codes SET revoked_ms = $3 WHERE code = $1 AND revoked_ms IS NULL \
         AND credential_id IN (SELECT id FROM credentials WHERE holder = $2)")
        .bind(code.as_str()).bind(person_key).bind(platform::now_ms())
        .execute(&mut *c).await?.rows_affected());
    if changed == 0 {
        return Err(CertError::NotFound);
    }
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "credential.code.revoke",
        "证书分享",
    )
    .subject(person_key, None)
    .detail(json!({ "code": code.as_str() }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// Why a code does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeState {
    Active,
    Expired,
    Withdrawn,
    Unknown,
}

impl CodeState {
    pub fn code(self) -> &'static str {
        match self {
            CodeState::Active => "credential.code_active",
            CodeState::Expired => "credential.code_expired",
            CodeState::Withdrawn => "credential.code_withdrawn",
            CodeState::Unknown => "credential.code_unknown",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            CodeState::Active => "验证码有效。",
            CodeState::Expired => "该验证码已过期，请向持证人索取新的验证码。",
            CodeState::Withdrawn => "持证人已撤回该验证码。",
            CodeState::Unknown => "没有这个验证码，请核对后重新输入。",
        }
    }
}

/// What a code resolves to on the node that issued it: the credential and its standing
/// now, or why not. The access is for the caller to audit (it names the holder).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Resolved {
    pub state: CodeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub suspended: bool,
    #[serde(default)]
    pub expires_ms: i64,
}

/// `actor` names who asked, for the audit entry (`anonymous`, or `CQ:anonymous` for a
/// visitor on a peer's portal).
pub async fn resolve_code(
    db: &Db,
    code: &VerificationCode,
    actor: &str,
) -> Result<(Resolved, Option<AuditEntry>), DbError> {
    let found: Option<(String, i64, Option<i64>)> = on_db!(db, p => sqlx::query_as(
        "SELECT credential_id, expires_ms, revoked_ms FROM verification_codes WHERE code = $1")
        .bind(code.as_str()).fetch_optional(p).await?);
    let none = |state| Resolved {
        state,
        document: None,
        revoked: false,
        suspended: false,
        expires_ms: 0,
    };
    let Some((credential_id, expires_ms, revoked_ms)) = found else {
        return Ok((none(CodeState::Unknown), None));
    };
    if revoked_ms.is_some() {
        return Ok((none(CodeState::Withdrawn), None));
    }
    if expires_ms <= platform::now_ms() {
        return Ok((none(CodeState::Expired), None));
    }
    let Some(held) = issued(db, &credential_id).await? else {
        return Ok((none(CodeState::Unknown), None));
    };
    let access = AuditEntry::new(actor, "public", "credential.verify_code", "证书核验")
        .subject(&held.holder, None)
        .detail(json!({ "credential": held.id, "code": code.as_str() }));
    Ok((
        Resolved {
            state: CodeState::Active,
            document: Some(held.document()),
            revoked: held.revoked,
            suspended: held.suspended,
            expires_ms,
        },
        Some(access),
    ))
}

/// Issued credentials in id order after `after`, for `credentials export`.
pub async fn page(
    db: &Db,
    kind: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<Issued>, DbError> {
    let sql = format!("{ISSUED} WHERE ($1 = '' OR kind = $1) AND id > $2 ORDER BY id LIMIT $3");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(kind.unwrap_or("")).bind(after).bind(limit).fetch_all(p).await?))
}
