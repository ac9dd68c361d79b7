//! Teacher qualification certificates (教师资格证书, seed §二.2 "教师资格证书查询"): the
//! teachers a node's schools employ, their certificates with status (valid / suspended /
//! revoked) and 定期注册 history, the credentials issued for them ([`issue`]), short
//! verification codes, the public look-up a visitor runs with a name and a certificate
//! number, and the federation services that answer both for a peer ([`service`]).
//!
//! Architecture invariant: every read of a teacher's certificate goes through this crate,
//! which authorises it (`kernel::access::authorize`) and audits it. A change of status
//! changes the certificate, every credential issued for it (its bits in the node's status
//! lists) and the audit chain in one transaction.

use kernel::access::{Action, Principal, Resource, Scope, authorize};
use kernel::ids::{CitizenId, TeacherCertNo, TeacherCertType};
use kernel::{Lang, Localized};
use platform::audit::{self, AuditEntry, AuditLog, AuditUnavailable};
use platform::db::{Db, DbError, Tx};
use platform::{on_db, on_tx};
use serde::Serialize;

pub mod import;
pub mod issue;
pub mod service;
pub mod verify;

kernel::labelled_enum! {
    /// A certificate's standing. Suspension (暂停) is reversible; revocation (撤销) is not
    /// reversed by this platform (a new certificate is issued instead).
    CertStatus {
        Valid = "valid", "有效", "Valid";
        Suspended = "suspended", "暂停", "Suspended";
        Revoked = "revoked", "撤销", "Revoked";
    }
}

/// The credential kind of a teacher certificate (also the `kind` column of `credentials`).
pub const KIND_TEACHER_CERTIFICATE: &str = "teacher-certificate";

/// One certificate with its holder, as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Certificate {
    pub cert_no: String,
    pub citizen_id: String,
    pub name: String,
    pub cert_type: i64,
    pub subject: String,
    pub certifying_body: String,
    /// The certifying body's division code: bureaus over it change the status.
    pub division: String,
    pub issue_date: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_date: Option<String>,
    pub school_code: String,
    pub school_name: String,
    pub title: String,
    pub subjects: String,
}

impl Certificate {
    pub fn status(&self) -> CertStatus {
        CertStatus::parse(&self.status).unwrap_or(CertStatus::Revoked)
    }

    pub fn type_label(&self, lang: Lang) -> &'static str {
        u8::try_from(self.cert_type)
            .ok()
            .and_then(TeacherCertType::from_digit)
            .map(|t| t.label(lang))
            .unwrap_or("")
    }

    fn resource(&self) -> Resource<'_> {
        Resource::PersonRecord {
            org_code: &self.school_code,
            division: &self.division,
            person_key: &self.citizen_id,
        }
    }

    /// What a status change is authorised against: the certifying body's area only, so a
    /// school (whose scope is itself) never changes a certificate's standing.
    fn certifying_resource(&self) -> Resource<'_> {
        Resource::PersonRecord {
            org_code: "",
            division: &self.division,
            person_key: &self.citizen_id,
        }
    }
}

/// A 定期注册 (periodic re-registration) entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Registration {
    pub period_start: String,
    pub period_end: String,
    pub result: String,
}

/// What a reader is shown: the certificate with the ID number masked, its registrations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    #[serde(flatten)]
    pub certificate: Certificate,
    pub type_label: String,
    pub status_label: String,
    pub registrations: Vec<Registration>,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Unknown or outside the caller's scope (deliberately indistinguishable).
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    NotAllowed,
    #[error("invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Audit(#[from] AuditUnavailable),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CertError {
    fn from(e: sqlx::Error) -> Self {
        CertError::Db(DbError::from(e))
    }
}

impl Localized for CertError {
    fn code(&self) -> &'static str {
        match self {
            CertError::NotFound => "certificate.not_found",
            CertError::NotAllowed => "certificate.not_allowed",
            CertError::Invalid(_) => "certificate.invalid",
            CertError::Audit(_) => "audit.unavailable",
            CertError::Db(_) => "internal",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CertError::NotFound, Lang::Zh) => "没有找到该证书，或您无权查看。".into(),
            (CertError::NotFound, _) => "No such certificate, or you may not see it.".into(),
            (CertError::NotAllowed, Lang::Zh) => "您的账号不能办理此事项。".into(),
            (CertError::NotAllowed, _) => "Your account may not do this.".into(),
            (CertError::Invalid(m), _) => m.clone(),
            (e, _) => e.to_string(),
        }
    }
}

const COLUMNS: &str = "c.cert_no, c.citizen_id, c.name, c.cert_type, c.subject, \
    c.certifying_body, c.division, c.issue_date, c.status, c.status_reason, c.status_date, \
    t.school_code, COALESCE(o.name, t.school_code) AS school_name, t.title, t.subjects";
