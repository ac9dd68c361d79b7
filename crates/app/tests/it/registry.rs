//! The 学籍 registry: bulk import (formats, every class of bad row, idempotence, history,
//! dry runs, crash safety), export round trips, search, 异动 and scope — on both engines.

use std::path::{Path, PathBuf};

use kernel::access::{Principal, Role, Scope};
use platform::{Db, on_db};
use registry::files::{self, Kind};
use serde_json::Value;

use crate::on_both_engines;
use crate::support::{Engine, TestApp, TestDb, hidden_field};

on_both_engines!(
    bad_rows_are_named_and_good_rows_stored,
    encodings_and_spreadsheets_import_alike,
    reimport_is_idempotent_and_changes_make_history,
    export_round_trips_rare_names,
    scope_rules_for_import_and_export,
    status_changes,
    upload_pages_for_a_school_admin,
);

/// A valid citizen ID for a test person (area 510104, given birth date and sequence).
pub fn citizen_id(birth: &str, seq: u32) -> String {
    let first17 = format!("510104{}{:03}", birth.replace('-', ""), seq % 1000);
    let check = kernel::ids::citizen_id_check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// A valid 学籍 row for `school` (seq odd = male).
pub fn row(school: &str, seq: u32, name: &str) -> Vec<String> {
    let id = citizen_id("2015-09-01", seq);
    let sex = if seq % 2 == 1 { "男" } else { "女" };
    [
        &format!("G{id}"),
        name,
        sex,
        "2015-09-01",
        "居民身份证",
        &id,
        "汉族",
        "510104",
        "510104",
        school,
        "小学",
        "五年级",
        "3班",
        "2021-09-01",
        "在读",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(registry::validate::COLUMNS).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn operator() -> Principal {
    chuanyu::operator_principal("test-operator")
}

fn school_admin(app: &TestApp) -> Principal {
    Principal {
        user_id: 0,
        username: "sc.school".into(),
        role: Role::SchoolAdmin,
        scope: Scope::Org(own_school(app)),
    }
}

fn own_school(app: &TestApp) -> String {
    app.account("school").org_code.clone().unwrap()
}

async fn import(db: &Db, who: &Principal, path: &Path, dry_run: bool) -> files::Outcome {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    files::import_file(
        db,
        who,
        Kind::Students,
        path,
        &name,
        dry_run,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    let sql = sql.to_owned();
    on_db!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap())
}

/// A dump of every 学籍 record and history entry (timestamps and ids aside): two databases
/// hold the same registry when their dumps are equal.
pub async fn dump(db: &Db) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    use sqlx::Row;
    let all = |sql: &'static str, columns: usize| async move {
        on_db!(db, p => sqlx::query(sql).fetch_all(p).await.unwrap().iter()
            .map(|r| (0..columns).map(|i| r.get::<String, _>(i)).collect::<Vec<String>>())
            .collect::<Vec<_>>())
    };
    let students = all(
        "SELECT student_no, name, sex, birth_date, id_type, COALESCE(citizen_id, ''), ethnicity, hukou_division, \
         residence_division, school_code, stage, grade, class_name, enrol_date, status FROM students ORDER BY student_no",
        15,
    )
    .await;
    let changes = all(
        "SELECT student_no, change_type, COALESCE(to_status, ''), detail FROM student_changes ORDER BY student_no, id",
        4,
    )
    .await;
    (students, changes)
}

async fn bad_rows_are_named_and_good_rows_stored(app: TestApp) {
    let school = own_school(&app);
    let dir = &app.dir();
    let before = count(&app.db, "SELECT COUNT(*) FROM students").await;
    let taken = app.other_student.clone(); // already registered at another school
    let taken_id = taken.trim_start_matches('G').to_owned();
    let mut rows = vec![
        row(&school, 101, "赵一"),      // row 2: good
        row(&school, 102, "钱二"),      // row 3: good
        row(&school, 103, "孙三"),      // row 4: duplicate 学籍号 (with row 5)
        row(&school, 103, "孙三"),      // row 5
        row(&school, 105, "李五"),      // row 6: bad checksum
        row("2151999999", 107, "周七"), // row 7: unknown school
        row(&school, 109, "吴九"),      // row 8: 学籍号 held by another school
        row(&school, 111, "郑十一"),    // row 9: several bad fields
    ];
    rows[4][0] = format!("{}0", &rows[4][0][..18]);
    rows[6][0] = taken.clone();
    // Birth date and sex as the borrowed ID number says, so only the database check refuses it.
    rows[6][3] = format!(
        "{}-{}-{}",
        &taken_id[6..10],
        &taken_id[10..12],
        &taken_id[12..14]
    );
    rows[6][2] = if (taken_id.as_bytes()[16] - b'0') % 2 == 1 {
        "男"
    } else {
        "女"
    }
    .into();
    rows[6][5] = taken_id;
    rows[7][2] = "未知".into();
    rows[7][11] = "十年级".into();
    rows[7][13] = "昨天".into();
    let path = write(dir, "bad.csv", csv_text(&rows).as_bytes());
    let out = import(&app.db, &operator(), &path, false).await;
    let s = &out.summary;
    assert_eq!(
        (s.read, s.inserted, s.rejected),
        (8, 2, 6),
        "{:?}",
        out.problems
    );
    let codes: Vec<(i64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.row_no, p.code.as_str()))
        .collect();
    for expected in [
        (4, "row.duplicate_in_file"),
        (5, "row.duplicate_in_file"),
        (6, "id.checksum"),
        (7, "row.school_scope"),
        (8, "row.other_school"),
        (9, "row.enum"),
        (9, "row.date"),
    ] {
        assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
    }
    let p = out.problems.iter().find(|p| p.row_no == 6).unwrap();
    assert_eq!(p.column_name, "学籍号");
    assert!(p.reason.contains("校验位"), "{}", p.reason);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM students").await,
        before + 2,
        "only the good rows"
    );
    let other_school_now: String = on_db!(&app.db, p => sqlx::query_scalar("SELECT school_code FROM students WHERE student_no = $1")
        .bind(&taken).fetch_one(p).await.unwrap());
    assert_ne!(other_school_now, school, "a refused row changed nothing");

    // The report lists every problem, as .csv and .xlsx.
    let report = dir.join("report.csv");
    let n = files::write_report(&app.db, &s.run_id, &report)
        .await
        .unwrap();
    assert_eq!(n as usize, out.problems.len());
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("行号") && text.contains("校验位"), "{text}");
    files::write_report(&app.db, &s.run_id, &dir.join("report.xlsx"))
        .await
        .unwrap();
    let reread = tabular::TableReader::open(
        &dir.join("report.xlsx"),
        &[
            tabular::ColumnSpec {
                name: "行号",
                aliases: &[],
                required: true,
            },
            tabular::ColumnSpec {
                name: "原因",
                aliases: &[],
                required: true,
            },
        ],
    )
    .unwrap()
    .count();
    assert_eq!(reread, out.problems.len());

    // Empty, garbage and header-less files are refused as a whole, storing nothing.
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("junk.xlsx", &b"PK\x03\x04 not a zip"[..]),
        ("nohead.csv", "a,b\n1,2\n".as_bytes()),
    ] {
        let path = write(dir, name, bytes);
        let err = files::import_file(
            &app.db,
            &operator(),
            Kind::Students,
            &path,
            name,
            false,
            &indicatif::ProgressBar::hidden(),
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{name} must be refused"));
        assert!(
            matches!(err, registry::import::ImportError::Source(_)),
            "{name}: {err}"
        );
    }
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM students").await,
        before + 2
    );
    app.stop().await;
}

