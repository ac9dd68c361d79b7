//! Jobs (招聘岗位) and their lifecycle: an employer writes a draft and submits it; the bureau
//! over the employer approves (published) or sends it back with a reason; the employer or the
//! bureau closes it; it expires by itself after its deadline. Published jobs are public.

use kernel::access::{Action, Principal, Resource, Role, authorize};
use kernel::division::DivisionCode;
use kernel::{Lang, Localized, labelled_enum};
use platform::audit::{self, AuditEntry};
use platform::{Db, DbError, on_db, on_tx};
use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::employers::{self, EmployerStatus};
use crate::{EmploymentError, Level, Problem};

labelled_enum! {
    JobStatus {
        Draft = "draft", "草稿", "Draft";
        Pending = "pending", "待审核", "Awaiting review";
        Published = "published", "招聘中", "Published";
        Rejected = "rejected", "已退回", "Sent back";
        Closed = "closed", "已关闭", "Closed";
        Expired = "expired", "已截止", "Expired";
    }
}

/// A job as the form or the API sends it; every field is checked by [`JobInput::check`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct JobInput {
    pub title: String,
    pub description: String,
    /// GB/T 2260 code of the county (or prefecture) where the work is.
    pub city: String,
    /// Monthly salary range in yuan.
    pub salary_min: String,
    pub salary_max: String,
    /// The minimum level (slug of [`Level`]).
    pub level: String,
    /// Majors wanted, separated by 、 , ， ; or spaces; empty for 不限.
    #[serde(default)]
    pub majors: String,
    pub headcount: String,
    /// YYYY-MM-DD, the last day to apply.
    pub deadline: String,
    pub contact: String,
}

/// A job's fields after checking.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFields {
    pub title: String,
    pub description: String,
    pub city: String,
    pub salary_min: i64,
    pub salary_max: i64,
    pub level: Level,
    pub majors: Vec<String>,
    pub headcount: i64,
    pub deadline: Date,
    pub contact: String,
}

/// China Standard Time, in which deadlines are days.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub fn today_cst() -> Date {
    OffsetDateTime::now_utc().to_offset(CST).date()
}

/// The last millisecond of `day` in UTC+8.
pub fn end_of_day_ms(day: Date) -> i64 {
    let next = day.next_day().unwrap_or(day).midnight().assume_offset(CST);
    (next.unix_timestamp_nanos() / 1_000_000) as i64 - 1
}

fn number(
    field: &'static str,
    label: &str,
    raw: &str,
    range: (i64, i64),
    problems: &mut Vec<Problem>,
) -> i64 {
    let s = kernel::ids::normalize_code(raw).replace([',', ' '], "");
    match s.parse::<i64>() {
        Ok(n) if (range.0..=range.1).contains(&n) => n,
        Ok(_) | Err(_) if s.is_empty() => {
            problems.push(Problem::required(field, label));
            0
        }
        _ => {
            problems.push(Problem::new(
                field,
                "field.number",
                format!(
                    "{label}应为 {}–{} 之间的整数，实为“{}”。",
                    range.0,
                    range.1,
                    raw.trim()
                ),
            ));
            0
        }
    }
}

fn text(
    field: &'static str,
    label: &str,
    raw: &str,
    chars: (usize, usize),
    problems: &mut Vec<Problem>,
) -> String {
    let s = raw.trim().to_owned();
    let n = s.chars().count();
    if n == 0 {
        problems.push(Problem::required(field, label));
    } else if !(chars.0..=chars.1).contains(&n) {
        problems.push(Problem::new(
            field,
            "field.length",
            format!("{label}应为 {}–{} 个字，现为 {n} 个字。", chars.0, chars.1),
        ));
    }
    s
}

