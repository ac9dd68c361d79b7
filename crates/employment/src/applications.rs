//! Applications (求职申请): a graduate applies to an open job on any node with their profile
//! and, when their institution recorded one, their diploma as a credential the employer sees
//! verified; the employer moves it through review, interview and offer; the graduate accepts
//! or declines an offer, or withdraws.
//!
//! The application lives on the employer's node. Applying to another province's job sends
//! it there (`application.submit`, purpose `employment`) — the graduate consents by applying
//! — and keeps a copy on the graduate's node, whose status is refreshed from the employer's
//! node (`application.status`); answers to an offer go back the same way
//! (`application.respond`). On the employer's node the applicant is known only by their
//! member and the blind index of their ID number, never the number itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use certificates::issue::{Diploma, Issuer};
use exchange::Federation;
use exchange::call;
use exchange::serve::{Answered, Asked, Failed, Service};
use federation::IdentifierKind;
use futures_util::future::BoxFuture;
use kernel::access::{Action, Principal, Resource, Scope, authorize};
use kernel::{Lang, labelled_enum};
use platform::audit::{self, AuditEntry, AuditLog};
use platform::{Db, DbError, on_db, on_tx};
use serde::{Deserialize, Serialize};

use crate::graduates::{self, Graduate};
use crate::service::{PURPOSE, PublicJob};
use crate::{EmploymentError, Level};

pub const APPLICATION_SUBMIT: &str = "application.submit";
pub const APPLICATION_STATUS: &str = "application.status";
pub const APPLICATION_RESPOND: &str = "application.respond";

labelled_enum! {
    ApplicationStatus {
        Submitted = "submitted", "已投递", "Submitted";
        Reviewing = "reviewing", "筛选中", "Under review";
        Interview = "interview", "邀请面试", "Invited to interview";
        Offer = "offer", "已发录用通知", "Offer made";
        Rejected = "rejected", "未通过", "Not successful";
        Accepted = "accepted", "已接受录用", "Offer accepted";
        Declined = "declined", "已谢绝录用", "Offer declined";
        Withdrawn = "withdrawn", "已撤回", "Withdrawn";
    }
}

impl ApplicationStatus {
    /// What the employer may move an application to from here.
    pub fn employer_next(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            Submitted => &[Reviewing, Interview, Offer, Rejected],
            Reviewing => &[Interview, Offer, Rejected],
            Interview => &[Offer, Rejected],
            _ => &[],
        }
    }

    /// What the applicant may move it to from here.
    pub fn applicant_next(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            Submitted | Reviewing | Interview => &[Withdrawn],
            Offer => &[Accepted, Declined],
            _ => &[],
        }
    }
}

/// An application as either node keeps it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Application {
    pub id: String,
    pub job_id: String,
    pub job_member: String,
    pub job_title: String,
    /// Set on the employer's node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    pub employer_name: String,
    #[serde(skip)]
    pub applicant: Option<String>,
    pub applicant_member: String,
    pub name: String,
    pub institution_name: String,
    pub major: String,
    pub level: String,
    pub phone: String,
    pub resume: String,
    /// The diploma credential (JSON) the graduate sent, if any.
    #[serde(skip)]
    pub diploma: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Application {
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::parse(&self.status).unwrap_or(ApplicationStatus::Submitted)
    }

    pub fn diploma(&self) -> Option<serde_json::Value> {
        self.diploma
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
    }

    pub fn level_label(&self) -> &'static str {
        Level::parse(&self.level).map_or("", |l| l.label(Lang::Zh))
    }
}

/// What travels to the employer's node.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Submitted {
    id: String,
    job_id: String,
    /// `MEMBER:blind index` of the applicant's ID number.
    applicant_ref: String,
    name: String,
    institution_name: String,
    major: String,
    level: String,
    phone: String,
    resume: String,
    diploma: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
enum SubmitAnswer {
    /// Stored (or stored before, under this id).
    Stored {
        id: String,
    },
    JobClosed,
}

