//! Students and teachers, streamed one row at a time.
//!
//! Each row is a pure function of (seed, schools, row index), so memory stays flat whatever
//! the row count, and any row can be produced on its own.
//!
//! Uniqueness of ID numbers is structural. The space of ID numbers a generator may issue is
//! cut into blocks, one per (area, birth cohort, sex); a block holds `days × slots`
//! numbers, where the area's slots are sequence numbers reserved for it. A keyed
//! permutation maps row indices one-to-one onto positions in this space, and a position
//! decodes to (area, birth date, sequence), so distinct rows get distinct numbers without
//! a set. Areas get slots in proportion to their population, which makes a uniformly
//! permuted position land in each area with realistic frequency.
//!
//! Sequence numbers (three digits, odd for men) are `2 × slot + sex`. Slots 1–399 are for a
//! province's own areas and slots 400–499 for areas of the other province (students whose
//! 户籍 is across the border), so no number issued for Chongqing can equal one issued for
//! Sichuan. Students are born 2008-09-01..2020-08-31 and teachers 1965–2000.

use std::collections::HashMap;

use kernel::ids::SchoolType;
use kernel::student_status::GRADES;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::date::{Ymd, civil_from_days, days_from_civil, push_digits};
use crate::geo::{self, County};
use crate::names::{Generation, person_name};
use crate::random::{Permutation, Purpose, Weighted, choose, mix, rng_for, row_rng};
use crate::{Province, SchoolRow, Spec, StudentRow, TeacherRow};

/// Students of grade `g` were born from 1 September of `SCHOOL_YEAR - 6 - g` to 31 August of
/// the next year, i.e. a first-year pupil is 6 on 31 August 2026 and 7 a year later.
const SCHOOL_YEAR: u32 = 2026;
/// The most slots an area of the generating province can have (1..=399).
const NATIVE_SLOTS: u64 = 399;
const GUEST_SLOT_BASE: u32 = 400;
/// Slots 400..=499.
const GUEST_SLOTS: u64 = 100;
/// Students whose 户籍 is in the other province, per 1000.
const GUEST_PER_MILLE: u64 = 50;
/// Students with a local 户籍 who attend a school outside their county, per 1000; together
/// with the guests about 15% of students study away from their 户籍 county.
const MOVED_PER_MILLE: u32 = 105;
/// Teachers working outside their 户籍 county, per 1000.
const TEACHERS_MOVED_PER_MILLE: u32 = 120;
/// Certificate numbers are body (3 digits) + sequence (6 digits) per teacher.
const CERT_NUMBERS: u64 = 1_000_000_000;

const CLASSES: [&str; 12] = [
    "1班", "2班", "3班", "4班", "5班", "6班", "7班", "8班", "9班", "10班", "11班", "12班",
];
/// Indexed by years since entering the stage.
const ENROL_DATES: [&str; 6] = [
    "2026-09-01",
    "2025-09-01",
    "2024-09-01",
    "2023-09-01",
    "2022-09-01",
    "2021-09-01",
];

/// Students of the schools given, in a reproducible pseudo-random order. Yields
/// `spec.students` rows, or fewer if the schools cannot hold that many distinct ID numbers
/// (at least 30 million for a province's full school mix; see [`write_all`](crate::write_all)).
pub fn students<'a>(
    spec: &'a Spec,
    schools: &'a [SchoolRow],
) -> impl Iterator<Item = StudentRow> + 'a {
    Students::new(spec, schools).into_rows()
}

/// Teachers of the schools given. Yields `spec.teachers` rows, or fewer if that exceeds the
/// distinct ID or certificate numbers available (far above any real province).
pub fn teachers<'a>(
    spec: &'a Spec,
    schools: &'a [SchoolRow],
) -> impl Iterator<Item = TeacherRow> + 'a {
    Teachers::new(spec, schools).into_rows()
}

/// A place of 户籍 with its share of the ID number space.
struct Area {
    code: &'static str,
    parent: Option<&'static str>,
    native: bool,
    ethnicity: &'static Weighted<&'static str>,
}

struct Block {
    /// Positions `start..end` of the space.
    start: u64,
    end: u64,
    area: usize,
    /// 1..=12 for students; unused (0) for teachers.
    grade: u8,
    male: bool,
    first_day: i64,
    days: u64,
    slot_base: u32,
}