/// Splits a list of majors as people type it.
pub fn split_majors(raw: &str) -> Vec<String> {
    let mut majors: Vec<String> = raw
        .split(['、', ',', '，', ';', '；', '\n', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|m| !m.is_empty() && *m != "不限")
        .map(str::to_owned)
        .collect();
    majors.dedup();
    majors
}

impl JobInput {
    /// Checks every field against `today` (UTC+8) and reports all problems at once.
    pub fn check(&self, today: Date) -> Result<JobFields, EmploymentError> {
        let mut problems = Vec::new();
        let title = text("title", "岗位名称", &self.title, (2, 60), &mut problems);
        let description = text(
            "description",
            "岗位描述",
            &self.description,
            (10, 5000),
            &mut problems,
        );
        let contact = text(
            "contact",
            "联系方式",
            &self.contact,
            (2, 100),
            &mut problems,
        );
        let city = match DivisionCode::parse(&self.city) {
            Ok(c) => c.as_str().to_owned(),
            Err(e) => {
                problems.push(Problem::new("city", e.code(), e.to_string()));
                String::new()
            }
        };
        let salary_min = number(
            "salary_min",
            "最低月薪",
            &self.salary_min,
            (1, 1_000_000),
            &mut problems,
        );
        let salary_max = number(
            "salary_max",
            "最高月薪",
            &self.salary_max,
            (1, 1_000_000),
            &mut problems,
        );
        if salary_min > 0 && salary_max > 0 && salary_min > salary_max {
            problems.push(Problem::new(
                "salary_max",
                "job.salary_range",
                "最高月薪不能低于最低月薪。",
            ));
        }
        let level = Level::parse(&self.level);
        if level.is_none() {
            problems.push(Problem::new(
                "level",
                "field.choice",
                "请选择最低学历要求。",
            ));
        }
        let majors = split_majors(&self.majors);
        if majors.len() > 20 || majors.iter().any(|m| m.chars().count() > 30) {
            problems.push(Problem::new(
                "majors",
                "job.majors",
                "专业要求最多 20 个，每个不超过 30 个字。",
            ));
        }
        let headcount = number(
            "headcount",
            "招聘人数",
            &self.headcount,
            (1, 10_000),
            &mut problems,
        );
        let deadline = Date::parse(
            &kernel::ids::normalize_code(&self.deadline),
            format_description!("[year]-[month]-[day]"),
        );
        let deadline = match deadline {
            Ok(d) if d >= today && d <= today + Duration::days(366) => Some(d),
            Ok(_) => {
                problems.push(Problem::new(
                    "deadline",
                    "job.deadline",
                    "截止日期应在今天至一年以内。",
                ));
                None
            }
            Err(_) => {
                problems.push(Problem::new(
                    "deadline",
                    "field.date",
                    "截止日期应为 年-月-日，例如 2027-06-30。",
                ));
                None
            }
        };
        match (level, deadline) {
            (Some(level), Some(deadline)) if problems.is_empty() => Ok(JobFields {
                title,
                description,
                city,
                salary_min,
                salary_max,
                level,
                majors,
                headcount,
                deadline,
                contact,
            }),
            _ => Err(EmploymentError::Invalid(problems)),
        }
    }
}

/// A job as stored, with its employer's name and kind.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    pub employer: String,
    pub employer_name: String,
    pub employer_type: String,
    #[serde(skip)]
    pub employer_division: String,
    pub title: String,
    pub description: String,
    pub city: String,
    pub salary_min: i64,
    pub salary_max: i64,
    pub level: String,
    #[serde(skip)]
    pub majors_json: String,
    pub headcount: i64,
    pub deadline: String,
    pub deadline_ms: i64,
    pub contact: String,
    pub status: String,
    pub review_note: Option<String>,
    pub published_ms: Option<i64>,
    pub updated_ms: i64,
}

impl Job {
    pub fn majors(&self) -> Vec<String> {
        serde_json::from_str(&self.majors_json).unwrap_or_default()
    }

    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status).unwrap_or(JobStatus::Draft)
    }

    /// Published and not past its deadline at `now_ms`.
    pub fn is_open(&self, now_ms: i64) -> bool {
        self.status() == JobStatus::Published && self.deadline_ms >= now_ms
    }

    pub fn city_name(&self) -> String {
        place_name(&self.city)
    }

    pub fn level_label(&self) -> &'static str {
        Level::parse(&self.level).map_or("", |l| l.label(Lang::Zh))
    }

    pub fn standing(&self, who: &Principal) -> Standing {
        let oversees = authorize(
            who,
            Action::Write,
            Resource::Oversight {
                division: &self.employer_division,
            },
        )
        .is_ok();
        let writes = authorize(who, Action::Write, self.employer_resource()).is_ok();
        Standing {
            owns: writes && matches!(who.role, Role::Employer | Role::PlatformAdmin),
            oversees,
        }
    }

    fn employer_resource(&self) -> Resource<'_> {
        Resource::Org {
            code: &self.employer,
            division: &self.employer_division,
        }
    }

    /// What the search index holds of it.
    pub fn doc(&self) -> search::JobDoc {
        search::JobDoc {
            key: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            employer: self.employer_name.clone(),
            employer_type: self.employer_type.clone(),
            city: self.city.clone(),
            level: self.level.clone(),
            majors: self.majors(),
            salary_min: self.salary_min.clamp(0, u32::MAX as i64) as u32,
            salary_max: self.salary_max.clamp(0, u32::MAX as i64) as u32,
            published_ms: self.published_ms.unwrap_or(self.updated_ms),
            deadline_ms: self.deadline_ms,
        }
    }
}

