use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use indicatif::ProgressBar;
use kernel::ids::{CitizenId, SchoolCode, SchoolType, Sex, StudentNo, TeacherCertNo};

use crate::write::write_with_sheet_limit;
use crate::*;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("synth-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spec(province: Province, schools: u32, students: u64, teachers: u64) -> Spec {
    Spec {
        province,
        seed: 42,
        schools,
        students,
        teachers,
    }
}

fn is_county_of(code: &str, province: Option<Province>) -> bool {
    kernel::division::lookup(code).is_some_and(|d| {
        d.level == kernel::division::DivisionLevel::County
            && province.is_none_or(|p| code.starts_with(p.code()))
    })
}

fn has_rare_char(name: &str) -> bool {
    name.chars().any(|c| u32::from(c) > 0xFFFF)
}

#[test]
fn province_parses_case_insensitively() {
    assert_eq!(Province::parse("cq"), Some(Province::CQ));
    assert_eq!(Province::parse(" SC "), Some(Province::SC));
    assert_eq!(Province::parse("Sc"), Some(Province::SC));
    assert_eq!(Province::parse("GZ"), None);
    assert_eq!(Province::SC.code(), "51");
    assert_eq!(Province::CQ.name(), "重庆市");
    assert_eq!(Format::parse("XLSX"), Some(Format::Xlsx));
}

#[test]
fn bureaus_cover_the_province() {
    let cq = bureaus(&Spec::demo(Province::CQ));
    // The commission and 38 districts/counties; no bureau for the placeholder prefectures.
    assert_eq!(cq.len(), 39);
    assert_eq!(cq[0].code, "B500000");
    assert_eq!(cq[0].name, "重庆市教育委员会");
    assert_eq!(cq[0].kind, "province-bureau");
    assert!(
        cq.iter()
            .any(|b| b.code == "B500103" && b.name == "重庆市渝中区教育委员会")
    );
    assert!(
        !cq.iter()
            .any(|b| b.code == "B500100" || b.code == "B500200")
    );

    let sc = bureaus(&Spec::demo(Province::SC));
    // The department, 21 prefectures, 183 counties.
    assert_eq!(sc.len(), 1 + 21 + 183);
    assert_eq!(sc[0].name, "四川省教育厅");
    let find = |code: &str| sc.iter().find(|b| b.code == code).unwrap();
    assert_eq!(find("B510100").name, "成都市教育局");
    assert_eq!(find("B510107").name, "成都市武侯区教育局");
    assert_eq!(find("B510104").division_code, "510104");
    for b in &sc {
        assert_eq!(b.code, format!("B{}", b.division_code));
        assert!(kernel::division::lookup(&b.division_code).is_some());
        assert_eq!(b.kind == "province-bureau", b.code == "B510000");
    }
    assert_eq!(find("B510121").name, "金堂县教育局");
    assert_eq!(find("B511102").name, "乐山市市中区教育局");
    let codes: HashSet<_> = sc.iter().map(|b| &b.code).collect();
    assert_eq!(codes.len(), sc.len());
    for rows in [&cq, &sc] {
        let names: HashSet<_> = rows.iter().map(|b| &b.name).collect();
        assert_eq!(names.len(), rows.len(), "bureau names are unique");
    }
}

#[test]
fn schools_are_valid_unique_and_mixed() {
    for province in Province::ALL {
        let rows = schools(&spec(province, 3000, 0, 0));
        assert_eq!(rows.len(), 3000);
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        let mut types: HashMap<&str, usize> = HashMap::new();
        for s in &rows {
            let code = SchoolCode::parse(&s.code).unwrap();
            assert_eq!(code.province_code(), province.code());
            assert_eq!(code.school_type().code(), s.school_type);
            assert!(is_county_of(&s.division_code, Some(province)), "{s:?}");
            assert!(codes.insert(s.code.clone()), "duplicate code {}", s.code);
            assert!(names.insert(s.name.clone()), "duplicate name {}", s.name);
            *types.entry(&s.school_type).or_default() += 1;
        }
        assert!(
            types["21"] > types["31"] && types["31"] > types["33"],
            "{types:?}"
        );
        assert!(types["34"] > 0 && types["36"] > 0 && types["32"] > 0);
    }
    let demo = schools(&Spec::demo(Province::SC));
    assert_eq!(demo.len(), 40);
    // The names read like real ones.
    let all = schools(&spec(Province::SC, 3000, 0, 0));
    assert!(
        all.iter().any(|s| s.name == "成都市武侯区实验小学"),
        "no 武侯区实验小学"
    );
    assert!(
        all.iter()
            .any(|s| s.name.starts_with("成都市") && s.name.ends_with("第三小学"))
    );
    let cq = schools(&spec(Province::CQ, 3000, 0, 0));
    assert!(cq.iter().any(|s| s.name == "重庆市渝中区实验中学"));
    assert!(cq.iter().any(|s| s.name.ends_with("职业中学")));
}

