//! The counties of a province with what the generators need about them: a population weight
//! and an ethnic mix. Both are coarse rules of thumb (urban districts are denser than
//! counties, the Tibetan and Yi prefectures are sparse), good enough to make the data look
//! like a real province without shipping census tables.

use kernel::division::{self, Division, DivisionLevel};
use rand::Rng;

use crate::Province;
use crate::random::Weighted;

pub(crate) struct County {
    pub code: &'static str,
    /// The prefecture-level parent (Chongqing's placeholder 市辖区/县 rows included).
    pub parent: Option<&'static str>,
    /// The name as used in school and bureau names, e.g. "成都市武侯区", "金堂县",
    /// "重庆市渝中区".
    pub prefix: String,
    pub weight: u32,
    pub ethnicity: &'static Weighted<&'static str>,
}

/// The county-level divisions of `province`, in code order.
pub(crate) fn counties(province: Province) -> Vec<County> {
    division::counties()
        .filter(|d| d.code.starts_with(province.code()))
        .map(|d| County {
            code: d.code.as_str(),
            parent: d.parent.as_deref(),
            prefix: name_prefix(province, d),
            weight: weight(province, d),
            ethnicity: ethnicity(province, &d.code),
        })
        .collect()
}

/// Chongqing's prefecture rows 市辖区 and 县 are placeholders that never appear in names or
/// as authorities.
pub(crate) fn is_placeholder(d: &Division) -> bool {
    d.level == DivisionLevel::Prefecture && (d.name == "市辖区" || d.name == "县")
}

/// Districts (区) are named with their city, as in "成都市武侯区", because district names
/// repeat (内江 and 乐山 both have a 市中区); counties and county-level cities are known by
/// their own name ("金堂县", "西昌市"). Chongqing names everything after the municipality.
fn name_prefix(province: Province, county: &Division) -> String {
    let parent = county
        .parent
        .as_deref()
        .and_then(division::lookup)
        .filter(|p| !is_placeholder(p));
    match (province, parent) {
        (Province::SC, Some(city)) if county.name.ends_with('区') => {
            format!("{}{}", city.name, county.name)
        }
        (Province::SC, _) => county.name.clone(),
        (Province::CQ, _) => format!("{}{}", province.name(), county.name),
    }
}

/// Relative school-age population. Chongqing's nine core urban districts and Chengdu's
/// districts are the densest; Aba and Ganzi are very sparse.
fn weight(province: Province, county: &Division) -> u32 {
    let code = county.code.as_str();
    let name = county.name.as_str();
    let prefecture = code.get(..4).unwrap_or_default();
    match province {
        Province::CQ => match code {
            "500103" => 6,
            "500104" => 4,
            "500105" | "500106" | "500107" | "500108" | "500109" | "500112" | "500113" => 10,
            _ if name.ends_with("自治县") => 4,
            _ if name.ends_with('县') => 5,
            _ => 7,
        },
        Province::SC => match prefecture {
            "5132" | "5133" if name.ends_with('市') => 2,
            "5132" | "5133" => 1,
            "5134" if code == "513401" => 6,
            "5134" => 3,
            _ if name.ends_with("自治县") => 3,
            "5101" if name.ends_with('区') => 10,
            "5101" => 6,
            _ if name.ends_with('区') => 6,
            _ if name.ends_with('市') => 5,
            _ => 4,
        },
    }
}

// Ethnic mixes per 1000 people of a county's 户籍 population.
const HAN_SC: Weighted<&str> = Weighted::new(&[
    ("汉族", 990),
    ("彝族", 4),
    ("藏族", 3),
    ("回族", 2),
    ("羌族", 1),
]);
const HAN_CQ: Weighted<&str> =
    Weighted::new(&[("汉族", 984), ("土家族", 10), ("苗族", 5), ("回族", 1)]);
const LIANGSHAN: Weighted<&str> = Weighted::new(&[
    ("彝族", 520),
    ("汉族", 440),
    ("藏族", 20),
    ("回族", 10),
    ("蒙古族", 10),
]);
const XICHANG: Weighted<&str> =
    Weighted::new(&[("汉族", 800), ("彝族", 170), ("回族", 20), ("藏族", 10)]);
const MULI: Weighted<&str> =
    Weighted::new(&[("藏族", 330), ("彝族", 300), ("汉族", 300), ("蒙古族", 70)]);
const EBIAN_MABIAN: Weighted<&str> = Weighted::new(&[("汉族", 640), ("彝族", 350), ("回族", 10)]);
const ABA: Weighted<&str> =
    Weighted::new(&[("藏族", 600), ("汉族", 230), ("羌族", 120), ("回族", 50)]);
const ABA_QIANG: Weighted<&str> =
    Weighted::new(&[("羌族", 550), ("汉族", 260), ("藏族", 180), ("回族", 10)]);
const GANZI: Weighted<&str> = Weighted::new(&[("藏族", 780), ("汉族", 200), ("彝族", 20)]);
const BEICHUAN: Weighted<&str> = Weighted::new(&[("羌族", 570), ("汉族", 420), ("藏族", 10)]);
const TUJIA: Weighted<&str> = Weighted::new(&[("土家族", 650), ("汉族", 320), ("苗族", 30)]);
const TUJIA_MIAO: Weighted<&str> = Weighted::new(&[("土家族", 550), ("汉族", 250), ("苗族", 200)]);
const MIAO_TUJIA: Weighted<&str> = Weighted::new(&[("苗族", 550), ("汉族", 250), ("土家族", 200)]);
const WULONG: Weighted<&str> = Weighted::new(&[("汉族", 850), ("土家族", 100), ("苗族", 50)]);

fn ethnicity(province: Province, code: &str) -> &'static Weighted<&'static str> {
    match code {
        "513401" => &XICHANG,
        "513422" => &MULI,
        "511132" | "511133" => &EBIAN_MABIAN,
        "513221" | "513222" | "513223" => &ABA_QIANG,
        "510726" => &BEICHUAN,
        "500114" | "500240" => &TUJIA,
        "500241" | "500242" => &TUJIA_MIAO,
        "500243" => &MIAO_TUJIA,
        "500156" => &WULONG,
        _ if code.starts_with("5134") => &LIANGSHAN,
        _ if code.starts_with("5132") => &ABA,
        _ if code.starts_with("5133") => &GANZI,
        _ => match province {
            Province::CQ => &HAN_CQ,
            Province::SC => &HAN_SC,
        },
    }
}

/// Picks a county index with probability proportional to its weight.
pub(crate) struct CountyPicker {
    cumulative: Vec<u32>,
}

impl CountyPicker {
    pub(crate) fn new(counties: &[County]) -> CountyPicker {
        let mut total = 0;
        let cumulative = counties
            .iter()
            .map(|c| {
                total += c.weight;
                total
            })
            .collect();
        CountyPicker { cumulative }
    }

    /// `None` only for a province without counties.
    pub(crate) fn pick(&self, rng: &mut impl Rng) -> Option<usize> {
        let total = *self.cumulative.last().filter(|&&t| t > 0)?;
        let r = rng.gen_range(0..total);
        Some(self.cumulative.partition_point(|&c| c <= r))
    }
}
