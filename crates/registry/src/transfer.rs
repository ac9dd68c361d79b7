//! The record's side of a cross-province transfer (跨省转学): locking it on the sending node,
//! creating it on the receiving node from the file that travels, and ending it on the
//! sending node. The workflow itself (who approves, which messages go where) is the
//! `transfer` crate's; these functions only run inside its transactions.
//!
//! Invariant kept here: a record is active (在读/转入) only while no transfer has locked it;
//! [`lock`] takes an active record out of the active states (转出中) in the same transaction
//! that sends its file, and [`receive`] refuses to make a record active that already is.

use kernel::student_status::grade_no;
use platform::audit::{self, AuditEntry};
use platform::db::{Db, DbError, Tx};
use platform::{on_db, on_tx};
use serde::{Deserialize, Serialize};

use crate::{ACTIVE, Student};

/// A record locked by a transfer under way.
pub const IN_TRANSFER: &str = "转出中";
/// A record that moved to another node.
pub const TRANSFERRED_OUT: &str = "转出";
/// A record that arrived from another node.
pub const TRANSFERRED_IN: &str = "转入";
/// The 异动 type of every history entry a transfer writes.
pub const CHANGE_TYPE: &str = "转学";

/// A student's file as it travels: the whole record (ID number unmasked: the receiving
/// school manages the record from now on) and the whole 异动 history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentFile {
    pub student: Student,
    pub changes: Vec<FileChange>,
}

/// One history entry of a file. `origin` ("SC:123") names the node that first wrote it and
/// its id there, so an entry that travels back and forth is stored once on each node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct FileChange {
    pub origin: String,
    pub change_type: String,
    pub change_date: String,
    pub reason: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
    pub actor: String,
    pub at_ms: i64,
}

/// Where a transfer goes, for the history entries and the audit.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub transfer_id: &'a str,
    /// This node's member code.
    pub member: &'a str,
    /// The other node's member code and the other school's name.
    pub peer: &'a str,
    pub peer_school: &'a str,
    pub actor: &'a str,
    pub actor_role: &'a str,
    pub date: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferRecordError {
    /// The record is not here, not at that school, or not in a state the step needs.
    #[error("{0}")]
    NotApplicable(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TransferRecordError {
    fn from(e: sqlx::Error) -> Self {
        TransferRecordError::Db(e.into())
    }
}

const STUDENT_COLUMNS: &str = "student_no, name, sex, birth_date, id_type, citizen_id, \
    ethnicity, hukou_division, residence_division, school_code, stage, grade, grade_no, \
    class_name, enrol_date, status";

async fn student_in(tx: &mut Tx<'_>, student_no: &str) -> Result<Option<Student>, DbError> {
    let sql = format!("SELECT {STUDENT_COLUMNS} FROM students WHERE student_no = $1");
    Ok(
        on_tx!(&mut *tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(student_no).fetch_optional(&mut *c).await?),
    )
}

#[allow(clippy::too_many_arguments)]
async fn add_history(
    tx: &mut Tx<'_>,
    student_no: &str,
    from: &str,
    to: &str,
    detail: &str,
    m: &Movement<'_>,
    reason: &str,
    source: &str,
) -> Result<(), DbError> {
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO student_changes (student_no, change_type, change_date, reason, from_status, \
         to_status, detail, actor, source, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(student_no).bind(CHANGE_TYPE).bind(m.date).bind(reason).bind(from).bind(to)
        .bind(detail).bind(m.actor).bind(source).bind(platform::now_ms())
        .execute(&mut *c).await.map(|_| ())?);
    Ok(())
}

async fn set_status(
    tx: &mut Tx<'_>,
    student_no: &str,
    from: &str,
    to: &str,
    actor: &str,
) -> Result<bool, DbError> {
    let changed = on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE students SET status = $3, updated_ms = $4, updated_by = $5, version = version + 1 \
         WHERE student_no = $1 AND status = $2")
        .bind(student_no).bind(from).bind(to).bind(platform::now_ms()).bind(actor)
        .execute(&mut *c).await?.rows_affected());
    Ok(changed == 1)
}

fn source_of(m: &Movement<'_>) -> String {
    format!("transfer:{}", m.transfer_id)
}

/// Locks an active record of `school_code` for the transfer (转出中) and returns its file.
pub async fn lock(
    tx: &mut Tx<'_>,
    student_no: &str,
    school_code: &str,
    m: &Movement<'_>,
) -> Result<StudentFile, TransferRecordError> {
    let student = student_in(tx, student_no)
        .await?
        .filter(|s| s.school_code == school_code)
        .ok_or_else(|| TransferRecordError::NotApplicable("本校没有该学生的学籍".into()))?;
    if !ACTIVE.contains(&student.status.as_str())
        || !set_status(tx, student_no, &student.status, IN_TRANSFER, m.actor).await?
    {
        return Err(TransferRecordError::NotApplicable(format!(
            "学籍状态为“{}”，不能转出",
            student.status
        )));
    }
    let detail = format!(
        "转往 {} {}（转学编号 {}），档案移交中",
        m.peer, m.peer_school, m.transfer_id
    );
    add_history(
        tx,
        student_no,
        &student.status,
        IN_TRANSFER,
        &detail,
        m,
        "跨省转学",
        &source_of(m),
    )
    .await?;
    let mut student = student;
    student.status = IN_TRANSFER.into();
    let changes = file_changes(tx, student_no, m.member).await?;
    audit::append(
        tx,
        &[
            AuditEntry::new(m.actor, m.actor_role, "student.transfer.out", "转学")
                .subject(student_no, Some(school_code))
                .detail(serde_json::json!({ "transfer": m.transfer_id, "to": m.peer })),
        ],
    )
    .await?;
    Ok(StudentFile { student, changes })
}

/// A history entry's origin: `MEMBER:id` for entries written here, the kept origin for
/// entries that arrived. `$2` is this node's member code.
const ORIGIN: &str = "CASE WHEN source LIKE 'origin:%' THEN SUBSTR(source, 8) \
    ELSE CAST($2 AS TEXT) || ':' || CAST(id AS TEXT) END";

/// The history as it travels, each entry with its origin.
async fn file_changes(
    tx: &mut Tx<'_>,
    student_no: &str,
    member: &str,
) -> Result<Vec<FileChange>, DbError> {
    let sql = format!(
        "SELECT {ORIGIN} AS origin, change_type, change_date, reason, from_status, to_status, \
         detail, actor, at_ms FROM student_changes WHERE student_no = $1 ORDER BY id"
    );
    Ok(
        on_tx!(&mut *tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(student_no).bind(member).fetch_all(&mut *c).await?),
    )
}

/// The record's status here, if this node holds it (for `chuanyu check transfers`).
pub async fn status_of(db: &Db, student_no: &str) -> Result<Option<String>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT status FROM students WHERE student_no = $1")
        .bind(student_no).fetch_optional(p).await?),
    )
}