async fn encodings_and_spreadsheets_import_alike(app: TestApp) {
    let school = own_school(&app);
    let dir = &app.dir();
    let rows = vec![
        row(&school, 201, "欧阳𫖯"),
        row(&school, 202, "诸葛𬌗华"),
        row(&school, 203, "堃喆"),
    ];
    let text = csv_text(&rows);
    // UTF-8 with BOM.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let out = import(&app.db, &operator(), &write(dir, "bom.csv", &bom), false).await;
    assert_eq!(
        (out.summary.inserted, out.summary.rejected),
        (3, 0),
        "{:?}",
        out.problems
    );
    // The same in GB18030: nothing new, nothing changed — the names decode identically.
    let (gb, _, lossy) = encoding_rs::GB18030.encode(&text);
    assert!(!lossy);
    let out = import(&app.db, &operator(), &write(dir, "gb.csv", &gb), false).await;
    assert_eq!(
        (out.summary.unchanged, out.summary.rejected),
        (3, 0),
        "{:?}",
        out.problems
    );
    // An .xlsx with a title row, reordered and extra columns, and blank rows.
    let path = dir.join("sheet.xlsx");
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet
            .write_string(0, 0, "四川省学生学籍导入表（2026 年秋季）")
            .unwrap();
        let mut header: Vec<&str> = registry::validate::COLUMNS.iter().rev().copied().collect();
        header.push("备注");
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(1, c as u16, *h).unwrap();
        }
        let mut r = 2;
        for data in &rows {
            let mut cells: Vec<&str> = data.iter().rev().map(String::as_str).collect();
            cells.push("无");
            for (c, v) in cells.iter().enumerate() {
                sheet.write_string(r, c as u16, *v).unwrap();
            }
            r += 2; // a blank row after each
        }
        book.save(&path).unwrap();
    }
    let out = import(&app.db, &operator(), &path, false).await;
    assert_eq!(
        (
            out.summary.read,
            out.summary.unchanged,
            out.summary.rejected
        ),
        (3, 3, 0),
        "{:?}",
        out.problems
    );
    assert_eq!(out.extra_columns, vec!["备注".to_string()]);
    let name: String = on_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM students WHERE student_no = $1")
        .bind(&rows[0][0]).fetch_one(p).await.unwrap());
    assert_eq!(name.as_bytes(), "欧阳𫖯".as_bytes());
    app.stop().await;
}

