//! Education bureaus and schools. Both are small (at most a few hundred thousand rows), so
//! they are returned as vectors.

use std::collections::{HashMap, HashSet};

use kernel::division::{self, DivisionLevel};
use kernel::ids::SchoolType;
use rand::Rng;

use crate::geo::{self, CountyPicker};
use crate::random::{Purpose, choose, rng_for};
use crate::{BureauRow, Province, SchoolRow, Spec};

/// The province bureau, one bureau per prefecture and one per county of the province, in code
/// order. Chongqing's placeholder prefectures (市辖区, 县) have no bureau: its districts and
/// counties report to the municipal commission directly.
pub fn bureaus(spec: &Spec) -> Vec<BureauRow> {
    let province = spec.province;
    let (province_bureau, local_suffix) = match province {
        Province::CQ => ("重庆市教育委员会", "教育委员会"),
        Province::SC => ("四川省教育厅", "教育局"),
    };
    let province_code = format!("{}0000", province.code());
    let mut rows = vec![BureauRow {
        code: format!("B{province_code}"),
        name: province_bureau.to_owned(),
        kind: "province-bureau",
        division_code: province_code,
    }];
    let prefectures = division::all().iter().filter(|d| {
        d.level == DivisionLevel::Prefecture
            && d.code.starts_with(province.code())
            && !geo::is_placeholder(d)
    });
    rows.extend(prefectures.map(|d| BureauRow {
        code: format!("B{}", d.code),
        name: format!("{}{local_suffix}", d.name),
        kind: "district-bureau",
        division_code: d.code.clone(),
    }));
    rows.extend(geo::counties(province).into_iter().map(|c| BureauRow {
        code: format!("B{}", c.code),
        name: format!("{}{local_suffix}", c.prefix),
        kind: "district-bureau",
        division_code: c.code.to_owned(),
    }));
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    rows
}

/// Each type's sequence is six digits, so no type can have more schools than this.
const MAX_SCHOOLS: u32 = 999_999;

/// The share of each school type, in percent: mostly primary schools, then junior
/// secondary, vocational and senior secondary schools.
const TYPE_MIX: [(SchoolType, u32); 6] = [
    (SchoolType::Primary, 52),
    (SchoolType::JuniorSecondary, 14),
    (SchoolType::NineYear, 8),
    (SchoolType::CompleteSecondary, 6),
    (SchoolType::SeniorSecondary, 8),
    (SchoolType::SecondaryVocational, 12),
];

/// Well-known kinds of school names in Sichuan and Chongqing towns.
const PLACE_NAMES: &[&str] = &[
    "育才",
    "树人",
    "光明",
    "新华",
    "城南",
    "城北",
    "东城",
    "西城",
    "城关",
    "人民路",
    "建设路",
    "解放路",
    "和平",
    "红星",
    "胜利",
    "五一",
    "朝阳",
    "向阳",
    "青龙",
    "金沙",
    "滨江",
    "沙河",
    "新城",
    "龙泉",
    "桂花",
    "白鹤",
    "石桥",
    "玉林",
    "花园",
    "天府",
];

/// `spec.schools` schools (at most 999,999) spread over the province's counties in
/// proportion to their population weight, with a realistic mix of types, sorted by county
/// and type. Codes are type + province + a per-type sequence.
pub fn schools(spec: &Spec) -> Vec<SchoolRow> {
    let counties = geo::counties(spec.province);
    let picker = CountyPicker::new(&counties);
    let mut rng = rng_for(spec.seed, Purpose::Schools);
    let mut plan: Vec<(usize, SchoolType)> = type_quota(spec.schools.min(MAX_SCHOOLS))
        .into_iter()
        .filter_map(|t| picker.pick(&mut rng).map(|county| (county, t)))
        .collect();
    plan.sort();

    let mut sequences: HashMap<SchoolType, u32> = HashMap::new();
    let mut numbers: HashMap<(usize, Family), u32> = HashMap::new();
    let mut used: HashSet<String> = HashSet::new();
    let mut rows = Vec::with_capacity(plan.len());
    for (county_index, school_type) in plan {
        let Some(county) = counties.get(county_index) else {
            continue;
        };
        let family = Family::of(school_type);
        // The family's flagship first (实验小学 ...), then now and then a place name, otherwise
        // the next free number.
        let flagship = family
            .flagship()
            .map(|flagship| format!("{}{flagship}", county.prefix));
        let place = || {
            rng.gen_ratio(3, 10)
                .then(|| choose(&mut rng, PLACE_NAMES))
                .flatten()
                .map(|place| format!("{}{place}{}", county.prefix, family.place_suffix()))
        };
        let name = match flagship.filter(|n| !used.contains(n)).or_else(place) {
            Some(name) if !used.contains(&name) => name,
            _ => loop {
                let n = numbers.entry((county_index, family)).or_insert(0);
                *n += 1;
                let name = format!(
                    "{}第{}{}",
                    county.prefix,
                    numeral(*n),
                    family.numbered_suffix()
                );
                if !used.contains(&name) {
                    break name;
                }
            },
        };
        used.insert(name.clone());

        let sequence = sequences.entry(school_type).or_insert(0);
        *sequence += 1;
        rows.push(SchoolRow {
            code: format!(
                "{}{}{:06}",
                school_type.code(),
                spec.province.code(),
                sequence
            ),
            name,
            school_type: school_type.code().to_owned(),
            division_code: county.code.to_owned(),
        });
    }
    rows
}