/// The origins of the history entries held here, with their local ids, and the id of the
/// entry with which `transfer_id` locked the record here, if it did (for checking that
/// nothing was lost on the way).
pub async fn history_origins(
    db: &Db,
    student_no: &str,
    member: &str,
    transfer_id: &str,
) -> Result<(Vec<(String, i64)>, Option<i64>), DbError> {
    let sql = format!("SELECT {ORIGIN}, id FROM student_changes WHERE student_no = $1 ORDER BY id");
    let origins = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(student_no).bind(member).fetch_all(p).await?);
    let lock: Option<i64> = on_db!(db, p => sqlx::query_scalar(
        "SELECT MIN(id) FROM student_changes WHERE student_no = $1 AND source = $2")
        .bind(student_no).bind(format!("transfer:{transfer_id}")).fetch_one(p).await?);
    Ok((origins, lock))
}

/// Gives a locked record back to its school (the transfer did not happen).
pub async fn release(
    tx: &mut Tx<'_>,
    student_no: &str,
    m: &Movement<'_>,
    reason: &str,
) -> Result<(), TransferRecordError> {
    let before: Option<String> = on_tx!(&mut *tx, c => sqlx::query_scalar(
        "SELECT from_status FROM student_changes WHERE student_no = $1 AND to_status = $2 \
         ORDER BY id DESC LIMIT 1")
        .bind(student_no).bind(IN_TRANSFER).fetch_optional(&mut *c).await?)
    .flatten();
    let back = before.unwrap_or_else(|| "在读".into());
    if !set_status(tx, student_no, IN_TRANSFER, &back, m.actor).await? {
        return Err(TransferRecordError::NotApplicable(
            "学籍不在转出中，无需解除".into(),
        ));
    }
    let detail = format!("转学未完成（转学编号 {}），学籍恢复", m.transfer_id);
    add_history(
        tx,
        student_no,
        IN_TRANSFER,
        &back,
        &detail,
        m,
        reason,
        &source_of(m),
    )
    .await?;
    Ok(())
}

/// Ends a locked record here: the student now studies at the other node (转出), which the
/// history entry names.
pub async fn complete_out(
    tx: &mut Tx<'_>,
    student_no: &str,
    m: &Movement<'_>,
) -> Result<(), TransferRecordError> {
    if !set_status(tx, student_no, IN_TRANSFER, TRANSFERRED_OUT, m.actor).await? {
        return Err(TransferRecordError::NotApplicable(
            "学籍不在转出中，不能办结转出".into(),
        ));
    }
    let detail = format!(
        "已转入 {} {}（转学编号 {}），学籍由该节点管理",
        m.peer, m.peer_school, m.transfer_id
    );
    add_history(
        tx,
        student_no,
        IN_TRANSFER,
        TRANSFERRED_OUT,
        &detail,
        m,
        "跨省转学",
        &source_of(m),
    )
    .await?;
    Ok(())
}