const COLUMNS: &str = "id, job_id, job_member, job_title, employer, employer_name, applicant, applicant_member, \
    name, institution_name, major, level, phone, resume, diploma, status, note, created_ms, updated_ms";

/// Registers the services on a node's federation.
pub fn register(federation: &Federation) {
    federation.serve(APPLICATION_SUBMIT, Arc::new(SubmitService));
    federation.serve(APPLICATION_STATUS, Arc::new(StatusService));
    federation.serve(APPLICATION_RESPOND, Arc::new(RespondService));
}

/// Where the graduate's diploma credential comes from when they apply.
pub struct DiplomaIssuer<'a> {
    pub issuer: &'a Issuer,
    pub origin: &'a str,
}

async fn diploma_document(
    db: &Db,
    who: &Principal,
    g: &Graduate,
    citizen_id: &str,
    issuer: Option<&DiplomaIssuer<'_>>,
) -> Result<Option<serde_json::Value>, EmploymentError> {
    let (Some(no), Some(issuer)) = (&g.diploma_no, issuer) else {
        return Ok(None);
    };
    let (Ok(diploma_no), Ok(id)) = (
        kernel::ids::DiplomaNo::parse(no),
        kernel::ids::CitizenId::parse(citizen_id),
    ) else {
        return Ok(None);
    };
    let d = Diploma {
        diploma_no,
        name: g.name.clone(),
        citizen_id: id,
        org_code: g.institution.clone(),
        division: g.division.clone(),
        institution: g.institution_name.clone(),
        level: g.level_label().to_owned(),
        major: g.major.clone(),
        study_form: g.study_form.clone(),
        graduation_date: g.graduation_date.clone(),
    };
    match certificates::issue::diploma_credential(db, issuer.issuer, issuer.origin, who, &d).await {
        Ok(issued) => Ok(Some(issued.document())),
        Err(certificates::CertError::Db(e)) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "no diploma credential for an application");
            Ok(None)
        }
    }
}

/// The signed-in graduate applies to a job of any node. Returns the application's id.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    db: &Db,
    federation: Option<&Federation>,
    here: &str,
    issuer: Option<&DiplomaIssuer<'_>>,
    who: &Principal,
    job_id: &str,
) -> Result<String, EmploymentError> {
    let Scope::Person(citizen_id) = &who.scope else {
        return Err(EmploymentError::NotAllowed);
    };
    let g = graduates::of_person(db, who)
        .await?
        .ok_or_else(|| EmploymentError::State("只有所在院校已登记的毕业生可以投递岗位。".into()))?;
    let profile = graduates::profile(db, citizen_id).await?;
    if profile.phone.trim().is_empty() {
        return Err(EmploymentError::invalid(
            "phone",
            "application.no_phone",
            "请先在“我的简历”中填写手机号，以便用人单位联系您。",
        ));
    }
    let (job, source) = match crate::service::get_anywhere(db, federation, here, job_id).await? {
        Ok(Some(found)) => found,
        Ok(None) => return Err(EmploymentError::NotFound),
        Err(peer) => {
            return Err(EmploymentError::State(format!(
                "岗位所在节点暂时无法连接，请稍后再试（{}）。",
                peer.message
            )));
        }
    };
    let (already,): (i64,) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM applications WHERE job_id = $1 AND applicant = $2")
        .bind(job_id).bind(citizen_id).fetch_one(p).await?);
    if already > 0 {
        return Err(EmploymentError::State("您已投递过该岗位。".into()));
    }
    let diploma = diploma_document(db, who, &g, citizen_id, issuer).await?;
    let mut sent = Submitted {
        id: format!(
            "{here}-A-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        ),
        job_id: job.id.clone(),
        applicant_ref: citizen_id.clone(),
        name: g.name.clone(),
        institution_name: g.institution_name.clone(),
        major: g.major.clone(),
        level: g.level.clone(),
        phone: profile.phone.trim().to_owned(),
        resume: profile.resume.clone(),
        diploma,
    };
    let consent = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "application.submit",
        "求职申请",
    )
    .subject(citizen_id, Some(&g.institution))
    .detail(serde_json::json!({ "job": job.id, "employer": job.employer_name, "member": source }));
    let Some(federation) = federation.filter(|_| source != here) else {
        let mut tx = db.begin().await?;
        store(
            &mut tx,
            &sent,
            &job,
            here,
            Some(&job.employer),
            Some(citizen_id),
        )
        .await?;
        audit::append(&mut tx, &[consent]).await?;
        tx.commit().await?;
        return Ok(sent.id);
    };
    sent.applicant_ref = format!(
        "{here}:{}",
        exchange::index::digest_of(
            federation.index_key(),
            IdentifierKind::CitizenId,
            citizen_id
        )
    );
    let current = federation
        .current()
        .map_err(|e| EmploymentError::State(kernel::Localized::message(&e, Lang::Zh)))?;
    let body = serde_json::to_vec(&sent).unwrap_or_default();
    let exchanged = call::call(
        federation,
        &current,
        &source,
        APPLICATION_SUBMIT,
        PURPOSE,
        body,
    )
    .await
    .map_err(|e| EmploymentError::State(format!("投递未送达{source}节点：{}", e.message)))?;
    call::log_exchange(federation, &exchanged, vec![consent])
        .await
        .map_err(|e| EmploymentError::State(e.message))?;
    match serde_json::from_slice::<SubmitAnswer>(exchanged.response.body()) {
        Ok(SubmitAnswer::Stored { id }) => {
            sent.id = id;
            let mut tx = db.begin().await?;
            store(&mut tx, &sent, &job, &source, None, Some(citizen_id)).await?;
            tx.commit().await?;
            Ok(sent.id)
        }
        Ok(SubmitAnswer::JobClosed) => Err(EmploymentError::State("该岗位已停止招聘。".into())),
        Err(_) => Err(EmploymentError::State(
            "对方节点的答复无法识别，请稍后再试。".into(),
        )),
    }
}

