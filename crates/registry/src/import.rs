//! Bulk import of 学籍 rows.
//!
//! The file is read and every row validated on a blocking thread ([`validate`]); valid rows
//! are staged in a TEMP table on one held connection (multi-row INSERT on SQLite, COPY on
//! PostgreSQL) and rejected ones recorded with their reasons. Then, in ONE transaction, the
//! checks that need the database run set-wise (duplicates in the file, unknown or
//! out-of-scope school, a 学籍号 or ID number already held by another school or student), and
//! the accepted rows are upserted: new rows inserted, changed rows updated with a 异动
//! history entry, unchanged rows left alone.
//!
//! Crash safety follows from that shape: until the final commit nothing a reader sees has
//! changed, the TEMP table dies with the connection, and re-running an import is idempotent.
//! So after `kill -9` at any moment, running the same import again ends in exactly the state
//! one clean run gives.

use std::time::Instant;

use kernel::access::{Principal, Role, Scope};
use kernel::{Lang, Localized};
use platform::audit::{self, AuditEntry};
use platform::db::{Backend, Conn, Db, DbError, Tx};
use platform::{on_conn, on_tx};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::Student;
use crate::validate;

/// One row as read from a file: its row number as the user sees it, and its cells in
/// [`validate::COLUMNS`] order.
pub struct SourceRow {
    pub row: u64,
    pub values: Vec<String>,
}

