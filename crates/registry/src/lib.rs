//! 学籍 (student-status) records.
//!
//! Architecture invariant: every read of a student's record goes through [`read_student`],
//! which authorises it against the caller's scope and audits it before returning anything.
//! Other crates never query the `students` table.

use kernel::access::{Action, Principal, Resource, Role, Scope, authorize};
use kernel::ids::normalize_code;
use kernel::ids::{CitizenId, StudentNo};
use platform::audit::{AuditEntry, AuditLog, AuditUnavailable, AuditedReadError, KeyedRead};
use platform::db::{Db, DbError};
use platform::{on_db, on_tx};
use serde::{Deserialize, Serialize};

pub mod files;
pub mod import;
pub mod schools;
pub mod transfer;
pub mod validate;

/// Today's date in China Standard Time, as the 异动 history records dates.
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// One student's record as stored.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
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
    /// 年级 as a number (一年级 = 1 … 高三 = 12), for ordering and 升级/留级.
    pub grade_no: i64,
    pub class_name: String,
    pub enrol_date: String,
    pub status: String,
}

/// What a caller is shown: the record with the ID number masked unless their role needs it,
/// the school's name, and the record's 异动 history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StudentView {
    #[serde(flatten)]
    pub student: Student,
    pub school_name: String,
    /// The school's division code (scope decisions need it).
    pub school_division: String,
    pub id_masked: bool,
    pub changes: Vec<Change>,
}

/// One 异动 (status change) or change of the record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
pub struct Change {
    pub id: i64,
    pub change_type: String,
    pub change_date: String,
    pub reason: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
    pub actor: String,
    pub at_ms: i64,
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

impl From<AuditedReadError> for ReadError {
    fn from(e: AuditedReadError) -> ReadError {
        match e {
            AuditedReadError::Db(e) => ReadError::Db(e),
            AuditedReadError::Audit(e) => ReadError::Audit(e),
        }
    }
}

const COLUMNS: &str = "s.student_no, s.name, s.sex, s.birth_date, s.id_type, s.citizen_id, \
    s.ethnicity, s.hukou_division, s.residence_division, s.school_code, s.stage, s.grade, \
    s.grade_no, s.class_name, s.enrol_date, s.status";

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

/// Whether this caller gets full ID numbers: the roles that manage 学籍 and re-import what
/// they export. Everyone else sees them masked.
pub fn sees_full_ids(who: &Principal) -> bool {
    who.role.sees_full_ids() || who.scope == Scope::Node
}

#[derive(sqlx::FromRow)]
struct Located {
    #[sqlx(flatten)]
    student: Student,
    school_name: String,
    division_code: String,
    /// 1 until the record first changes; every change also writes history.
    version: i64,
}

impl Located {
    /// A row of [`LOCATE_SQL`] read through rusqlite, column by column in its order.
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Located> {
        Ok(Located {
            student: Student {
                student_no: r.get(0)?,
                name: r.get(1)?,
                sex: r.get(2)?,
                birth_date: r.get(3)?,
                id_type: r.get(4)?,
                citizen_id: r.get(5)?,
                ethnicity: r.get(6)?,
                hukou_division: r.get(7)?,
                residence_division: r.get(8)?,
                school_code: r.get(9)?,
                stage: r.get(10)?,
                grade: r.get(11)?,
                grade_no: r.get(12)?,
                class_name: r.get(13)?,
                enrol_date: r.get(14)?,
                status: r.get(15)?,
            },
            school_name: r.get(16)?,
            division_code: r.get(17)?,
            version: r.get(18)?,
        })
    }
}

/// The record and its school, from `students s` joined to `orgs o` by `join`, for the
/// 学籍号 that `condition` names. The 学籍号 comes first, as [`KeyedRead`] asks.
fn locate_sql(join: &str, condition: &str) -> String {
    format!(
        "SELECT {COLUMNS}, o.name AS school_name, o.division_code, s.version FROM students s \
         {join} WHERE s.student_no {condition}"
    )
}

/// Built once, as they run on every look-up.
static LOCATE_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| locate_sql("JOIN orgs o ON o.code = s.school_code", "= $1"));
/// The batched look-up (PostgreSQL). Its school comes from a probe of the schools' key per
/// record: with a plain join PostgreSQL hashed the whole `orgs` table for every batch (a
/// sequential scan of thousands of rows for a few dozen records), and the `LIMIT` keeps the
/// planner from turning the lateral probe back into that join.
static LOCATE_ANY_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    locate_sql(
        "CROSS JOIN LATERAL (SELECT name, division_code FROM orgs \
         WHERE code = s.school_code LIMIT 1) o",
        "= ANY($1)",
    )
});

async fn locate(db: &Db, student_no: &StudentNo) -> Result<Option<Located>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(LOCATE_SQL.as_str()))
        .bind(student_no.as_str()).fetch_optional(p).await?),
    )
}