/// "重庆市渝中区", "四川省成都市武侯区": a division code as people read it.
pub fn place_name(code: &str) -> String {
    kernel::division::lookup(code)
        .map(|d| d.full_name())
        .unwrap_or_default()
}

pub(crate) const COLUMNS: &str = "j.id, j.employer, e.name AS employer_name, e.employer_type, \
    e.division AS employer_division, j.title, j.description, j.city, j.salary_min, j.salary_max, \
    j.level, j.majors AS majors_json, j.headcount, j.deadline, j.deadline_ms, j.contact, j.status, \
    j.review_note, j.published_ms, j.updated_ms";
pub(crate) const FROM: &str = "FROM jobs j JOIN employers e ON e.credit_code = j.employer";

pub(crate) async fn locate(db: &Db, id: &str) -> Result<Option<Job>, DbError> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE j.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
}

/// A job as its reader may see it: open jobs are public; others only for the employer's
/// users and the bureaus over the employer.
pub async fn get(db: &Db, who: Option<&Principal>, id: &str) -> Result<Job, EmploymentError> {
    let job = locate(db, id).await?.ok_or(EmploymentError::NotFound)?;
    if job.is_open(platform::now_ms()) {
        return Ok(job);
    }
    let who = who.ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, job.employer_resource()).map_err(|_| EmploymentError::NotFound)?;
    Ok(job)
}

/// Which jobs a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The caller's own employer's jobs, every status.
    Own,
    /// Jobs awaiting the caller's review (bureaus).
    ToReview,
}

pub async fn list(db: &Db, who: &Principal, listing: Listing) -> Result<Vec<Job>, EmploymentError> {
    use kernel::access::Scope;
    let (condition, arg) = match (listing, &who.scope) {
        (Listing::Own, Scope::Org(code)) => ("j.employer = $1", code.clone()),
        (Listing::ToReview, Scope::Division(prefix)) => (
            "j.status = 'pending' AND e.division LIKE $1",
            format!("{prefix}%"),
        ),
        (Listing::ToReview, Scope::Node) => {
            ("j.status = 'pending' AND e.division LIKE $1", "%".into())
        }
        _ => return Err(EmploymentError::NotAllowed),
    };
    let sql =
        format!("SELECT {COLUMNS} {FROM} WHERE {condition} ORDER BY j.updated_ms DESC LIMIT 500");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(arg).fetch_all(p).await?))
}

/// Creates a draft for the caller's employer (`submit` sends it for review at once).
pub async fn create(
    db: &Db,
    who: &Principal,
    member: &str,
    input: &JobInput,
    submit: bool,
) -> Result<String, EmploymentError> {
    let kernel::access::Scope::Org(code) = &who.scope else {
        return Err(EmploymentError::NotAllowed);
    };
    let employer = employers::locate(db, code)
        .await?
        .ok_or(EmploymentError::NotAllowed)?;
    authorize(who, Action::Write, employer.resource()).map_err(|_| EmploymentError::NotAllowed)?;
    let fields = input.check(today_cst())?;
    if submit {
        verified(&employer)?;
    }
    let id = format!(
        "{member}-J-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let status = if submit {
        JobStatus::Pending
    } else {
        JobStatus::Draft
    };
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO jobs (id, employer, title, description, city, salary_min, salary_max, level, majors, \
         headcount, deadline, deadline_ms, contact, status, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)")
        .bind(&id).bind(code).bind(&fields.title).bind(&fields.description).bind(&fields.city)
        .bind(fields.salary_min).bind(fields.salary_max).bind(fields.level.as_str())
        .bind(serde_json::to_string(&fields.majors).unwrap_or_default()).bind(fields.headcount)
        .bind(fields.deadline.to_string()).bind(end_of_day_ms(fields.deadline)).bind(&fields.contact)
        .bind(status.as_str()).bind(now)
        .execute(&mut *c).await?.rows_affected());
    audit::append(&mut tx, &[job_entry(who, "job.create", &id, status)]).await?;
    tx.commit().await?;
    Ok(id)
}

fn verified(employer: &employers::Employer) -> Result<(), EmploymentError> {
    if employer.status() == EmployerStatus::Verified {
        Ok(())
    } else {
        Err(EmploymentError::State(
            "单位尚未通过教育行政部门认证，认证后才能发布岗位（可先保存草稿）。".into(),
        ))
    }
}