/// Where a row's position falls: an area, a cohort, a sex and a unique ID number.
struct Slot<'s> {
    block: &'s Block,
    birth: Ymd,
    citizen_id: String,
}

/// The weighted space of ID numbers, and the permutation of row indices onto it.
struct SlotSpace {
    blocks: Vec<Block>,
    perm: Permutation,
}

impl SlotSpace {
    /// `blocks` must be contiguous from 0.
    fn new(blocks: Vec<Block>, rng: &mut ChaCha8Rng) -> SlotSpace {
        let domain = blocks.last().map_or(0, |b| b.end);
        SlotSpace {
            blocks,
            perm: Permutation::new(domain, rng),
        }
    }

    fn capacity(&self) -> u64 {
        self.perm.domain()
    }

    /// Only for `index < capacity()`.
    fn locate(&self, index: u64, areas: &[Area]) -> Slot<'_> {
        let position = self.perm.apply(index);
        let found = self.blocks.partition_point(|b| b.end <= position);
        // `position` is below the last block's end, so some block contains it.
        let block = &self.blocks[found];
        let offset = position - block.start;
        let day = (offset % block.days) as i64;
        let slot = block.slot_base + (offset / block.days) as u32;
        let birth = civil_from_days(block.first_day + day);
        let mut id = String::with_capacity(18);
        // Area codes come from the kernel's table, which guarantees six ASCII digits.
        id.push_str(areas[block.area].code);
        birth.push_compact(&mut id);
        push_digits(&mut id, 2 * slot + u32::from(block.male), 3);
        // Seventeen ASCII digits always have a check character.
        let check = kernel::ids::citizen_id_check_char(&id).expect("17 ASCII digits");
        id.push(check);
        Slot {
            block,
            birth,
            citizen_id: id,
        }
    }
}

/// Number of slots per area: proportional to weight, at most `max`, at least 1.
fn slots(weight: u32, max_weight: u32, max: u64) -> u64 {
    (max * u64::from(weight) / u64::from(max_weight.max(1))).clamp(1, max)
}

/// Schools by (county, grade), (prefecture, grade) and grade, where grade 0 stands for
/// "any school" (teachers).
struct SchoolIndex<'a> {
    schools: &'a [SchoolRow],
    /// Each school's county as a static code, when the kernel knows it.
    county: Vec<Option<&'static str>>,
    by_county: HashMap<(&'a str, u8), Vec<u32>>,
    by_prefecture: HashMap<(&'static str, u8), Vec<u32>>,
    by_grade: [Vec<u32>; 13],
}

/// The grades a school of this type teaches; none for kindergartens, higher education and
/// unknown types.
fn grades(school_type: Option<SchoolType>) -> Option<std::ops::RangeInclusive<u8>> {
    match school_type? {
        SchoolType::Primary => Some(1..=6),
        SchoolType::JuniorSecondary => Some(7..=9),
        SchoolType::NineYear | SchoolType::SpecialEducation => Some(1..=9),
        SchoolType::CompleteSecondary => Some(7..=12),
        SchoolType::SeniorSecondary | SchoolType::SecondaryVocational => Some(10..=12),
        SchoolType::TwelveYear => Some(1..=12),
        SchoolType::Kindergarten | SchoolType::RegularHigher | SchoolType::AdultHigher => None,
    }
}

impl<'a> SchoolIndex<'a> {
    fn new(schools: &'a [SchoolRow]) -> SchoolIndex<'a> {
        let mut index = SchoolIndex {
            schools,
            county: Vec::with_capacity(schools.len()),
            by_county: HashMap::new(),
            by_prefecture: HashMap::new(),
            by_grade: Default::default(),
        };
        // More schools than u32 can count cannot be held in memory anyway.
        for (i, school) in (0u32..).zip(schools) {
            let division = kernel::division::lookup(&school.division_code);
            index.county.push(division.map(|d| d.code.as_str()));
            let prefecture = division.and_then(|d| d.parent.as_deref());
            let grades = grades(SchoolType::from_code(&school.school_type));
            for grade in std::iter::once(0).chain(grades.into_iter().flatten()) {
                index
                    .by_county
                    .entry((school.division_code.as_str(), grade))
                    .or_default()
                    .push(i);
                if let Some(prefecture) = prefecture {
                    index
                        .by_prefecture
                        .entry((prefecture, grade))
                        .or_default()
                        .push(i);
                }
                index.by_grade[usize::from(grade)].push(i);
            }
        }
        index
    }

    /// Whether a school in `county` teaches `grade` (0: any school at all).
    fn teaches(&self, county: &str, grade: u8) -> bool {
        self.by_county.contains_key(&(county, grade))
    }

    fn offered(&self, grade: u8) -> bool {
        !self.by_grade[usize::from(grade)].is_empty()
    }

    /// A school teaching `grade`: near `area` if `local` (its county, else its
    /// prefecture), otherwise anywhere in the province. Only for offered grades.
    fn pick(&self, rng: &mut impl Rng, area: &Area, grade: u8, local: bool) -> u32 {
        let near = local
            .then(|| {
                self.by_county.get(&(area.code, grade)).or_else(|| {
                    area.parent
                        .and_then(|p| self.by_prefecture.get(&(p, grade)))
                })
            })
            .flatten();
        let list = near.unwrap_or(&self.by_grade[usize::from(grade)]);
        // Lists in the maps are never empty, and the grade is offered.
        choose(rng, list).copied().unwrap_or_default()
    }

    fn school(&self, i: u32) -> &'a SchoolRow {
        // `i` comes from the index built over this very slice.
        &self.schools[i as usize]
    }
}

pub(crate) struct Students<'a> {
    areas: Vec<Area>,
    space: SlotSpace,
    index: SchoolIndex<'a>,
    rows: ChaCha8Rng,
    seed: u64,
    count: u64,
}