const FROM: &str = "FROM teacher_certificates c JOIN teachers t ON t.citizen_id = c.citizen_id \
    LEFT JOIN orgs o ON o.code = t.school_code";

pub(crate) async fn locate(db: &Db, cert_no: &str) -> Result<Option<Certificate>, DbError> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE c.cert_no = $1");
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(cert_no).fetch_optional(p).await?),
    )
}

async fn registrations(db: &Db, cert_no: &str) -> Result<Vec<Registration>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT period_start, period_end, result FROM teacher_registrations WHERE cert_no = $1 \
         ORDER BY period_start")
        .bind(cert_no).fetch_all(p).await?))
}

async fn view(db: &Db, mut c: Certificate) -> Result<CertificateView, DbError> {
    let registrations = registrations(db, &c.cert_no).await?;
    c.citizen_id = registry::mask_id(&c.citizen_id);
    Ok(CertificateView {
        type_label: c.type_label(Lang::Zh).to_owned(),
        status_label: c.status().label(Lang::Zh).to_owned(),
        certificate: c,
        registrations,
    })
}

/// Whether the signed-in person (`person_key` = their ID number) holds the certificate.
pub async fn is_holder(db: &Db, cert_no: &str, person_key: Option<&str>) -> Result<bool, DbError> {
    let Some(key) = person_key else {
        return Ok(false);
    };
    let no = kernel::ids::normalize_code(cert_no);
    let (n,): (i64,) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM teacher_certificates WHERE cert_no = $1 AND citizen_id = $2")
        .bind(no).bind(key).fetch_one(p).await?);
    Ok(n > 0)
}

/// Reads one certificate for `purpose` if the caller's scope reaches it (or it is their
/// own: `person_key` is the signed-in teacher's ID number), audited before it is returned.
pub async fn read_certificate(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    person_key: Option<&str>,
    cert_no: &str,
    purpose: &str,
) -> Result<CertificateView, CertError> {
    let no = TeacherCertNo::parse(cert_no).map_err(|_| CertError::NotFound)?;
    let found = locate(db, no.as_str()).await?.ok_or(CertError::NotFound)?;
    let own = person_key == Some(found.citizen_id.as_str());
    if !own {
        authorize(who, Action::Read, found.resource()).map_err(|_| CertError::NotFound)?;
    }
    audit
        .record(
            AuditEntry::new(
                &who.username,
                who.role.as_str(),
                "certificate.read",
                purpose,
            )
            .subject(&found.citizen_id, Some(&found.school_code))
            .detail(serde_json::json!({ "cert_no": found.cert_no })),
        )
        .await?;
    Ok(view(db, found).await?)
}

/// The signed-in teacher's own certificates (`person_key` = their ID number), audited.
pub async fn own_certificates(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    person_key: &str,
) -> Result<Vec<CertificateView>, CertError> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE c.citizen_id = $1 ORDER BY c.issue_date");
    let found: Vec<Certificate> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(person_key).fetch_all(p).await.map_err(DbError::from)?);
    if !found.is_empty() {
        audit
            .record(
                AuditEntry::new(
                    &who.username,
                    who.role.as_str(),
                    "certificate.read",
                    "本人查询",
                )
                .subject(person_key, None),
            )
            .await?;
    }
    let mut views = Vec::with_capacity(found.len());
    for c in found {
        views.push(view(db, c).await?);
    }
    Ok(views)
}

/// A page of certificates in the caller's scope, newest first, optionally by certificate
/// number or holder name; one audit entry per search (without the searched value).
pub async fn search(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    q: &str,
    limit: i64,
) -> Result<Vec<CertificateView>, CertError> {
    let (scope_sql, scope_arg) = match &who.scope {
        Scope::Node => ("$1 = ''".to_owned(), String::new()),
        // As `Certificate::resource`: a bureau reads what its area certified.
        Scope::Division(prefix) => ("c.division LIKE $1".to_owned(), format!("{prefix}%")),
        Scope::Org(code) => ("t.school_code = $1".to_owned(), code.clone()),
        Scope::Aggregates | Scope::Person(_) => return Err(CertError::NotAllowed),
    };
    let q = q.trim();
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE {scope_sql} AND ($2 = '' OR c.cert_no = $2 OR c.name = $2) \
         ORDER BY c.issue_date DESC, c.cert_no LIMIT $3"
    );
    // A certificate number is matched in its normalised form; a name exactly as typed.
    let code = kernel::ids::normalize_code(q);
    let term = if code.bytes().all(|b| b.is_ascii_digit()) {
        code
    } else {
        q.to_owned()
    };
    let rows: Vec<Certificate> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&scope_arg).bind(&term)
        .bind(limit).fetch_all(p).await.map_err(DbError::from)?);
    audit
        .record(
            AuditEntry::new(
                &who.username,
                who.role.as_str(),
                "certificate.search",
                "证书管理",
            )
            .detail(serde_json::json!({ "results": rows.len() })),
        )
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for c in rows {
        views.push(view(db, c).await?);
    }
    Ok(views)
}