/// Stores an application (or leaves the one already stored under its id or for its
/// applicant and job); returns the id stored.
async fn store(
    tx: &mut platform::Tx<'_>,
    a: &Submitted,
    job: &PublicJob,
    job_member: &str,
    employer: Option<&str>,
    applicant: Option<&str>,
) -> Result<String, DbError> {
    let applicant_member = a.id.split_once("-A-").map_or("", |(m, _)| m).to_owned();
    let now = platform::now_ms();
    let existing: Option<(String,)> = on_tx!(&mut *tx, c => sqlx::query_as(
        "SELECT id FROM applications WHERE id = $1 OR (job_id = $2 AND applicant = $3)")
        .bind(&a.id).bind(&a.job_id).bind(applicant).fetch_optional(&mut *c).await?);
    if let Some((id,)) = existing {
        return Ok(id);
    }
    on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO applications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         'submitted', NULL, $16, $16)")))
        .bind(&a.id).bind(&a.job_id).bind(job_member).bind(&job.title).bind(employer).bind(&job.employer_name)
        .bind(applicant).bind(&applicant_member).bind(&a.name).bind(&a.institution_name).bind(&a.major)
        .bind(&a.level).bind(&a.phone).bind(&a.resume)
        .bind(a.diploma.as_ref().map(|d| d.to_string())).bind(now)
        .execute(&mut *c).await?.rows_affected());
    Ok(a.id.clone())
}

struct SubmitService;