impl<'a> Students<'a> {
    /// The number of rows this generator yields.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn into_rows(self) -> impl Iterator<Item = StudentRow> + 'a {
        (0..self.count).map(move |i| self.row(i))
    }

    pub(crate) fn new(spec: &Spec, schools: &'a [SchoolRow]) -> Students<'a> {
        let index = SchoolIndex::new(schools);
        let natives = geo::counties(spec.province);
        let guests = geo::counties(spec.province.other());
        let area = |c: &County, native| Area {
            code: c.code,
            parent: c.parent,
            native,
            ethnicity: c.ethnicity,
        };
        let areas: Vec<Area> = natives
            .iter()
            .map(|c| area(c, true))
            .chain(guests.iter().map(|c| area(c, false)))
            .collect();
        let max_weight = natives.iter().map(|c| c.weight).max().unwrap_or(1);
        let guest_weight: u64 = guests.iter().map(|c| u64::from(c.weight)).sum();

        let mut blocks = Vec::new();
        let mut end = 0;
        for grade in (1..=12).filter(|&g| index.offered(g)) {
            // A county holds 户籍 students of a grade only if it has a school for it, so that
            // most students study where they are registered even with few schools; the
            // movers are drawn explicitly (MOVED_PER_MILLE, guests). Schools outside the
            // province's counties only (odd input) make every county eligible.
            let local = natives.iter().any(|c| index.teaches(c.code, grade));
            let native_slots: Vec<u64> = natives
                .iter()
                .map(|c| {
                    if !local || index.teaches(c.code, grade) {
                        slots(c.weight, max_weight, NATIVE_SLOTS)
                    } else {
                        0
                    }
                })
                .collect();
            // Guests get GUEST_PER_MILLE of the grade's slots, spread by weight.
            let guest_total =
                native_slots.iter().sum::<u64>() * GUEST_PER_MILLE / (1000 - GUEST_PER_MILLE);
            let guest_slots = guests.iter().map(|c| {
                (guest_total * u64::from(c.weight) / guest_weight.max(1)).clamp(1, GUEST_SLOTS)
            });
            let bases =
                std::iter::repeat_n(1, natives.len()).chain(std::iter::repeat(GUEST_SLOT_BASE));
            let area_slots = native_slots.iter().copied().chain(guest_slots).zip(bases);

            let born = SCHOOL_YEAR - 6 - u32::from(grade);
            let first_day = days_from_civil(born, 9, 1);
            let days = (days_from_civil(born + 1, 9, 1) - first_day).unsigned_abs();
            for (a, (n, slot_base)) in area_slots.enumerate().filter(|(_, (n, _))| *n > 0) {
                for male in [false, true] {
                    let start = end;
                    end += days * n;
                    blocks.push(Block {
                        start,
                        end,
                        area: a,
                        grade,
                        male,
                        first_day,
                        days,
                        slot_base,
                    });
                }
            }
        }
        let space = SlotSpace::new(blocks, &mut rng_for(spec.seed, Purpose::StudentSlots));
        Students {
            count: spec.students.min(space.capacity()),
            areas,
            space,
            index,
            rows: rng_for(spec.seed, Purpose::StudentRows),
            seed: spec.seed,
        }
    }

    fn row(&self, i: u64) -> StudentRow {
        let Slot {
            block,
            birth,
            citizen_id,
        } = self.space.locate(i, &self.areas);
        let area = &self.areas[block.area];
        let mut rng = row_rng(&self.rows, i);
        let grade = block.grade;

        let local = area.native && !rng.gen_ratio(MOVED_PER_MILLE, 1000);
        let school_index = self.index.pick(&mut rng, area, grade, local);
        let school = self.index.school(school_index);
        let school_county = self.index.county[school_index as usize].unwrap_or(area.code);
        // Some students of local 户籍 commute from their home county.
        let residence = if area.native && rng.gen_ratio(1, 20) {
            area.code
        } else {
            school_county
        };

        let (stage, entry_grade) = match grade {
            1..=6 => ("小学", 1),
            7..=9 => ("初中", 7),
            _ if school.school_type == SchoolType::SecondaryVocational.code() => ("中职", 10),
            _ => ("高中", 10),
        };
        // Class counts differ by school and grade but are stable for both.
        let classes = 2 + mix(self.seed ^ (u64::from(school_index) << 8) ^ u64::from(grade)) % 11;
        let class = rng.gen_range(0..classes as u32) as usize;

        let ethnicity = area.ethnicity.pick(&mut rng);
        let name = person_name(&mut rng, ethnicity, block.male, Generation::Student);
        let mut student_no = String::with_capacity(19);
        student_no.push('G');
        student_no.push_str(&citizen_id);
        StudentRow {
            student_no,
            name,
            sex: sex_label(block.male),
            birth_date: birth.iso(),
            id_type: "居民身份证",
            citizen_id,
            ethnicity,
            hukou_division: area.code,
            residence_division: residence,
            school_code: school.code.clone(),
            stage,
            grade: label(GRADES, usize::from(grade) - 1),
            class: label(&CLASSES, class),
            enrol_date: label(&ENROL_DATES, usize::from(grade - entry_grade)),
            status: "在读",
        }
    }
}