#[test]
fn csv_output_is_deterministic() {
    let spec = Spec::demo(Province::SC);
    let (a, b) = (TempDir::new("det-a"), TempDir::new("det-b"));
    let written_a = write_all(&spec, &a.0, &[Format::Csv], &ProgressBar::hidden()).unwrap();
    let written_b = write_all(&spec, &b.0, &[Format::Csv], &ProgressBar::hidden()).unwrap();
    assert_eq!(written_a.len(), 4);
    let rows: Vec<u64> = written_a.iter().map(|w| w.rows).collect();
    assert_eq!(rows, [205, 40, 2000, 200]);
    for (wa, wb) in written_a.iter().zip(&written_b) {
        assert_eq!(wa.rows, wb.rows);
        let (ba, bb) = (
            std::fs::read(&wa.path).unwrap(),
            std::fs::read(&wb.path).unwrap(),
        );
        assert!(ba == bb, "{} differs between runs", wa.path.display());
    }
    let csv_text = std::fs::read_to_string(a.0.join("students.csv")).unwrap();
    assert!(!csv_text.starts_with('\u{feff}'), "no BOM");
    assert_eq!(csv_text.lines().next().unwrap(), STUDENT_HEADERS.join(","));
    assert_eq!(csv_text.lines().count(), 2001);

    // Another seed gives other people.
    let other = Spec {
        seed: 43,
        ..spec.clone()
    };
    let schools = schools(&other);
    let first = students(&other, &schools).next().unwrap();
    let same_seed_schools = crate::schools(&spec);
    assert_ne!(
        first,
        crate::students(&spec, &same_seed_schools).next().unwrap()
    );
}

#[test]
fn demo_students_mostly_study_where_registered() {
    // Even with 40 schools for 183 counties, 户籍 follows the schools.
    for province in Province::ALL {
        let spec = Spec::demo(province);
        let school_rows = schools(&spec);
        let county: HashMap<&str, &str> = school_rows
            .iter()
            .map(|s| (s.code.as_str(), s.division_code.as_str()))
            .collect();
        let at_home = students(&spec, &school_rows)
            .filter(|s| s.hukou_division == county[s.school_code.as_str()])
            .count();
        assert!(
            (1600..=1800).contains(&at_home),
            "{province:?}: {at_home} of 2000"
        );
    }
}

#[test]
fn rows_can_be_generated_again_from_their_index() {
    // Streaming must not depend on what came before: skipping rows gives the same rows.
    let spec = spec(Province::CQ, 200, 1000, 100);
    let schools = schools(&spec);
    let all: Vec<StudentRow> = students(&spec, &schools).collect();
    let tail: Vec<StudentRow> = students(&spec, &schools).skip(700).collect();
    assert_eq!(&all[700..], &tail[..]);
    let teachers_all: Vec<TeacherRow> = teachers(&spec, &schools).collect();
    assert_eq!(
        teachers(&spec, &schools).nth(50).as_ref(),
        teachers_all.get(50)
    );
}