/// A problem with the file itself (not one row): stops the import before anything changes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{zh}")]
pub struct SourceError {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl SourceError {
    pub fn from(e: &impl Localized) -> SourceError {
        SourceError {
            code: e.code(),
            zh: e.message(Lang::Zh),
            en: e.message(Lang::En),
        }
    }
}

pub type RowSource = Box<dyn Iterator<Item = Result<SourceRow, SourceError>> + Send>;

pub struct ImportOptions {
    pub dry_run: bool,
    pub file_name: String,
    pub file_sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub run_id: String,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub dry_run: bool,
    pub millis: u64,
}

impl ImportSummary {
    pub fn rows_per_second(&self) -> u64 {
        (self.read * 1000)
            .checked_div(self.millis.max(1))
            .unwrap_or(0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Source(SourceError),
    /// Only school administrators, bureaus and platform administrators import 学籍.
    #[error("this account may not import student records")]
    NotAllowed,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the file reader stopped unexpectedly")]
    Reader,
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Db(DbError::from(e))
    }
}

/// A refused row, as stored and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Problem {
    pub row_no: i64,
    pub column_name: String,
    pub value: String,
    pub code: String,
    pub reason: String,
}

const SQLITE_IMPORT_CACHE: &str =
    "PRAGMA main.cache_size = -65536; PRAGMA temp.cache_size = -16384";
const SQLITE_DEFAULT_CACHE: &str = "PRAGMA main.cache_size = -2000; PRAGMA temp.cache_size = -2000";

/// Rows per message between the reader thread and the writer.
const BATCH: usize = 2000;
/// Problems per multi-row INSERT (6 parameters each, under SQLite's 32,766 limit).
const PROBLEMS_PER_INSERT: usize = 1000;

/// What the reader thread hands over: the accepted rows already encoded for the engine's
/// fastest bulk path (so encoding runs in parallel with the database work), and the
/// refused rows with their reasons.
struct Batch {
    payload: Vec<u8>,
    staged: usize,
    problems: Vec<(u64, validate::FieldProblem)>,
    read: u64,
}

/// The student columns, in table order, shared by the staging table, the upsert and the
/// change detection.
const FIELDS: [&str; 16] = [
    "student_no",
    "name",
    "sex",
    "birth_date",
    "id_type",
    "citizen_id",
    "ethnicity",
    "hukou_division",
    "residence_division",
    "school_code",
    "stage",
    "grade",
    "grade_no",
    "class_name",
    "enrol_date",
    "status",
];

/// Imports 学籍 rows. `progress` is told how many rows have been read so far.
pub async fn import_students(
    db: &Db,
    importer: &Principal,
    options: &ImportOptions,
    source: RowSource,
    progress: impl Fn(u64) + Send,
) -> Result<ImportSummary, ImportError> {
    let scope_sql = scope_condition(importer)?;
    let started = Instant::now();
    let run_id = uuid::Uuid::new_v4().to_string();
    start_run(db, &run_id, "students", importer, options).await?;

    let mut conn = db.acquire().await?;
    let backend = conn.backend();
    on_conn!(&mut conn, c => {
        sqlx::raw_sql("DROP TABLE IF EXISTS import_rows").execute(&mut *c).await?;
        sqlx::raw_sql(staging_ddl(backend)).execute(&mut *c).await?;
        if backend == Backend::Sqlite {
            // A bounded page cache for this connection only: big imports write far fewer
            // pages twice, and memory stays capped whatever the file size.
            sqlx::raw_sql(SQLITE_IMPORT_CACHE).execute(&mut *c).await?;
        }
    });

    // Read and validate on a blocking thread; stage here. The bounded channel keeps
    // memory flat however large the file.
    let (sender, receiver) = mpsc::channel::<Result<Batch, SourceError>>(4);
    let reader = tokio::task::spawn_blocking(move || read_and_validate(source, backend, sender));
    let (read, mut rejected_rows) = match &mut conn {
        Conn::Sqlite(c, _) => stage_sqlite(c, receiver, db, &run_id, &progress).await?,
        Conn::Postgres(c) => stage_postgres(c, receiver, db, &run_id, &progress).await?,
    };
    reader.await.map_err(|_| ImportError::Reader)?;
    tracing::debug!(
        read,
        millis = started.elapsed().as_millis() as u64,
        "import: rows staged"
    );

    let mut tx = conn.begin().await?;
    // PostgreSQL never analyses TEMP tables by itself (without statistics it plans the
    // checks' joins as if the table were empty), and its default work_mem makes the
    // duplicate checks' grouping spill to disk.
    let index = match backend {
        Backend::Sqlite => {
            "CREATE INDEX import_rows_no ON import_rows (student_no); \
                            CREATE INDEX import_rows_id ON import_rows (citizen_id)"
        }
        Backend::Postgres => {
            "CREATE INDEX import_rows_no ON import_rows (student_no); \
                              CREATE INDEX import_rows_id ON import_rows (citizen_id); ANALYZE import_rows; \
                              SET LOCAL work_mem = '64MB'"
        }
    };
    on_tx!(&mut tx, c => sqlx::raw_sql(index).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    rejected_rows += check_in_database(&mut tx, &run_id, &scope_sql).await?;
    tracing::debug!(
        millis = started.elapsed().as_millis() as u64,
        "import: checks done"
    );
    let mut summary = ImportSummary {
        run_id: run_id.clone(),
        read,
        rejected: rejected_rows,
        dry_run: options.dry_run,
        ..Default::default()
    };
    let accepted = read - rejected_rows;
    if options.dry_run {
        let (inserted, updated) = count_effects(&mut tx).await?;
        summary.inserted = inserted;
        summary.updated = updated;
    } else {
        let (inserted, updated) = apply(&mut tx, importer, options, &run_id).await?;
        summary.inserted = inserted;
        summary.updated = updated;
    }
    summary.unchanged = accepted - summary.inserted - summary.updated;
    summary.millis = started.elapsed().as_millis() as u64;
    finish_run(&mut tx, &summary).await?;
    if !options.dry_run {
        let entry = AuditEntry::new(&importer.username, importer.role.as_str(), "student.import", "学籍管理").detail(serde_json::json!({
            "run": run_id, "file": options.file_name, "sha256": options.file_sha256, "read": summary.read,
            "inserted": summary.inserted, "updated": summary.updated, "rejected": summary.rejected,
        }));
        audit::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    on_conn!(&mut conn, c => {
        sqlx::raw_sql("DROP TABLE IF EXISTS import_rows").execute(&mut *c).await?;
        if backend == Backend::Sqlite {
            // The connection goes back to the pool; it must not keep the import's cache.
            sqlx::raw_sql(SQLITE_DEFAULT_CACHE).execute(&mut *c).await?;
        }
    });
    tracing::debug!(run = %summary.run_id, read, millis = summary.millis, "import finished");
    Ok(summary)
}

/// The importer's scope as a condition on `orgs` (alias `o`). Roles that do not keep 学籍
/// may not import.
fn scope_condition(importer: &Principal) -> Result<String, ImportError> {
    if !matches!(
        importer.role,
        Role::PlatformAdmin | Role::Bureau | Role::SchoolAdmin
    ) {
        return Err(ImportError::NotAllowed);
    }
    // Codes and prefixes are digits/letters from our own tables, never user input, but they
    // are still quoted as SQL literals properly.
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match &importer.scope {
        Scope::Node => Ok("TRUE".into()),
        Scope::Division(prefix) => Ok(format!(
            "o.division_code LIKE {}",
            quote(&format!("{prefix}%"))
        )),
        Scope::Org(code) => Ok(format!("o.code = {}", quote(code))),
        Scope::Aggregates | Scope::Person(_) => Err(ImportError::NotAllowed),
    }
}

fn staging_ddl(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TEMP TABLE import_rows (row_no INTEGER NOT NULL, student_no TEXT NOT NULL, name TEXT NOT NULL, \
             sex TEXT NOT NULL, birth_date TEXT NOT NULL, id_type TEXT NOT NULL, citizen_id TEXT NOT NULL, \
             ethnicity TEXT NOT NULL, hukou_division TEXT NOT NULL, residence_division TEXT NOT NULL, \
             school_code TEXT NOT NULL, stage TEXT NOT NULL, grade TEXT NOT NULL, grade_no INTEGER NOT NULL, \
             class_name TEXT NOT NULL, enrol_date TEXT NOT NULL, status TEXT NOT NULL, ok BOOLEAN NOT NULL DEFAULT TRUE)"
        }
        Backend::Postgres => {
            "CREATE TEMP TABLE import_rows (row_no BIGINT NOT NULL, student_no TEXT NOT NULL, name TEXT NOT NULL, \
             sex TEXT NOT NULL, birth_date TEXT NOT NULL, id_type TEXT NOT NULL, citizen_id TEXT NOT NULL, \
             ethnicity TEXT NOT NULL, hukou_division TEXT NOT NULL, residence_division TEXT NOT NULL, \
             school_code TEXT NOT NULL, stage TEXT NOT NULL, grade TEXT NOT NULL, grade_no BIGINT NOT NULL, \
             class_name TEXT NOT NULL, enrol_date TEXT NOT NULL, status TEXT NOT NULL, ok BOOLEAN NOT NULL DEFAULT TRUE)"
        }
    }
}

fn read_and_validate(
    source: RowSource,
    backend: Backend,
    sender: mpsc::Sender<Result<Batch, SourceError>>,
) {
    let mut rows: Vec<(u64, Student)> = Vec::with_capacity(BATCH);
    let mut problems = Vec::new();
    let mut read = 0;
    let flush = |rows: &mut Vec<(u64, Student)>, problems: &mut Vec<_>, read: &mut u64| {
        let batch = Batch {
            payload: encode(backend, rows),
            staged: rows.len(),
            problems: std::mem::take(problems),
            read: std::mem::take(read),
        };
        rows.clear();
        sender.blocking_send(Ok(batch)).is_ok()
    };
    for item in source {
        let row = match item {
            Ok(row) => row,
            Err(e) => {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        };
        read += 1;
        match validate::validate(&row.values) {
            Ok(student) => rows.push((row.row, student)),
            Err(found) => problems.extend(found.into_iter().map(|p| (row.row, p))),
        }
        // A closed channel means the import stopped; nothing more to do.
        if rows.len() + problems.len() >= BATCH && !flush(&mut rows, &mut problems, &mut read) {
            return;
        }
    }
    flush(&mut rows, &mut problems, &mut read);
}

/// One accepted row as the 17 staging values, in staging-table column order.
fn staging_values(row: u64, s: &Student) -> [String; 17] {
    [
        row.to_string(),
        s.student_no.clone(),
        s.name.clone(),
        s.sex.clone(),
        s.birth_date.clone(),
        s.id_type.clone(),
        s.citizen_id.clone().unwrap_or_default(),
        s.ethnicity.clone(),
        s.hukou_division.clone(),
        s.residence_division.clone(),
        s.school_code.clone(),
        s.stage.clone(),
        s.grade.clone(),
        s.grade_no.to_string(),
        s.class_name.clone(),
        s.enrol_date.clone(),
        s.status.clone(),
    ]
}

/// SQLite takes a batch as one JSON array argument unpacked by `json_each` (one bound
/// value instead of tens of thousands); PostgreSQL takes COPY data in CSV form. Both are
/// written by their field libraries (serde_json, csv), never by hand.
fn encode(backend: Backend, rows: &[(u64, Student)]) -> Vec<u8> {
    let records = rows.iter().map(|(row, s)| staging_values(*row, s));
    match backend {
        Backend::Sqlite => serde_json::to_vec(&records.collect::<Vec<_>>()).unwrap_or_default(),
        Backend::Postgres => {
            let mut out = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::with_capacity(rows.len() * 200));
            for record in records {
                // Writing to a Vec cannot fail.
                let _ = out.write_record(&record);
            }
            out.into_inner().unwrap_or_default()
        }
    }
}

type Batches = mpsc::Receiver<Result<Batch, SourceError>>;

async fn stage_sqlite(
    conn: &mut sqlx::SqliteConnection,
    mut batches: Batches,
    db: &Db,
    run_id: &str,
    progress: &(impl Fn(u64) + Send),
) -> Result<(u64, u64), ImportError> {
    let columns: Vec<String> = (0..17).map(|i| format!("value->>{i}")).collect();
    let insert = format!(
        "INSERT INTO import_rows (row_no, {}) SELECT {} FROM json_each($1)",
        FIELDS.join(", "),
        columns.join(", ")
    );
    let (mut read, mut rejected) = (0, 0);
    while let Some(batch) = batches.recv().await {
        let batch = batch.map_err(ImportError::Source)?;
        read += batch.read;
        rejected += distinct_rows(&batch.problems);
        if batch.staged > 0 {
            let json = String::from_utf8(batch.payload).unwrap_or_default();
            sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                .bind(json)
                .execute(&mut *conn)
                .await?;
        }
        record_problems(db, run_id, &batch.problems).await?;
        progress(read);
    }
    Ok((read, rejected))
}

async fn stage_postgres(
    conn: &mut sqlx::PgConnection,
    mut batches: Batches,
    db: &Db,
    run_id: &str,
    progress: &(impl Fn(u64) + Send),
) -> Result<(u64, u64), ImportError> {
    let statement = format!(
        "COPY import_rows (row_no, {}) FROM STDIN WITH (FORMAT csv)",
        FIELDS.join(", ")
    );
    // One COPY for the whole file: its per-statement cost is paid once.
    let mut copy = conn.copy_in_raw(&statement).await?;
    let (mut read, mut rejected) = (0, 0);
    while let Some(batch) = batches.recv().await {
        let step: Result<(), ImportError> = async {
            let batch = batch.map_err(ImportError::Source)?;
            read += batch.read;
            rejected += distinct_rows(&batch.problems);
            if batch.staged > 0 {
                copy.send(batch.payload).await?;
            }
            record_problems(db, run_id, &batch.problems).await?;
            progress(read);
            Ok(())
        }
        .await;
        if let Err(e) = step {
            // Leave the connection usable for the pool.
            let _ = copy.abort("import stopped").await;
            return Err(e);
        }
    }
    copy.finish().await?;
    Ok((read, rejected))
}

pub fn distinct_rows(problems: &[(u64, validate::FieldProblem)]) -> u64 {
    let mut rows: Vec<u64> = problems.iter().map(|(r, _)| *r).collect();
    rows.dedup();
    rows.len() as u64
}

pub async fn record_problems(
    db: &Db,
    run_id: &str,
    problems: &[(u64, validate::FieldProblem)],
) -> Result<(), ImportError> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for chunk in problems.chunks(PROBLEMS_PER_INSERT) {
        on_tx!(&mut tx, c => {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO import_problems (run_id, row_no, column_name, value, code, reason) ");
            q.push_values(chunk, |mut b, (row, p)| {
                b.push_bind(run_id).push_bind(*row as i64).push_bind(p.column).push_bind(&p.value)
                    .push_bind(p.code).push_bind(&p.reason);
            });
            q.build().execute(&mut *c).await?;
        });
    }
    tx.commit().await?;
    Ok(())
}