/// An entry of a label table; indices are in range by construction.
fn label(table: &[&'static str], i: usize) -> &'static str {
    table.get(i).copied().unwrap_or_default()
}

fn sex_label(male: bool) -> &'static str {
    if male { "男" } else { "女" }
}

pub(crate) struct Teachers<'a> {
    province: Province,
    areas: Vec<Area>,
    space: SlotSpace,
    certs: Permutation,
    index: SchoolIndex<'a>,
    rows: ChaCha8Rng,
    count: u64,
}

impl<'a> Teachers<'a> {
    /// The number of rows this generator yields.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn into_rows(self) -> impl Iterator<Item = TeacherRow> + 'a {
        (0..self.count).map(move |i| self.row(i))
    }

    pub(crate) fn new(spec: &Spec, schools: &'a [SchoolRow]) -> Teachers<'a> {
        let index = SchoolIndex::new(schools);
        let counties = geo::counties(spec.province);
        let max_weight = counties.iter().map(|c| c.weight).max().unwrap_or(1);
        let first_day = days_from_civil(1965, 1, 1);
        let days = (days_from_civil(2001, 1, 1) - first_day).unsigned_abs();
        let mut blocks = Vec::new();
        let mut end = 0;
        // Only with schools to work at. A teacher's 户籍 is in the province, and as for
        // students in a county with a school if any county has one.
        if !schools.is_empty() {
            let local = counties.iter().any(|c| index.teaches(c.code, 0));
            let eligible = counties
                .iter()
                .enumerate()
                .filter(|(_, c)| !local || index.teaches(c.code, 0));
            for (a, county) in eligible {
                let n = slots(county.weight, max_weight, NATIVE_SLOTS);
                // About two thirds of teachers are women.
                for (male, n) in [(false, n), (true, (n / 2).max(1))] {
                    let start = end;
                    end += days * n;
                    blocks.push(Block {
                        start,
                        end,
                        area: a,
                        grade: 0,
                        male,
                        first_day,
                        days,
                        slot_base: 1,
                    });
                }
            }
        }
        let areas = counties
            .iter()
            .map(|c| Area {
                code: c.code,
                parent: c.parent,
                native: true,
                ethnicity: c.ethnicity,
            })
            .collect();
        let space = SlotSpace::new(blocks, &mut rng_for(spec.seed, Purpose::TeacherSlots));
        let count = spec.teachers.min(space.capacity()).min(CERT_NUMBERS);
        Teachers {
            province: spec.province,
            areas,
            space,
            certs: Permutation::new(CERT_NUMBERS, &mut rng_for(spec.seed, Purpose::CertNumbers)),
            index,
            rows: rng_for(spec.seed, Purpose::TeacherRows),
            count,
        }
    }

    fn row(&self, i: u64) -> TeacherRow {
        let Slot {
            block,
            birth,
            citizen_id,
        } = self.space.locate(i, &self.areas);
        let area = &self.areas[block.area];
        let mut rng = row_rng(&self.rows, i);

        let local = !rng.gen_ratio(TEACHERS_MOVED_PER_MILLE, 1000);
        let school_index = self.index.pick(&mut rng, area, 0, local);
        let school = self.index.school(school_index);
        let (subject, cert_type) = subject(&mut rng, SchoolType::from_code(&school.school_type));
        let title = title(&mut rng, SCHOOL_YEAR.saturating_sub(birth.year));

        // Certificates are taken after university; the first ones were issued in 1996 to
        // teachers already in post.
        let certified = (birth.year + rng.gen_range(21..=25)).max(1996 + rng.gen_range(0..=4));
        let number = self.certs.apply(i);
        let mut cert_no = String::with_capacity(17);
        push_digits(&mut cert_no, certified, 4);
        cert_no.push_str(self.province.code());
        push_digits(&mut cert_no, (number / 1_000_000) as u32, 3);
        cert_no.push_str(cert_type);
        cert_no.push(if block.male { '1' } else { '2' });
        push_digits(&mut cert_no, (number % 1_000_000) as u32, 6);

        let ethnicity = area.ethnicity.pick(&mut rng);
        TeacherRow {
            name: person_name(&mut rng, ethnicity, block.male, Generation::Teacher),
            sex: sex_label(block.male),
            birth_date: birth.iso(),
            citizen_id,
            school_code: school.code.clone(),
            subject,
            title,
            cert_no,
            cert_type,
        }
    }
}

