//! The 学籍 file formats: which columns a student or school list has, how a file becomes a
//! [`RowSource`], and how reports and exports are written. The CLI and the pages both use
//! these, so a file that works in one works in the other.

use std::path::Path;

use kernel::access::Principal;
use platform::audit::AuditLog;
use platform::db::Db;
use tabular::{ColumnSpec, CsvWriter, ReportWriter, TableReader, XlsxWriter};

use crate::import::{
    self, ImportError, ImportOptions, ImportSummary, Problem, RowSource, SourceError, SourceRow,
};
use crate::{ExportError, StudentQuery};

macro_rules! required {
    ($name:literal $(, $alias:literal)*) => {
        ColumnSpec { name: $name, aliases: &[$($alias),*], required: true }
    };
}

/// A student list's columns, in [`crate::validate::COLUMNS`] order, with the names people
/// also use for them.
pub static STUDENT_COLUMNS: [ColumnSpec; 15] = [
    required!("学籍号", "全国学籍号", "学籍编号"),
    required!("姓名", "学生姓名"),
    required!("性别"),
    required!("出生日期", "出生年月日"),
    required!("身份证件类型", "证件类型"),
    required!("身份证件号码", "身份证号", "身份证号码", "证件号码"),
    required!("民族"),
    required!("户籍地", "户籍所在地", "户口所在地"),
    required!("常住地", "现住址", "居住地"),
    required!("学校标识码", "学校代码"),
    required!("学段"),
    required!("年级"),
    required!("班级"),
    required!("入学日期", "入学年月"),
    required!("学籍状态", "状态"),
];

pub static SCHOOL_COLUMNS: [ColumnSpec; 4] = [
    required!("学校标识码", "学校代码"),
    required!("学校名称", "名称"),
    required!("办学类型", "学校类型"),
    required!("所在地", "行政区划代码"),
];

/// A reader as a row source for the import; a problem with the file itself (encoding, a
/// broken workbook) ends the import before anything is stored.
pub fn source(reader: TableReader) -> RowSource {
    Box::new(reader.map(|r| {
        r.map(|rec| SourceRow {
            row: rec.row,
            values: rec.values,
        })
        .map_err(|e| SourceError::from(&e))
    }))
}

/// Opens a student or school list from a file.
pub fn open(path: &Path, columns: &'static [ColumnSpec]) -> Result<TableReader, SourceError> {
    TableReader::open(path, columns).map_err(|e| SourceError::from(&e))
}

/// SHA-256 of a file, streamed, to name what was imported in the audit log.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Which list a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Schools,
    Students,
}

impl Kind {
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Kind::Schools => &SCHOOL_COLUMNS,
            Kind::Students => &STUDENT_COLUMNS,
        }
    }
}

/// What an import did, with the first problems for showing at once.
pub struct Outcome {
    pub summary: ImportSummary,
    pub problems: Vec<Problem>,
    /// Header cells that matched no column (ignored; worth telling the user).
    pub extra_columns: Vec<String>,
}

/// How many problems a caller is handed directly; the report has them all.
pub const PROBLEMS_SHOWN: i64 = 500;

/// Imports a school or student list from a file on disk, the one path for the CLI and the
/// upload page; `file_name` is the name the user knows it by (recorded with the run).
/// `progress` counts the rows read.
pub async fn import_file(
    db: &Db,
    who: &Principal,
    kind: Kind,
    path: &Path,
    file_name: &str,
    dry_run: bool,
    progress: &indicatif::ProgressBar,
) -> Result<Outcome, ImportError> {
    let tick = {
        let progress = progress.clone();
        move |read: u64| progress.set_position(read)
    };
    import_list(
        db,
        path,
        kind.columns(),
        file_name,
        dry_run,
        |options, rows| async move {
            match kind {
                Kind::Students => import::import_students(db, who, &options, rows, tick).await,
                Kind::Schools => crate::schools::import_schools(db, who, &options, rows).await,
            }
        },
    )
    .await
}

/// The one path from a file to an import of any list (学籍, certificates, graduates): opens
/// it against `columns`, digests it, runs `import` over its rows and collects the problems
/// to show.
pub async fn import_list<F, Fut>(
    db: &Db,
    path: &Path,
    columns: &'static [ColumnSpec],
    file_name: &str,
    dry_run: bool,
    import: F,
) -> Result<Outcome, ImportError>
where
    F: FnOnce(ImportOptions, RowSource) -> Fut,
    Fut: std::future::Future<Output = Result<ImportSummary, ImportError>>,
{
    let reader = open(path, columns).map_err(ImportError::Source)?;
    let extra_columns = reader.extra_columns().to_vec();
    let options = ImportOptions {
        dry_run,
        file_name: file_name.to_owned(),
        file_sha256: sha256_file(path).map_err(|e| ImportError::Source(io_error(&e)))?,
    };
    let summary = import(options, source(reader)).await?;
    let problems = import::problems(db, &summary.run_id, PROBLEMS_SHOWN).await?;
    Ok(Outcome {
        summary,
        problems,
        extra_columns,
    })
}

