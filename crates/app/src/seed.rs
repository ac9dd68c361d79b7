//! Loading synthetic data (from the `synth` crate) into a node, and the demo accounts.

use std::path::Path;

use anyhow::Context;
use kernel::access::{OrgKind, Role};
use platform::Db;
use platform::audit::{self, AuditEntry};
use platform::orgs::{self, Org};
use platform::users::{self, Actor, NewUser, UserError};
use registry::files::{self, Kind};
use synth::{Province, Spec};

/// Every demo account shares this password; the demo prints it.
pub const DEMO_PASSWORD: &str = "chuanyu-demo";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub orgs: u64,
    pub students: u64,
    pub certificates: u64,
    pub jobs: u64,
    pub graduates: u64,
}

/// Teachers (one certificate each) the demo and the tests hold per node.
const SEEDED_TEACHERS: u64 = 200;

/// The synthetic teachers with certificates, as `synthetic` loads them.
fn seeded_teachers(spec: &Spec, schools: &[synth::SchoolRow]) -> Vec<synth::TeacherRow> {
    let spec = Spec {
        teachers: SEEDED_TEACHERS,
        ..spec.clone()
    };
    synth::teachers(&spec, schools).collect()
}

/// A teacher as a row of the certificate import: certified by their school's county
/// bureau in the year of the certificate number.
fn certificate_row(t: &synth::TeacherRow, school: Option<&synth::SchoolRow>) -> Vec<String> {
    let division = school.map(|s| s.division_code.clone()).unwrap_or_default();
    let body = kernel::division::lookup(&division)
        .map(|d| format!("{}教育局", d.name))
        .unwrap_or_default();
    let year = t.cert_no.get(..4).unwrap_or("2020");
    [
        t.citizen_id.as_str(),
        &t.name,
        t.sex,
        &t.birth_date,
        &t.school_code,
        t.subject,
        t.title,
        &t.cert_no,
        t.cert_type,
        t.subject,
        &body,
        &division,
        &format!("{year}-07-01"),
        "",
        "",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The joint office's organisation code on a member's node.
pub fn joint_office_code(p: Province) -> String {
    format!("JO-{}", p.tag())
}

/// The demo employer's unified social credit code (made up, with valid check characters).
pub fn demo_employer_code(p: Province) -> String {
    kernel::ids::complete_credit_code(&format!("91{}0000MA7D0001", p.code())).unwrap_or_default()
}

/// Published jobs seeded per node; the first few are the demo employer's.
pub const SEEDED_JOBS: u64 = 300;
const DEMO_EMPLOYER_JOBS: u64 = 5;

fn demo_employer_name(p: Province) -> &'static str {
    match p {
        Province::CQ => "重庆渝新智造科技有限公司",
        Province::SC => "成都天府数智科技有限公司",
    }
}

/// Graduating students per node (the first is the demo graduate).
pub const SEEDED_GRADUATES: u64 = 300;

fn seeded_graduates(
    spec: &Spec,
) -> impl Iterator<Item = (usize, synth::graduates::Graduate)> + use<> {
    synth::graduates::graduates(spec.province, spec.seed, SEEDED_GRADUATES).enumerate()
}

fn institution_name(code: &str) -> &'static str {
    Province::ALL
        .iter()
        .flat_map(|p| synth::graduates::institutions(*p))
        .find(|i| i.code == code)
        .map_or("", |i| i.name)
}