fn job_entry(who: &Principal, action: &str, id: &str, to: JobStatus) -> AuditEntry {
    AuditEntry::new(&who.username, who.role.as_str(), action, "就业岗位管理")
        .detail(serde_json::json!({ "job": id, "status": to.as_str() }))
}

/// Rewrites a job's fields. A job that was published or under review goes back to review.
pub async fn update(
    db: &Db,
    who: &Principal,
    id: &str,
    input: &JobInput,
) -> Result<(), EmploymentError> {
    let job = own_job(db, who, id).await?;
    let fields = input.check(today_cst())?;
    let to = match job.status() {
        JobStatus::Draft | JobStatus::Rejected => job.status(),
        JobStatus::Pending | JobStatus::Published => JobStatus::Pending,
        s => return Err(not_now(s)),
    };
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE jobs SET title = $2, description = $3, city = $4, salary_min = $5, salary_max = $6, level = $7, \
         majors = $8, headcount = $9, deadline = $10, deadline_ms = $11, contact = $12, status = $13, updated_ms = $14 \
         WHERE id = $1 AND status = $15")
        .bind(id).bind(&fields.title).bind(&fields.description).bind(&fields.city)
        .bind(fields.salary_min).bind(fields.salary_max).bind(fields.level.as_str())
        .bind(serde_json::to_string(&fields.majors).unwrap_or_default()).bind(fields.headcount)
        .bind(fields.deadline.to_string()).bind(end_of_day_ms(fields.deadline)).bind(&fields.contact)
        .bind(to.as_str()).bind(platform::now_ms()).bind(&job.status)
        .execute(&mut *c).await?.rows_affected());
    if changed != 1 {
        return Err(DbError::Changed(id.to_owned()).into());
    }
    audit::append(&mut tx, &[job_entry(who, "job.update", id, to)]).await?;
    tx.commit().await?;
    Ok(())
}

async fn own_job(db: &Db, who: &Principal, id: &str) -> Result<Job, EmploymentError> {
    let job = locate(db, id).await?.ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, job.employer_resource()).map_err(|_| EmploymentError::NotFound)?;
    if !job.standing(who).owns {
        return Err(EmploymentError::NotAllowed);
    }
    Ok(job)
}

/// What a caller may do with a job: write it as its employer, or decide on it as the bureau
/// over the employer. A bureau's area covers the employer's organisation too, but a bureau
/// does not write an employer's jobs for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub owns: bool,
    pub oversees: bool,
}

fn not_now(s: JobStatus) -> EmploymentError {
    EmploymentError::State(format!(
        "岗位当前为“{}”，不能办理此事项。",
        s.label(Lang::Zh)
    ))
}

/// A decision on a job: its employer submits or closes it; the bureau over the employer
/// approves or sends it back (with a reason) or closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum JobDecision {
    Submit,
    Approve,
    SendBack,
    Close,
}

impl JobDecision {
    pub fn parse(s: &str) -> Option<JobDecision> {
        serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).ok()
    }
}

/// Applies a decision; the job moves only from the status it was read in.
pub async fn decide(
    db: &Db,
    who: &Principal,
    id: &str,
    decision: JobDecision,
    note: &str,
) -> Result<JobStatus, EmploymentError> {
    let job = locate(db, id).await?.ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, job.employer_resource())
        .or_else(|_| {
            authorize(
                who,
                Action::Read,
                Resource::Oversight {
                    division: &job.employer_division,
                },
            )
        })
        .map_err(|_| EmploymentError::NotFound)?;
    let Standing { owns, oversees } = job.standing(who);
    let from = job.status();
    let note = note.trim();
    let to = match decision {
        JobDecision::Submit if owns => {
            let employer = employers::locate(db, &job.employer)
                .await?
                .ok_or(EmploymentError::NotFound)?;
            verified(&employer)?;
            match from {
                JobStatus::Draft | JobStatus::Rejected => JobStatus::Pending,
                s => return Err(not_now(s)),
            }
        }
        JobDecision::Approve | JobDecision::SendBack if oversees => {
            if from != JobStatus::Pending {
                return Err(not_now(from));
            }
            if decision == JobDecision::SendBack {
                if note.is_empty() {
                    return Err(EmploymentError::invalid(
                        "note",
                        "field.required",
                        "请填写退回原因。",
                    ));
                }
                JobStatus::Rejected
            } else if job.deadline_ms < platform::now_ms() {
                return Err(EmploymentError::State(
                    "岗位的截止日期已过，不能发布。".into(),
                ));
            } else {
                JobStatus::Published
            }
        }
        JobDecision::Close if owns || oversees => match from {
            JobStatus::Closed | JobStatus::Expired => return Err(not_now(from)),
            _ => JobStatus::Closed,
        },
        _ => return Err(EmploymentError::NotAllowed),
    };
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE jobs SET status = $2, review_note = CASE WHEN $3 = '' THEN review_note ELSE $3 END, \
         reviewed_by = CASE WHEN $4 THEN $5 ELSE reviewed_by END, \
         published_ms = CASE WHEN $2 = 'published' THEN $6 ELSE published_ms END, updated_ms = $6 \
         WHERE id = $1 AND status = $7")
        .bind(id).bind(to.as_str()).bind(note).bind(oversees).bind(&who.username).bind(now)
        .bind(from.as_str())
        .execute(&mut *c).await?.rows_affected());
    if changed != 1 {
        return Err(DbError::Changed(id.to_owned()).into());
    }
    let entry = job_entry(who, "job.decide", id, to);
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(to)
}

