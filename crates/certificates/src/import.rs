//! Import of teachers and their certificates from .csv/.xlsx: one row per certificate, the
//! holder's record repeated, the same row-level error report as the 学籍 import (the runs
//! and problems are recorded by `registry::import`).
//!
//! Rows are validated on their own first ([`validate`], pure); then what needs the
//! database (the school exists, the certifying body is in the importer's area, a number is
//! not held by another person, a revoked certificate is not revived) is checked against the
//! stored rows, and the accepted rows are written in ONE transaction with the audit entry,
//! so a failed or killed import changes nothing and a re-run ends as one clean run.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use kernel::access::Principal;
use kernel::ids::{CitizenId, Sex, TeacherCertNo, normalize_code};
use platform::audit::{self, AuditEntry};
use platform::db::Db;
use platform::on_tx;
use registry::files::Outcome;
use registry::import::{self, ImportError, ImportOptions, ImportSummary, RowSource};
use registry::validate::{FieldProblem, division_code, iso, one_of, parse_date};
use tabular::ColumnSpec;

use crate::{CertStatus, KIND_TEACHER_CERTIFICATE};

const fn column(
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> ColumnSpec {
    ColumnSpec {
        name,
        aliases,
        required,
    }
}

/// The columns of a teacher-certificate list, with the names people also use.
pub static COLUMNS: [ColumnSpec; 16] = [
    column(
        "身份证件号码",
        &["身份证号", "身份证号码", "证件号码"],
        true,
    ),
    column("姓名", &["教师姓名"], true),
    column("性别", &[], true),
    column("出生日期", &["出生年月日"], true),
    column("任职学校标识码", &["学校标识码", "学校代码"], true),
    column("现任教学科", &["任教学科"], true),
    column("职称", &["专业技术职务"], true),
    column("教师资格证书号码", &["证书号码", "资格证书号码"], true),
    column("资格种类", &["教师资格种类"], true),
    column("证书任教学科", &["资格证书任教学科"], true),
    column("认定机构", &["认定机关"], true),
    column("认定机构所在地", &["认定机构行政区划代码"], true),
    column("发证日期", &["颁发日期"], true),
    column("证书状态", &["状态"], false),
    column("注册起始日期", &[], false),
    column("注册截止日期", &[], false),
];

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub citizen_id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub school_code: String,
    pub subjects: String,
    pub title: String,
    pub cert_no: String,
    pub cert_type: i64,
    pub subject: String,
    pub certifying_body: String,
    pub division: String,
    pub issue_date: String,
    pub status: CertStatus,
    /// (start, end) of the latest 定期注册, when given.
    pub registration: Option<(String, String)>,
}