/// Suspends, revokes or reinstates a certificate: a bureau over the certifying body (or a
/// platform administrator) with a reason. The certificate, the status bits of every
/// credential issued for it and the audit entry change in one transaction. Revocation is
/// final.
pub async fn change_status(
    db: &Db,
    who: &Principal,
    cert_no: &str,
    to: CertStatus,
    reason: &str,
) -> Result<(), CertError> {
    let found = locate(db, cert_no).await?.ok_or(CertError::NotFound)?;
    authorize(who, Action::Read, found.resource()).map_err(|_| CertError::NotFound)?;
    authorize(who, Action::Write, found.certifying_resource())
        .map_err(|_| CertError::NotAllowed)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CertError::Invalid("请填写变更原因。".into()));
    }
    let from = found.status();
    if from == CertStatus::Revoked || from == to {
        return Err(CertError::Invalid(format!(
            "证书当前为“{}”，不能改为“{}”。",
            from.label(Lang::Zh),
            to.label(Lang::Zh)
        )));
    }
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE teacher_certificates SET status = $2, status_reason = $3, status_date = $4, updated_ms = $5 \
         WHERE cert_no = $1 AND status = $6")
        .bind(&found.cert_no).bind(to.as_str()).bind(reason).bind(registry::today())
        .bind(platform::now_ms()).bind(from.as_str())
        .execute(&mut *c).await?.rows_affected());
    if changed != 1 {
        return Err(DbError::Changed(found.cert_no).into());
    }
    set_credential_status(&mut tx, KIND_TEACHER_CERTIFICATE, &found.cert_no, to).await?;
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "certificate.status",
        "证书管理",
    )
    .subject(&found.citizen_id, Some(&found.school_code))
    .detail(serde_json::json!({
        "cert_no": found.cert_no, "from": from.as_str(), "to": to.as_str(), "reason": reason,
    }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the status-list bits of the credentials issued for a subject to match `status`.
pub(crate) async fn set_credential_status(
    tx: &mut Tx<'_>,
    kind: &str,
    subject_ref: &str,
    status: CertStatus,
) -> Result<(), DbError> {
    let revoked = status == CertStatus::Revoked;
    let suspended = status == CertStatus::Suspended;
    on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE credentials SET revoked = $3, suspended = $4 WHERE kind = $1 AND subject_ref = $2")
        .bind(kind).bind(subject_ref).bind(revoked).bind(suspended)
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// What the public look-up answers: the standing of a certificate whose number and
/// holder's name (and ID number, when given) match, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LookupResult {
    Valid,
    Suspended,
    Revoked,
    NotFound,
}

impl LookupResult {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            LookupResult::Valid => CertStatus::Valid.label(lang),
            LookupResult::Suspended => CertStatus::Suspended.label(lang),
            LookupResult::Revoked => CertStatus::Revoked.label(lang),
            LookupResult::NotFound => match lang {
                Lang::Zh => "未查到匹配的证书",
                Lang::En => "No matching certificate",
            },
        }
    }
}

/// How the holder's ID number is checked: given in full (a local look-up) or as the
/// federation's blind index (a peer's look-up never carries the number itself).
pub enum IdCheck<'a> {
    None,
    Plain(&'a CitizenId),
    Blind(&'a federation::BlindIndexKey, &'a str),
}

/// Matches a certificate number and name (and ID number) on this node. The caller audits.
pub async fn match_certificate(
    db: &Db,
    cert_no: &TeacherCertNo,
    name: &str,
    id: IdCheck<'_>,
) -> Result<Option<Certificate>, DbError> {
    let Some(found) = locate(db, cert_no.as_str()).await? else {
        return Ok(None);
    };
    let id_ok = match id {
        IdCheck::None => true,
        IdCheck::Plain(id) => id.as_str() == found.citizen_id,
        IdCheck::Blind(key, digest) => {
            CitizenId::parse(&found.citizen_id).is_ok_and(|c| key.citizen_id(&c).as_str() == digest)
        }
    };
    Ok((found.name == name.trim() && id_ok).then_some(found))
}

pub fn result_of(found: Option<&Certificate>) -> LookupResult {
    match found.map(Certificate::status) {
        Some(CertStatus::Valid) => LookupResult::Valid,
        Some(CertStatus::Suspended) => LookupResult::Suspended,
        Some(CertStatus::Revoked) => LookupResult::Revoked,
        None => LookupResult::NotFound,
    }
}
