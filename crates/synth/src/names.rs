//! Plausible Chinese personal names.
//!
//! Han-style names are a weighted common surname (a few compound ones included) and one or
//! two given-name characters. About one name in 200 carries a rare character outside the
//! Basic Multilingual Plane, as real registers do (GB 18030-2022 rare characters), so every
//! consumer of this data is exercised on them. Many Tibetan and Yi people in Sichuan have
//! transliterated names, which are longer and have no surname.

use rand::Rng;

use crate::random::{Weighted, choose};

/// Roughly the frequency per 10,000 people in Sichuan and Chongqing (罗, 何, 邓, 唐 rank
/// higher there than nationally).
const SURNAMES: Weighted<&str> = Weighted::new(&[
    ("王", 620),
    ("李", 700),
    ("张", 620),
    ("刘", 560),
    ("陈", 520),
    ("杨", 420),
    ("黄", 250),
    ("赵", 180),
    ("吴", 180),
    ("周", 200),
    ("徐", 110),
    ("孙", 80),
    ("马", 100),
    ("朱", 100),
    ("胡", 140),
    ("郭", 90),
    ("何", 200),
    ("罗", 230),
    ("高", 80),
    ("林", 70),
    ("郑", 70),
    ("谢", 150),
    ("唐", 170),
    ("韩", 50),
    ("冯", 110),
    ("于", 30),
    ("董", 60),
    ("肖", 110),
    ("程", 60),
    ("曹", 60),
    ("袁", 110),
    ("邓", 180),
    ("许", 60),
    ("傅", 40),
    ("沈", 40),
    ("曾", 140),
    ("彭", 150),
    ("吕", 40),
    ("苏", 60),
    ("卢", 60),
    ("蒋", 120),
    ("蔡", 60),
    ("贾", 40),
    ("丁", 40),
    ("魏", 60),
    ("薛", 30),
    ("叶", 50),
    ("余", 110),
    ("潘", 40),
    ("杜", 100),
    ("戴", 30),
    ("夏", 40),
    ("钟", 60),
    ("汪", 40),
    ("田", 70),
    ("任", 80),
    ("姜", 40),
    ("范", 50),
    ("方", 30),
    ("石", 50),
    ("姚", 40),
    ("谭", 90),
    ("廖", 90),
    ("邹", 50),
    ("熊", 70),
    ("金", 20),
    ("陆", 20),
    ("郝", 20),
    ("孔", 20),
    ("白", 30),
    ("崔", 20),
    ("康", 30),
    ("毛", 40),
    ("邱", 40),
    ("秦", 40),
    ("江", 50),
    ("史", 20),
    ("顾", 10),
    ("侯", 30),
    ("邵", 20),
    ("孟", 20),
    ("龙", 40),
    ("万", 30),
    ("段", 40),
    ("雷", 60),
    ("钱", 20),
    ("汤", 30),
    ("尹", 40),
    ("黎", 30),
    ("易", 40),
    ("常", 10),
    ("武", 20),
    ("乔", 10),
    ("贺", 40),
    ("赖", 40),
    ("文", 50),
    ("冉", 20),
    ("向", 40),
    ("陶", 30),
    ("敬", 10),
    ("苟", 20),
    ("欧阳", 8),
    ("司马", 2),
    ("诸葛", 2),
    ("上官", 2),
    ("司徒", 1),
]);

/// Surnames common among the Tujia and Miao of south-eastern Chongqing.
const TUJIA_MIAO_SURNAMES: &[&str] = &["田", "向", "冉", "彭", "覃", "杨", "龙", "吴", "石", "麻"];

const GIVEN_MALE: &[&str] = &[
    "浩", "宇", "轩", "博", "俊", "杰", "涛", "磊", "鑫", "鹏", "泽", "睿", "航", "明", "强", "伟",
    "勇", "军", "峰", "宏", "辉", "志", "翔", "铭", "皓", "煜", "阳", "凯", "瑞", "豪", "文", "彬",
    "斌", "超", "刚", "健", "坤", "亮", "林", "龙", "毅", "远", "晨", "旭", "昊", "然", "楠", "成",
];
const GIVEN_FEMALE: &[&str] = &[
    "婷", "娜", "静", "丽", "芳", "雪", "琳", "欣", "怡", "悦", "涵", "萱", "彤", "琪", "佳", "诗",
    "瑶", "桐", "妍", "嘉", "馨", "月", "露", "蕾", "倩", "颖", "霞", "燕", "玲", "莉", "敏", "慧",
    "洁", "晶", "秀", "兰", "梅", "红", "艳", "蓉", "冰", "薇", "璐", "菲", "雯", "婧", "媛", "希",
];
const GIVEN_EITHER: &[&str] = &[
    "子", "梓", "雨", "思", "语", "可", "一", "欣", "晨", "宇", "嘉", "佳", "文", "天", "心", "安",
    "若", "诗", "乐", "家", "俊", "明", "云", "清", "昕", "星", "之", "亦", "沐", "书",
];

