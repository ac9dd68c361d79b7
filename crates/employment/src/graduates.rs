//! Graduates (毕业生) as their university or college registers them, from a .csv/.xlsx list
//! with the same row-level report as every import; their own profile (简历); their diplomas
//! as credentials; and their destination (去向), recorded by the institution.
//!
//! A graduate signs in with a student account of the institution whose person key is their
//! citizen ID number.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use kernel::access::{Action, OrgKind, Principal, Resource, Scope, authorize};
use kernel::ids::{CitizenId, DiplomaNo, Sex, normalize_code};
use kernel::{Lang, labelled_enum};
use platform::audit::{self, AuditEntry, AuditLog};
use platform::{Db, DbError, on_db, on_tx};
use registry::files::Outcome;
use registry::import::{self, ImportError, ImportOptions, ImportSummary, RowSource};
use registry::validate::{FieldProblem, iso, parse_date};
use serde::{Deserialize, Serialize};
use tabular::ColumnSpec;

use crate::{EmploymentError, Level, Problem};

labelled_enum! {
    /// 毕业去向.
    Destination {
        Employed = "employed", "已就业", "Employed";
        FurtherStudy = "further-study", "升学", "Further study";
        Enlisted = "enlisted", "参军入伍", "Enlisted";
        SelfEmployed = "self-employed", "自主创业", "Self-employed";
        Pending = "pending", "待就业", "Not yet placed";
    }
}

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

/// The columns of a graduate list.
pub static COLUMNS: [ColumnSpec; 11] = [
    column(
        "身份证件号码",
        &["身份证号", "身份证号码", "证件号码"],
        true,
    ),
    column("姓名", &["学生姓名"], true),
    column("性别", &[], true),
    column("院校代码", &["学校标识码", "学校代码"], true),
    column("专业", &["专业名称", "所学专业"], true),
    column("学历层次", &["层次", "培养层次"], true),
    column("学习形式", &[], false),
    column("毕业日期", &["毕业时间"], true),
    column("毕业证书编号", &["证书编号"], false),
    column("毕业去向", &["去向"], false),
    column("去向所在地", &["就业地区", "去向地区代码"], false),
];

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub citizen_id: String,
    pub name: String,
    pub sex: String,
    pub institution: String,
    pub major: String,
    pub level: Level,
    pub study_form: String,
    pub graduation_date: String,
    pub diploma_no: Option<String>,
    pub destination: Destination,
    pub destination_division: Option<String>,
}

/// The level code a diploma number carries for each level (GB: 01 博士, 02 硕士, 06 本科,
/// 07 专科); 中职 diplomas have no national number.
fn diploma_level(level: Level) -> Option<&'static str> {
    match level {
        Level::Doctor => Some("01"),
        Level::Master => Some("02"),
        Level::Bachelor => Some("06"),
        Level::JuniorCollege => Some("07"),
        Level::SecondaryVocational => None,
    }
}

