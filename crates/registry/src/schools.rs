//! Import of schools (学校) into the organisation table: the list a bureau keeps, with the
//! same row-level problem report as the student import.

use std::time::Instant;

use kernel::access::{OrgKind, Principal};
use kernel::ids::{SchoolCode, SchoolType, normalize_code};
use kernel::{Lang, division};
use platform::audit::{self, AuditEntry};
use platform::db::Db;
use platform::on_tx;

use crate::import::{self, ImportError, ImportOptions, ImportSummary, RowSource};
use crate::validate::FieldProblem;

/// The columns of a school list, as `chuanyu gen` writes them.
pub use kernel::student_status::SCHOOL_COLUMNS as COLUMNS;

struct School {
    code: String,
    name: String,
    kind: OrgKind,
    division: String,
}

/// Validates one school row; `scope_prefix` is the division prefix the importer oversees
/// ("" for the whole node).
fn validate(values: &[String], scope_prefix: &str) -> Result<School, Vec<FieldProblem>> {
    let get = |i: usize| values.get(i).map(String::as_str).unwrap_or("");
    let problem = |i: usize, code: &'static str, reason: String| FieldProblem {
        column: COLUMNS[i],
        value: get(i).to_owned(),
        code,
        reason,
    };
    let mut problems = Vec::new();
    let code = SchoolCode::parse(get(0)).map_err(|e| {
        use kernel::Localized;
        problem(0, e.code(), e.message(Lang::Zh))
    });
    let name = get(1).trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        problems.push(problem(
            1,
            "row.required",
            "学校名称不能为空，且不超过 100 字".into(),
        ));
    }
    // 办学类型 may be the two-digit code or its name.
    let typed = get(2).trim();
    let school_type = SchoolType::from_code(&normalize_code(typed)).or_else(|| {
        SchoolType::ALL
            .into_iter()
            .find(|t| t.label(Lang::Zh) == typed)
    });
    let division = normalize_code(get(3));
    let place = division::lookup(&division);
    if place.is_none() {
        problems.push(problem(
            3,
            "row.division",
            format!("所在地“{}”不是川渝的行政区划代码", get(3)),
        ));
    } else if !division.starts_with(scope_prefix) {
        problems.push(problem(
            3,
            "row.school_scope",
            "所在地不在您的管辖范围内".into(),
        ));
    }
    match &code {
        Err(p) => problems.push(p.clone()),
        Ok(c) => {
            if school_type.is_some_and(|t| t != c.school_type()) {
                problems.push(problem(
                    2,
                    "row.school_type_mismatch",
                    format!(
                        "办学类型与学校标识码前两位（{}，{}）不一致",
                        c.school_type().code(),
                        c.school_type().label(Lang::Zh)
                    ),
                ));
            }
            if !division.starts_with(c.province_code()) {
                problems.push(problem(
                    3,
                    "row.province_mismatch",
                    "所在地与学校标识码中的省份代码不一致".into(),
                ));
            }
        }
    }
    if school_type.is_none() {
        problems.push(problem(
            2,
            "row.enum",
            format!("办学类型“{typed}”无效，应为类型代码（如 21）或名称（如 小学）"),
        ));
    }
    match code {
        Ok(c) if problems.is_empty() => {
            let higher = matches!(
                c.school_type(),
                SchoolType::RegularHigher | SchoolType::AdultHigher
            );
            let kind = if higher {
                OrgKind::University
            } else {
                OrgKind::School
            };
            Ok(School {
                code: c.as_str().to_owned(),
                name,
                kind,
                division,
            })
        }
        _ => Err(problems),
    }
}

/// Imports schools: new codes inserted, changed names or places updated, all in one
/// transaction with the audit entry. Only bureaus (within their division) and platform
/// administrators import schools.
pub async fn import_schools(
    db: &Db,
    importer: &Principal,
    options: &ImportOptions,
    source: RowSource,
) -> Result<ImportSummary, ImportError> {
    let prefix = import::bureau_prefix(importer)?;
    let started = Instant::now();
    let mut summary = import::begin_run(db, "schools", importer, options).await?;
    let run_id = summary.run_id.clone();
    let mut schools = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in source {
        let row = row.map_err(ImportError::Source)?;
        summary.read += 1;
        match validate(&row.values, &prefix) {
            Ok(s) if !seen.insert(s.code.clone()) => problems.push((
                row.row,
                FieldProblem {
                    column: COLUMNS[0],
                    value: s.code,
                    code: "row.duplicate_in_file",
                    reason: "学校标识码在文件中出现多次，请只保留一行".into(),
                },
            )),
            Ok(s) => schools.push(s),
            Err(p) => problems.extend(p.into_iter().map(|p| (row.row, p))),
        }
    }
    summary.rejected = import::distinct_rows(&problems);
    import::record_problems(db, &run_id, &problems).await?;
    let mut tx = db.begin().await?;
    for s in &schools {
        let (inserted, changed): (bool, bool) = on_tx!(&mut tx, c => {
            let old: Option<(String, String, String)> =
                sqlx::query_as("SELECT name, kind, division_code FROM orgs WHERE code = $1")
                    .bind(&s.code).fetch_optional(&mut *c).await?;
            let new = (s.name.clone(), s.kind.as_str().to_owned(), s.division.clone());
            match old {
                Some(old) if old == new => (false, false),
                old => {
                    if !options.dry_run {
                        sqlx::query(
                            "INSERT INTO orgs (code, name, kind, division_code, created_ms) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                             division_code = excluded.division_code")
                            .bind(&s.code).bind(&s.name).bind(s.kind.as_str()).bind(&s.division).bind(platform::now_ms())
                            .execute(&mut *c).await?;
                    }
                    (old.is_none(), old.is_some())
                }
            }
        });
        match (inserted, changed) {
            (true, _) => summary.inserted += 1,
            (false, true) => summary.updated += 1,
            (false, false) => summary.unchanged += 1,
        }
    }
    summary.millis = started.elapsed().as_millis() as u64;
    import::finish_run(&mut tx, &summary).await?;
    if !options.dry_run {
        let entry = AuditEntry::new(&importer.username, importer.role.as_str(), "school.import", "机构管理").detail(
            serde_json::json!({"run": run_id, "file": options.file_name, "inserted": summary.inserted, "updated": summary.updated, "rejected": summary.rejected}),
        );
        audit::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(summary)
}
