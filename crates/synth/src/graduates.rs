//! Universities and colleges (高等学校) of a province and their graduating students, for the
//! employment capability's demo and tests.
//!
//! Graduates are born 2001–2005, a range neither students (2008–2020) nor teachers
//! (1965–2000) use, and each institution sits in its own county, so a graduate's ID number
//! (institution county, birth date, sequence) never collides with anyone else's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Province;
use crate::names::{Generation, person_name};
use crate::random::{choose, mix, row_rng};

/// A university or college: its 学校标识码, name and county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub code: &'static str,
    pub name: &'static str,
    pub division: &'static str,
}

const CQ: [Institution; 3] = [
    Institution {
        code: "4150010611",
        name: "重庆大学",
        division: "500106",
    },
    Institution {
        code: "4150010635",
        name: "西南大学",
        division: "500109",
    },
    Institution {
        code: "4150012608",
        name: "重庆电子工程职业学院",
        division: "500112",
    },
];

const SC: [Institution; 3] = [
    Institution {
        code: "4151010610",
        name: "四川大学",
        division: "510107",
    },
    Institution {
        code: "4151010614",
        name: "电子科技大学",
        division: "510116",
    },
    Institution {
        code: "4151012806",
        name: "成都职业技术学院",
        division: "510108",
    },
];

pub fn institutions(province: Province) -> &'static [Institution] {
    match province {
        Province::CQ => &CQ,
        Province::SC => &SC,
    }
}

/// One graduate as an institution's list gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graduate {
    pub citizen_id: String,
    pub name: String,
    /// 男 or 女.
    pub sex: &'static str,
    pub institution: &'static str,
    pub major: &'static str,
    /// 本科 or 专科 (the colleges).
    pub level: &'static str,
    pub graduation_date: &'static str,
    /// Year 2026, the level's code, a sequence.
    pub diploma_no: String,
    /// 毕业去向 as recorded by the institution (the demo's statistics).
    pub destination: &'static str,
    /// Where an employed graduate works: mostly their own province, some the other.
    pub destination_division: Option<&'static str>,
}

/// (destination, weight in 100).
const DESTINATIONS: [(&str, u32); 5] = [
    ("已就业", 62),
    ("升学", 16),
    ("参军入伍", 2),
    ("自主创业", 3),
    ("待就业", 17),
];

/// Where graduates go to work: (county, weight) per province of study; the other
/// province's cities are the flows the statistics show.
const WORKPLACES_CQ: [(&str, u32); 4] = [
    ("500105", 40),
    ("500112", 35),
    ("510107", 15),
    ("510704", 10),
];
const WORKPLACES_SC: [(&str, u32); 4] = [
    ("510107", 45),
    ("510116", 30),
    ("500112", 15),
    ("500103", 10),
];

fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if roll < *w {
            return *item;
        }
        roll -= w;
    }
    items[0].0
}

const MAJORS: [&str; 12] = [
    "计算机科学与技术",
    "软件工程",
    "电子信息工程",
    "机械设计制造及其自动化",
    "土木工程",
    "会计学",
    "市场营销",
    "护理学",
    "汉语言文学",
    "数学与应用数学",
    "物流管理",
    "旅游管理",
];

/// The `count` graduates of `province`'s institutions (round robin), deterministic for
/// `seed`.
pub fn graduates(province: Province, seed: u64, count: u64) -> impl Iterator<Item = Graduate> {
    // Each province its own stream, so the two lists differ.
    let base = ChaCha8Rng::seed_from_u64(mix(seed
        ^ 0x6772_6164_7561_7465
        ^ u64::from(province.code().as_bytes()[1])));
    let list = institutions(province);
    let n = list.len() as u64;
    (0..count).map(move |i| {
        let inst = &list[(i % n) as usize];
        let j = i / n;
        let mut rng = row_rng(&base, i);
        let male = rng.gen_bool(0.5);
        // 900 sequence numbers a day from 2001-09-01 on, with the sex digit set.
        let birth = time::Date::from_calendar_date(2001, time::Month::September, 1)
            .expect("a real date")
            + time::Duration::days((j / 450) as i64);
        let seq = 100 + (j % 450) * 2 + u64::from(male);
        let first17 = format!(
            "{}{}{:03}",
            inst.division,
            birth
                .format(&time::macros::format_description!("[year][month][day]"))
                .unwrap_or_default(),
            seq
        );
        let check = kernel::ids::citizen_id_check_char(&first17).expect("17 ASCII digits");
        let college = inst.name.ends_with("学院");
        let (level, level_code) = if college {
            ("专科", "07")
        } else {
            ("本科", "06")
        };
        let destination = weighted(&mut rng, &DESTINATIONS);
        let workplaces = match province {
            Province::CQ => &WORKPLACES_CQ,
            Province::SC => &WORKPLACES_SC,
        };
        let destination_division =
            (destination == "已就业").then(|| weighted(&mut rng, workplaces));
        Graduate {
            citizen_id: format!("{first17}{check}"),
            name: person_name(&mut rng, "汉族", male, Generation::Student),
            sex: if male { "男" } else { "女" },
            institution: inst.code,
            major: choose(&mut rng, &MAJORS).copied().unwrap_or(MAJORS[0]),
            level,
            graduation_date: "2026-06-30",
            diploma_no: format!("{}1{}{level_code}{:06}", &inst.code[5..], 2026, j + 1),
            destination,
            destination_division,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graduates_are_valid_and_distinct() {
        for p in Province::ALL {
            let all: Vec<Graduate> = graduates(p, 7, 3000).collect();
            let ids: std::collections::HashSet<_> = all.iter().map(|g| &g.citizen_id).collect();
            let diplomas: std::collections::HashSet<_> =
                all.iter().map(|g| &g.diploma_no).collect();
            assert_eq!(ids.len(), all.len());
            assert_eq!(diplomas.len(), all.len());
            for g in &all {
                let id = kernel::ids::CitizenId::parse(&g.citizen_id).unwrap();
                assert_eq!(id.sex().label(kernel::Lang::Zh), g.sex);
                kernel::ids::DiplomaNo::parse(&g.diploma_no).unwrap();
                kernel::ids::SchoolCode::parse(g.institution).unwrap();
            }
            assert_eq!(all, graduates(p, 7, 3000).collect::<Vec<_>>());
        }
        for (d, _) in WORKPLACES_CQ.iter().chain(&WORKPLACES_SC) {
            assert!(kernel::division::lookup(d).is_some(), "{d}");
        }
        for i in CQ.iter().chain(&SC) {
            assert!(
                kernel::division::lookup(i.division).is_some(),
                "{}",
                i.division
            );
        }
    }
}