const KINDERGARTEN_SUBJECTS: Weighted<&str> = Weighted::new(&[("学前教育", 1)]);
const PRIMARY_SUBJECTS: Weighted<&str> = Weighted::new(&[
    ("语文", 30),
    ("数学", 25),
    ("英语", 10),
    ("科学", 6),
    ("道德与法治", 6),
    ("体育与健康", 7),
    ("音乐", 5),
    ("美术", 5),
    ("信息科技", 4),
    ("劳动", 2),
]);
const JUNIOR_SUBJECTS: Weighted<&str> = Weighted::new(&[
    ("语文", 16),
    ("数学", 16),
    ("英语", 14),
    ("物理", 8),
    ("化学", 6),
    ("生物学", 6),
    ("历史", 6),
    ("地理", 6),
    ("道德与法治", 7),
    ("体育与健康", 7),
    ("音乐", 3),
    ("美术", 3),
    ("信息科技", 3),
]);
const SENIOR_SUBJECTS: Weighted<&str> = Weighted::new(&[
    ("语文", 14),
    ("数学", 14),
    ("英语", 13),
    ("物理", 9),
    ("化学", 8),
    ("生物学", 7),
    ("历史", 6),
    ("地理", 6),
    ("思想政治", 7),
    ("体育与健康", 6),
    ("信息技术", 3),
    ("通用技术", 2),
    ("音乐", 2),
    ("美术", 2),
    ("心理健康", 1),
]);
const VOCATIONAL_GENERAL: Weighted<&str> = Weighted::new(&[
    ("语文", 10),
    ("数学", 10),
    ("英语", 8),
    ("思想政治", 6),
    ("体育与健康", 5),
    ("历史", 2),
]);
const VOCATIONAL_SPECIALTIES: Weighted<&str> = Weighted::new(&[
    ("计算机应用", 8),
    ("机械加工技术", 6),
    ("电子技术应用", 5),
    ("会计事务", 5),
    ("护理", 6),
    ("汽车运用与维修", 6),
    ("旅游服务与管理", 4),
    ("电子商务", 5),
    ("建筑工程施工", 4),
    ("学前教育", 5),
    ("中餐烹饪", 3),
]);
const HIGHER_SUBJECTS: Weighted<&str> = Weighted::new(&[
    ("高等数学", 5),
    ("大学英语", 5),
    ("计算机科学与技术", 5),
    ("思想政治理论", 3),
    ("机械工程", 3),
    ("临床医学", 3),
    ("汉语言文学", 3),
    ("会计学", 3),
    ("土木工程", 3),
]);
const SPECIAL_SUBJECTS: Weighted<&str> = Weighted::new(&[
    ("语文", 3),
    ("数学", 3),
    ("康复训练", 2),
    ("生活适应", 2),
    ("绘画与手工", 1),
    ("律动", 1),
]);