fn labelled<T: Copy>(
    all: &[T],
    label: impl Fn(T) -> &'static str,
    slug: impl Fn(T) -> &'static str,
    v: &str,
) -> Option<T> {
    let v = v.trim();
    all.iter()
        .copied()
        .find(|x| label(*x) == v || slug(*x) == v)
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
    let sex = Sex::parse(get(2));
    match (sex, &id) {
        (None, _) => problems.push(FieldProblem::new(
            "性别",
            get(2),
            "row.enum",
            "性别应为 男 或 女",
        )),
        (Some(s), Some(id)) if s != id.sex() => problems.push(FieldProblem::new(
            "性别",
            get(2),
            "row.sex_mismatch",
            "性别与身份证号第 17 位不一致",
        )),
        _ => {}
    }
    let institution = normalize_code(get(3));
    if kernel::ids::SchoolCode::parse(&institution).is_err() {
        problems.push(FieldProblem::new(
            "院校代码",
            get(3),
            "row.school_code",
            "院校代码应为 10 位学校标识码",
        ));
    }
    let level = labelled(Level::ALL, |l| l.label(Lang::Zh), Level::as_str, get(5)).or(
        match get(5).trim() {
            "硕士" => Some(Level::Master),
            "博士" => Some(Level::Doctor),
            "大专" | "高职" => Some(Level::JuniorCollege),
            _ => None,
        },
    );
    if level.is_none() {
        problems.push(FieldProblem::new(
            "学历层次",
            get(5),
            "row.enum",
            "学历层次应为 中职、专科、本科、硕士研究生 或 博士研究生",
        ));
    }
    let graduated = parse_date(get(7));
    match graduated {
        None => problems.push(FieldProblem::new(
            "毕业日期",
            get(7),
            "row.date",
            "毕业日期应为日期，如 2026-06-30",
        )),
        Some(d) if d > today + time::Duration::days(366) => problems.push(FieldProblem::new(
            "毕业日期",
            get(7),
            "row.date_future",
            "毕业日期不能晚于明年",
        )),
        _ => {}
    }
    let diploma = match get(8).trim() {
        "" => None,
        raw => match DiplomaNo::parse(raw) {
            Err(e) => {
                problems.push(FieldProblem::from_id(COLUMNS[8].name, raw, &e));
                None
            }
            Ok(d) => {
                if let (Some(level), Some(date)) = (level, graduated)
                    && (diploma_level(level) != Some(d.level_code())
                        || i32::from(d.year()) != date.year())
                {
                    problems.push(FieldProblem::new(
                        "毕业证书编号",
                        raw,
                        "row.diploma_mismatch",
                        "毕业证书编号中的年份或层次与毕业日期、学历层次不一致",
                    ));
                }
                Some(d.as_str().to_owned())
            }
        },
    };
    let destination = match get(9).trim() {
        "" => Destination::Pending,
        v => labelled(
            Destination::ALL,
            |d| d.label(Lang::Zh),
            Destination::as_str,
            v,
        )
        .unwrap_or_else(|| {
            problems.push(FieldProblem::new(
                "毕业去向",
                v,
                "row.enum",
                "毕业去向应为 已就业、升学、参军入伍、自主创业 或 待就业",
            ));
            Destination::Pending
        }),
    };
    let destination_division = match get(10).trim() {
        "" => None,
        v => Some(registry::validate::division_code(
            "去向所在地",
            v,
            &mut problems,
        )),
    };
    match (id, sex, level, graduated) {
        (Some(id), Some(sex), Some(level), Some(graduated)) if problems.is_empty() => Ok(Row {
            citizen_id: id.to_18().as_str().to_owned(),
            name: get(1).trim().to_owned(),
            sex: sex.label(Lang::Zh).to_owned(),
            institution,
            major: get(4).trim().to_owned(),
            level,
            study_form: Some(get(6).trim())
                .filter(|s| !s.is_empty())
                .unwrap_or("普通全日制")
                .to_owned(),
            graduation_date: iso(graduated),
            diploma_no: diploma,
            destination,
            destination_division,
        }),
        _ => Err(problems),
    }
}