/// The set-wise checks. Each marks the rows it refuses (`ok = FALSE`) and records why.
/// Returns how many rows were newly refused.
async fn check_in_database(tx: &mut Tx<'_>, run_id: &str, scope: &str) -> Result<u64, ImportError> {
    let checks = [
        // The same 学籍号 twice in the file: which one is right is for the school to say.
        (
            "r.student_no IN (SELECT student_no FROM import_rows GROUP BY student_no HAVING COUNT(*) > 1)",
            "'学籍号'",
            "r.student_no",
            "row.duplicate_in_file",
            "'学籍号在文件中出现多次，请只保留一行'",
        ),
        (
            "r.citizen_id IN (SELECT citizen_id FROM import_rows GROUP BY citizen_id HAVING COUNT(*) > 1)",
            "'身份证件号码'",
            "r.citizen_id",
            "row.duplicate_in_file",
            "'身份证件号码在文件中出现多次，请只保留一行'",
        ),
        (
            &*format!(
                "r.school_code NOT IN (SELECT o.code FROM orgs o WHERE o.kind IN ('school', 'university') AND {scope})"
            ),
            "'学校标识码'",
            "r.school_code",
            "row.school_scope",
            "'学校标识码不存在，或不在您的管辖范围内'",
        ),
        (
            "EXISTS (SELECT 1 FROM students s WHERE s.student_no = r.student_no AND s.school_code <> r.school_code)",
            "'学籍号'",
            "r.student_no",
            "row.other_school",
            "'该学籍号已在其他学校登记；跨校变动请走转学流程'",
        ),
        (
            &*format!(
                "EXISTS (SELECT 1 FROM students s WHERE s.student_no = r.student_no \
                 AND s.status IN ('{}', '{}') AND {})",
                crate::transfer::IN_TRANSFER,
                crate::transfer::TRANSFERRED_OUT,
                differs("s")
            ),
            "'学籍状态'",
            "r.status",
            "row.transferred",
            "'该学生正在转出或已转往外省，学籍不能通过导入修改'",
        ),
        (
            "EXISTS (SELECT 1 FROM students s WHERE s.citizen_id = r.citizen_id AND s.student_no <> r.student_no)",
            "'身份证件号码'",
            "r.citizen_id",
            "row.id_taken",
            "'该身份证件号码已登记在另一个学籍号下'",
        ),
    ];
    for (condition, column, value, code, reason) in checks {
        let record = format!(
            "INSERT INTO import_problems (run_id, row_no, column_name, value, code, reason) \
             SELECT $1, r.row_no, {column}, {value}, '{code}', {reason} FROM import_rows r WHERE {condition}"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(record)).bind(run_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    }
    // Each condition was evaluated once, above; the rows it refused are read back from the
    // (small) problem list. Phase-one problems name rows that were never staged.
    let refused = on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE import_rows SET ok = FALSE WHERE row_no IN \
         (SELECT row_no FROM import_problems WHERE run_id = $1)")
        .bind(run_id).execute(&mut *c).await?.rows_affected());
    Ok(refused)
}