/// Creates (or, for a student who once left this node, reactivates) the record at
/// `school_code` from a file that arrived, as 转入 in `grade`, with every history entry of the
/// file this node does not hold yet.
pub async fn receive(
    tx: &mut Tx<'_>,
    file: &StudentFile,
    school_code: &str,
    grade: &str,
    m: &Movement<'_>,
) -> Result<(), TransferRecordError> {
    let s = &file.student;
    let now = platform::now_ms();
    let grade_number = grade_no(grade);
    if grade_number == 0 {
        return Err(TransferRecordError::NotApplicable(format!(
            "年级“{grade}”无效"
        )));
    }
    let stage = stage_of(grade_number, &s.stage);
    match student_in(tx, &s.student_no).await? {
        Some(here) if ACTIVE.contains(&here.status.as_str()) || here.status == IN_TRANSFER => {
            return Err(TransferRecordError::NotApplicable(format!(
                "本省已有该学生的在籍学籍（状态“{}”），不能重复转入",
                here.status
            )));
        }
        Some(_) => {
            on_tx!(&mut *tx, c => sqlx::query(
                "UPDATE students SET name = $2, sex = $3, birth_date = $4, id_type = $5, \
                 citizen_id = $6, ethnicity = $7, hukou_division = $8, residence_division = $9, \
                 school_code = $10, stage = $11, grade = $12, grade_no = $13, class_name = $14, \
                 enrol_date = $15, status = $16, updated_ms = $17, updated_by = $18, \
                 version = version + 1 WHERE student_no = $1")
                .bind(&s.student_no).bind(&s.name).bind(&s.sex).bind(&s.birth_date)
                .bind(&s.id_type).bind(&s.citizen_id).bind(&s.ethnicity)
                .bind(&s.hukou_division).bind(&s.residence_division).bind(school_code)
                .bind(stage).bind(grade).bind(grade_number).bind("待分班").bind(&s.enrol_date)
                .bind(TRANSFERRED_IN).bind(now).bind(m.actor)
                .execute(&mut *c).await.map(|_| ())?);
        }
        None => {
            // Version 2: the record has history from its first day here.
            on_tx!(&mut *tx, c => sqlx::query(
                "INSERT INTO students (student_no, name, sex, birth_date, id_type, citizen_id, \
                 ethnicity, hukou_division, residence_division, school_code, stage, grade, \
                 grade_no, class_name, enrol_date, status, updated_ms, updated_by, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, 2)")
                .bind(&s.student_no).bind(&s.name).bind(&s.sex).bind(&s.birth_date)
                .bind(&s.id_type).bind(&s.citizen_id).bind(&s.ethnicity)
                .bind(&s.hukou_division).bind(&s.residence_division).bind(school_code)
                .bind(stage).bind(grade).bind(grade_number).bind("待分班").bind(&s.enrol_date)
                .bind(TRANSFERRED_IN).bind(now).bind(m.actor)
                .execute(&mut *c).await.map(|_| ())?);
        }
    }
    let held = file_changes(tx, &s.student_no, m.member).await?;
    for change in &file.changes {
        if held.iter().any(|h| h.origin == change.origin) {
            continue;
        }
        on_tx!(&mut *tx, c => sqlx::query(
            "INSERT INTO student_changes (student_no, change_type, change_date, reason, \
             from_status, to_status, detail, actor, source, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&s.student_no).bind(&change.change_type).bind(&change.change_date)
            .bind(&change.reason).bind(&change.from_status).bind(&change.to_status)
            .bind(&change.detail).bind(&change.actor)
            .bind(format!("origin:{}", change.origin)).bind(change.at_ms)
            .execute(&mut *c).await.map(|_| ())?);
    }
    let detail = format!(
        "自 {} {} 转入（转学编号 {}）",
        m.peer, m.peer_school, m.transfer_id
    );
    add_history(
        tx,
        &s.student_no,
        IN_TRANSFER,
        TRANSFERRED_IN,
        &detail,
        m,
        "跨省转学",
        &source_of(m),
    )
    .await?;
    audit::append(
        tx,
        &[
            AuditEntry::new(m.actor, m.actor_role, "student.transfer.in", "转学")
                .subject(&s.student_no, Some(school_code))
                .detail(serde_json::json!({ "transfer": m.transfer_id, "from": m.peer })),
        ],
    )
    .await?;
    Ok(())
}

/// The 学段 a grade belongs to; a 中职 or 特殊教育 student keeps theirs.
fn stage_of(grade_no: i64, stage: &str) -> &str {
    match (stage, grade_no) {
        ("中职" | "特殊教育", _) => stage,
        (_, 1..=6) => "小学",
        (_, 7..=9) => "初中",
        _ => "高中",
    }
}

#[cfg(test)]
mod tests {
    use super::stage_of;

    #[test]
    fn the_grade_decides_the_stage_except_for_vocational_and_special() {
        assert_eq!(stage_of(1, "初中"), "小学");
        assert_eq!(stage_of(8, "小学"), "初中");
        assert_eq!(stage_of(11, "初中"), "高中");
        assert_eq!(stage_of(11, "中职"), "中职");
        assert_eq!(stage_of(3, "特殊教育"), "特殊教育");
    }
}