/// Checks one student against its ID number, its school and the kernel's parsers.
fn check_student(s: &StudentRow, province: Province, schools: &HashMap<&str, &SchoolRow>) {
    let id = CitizenId::parse(&s.citizen_id).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    assert_eq!(id.as_str(), s.citizen_id);
    let no = StudentNo::parse(&s.student_no).unwrap();
    assert_eq!(no.citizen_id().as_ref(), Some(&id));
    let birth = id.birth_date();
    assert_eq!(
        s.birth_date,
        format!("{birth}"),
        "birth date agrees with the ID"
    );
    let sex = if s.sex == "男" {
        Sex::Male
    } else {
        Sex::Female
    };
    assert!(s.sex == "男" || s.sex == "女");
    assert_eq!(id.sex(), sex, "sex agrees with the ID: {s:?}");
    assert_eq!(id.area_code(), s.hukou_division);
    assert!(is_county_of(s.hukou_division, None), "{s:?}");
    assert!(is_county_of(s.residence_division, Some(province)), "{s:?}");
    assert_eq!(s.id_type, "居民身份证");
    assert_eq!(s.status, "在读");

    let school = schools[s.school_code.as_str()];
    SchoolCode::parse(&s.school_code).unwrap();
    let grade = [
        "一年级",
        "二年级",
        "三年级",
        "四年级",
        "五年级",
        "六年级",
        "七年级",
        "八年级",
        "九年级",
        "高一",
        "高二",
        "高三",
    ]
    .iter()
    .position(|&g| g == s.grade)
    .unwrap() as i32
        + 1;
    // Born between 1 September of 2020 - grade and 31 August a year later.
    let born = (birth.year(), u8::from(birth.month()), birth.day());
    let start = (2020 - grade, 9, 1);
    let end = (2021 - grade, 9, 1);
    assert!(
        born >= start && born < end,
        "{s:?} is the wrong age for the grade"
    );
    // So a first-year pupil is 6 or 7 when the school year starts.
    let age_at_start =
        2026 - birth.year() - i32::from((u8::from(birth.month()), birth.day()) > (9, 1));
    assert!((5 + grade..=6 + grade).contains(&age_at_start), "{s:?}");

    let school_type = SchoolType::from_code(&school.school_type).unwrap();
    let (stage, entry) = match grade {
        1..=6 => ("小学", 1),
        7..=9 => ("初中", 7),
        _ if school_type == SchoolType::SecondaryVocational => ("中职", 10),
        _ => ("高中", 10),
    };
    assert_eq!(s.stage, stage, "{s:?}");
    let offered = match school_type {
        SchoolType::Primary => 1..=6,
        SchoolType::JuniorSecondary => 7..=9,
        SchoolType::NineYear => 1..=9,
        SchoolType::CompleteSecondary => 7..=12,
        SchoolType::SeniorSecondary | SchoolType::SecondaryVocational => 10..=12,
        other => panic!("students at a {other:?}"),
    };
    assert!(offered.contains(&grade), "{s:?} in a {school_type:?}");
    assert_eq!(s.enrol_date, format!("{}-09-01", 2026 - (grade - entry)));
    let class: u32 = s.class.strip_suffix('班').unwrap().parse().unwrap();
    assert!((1..=12).contains(&class));
}

#[test]
fn three_hundred_thousand_students_are_unique_and_valid() {
    let province = Province::SC;
    let spec = spec(province, 4000, 300_000, 0);
    let school_rows = schools(&spec);
    let by_code: HashMap<&str, &SchoolRow> =
        school_rows.iter().map(|s| (s.code.as_str(), s)).collect();
    let mut ids = HashSet::with_capacity(300_000);
    let mut numbers = HashSet::with_capacity(300_000);
    let (mut rare, mut away, mut guests, mut male) = (0, 0, 0, 0);
    let mut ethnicities: HashMap<&str, u32> = HashMap::new();
    let mut stages: HashMap<&str, u32> = HashMap::new();
    let mut count = 0;
    for s in students(&spec, &school_rows) {
        check_student(&s, province, &by_code);
        let school = by_code[s.school_code.as_str()];
        rare += u32::from(has_rare_char(&s.name));
        away += u32::from(s.hukou_division != school.division_code);
        guests += u32::from(!s.hukou_division.starts_with(province.code()));
        male += u32::from(s.sex == "男");
        *ethnicities.entry(s.ethnicity).or_default() += 1;
        *stages.entry(s.stage).or_default() += 1;
        assert!(ids.insert(s.citizen_id), "duplicate ID");
        assert!(numbers.insert(s.student_no), "duplicate 学籍号");
        count += 1;
    }
    assert_eq!(count, 300_000);
    let per_mille = |n: u32| n * 1000 / 300_000;
    // About 1 in 200 names has a character outside the BMP.
    assert!((2..=8).contains(&per_mille(rare)), "rare names: {rare}");
    // About 15% study outside their 户籍 county, a third of them from Chongqing.
    assert!(
        (120..=200).contains(&per_mille(away)),
        "away from 户籍: {away}"
    );
    assert!(
        (35..=65).contains(&per_mille(guests)),
        "Chongqing 户籍: {guests}"
    );
    assert!((480..=520).contains(&per_mille(male)), "male: {male}");
    assert!(ethnicities["汉族"] > 250_000, "{ethnicities:?}");
    for minority in ["彝族", "藏族", "羌族"] {
        assert!(
            ethnicities.get(minority).copied().unwrap_or(0) > 300,
            "{ethnicities:?}"
        );
    }
    for stage in ["小学", "初中", "高中", "中职"] {
        assert!(
            stages.get(stage).copied().unwrap_or(0) > 10_000,
            "{stages:?}"
        );
    }
}