/// Imports a graduate list. A university's administrators import their own graduates; a
/// bureau those of the institutions in its area; a platform administrator any.
pub async fn import_graduates(
    db: &Db,
    importer: &Principal,
    options: &ImportOptions,
    source: RowSource,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let mut summary = import::begin_run(db, "graduates", importer, options).await?;
    let run_id = summary.run_id.clone();
    let today = crate::jobs::today_cst();
    let mut problems: Vec<(u64, FieldProblem)> = Vec::new();
    let mut accepted: Vec<(Row, String)> = Vec::new();
    let mut seen = HashSet::new();
    let mut diplomas = HashSet::new();
    let mut institutions: std::collections::HashMap<String, Option<String>> = Default::default();
    for row in source {
        let row = row.map_err(ImportError::Source)?;
        summary.read += 1;
        let r = match validate(&row.values, today) {
            Ok(r) => r,
            Err(p) => {
                problems.extend(p.into_iter().map(|p| (row.row, p)));
                continue;
            }
        };
        let refuse = |column, value: &str, code, reason: &str| {
            (row.row, FieldProblem::new(column, value, code, reason))
        };
        if !seen.insert(r.citizen_id.clone()) {
            problems.push(refuse(
                "身份证件号码",
                &r.citizen_id,
                "row.duplicate_in_file",
                "该身份证号在文件中出现多次，请只保留一行",
            ));
            continue;
        }
        if let Some(d) = &r.diploma_no
            && !diplomas.insert(d.clone())
        {
            problems.push(refuse(
                "毕业证书编号",
                d,
                "row.duplicate_in_file",
                "毕业证书编号在文件中出现多次",
            ));
            continue;
        }
        let division = match institutions.get(&r.institution) {
            Some(d) => d.clone(),
            None => {
                let d = platform::orgs::get(db, &r.institution)
                    .await?
                    .filter(|o| o.kind() == Some(OrgKind::University))
                    .map(|o| o.division_code);
                institutions.insert(r.institution.clone(), d.clone());
                d
            }
        };
        let Some(division) = division else {
            problems.push(refuse(
                "院校代码",
                &r.institution,
                "row.school_unknown",
                "本节点没有这所高校，请先登记院校",
            ));
            continue;
        };
        let org = Resource::Org {
            code: &r.institution,
            division: &division,
        };
        if authorize(importer, Action::Write, org).is_err() {
            problems.push(refuse(
                "院校代码",
                &r.institution,
                "row.out_of_scope",
                "该院校不在您的管辖范围内",
            ));
            continue;
        }
        if let Some(d) = &r.diploma_no {
            let (holder,): (Option<String>,) = on_db!(db, p => sqlx::query_as(
                "SELECT MAX(citizen_id) FROM graduates WHERE diploma_no = $1").bind(d).fetch_one(p).await?);
            if holder.is_some_and(|h| h != r.citizen_id) {
                problems.push(refuse(
                    "毕业证书编号",
                    d,
                    "row.diploma_holder_mismatch",
                    "该毕业证书编号已登记在另一人名下",
                ));
                continue;
            }
        }
        accepted.push((r, division));
    }
    summary.rejected = import::distinct_rows(&problems);
    import::record_problems(db, &run_id, &problems).await?;
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    for (r, division) in &accepted {
        let (existing,): (i64,) = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT COUNT(*) FROM graduates WHERE citizen_id = $1 AND name = $2 AND sex = $3 AND institution = $4 \
             AND major = $5 AND level = $6 AND study_form = $7 AND graduation_date = $8 \
             AND COALESCE(diploma_no, '') = $9 AND destination = $10 AND COALESCE(destination_division, '') = $11")
            .bind(&r.citizen_id).bind(&r.name).bind(&r.sex).bind(&r.institution).bind(&r.major)
            .bind(r.level.as_str()).bind(&r.study_form).bind(&r.graduation_date)
            .bind(r.diploma_no.as_deref().unwrap_or("")).bind(r.destination.as_str())
            .bind(r.destination_division.as_deref().unwrap_or(""))
            .fetch_one(&mut *c).await?);
        if existing == 1 {
            summary.unchanged += 1;
            continue;
        }
        let (known,): (i64,) = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT COUNT(*) FROM graduates WHERE citizen_id = $1").bind(&r.citizen_id).fetch_one(&mut *c).await?);
        if known == 1 {
            summary.updated += 1;
        } else {
            summary.inserted += 1;
        }
        if options.dry_run {
            continue;
        }
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO graduates (citizen_id, name, sex, institution, division, major, level, study_form, \
             graduation_date, diploma_no, destination, destination_division, destination_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             ON CONFLICT (citizen_id) DO UPDATE SET name = excluded.name, sex = excluded.sex, \
             institution = excluded.institution, division = excluded.division, major = excluded.major, \
             level = excluded.level, study_form = excluded.study_form, graduation_date = excluded.graduation_date, \
             diploma_no = excluded.diploma_no, destination = excluded.destination, \
             destination_division = excluded.destination_division, destination_ms = excluded.destination_ms, \
             updated_ms = excluded.updated_ms")
            .bind(&r.citizen_id).bind(&r.name).bind(&r.sex).bind(&r.institution).bind(division)
            .bind(&r.major).bind(r.level.as_str()).bind(&r.study_form).bind(&r.graduation_date)
            .bind(&r.diploma_no).bind(r.destination.as_str()).bind(&r.destination_division).bind(now)
            .execute(&mut *c).await?.rows_affected());
    }
    summary.millis = started.elapsed().as_millis() as u64;
    import::finish_run(&mut tx, &summary).await?;
    if !options.dry_run {
        let entry = AuditEntry::new(
            &importer.username,
            importer.role.as_str(),
            "graduate.import",
            "毕业生登记",
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

/// Imports a graduate file from disk: the one path for the CLI and the pages.
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
        |options, rows| async move { import_graduates(db, who, &options, rows).await },
    )
    .await
}

