//! Validation of one 学籍 row as a person typed it: every field checked, codes normalised
//! (full-width to half-width, lowercase x), names never altered. Pure: no database, so the
//! rules are tested in isolation; what needs the database (the school exists and is in
//! scope, no duplicate across the file or other schools) is checked by the import.

use kernel::ids::{CitizenId, Sex, StudentNo, StudentNoKind, normalize_code};
use kernel::{Lang, Localized, division};
use time::Date;

use crate::Student;

pub use kernel::student_status::{
    COLUMNS, ETHNICITIES, GRADES, ID_TYPES, STAGES, STATUSES, grade_no,
};

/// Why one field of one row was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub column: &'static str,
    pub value: String,
    /// Stable code, e.g. `id.checksum`, `row.required`, `row.birth_date_mismatch`.
    pub code: &'static str,
    /// For the registrar, in Chinese.
    pub reason: String,
}

impl FieldProblem {
    pub fn new(
        column: &'static str,
        value: &str,
        code: &'static str,
        reason: impl Into<String>,
    ) -> FieldProblem {
        FieldProblem {
            column,
            value: value.to_owned(),
            code,
            reason: reason.into(),
        }
    }

    pub fn from_id(column: &'static str, value: &str, e: &impl Localized) -> FieldProblem {
        FieldProblem::new(column, value, e.code(), e.message(Lang::Zh))
    }
}

/// Parses a date as registrars type it: 2026-09-01, 2026/9/1, 2026.09.01, 20260901 or
/// 2026年9月1日. Returns the ISO form.
pub fn parse_date(input: &str) -> Option<Date> {
    let s = normalize_code(input);
    let s = s.trim_end_matches('日');
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (&s[..4], &s[4..6], &s[6..])
    } else {
        let mut parts = s.split(['-', '/', '.', '年', '月']);
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A division code for 户籍地/常住地: one of the 川渝 table, or for other provinces any
/// six digits under a real province code (the table covers only Chongqing and Sichuan).
pub fn division_code(
    column: &'static str,
    value: &str,
    problems: &mut Vec<FieldProblem>,
) -> String {
    let code = normalize_code(value);
    let in_region = code.starts_with("50") || code.starts_with("51");
    let ok = code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && if in_region {
            division::lookup(&code).is_some()
        } else {
            division::is_province_code(&code[..2])
        };
    if !ok {
        problems.push(FieldProblem::new(
            column,
            value,
            "row.division",
            format!("{column}应为 6 位行政区划代码（GB/T 2260），如 510104；“{value}”不是有效代码"),
        ));
    }
    code
}

pub fn one_of(
    column: &'static str,
    value: &str,
    allowed: &[&str],
    problems: &mut Vec<FieldProblem>,
) -> String {
    let v = value.trim();
    if !allowed.contains(&v) {
        problems.push(FieldProblem::new(
            column,
            value,
            "row.enum",
            format!(
                "{column}“{value}”不在可选值中，可选：{}",
                allowed.join("、")
            ),
        ));
    }
    v.to_owned()
}

/// A `row.required` problem for every required column of `columns` left empty in `fields`
/// (given in column order): the first check of every list's rows.
pub fn missing_required(columns: &[tabular::ColumnSpec], fields: &[String]) -> Vec<FieldProblem> {
    columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.required && fields.get(*i).is_none_or(|v| v.trim().is_empty()))
        .map(|(_, c)| FieldProblem::new(c.name, "", "row.required", format!("{}不能为空", c.name)))
        .collect()
}