#[test]
fn chongqing_students_have_local_minorities() {
    let spec = spec(Province::CQ, 1500, 40_000, 0);
    let school_rows = schools(&spec);
    let by_code: HashMap<&str, &SchoolRow> =
        school_rows.iter().map(|s| (s.code.as_str(), s)).collect();
    let mut ethnicities: HashMap<&str, u32> = HashMap::new();
    for s in students(&spec, &school_rows) {
        check_student(&s, Province::CQ, &by_code);
        *ethnicities.entry(s.ethnicity).or_default() += 1;
    }
    assert!(
        ethnicities["土家族"] > 200 && ethnicities["苗族"] > 100,
        "{ethnicities:?}"
    );
    assert!(!ethnicities.contains_key("羌族") || ethnicities["羌族"] < 50);
}

#[test]
fn teachers_are_valid_and_never_share_numbers() {
    for province in Province::ALL {
        let spec = spec(province, 1000, 20_000, 20_000);
        let school_rows = schools(&spec);
        let by_code: HashMap<&str, &SchoolRow> =
            school_rows.iter().map(|s| (s.code.as_str(), s)).collect();
        let mut ids: HashSet<String> = students(&spec, &school_rows)
            .map(|s| s.citizen_id)
            .collect();
        let mut certs = HashSet::new();
        let mut titles: HashMap<&str, u32> = HashMap::new();
        let mut women = 0;
        for t in teachers(&spec, &school_rows) {
            let id = CitizenId::parse(&t.citizen_id).unwrap();
            assert_eq!(t.birth_date, format!("{}", id.birth_date()));
            assert!((1965..=2000).contains(&id.birth_date().year()), "{t:?}");
            assert_eq!(id.sex() == Sex::Male, t.sex == "男");
            assert!(id.area_code().starts_with(province.code()));
            assert!(ids.insert(t.citizen_id.clone()), "ID shared: {t:?}");

            let cert = TeacherCertNo::parse(&t.cert_no).unwrap_or_else(|e| panic!("{t:?}: {e}"));
            assert_eq!(cert.province_code(), province.code());
            assert_eq!(cert.cert_type().digit().to_string(), t.cert_type);
            assert_eq!(&t.cert_no[10..11], if t.sex == "男" { "1" } else { "2" });
            assert!(u32::from(cert.year()) <= 2026);
            assert!(u32::from(cert.year()) >= id.birth_date().year() as u32 + 21);
            assert!(certs.insert(t.cert_no.clone()), "cert number shared");

            let school = by_code[t.school_code.as_str()];
            let allowed: &[&str] = match school.school_type.as_str() {
                "21" => &["2"],
                "31" => &["3"],
                "32" => &["2", "3"],
                "33" => &["3", "4"],
                "34" => &["4"],
                "36" => &["5", "6"],
                other => panic!("unexpected school type {other}"),
            };
            assert!(allowed.contains(&t.cert_type), "{t:?} at {school:?}");
            *titles.entry(t.title).or_default() += 1;
            women += u32::from(t.sex == "女");
        }
        assert_eq!(certs.len(), 20_000);
        assert!((12_000..=15_000).contains(&women), "women: {women}");
        for title in ["二级教师", "一级教师", "高级教师", "正高级教师"] {
            assert!(titles.contains_key(title), "{titles:?}");
        }
    }
}

#[test]
fn the_two_provinces_never_issue_the_same_number() {
    // Guests' numbers of one province never equal natives' numbers of the other, whatever the
    // seeds.
    let ids = |province, seed| {
        let spec = Spec {
            seed,
            ..spec(province, 500, 60_000, 2_000)
        };
        let school_rows = schools(&spec);
        let mut ids: HashSet<String> = students(&spec, &school_rows)
            .map(|s| s.citizen_id)
            .collect();
        ids.extend(teachers(&spec, &school_rows).map(|t| t.citizen_id));
        assert_eq!(ids.len(), 62_000);
        ids
    };
    let cq = ids(Province::CQ, 1);
    assert!(cq.is_disjoint(&ids(Province::SC, 1)));
    assert!(cq.is_disjoint(&ids(Province::SC, 2)));
}