/// A blank template with a note per column and one example row.
pub fn template(xlsx: bool) -> std::io::Result<Vec<u8>> {
    let example: Vec<String> = [
        "510104200305011234",
        "李华",
        "男",
        "4151010610",
        "计算机科学与技术",
        "本科",
        "普通全日制",
        "2026-06-30",
        "106101202606001234",
        "待就业",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let notes = [
        ("身份证件号码", "18 位居民身份证号码"),
        ("院校代码", "10 位学校标识码，院校须已在本节点登记"),
        ("学历层次", "中职、专科、本科、硕士研究生 或 博士研究生"),
        (
            "毕业证书编号",
            "17 或 18 位，年份与层次须与毕业日期、学历层次一致；可空",
        ),
        (
            "毕业去向",
            "已就业、升学、参军入伍、自主创业 或 待就业；空为待就业",
        ),
        ("去向所在地", "6 位行政区划代码（就业或升学所在地），可空"),
    ];
    if xlsx {
        tabular::template_xlsx_bytes("毕业生名单", &COLUMNS, &notes, &[example])
    } else {
        Ok(tabular::template_csv_bytes(&COLUMNS, &[example]))
    }
}

/// A graduate as the institution and the graduate see them (ID number masked).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Graduate {
    pub citizen_id: String,
    pub name: String,
    pub sex: String,
    pub institution: String,
    pub institution_name: String,
    pub division: String,
    pub major: String,
    pub level: String,
    pub study_form: String,
    pub graduation_date: String,
    pub diploma_no: Option<String>,
    pub destination: String,
    pub destination_division: Option<String>,
}

impl Graduate {
    fn resource(&self) -> Resource<'_> {
        Resource::PersonRecord {
            org_code: &self.institution,
            division: &self.division,
            person_key: &self.citizen_id,
        }
    }

    pub fn level_label(&self) -> &'static str {
        Level::parse(&self.level).map_or("", |l| l.label(Lang::Zh))
    }

    pub fn destination_label(&self) -> &'static str {
        Destination::parse(&self.destination).map_or("", |d| d.label(Lang::Zh))
    }
}

const COLUMNS_SQL: &str = "g.citizen_id, g.name, g.sex, g.institution, COALESCE(o.name, g.institution) AS institution_name, \
    g.division, g.major, g.level, g.study_form, g.graduation_date, g.diploma_no, g.destination, g.destination_division";
const FROM_SQL: &str = "FROM graduates g LEFT JOIN orgs o ON o.code = g.institution";

async fn locate(db: &Db, citizen_id: &str) -> Result<Option<Graduate>, DbError> {
    let sql = format!("SELECT {COLUMNS_SQL} {FROM_SQL} WHERE g.citizen_id = $1");
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(citizen_id).fetch_optional(p).await?),
    )
}