/// [`locate`] as the hot path runs it: on the audit writer's warm connection (SQLite) or
/// batched with the look-ups waiting at the same moment (PostgreSQL).
fn locate_keyed(student_no: &str) -> KeyedRead<Located> {
    KeyedRead {
        key: student_no.to_owned(),
        sqlite: locate_sqlite,
        postgres: LOCATE_ANY_SQL.as_str(),
    }
}

/// [`locate`] on a rusqlite connection.
fn locate_sqlite(c: &rusqlite::Connection, student_no: &str) -> rusqlite::Result<Option<Located>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached(&LOCATE_SQL)?
        .query_row([student_no], Located::from_sqlite)
        .optional()
}

fn resource(l: &Located) -> Resource<'_> {
    Resource::PersonRecord {
        org_code: &l.student.school_code,
        division: &l.division_code,
        person_key: &l.student.student_no,
    }
}

/// Reads one student's record and history for `purpose`, if the caller's scope reaches it,
/// and audits the read before returning it. The look-up, its authorisation and its audit
/// entry make one trip ([`AuditLog::read_audited`]): this is the node's hottest path.
pub async fn read_student(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    student_no: &StudentNo,
    purpose: &str,
) -> Result<StudentView, ReadError> {
    let (caller, purpose) = (who.clone(), purpose.to_owned());
    let read = audit
        .read_audited(locate_keyed(student_no.as_str()), move |found| {
            authorize(&caller, Action::Read, resource(found)).ok()?;
            Some(read_entry(&caller, &purpose, found))
        })
        .await?;
    // Found but not recorded: outside the caller's scope.
    let (Some(found), true) = read else {
        return Err(ReadError::NotFound);
    };
    Ok(view_of(db, found, !sees_full_ids(who)).await?)
}

fn read_entry(who: &Principal, purpose: &str, found: &Located) -> AuditEntry {
    AuditEntry::new(&who.username, who.role.as_str(), "student.read", purpose)
        .subject(&found.student.student_no, Some(&found.student.school_code))
}

/// The record with its history, the ID number masked when asked.
async fn view_of(db: &Db, found: Located, id_masked: bool) -> Result<StudentView, DbError> {
    // A record that never changed has no history: skip the query on the hot path.
    let changes = if found.version > 1 {
        history(db, &found.student.student_no).await?
    } else {
        Vec::new()
    };
    let mut student = found.student;
    if id_masked {
        student.citizen_id = student.citizen_id.as_deref().map(mask_id);
    }
    Ok(StudentView {
        student,
        school_name: found.school_name,
        school_division: found.division_code,
        id_masked,
        changes,
    })
}

/// A record and its history as a peer node receives it, before the purpose's field list
/// minimises it. No user scope applies: the federation directory's rule for the calling
/// member and purpose does, and the caller audits the read with the exchange it belongs to.
pub async fn record_for_peer(
    db: &Db,
    audit: &AuditLog,
    student_no: &str,
) -> Result<Option<StudentView>, DbError> {
    let Ok(no) = StudentNo::parse(student_no) else {
        return Ok(None);
    };
    let (found, _) = audit
        .read_audited(locate_keyed(no.as_str()), |_| None)
        .await?;
    match found {
        Some(found) => Ok(Some(view_of(db, found, false).await?)),
        None => Ok(None),
    }
}

async fn history(db: &Db, student_no: &str) -> Result<Vec<Change>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, change_type, change_date, reason, from_status, to_status, detail, actor, at_ms \
         FROM student_changes WHERE student_no = $1 ORDER BY id")
        .bind(student_no).fetch_all(p).await?))
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

/// Filters for browsing, searching and exporting. Empty fields do not filter.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct StudentQuery {
    /// 学籍号 (full-width digits and lowercase x accepted).
    pub student_no: Option<String>,
    /// 身份证件号码, exact.
    pub citizen_id: Option<String>,
    /// 姓名, exact.
    pub name: Option<String>,
    /// 姓名 starts with.
    pub name_prefix: Option<String>,
    /// 学校标识码.
    pub school: Option<String>,
    /// 年级, e.g. 三年级.
    pub grade: Option<String>,
    /// 学籍状态, e.g. 在读.
    pub status: Option<String>,
}

