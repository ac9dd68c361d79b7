//! Deterministic, realistic synthetic data for one province: education bureaus, schools,
//! students (学籍) and teachers.
//!
//! It backs `chuanyu gen` and the demo's seeding, and its files double as import test data,
//! so it streams: students and teachers are produced one row at a time from the seed and the
//! row index, and memory stays flat whatever the row count (15 million students and a million
//! teachers to CSV: about 20 MB and 25 seconds in release mode).
//!
//! Uniqueness of citizen ID numbers is structural rather than checked against a set: a keyed
//! permutation maps each row index onto a distinct (area code, birth date, sequence) slot of
//! a weighted slot space (see `people`); 20 million students of one province were checked to
//! be distinct. Students are born 2008–2020 and teachers 1965–2000, so the two never share a
//! number; a province's "guest" students (户籍 in the other province) use sequence numbers
//! the other province never uses for its own people, so the Chongqing and Sichuan outputs
//! never collide either, whatever their seeds.

mod date;
mod geo;
pub mod graduates;
pub mod jobs;
mod names;
mod people;
mod random;
mod schools;
mod write;

#[cfg(test)]
mod tests;

pub use people::{students, teachers};
pub use schools::{bureaus, schools};
pub use write::{Format, Written, write_all};

/// The province a data set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Province {
    CQ,
    SC,
}

impl Province {
    pub const ALL: [Province; 2] = [Province::CQ, Province::SC];

    /// The two-digit GB/T 2260 province code.
    pub fn code(self) -> &'static str {
        match self {
            Province::CQ => "50",
            Province::SC => "51",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Province::CQ => "重庆市",
            Province::SC => "四川省",
        }
    }

    /// The federation member tag, "CQ" or "SC".
    pub fn tag(self) -> &'static str {
        match self {
            Province::CQ => "CQ",
            Province::SC => "SC",
        }
    }

    /// Accepts "CQ" or "SC" in any case, with surrounding spaces.
    pub fn parse(input: &str) -> Option<Province> {
        let input = input.trim();
        Province::ALL
            .into_iter()
            .find(|p| p.tag().eq_ignore_ascii_case(input))
    }

    pub(crate) fn other(self) -> Province {
        match self {
            Province::CQ => Province::SC,
            Province::SC => Province::CQ,
        }
    }
}

/// What to generate. The same `Spec` always produces byte-identical output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub province: Province,
    pub seed: u64,
    pub schools: u32,
    pub students: u64,
    pub teachers: u64,
}

impl Spec {
    /// The seed of the demo data sets; fixed so that every demo shows the same people.
    pub const DEMO_SEED: u64 = 2026;

    /// A small data set for the demo and for tests.
    pub fn demo(province: Province) -> Spec {
        Spec {
            province,
            seed: Spec::DEMO_SEED,
            schools: 40,
            students: 2000,
            teachers: 200,
        }
    }
}

/// An education authority: the provincial department/commission or a prefecture or county
/// bureau.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BureauRow {
    /// "B" + the six-digit division code, e.g. "B510104".
    pub code: String,
    /// e.g. "成都市武侯区教育局", "四川省教育厅", "重庆市渝中区教育委员会".
    pub name: String,
    /// "province-bureau" or "district-bureau".
    pub kind: &'static str,
    pub division_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolRow {
    /// 学校标识码: type (2) + province (2) + sequence (6).
    pub code: String,
    pub name: String,
    /// The school type code, e.g. "21" for a primary school.
    pub school_type: String,
    /// The county-level division the school is in.
    pub division_code: String,
}

/// One 学籍 record. Enumerated values are `&'static str` so that a row costs few
/// allocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentRow {
    /// 学籍号: "G" + the citizen ID number.
    pub student_no: String,
    pub name: String,
    /// "男" or "女", matching the ID number's sequence parity.
    pub sex: &'static str,
    /// "YYYY-MM-DD", matching the ID number.
    pub birth_date: String,
    pub id_type: &'static str,
    pub citizen_id: String,
    pub ethnicity: &'static str,
    /// 户籍地: the county that issued the ID number.
    pub hukou_division: &'static str,
    /// 常住地.
    pub residence_division: &'static str,
    pub school_code: String,
    /// 学段: 小学, 初中, 高中 or 中职.
    pub stage: &'static str,
    pub grade: &'static str,
    pub class: &'static str,
    /// "YYYY-09-01": when the student entered the current stage.
    pub enrol_date: &'static str,
    pub status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherRow {
    pub name: String,
    pub sex: &'static str,
    pub birth_date: String,
    pub citizen_id: String,
    pub school_code: String,
    pub subject: &'static str,
    pub title: &'static str,
    /// 教师资格证书编号: year + province + body (3) + type + sex (1 男, 2 女) + sequence (6).
    pub cert_no: String,
    /// The qualification type digit, "1".."7".
    pub cert_type: &'static str,
}

pub const BUREAU_HEADERS: &[&str] = &["机构代码", "机构名称", "机构类型", "所在地"];
pub const SCHOOL_HEADERS: &[&str] = &kernel::student_status::SCHOOL_COLUMNS;
pub const STUDENT_HEADERS: &[&str] = &kernel::student_status::COLUMNS;
pub const TEACHER_HEADERS: &[&str] = &[
    "姓名",
    "性别",
    "出生日期",
    "身份证件号码",
    "学校标识码",
    "任教学科",
    "职称",
    "教师资格证书编号",
    "资格种类",
];

impl BureauRow {
    /// The values in [`BUREAU_HEADERS`] order.
    pub fn fields(&self) -> [&str; 4] {
        [&self.code, &self.name, self.kind, &self.division_code]
    }
}

impl SchoolRow {
    /// The values in [`SCHOOL_HEADERS`] order.
    pub fn fields(&self) -> [&str; 4] {
        [
            &self.code,
            &self.name,
            &self.school_type,
            &self.division_code,
        ]
    }
}

impl StudentRow {
    /// The values in [`STUDENT_HEADERS`] order.
    pub fn fields(&self) -> [&str; 15] {
        [
            &self.student_no,
            &self.name,
            self.sex,
            &self.birth_date,
            self.id_type,
            &self.citizen_id,
            self.ethnicity,
            self.hukou_division,
            self.residence_division,
            &self.school_code,
            self.stage,
            self.grade,
            self.class,
            self.enrol_date,
            self.status,
        ]
    }
}

impl TeacherRow {
    /// The values in [`TEACHER_HEADERS`] order.
    pub fn fields(&self) -> [&str; 9] {
        [
            &self.name,
            self.sex,
            &self.birth_date,
            &self.citizen_id,
            &self.school_code,
            self.subject,
            self.title,
            &self.cert_no,
            self.cert_type,
        ]
    }
}