#[test]
fn small_and_odd_school_sets_do_not_break_generation() {
    // No schools: no students or teachers.
    let empty = spec(Province::SC, 0, 100, 100);
    assert_eq!(students(&empty, &[]).count(), 0);
    assert_eq!(teachers(&empty, &[]).count(), 0);
    // One primary school: every student is in grades 1–6 there.
    let one = spec(Province::CQ, 1, 500, 10);
    let school_rows = schools(&one);
    assert_eq!(school_rows[0].school_type, "21");
    let rows: Vec<_> = students(&one, &school_rows).collect();
    assert_eq!(rows.len(), 500);
    assert!(
        rows.iter()
            .all(|s| s.stage == "小学" && s.school_code == school_rows[0].code)
    );
    // Kindergartens and universities hold teachers but no 学籍 students.
    let odd = vec![
        SchoolRow {
            code: "1150000001".into(),
            name: "重庆市渝中区实验幼儿园".into(),
            school_type: "11".into(),
            division_code: "500103".into(),
        },
        SchoolRow {
            code: "4150000001".into(),
            name: "某大学".into(),
            school_type: "41".into(),
            division_code: "999999".into(),
        },
    ];
    assert_eq!(students(&one, &odd).count(), 0);
    let teachers: Vec<_> = teachers(&one, &odd).collect();
    assert_eq!(teachers.len(), 10);
    for t in &teachers {
        let expected = if t.school_code.starts_with("11") {
            "1"
        } else {
            "7"
        };
        assert_eq!(t.cert_type, expected);
    }
    // Asking for more than can be unique is refused before anything is written.
    let too_many = Spec {
        students: u64::MAX,
        ..Spec::demo(Province::CQ)
    };
    let dir = TempDir::new("too-many");
    let err = write_all(&too_many, &dir.0, &[Format::Csv], &ProgressBar::hidden()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(!dir.0.join("students.csv").exists());
}

#[test]
fn xlsx_continues_on_further_sheets() {
    use calamine::{Data, Reader, Xlsx, open_workbook};

    let spec = spec(Province::CQ, 30, 250, 20);
    let dir = TempDir::new("xlsx");
    let progress = ProgressBar::hidden();
    let written = write_with_sheet_limit(
        &spec,
        &dir.0,
        &[Format::Xlsx, Format::Csv, Format::Xlsx],
        &progress,
        100,
    )
    .unwrap();
    // Each table once per distinct format; the progress bar counted every row once.
    assert_eq!(written.len(), 8);
    assert_eq!(progress.position(), 39 + 30 + 250 + 20);
    assert_eq!(progress.length(), Some(39 + 30 + 250 + 20));

    let mut book: Xlsx<_> = open_workbook(dir.0.join("students.xlsx")).unwrap();
    assert_eq!(book.sheet_names(), ["学籍", "学籍2", "学籍3"]);
    let csv = std::fs::read_to_string(dir.0.join("students.csv")).unwrap();
    let mut csv_lines = csv.lines().skip(1);
    let mut rows = 0;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        let mut sheet_rows = range.rows();
        let header: Vec<String> = sheet_rows
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header, STUDENT_HEADERS);
        for row in sheet_rows {
            assert!(
                row.iter().all(|c| matches!(c, Data::String(_))),
                "text cells"
            );
            let line: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            assert_eq!(line.join(","), csv_lines.next().unwrap());
            rows += 1;
        }
    }
    assert_eq!(rows, 250);
    let mut schools_book: Xlsx<_> = open_workbook(dir.0.join("schools.xlsx")).unwrap();
    assert_eq!(schools_book.sheet_names(), ["学校"]);
    assert_eq!(schools_book.worksheet_range("学校").unwrap().height(), 31);
}

#[test]
fn generation_speed_example() {
    // Not an assertion, just a figure to watch (run with --release --nocapture).
    let spec = spec(Province::SC, 20_000, 100_000, 0);
    let school_rows = schools(&spec);
    let start = Instant::now();
    let mut writer = csv::Writer::from_writer(std::io::sink());
    for s in students(&spec, &school_rows) {
        writer.write_record(s.fields()).unwrap();
    }
    println!(
        "100k students generated and CSV-encoded in {:?}",
        start.elapsed()
    );
}