/// CJK Extension B–E characters that occur in real given names (all listed in the 通用规范
/// 汉字表 and GB 18030-2022), each above U+FFFF.
pub(crate) const RARE: &[&str] = &[
    "𬌗", "𫖯", "𬘬", "𫍽", "𬀩", "𫘝", "𬭎", "𬬭", "𬇙", "𬳵", "𬍤", "𬶏", "𫇭", "𬣙", "𫭟", "𬱖",
];

const TIBETAN_MALE: &[&str] = &[
    "扎西", "多吉", "次仁", "尼玛", "达瓦", "泽仁", "降措", "洛绒", "贡布", "四郎", "益西", "丹增",
    "嘎玛", "格桑",
];
const TIBETAN_FEMALE: &[&str] = &[
    "卓玛", "拉姆", "央金", "旺姆", "措姆", "志玛", "德吉", "拥措", "曲珍", "白玛", "泽西", "格桑",
];
const TIBETAN_PREFIX: &[&str] = &[
    "泽仁", "格桑", "次仁", "尼玛", "达瓦", "益西", "四郎", "白玛",
];

const YI_CLANS: &[&str] = &[
    "吉克", "阿苏", "沙马", "阿尔", "吉伍", "曲比", "马海", "阿约", "吉史", "海来", "俄狄", "勒格",
    "阿克", "倮伍",
];
const YI_MALE: &[&str] = &[
    "木呷", "拉且", "伍各", "尔古", "日火", "石者", "拉哈", "阿木", "伍呷", "尔布",
];
const YI_FEMALE: &[&str] = &[
    "阿呷", "有格", "阿依", "么妹", "阿芝", "子莫", "尔果", "阿衣", "拉莫", "伍果",
];

/// The generation a person belongs to: older people more often have one-character given
/// names.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Generation {
    Student,
    Teacher,
}

/// A name for a person of `ethnicity` and sex.
pub(crate) fn person_name(
    rng: &mut impl Rng,
    ethnicity: &str,
    male: bool,
    generation: Generation,
) -> String {
    let mut name = String::with_capacity(16);
    match ethnicity {
        "藏族" if rng.gen_ratio(3, 4) => tibetan(rng, male, &mut name),
        "彝族" if rng.gen_ratio(3, 5) => yi(rng, male, &mut name),
        "土家族" | "苗族" if rng.gen_ratio(2, 5) => {
            push_any(rng, TUJIA_MIAO_SURNAMES, &mut name);
            han_given(rng, male, generation, &mut name);
        }
        _ => {
            name.push_str(SURNAMES.pick(rng));
            han_given(rng, male, generation, &mut name);
        }
    }
    name
}

fn han_given(rng: &mut impl Rng, male: bool, generation: Generation, name: &mut String) {
    let single = match generation {
        Generation::Student => rng.gen_ratio(1, 5),
        Generation::Teacher => rng.gen_ratio(2, 5),
    };
    let gendered = if male { GIVEN_MALE } else { GIVEN_FEMALE };
    let rare = rng.gen_ratio(1, 200);
    if !single {
        // The first character is often a neutral one (子, 思, 雨 ...).
        let first = if rng.gen_bool(0.4) {
            GIVEN_EITHER
        } else {
            gendered
        };
        push_any(rng, first, name);
    }
    push_any(rng, if rare { RARE } else { gendered }, name);
}

fn tibetan(rng: &mut impl Rng, male: bool, name: &mut String) {
    let (parts, prefix_odds) = if male {
        (TIBETAN_MALE, 7)
    } else {
        (TIBETAN_FEMALE, 6)
    };
    let prefix = rng
        .gen_ratio(prefix_odds, 10)
        .then(|| choose(rng, TIBETAN_PREFIX))
        .flatten();
    let part = choose(rng, parts);
    // "泽仁泽仁" is not a name: a prefix equal to the main part is dropped.
    if let Some(prefix) = prefix.filter(|&p| Some(p) != part) {
        name.push_str(prefix);
    }
    if let Some(part) = part {
        name.push_str(part);
    }
}

fn yi(rng: &mut impl Rng, male: bool, name: &mut String) {
    push_any(rng, YI_CLANS, name);
    push_any(rng, if male { YI_MALE } else { YI_FEMALE }, name);
}

fn push_any(rng: &mut impl Rng, items: &[&str], name: &mut String) {
    if let Some(item) = choose(rng, items) {
        name.push_str(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_characters_are_outside_the_bmp() {
        for c in RARE {
            let mut chars = c.chars();
            let ch = chars.next().unwrap();
            assert!(chars.next().is_none());
            assert!(u32::from(ch) > 0xFFFF, "{c}");
            // CJK Unified Ideographs Extension B..F.
            assert!((0x20000..=0x2EBEF).contains(&u32::from(ch)), "{c}");
        }
    }
}