/// Validates one row given in [`COLUMNS`] order. All problems of the row are reported, not
/// just the first.
pub fn validate(fields: &[String]) -> Result<Student, Vec<FieldProblem>> {
    let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
    let mut problems = Vec::new();
    for (i, column) in COLUMNS.iter().enumerate() {
        if get(i).trim().is_empty() {
            problems.push(FieldProblem::new(
                column,
                "",
                "row.required",
                format!("{column}不能为空"),
            ));
        }
    }
    if !problems.is_empty() && problems.len() == COLUMNS.len() {
        return Err(problems);
    }
    let filled = |i: usize| !get(i).trim().is_empty();

    let student_no = match StudentNo::parse(get(0)) {
        Ok(n) => Some(n),
        Err(e) => {
            if filled(0) {
                problems.push(FieldProblem::from_id(COLUMNS[0], get(0), &e));
            }
            None
        }
    };
    // Names are kept exactly as typed (rare characters included); only surrounding
    // whitespace goes, and control characters are refused.
    let name = get(1).trim().to_owned();
    if name.chars().count() > 50 || name.chars().any(char::is_control) {
        problems.push(FieldProblem::new(
            COLUMNS[1],
            get(1),
            "row.name",
            "姓名过长或含有不可见字符",
        ));
    }
    let sex = Sex::parse(get(2));
    if sex.is_none() && filled(2) {
        problems.push(FieldProblem::new(
            COLUMNS[2],
            get(2),
            "row.enum",
            format!("性别“{}”无效，应为“男”或“女”", get(2)),
        ));
    }
    let birth = parse_date(get(3));
    if birth.is_none() && filled(3) {
        problems.push(FieldProblem::new(
            COLUMNS[3],
            get(3),
            "row.date",
            format!("出生日期“{}”不是有效日期，请写作 YYYY-MM-DD", get(3)),
        ));
    }
    let id_type = if filled(4) {
        one_of(COLUMNS[4], get(4), ID_TYPES, &mut problems)
    } else {
        String::new()
    };
    let mut id_number = normalize_code(get(5));
    if id_type == "居民身份证" && filled(5) {
        match CitizenId::parse(get(5)) {
            Ok(id) => {
                let id = id.to_18();
                if let Some(b) = birth
                    && b != id.birth_date()
                {
                    problems.push(FieldProblem::new(
                        COLUMNS[3],
                        get(3),
                        "row.birth_date_mismatch",
                        format!(
                            "出生日期与身份证号不一致：身份证号中为 {}",
                            iso(id.birth_date())
                        ),
                    ));
                }
                if let Some(s) = sex
                    && s != id.sex()
                {
                    problems.push(FieldProblem::new(
                        COLUMNS[2],
                        get(2),
                        "row.sex_mismatch",
                        format!(
                            "性别与身份证号不一致：身份证号第 17 位表示“{}”",
                            id.sex().label(Lang::Zh)
                        ),
                    ));
                }
                if let Some(no) = &student_no
                    && no.kind() == StudentNoKind::G
                    && no.citizen_id().is_some_and(|c| c.as_str() != id.as_str())
                {
                    problems.push(FieldProblem::new(
                        COLUMNS[0],
                        get(0),
                        "row.student_no_mismatch",
                        "G 字头学籍号应为“G”加本人身份证号，与身份证件号码不一致",
                    ));
                }
                id_number = id.as_str().to_owned();
            }
            Err(e) => problems.push(FieldProblem::from_id(COLUMNS[5], get(5), &e)),
        }
    } else if filled(5)
        && (id_number.chars().count() > 32 || !id_number.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        problems.push(FieldProblem::new(
            COLUMNS[5],
            get(5),
            "row.id_number",
            "证件号码应为不超过 32 位的字母或数字",
        ));
    }
    let ethnicity = if filled(6) {
        one_of(COLUMNS[6], get(6), ETHNICITIES, &mut problems)
    } else {
        String::new()
    };
    let hukou = if filled(7) {
        division_code(COLUMNS[7], get(7), &mut problems)
    } else {
        String::new()
    };
    let residence = if filled(8) {
        division_code(COLUMNS[8], get(8), &mut problems)
    } else {
        String::new()
    };
    let school_code = match kernel::ids::SchoolCode::parse(get(9)) {
        Ok(c) => c.as_str().to_owned(),
        Err(e) => {
            if filled(9) {
                problems.push(FieldProblem::from_id(COLUMNS[9], get(9), &e));
            }
            String::new()
        }
    };
    let stage = if filled(10) {
        one_of(COLUMNS[10], get(10), STAGES, &mut problems)
    } else {
        String::new()
    };
    let grade = if filled(11) {
        one_of(COLUMNS[11], get(11), GRADES, &mut problems)
    } else {
        String::new()
    };
    let grade_no = grade_no(&grade);
    let class_name = get(12).trim().to_owned();
    if class_name.chars().count() > 20 || class_name.chars().any(char::is_control) {
        problems.push(FieldProblem::new(
            COLUMNS[12],
            get(12),
            "row.class",
            "班级名称过长或含有不可见字符",
        ));
    }
    let enrol = parse_date(get(13));
    match (enrol, birth) {
        (None, _) if filled(13) => problems.push(FieldProblem::new(
            COLUMNS[13],
            get(13),
            "row.date",
            format!("入学日期“{}”不是有效日期，请写作 YYYY-MM-DD", get(13)),
        )),
        (Some(e), Some(b)) if e <= b => problems.push(FieldProblem::new(
            COLUMNS[13],
            get(13),
            "row.enrol_before_birth",
            "入学日期早于出生日期",
        )),
        _ => {}
    }
    let status = if filled(14) {
        one_of(COLUMNS[14], get(14), STATUSES, &mut problems)
    } else {
        String::new()
    };

    if !problems.is_empty() {
        return Err(problems);
    }
    // Every `None` above pushed a problem, so all are present here.
    match (student_no, sex, birth, enrol) {
        (Some(no), Some(sex), Some(birth), Some(enrol)) => Ok(Student {
            student_no: no.as_str().to_owned(),
            name,
            sex: sex.label(Lang::Zh).to_owned(),
            birth_date: iso(birth),
            id_type,
            citizen_id: Some(id_number),
            ethnicity,
            hukou_division: hukou,
            residence_division: residence,
            school_code,
            stage,
            grade,
            grade_no,
            class_name,
            enrol_date: iso(enrol),
            status,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Vec<String> {
        [
            "G510104201509011234",
            "王𫖯",
            "男",
            "2015-09-01",
            "居民身份证",
            "510104201509011234",
            "汉族",
            "510104",
            "510104",
            "2151010001",
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

    fn valid_row() -> Vec<String> {
        let mut r = row();
        let first17 = "51010420150901123";
        let id = format!(
            "{first17}{}",
            kernel::ids::citizen_id_check_char(first17).unwrap()
        );
        r[0] = format!("G{id}");
        r[5] = id;
        r
    }

    fn codes(r: Vec<String>) -> Vec<&'static str> {
        validate(&r)
            .unwrap_err()
            .into_iter()
            .map(|p| p.code)
            .collect()
    }

    #[test]
    fn a_valid_row_passes_with_its_name_untouched() {
        let s = validate(&valid_row()).unwrap();
        assert_eq!(s.name, "王𫖯");
        assert_eq!(s.grade_no, 5);
        assert_eq!(s.birth_date, "2015-09-01");
    }

    #[test]
    fn codes_and_dates_are_normalised() {
        let mut r = valid_row();
        r[0] = r[0].to_lowercase().replace('1', "１");
        r[3] = "2015年9月1日".into();
        r[13] = "2021/9/1".into();
        r[9] = "２１５１０１０００１".into();
        r[2] = "M".into();
        let s = validate(&r).unwrap();
        assert_eq!(s.student_no, valid_row()[0]);
        assert_eq!(s.enrol_date, "2021-09-01");
        assert_eq!(s.school_code, "2151010001");
        assert_eq!(s.sex, "男");
    }

    #[test]
    fn each_class_of_bad_field_is_named() {
        let cases: Vec<(usize, &str, &str)> = vec![
            (0, "G510104201509011230", "id.checksum"),
            (0, "X123", "id.prefix"),
            (1, "", "row.required"),
            (2, "未知", "row.enum"),
            (3, "2015-02-30", "row.date"),
            (3, "2015-09-02", "row.birth_date_mismatch"),
            (2, "女", "row.sex_mismatch"),
            (4, "驾驶证", "row.enum"),
            (6, "火星族", "row.enum"),
            (7, "519999", "row.division"),
            (8, "abc", "row.division"),
            (9, "9951010001", "id.school_type"),
            (10, "大学", "row.enum"),
            (11, "十年级", "row.enum"),
            (13, "2014-01-01", "row.enrol_before_birth"),
            (14, "逃学", "row.enum"),
        ];
        for (column, value, code) in cases {
            let mut r = valid_row();
            r[column] = value.to_owned();
            assert!(
                codes(r).contains(&code),
                "{} = {value:?} should give {code}",
                COLUMNS[column]
            );
        }
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let mut r = valid_row();
        r[2] = "?".into();
        r[11] = "?".into();
        r[14] = "?".into();
        assert_eq!(codes(r).len(), 3);
        assert_eq!(codes(vec![String::new(); 15]).len(), 15);
        assert!(validate(&[]).is_err(), "a short row never panics");
    }

    #[test]
    fn other_provinces_and_documents() {
        let mut r = valid_row();
        r[7] = "520102".into(); // 贵阳市南明区: outside the 川渝 table, still a real province
        r[4] = "护照".into();
        r[5] = "E12345678".into();
        r[0] = "L2026000123".into();
        assert!(validate(&r).is_ok(), "{:?}", validate(&r));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("20260901").map(iso).as_deref(),
            Some("2026-09-01")
        );
        assert_eq!(
            parse_date("2026.9.1").map(iso).as_deref(),
            Some("2026-09-01")
        );
        assert_eq!(
            parse_date("２０２６－０９－０１").map(iso).as_deref(),
            Some("2026-09-01")
        );
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-09"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("2026-09-01-01"), None);
    }
}