/// One graduate's record, audited: the graduate themself, their institution, the bureaus
/// over it.
pub async fn read(
    db: &Db,
    audit: &AuditLog,
    who: &Principal,
    citizen_id: &str,
    purpose: &str,
) -> Result<Graduate, EmploymentError> {
    let mut g = locate(db, citizen_id)
        .await?
        .ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, g.resource()).map_err(|_| EmploymentError::NotFound)?;
    audit
        .record(
            AuditEntry::new(&who.username, who.role.as_str(), "graduate.read", purpose)
                .subject(&g.citizen_id, Some(&g.institution)),
        )
        .await?;
    if !who.role.sees_full_ids() {
        g.citizen_id = registry::mask_id(&g.citizen_id);
    }
    Ok(g)
}

/// The graduate a signed-in person is, if any.
pub async fn of_person(db: &Db, who: &Principal) -> Result<Option<Graduate>, EmploymentError> {
    let Scope::Person(key) = &who.scope else {
        return Ok(None);
    };
    Ok(locate(db, key).await?)
}

/// Records a graduate's destination (the institution or a bureau over it).
pub async fn set_destination(
    db: &Db,
    who: &Principal,
    citizen_id: &str,
    destination: Destination,
    division: Option<&str>,
) -> Result<(), EmploymentError> {
    let g = locate(db, citizen_id)
        .await?
        .ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, g.resource()).map_err(|_| EmploymentError::NotFound)?;
    authorize(who, Action::Write, g.resource()).map_err(|_| EmploymentError::NotAllowed)?;
    let division = match division.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(
            kernel::division::DivisionCode::parse(d)
                .map_err(|e| {
                    EmploymentError::invalid("division", kernel::Localized::code(&e), e.to_string())
                })?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE graduates SET destination = $2, destination_division = $3, destination_ms = $4, updated_ms = $4 \
         WHERE citizen_id = $1")
        .bind(citizen_id).bind(destination.as_str()).bind(&division).bind(now)
        .execute(&mut *c).await?.rows_affected());
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "graduate.destination",
        "毕业去向登记",
    )
    .subject(citizen_id, Some(&g.institution))
    .detail(serde_json::json!({ "destination": destination.as_str(), "division": division }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// A graduate's own profile (简历).
#[derive(Debug, Clone, Default, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Profile {
    pub phone: String,
    pub skills: String,
    /// Division codes or names, as the graduate typed them.
    pub preferred_cities: String,
    pub resume: String,
}

pub async fn profile(db: &Db, citizen_id: &str) -> Result<Profile, EmploymentError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT phone, skills, preferred_cities, resume FROM graduate_profiles WHERE citizen_id = $1")
        .bind(citizen_id).fetch_optional(p).await?).unwrap_or_default())
}

/// Saves the signed-in graduate's profile.
pub async fn save_profile(db: &Db, who: &Principal, p: &Profile) -> Result<(), EmploymentError> {
    let g = of_person(db, who)
        .await?
        .ok_or(EmploymentError::NotAllowed)?;
    let mut problems = Vec::new();
    if !p.phone.trim().is_empty() && !crate::employers::valid_phone(&p.phone) {
        problems.push(Problem::new(
            "phone",
            "field.phone",
            "手机号应为 11 位数字。",
        ));
    }
    for (field, label, value, max) in [
        ("skills", "技能特长", &p.skills, 500),
        ("preferred_cities", "意向城市", &p.preferred_cities, 200),
        ("resume", "个人简历", &p.resume, 5000),
    ] {
        if value.chars().count() > max {
            problems.push(Problem::new(
                field,
                "field.length",
                format!("{label}不能超过 {max} 个字。"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(EmploymentError::Invalid(problems));
    }
    let now = platform::now_ms();
    on_db!(db, c => sqlx::query(
        "INSERT INTO graduate_profiles (citizen_id, phone, skills, preferred_cities, resume, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (citizen_id) DO UPDATE SET phone = excluded.phone, \
         skills = excluded.skills, preferred_cities = excluded.preferred_cities, resume = excluded.resume, \
         updated_ms = excluded.updated_ms")
        .bind(&g.citizen_id).bind(p.phone.trim()).bind(p.skills.trim()).bind(p.preferred_cities.trim())
        .bind(p.resume.trim()).bind(now)
        .execute(c).await?.rows_affected());
    Ok(())
}