async fn reimport_is_idempotent_and_changes_make_history(app: TestApp) {
    let school = own_school(&app);
    let dir = &app.dir();
    let mut rows: Vec<Vec<String>> = (301..311)
        .map(|i| row(&school, i, &format!("学生{i}")))
        .collect();
    let path = write(dir, "a.csv", csv_text(&rows).as_bytes());
    let first = import(&app.db, &school_admin(&app), &path, false).await;
    assert_eq!(first.summary.inserted, 10);
    let snapshot = dump(&app.db).await;
    let audit_before = platform::audit::head(&app.db).await.unwrap().0;
    let again = import(&app.db, &school_admin(&app), &path, false).await;
    assert_eq!(
        (
            again.summary.inserted,
            again.summary.updated,
            again.summary.unchanged
        ),
        (0, 0, 10)
    );
    assert_eq!(
        dump(&app.db).await,
        snapshot,
        "re-importing the same file changes nothing"
    );

    // A dry run reports what would change and changes nothing.
    rows[0][11] = "六年级".into();
    rows[1][14] = "休学".into();
    rows[2][12] = "4班".into();
    let path = write(dir, "b.csv", csv_text(&rows).as_bytes());
    let dry = import(&app.db, &school_admin(&app), &path, true).await;
    assert_eq!((dry.summary.updated, dry.summary.unchanged), (3, 7));
    assert_eq!(dump(&app.db).await, snapshot);

    let real = import(&app.db, &school_admin(&app), &path, false).await;
    assert_eq!((real.summary.updated, real.summary.unchanged), (3, 7));
    let (_, history) = dump(&app.db).await;
    let of = |no: &str| {
        history
            .iter()
            .filter(|h| h[0] == no)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&rows[0][0])[0][1], "升级");
    assert!(of(&rows[0][0])[0][3].contains("年级：五年级 → 六年级"));
    assert_eq!(of(&rows[1][0])[0][1], "休学");
    assert_eq!(of(&rows[1][0])[0][2], "休学");
    assert_eq!(of(&rows[2][0])[0][1], "信息变更");
    assert!(
        audit_before < platform::audit::head(&app.db).await.unwrap().0,
        "imports are audited"
    );
    app.stop().await;
}

async fn export_round_trips_rare_names(app: TestApp) {
    let school = own_school(&app);
    let dir = &app.dir();
    let rows = vec![
        row(&school, 401, "王𫖯"),
        row(&school, 402, "李𬌗"),
        row(&school, 403, "𠀀𪚥"),
    ];
    import(
        &app.db,
        &operator(),
        &write(dir, "rare.csv", csv_text(&rows).as_bytes()),
        false,
    )
    .await;
    let audit = platform::audit::AuditLog::start(app.db.clone());
    let who = school_admin(&app);
    let query = registry::StudentQuery {
        school: Some(school.clone()),
        ..Default::default()
    };
    for ext in ["csv", "xlsx"] {
        let out = dir.join(format!("export.{ext}"));
        let n = files::export_students(&app.db, &audit, &who, &query, &out)
            .await
            .unwrap();
        assert!(n >= 3);
        let back = import(&app.db, &who, &out, false).await;
        assert_eq!(
            (
                back.summary.read,
                back.summary.inserted,
                back.summary.updated,
                back.summary.rejected
            ),
            (n, 0, 0, 0),
            "{ext} export re-imports unchanged: {:?}",
            back.problems
        );
        let reader = files::open(&out, &files::STUDENT_COLUMNS).unwrap();
        let names: Vec<String> = reader.map(|r| r.unwrap().values[1].clone()).collect();
        for expected in ["王𫖯", "李𬌗", "𠀀𪚥"] {
            assert!(
                names.iter().any(|n| n.as_bytes() == expected.as_bytes()),
                "{expected} in the {ext} export"
            );
        }
    }
    app.stop().await;
}