impl Service for SubmitService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let a: Submitted = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
            if !a.applicant_ref.starts_with(&format!("{}:", asked.caller))
                || !a.id.starts_with(&format!("{}-A-", asked.caller))
                || a.name.chars().count() > 50
                || a.resume.chars().count() > 5000
            {
                return Err(Failed::Body);
            }
            let Ok(job) = crate::jobs::get(db, None, &a.job_id).await else {
                return Ok((
                    serde_json::to_vec(&SubmitAnswer::JobClosed).unwrap_or_default(),
                    Vec::new(),
                ));
            };
            let employer = job.employer.clone();
            let job = PublicJob::from(job);
            let mut tx = db.begin().await?;
            let member = crate::service::member_of(&a.job_id)
                .unwrap_or_default()
                .to_owned();
            let id = store(
                &mut tx,
                &a,
                &job,
                &member,
                Some(&employer),
                Some(&a.applicant_ref),
            )
            .await?;
            tx.commit().await?;
            let access = AuditEntry::new(
                &format!("{}:applicant", asked.caller),
                "peer",
                "application.receive",
                "求职申请",
            )
            .subject(&a.applicant_ref, Some(&employer))
            .detail(serde_json::json!({ "application": id, "job": a.job_id }));
            Ok((
                serde_json::to_vec(&SubmitAnswer::Stored { id }).unwrap_or_default(),
                vec![access],
            ))
        })
    }
}

/// A peer's request about one of its own applicants: refused unless the applicant reference
/// names the member that asks.
fn own_applicant<T: serde::de::DeserializeOwned>(
    asked: &Asked<'_>,
    applicant_ref: fn(&T) -> &str,
) -> Result<T, Failed> {
    let req: T = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
    if applicant_ref(&req).starts_with(&format!("{}:", asked.caller)) {
        Ok(req)
    } else {
        Err(Failed::Body)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StatusRequest {
    applicant_ref: String,
}

/// An application's progress as the employer's node reports it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
struct Progress {
    id: String,
    status: String,
    note: Option<String>,
    updated_ms: i64,
}

struct StatusService;

impl Service for StatusService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let req: StatusRequest = own_applicant(asked, |r: &StatusRequest| &r.applicant_ref)?;
            let progress: Vec<Progress> = on_db!(db, p => sqlx::query_as(
                "SELECT id, status, note, updated_ms FROM applications WHERE applicant = $1 AND employer IS NOT NULL")
                .bind(&req.applicant_ref).fetch_all(p).await.map_err(DbError::from)?);
            Ok((
                serde_json::to_vec(&progress).unwrap_or_default(),
                Vec::new(),
            ))
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RespondRequest {
    applicant_ref: String,
    id: String,
    to: ApplicationStatus,
}

struct RespondService;

impl Service for RespondService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let req: RespondRequest = own_applicant(asked, |r: &RespondRequest| &r.applicant_ref)?;
            let outcome = move_as_applicant(db, &req.id, &req.applicant_ref, req.to).await;
            let answer = match outcome {
                Ok(()) => Ok(req.to),
                Err(EmploymentError::Db(e)) => return Err(Failed::Db(e)),
                Err(e) => Err(kernel::Localized::message(&e, Lang::Zh)),
            };
            Ok((serde_json::to_vec(&answer).unwrap_or_default(), Vec::new()))
        })
    }
}

async fn locate(db: &Db, id: &str) -> Result<Option<Application>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
}

/// Moves an application held here on its applicant's word (the graduate here, or a peer's
/// `application.respond`).
async fn move_as_applicant(
    db: &Db,
    id: &str,
    applicant: &str,
    to: ApplicationStatus,
) -> Result<(), EmploymentError> {
    let a = locate(db, id)
        .await?
        .filter(|a| a.applicant.as_deref() == Some(applicant))
        .ok_or(EmploymentError::NotFound)?;
    if !a.status().applicant_next().contains(&to) {
        return Err(not_now(a.status()));
    }
    set_status(db, &a, to, None).await
}

fn not_now(s: ApplicationStatus) -> EmploymentError {
    EmploymentError::State(format!(
        "申请当前为“{}”，不能办理此事项。",
        s.label(Lang::Zh)
    ))
}

async fn set_status(
    db: &Db,
    a: &Application,
    to: ApplicationStatus,
    note: Option<&str>,
) -> Result<(), EmploymentError> {
    let changed = on_db!(db, p => sqlx::query(
        "UPDATE applications SET status = $2, note = COALESCE($3, note), updated_ms = $4 WHERE id = $1 AND status = $5")
        .bind(&a.id).bind(to.as_str()).bind(note).bind(platform::now_ms()).bind(&a.status)
        .execute(p).await?.rows_affected());
    if changed == 1 {
        Ok(())
    } else {
        Err(DbError::Changed(a.id.clone()).into())
    }
}