/// "Some field differs" between staged row `r` and the stored row named `stored`.
fn differs(stored: &str) -> String {
    let cols: Vec<&str> = FIELDS[1..].to_vec();
    let left: Vec<String> = cols.iter().map(|c| format!("{stored}.{c}")).collect();
    let right: Vec<String> = cols.iter().map(|c| format!("r.{c}")).collect();
    format!("({}) <> ({})", left.join(", "), right.join(", "))
}

async fn count_effects(tx: &mut Tx<'_>) -> Result<(u64, u64), ImportError> {
    let inserted = "SELECT COUNT(*) FROM import_rows r WHERE r.ok AND NOT EXISTS (SELECT 1 FROM students s WHERE s.student_no = r.student_no)".to_owned();
    let updated = format!(
        "SELECT COUNT(*) FROM import_rows r JOIN students s ON s.student_no = r.student_no WHERE r.ok AND {}",
        differs("s")
    );
    let (i, u): (i64, i64) = on_tx!(&mut *tx, c => (
        sqlx::query_scalar(sqlx::AssertSqlSafe(inserted)).fetch_one(&mut *c).await?,
        sqlx::query_scalar(sqlx::AssertSqlSafe(updated)).fetch_one(&mut *c).await?,
    ));
    Ok((i as u64, u as u64))
}