async fn scope_rules_for_import_and_export(app: TestApp) {
    let school = own_school(&app);
    let dir = &app.dir();
    // A school administrator's file naming another school: that row is refused.
    let rows = vec![
        row(&school, 501, "本校生"),
        row(&app.other_school, 502, "外校生"),
    ];
    let out = import(
        &app.db,
        &school_admin(&app),
        &write(dir, "mixed.csv", csv_text(&rows).as_bytes()),
        false,
    )
    .await;
    assert_eq!((out.summary.inserted, out.summary.rejected), (1, 1));
    assert_eq!(out.problems[0].code, "row.school_scope");
    // Teachers, employers and the joint office may not import at all.
    for (role, scope) in [
        (Role::Teacher, Scope::Org(school.clone())),
        (Role::Employer, Scope::Org("x".into())),
        (Role::JointOffice, Scope::Aggregates),
    ] {
        let who = Principal {
            user_id: 0,
            username: "u".into(),
            role,
            scope,
        };
        let path = write(dir, "t.csv", csv_text(&rows).as_bytes());
        let err = files::import_file(
            &app.db,
            &who,
            Kind::Students,
            &path,
            "t.csv",
            false,
            &indicatif::ProgressBar::hidden(),
        )
        .await;
        assert!(
            matches!(err, Err(registry::import::ImportError::NotAllowed)),
            "{role:?}"
        );
    }
    // Exports stay in scope; a bureau's export is masked.
    let token = app.token("sc.school").await;
    let csv = app
        .get_as(&token, "/api/v1/exports/students.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.contains(&school)),
        "school export holds only its school"
    );
    assert!(!csv.contains(&app.other_student));
    let bureau = app.token("sc.province").await;
    let csv = app
        .get_as(&bureau, "/api/v1/exports/students.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("**********"), "bureau exports are masked");
    assert!(csv.lines().count() > 100);
    let joint = app.token("sc.joint").await;
    let csv = app
        .get_as(&joint, "/api/v1/exports/students.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count(),
        1,
        "the joint office exports no personal rows: {csv}"
    );
    // Search: by exact name, prefix, grade and status, within scope.
    let found: Vec<Value> = app
        .get_as(
            &token,
            &format!("/api/v1/students?name_prefix={}", urlencode("本校")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let nothing: Vec<Value> = app
        .get_as(
            &token,
            &format!("/api/v1/students?name={}", urlencode("外校生")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(nothing.is_empty());
    let by_id: Vec<Value> = app
        .get_as(
            &token,
            &format!("/api/v1/students?citizen_id={}", rows[0][5].to_lowercase()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1);
    let literal: Vec<Value> = app
        .get_as(&token, "/api/v1/students?name_prefix=%25")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        literal.is_empty(),
        "a typed % is a character, not a wildcard"
    );
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn status_changes(app: TestApp) {
    let mine = app.account("student").person_key.clone().unwrap();
    let school = app.token("sc.school").await;
    let client = reqwest::Client::new();
    let change = |kind: &str| {
        client
            .post(app.url(&format!("/api/v1/students/{mine}/changes")))
            .bearer_auth(&school)
            .json(&serde_json::json!({"kind": kind, "date": "2026-11-02", "reason": "因病休养"}))
            .send()
    };
    let r = change("休学").await.unwrap();
    assert_eq!(r.status(), 201);
    let r = change("休学").await.unwrap();
    assert_eq!(r.status(), 409, "cannot suspend twice");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "change.not_applicable");
    assert_eq!(change("复学").await.unwrap().status(), 201);
    let view: Value = app
        .get_as(&school, &format!("/api/v1/students/{mine}"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = view["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["休学", "复学"]);
    assert_eq!(view["status"], "在读");
    // A teacher reads but cannot change; another school cannot even see.
    let teacher = app.token("sc.teacher").await;
    let r = client
        .post(app.url(&format!("/api/v1/students/{mine}/changes")))
        .bearer_auth(&teacher)
        .json(&serde_json::json!({"kind": "休学", "date": "2026-11-02", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let bad_date = client
        .post(app.url(&format!("/api/v1/students/{mine}/changes")))
        .bearer_auth(&school)
        .json(&serde_json::json!({"kind": "休学", "date": "明天", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_date.status(), 400);
    app.stop().await;
}

async fn upload_pages_for_a_school_admin(app: TestApp) {
    let browser = app.sign_in_form("sc.school").await;
    let page = browser
        .get(app.url("/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let template = browser
        .get(app.url("/templates/students.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(template.status(), 200);
    assert!(
        template.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    let school = own_school(&app);
    let mut rows = vec![row(&school, 601, "上传一"), row(&school, 602, "上传二")];
    rows[1][3] = "2015-02-30".into();
    let upload = |rows: &[Vec<String>]| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "students")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv_text(rows).into_bytes())
                    .file_name("本校学籍.csv"),
            );
        browser.post(app.url("/import")).multipart(form).send()
    };
    let r = upload(&rows).await.unwrap();
    assert_eq!(r.status(), 303);
    let result_url = r.headers()["location"].to_str().unwrap().to_owned();
    let result = browser
        .get(app.url(&result_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("本校学籍.csv"));
    assert!(
        result.contains("<dd id=\"rows-rejected\"><span class=\"bad\">1</span></dd>"),
        "{result}"
    );
    assert!(result.contains("出生日期") && result.contains("2015-02-30"));
    let report = browser
        .get(app.url(&format!("{result_url}/report.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(report.contains("2015-02-30"));
    // Another user cannot see the run.
    let other = app.sign_in_form("sc.school2").await;
    assert_eq!(app.status(&other, &result_url).await, 404);
    // Fixed and uploaded again: the good row is not duplicated, the fixed one is added.
    rows[1][3] = "2015-09-01".into();
    let r = upload(&rows).await.unwrap();
    let result = browser
        .get(app.url(r.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        result.contains("<dd id=\"rows-inserted\">1</dd>")
            && result.contains("<dd id=\"rows-unchanged\">1</dd>"),
        "{result}"
    );
    // Without the form's token the upload is refused.
    let form = reqwest::multipart::Form::new().text("csrf", "forged").part(
        "file",
        reqwest::multipart::Part::bytes(vec![1]).file_name("x.csv"),
    );
    assert_eq!(
        browser
            .post(app.url("/import"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // A teacher has no upload page.
    let teacher = app.sign_in_form("sc.teacher").await;
    assert_eq!(app.status(&teacher, "/import").await, 404);
    app.stop().await;
}

/// Kills an import with SIGKILL at several moments, re-runs it, and compares the result
/// with one clean run into a separate database.
async fn kill_and_rerun(engine: Engine) {
    let Some(clean_db) = TestDb::create(engine).await else {
        return;
    };
    let Some(killed_db) = TestDb::create(engine).await else {
        return;
    };
    let data = clean_db.dir.join("gen");
    let bin = env!("CARGO_BIN_EXE_chuanyu");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env_remove("CHUANYU_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&[
        "gen",
        "--member",
        "SC",
        "--out",
        data.to_str().unwrap(),
        "--seed",
        "11",
        "--schools",
        "30",
        "--students",
        "40000",
        "--teachers",
        "0",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let students = data.join("students.csv");
    // A few rows edited so the second run has updates and history to write.
    let node = |db: &TestDb, name: &str| -> String {
        let dir = db.dir.join(name);
        let mut args = vec!["init", "--member", "SC", "--dir", dir.to_str().unwrap()];
        if engine == Engine::Postgres {
            args.extend(["--database", db.url.as_str()]);
        }
        assert!(run(&args).status.success());
        let config = dir.join("chuanyu.toml").to_string_lossy().into_owned();
        assert!(
            run(&[
                "import",
                "schools",
                data.join("schools.csv").to_str().unwrap(),
                "--config",
                &config
            ])
            .status
            .success()
        );
        config
    };
    let clean = node(&clean_db, "clean");
    let killed = node(&killed_db, "killed");
    let file = students.to_str().unwrap();
    assert!(
        run(&["import", "students", file, "--config", &clean])
            .status
            .success()
    );

    let mut kills = 0;
    for delay_ms in [150_u64, 600, 1200, 2500] {
        let mut child = std::process::Command::new(bin)
            .args(["import", "students", file, "--config", &killed])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        kills >= 2,
        "the import was killed mid-way at least twice ({kills})"
    );
    assert!(
        run(&["import", "students", file, "--config", &killed])
            .status
            .success()
    );

    let open = |config: &str| {
        chuanyu::Node::open(platform::Config::load(Some(Path::new(config))).unwrap())
    };
    let (a, b) = (open(&clean).await.unwrap(), open(&killed).await.unwrap());
    let (da, db) = (dump(&a.db).await, dump(&b.db).await);
    assert_eq!(da.0.len(), 40_000);
    assert_eq!(
        da, db,
        "after kills and a re-run the registry equals one clean run"
    );
    a.db.close().await;
    b.db.close().await;
}

mod kill_and_rerun {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::kill_and_rerun(super::Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::kill_and_rerun(super::Engine::Postgres).await;
    }
}