/// Validates one row given in [`COLUMNS`] order; every problem of the row is reported.
pub fn validate(fields: &[String], today: time::Date) -> Result<Row, Vec<FieldProblem>> {
    let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
    let mut problems = registry::validate::missing_required(&COLUMNS, fields);
    if !problems.is_empty() {
        return Err(problems);
    }
    let id = CitizenId::parse(get(0))
        .map_err(|e| problems.push(FieldProblem::from_id(COLUMNS[0].name, get(0), &e)))
        .ok();
    let name = get(1).trim().to_owned();
    let sex = Sex::parse(get(2));
    if sex.is_none() {
        problems.push(FieldProblem::new(
            "性别",
            get(2),
            "row.enum",
            "性别应为 男 或 女",
        ));
    }
    let birth = parse_date(get(3));
    match (birth, &id) {
        (None, _) => problems.push(FieldProblem::new(
            "出生日期",
            get(3),
            "row.date",
            "出生日期应为日期，如 1990-05-01",
        )),
        (Some(b), Some(id)) if b != id.birth_date() => problems.push(FieldProblem::new(
            "出生日期",
            get(3),
            "row.birth_date_mismatch",
            format!("出生日期与身份证号中的 {} 不一致", iso(id.birth_date())),
        )),
        _ => {}
    }
    if let (Some(sex), Some(id)) = (sex, &id)
        && sex != id.sex()
    {
        problems.push(FieldProblem::new(
            "性别",
            get(2),
            "row.sex_mismatch",
            "性别与身份证号第 17 位不一致",
        ));
    }
    let school_code = normalize_code(get(4));
    if kernel::ids::SchoolCode::parse(&school_code).is_err() {
        problems.push(FieldProblem::new(
            "任职学校标识码",
            get(4),
            "row.school_code",
            "学校标识码应为 10 位数字",
        ));
    }
    let cert = TeacherCertNo::parse(get(7))
        .map_err(|e| problems.push(FieldProblem::from_id(COLUMNS[7].name, get(7), &e)))
        .ok();
    if let Some(cert) = &cert {
        let label = cert.cert_type().label(kernel::Lang::Zh);
        if get(8).trim() != label && get(8).trim() != cert.cert_type().digit().to_string() {
            problems.push(FieldProblem::new(
                "资格种类",
                get(8),
                "row.cert_type_mismatch",
                format!("资格种类与证书号码第 10 位不一致：该号码为“{label}”"),
            ));
        }
    }
    let division = division_code("认定机构所在地", get(11), &mut problems);
    let issue = parse_date(get(12));
    match (issue, &cert) {
        (None, _) => problems.push(FieldProblem::new(
            "发证日期",
            get(12),
            "row.date",
            "发证日期应为日期，如 2019-07-01",
        )),
        (Some(d), _) if d > today => problems.push(FieldProblem::new(
            "发证日期",
            get(12),
            "row.date_future",
            "发证日期不能晚于今天",
        )),
        (Some(d), Some(c)) if d.year() != i32::from(c.year()) => problems.push(FieldProblem::new(
            "发证日期",
            get(12),
            "row.issue_year_mismatch",
            format!("发证年份与证书号码前 4 位（{}）不一致", c.year()),
        )),
        _ => {}
    }
    let status_text = get(13).trim();
    let status = if status_text.is_empty() {
        CertStatus::Valid
    } else {
        let labels: Vec<&str> = CertStatus::ALL
            .iter()
            .map(|s| s.label(kernel::Lang::Zh))
            .collect();
        let v = one_of("证书状态", status_text, &labels, &mut problems);
        CertStatus::ALL
            .iter()
            .copied()
            .find(|s| s.label(kernel::Lang::Zh) == v)
            .unwrap_or(CertStatus::Valid)
    };
    let registration = match (get(14).trim(), get(15).trim()) {
        ("", "") => None,
        (a, b) => match (parse_date(a), parse_date(b)) {
            (Some(a), Some(b)) if a < b => Some((iso(a), iso(b))),
            _ => {
                problems.push(FieldProblem::new(
                    "注册截止日期",
                    &format!("{a} ~ {b}"),
                    "row.registration_period",
                    "注册起止日期应同时填写，且起始早于截止",
                ));
                None
            }
        },
    };
    match (id, sex, birth, cert, issue) {
        (Some(id), Some(sex), Some(birth), Some(cert), Some(issue)) if problems.is_empty() => {
            Ok(Row {
                citizen_id: id.to_18().as_str().to_owned(),
                name,
                sex: sex.label(kernel::Lang::Zh).to_owned(),
                birth_date: iso(birth),
                school_code,
                subjects: get(5).trim().to_owned(),
                title: get(6).trim().to_owned(),
                cert_no: cert.as_str().to_owned(),
                cert_type: i64::from(cert.cert_type().digit()),
                subject: get(9).trim().to_owned(),
                certifying_body: get(10).trim().to_owned(),
                division,
                issue_date: iso(issue),
                status,
                registration,
            })
        }
        _ => Err(problems),
    }
}

/// What is stored for a certificate already, to decide insert / update / unchanged.
#[derive(sqlx::FromRow)]
struct Stored {
    citizen_id: String,
    name: String,
    subject: String,
    certifying_body: String,
    division: String,
    issue_date: String,
    status: String,
}