/// Labels for the change description kept in the history.
const LABELS: [(&str, &str); 15] = [
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("id_type", "身份证件类型"),
    ("citizen_id", "身份证件号码"),
    ("ethnicity", "民族"),
    ("hukou_division", "户籍地"),
    ("residence_division", "常住地"),
    ("school_code", "学校标识码"),
    ("stage", "学段"),
    ("grade", "年级"),
    ("grade_no", "年级序号"),
    ("class_name", "班级"),
    ("enrol_date", "入学日期"),
    ("status", "学籍状态"),
];

/// The 异动 type a change amounts to.
const CHANGE_TYPE: &str = "CASE \
    WHEN s.status <> r.status THEN CASE \
        WHEN r.status = '休学' THEN '休学' \
        WHEN s.status = '休学' AND r.status IN ('在读', '转入') THEN '复学' \
        WHEN r.status IN ('毕业', '结业', '肄业', '退学', '死亡', '转出', '转入') THEN r.status \
        ELSE '学籍状态变更' END \
    WHEN r.grade_no > s.grade_no THEN '升级' \
    WHEN r.grade_no < s.grade_no THEN '降级' \
    ELSE '信息变更' END";

/// Writes history for changed rows, then upserts. Returns (inserted, updated).
async fn apply(
    tx: &mut Tx<'_>,
    importer: &Principal,
    options: &ImportOptions,
    run_id: &str,
) -> Result<(u64, u64), ImportError> {
    let now = platform::now_ms();
    let today = crate::today();
    // grade_no changes with grade; describing it twice would only repeat the grade.
    let detail = LABELS
        .iter()
        .filter(|(c, _)| *c != "grade_no")
        .map(|(c, label)| {
            let cast = |side: &str| format!("CAST({side}.{c} AS TEXT)");
            format!("CASE WHEN s.{c} <> r.{c} THEN '{label}：' || {} || ' → ' || {} || '；' ELSE '' END", cast("s"), cast("r"))
        })
        .collect::<Vec<_>>()
        .join(" || ");
    let history = format!(
        "INSERT INTO student_changes (student_no, change_type, change_date, reason, from_status, to_status, detail, actor, source, at_ms) \
         SELECT r.student_no, {CHANGE_TYPE}, $1, $2, s.status, r.status, {detail}, $3, $4, $5 \
         FROM import_rows r JOIN students s ON s.student_no = r.student_no WHERE r.ok AND {}",
        differs("s")
    );
    let columns = FIELDS.join(", ");
    // New rows are a plain INSERT in key order (cheaper than a speculative upsert on both
    // engines); changed rows an UPDATE from the staged values.
    let insert = format!(
        "INSERT INTO students ({columns}, updated_ms, updated_by) \
         SELECT {columns}, $1, $2 FROM import_rows r WHERE r.ok \
         AND NOT EXISTS (SELECT 1 FROM students s WHERE s.student_no = r.student_no) ORDER BY r.student_no"
    );
    let targets = FIELDS[1..].join(", ");
    let values = FIELDS[1..]
        .iter()
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let update = format!(
        "UPDATE students SET ({targets}) = ({values}), updated_ms = $1, updated_by = $2, version = version + 1 \
         FROM import_rows r WHERE students.student_no = r.student_no AND r.ok AND {}",
        differs("students")
    );
    let reason = format!("批量导入：{}", options.file_name);
    let source = format!("import:{run_id}");
    let (inserted, updated) = on_tx!(&mut *tx, c => {
        let changed = sqlx::query(sqlx::AssertSqlSafe(history))
            .bind(&today).bind(&reason).bind(&importer.username).bind(&source).bind(now)
            .execute(&mut *c).await?.rows_affected();
        let updated = sqlx::query(sqlx::AssertSqlSafe(update))
            .bind(now).bind(&importer.username)
            .execute(&mut *c).await?.rows_affected();
        debug_assert_eq!(changed, updated, "one history entry per updated record");
        let inserted = sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(now).bind(&importer.username)
            .execute(&mut *c).await?.rows_affected();
        (inserted, updated)
    });
    Ok((inserted, updated))
}

