//! 学籍 (student-status) records.
//!
//! Architecture invariant: every read of a student's record goes through [`read_student`],
//! which authorises it against the caller's scope and audits it before returning anything.
//! Other crates never query the `students` table.

use kernel::access::{Action, Principal, Resource, Role, Scope, authorize};
use kernel::ids::{CitizenId, StudentNo};
use platform::audit::{AuditEntry, AuditLog, AuditUnavailable};
use platform::db::{Db, DbError, Tx};
use platform::{on_db, on_tx};
use serde::Serialize;

/// One student's record as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
pub struct Student {
    pub student_no: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub id_type: String,
    pub citizen_id: Option<String>,
    pub ethnicity: String,
    pub hukou_division: String,
    pub residence_division: String,
    pub school_code: String,
    pub stage: String,
    pub grade: String,
    pub class_name: String,
    pub enrol_date: String,
    pub status: String,
}

/// What a caller is shown: the record with the ID number masked unless their role needs it,
/// and the school's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StudentView {
    #[serde(flatten)]
    pub student: Student,
    pub school_name: String,
    pub id_masked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Unknown, or outside the caller's scope: the two are deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Audit(#[from] AuditUnavailable),
    #[error(transparent)]
    Db(#[from] DbError),
}

const COLUMNS: &str = "s.student_no, s.name, s.sex, s.birth_date, s.id_type, s.citizen_id, \
    s.ethnicity, s.hukou_division, s.residence_division, s.school_code, s.stage, s.grade, \
    s.class_name, s.enrol_date, s.status";

/// Masks an ID number for display (`5101**********123X`); anything that is not a valid
/// citizen ID is masked entirely but for its last four characters.
pub fn mask_id(id: &str) -> String {
    match CitizenId::parse(id) {
        Ok(c) => c.masked(),
        Err(_) => {
            let chars: Vec<char> = id.chars().collect();
            let keep = chars.len().saturating_sub(4);
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| if i < keep { '*' } else { *c })
                .collect()
        }
    }
}

/// Inserts students that are not yet stored (re-runnable seeding).
pub async fn insert_missing(tx: &mut Tx, students: &[Student]) -> Result<u64, DbError> {
    let now = platform::now_ms();
    let mut inserted = 0;
    for s in students {
        inserted += on_tx!(&mut *tx, c => sqlx::query(
            "INSERT INTO students (student_no, name, sex, birth_date, id_type, citizen_id, ethnicity, \
             hukou_division, residence_division, school_code, stage, grade, class_name, enrol_date, \
             status, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT DO NOTHING")
            .bind(&s.student_no).bind(&s.name).bind(&s.sex).bind(&s.birth_date).bind(&s.id_type)
            .bind(&s.citizen_id).bind(&s.ethnicity).bind(&s.hukou_division)
            .bind(&s.residence_division).bind(&s.school_code).bind(&s.stage).bind(&s.grade)
            .bind(&s.class_name).bind(&s.enrol_date).bind(&s.status).bind(now)
            .execute(&mut *c).await
            .map_err(DbError::from)?
            .rows_affected());
    }
    Ok(inserted)
}

/// Reads one student's record for `purpose`, if the caller's scope reaches it, and audits
/// the read before returning it.
pub async fn read_student(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    student_no: &StudentNo,
    purpose: &str,
) -> Result<StudentView, ReadError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        student: Student,
        school_name: String,
        division_code: String,
    }
    let sql = format!(
        "SELECT {COLUMNS}, o.name AS school_name, o.division_code FROM students s \
         JOIN orgs o ON o.code = s.school_code WHERE s.student_no = $1"
    );
    let row: Option<Row> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(student_no.as_str()).fetch_optional(p).await.map_err(DbError::from)?);
    let row = row.ok_or(ReadError::NotFound)?;
    let resource = Resource::PersonRecord {
        org_code: &row.student.school_code,
        division: &row.division_code,
        person_key: &row.student.student_no,
    };
    authorize(who, Action::Read, resource).map_err(|_| ReadError::NotFound)?;
    audit
        .record(
            AuditEntry::new(&who.username, who.role.as_str(), "student.read", purpose)
                .subject(&row.student.student_no, Some(&row.student.school_code)),
        )
        .await?;
    let mut student = row.student;
    let id_masked = !who.role.sees_full_ids();
    if id_masked {
        student.citizen_id = student.citizen_id.as_deref().map(mask_id);
    }
    Ok(StudentView {
        student,
        school_name: row.school_name,
        id_masked,
    })
}

/// A line in a list of students: enough to find the right record, ID number masked.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StudentLine {
    pub student_no: String,
    pub name: String,
    pub sex: String,
    pub school_code: String,
    pub grade: String,
    pub class_name: String,
    pub status: String,
}

/// Lists students within the caller's scope, optionally for one school. The listing is
/// audited as one entry (who listed what, how many rows were shown).
pub async fn list_students(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    school: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<StudentLine>, ReadError> {
    // The scope becomes SQL conditions; roles that may not list personal rows get nothing.
    let (division_prefix, org, person) = match (&who.scope, who.role) {
        (Scope::Node, _) => ("", None, None),
        (Scope::Division(p), _) => (p.as_str(), None, None),
        (Scope::Org(o), Role::SchoolAdmin | Role::Teacher) => ("", Some(o.as_str()), None),
        (Scope::Person(k), _) => ("", None, Some(k.as_str())),
        _ => return Ok(Vec::new()),
    };
    let sql = "SELECT s.student_no, s.name, s.sex, s.school_code, s.grade, s.class_name, s.status \
         FROM students s JOIN orgs o ON o.code = s.school_code \
         WHERE o.division_code LIKE $1 AND ($2 = '' OR s.school_code = $2) \
           AND ($3 = '' OR s.school_code = $3) AND ($4 = '' OR s.student_no = $4) \
         ORDER BY s.school_code, s.grade, s.class_name, s.student_no LIMIT $5 OFFSET $6";
    let rows: Vec<StudentLine> = on_db!(db, p => sqlx::query_as(sql)
        .bind(format!("{division_prefix}%"))
        .bind(org.unwrap_or(""))
        .bind(school.unwrap_or(""))
        .bind(person.unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(p).await.map_err(DbError::from)?);
    if !rows.is_empty() {
        audit
            .record(
                AuditEntry::new(&who.username, who.role.as_str(), "student.list", "学籍管理")
                    .detail(
                        serde_json::json!({"school": school, "offset": offset, "rows": rows.len()}),
                    ),
            )
            .await?;
    }
    Ok(rows)
}

/// Number of students per school, for dashboards (no personal data).
pub async fn count_by_school(
    db: &Db,
    division_prefix: &str,
) -> Result<Vec<(String, i64)>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT s.school_code, COUNT(*) FROM students s JOIN orgs o ON o.code = s.school_code \
         WHERE o.division_code LIKE $1 GROUP BY s.school_code ORDER BY s.school_code")
        .bind(format!("{division_prefix}%"))
        .fetch_all(p).await?))
}