fn employer_resource<'a>(code: &'a str, division: &'a str) -> Resource<'a> {
    Resource::Org { code, division }
}

/// The applications to the caller's employer (optionally for one job), newest first; one
/// audit entry for the listing.
pub async fn for_employer(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    job_id: Option<&str>,
) -> Result<Vec<Application>, EmploymentError> {
    let Scope::Org(code) = &who.scope else {
        return Err(EmploymentError::NotAllowed);
    };
    let employer = crate::employers::locate(db, code)
        .await?
        .ok_or(EmploymentError::NotAllowed)?;
    authorize(who, Action::Read, employer.resource()).map_err(|_| EmploymentError::NotAllowed)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE employer = $1 AND ($2 = '' OR job_id = $2) ORDER BY created_ms DESC LIMIT 500"
    );
    let rows: Vec<Application> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code).bind(job_id.unwrap_or("")).fetch_all(p).await?);
    audit
        .record(
            AuditEntry::new(
                &who.username,
                who.role.as_str(),
                "application.list",
                "招聘管理",
            )
            .detail(serde_json::json!({ "job": job_id, "rows": rows.len() })),
        )
        .await?;
    Ok(rows)
}

/// One application: for the employer it was sent to (audited, it holds personal data) or
/// the graduate who sent it.
pub async fn get(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    id: &str,
) -> Result<Application, EmploymentError> {
    let a = locate(db, id).await?.ok_or(EmploymentError::NotFound)?;
    if let (Scope::Person(key), Some(applicant)) = (&who.scope, &a.applicant)
        && key == applicant
    {
        return Ok(a);
    }
    let employer = match &a.employer {
        Some(code) => crate::employers::locate(db, code)
            .await?
            .ok_or(EmploymentError::NotFound)?,
        None => return Err(EmploymentError::NotFound),
    };
    authorize(
        who,
        Action::Read,
        employer_resource(&employer.credit_code, &employer.division),
    )
    .map_err(|_| EmploymentError::NotFound)?;
    audit
        .record(
            AuditEntry::new(
                &who.username,
                who.role.as_str(),
                "application.read",
                "招聘管理",
            )
            .subject(
                a.applicant.as_deref().unwrap_or(""),
                Some(&employer.credit_code),
            )
            .detail(serde_json::json!({ "application": a.id })),
        )
        .await?;
    Ok(a)
}

/// The employer moves an application on (筛选, 面试, 录用, 不通过), with a note the graduate sees.
pub async fn decide(
    db: &Db,
    who: &Principal,
    id: &str,
    to: ApplicationStatus,
    note: &str,
) -> Result<(), EmploymentError> {
    let a = locate(db, id).await?.ok_or(EmploymentError::NotFound)?;
    let employer = match &a.employer {
        Some(code) => crate::employers::locate(db, code)
            .await?
            .ok_or(EmploymentError::NotFound)?,
        None => return Err(EmploymentError::NotFound),
    };
    let resource = employer_resource(&employer.credit_code, &employer.division);
    authorize(who, Action::Read, resource).map_err(|_| EmploymentError::NotFound)?;
    authorize(who, Action::Write, resource).map_err(|_| EmploymentError::NotAllowed)?;
    if !a.status().employer_next().contains(&to) {
        return Err(not_now(a.status()));
    }
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(EmploymentError::invalid(
            "note",
            "field.length",
            "说明不能超过 500 个字。",
        ));
    }
    set_status(db, &a, to, Some(note).filter(|n| !n.is_empty())).await
}