/// A subject taught at a school of this type, and the qualification type the teacher holds
/// for it.
fn subject(rng: &mut impl Rng, school_type: Option<SchoolType>) -> (&'static str, &'static str) {
    let primary = |rng: &mut _| (PRIMARY_SUBJECTS.pick(rng), "2");
    let junior = |rng: &mut _| (JUNIOR_SUBJECTS.pick(rng), "3");
    let senior = |rng: &mut _| (SENIOR_SUBJECTS.pick(rng), "4");
    match school_type {
        Some(SchoolType::Kindergarten) => (KINDERGARTEN_SUBJECTS.pick(rng), "1"),
        Some(SchoolType::JuniorSecondary) => junior(rng),
        Some(SchoolType::NineYear) if rng.gen_ratio(1, 2) => junior(rng),
        Some(SchoolType::CompleteSecondary) if rng.gen_ratio(1, 2) => junior(rng),
        Some(SchoolType::CompleteSecondary | SchoolType::SeniorSecondary) => senior(rng),
        Some(SchoolType::TwelveYear) => match rng.gen_range(0..3) {
            0 => primary(rng),
            1 => junior(rng),
            _ => senior(rng),
        },
        Some(SchoolType::SecondaryVocational) if rng.gen_ratio(2, 5) => {
            (VOCATIONAL_GENERAL.pick(rng), "5")
        }
        // Workshop teachers of a specialty often hold the practice instructor qualification.
        Some(SchoolType::SecondaryVocational) => (
            VOCATIONAL_SPECIALTIES.pick(rng),
            if rng.gen_ratio(3, 10) { "6" } else { "5" },
        ),
        Some(SchoolType::RegularHigher | SchoolType::AdultHigher) => {
            (HIGHER_SUBJECTS.pick(rng), "7")
        }
        Some(SchoolType::SpecialEducation) => (SPECIAL_SUBJECTS.pick(rng), "2"),
        _ => primary(rng),
    }
}

/// A professional title plausible for the age: young teachers are 二级, most senior ones 高级,
/// 正高级 is rare.
fn title(rng: &mut impl Rng, age: u32) -> &'static str {
    let r = rng.gen_range(0..100);
    let (second, first, senior) = match age {
        ..=29 => (90, 100, 100),
        30..=39 => (35, 90, 100),
        40..=49 => (10, 60, 99),
        _ => (5, 40, 98),
    };
    if r < second {
        "二级教师"
    } else if r < first {
        "一级教师"
    } else if r < senior {
        "高级教师"
    } else {
        "正高级教师"
    }
}