/// Marks published jobs past their deadline as expired (run periodically by every
/// instance; the conditional UPDATE makes concurrent runs harmless). Returns how many.
/// Nothing is written unless a job is due: the check is a read of an index.
pub async fn expire(db: &Db, now_ms: i64) -> Result<u64, DbError> {
    let due: Option<(String,)> = on_db!(db, p => sqlx::query_as(
        "SELECT id FROM jobs WHERE status = 'published' AND deadline_ms < $1 LIMIT 1")
        .bind(now_ms).fetch_optional(p).await?);
    if due.is_none() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE jobs SET status = 'expired', updated_ms = $1 WHERE status = 'published' AND deadline_ms < $1")
        .bind(now_ms).execute(&mut *c).await?.rows_affected());
    tx.commit().await?;
    Ok(n)
}

/// A published job as a bulk load gives it (synthetic data, or jobs moved from another
/// system), with its employer, taken as verified.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub id: String,
    pub employer_code: String,
    pub employer_name: String,
    pub employer_type: String,
    pub title: String,
    pub description: String,
    pub city: String,
    pub salary_min: i64,
    pub salary_max: i64,
    pub level: String,
    pub majors: Vec<String>,
    pub headcount: i64,
    pub published_ms: i64,
    pub deadline: Date,
}

/// Loads jobs and their employers in one transaction; rows already present are left as
/// they are (re-runnable). Jobs past their deadline are stored as expired.
pub async fn load(db: &Db, actor: &str, jobs: &[Loaded]) -> Result<u64, DbError> {
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    let mut inserted = 0;
    for j in jobs {
        let division = j.employer_code.get(2..8).unwrap_or(&j.city).to_owned();
        let division = if kernel::division::lookup(&division).is_some() {
            division
        } else {
            j.city.clone()
        };
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO orgs (code, name, kind, division_code, parent_code, created_ms) \
             VALUES ($1, $2, 'employer', $3, NULL, $4) ON CONFLICT (code) DO NOTHING")
            .bind(&j.employer_code).bind(&j.employer_name).bind(&division).bind(now)
            .execute(&mut *c).await?.rows_affected());
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO employers (credit_code, name, employer_type, division, address, contact_name, \
             contact_phone, status, reviewed_by, reviewed_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, '', '人事部', '023-00000000', 'verified', $5, $6, $6, $6) \
             ON CONFLICT (credit_code) DO NOTHING")
            .bind(&j.employer_code).bind(&j.employer_name).bind(&j.employer_type).bind(&division)
            .bind(actor).bind(now)
            .execute(&mut *c).await?.rows_affected());
        let deadline_ms = end_of_day_ms(j.deadline);
        let status = if deadline_ms < now {
            JobStatus::Expired
        } else {
            JobStatus::Published
        };
        inserted += on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO jobs (id, employer, title, description, city, salary_min, salary_max, level, majors, \
             headcount, deadline, deadline_ms, contact, status, reviewed_by, published_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '人事部', $13, $14, $15, $15, $16) \
             ON CONFLICT (id) DO NOTHING")
            .bind(&j.id).bind(&j.employer_code).bind(&j.title).bind(&j.description).bind(&j.city)
            .bind(j.salary_min).bind(j.salary_max).bind(&j.level)
            .bind(serde_json::to_string(&j.majors).unwrap_or_default()).bind(j.headcount)
            .bind(j.deadline.to_string()).bind(deadline_ms).bind(status.as_str()).bind(actor)
            .bind(j.published_ms).bind(now)
            .execute(&mut *c).await?.rows_affected());
    }
    tx.commit().await?;
    Ok(inserted)
}