/// The signed-in graduate's applications, their progress refreshed from the employers'
/// nodes that answer (the last known progress is shown for the others).
pub async fn mine(
    db: &Db,
    federation: Option<&Federation>,
    here: &str,
    who: &Principal,
) -> Result<Vec<Application>, EmploymentError> {
    let Scope::Person(key) = &who.scope else {
        return Err(EmploymentError::NotAllowed);
    };
    let sql =
        format!("SELECT {COLUMNS} FROM applications WHERE applicant = $1 ORDER BY created_ms DESC");
    let load = || async {
        let rows: Vec<Application> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(key).fetch_all(p).await?);
        Ok::<_, EmploymentError>(rows)
    };
    let rows = load().await?;
    let Some(federation) = federation else {
        return Ok(rows);
    };
    let members: BTreeMap<&str, ()> = rows
        .iter()
        .filter(|a| a.employer.is_none() && a.job_member != here)
        .map(|a| (a.job_member.as_str(), ()))
        .collect();
    if members.is_empty() {
        return Ok(rows);
    }
    let applicant_ref = format!(
        "{here}:{}",
        exchange::index::digest_of(federation.index_key(), IdentifierKind::CitizenId, key)
    );
    let body = serde_json::to_vec(&StatusRequest { applicant_ref }).unwrap_or_default();
    if let Ok(current) = federation.current() {
        for member in members.keys() {
            let answer = call::ask(
                federation,
                &current,
                member,
                APPLICATION_STATUS,
                PURPOSE,
                &body,
            )
            .await;
            let Ok(progress) = answer.and_then(|b| {
                serde_json::from_slice::<Vec<Progress>>(&b).map_err(|_| call::unreadable_answer())
            }) else {
                continue;
            };
            for p in progress {
                on_db!(db, c => sqlx::query(
                    "UPDATE applications SET status = $2, note = $3, updated_ms = $4                      WHERE id = $1 AND applicant = $5 AND updated_ms < $4")
                    .bind(&p.id).bind(&p.status).bind(&p.note).bind(p.updated_ms).bind(key)
                    .execute(c).await?.rows_affected());
            }
        }
    }
    load().await
}

/// The graduate accepts or declines an offer, or withdraws an application, on the
/// employer's node (this one or the peer's), then on their own copy.
pub async fn respond(
    db: &Db,
    federation: Option<&Federation>,
    here: &str,
    who: &Principal,
    id: &str,
    to: ApplicationStatus,
) -> Result<(), EmploymentError> {
    let Scope::Person(key) = &who.scope else {
        return Err(EmploymentError::NotAllowed);
    };
    let a = locate(db, id)
        .await?
        .filter(|a| a.applicant.as_deref() == Some(key))
        .ok_or(EmploymentError::NotFound)?;
    if a.employer.is_some() {
        return move_as_applicant(db, id, key, to).await;
    }
    let federation = federation.ok_or_else(|| {
        EmploymentError::State("本节点未加入联盟，无法联系用人单位所在节点。".into())
    })?;
    let current = federation
        .current()
        .map_err(|e| EmploymentError::State(kernel::Localized::message(&e, Lang::Zh)))?;
    let applicant_ref = format!(
        "{here}:{}",
        exchange::index::digest_of(federation.index_key(), IdentifierKind::CitizenId, key)
    );
    let body = serde_json::to_vec(&RespondRequest {
        applicant_ref,
        id: id.to_owned(),
        to,
    })
    .unwrap_or_default();
    let answer = call::ask(
        federation,
        &current,
        &a.job_member,
        APPLICATION_RESPOND,
        PURPOSE,
        &body,
    )
    .await
    .map_err(|e| {
        EmploymentError::State(format!(
            "用人单位所在节点暂时无法连接，请稍后再试（{}）。",
            e.message
        ))
    })?;
    match serde_json::from_slice::<Result<ApplicationStatus, String>>(&answer) {
        Ok(Ok(_)) => {
            on_db!(db, c => sqlx::query(
                "UPDATE applications SET status = $2, updated_ms = $3 WHERE id = $1")
                .bind(id).bind(to.as_str()).bind(platform::now_ms()).execute(c).await?.rows_affected());
            Ok(())
        }
        Ok(Err(message)) => Err(EmploymentError::State(message)),
        Err(_) => Err(EmploymentError::State(
            "对方节点的答复无法识别，请稍后再试。".into(),
        )),
    }
}
