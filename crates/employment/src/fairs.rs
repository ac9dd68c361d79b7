//! 双选会: job fairs a bureau organises in its area, with the jobs employers attach to them.

use kernel::Localized;
use kernel::access::{Action, Principal, Resource, authorize};
use kernel::division::DivisionCode;
use platform::audit::{self, AuditEntry};
use platform::{Db, DbError, on_db, on_tx};
use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::jobs::{COLUMNS, CST, FROM, Job, JobStatus};
use crate::{EmploymentError, Problem};

/// A fair as the form or the API sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FairInput {
    pub title: String,
    /// Who organises it, as shown (e.g. 重庆市教育委员会).
    pub organiser: String,
    /// The county or prefecture it is held in.
    pub division: String,
    pub venue: String,
    /// `YYYY-MM-DD HH:MM`, UTC+8.
    pub starts: String,
    pub ends: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Fair {
    pub id: String,
    pub title: String,
    pub organiser: String,
    pub division: String,
    pub venue: String,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub description: String,
}

fn when(field: &'static str, raw: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    let text = kernel::ids::normalize_code(raw).replace('T', " ");
    match PrimitiveDateTime::parse(
        &text,
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ) {
        Ok(t) => Some((t.assume_offset(CST).unix_timestamp_nanos() / 1_000_000) as i64),
        Err(_) => {
            problems.push(Problem::new(
                field,
                "field.datetime",
                "时间应为 年-月-日 时:分，例如 2027-03-15 09:00。",
            ));
            None
        }
    }
}

/// Creates a fair in the caller's area (a bureau over `division`, or a platform administrator).
pub async fn create(
    db: &Db,
    who: &Principal,
    input: &FairInput,
) -> Result<String, EmploymentError> {
    let mut problems = Vec::new();
    for (field, label, value, max) in [
        ("title", "名称", &input.title, 60),
        ("organiser", "主办单位", &input.organiser, 60),
        ("venue", "地点", &input.venue, 100),
    ] {
        let n = value.trim().chars().count();
        if n == 0 || n > max {
            problems.push(Problem::new(
                field,
                "field.length",
                format!("请填写{label}（不超过 {max} 个字）。"),
            ));
        }
    }
    if input.description.chars().count() > 2000 {
        problems.push(Problem::new(
            "description",
            "field.length",
            "简介不能超过 2000 个字。",
        ));
    }
    let division = DivisionCode::parse(&input.division)
        .map_err(|e| problems.push(Problem::new("division", e.code(), e.to_string())))
        .ok();
    let starts = when("starts", &input.starts, &mut problems);
    let ends = when("ends", &input.ends, &mut problems);
    if let (Some(s), Some(e)) = (starts, ends)
        && (e <= s || e < platform::now_ms())
    {
        problems.push(Problem::new(
            "ends",
            "fair.period",
            "结束时间应晚于开始时间，且不能早于现在。",
        ));
    }
    let (Some(division), Some(starts), Some(ends)) = (division, starts, ends) else {
        return Err(EmploymentError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(EmploymentError::Invalid(problems));
    }
    authorize(
        who,
        Action::Write,
        Resource::Oversight {
            division: division.as_str(),
        },
    )
    .map_err(|_| EmploymentError::NotAllowed)?;
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO job_fairs (id, title, organiser, created_by, division, venue, starts_ms, ends_ms, description, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&id).bind(input.title.trim()).bind(input.organiser.trim()).bind(&who.username)
        .bind(division.as_str()).bind(input.venue.trim()).bind(starts).bind(ends)
        .bind(input.description.trim()).bind(now)
        .execute(&mut *c).await?.rows_affected());
    let entry = AuditEntry::new(&who.username, who.role.as_str(), "fair.create", "双选会")
        .detail(serde_json::json!({ "fair": id, "title": input.title.trim() }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(id)
}

const FAIR_COLUMNS: &str = "id, title, organiser, division, venue, starts_ms, ends_ms, description";

/// Fairs that have not ended, soonest first (public).
pub async fn upcoming(db: &Db) -> Result<Vec<Fair>, DbError> {
    let sql = format!(
        "SELECT {FAIR_COLUMNS} FROM job_fairs WHERE ends_ms >= $1 ORDER BY starts_ms LIMIT 100"
    );
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(platform::now_ms()).fetch_all(p).await?),
    )
}

/// One fair and its published jobs (public).
pub async fn get(db: &Db, id: &str) -> Result<(Fair, Vec<Job>), EmploymentError> {
    let sql = format!("SELECT {FAIR_COLUMNS} FROM job_fairs WHERE id = $1");
    let fair: Fair =
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(EmploymentError::NotFound)?;
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE j.fair_id = $1 AND j.status = 'published' ORDER BY j.published_ms DESC"
    );
    let jobs: Vec<Job> =
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(p).await?);
    let now = platform::now_ms();
    Ok((fair, jobs.into_iter().filter(|j| j.is_open(now)).collect()))
}

/// Attaches the employer's job to a fair that has not ended (or detaches it with `None`).
pub async fn attach(
    db: &Db,
    who: &Principal,
    job_id: &str,
    fair_id: Option<&str>,
) -> Result<(), EmploymentError> {
    let job = crate::jobs::locate(db, job_id)
        .await?
        .ok_or(EmploymentError::NotFound)?;
    let employer = Resource::Org {
        code: &job.employer,
        division: &job.employer_division,
    };
    authorize(who, Action::Read, employer).map_err(|_| EmploymentError::NotFound)?;
    if !job.standing(who).owns {
        return Err(EmploymentError::NotAllowed);
    }
    if matches!(job.status(), JobStatus::Closed | JobStatus::Expired) {
        return Err(EmploymentError::State(
            "已关闭或已截止的岗位不能参加双选会。".into(),
        ));
    }
    if let Some(fair_id) = fair_id {
        let (ends,): (i64,) =
            on_db!(db, p => sqlx::query_as("SELECT ends_ms FROM job_fairs WHERE id = $1")
            .bind(fair_id).fetch_optional(p).await?)
            .ok_or_else(|| {
                EmploymentError::invalid("fair_id", "fair.unknown", "没有这场双选会。")
            })?;
        if ends < platform::now_ms() {
            return Err(EmploymentError::State("这场双选会已结束。".into()));
        }
    }
    on_db!(db, p => sqlx::query("UPDATE jobs SET fair_id = $2 WHERE id = $1")
        .bind(job_id).bind(fair_id).execute(p).await?.rows_affected());
    Ok(())
}