/// Imports a teacher-certificate list. Bureaus import certificates their area certified;
/// platform administrators any.
pub async fn import_certificates(
    db: &Db,
    importer: &Principal,
    options: &ImportOptions,
    source: RowSource,
) -> Result<ImportSummary, ImportError> {
    let prefix = import::bureau_prefix(importer)?;
    let started = Instant::now();
    let mut summary = import::begin_run(db, "teachers", importer, options).await?;
    let run_id = summary.run_id.clone();
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date();
    let mut rows: Vec<(u64, Row)> = Vec::new();
    let mut problems: Vec<(u64, FieldProblem)> = Vec::new();
    let mut seen = HashSet::new();
    for row in source {
        let row = row.map_err(ImportError::Source)?;
        summary.read += 1;
        match validate(&row.values, today) {
            Ok(r) if !seen.insert(r.cert_no.clone()) => problems.push((
                row.row,
                FieldProblem::new(
                    "教师资格证书号码",
                    &r.cert_no,
                    "row.duplicate_in_file",
                    "证书号码在文件中出现多次，请只保留一行",
                ),
            )),
            Ok(r) if !r.division.starts_with(&prefix) => problems.push((
                row.row,
                FieldProblem::new(
                    "认定机构所在地",
                    &r.division,
                    "row.out_of_scope",
                    "认定机构不在您的管辖范围内",
                ),
            )),
            Ok(r) => rows.push((row.row, r)),
            Err(p) => problems.extend(p.into_iter().map(|p| (row.row, p))),
        }
    }
    // One person, one record: the same ID number with two different names or schools in
    // one file is refused on every row after the first.
    let mut people: HashMap<String, (String, String)> = HashMap::new();
    let mut stored: HashMap<String, Option<Stored>> = HashMap::new();
    let mut schools: HashMap<String, bool> = HashMap::new();
    let mut accepted = Vec::with_capacity(rows.len());
    for (row_no, r) in rows {
        let person = (r.name.clone(), r.school_code.clone());
        if let Some(first) = people.get(&r.citizen_id)
            && *first != person
        {
            problems.push((
                row_no,
                FieldProblem::new(
                    "身份证件号码",
                    &r.citizen_id,
                    "row.person_conflict",
                    "同一身份证号在文件中对应不同的姓名或学校",
                ),
            ));
            continue;
        }
        people.insert(r.citizen_id.clone(), person);
        let school_known = match schools.get(&r.school_code) {
            Some(k) => *k,
            None => {
                let k = platform::orgs::get(db, &r.school_code).await?.is_some();
                schools.insert(r.school_code.clone(), k);
                k
            }
        };
        if !school_known {
            problems.push((
                row_no,
                FieldProblem::new(
                    "任职学校标识码",
                    &r.school_code,
                    "row.school_unknown",
                    "本节点没有这所学校，请先导入学校名单",
                ),
            ));
            continue;
        }
        let old = stored_certificate(db, &r.cert_no).await?;
        if let Some(old) = &old {
            if old.citizen_id != r.citizen_id {
                problems.push((
                    row_no,
                    FieldProblem::new(
                        "教师资格证书号码",
                        &r.cert_no,
                        "row.cert_holder_mismatch",
                        "该证书号码已登记在另一人名下",
                    ),
                ));
                continue;
            }
            if old.status == CertStatus::Revoked.as_str() && r.status != CertStatus::Revoked {
                problems.push((
                    row_no,
                    FieldProblem::new(
                        "证书状态",
                        r.status.label(kernel::Lang::Zh),
                        "row.cert_revoked",
                        "该证书已撤销，撤销不能通过导入恢复",
                    ),
                ));
                continue;
            }
        }
        stored.insert(r.cert_no.clone(), old);
        accepted.push(r);
    }
    summary.rejected = import::distinct_rows(&problems);
    import::record_problems(db, &run_id, &problems).await?;
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    for r in &accepted {
        let old = stored.remove(&r.cert_no).flatten();
        let same = old.as_ref().is_some_and(|o| {
            (
                &o.name,
                &o.subject,
                &o.certifying_body,
                &o.division,
                &o.issue_date,
                o.status.as_str(),
            ) == (
                &r.name,
                &r.subject,
                &r.certifying_body,
                &r.division,
                &r.issue_date,
                r.status.as_str(),
            )
        });
        match (&old, same) {
            (None, _) => summary.inserted += 1,
            (Some(_), true) => summary.unchanged += 1,
            (Some(_), false) => summary.updated += 1,
        }
        if options.dry_run {
            continue;
        }
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO teachers (citizen_id, name, sex, birth_date, school_code, division, subjects, title, updated_ms) \
                 SELECT $1, $2, $3, $4, $5, o.division_code, $6, $7, $8 FROM orgs o WHERE o.code = $5 \
                 ON CONFLICT (citizen_id) DO UPDATE SET name = excluded.name, sex = excluded.sex, \
                 birth_date = excluded.birth_date, school_code = excluded.school_code, division = excluded.division, \
                 subjects = excluded.subjects, title = excluded.title, updated_ms = excluded.updated_ms")
                .bind(&r.citizen_id).bind(&r.name).bind(&r.sex).bind(&r.birth_date).bind(&r.school_code)
                .bind(&r.subjects).bind(&r.title).bind(now)
                .execute(&mut *c).await?;
            if !same {
                let status_date = (r.status != CertStatus::Valid).then(registry::today);
                sqlx::query(
                    "INSERT INTO teacher_certificates (cert_no, citizen_id, name, cert_type, subject, certifying_body, \
                     division, issue_date, status, status_reason, status_date, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (cert_no) DO UPDATE SET name = excluded.name, subject = excluded.subject, \
                     certifying_body = excluded.certifying_body, division = excluded.division, \
                     issue_date = excluded.issue_date, status = excluded.status, \
                     status_reason = CASE WHEN teacher_certificates.status = excluded.status \
                       THEN teacher_certificates.status_reason ELSE excluded.status_reason END, \
                     status_date = CASE WHEN teacher_certificates.status = excluded.status \
                       THEN teacher_certificates.status_date ELSE excluded.status_date END, \
                     updated_ms = excluded.updated_ms")
                    .bind(&r.cert_no).bind(&r.citizen_id).bind(&r.name).bind(r.cert_type).bind(&r.subject)
                    .bind(&r.certifying_body).bind(&r.division).bind(&r.issue_date).bind(r.status.as_str())
                    .bind(status_date.as_ref().map(|_| format!("批量导入：{}", options.file_name)))
                    .bind(status_date).bind(now)
                    .execute(&mut *c).await?;
            }
            if let Some((start, end)) = &r.registration {
                sqlx::query(
                    "INSERT INTO teacher_registrations (cert_no, period_start, period_end, result, recorded_ms) \
                     VALUES ($1, $2, $3, '合格', $4) ON CONFLICT (cert_no, period_start) DO UPDATE SET \
                     period_end = excluded.period_end")
                    .bind(&r.cert_no).bind(start).bind(end).bind(now)
                    .execute(&mut *c).await?;
            }
        });
        if !same && old.is_some() {
            crate::set_credential_status(&mut tx, KIND_TEACHER_CERTIFICATE, &r.cert_no, r.status)
                .await?;
        }
    }
    summary.millis = started.elapsed().as_millis() as u64;
    import::finish_run(&mut tx, &summary).await?;
    if !options.dry_run {
        let entry = AuditEntry::new(
            &importer.username,
            importer.role.as_str(),
            "certificate.import",
            "证书管理",
        )
        .detail(serde_json::json!({
            "run": run_id, "file": options.file_name, "inserted": summary.inserted,
            "updated": summary.updated, "rejected": summary.rejected,
        }));
        audit::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(summary)
}