/// The caller's scope and the query's filters as SQL conditions on `students s JOIN orgs o`
/// with their parameters `$1`…`$10`, or `None` when the caller may not list personal rows.
fn filters(who: &Principal, q: &StudentQuery) -> Option<(&'static str, [String; 10])> {
    let (division_prefix, org, person) = match (&who.scope, who.role) {
        (Scope::Node, _) => (String::new(), String::new(), String::new()),
        (Scope::Division(p), _) => (p.clone(), String::new(), String::new()),
        (Scope::Org(o), Role::SchoolAdmin | Role::Teacher) => {
            (String::new(), o.clone(), String::new())
        }
        (Scope::Person(k), _) => (String::new(), String::new(), k.clone()),
        _ => return None,
    };
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let code = |v: &Option<String>| v.as_deref().map(normalize_code).unwrap_or_default();
    // LIKE metacharacters in a typed prefix are literal.
    let prefix = clean(&q.name_prefix)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    const CONDITIONS: &str = "o.division_code LIKE $1 AND ($2 = '' OR s.school_code = $2) \
        AND ($3 = '' OR s.student_no = $3) AND ($4 = '' OR s.student_no = $4) \
        AND ($5 = '' OR s.citizen_id = $5) AND ($6 = '' OR s.name = $6) \
        AND ($7 = '%' OR s.name LIKE $7 ESCAPE '\\') AND ($8 = '' OR s.school_code = $8) \
        AND ($9 = '' OR s.grade = $9) AND ($10 = '' OR s.status = $10)";
    Some((
        CONDITIONS,
        [
            format!("{division_prefix}%"),
            org,
            person,
            code(&q.student_no),
            code(&q.citizen_id),
            clean(&q.name),
            format!("{prefix}%"),
            code(&q.school),
            clean(&q.grade),
            clean(&q.status),
        ],
    ))
}

/// Searches students within the caller's scope. The listing is audited as one entry (who
/// searched for what kind of thing, how many rows were shown); the values searched for are
/// not copied into the log.
pub async fn search_students(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    q: &StudentQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<StudentLine>, ReadError> {
    let Some((conditions, params)) = filters(who, q) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT s.student_no, s.name, s.sex, s.school_code, s.grade, s.class_name, s.status \
         FROM students s JOIN orgs o ON o.code = s.school_code WHERE {conditions} \
         ORDER BY s.school_code, s.grade_no, s.class_name, s.student_no LIMIT $11 OFFSET $12"
    );
    let rows: Vec<StudentLine> = on_db!(db, p => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for v in &params {
            query = query.bind(v);
        }
        query.bind(limit).bind(offset).fetch_all(p).await.map_err(DbError::from)?
    });
    if !rows.is_empty() {
        let used: Vec<&str> = [
            ("student_no", &q.student_no),
            ("citizen_id", &q.citizen_id),
            ("name", &q.name),
            ("name_prefix", &q.name_prefix),
            ("school", &q.school),
            ("grade", &q.grade),
            ("status", &q.status),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
        .map(|(k, _)| k)
        .collect();
        audit
            .record(
                AuditEntry::new(
                    &who.username,
                    who.role.as_str(),
                    "student.search",
                    "学籍管理",
                )
                .detail(serde_json::json!({"filters": used, "offset": offset, "rows": rows.len()})),
            )
            .await?;
    }
    Ok(rows)
}

/// Streams every student matching `q` within the caller's scope to `sink`, in pages, in the
/// order of [`validate::COLUMNS`]; ID numbers masked unless the caller sees them in full.
/// Audited as one export entry. Returns the number of rows.
pub async fn export_students(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    q: &StudentQuery,
    mut sink: impl FnMut(&Student) -> std::io::Result<()>,
) -> Result<u64, ExportError> {
    const PAGE: i64 = 5000;
    let Some((conditions, params)) = filters(who, q) else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM students s JOIN orgs o ON o.code = s.school_code \
         WHERE {conditions} AND s.student_no > $11 ORDER BY s.student_no LIMIT $12"
    );
    let full_ids = sees_full_ids(who);
    let mut after = String::new();
    let mut count = 0;
    loop {
        let page: Vec<Student> = on_db!(db, p => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for v in &params {
                query = query.bind(v);
            }
            query.bind(&after).bind(PAGE).fetch_all(p).await.map_err(DbError::from)?
        });
        for mut s in page.iter().cloned() {
            if !full_ids {
                s.citizen_id = s.citizen_id.as_deref().map(mask_id);
            }
            sink(&s)?;
            count += 1;
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.student_no.clone(),
            _ => break,
        }
    }
    audit
        .record(
            AuditEntry::new(&who.username, who.role.as_str(), "student.export", "学籍管理")
                .detail(serde_json::json!({"rows": count, "school": q.school, "grade": q.grade, "status": q.status})),
        )
        .await
        .map_err(ReadError::from)?;
    Ok(count)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<DbError> for ExportError {
    fn from(e: DbError) -> Self {
        ExportError::Read(ReadError::Db(e))
    }
}