/// The division prefix a list is imported for: a bureau's own, or (empty) the whole node for
/// a platform administrator. Lists of organisations and certificates are theirs to import.
pub fn bureau_prefix(importer: &Principal) -> Result<String, ImportError> {
    match (&importer.scope, importer.role) {
        (Scope::Node, Role::PlatformAdmin) => Ok(String::new()),
        (Scope::Division(p), Role::Bureau) => Ok(p.clone()),
        _ => Err(ImportError::NotAllowed),
    }
}

/// Records the start of a run of `kind` and returns its summary, still empty.
pub async fn begin_run(
    db: &Db,
    kind: &str,
    importer: &Principal,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let run_id = uuid::Uuid::new_v4().to_string();
    start_run(db, &run_id, kind, importer, options).await?;
    Ok(ImportSummary {
        run_id,
        dry_run: options.dry_run,
        ..Default::default()
    })
}

async fn start_run(
    db: &Db,
    run_id: &str,
    kind: &str,
    importer: &Principal,
    options: &ImportOptions,
) -> Result<(), ImportError> {
    let scope = serde_json::to_string(&importer.scope).unwrap_or_default();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO import_runs (id, kind, file_name, file_sha256, actor, org_scope, dry_run, state, started_ms) \
         VALUES ($1, $8, $2, $3, $4, $5, $6, 'running', $7)")
        .bind(run_id).bind(&options.file_name).bind(&options.file_sha256).bind(&importer.username)
        .bind(scope).bind(options.dry_run).bind(platform::now_ms()).bind(kind)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

pub async fn finish_run(tx: &mut Tx<'_>, s: &ImportSummary) -> Result<(), ImportError> {
    on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE import_runs SET state = 'done', read_rows = $2, inserted = $3, updated = $4, unchanged = $5, \
         rejected = $6, finished_ms = $7 WHERE id = $1")
        .bind(&s.run_id).bind(s.read as i64).bind(s.inserted as i64).bind(s.updated as i64)
        .bind(s.unchanged as i64).bind(s.rejected as i64).bind(platform::now_ms())
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The refused rows of a run, in row order (`limit` for pages; `i64::MAX` for reports).
pub async fn problems(db: &Db, run_id: &str, limit: i64) -> Result<Vec<Problem>, DbError> {
    Ok(platform::on_db!(db, p => sqlx::query_as(
        "SELECT row_no, column_name, value, code, reason FROM import_problems WHERE run_id = $1 \
         ORDER BY row_no, column_name LIMIT $2")
        .bind(run_id).bind(limit).fetch_all(p).await?))
}

/// A finished run, for the result page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Run {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub actor: String,
    pub dry_run: bool,
    pub state: String,
    pub read_rows: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub started_ms: i64,
}

pub async fn run(db: &Db, run_id: &str) -> Result<Option<Run>, DbError> {
    Ok(platform::on_db!(db, p => sqlx::query_as(
        "SELECT id, kind, file_name, actor, dry_run, state, read_rows, inserted, updated, unchanged, rejected, started_ms \
         FROM import_runs WHERE id = $1")
        .bind(run_id).fetch_optional(p).await?))
}