async fn stored_certificate(db: &Db, cert_no: &str) -> Result<Option<Stored>, ImportError> {
    Ok(platform::on_db!(db, p => sqlx::query_as(
        "SELECT citizen_id, name, subject, certifying_body, division, issue_date, status \
         FROM teacher_certificates WHERE cert_no = $1")
        .bind(cert_no).fetch_optional(p).await?))
}

/// Imports a teacher-certificate file from disk: the one path for the CLI and the pages.
pub async fn import_file(
    db: &Db,
    who: &Principal,
    path: &Path,
    file_name: &str,
    dry_run: bool,
) -> Result<Outcome, ImportError> {
    registry::files::import_list(
        db,
        path,
        &COLUMNS,
        file_name,
        dry_run,
        |options, rows| async move { import_certificates(db, who, &options, rows).await },
    )
    .await
}

/// A blank template with a note per column and one example row.
pub fn template(xlsx: bool) -> std::io::Result<Vec<u8>> {
    let example: Vec<String> = [
        "510104199005011234",
        "李华",
        "男",
        "1990-05-01",
        "3451010001",
        "数学",
        "一级教师",
        "20195104241001234",
        "高级中学教师资格",
        "数学",
        "成都市锦江区教育局",
        "510104",
        "2019-07-01",
        "有效",
        "2024-07-01",
        "2029-06-30",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let notes = [
        ("身份证件号码", "18 位居民身份证号码"),
        ("任职学校标识码", "10 位学校标识码，学校须已导入"),
        (
            "教师资格证书号码",
            "17 位：年份 4 + 省份 2 + 认定机构 3 + 种类 1 + 性别 1 + 序号 6",
        ),
        ("资格种类", "如 高级中学教师资格，须与证书号码第 10 位一致"),
        ("认定机构所在地", "6 位行政区划代码"),
        ("证书状态", "有效、暂停 或 撤销；空为有效"),
        ("注册起始日期", "最近一次定期注册的起止日期，可空"),
    ];
    if xlsx {
        tabular::template_xlsx_bytes("教师资格证书", &COLUMNS, &notes, &[example])
    } else {
        Ok(tabular::template_csv_bytes(&COLUMNS, &[example]))
    }
}