/// A 异动 a school records by hand. 转学 (transfer) is its own workflow and not here.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
pub enum ChangeKind {
    休学,
    复学,
    升级,
    留级,
    毕业,
    结业,
    肄业,
    退学,
    死亡,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 9] = [
        ChangeKind::休学,
        ChangeKind::复学,
        ChangeKind::升级,
        ChangeKind::留级,
        ChangeKind::毕业,
        ChangeKind::结业,
        ChangeKind::肄业,
        ChangeKind::退学,
        ChangeKind::死亡,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::休学 => "休学",
            ChangeKind::复学 => "复学",
            ChangeKind::升级 => "升级",
            ChangeKind::留级 => "留级",
            ChangeKind::毕业 => "毕业",
            ChangeKind::结业 => "结业",
            ChangeKind::肄业 => "肄业",
            ChangeKind::退学 => "退学",
            ChangeKind::死亡 => "死亡",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.label() == s.trim())
    }
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    pub kind: ChangeKind,
    /// YYYY-MM-DD.
    pub date: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("not found")]
    NotFound,
    /// The change does not apply to the record's present state; the message says why.
    #[error("{0}")]
    NotApplicable(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The statuses of a student who studies at the school holding the record.
pub const ACTIVE: [&str; 2] = ["在读", "转入"];

/// Records a 异动: checks it applies to the present state, updates the record and appends
/// the history entry and the audit entry, all in one transaction.
pub async fn record_change(
    db: &Db,
    who: &Principal,
    student_no: &StudentNo,
    change: &ChangeRequest,
) -> Result<Change, ChangeError> {
    let found = locate(db, student_no).await?.ok_or(ChangeError::NotFound)?;
    // Reading is enough to learn the record exists; writing needs the write right, and
    // both refusals look alike.
    authorize(who, Action::Write, resource(&found)).map_err(|_| ChangeError::NotFound)?;
    let date = validate::parse_date(&change.date)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .ok_or_else(|| {
            ChangeError::Invalid(format!("日期“{}”无效，请写作 YYYY-MM-DD", change.date))
        })?;
    let reason = change.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ChangeError::Invalid(
            "请填写异动原因（不超过 200 字）".into(),
        ));
    }
    let s = &found.student;
    let active = ACTIVE.contains(&s.status.as_str());
    let (status, grade_no) = match change.kind {
        ChangeKind::休学 if active => ("休学", s.grade_no),
        ChangeKind::复学 if s.status == "休学" => ("在读", s.grade_no),
        ChangeKind::升级 if active && (1..12).contains(&s.grade_no) => {
            (s.status.as_str(), s.grade_no + 1)
        }
        ChangeKind::留级 if active => (s.status.as_str(), s.grade_no),
        ChangeKind::毕业 | ChangeKind::结业 | ChangeKind::肄业 | ChangeKind::退学 if active => {
            (change.kind.label(), s.grade_no)
        }
        // A record locked by a transfer or gone to another node is not this school's to change.
        ChangeKind::死亡
            if !["死亡", transfer::IN_TRANSFER, transfer::TRANSFERRED_OUT]
                .contains(&s.status.as_str()) =>
        {
            ("死亡", s.grade_no)
        }
        kind => {
            return Err(ChangeError::NotApplicable(format!(
                "学籍状态为“{}”、年级为“{}”的学生不能办理“{}”",
                s.status,
                s.grade,
                kind.label()
            )));
        }
    };
    let grade = validate::GRADES
        .get((grade_no - 1).max(0) as usize)
        .copied()
        .unwrap_or(&s.grade)
        .to_owned();
    let detail = if grade != s.grade {
        format!("年级：{} → {}；", s.grade, grade)
    } else {
        String::new()
    };
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    let change_row: Change = on_tx!(&mut tx, c => {
        sqlx::query("UPDATE students SET status = $2, grade = $3, grade_no = $4, updated_ms = $5, updated_by = $6, \
                     version = version + 1 WHERE student_no = $1")
            .bind(&s.student_no).bind(status).bind(&grade).bind(grade_no).bind(now).bind(&who.username)
            .execute(&mut *c).await.map_err(DbError::from)?;
        sqlx::query_as("INSERT INTO student_changes (student_no, change_type, change_date, reason, from_status, \
                        to_status, detail, actor, source, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'manual', $9) \
                        RETURNING id, change_type, change_date, reason, from_status, to_status, detail, actor, at_ms")
            .bind(&s.student_no).bind(change.kind.label()).bind(&date).bind(reason).bind(&s.status).bind(status)
            .bind(&detail).bind(&who.username).bind(now)
            .fetch_one(&mut *c).await.map_err(DbError::from)?
    });
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "student.change",
        "学籍管理",
    )
    .subject(&s.student_no, Some(&s.school_code))
    .detail(
        serde_json::json!({"kind": change.kind.label(), "date": date, "change": change_row.id}),
    );
    platform::audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(change_row)
}

/// Number of students a school holds (no personal data).
pub async fn count_in_school(db: &Db, school_code: &str) -> Result<i64, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM students WHERE school_code = $1")
        .bind(school_code)
        .fetch_one(p).await?),
    )
}