pub fn io_error(e: &std::io::Error) -> SourceError {
    SourceError {
        code: "file.io",
        zh: format!("无法读取文件：{e}"),
        en: format!("cannot read the file: {e}"),
    }
}

fn report_problem(p: &Problem) -> tabular::Problem {
    tabular::Problem {
        row: p.row_no.max(0) as u64,
        column: p.column_name.clone(),
        value: p.value.clone(),
        reason: p.reason.clone(),
    }
}

/// Writes every problem of a run to `path`, as .xlsx or (otherwise) .csv.
pub async fn write_report(db: &Db, run_id: &str, path: &Path) -> Result<u64, ExportError> {
    let problems = import::problems(db, run_id, i64::MAX).await?;
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let mut writer = if xlsx {
        ReportWriter::xlsx(path)?
    } else {
        ReportWriter::csv(path)?
    };
    for p in &problems {
        writer.push(&report_problem(p))?;
    }
    writer.finish()?;
    Ok(problems.len() as u64)
}

/// Every problem of a run as a downloadable file.
pub async fn report_bytes(db: &Db, run_id: &str, xlsx: bool) -> Result<Vec<u8>, ExportError> {
    let problems: Vec<tabular::Problem> = import::problems(db, run_id, i64::MAX)
        .await?
        .iter()
        .map(report_problem)
        .collect();
    Ok(if xlsx {
        tabular::report_xlsx_bytes(&problems)?
    } else {
        tabular::report_csv_bytes(&problems)
    })
}

/// Exports the students the caller may see to `path` (.xlsx, or otherwise .csv), in the
/// import's columns, so the file re-imports as it is.
pub async fn export_students(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    q: &StudentQuery,
    path: &Path,
) -> Result<u64, ExportError> {
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let row = |s: &crate::Student| -> [String; 15] {
        [
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
            s.class_name.clone(),
            s.enrol_date.clone(),
            s.status.clone(),
        ]
    };
    if xlsx {
        let mut w = XlsxWriter::create(path, "学籍", &STUDENT_COLUMNS)?;
        let n = crate::export_students(db, audit, who, q, |s| {
            let r = row(s);
            w.push(&r.each_ref().map(String::as_str))
        })
        .await?;
        w.finish()?;
        Ok(n)
    } else {
        let mut w = CsvWriter::create(path, &STUDENT_COLUMNS)?;
        let n = crate::export_students(db, audit, who, q, |s| {
            let r = row(s);
            w.push(&r.each_ref().map(String::as_str))
        })
        .await?;
        w.finish()?;
        Ok(n)
    }
}

/// A blank template for a list, with a note per column and one example row.
pub fn template(kind: Kind, xlsx: bool) -> std::io::Result<Vec<u8>> {
    let owned = |row: &[&str]| row.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let (sheet, example, notes): (&str, Vec<String>, Vec<(&str, String)>) = match kind {
        Kind::Students => (
            "学籍",
            owned(&[
                "G510104201509011231",
                "王小明",
                "男",
                "2015-09-01",
                "居民身份证",
                "510104201509011231",
                "汉族",
                "510104",
                "510104",
                "2151010001",
                "小学",
                "五年级",
                "3班",
                "2021-09-01",
                "在读",
            ]),
            vec![
                (
                    "学籍号",
                    "G 加 18 位身份证号；无身份证者为 J 或 L 字头".into(),
                ),
                ("性别", "男 或 女".into()),
                ("出生日期", "YYYY-MM-DD，须与身份证号一致".into()),
                ("身份证件类型", crate::validate::ID_TYPES.join("、")),
                (
                    "身份证件号码",
                    "居民身份证须为有效的 18 位号码（末位可为 X）".into(),
                ),
                ("民族", "如 汉族、彝族、土家族".into()),
                ("户籍地", "6 位行政区划代码，如 510104".into()),
                ("常住地", "6 位行政区划代码，如 510104".into()),
                ("学校标识码", "10 位学校标识码".into()),
                ("学段", crate::validate::STAGES.join("、")),
                ("年级", crate::validate::GRADES.join("、")),
                ("班级", "如 3班".into()),
                ("入学日期", "YYYY-MM-DD".into()),
                ("学籍状态", crate::validate::STATUSES.join("、")),
            ],
        ),
        Kind::Schools => (
            "学校",
            owned(&["2151010001", "成都市武侯区第一小学", "21", "510107"]),
            vec![
                (
                    "学校标识码",
                    "10 位：类型 2 位 + 省份 2 位 + 序号 6 位".into(),
                ),
                (
                    "办学类型",
                    "类型代码（如 21）或名称（如 小学），须与学校标识码前两位一致".into(),
                ),
                ("所在地", "区县级 6 位行政区划代码".into()),
            ],
        ),
    };
    let notes: Vec<(&str, &str)> = notes.iter().map(|(c, n)| (*c, n.as_str())).collect();
    if xlsx {
        tabular::template_xlsx_bytes(sheet, kind.columns(), &notes, &[example])
    } else {
        Ok(tabular::template_csv_bytes(kind.columns(), &[example]))
    }
}