/// `n` school types in the proportions of [`TYPE_MIX`] (largest-remainder rounding).
fn type_quota(n: u32) -> Vec<SchoolType> {
    let total: u32 = TYPE_MIX.iter().map(|(_, share)| share).sum();
    let exact = |share: u32| u64::from(n) * u64::from(share);
    let mut counts: Vec<(SchoolType, u64, u64)> = TYPE_MIX
        .iter()
        .map(|&(t, share)| {
            let e = exact(share);
            (t, e / u64::from(total), e % u64::from(total))
        })
        .collect();
    let assigned: u64 = counts.iter().map(|c| c.1).sum();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    // Stable: ties go to the more common type, which comes first in the table.
    order.sort_by(|&a, &b| counts[b].2.cmp(&counts[a].2));
    for &i in order.iter().take((u64::from(n) - assigned) as usize) {
        counts[i].1 += 1;
    }
    counts
        .into_iter()
        .flat_map(|(t, count, _)| std::iter::repeat_n(t, count as usize))
        .collect()
}

/// Schools whose names share a numbering: 第三小学, 第五中学 ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Primary,
    Junior,
    NineYear,
    Secondary,
    Vocational,
}

impl Family {
    fn of(school_type: SchoolType) -> Family {
        match school_type {
            SchoolType::JuniorSecondary => Family::Junior,
            SchoolType::NineYear | SchoolType::TwelveYear => Family::NineYear,
            SchoolType::CompleteSecondary | SchoolType::SeniorSecondary => Family::Secondary,
            SchoolType::SecondaryVocational => Family::Vocational,
            _ => Family::Primary,
        }
    }

    fn flagship(self) -> Option<&'static str> {
        match self {
            Family::Primary => Some("实验小学"),
            Family::Junior => None,
            Family::NineYear => Some("实验学校"),
            Family::Secondary => Some("实验中学"),
            Family::Vocational => Some("职业中学"),
        }
    }

    fn place_suffix(self) -> &'static str {
        match self {
            Family::Primary => "小学",
            Family::Junior => "初级中学",
            Family::NineYear => "学校",
            Family::Secondary => "中学",
            Family::Vocational => "职业技术学校",
        }
    }

    fn numbered_suffix(self) -> &'static str {
        match self {
            Family::Primary => "小学",
            Family::Junior => "初级中学",
            Family::NineYear => "九年制学校",
            Family::Secondary => "中学",
            Family::Vocational => "职业中学",
        }
    }
}

/// Chinese numerals up to 99 (第十二中学), Arabic beyond (第101中学), as schools write them.
fn numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let digit = |d: u32| DIGITS[(d % 10) as usize];
    match n {
        0..=9 => digit(n).to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", digit(n % 10)),
        20..=99 if n.is_multiple_of(10) => format!("{}十", digit(n / 10)),
        20..=99 => format!("{}十{}", digit(n / 10), digit(n % 10)),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals() {
        let got: Vec<String> = [1, 3, 10, 12, 20, 45, 99, 101].map(numeral).into();
        assert_eq!(
            got,
            ["一", "三", "十", "十二", "二十", "四十五", "九十九", "101"]
        );
    }

    #[test]
    fn quota_keeps_the_mix_and_the_count() {
        for n in [0, 1, 3, 4, 40, 999, 20_000] {
            assert_eq!(type_quota(n).len(), n as usize);
        }
        let demo = type_quota(40);
        let count = |t| demo.iter().filter(|&&x| x == t).count();
        assert!(count(SchoolType::Primary) >= 20);
        for (t, _) in TYPE_MIX {
            assert!(count(t) >= 1, "{t:?}");
        }
    }
}