/// A graduate as a row of the graduate list (`employment::graduates::COLUMNS`).
fn graduate_row(g: &synth::graduates::Graduate) -> Vec<String> {
    [
        g.citizen_id.as_str(),
        &g.name,
        g.sex,
        g.institution,
        g.major,
        g.level,
        "普通全日制",
        g.graduation_date,
        &g.diploma_no,
        g.destination,
        g.destination_division.unwrap_or(""),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The synthetic jobs of a node, as the employment bulk load takes them.
fn seeded_jobs(spec: &Spec) -> Vec<employment::jobs::Loaded> {
    let p = spec.province;
    let today = employment::jobs::today_cst();
    let now = platform::now_ms();
    synth::jobs::jobs(p, spec.seed, SEEDED_JOBS)
        .map(|j| {
            let demo = j.index < DEMO_EMPLOYER_JOBS;
            employment::jobs::Loaded {
                id: j.key,
                employer_code: if demo {
                    demo_employer_code(p)
                } else {
                    j.employer_credit_code
                },
                employer_name: if demo {
                    demo_employer_name(p).into()
                } else {
                    j.employer
                },
                employer_type: if demo {
                    "private".into()
                } else {
                    j.employer_type.into()
                },
                title: j.title,
                description: j.description,
                city: j.city,
                salary_min: j.salary_min.into(),
                salary_max: j.salary_max.into(),
                level: j.level.into(),
                majors: j.majors,
                headcount: j.headcount.into(),
                published_ms: now - i64::from(j.published_days_ago) * 86_400_000,
                deadline: today + time::Duration::days(j.deadline_in_days.into()),
            }
        })
        .collect()
}

/// The organisations that have no import format of their own: bureaus, the joint office
/// and the demo employer.
fn org_rows(spec: &Spec) -> Vec<Org> {
    let p = spec.province;
    let province_division = format!("{}0000", p.code());
    let mut rows: Vec<Org> = synth::bureaus(spec)
        .into_iter()
        .map(|b| Org {
            code: b.code,
            name: b.name,
            kind: b.kind.to_owned(),
            division_code: b.division_code,
            parent_code: None,
        })
        .collect();
    rows.push(Org {
        code: joint_office_code(p),
        name: "川渝教育联席会议联合办公室".into(),
        kind: OrgKind::JointOffice.as_str().into(),
        division_code: province_division.clone(),
        parent_code: None,
    });
    rows.extend(synth::graduates::institutions(p).iter().map(|i| Org {
        code: i.code.into(),
        name: i.name.into(),
        kind: OrgKind::University.as_str().into(),
        division_code: i.division.into(),
        parent_code: None,
    }));
    rows.push(Org {
        code: demo_employer_code(p),
        name: demo_employer_name(p).into(),
        kind: OrgKind::Employer.as_str().into(),
        division_code: province_division,
        parent_code: None,
    });
    rows
}

/// Loads the organisations and students `spec` describes, the way a bureau would: the
/// generator writes the school and student lists as CSV files under `work_dir`, and they
/// go through the same import as any uploaded file. Re-runnable: rows already present are
/// left as they are.
pub async fn synthetic(
    db: &Db,
    spec: &Spec,
    actor: &str,
    work_dir: &Path,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Seeded> {
    let spec = Spec {
        teachers: 0,
        ..spec.clone()
    };
    synth::write_all(
        &spec,
        work_dir,
        &[synth::Format::Csv],
        &indicatif::ProgressBar::hidden(),
    )
    .with_context(|| format!("cannot write synthetic data to {}", work_dir.display()))?;
    let mut tx = db.begin().await?;
    let orgs = orgs::insert_missing(&mut tx, &org_rows(&spec)).await?;
    if orgs > 0 {
        let entry = AuditEntry::new(actor, "operator", "seed.orgs", "演示数据")
            .detail(serde_json::json!({"province": spec.province.tag(), "orgs": orgs}));
        audit::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    let who = crate::operator_principal(actor);
    let mut seeded = Seeded {
        orgs,
        ..Seeded::default()
    };
    for (kind, file) in [
        (Kind::Schools, "schools.csv"),
        (Kind::Students, "students.csv"),
    ] {
        let outcome =
            files::import_file(db, &who, kind, &work_dir.join(file), file, false, progress).await?;
        let s = outcome.summary;
        anyhow::ensure!(
            s.rejected == 0,
            "synthetic {file} has {} rejected rows, e.g. {:?}",
            s.rejected,
            outcome.problems.first()
        );
        match kind {
            Kind::Schools => seeded.orgs += s.inserted,
            Kind::Students => seeded.students = s.inserted,
        }
    }
    // Teachers and their certificates, through the certificate import.
    let schools = synth::schools(&spec);
    let rows: Vec<registry::import::SourceRow> = seeded_teachers(&spec, &schools)
        .iter()
        .enumerate()
        .map(|(i, t)| registry::import::SourceRow {
            row: i as u64 + 2,
            values: certificate_row(t, schools.iter().find(|s| s.code == t.school_code)),
        })
        .collect();
    let options = registry::import::ImportOptions {
        dry_run: false,
        file_name: "synthetic teachers".into(),
        file_sha256: String::new(),
    };
    let s = certificates::import::import_certificates(
        db,
        &who,
        &options,
        Box::new(rows.into_iter().map(Ok)),
    )
    .await?;
    if s.rejected > 0 {
        let problems = registry::import::problems(db, &s.run_id, 3).await?;
        anyhow::bail!(
            "synthetic teachers have {} rejected rows, e.g. {problems:?}",
            s.rejected
        );
    }
    seeded.certificates = s.inserted;
    seeded.jobs = employment::jobs::load(db, actor, &seeded_jobs(&spec)).await?;
    let rows = seeded_graduates(&spec).map(|(i, g)| registry::import::SourceRow {
        row: i as u64 + 2,
        values: graduate_row(&g),
    });
    let options = registry::import::ImportOptions {
        file_name: "synthetic graduates".into(),
        ..options
    };
    let s =
        employment::graduates::import_graduates(db, &who, &options, Box::new(rows.map(Ok))).await?;
    anyhow::ensure!(
        s.rejected == 0,
        "synthetic graduates have {} rejected rows, e.g. {:?}",
        s.rejected,
        registry::import::problems(db, &s.run_id, 3).await?
    );
    seeded.graduates = s.inserted;
    // The demo graduate has a résumé, so they can apply at once.
    if let Some((_, g)) = seeded_graduates(&spec).next() {
        let graduate = kernel::access::Principal {
            user_id: 0,
            username: actor.to_owned(),
            role: Role::Student,
            scope: kernel::access::Scope::Person(g.citizen_id.clone()),
        };
        let profile = employment::graduates::Profile {
            phone: "13800000000".into(),
            skills: "Java、Python、数据分析；英语六级".into(),
            preferred_cities: "重庆、成都".into(),
            resume: format!(
                "{}，{}{}专业{}毕业生。在校期间参与多个软件项目，获校级奖学金。",
                g.name,
                institution_name(g.institution),
                g.major,
                g.level
            ),
        };
        employment::graduates::save_profile(db, &graduate, &profile).await?;
    }
    progress.finish_and_clear();
    Ok(seeded)
}

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    /// What the account is for, as the demo banner says it (Chinese, then English).
    pub what: &'static str,
    pub role: Role,
    pub display_name: String,
    pub org_code: Option<String>,
    pub person_key: Option<String>,
}

/// The demo's accounts, one per role, tied to organisations and a student of the seeded
/// data. Deterministic for a spec, so every run prints the same list.
pub fn demo_accounts(spec: &Spec) -> Vec<DemoAccount> {
    let p = spec.province;
    let tag = p.tag().to_ascii_lowercase();
    let schools = synth::schools(spec);
    let first = synth::students(spec, &schools).next();
    let school = first
        .as_ref()
        .and_then(|s| schools.iter().find(|x| x.code == s.school_code))
        .or(schools.first());
    let account = |name: &str,
                   what: &'static str,
                   role: Role,
                   display: String,
                   org: Option<String>,
                   person: Option<String>| {
        DemoAccount {
            username: format!("{tag}.{name}"),
            what,
            role,
            display_name: display,
            org_code: org,
            person_key: person,
        }
    };
    let (province_bureau, province_name) = match p {
        Province::CQ => ("重庆市教育委员会", "重庆"),
        Province::SC => ("四川省教育厅", "四川"),
    };
    let mut accounts = vec![
        account(
            "admin",
            "平台管理员 platform admin",
            Role::PlatformAdmin,
            format!("{province_name}节点管理员"),
            None,
            None,
        ),
        account(
            "joint",
            "联合办公室 joint office",
            Role::JointOffice,
            "联合办公室联络员".into(),
            Some(joint_office_code(p)),
            None,
        ),
        account(
            "province",
            "省级教育行政部门 provincial bureau",
            Role::Bureau,
            format!("{province_bureau}学籍科"),
            Some(format!("B{}0000", p.code())),
            None,
        ),
        account(
            "employer",
            "用人单位 employer",
            Role::Employer,
            "人事部 王经理".into(),
            Some(demo_employer_code(p)),
            None,
        ),
    ];
    if let Some(school) = school {
        let county = kernel::division::lookup(&school.division_code)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        accounts.push(account(
            "district",
            "区县教育局 district bureau",
            Role::Bureau,
            format!("{county}教育局学籍管理员"),
            Some(format!("B{}", school.division_code)),
            None,
        ));
        accounts.push(account(
            "school",
            "学校管理员 school admin",
            Role::SchoolAdmin,
            format!("{}学籍管理员", school.name),
            Some(school.code.clone()),
            None,
        ));
        // The teacher holds a certificate (the first seeded teacher of the school).
        let teacher = seeded_teachers(spec, &schools)
            .into_iter()
            .find(|t| t.school_code == school.code);
        accounts.push(account(
            "teacher",
            "教师 teacher",
            Role::Teacher,
            teacher
                .as_ref()
                .map_or_else(|| "李老师".into(), |t| t.name.clone()),
            Some(school.code.clone()),
            teacher.map(|t| t.citizen_id),
        ));
        if let Some(s) = &first {
            accounts.push(account(
                "student",
                "学生 student",
                Role::Student,
                s.name.clone(),
                Some(school.code.clone()),
                Some(s.student_no.clone()),
            ));
        }
        if let Some((_, g)) = seeded_graduates(spec).next() {
            accounts.push(account(
                "graduate",
                "毕业生 graduate",
                Role::Student,
                g.name,
                Some(g.institution.into()),
                Some(g.citizen_id),
            ));
        }
    }
    accounts
}

/// Creates the demo accounts that do not exist yet.
pub async fn create_accounts(
    db: &Db,
    accounts: &[DemoAccount],
    password: &str,
) -> anyhow::Result<()> {
    let actor = Actor {
        name: "chuanyu-demo",
        role: "operator",
    };
    for a in accounts {
        let new = NewUser {
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            password: password.to_owned(),
            role: a.role,
            org_code: a.org_code.clone(),
            person_key: a.person_key.clone(),
        };
        match users::create(db, new, &actor).await {
            Ok(_) | Err(UserError::Taken(_)) => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create demo account {}", a.username));
            }
        }
    }
    Ok(())
}
