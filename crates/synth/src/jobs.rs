//! Job postings (招聘岗位) of one province, streamed one at a time.
//!
//! Each job is a pure function of (province, seed, count, index): its employer is drawn from
//! a pool of `count / 6` employers (at least 64) with a skew towards the low numbers, so large
//! employers post many jobs, and an employer's name, sector, type, county and unified social
//! credit code are a pure function of (province, seed, employer number). Titles, duties,
//! skills and majors come from per-sector vocabularies (IT, manufacturing, healthcare,
//! education, finance, logistics, tourism, agriculture, construction, retail, energy, public
//! administration) with seniority prefixes, internships and optional skills, so that queries
//! meet both very common words (工程师, 负责) and a long tail (Kubernetes, 康复治疗师).
//!
//! Keys ("CQ-J-" + 16 hex digits) are a bijection of the row index, so they are distinct
//! within a data set, and the province tag keeps Chongqing's and Sichuan's apart.

use kernel::division;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Province;
use crate::geo::{self, County, CountyPicker};
use crate::random::{Weighted, choose, mix, row_rng};

/// One synthetic job posting. Enumerated values are `&'static str` slugs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The row index in the stream.
    pub index: u64,
    /// Unique within a data set: "CQ-J-" or "SC-J-" + 16 hex digits.
    pub key: String,
    /// 岗位名称, e.g. "高级Java开发工程师".
    pub title: String,
    /// 岗位描述: duties, requirements and benefits, a few hundred characters.
    pub description: String,
    /// 单位名称, e.g. "成都天府鑫达信息技术有限公司".
    pub employer: String,
    /// The employer's GB 32100 unified social credit code (统一社会信用代码).
    pub employer_credit_code: String,
    /// "soe", "private", "foreign", "institution", "government" or "other".
    pub employer_type: &'static str,
    /// The six-digit county code where the job is.
    pub city: String,
    /// The minimum education: "secondary-vocational", "junior-college", "bachelor",
    /// "master" or "doctor".
    pub level: &'static str,
    /// Majors wanted; empty means 专业不限.
    pub majors: Vec<String>,
    /// Yuan per month.
    pub salary_min: u32,
    pub salary_max: u32,
    pub headcount: u32,
    pub published_days_ago: u32,
    /// Negative when the application deadline has passed.
    pub deadline_in_days: i32,
}

/// The `count` jobs of `province` for `seed`, one at a time (memory is flat in `count`).
pub fn jobs(province: Province, seed: u64, count: u64) -> impl Iterator<Item = Job> {
    let generator = Jobs::new(province, seed, count);
    (0..count).map(move |i| generator.job(i))
}

/// Stream keys of our own: `random::Purpose` numbers its purposes from 1, these are far above.
const JOB_ROWS: u64 = 0x4a4f_4253;
const EMPLOYER_ROWS: u64 = 0x454d_504c;

/// Keyed by (seed, purpose, province), so the two provinces' streams differ for one seed.
fn base_rng(seed: u64, purpose: u64, province: Province) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&purpose.to_le_bytes());
    key[16..18].copy_from_slice(province.tag().as_bytes());
    ChaCha8Rng::from_seed(key)
}

struct Place {
    code: &'static str,
    /// Used for companies: "重庆", "成都", "凉山".
    city: String,
    /// Used for public bodies: "成都市武侯区", "金堂县", "重庆市渝中区".
    county: String,
}

struct Jobs {
    province: Province,
    key_salt: u64,
    places: Vec<Place>,
    picker: CountyPicker,
    employers: u64,
    job_rows: ChaCha8Rng,
    employer_rows: ChaCha8Rng,
}

struct Employer {
    name: String,
    credit_code: String,
    kind: &'static str,
    sector: &'static Sector,
    place: usize,
}

impl Jobs {
    fn new(province: Province, seed: u64, count: u64) -> Jobs {
        let counties = geo::counties(province);
        let places = counties.iter().map(|c| place(province, c)).collect();
        Jobs {
            province,
            key_salt: mix(seed ^ 0x6a6f_6273_6b65_7973),
            places,
            picker: CountyPicker::new(&counties),
            employers: (count / 6).max(64),
            job_rows: base_rng(seed, JOB_ROWS, province),
            employer_rows: base_rng(seed, EMPLOYER_ROWS, province),
        }
    }

    fn employer(&self, number: u64) -> Employer {
        let rng = &mut row_rng(&self.employer_rows, number);
        let sector = SECTORS.pick(rng);
        let kind = sector.kinds.pick(rng);
        let place = self.picker.pick(rng).unwrap_or(0);
        let p = &self.places[place];
        let name = employer_name(rng, sector, kind, p);
        let credit_code = credit_code(rng, kind, p.code);
        Employer {
            name,
            credit_code,
            kind,
            sector,
            place,
        }
    }

    fn job(&self, index: u64) -> Job {
        let rng = &mut row_rng(&self.job_rows, index);
        // Squaring a uniform draw favours low numbers: the first employers post the most.
        let u: f64 = rng.r#gen();
        let number = ((u * u) * self.employers as f64) as u64;
        let employer = self.employer(number.min(self.employers - 1));
        let sector = employer.sector;
        let role = choose(rng, sector.roles).unwrap_or(&FALLBACK_ROLE);
        let internship = role.level_min < 3 && rng.gen_ratio(1, 14);
        let level = pick_level(rng, role, sector);
        let place = &self.places[employer.place];

        let mut title = String::with_capacity(48);
        if !internship && role.senior && rng.gen_ratio(1, 3) {
            title.push_str(choose(rng, &SENIORITY).copied().unwrap_or_default());
        }
        title.push_str(role.title);
        if internship {
            title.push_str(if rng.gen_ratio(1, 2) {
                "实习生"
            } else {
                "（实习）"
            });
        } else if rng.gen_ratio(1, 25) {
            title.push_str(choose(rng, &TITLE_SUFFIXES).copied().unwrap_or_default());
        }

        let majors: Vec<String> = if role.majors.is_empty() || rng.gen_ratio(1, 5) {
            Vec::new()
        } else {
            let n = rng.gen_range(1..=role.majors.len().min(3));
            let start = rng.gen_range(0..role.majors.len());
            (0..n)
                .map(|k| role.majors[(start + k) % role.majors.len()].to_owned())
                .collect()
        };

        let (salary_min, salary_max) =
            salary(rng, sector, level, place.code, internship, employer.kind);
        let description = description(rng, sector, role, level, &majors, place, internship);
        let headcount = match rng.gen_range(0..100) {
            0..=54 => 1,
            55..=79 => rng.gen_range(2..=3),
            80..=94 => rng.gen_range(4..=10),
            _ => rng.gen_range(11..=50),
        };
        let published_days_ago = rng.gen_range(0..120);
        let deadline_in_days = rng.gen_range(-30..=90);
        Job {
            index,
            key: format!(
                "{}-J-{:016x}",
                self.province.tag(),
                mix(index ^ self.key_salt)
            ),
            title,
            description,
            employer: employer.name,
            employer_credit_code: employer.credit_code,
            employer_type: employer.kind,
            city: place.code.to_owned(),
            level: LEVELS[level],
            majors,
            salary_min,
            salary_max,
            headcount,
            published_days_ago,
            deadline_in_days,
        }
    }
}

fn place(province: Province, county: &County) -> Place {
    let city = match province {
        Province::CQ => "重庆".to_owned(),
        Province::SC => county
            .parent
            .and_then(division::lookup)
            .map(|p| short_city_name(&p.name))
            .unwrap_or_else(|| "四川".to_owned()),
    };
    Place {
        code: county.code,
        city,
        county: county.prefix.clone(),
    }
}

/// "成都市" → "成都", "凉山彝族自治州" → "凉山".
fn short_city_name(name: &str) -> String {
    let cut = ["藏族", "彝族", "市"]
        .iter()
        .filter_map(|m| name.find(m))
        .min()
        .unwrap_or(name.len());
    name[..cut].to_owned()
}

const LEVELS: [&str; 5] = [
    "secondary-vocational",
    "junior-college",
    "bachelor",
    "master",
    "doctor",
];
const LEVEL_NAMES: [&str; 5] = ["中职", "大专", "本科", "硕士研究生", "博士研究生"];

fn pick_level(rng: &mut impl Rng, role: &Role, sector: &Sector) -> usize {
    let span = role.level_max.saturating_sub(role.level_min);
    // Mostly the role's lowest level, sometimes one above, rarely more.
    let step = match rng.gen_range(0..100) {
        0..=64 => 0,
        65..=91 => 1,
        _ => 2,
    };
    let level = usize::from(role.level_min + step.min(span));
    // Public employers ask for a little more.
    if sector.public && level < 2 && rng.gen_ratio(1, 3) {
        level + 1
    } else {
        level
    }
}

fn salary(
    rng: &mut impl Rng,
    sector: &Sector,
    level: usize,
    county: &str,
    internship: bool,
    kind: &str,
) -> (u32, u32) {
    const LEVEL_FACTOR: [u32; 5] = [70, 85, 100, 130, 165];
    let city_factor = match county.get(..4).unwrap_or_default() {
        "5001" | "5101" => 115,
        "5132" | "5133" | "5134" => 90,
        _ => 95,
    };
    let kind_factor = if kind == "foreign" { 115 } else { 100 };
    let base =
        u64::from(sector.base_salary) * u64::from(LEVEL_FACTOR[level]) * city_factor * kind_factor
            / 1_000_000;
    let jitter = rng.gen_range(75..=130);
    let mut min = (base * jitter / 100) as u32;
    if internship {
        min = min * 45 / 100;
    }
    let min = (min / 500 * 500).max(2000);
    let spread = rng.gen_range(120..=200);
    let max = (min * spread / 100).div_ceil(500) * 500;
    (min, max.max(min + 500))
}

fn description(
    rng: &mut impl Rng,
    sector: &Sector,
    role: &Role,
    level: usize,
    majors: &[String],
    place: &Place,
    internship: bool,
) -> String {
    let mut d = String::with_capacity(900);
    d.push_str("岗位职责：");
    let duties = rng.gen_range(3..=5);
    let first = rng.gen_range(0..sector.duties.len());
    for k in 0..duties {
        let duty = sector.duties[(first + k * 3) % sector.duties.len()];
        push_item(&mut d, k, duty);
        if k == 0 {
            d.push_str("，承担");
            d.push_str(role.title);
            d.push_str("相关工作");
        }
    }
    d.push_str("。任职要求：1、");
    d.push_str(LEVEL_NAMES[level]);
    d.push_str("及以上学历，");
    if majors.is_empty() {
        d.push_str("专业不限");
    } else {
        d.push_str(&majors.join("、"));
        d.push_str("等相关专业");
    }
    if internship {
        d.push_str("，在校学生或应届毕业生，每周实习不少于四天，表现优秀者可转正");
    } else if rng.gen_ratio(1, 4) {
        d.push_str("，欢迎应届毕业生");
    } else {
        d.push('，');
        d.push_str(choose(rng, &EXPERIENCE).copied().unwrap_or_default());
    }
    d.push_str("；2、");
    let skills = rng.gen_range(2..=4);
    let first = rng.gen_range(0..sector.skills.len());
    d.push_str(if rng.gen_ratio(1, 2) {
        "熟悉"
    } else {
        "熟练掌握"
    });
    for k in 0..skills {
        if k > 0 {
            d.push('、');
        }
        d.push_str(sector.skills[(first + k * 5) % sector.skills.len()]);
    }
    d.push_str("；3、");
    d.push_str(choose(rng, &TRAITS).copied().unwrap_or_default());
    if rng.gen_ratio(1, 3) {
        d.push_str("；4、");
        d.push_str(choose(rng, &TRAITS).copied().unwrap_or_default());
    }
    d.push_str("。福利待遇：");
    let benefits = rng.gen_range(3..=5);
    let first = rng.gen_range(0..BENEFITS.len());
    for k in 0..benefits {
        if k > 0 {
            d.push('、');
        }
        d.push_str(BENEFITS[(first + k * 2) % BENEFITS.len()]);
    }
    d.push_str("。工作地点：");
    d.push_str(&place.county);
    d.push('。');
    d
}

fn push_item(d: &mut String, k: usize, text: &str) {
    const NUMBERS: [&str; 6] = ["1、", "；2、", "；3、", "；4、", "；5、", "；6、"];
    d.push_str(NUMBERS[k.min(5)]);
    d.push_str(text);
}

fn employer_name(rng: &mut impl Rng, sector: &Sector, kind: &str, place: &Place) -> String {
    let brand = brand(rng);
    match kind {
        "institution" => {
            let unit = choose(rng, sector.institutions)
                .copied()
                .unwrap_or("综合服务中心");
            if unit.contains("第{}") {
                let n = rng.gen_range(1..=30);
                format!("{}{}", place.county, unit.replace("{}", &n.to_string()))
            } else {
                format!("{}{unit}", place.county)
            }
        }
        "government" => {
            let unit = choose(rng, &GOVERNMENT_UNITS)
                .copied()
                .unwrap_or("人民政府办公室");
            format!("{}{unit}", place.county)
        }
        "other" => {
            let unit = choose(rng, &OTHER_UNITS).copied().unwrap_or("行业协会");
            format!("{}{}{unit}", place.city, sector.name)
        }
        _ => {
            let industry = choose(rng, sector.industries).copied().unwrap_or("实业");
            match kind {
                "soe" => {
                    let suffix = choose(rng, &SOE_SUFFIXES).copied().unwrap_or("有限公司");
                    format!("{}{brand}{industry}{suffix}", place.city)
                }
                "foreign" => format!("{brand}{industry}（{}）有限公司", place.city),
                _ => {
                    let suffix = choose(rng, &PRIVATE_SUFFIXES)
                        .copied()
                        .unwrap_or("有限公司");
                    format!("{}{brand}{industry}{suffix}", place.city)
                }
            }
        }
    }
}

fn brand(rng: &mut impl Rng) -> String {
    let a = choose(rng, &BRAND_CHARS).copied().unwrap_or('华');
    let mut b = choose(rng, &BRAND_CHARS).copied().unwrap_or('信');
    if a == b {
        b = '达';
    }
    [a, b].iter().collect()
}

/// The characters of a unified social credit code (GB 32100): digits and capitals without
/// I, O, S, V and Z.
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code: registration authority and category by employer type, the
/// county code, a GB 11714 organisation code and the GB 32100 check character.
fn credit_code(rng: &mut impl Rng, kind: &str, county: &str) -> String {
    let prefix = match kind {
        "institution" => "12",
        "government" => "11",
        "other" => ["51", "52", "93"][rng.gen_range(0..3)],
        _ => "91",
    };
    let mut code = String::with_capacity(18);
    code.push_str(prefix);
    code.push_str(county);
    // Organisation codes issued since 2015 start with "MA"; older ones are digits.
    let mut body = [0u8; 8];
    if prefix == "91" && rng.gen_ratio(3, 5) {
        body[0] = b'M';
        body[1] = b'A';
        for c in &mut body[2..] {
            *c = USCC_CHARS[rng.gen_range(0..USCC_CHARS.len())];
        }
    } else {
        for c in &mut body {
            *c = b'0' + rng.gen_range(0..10u8);
        }
    }
    for &c in &body {
        code.push(char::from(c));
    }
    code.push(organization_code_check(&body));
    // The code so far is 17 characters of the charset, so a check character exists.
    code.push(credit_code_check(&code).unwrap_or('0'));
    code
}

/// The GB 11714 check character of an eight-character organisation code body: weights
/// 3,7,9,10,5,8,4,2 over digit values (letters A=10 .. Z=35), 11 − sum mod 11, where 10 is
/// written "X" and 11 "0".
fn organization_code_check(body: &[u8; 8]) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                _ => u32::from(c.to_ascii_uppercase() - b'A') + 10,
            };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// The GB 32100 check character over the first 17 characters; `None` if there are not
/// exactly 17 or one is outside the charset.
fn credit_code_check(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.bytes().zip(USCC_WEIGHTS) {
        let value = USCC_CHARS.iter().position(|&x| x == c)? as u32;
        sum += value * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(USCC_CHARS[check as usize]))
}

struct Role {
    title: &'static str,
    majors: &'static [&'static str],
    /// Indexes into [`LEVELS`].
    level_min: u8,
    level_max: u8,
    /// Whether a seniority prefix (高级, 资深...) makes sense.
    senior: bool,
}

const fn role(
    title: &'static str,
    majors: &'static [&'static str],
    level_min: u8,
    level_max: u8,
    senior: bool,
) -> Role {
    Role {
        title,
        majors,
        level_min,
        level_max,
        senior,
    }
}

const FALLBACK_ROLE: Role = role("综合岗", &[], 1, 2, false);

struct Sector {
    name: &'static str,
    base_salary: u32,
    public: bool,
    kinds: Weighted<&'static str>,
    industries: &'static [&'static str],
    institutions: &'static [&'static str],
    roles: &'static [Role],
    duties: &'static [&'static str],
    skills: &'static [&'static str],
}

const CS: &[&str] = &[
    "计算机科学与技术",
    "软件工程",
    "网络工程",
    "信息安全",
    "数据科学与大数据技术",
];
const EE: &[&str] = &[
    "电子信息工程",
    "通信工程",
    "自动化",
    "电气工程及其自动化",
    "微电子科学与工程",
];
const MECH: &[&str] = &[
    "机械设计制造及其自动化",
    "材料成型及控制工程",
    "车辆工程",
    "工业工程",
    "机械电子工程",
];
const MED: &[&str] = &["临床医学", "医学影像学", "麻醉学", "中医学", "预防医学"];
const NURSE: &[&str] = &["护理学", "助产学"];
const PHARMA: &[&str] = &["药学", "中药学", "临床药学", "医学检验技术"];
const FIN: &[&str] = &["金融学", "会计学", "财务管理", "经济学", "审计学"];
const LOGI: &[&str] = &["物流管理", "供应链管理", "交通运输", "国际经济与贸易"];
const BIZ: &[&str] = &["市场营销", "电子商务", "工商管理", "国际经济与贸易"];
const CIVIL: &[&str] = &[
    "土木工程",
    "工程造价",
    "建筑学",
    "给排水科学与工程",
    "道路桥梁与渡河工程",
];
const AGRI: &[&str] = &[
    "农学",
    "园艺",
    "动物医学",
    "植物保护",
    "食品科学与工程",
    "茶学",
];
const TOUR: &[&str] = &["旅游管理", "酒店管理", "烹饪与营养教育", "文化产业管理"];
const ADMIN: &[&str] = &[
    "行政管理",
    "汉语言文学",
    "法学",
    "公共事业管理",
    "人力资源管理",
];
const ENERGY: &[&str] = &[
    "电气工程及其自动化",
    "能源与动力工程",
    "化学工程与工艺",
    "安全工程",
    "环境工程",
];
const DESIGN: &[&str] = &["视觉传达设计", "数字媒体艺术", "广告学", "新闻学"];

const SECTORS: Weighted<&Sector> = Weighted::new(&[
    (&IT, 16),
    (&MANUFACTURING, 15),
    (&HEALTHCARE, 12),
    (&EDUCATION, 12),
    (&FINANCE, 7),
    (&LOGISTICS, 7),
    (&TOURISM, 6),
    (&AGRICULTURE, 5),
    (&CONSTRUCTION, 8),
    (&RETAIL, 8),
    (&ENERGY_SECTOR, 4),
    (&PUBLIC, 4),
]);

const IT: Sector = Sector {
    name: "软件",
    base_salary: 9000,
    public: false,
    kinds: Weighted::new(&[
        ("private", 70),
        ("soe", 12),
        ("foreign", 12),
        ("institution", 3),
        ("other", 3),
    ]),
    industries: &[
        "科技",
        "信息技术",
        "软件",
        "网络科技",
        "数据科技",
        "智能科技",
        "数字科技",
    ],
    institutions: &["大数据发展中心", "信息中心"],
    roles: &[
        role("Java开发工程师", CS, 1, 3, true),
        role("Java后端开发工程师", CS, 1, 3, true),
        role("Python开发工程师", CS, 1, 3, true),
        role("Go开发工程师", CS, 2, 3, true),
        role("C++开发工程师", CS, 2, 3, true),
        role("前端开发工程师", CS, 1, 2, true),
        role("Android开发工程师", CS, 1, 2, true),
        role("iOS开发工程师", CS, 1, 2, true),
        role("软件开发工程师", CS, 1, 3, true),
        role("软件测试工程师", CS, 1, 2, true),
        role("运维工程师", CS, 1, 2, true),
        role(
            "数据分析师",
            &["统计学", "数据科学与大数据技术", "数学与应用数学", "经济学"],
            2,
            3,
            true,
        ),
        role(
            "数据分析",
            &["统计学", "数据科学与大数据技术", "数学与应用数学"],
            1,
            3,
            false,
        ),
        role("大数据开发工程师", CS, 2, 3, true),
        role(
            "算法工程师",
            &["计算机科学与技术", "人工智能", "数学与应用数学"],
            3,
            4,
            true,
        ),
        role(
            "机器学习工程师",
            &["人工智能", "计算机科学与技术"],
            3,
            4,
            true,
        ),
        role(
            "网络安全工程师",
            &["信息安全", "网络空间安全", "计算机科学与技术"],
            2,
            3,
            true,
        ),
        role("产品经理", &[], 2, 3, true),
        role("UI设计师", DESIGN, 1, 2, true),
        role("技术支持工程师", CS, 1, 2, false),
        role("嵌入式软件工程师", EE, 2, 3, true),
        role("数据库管理员", CS, 1, 2, false),
        role("游戏策划", &[], 1, 2, false),
        role("网络管理员", CS, 0, 1, false),
        role("信息化专员", CS, 1, 2, false),
    ],
    duties: &[
        "负责公司核心业务系统的设计、开发与维护",
        "参与需求分析和技术方案评审，编写技术文档",
        "负责系统性能优化和线上问题排查",
        "配合产品和测试团队完成版本迭代",
        "负责数据采集、清洗、统计分析与可视化报表",
        "参与微服务架构设计和中间件选型",
        "负责服务器、网络设备的日常运维与监控",
        "编写测试用例，执行功能测试和自动化测试",
        "跟踪行业新技术，推动团队技术升级",
        "为客户提供系统部署、培训和技术支持",
    ],
    skills: &[
        "Java",
        "Spring Boot",
        "MySQL",
        "Redis",
        "Linux",
        "Python",
        "Go",
        "Kubernetes",
        "Docker",
        "Vue",
        "React",
        "TypeScript",
        "Hadoop",
        "Spark",
        "Kafka",
        "Elasticsearch",
        "PostgreSQL",
        "TensorFlow",
        "PyTorch",
        "C++",
        "Rust",
        "Flutter",
        "微服务",
        "分布式系统",
        "SQL",
        "Tableau",
        "Excel",
        "Nginx",
        "Git",
        "鸿蒙开发",
    ],
};

const MANUFACTURING: Sector = Sector {
    name: "制造",
    base_salary: 6000,
    public: false,
    kinds: Weighted::new(&[("private", 55), ("soe", 25), ("foreign", 15), ("other", 5)]),
    industries: &[
        "机械制造",
        "汽车零部件",
        "电子",
        "精密制造",
        "新材料",
        "装备制造",
        "汽车",
        "摩托车",
        "电子科技",
    ],
    institutions: &["产品质量检验所"],
    roles: &[
        role("机械设计工程师", MECH, 1, 3, true),
        role("工艺工程师", MECH, 1, 3, true),
        role("质量工程师", MECH, 1, 2, true),
        role("设备维修技术员", MECH, 0, 1, false),
        role("数控操作工", MECH, 0, 1, false),
        role(
            "焊接技术员",
            &["焊接技术与工程", "材料成型及控制工程"],
            0,
            1,
            false,
        ),
        role("电气工程师", EE, 1, 3, true),
        role("PLC编程工程师", EE, 1, 2, true),
        role("生产主管", &[], 1, 2, false),
        role("车间操作员", &[], 0, 0, false),
        role("品质检验员", &[], 0, 1, false),
        role(
            "汽车装配技术员",
            &["汽车检测与维修技术", "车辆工程"],
            0,
            1,
            false,
        ),
        role("模具设计师", MECH, 1, 2, true),
        role("采购专员", LOGI, 1, 2, false),
        role("安全员", &["安全工程"], 1, 2, false),
        role("研发工程师", MECH, 2, 4, true),
        role("电子工程师", EE, 1, 3, true),
        role(
            "工业机器人运维工程师",
            &["机器人工程", "自动化"],
            1,
            2,
            true,
        ),
    ],
    duties: &[
        "负责产品结构设计与图纸绘制",
        "制定生产工艺流程并持续改进",
        "负责生产设备的日常点检、维护与故障排除",
        "按照作业指导书完成生产任务",
        "负责来料、过程和成品的质量检验",
        "参与新产品试制和量产导入",
        "推动精益生产和现场5S管理",
        "分析质量问题并组织纠正预防措施",
        "负责生产计划的执行与物料协调",
        "编写工艺文件和作业指导书",
    ],
    skills: &[
        "AutoCAD",
        "SolidWorks",
        "CATIA",
        "UG",
        "PLC编程",
        "西门子PLC",
        "数控编程",
        "精益生产",
        "六西格玛",
        "IATF16949",
        "质量管理体系",
        "FMEA",
        "MES系统",
        "焊接工艺",
        "液压传动",
        "电气原理图",
        "工业机器人",
        "ERP系统",
    ],
};

const HEALTHCARE: Sector = Sector {
    name: "医疗",
    base_salary: 6500,
    public: true,
    kinds: Weighted::new(&[
        ("institution", 60),
        ("private", 30),
        ("soe", 5),
        ("other", 5),
    ]),
    industries: &["医药", "医疗器械", "健康管理", "医疗科技", "生物医药"],
    institutions: &[
        "人民医院",
        "中医院",
        "妇幼保健院",
        "疾病预防控制中心",
        "第{}人民医院",
        "社区卫生服务中心",
        "精神卫生中心",
    ],
    roles: &[
        role("临床医师", MED, 2, 4, false),
        role("内科医师", MED, 2, 4, false),
        role("外科医师", MED, 2, 4, false),
        role("儿科医师", MED, 2, 4, false),
        role("护士", NURSE, 1, 2, false),
        role("护理人员", NURSE, 0, 2, false),
        role("ICU护士", NURSE, 1, 2, false),
        role("助产士", NURSE, 1, 2, false),
        role("药剂师", PHARMA, 1, 3, false),
        role("检验技师", &["医学检验技术"], 1, 3, false),
        role("放射科技师", &["医学影像技术", "医学影像学"], 1, 3, false),
        role("康复治疗师", &["康复治疗学"], 1, 2, false),
        role("中医师", &["中医学", "针灸推拿学"], 2, 4, false),
        role("口腔医师", &["口腔医学"], 2, 3, false),
        role("公共卫生医师", &["预防医学"], 2, 3, false),
        role("医药代表", PHARMA, 1, 2, true),
        role("健康管理师", &["健康服务与管理", "护理学"], 1, 2, false),
        role("药品质量检验员", PHARMA, 1, 2, false),
    ],
    duties: &[
        "负责门诊及住院患者的诊疗工作",
        "执行医嘱，完成基础护理和专科护理",
        "负责病房巡视、病情观察与护理记录",
        "参与科室疑难病例讨论和临床带教",
        "负责药品调配、审方和用药咨询",
        "开展临床检验、影像检查并出具报告",
        "开展健康教育与慢病随访管理",
        "严格执行院感防控和医疗安全制度",
        "参与突发公共卫生事件应急处置",
        "协助开展临床科研和教学工作",
    ],
    skills: &[
        "护士执业资格证",
        "医师资格证",
        "规培证书",
        "静脉穿刺",
        "心肺复苏",
        "病历书写",
        "院感防控",
        "中医适宜技术",
        "超声诊断",
        "CT影像诊断",
        "康复评定",
        "药事管理",
        "GMP规范",
        "急危重症护理",
    ],
};

const EDUCATION: Sector = Sector {
    name: "教育",
    base_salary: 5500,
    public: true,
    kinds: Weighted::new(&[("institution", 65), ("private", 30), ("other", 5)]),
    industries: &["教育科技", "教育咨询", "文化传播", "职业培训"],
    institutions: &[
        "实验小学",
        "第{}中学",
        "第{}小学",
        "实验中学",
        "职业教育中心",
        "幼儿园",
        "特殊教育学校",
        "教师发展中心",
    ],
    roles: &[
        role("小学语文教师", &["汉语言文学", "小学教育"], 2, 3, false),
        role("小学数学教师", &["数学与应用数学", "小学教育"], 2, 3, false),
        role("小学英语教师", &["英语", "小学教育"], 2, 3, false),
        role("初中语文教师", &["汉语言文学"], 2, 3, false),
        role("初中数学教师", &["数学与应用数学"], 2, 3, false),
        role("初中英语教师", &["英语"], 2, 3, false),
        role("初中物理教师", &["物理学"], 2, 3, false),
        role("高中化学教师", &["化学"], 2, 3, false),
        role("高中生物教师", &["生物科学"], 2, 3, false),
        role("高中历史教师", &["历史学"], 2, 3, false),
        role("高中政治教师", &["思想政治教育"], 2, 3, false),
        role("体育教师", &["体育教育", "社会体育指导与管理"], 2, 3, false),
        role("音乐教师", &["音乐学"], 2, 3, false),
        role("美术教师", &["美术学"], 2, 3, false),
        role(
            "信息技术教师",
            &["计算机科学与技术", "教育技术学"],
            2,
            3,
            false,
        ),
        role("幼儿教师", &["学前教育"], 1, 2, false),
        role("心理健康教师", &["心理学", "应用心理学"], 2, 3, false),
        role(
            "中职汽修专业教师",
            &["车辆工程", "汽车服务工程"],
            2,
            3,
            false,
        ),
        role("课程顾问", &[], 1, 2, false),
        role("教务专员", &[], 1, 2, false),
        role("班主任", &[], 2, 3, false),
    ],
    duties: &[
        "承担所任学科的课堂教学工作",
        "认真备课、上课、批改作业和辅导学生",
        "参与教研活动和校本课程开发",
        "做好班级管理和家校沟通工作",
        "组织学生课外活动和社会实践",
        "关注学生身心健康和个性发展",
        "参与学校安排的课后服务工作",
        "负责招生咨询和课程规划",
        "完成学校安排的其他教育教学任务",
    ],
    skills: &[
        "教师资格证",
        "普通话二级甲等",
        "多媒体课件制作",
        "新课标",
        "课堂管理",
        "教育心理学",
        "双减政策",
        "分层教学",
        "信息化教学",
        "作文指导",
        "奥数辅导",
        "英语口语",
    ],
};

const FINANCE: Sector = Sector {
    name: "金融",
    base_salary: 7500,
    public: false,
    kinds: Weighted::new(&[("soe", 45), ("private", 40), ("foreign", 10), ("other", 5)]),
    industries: &[
        "金融服务",
        "投资",
        "保险代理",
        "融资担保",
        "财务咨询",
        "农村商业银行",
        "证券",
    ],
    institutions: &["财政投资评审中心"],
    roles: &[
        role("会计", FIN, 1, 2, true),
        role("出纳", FIN, 1, 2, false),
        role("财务经理", FIN, 2, 3, false),
        role("审计专员", FIN, 2, 3, true),
        role("税务专员", FIN, 1, 2, true),
        role("客户经理", FIN, 1, 2, true),
        role("理财顾问", FIN, 1, 2, true),
        role("柜员", FIN, 1, 2, false),
        role("风险管理专员", FIN, 2, 3, true),
        role("信贷专员", FIN, 1, 2, false),
        role("投资分析师", FIN, 2, 4, true),
        role("保险顾问", &[], 1, 2, false),
        role("金融产品经理", FIN, 2, 3, true),
    ],
    duties: &[
        "负责日常会计核算、账务处理和报表编制",
        "负责纳税申报和税务筹划",
        "负责客户开发与维护，完成业绩指标",
        "开展贷前调查、贷中审查和贷后管理",
        "负责现金收付、票据审核与资金管理",
        "开展内部审计和风险排查",
        "撰写行业研究和投资分析报告",
        "为客户提供理财规划和资产配置建议",
        "协助编制财务预算并分析执行情况",
    ],
    skills: &[
        "用友",
        "金蝶",
        "Excel",
        "初级会计职称",
        "中级会计职称",
        "CPA",
        "CFA",
        "基金从业资格",
        "证券从业资格",
        "银行从业资格",
        "财务分析",
        "风险控制",
        "反洗钱",
        "税法",
    ],
};

const LOGISTICS: Sector = Sector {
    name: "物流",
    base_salary: 5500,
    public: false,
    kinds: Weighted::new(&[("private", 70), ("soe", 20), ("foreign", 5), ("other", 5)]),
    industries: &[
        "物流",
        "供应链管理",
        "快递服务",
        "运输",
        "国际货运代理",
        "仓储服务",
    ],
    institutions: &["物流园区管理中心"],
    roles: &[
        role("物流专员", LOGI, 1, 2, false),
        role("仓库管理员", LOGI, 0, 1, false),
        role("调度员", LOGI, 0, 1, false),
        role("货车司机", &[], 0, 0, false),
        role("快递员", &[], 0, 0, false),
        role("供应链经理", LOGI, 2, 3, false),
        role("报关员", &["国际经济与贸易", "物流管理"], 1, 2, false),
        role("单证员", &["国际经济与贸易"], 1, 2, false),
        role("国际货代专员", &["国际经济与贸易", "物流管理"], 1, 2, true),
        role("配送站长", &[], 0, 1, false),
        role("中欧班列运营专员", LOGI, 2, 3, false),
    ],
    duties: &[
        "负责货物出入库、盘点和库存管理",
        "负责运输车辆调度和线路规划",
        "跟踪订单履约，处理异常件和客户投诉",
        "办理进出口报关报检手续",
        "负责供应商管理和采购成本控制",
        "优化仓储布局，提高作业效率",
        "负责区域快件揽收与派送",
        "协调铁路、公路、水运多式联运",
    ],
    skills: &[
        "WMS系统",
        "TMS系统",
        "SAP",
        "Excel",
        "C1驾照",
        "A2驾照",
        "叉车证",
        "报关",
        "多式联运",
        "中欧班列",
        "冷链物流",
    ],
};

const TOURISM: Sector = Sector {
    name: "文旅",
    base_salary: 4800,
    public: false,
    kinds: Weighted::new(&[
        ("private", 70),
        ("soe", 20),
        ("institution", 5),
        ("other", 5),
    ]),
    industries: &[
        "旅游开发",
        "酒店管理",
        "文化传媒",
        "餐饮管理",
        "景区管理",
        "会展服务",
    ],
    institutions: &["文化馆", "图书馆", "博物馆", "旅游服务中心"],
    roles: &[
        role("导游", TOUR, 0, 1, false),
        role("酒店前台", TOUR, 0, 1, false),
        role("客房主管", TOUR, 0, 1, false),
        role("厨师", &["烹饪工艺与营养"], 0, 0, true),
        role("川菜厨师", &["烹饪工艺与营养"], 0, 0, true),
        role("火锅店店长", &[], 0, 1, false),
        role("餐厅服务员", &[], 0, 0, false),
        role("新媒体运营", DESIGN, 1, 2, true),
        role("活动策划", DESIGN, 1, 2, true),
        role("景区讲解员", TOUR, 1, 2, false),
        role("短视频编导", DESIGN, 1, 2, true),
        role("平面设计师", DESIGN, 1, 2, true),
        role("文物保护修复员", &["文物保护技术", "考古学"], 2, 3, false),
    ],
    duties: &[
        "负责游客接待、讲解和行程安排",
        "负责前厅接待、入住退房和客户关系维护",
        "负责菜品制作和厨房卫生管理",
        "策划并执行品牌推广和节庆活动",
        "负责抖音、小红书等平台内容创作与运营",
        "维护景区秩序，处理游客咨询与投诉",
        "负责门店日常经营管理和团队建设",
        "负责视觉设计和宣传物料制作",
    ],
    skills: &[
        "导游证",
        "普通话",
        "英语口语",
        "PS",
        "AI",
        "Premiere",
        "剪映",
        "短视频拍摄",
        "文案写作",
        "健康证",
        "川菜烹饪",
        "火锅底料炒制",
    ],
};

const AGRICULTURE: Sector = Sector {
    name: "农业",
    base_salary: 4800,
    public: true,
    kinds: Weighted::new(&[
        ("private", 45),
        ("institution", 30),
        ("soe", 10),
        ("other", 15),
    ]),
    industries: &[
        "农业科技",
        "生态农业",
        "茶业",
        "畜牧",
        "种业",
        "食品",
        "柑橘产业",
    ],
    institutions: &[
        "农业技术推广中心",
        "畜牧兽医站",
        "林业站",
        "农产品质量安全检测站",
    ],
    roles: &[
        role("农业技术员", AGRI, 1, 2, false),
        role("农艺师", AGRI, 2, 3, true),
        role("兽医", &["动物医学", "动物科学"], 1, 2, false),
        role("养殖技术员", &["动物科学"], 0, 1, false),
        role("茶叶加工技术员", &["茶学"], 0, 1, false),
        role(
            "食品检验员",
            &["食品科学与工程", "食品质量与安全"],
            1,
            2,
            false,
        ),
        role("乡村振兴专员", &[], 1, 2, false),
        role("农产品电商运营", BIZ, 1, 2, false),
        role("植保员", &["植物保护"], 0, 1, false),
        role("育种研究员", AGRI, 3, 4, true),
    ],
    duties: &[
        "负责种植基地的生产技术指导",
        "开展病虫害监测与绿色防控",
        "负责畜禽疫病防治和养殖管理",
        "开展新品种、新技术的试验示范和推广",
        "负责农产品质量检测和溯源管理",
        "组织农户技术培训，助力乡村振兴",
        "负责农产品线上销售和品牌推广",
    ],
    skills: &[
        "病虫害防治",
        "测土配方施肥",
        "水肥一体化",
        "兽医资格证",
        "食品检验",
        "农残检测",
        "直播带货",
        "无人机植保",
    ],
};

const CONSTRUCTION: Sector = Sector {
    name: "建筑",
    base_salary: 6500,
    public: false,
    kinds: Weighted::new(&[("soe", 45), ("private", 50), ("other", 5)]),
    industries: &[
        "建设工程",
        "建筑工程",
        "路桥",
        "市政工程",
        "房地产开发",
        "建筑设计",
        "工程咨询",
        "交通建设",
    ],
    institutions: &["城乡建设服务中心", "公路养护中心"],
    roles: &[
        role("土建工程师", CIVIL, 1, 3, true),
        role("施工员", CIVIL, 0, 1, false),
        role("造价工程师", &["工程造价", "工程管理"], 1, 3, true),
        role("项目经理", CIVIL, 1, 3, false),
        role("测量员", &["测绘工程", "土木工程"], 0, 1, false),
        role("资料员", CIVIL, 0, 1, false),
        role("BIM工程师", CIVIL, 1, 2, true),
        role(
            "桥梁设计师",
            &["道路桥梁与渡河工程", "土木工程"],
            2,
            3,
            true,
        ),
        role("建筑设计师", &["建筑学"], 2, 3, true),
        role("给排水工程师", &["给排水科学与工程"], 1, 3, true),
        role("安全工程师", &["安全工程"], 1, 2, true),
        role("监理工程师", CIVIL, 1, 2, true),
        role("隧道工程师", &["土木工程", "城市地下空间工程"], 2, 3, true),
    ],
    duties: &[
        "负责施工现场的技术管理和质量控制",
        "编制施工组织设计和专项施工方案",
        "负责工程量计算、计价和成本控制",
        "负责工程测量放线和竣工测量",
        "负责工程资料的收集、整理和归档",
        "负责安全文明施工检查和隐患整改",
        "参与图纸会审和设计交底",
        "协调业主、监理和分包单位",
    ],
    skills: &[
        "AutoCAD",
        "广联达",
        "Revit",
        "BIM",
        "全站仪",
        "一级建造师",
        "二级建造师",
        "注册造价工程师",
        "PKPM",
        "施工规范",
        "安全员C证",
    ],
};

const RETAIL: Sector = Sector {
    name: "商贸",
    base_salary: 5000,
    public: false,
    kinds: Weighted::new(&[("private", 85), ("soe", 5), ("foreign", 7), ("other", 3)]),
    industries: &[
        "商贸",
        "电子商务",
        "超市连锁",
        "百货",
        "贸易",
        "品牌管理",
        "网络科技",
    ],
    institutions: &["商务服务中心"],
    roles: &[
        role("销售代表", BIZ, 0, 2, true),
        role("销售经理", BIZ, 1, 2, false),
        role("电商运营", BIZ, 1, 2, true),
        role("直播主播", &[], 0, 1, false),
        role("客服专员", &[], 0, 1, false),
        role("门店店长", &[], 0, 1, false),
        role("市场专员", BIZ, 1, 2, true),
        role("品牌策划", BIZ, 1, 2, true),
        role("理货员", &[], 0, 0, false),
        role("外贸业务员", &["国际经济与贸易", "英语"], 1, 2, true),
        role("人力资源专员", &["人力资源管理"], 1, 2, true),
        role("行政助理", &[], 1, 2, false),
    ],
    duties: &[
        "负责区域市场开拓和客户关系维护",
        "负责天猫、京东、拼多多等店铺的日常运营",
        "策划直播活动，提升转化率和客单价",
        "负责门店陈列、库存和销售目标达成",
        "收集市场信息，分析竞品动态",
        "处理客户咨询、售后和投诉",
        "负责招聘、培训和员工关系管理",
        "完成上级交办的其他工作",
    ],
    skills: &[
        "Office",
        "CRM系统",
        "数据分析",
        "直播运营",
        "抖音电商",
        "英语四级",
        "商务谈判",
        "PS",
        "生意参谋",
        "私域运营",
    ],
};

const ENERGY_SECTOR: Sector = Sector {
    name: "能源",
    base_salary: 7000,
    public: false,
    kinds: Weighted::new(&[("soe", 70), ("private", 25), ("foreign", 5)]),
    industries: &[
        "电力",
        "水电开发",
        "天然气",
        "新能源",
        "化工",
        "锂电材料",
        "光伏科技",
        "页岩气",
    ],
    institutions: &["能源发展服务中心"],
    roles: &[
        role("电力运维工程师", ENERGY, 1, 2, true),
        role("变电运行值班员", ENERGY, 1, 2, false),
        role("水电站运行工程师", ENERGY, 2, 3, true),
        role("化工工艺工程师", ENERGY, 2, 3, true),
        role("天然气管道巡检员", &[], 0, 1, false),
        role("锂电池研发工程师", &["材料科学与工程", "化学"], 3, 4, true),
        role("光伏电站运维员", ENERGY, 0, 1, false),
        role("安全环保专员", ENERGY, 1, 2, false),
        role("储能系统工程师", ENERGY, 2, 3, true),
    ],
    duties: &[
        "负责电站设备的运行监视、巡检和倒闸操作",
        "开展设备检修、试验和缺陷处理",
        "负责化工装置的工艺控制和技术改进",
        "负责安全环保管理和隐患排查",
        "参与新能源项目的前期开发和并网调试",
        "开展材料配方和电芯工艺研发",
        "负责管网巡线和应急抢修",
    ],
    skills: &[
        "电工证",
        "高压电工证",
        "继电保护",
        "DCS控制系统",
        "HAZOP分析",
        "安全生产法",
        "储能",
        "光伏",
        "电池管理系统",
    ],
};

const PUBLIC: Sector = Sector {
    name: "公共管理",
    base_salary: 5500,
    public: true,
    kinds: Weighted::new(&[("government", 60), ("institution", 35), ("other", 5)]),
    industries: &["城市发展", "国有资产经营"],
    institutions: &[
        "政务服务中心",
        "社会保险事务中心",
        "就业服务中心",
        "公共资源交易中心",
        "融媒体中心",
        "档案馆",
    ],
    roles: &[
        role("综合管理岗", ADMIN, 2, 3, false),
        role("文秘", ADMIN, 2, 3, false),
        role("财务岗", FIN, 2, 3, false),
        role("法律事务岗", &["法学"], 2, 3, false),
        role("社区工作者", &[], 1, 2, false),
        role("网格员", &[], 0, 1, false),
        role("统计员", &["统计学", "经济学"], 2, 3, false),
        role("信息技术岗", CS, 2, 3, false),
        role("执法岗", &["法学", "行政管理"], 2, 3, false),
        role("乡镇基层工作人员", &[], 2, 3, false),
        role("记者编辑", &["新闻学", "汉语言文学"], 2, 3, false),
    ],
    duties: &[
        "负责公文起草、会议组织和综合协调",
        "负责政务服务窗口受理和咨询解答",
        "负责社区网格化管理和民生服务",
        "负责经费核算、预算编制和资产管理",
        "负责行政执法和合法性审查",
        "负责统计调查和数据报送",
        "负责政务信息系统的建设和运维",
        "完成领导交办的其他工作",
    ],
    skills: &[
        "公文写作",
        "政策法规",
        "Office",
        "法律职业资格证",
        "统计软件",
        "群众工作",
        "新闻写作",
        "摄影摄像",
    ],
};

const SENIORITY: [&str; 5] = ["初级", "中级", "高级", "资深", "见习"];
const TITLE_SUFFIXES: [&str; 4] = ["（储备）", "（急招）", "（双休）", "（应届生）"];
const EXPERIENCE: [&str; 5] = [
    "一年以上相关工作经验",
    "两年以上相关工作经验",
    "三年以上相关工作经验",
    "五年以上相关工作经验",
    "有相关经验者优先",
];
const TRAITS: [&str; 10] = [
    "具有良好的沟通协调能力和团队合作精神",
    "工作认真负责，吃苦耐劳，服从安排",
    "具备较强的学习能力和问题解决能力",
    "责任心强，能适应出差",
    "身体健康，能适应倒班工作",
    "具有较强的文字表达能力",
    "中共党员优先",
    "持有相关职业资格证书者优先",
    "有本地生活经历者优先",
    "具备良好的职业道德和服务意识",
];
const BENEFITS: [&str; 12] = [
    "五险一金",
    "带薪年假",
    "周末双休",
    "年终奖金",
    "定期体检",
    "节日福利",
    "免费工作餐",
    "提供住宿",
    "交通补贴",
    "绩效奖金",
    "人才公寓",
    "专业培训",
];
const GOVERNMENT_UNITS: [&str; 10] = [
    "人民政府办公室",
    "发展和改革委员会",
    "财政局",
    "人力资源和社会保障局",
    "市场监督管理局",
    "住房和城乡建设委员会",
    "农业农村委员会",
    "司法局",
    "统计局",
    "应急管理局",
];
const OTHER_UNITS: [&str; 4] = [
    "行业协会",
    "职业技能培训学校",
    "专业合作社",
    "社会工作服务中心",
];
const SOE_SUFFIXES: [&str; 3] = ["集团有限公司", "有限责任公司", "股份有限公司"];
const PRIVATE_SUFFIXES: [&str; 3] = ["有限公司", "有限公司", "股份有限公司"];
const BRAND_CHARS: [char; 48] = [
    '华', '鑫', '盛', '达', '通', '瑞', '博', '创', '航', '宇', '中', '新', '源', '恒', '信', '远',
    '泰', '康', '安', '嘉', '德', '立', '天', '联', '智', '汇', '腾', '跃', '锦', '蜀', '巴', '峨',
    '岷', '江', '星', '晨', '卓', '越', '融', '明', '和', '丰', '润', '隆', '兴', '宏', '诚', '凯',
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn known_credit_code_checks() {
        // A published example code (GB 32100).
        let code = "91350100M000100Y43";
        let body: [u8; 8] = code.as_bytes()[8..16].try_into().unwrap();
        assert_eq!(organization_code_check(&body), '4');
        assert_eq!(credit_code_check(&code[..17]), Some('3'));
        assert_eq!(credit_code_check("91350100M000100Y"), None);
        assert_eq!(credit_code_check("91350100M000100YI"), None);
    }

    fn valid_credit_code(code: &str) -> bool {
        code.len() == 18
            && code[8..17].bytes().all(|c| USCC_CHARS.contains(&c))
            && credit_code_check(&code[..17]) == code.chars().last()
            && organization_code_check(&code.as_bytes()[8..16].try_into().unwrap())
                == char::from(code.as_bytes()[16])
    }

    #[test]
    fn jobs_are_deterministic_and_independent_of_iteration() {
        let a: Vec<Job> = jobs(Province::SC, 7, 300).collect();
        let b: Vec<Job> = jobs(Province::SC, 7, 300).collect();
        assert_eq!(a, b);
        let generator = Jobs::new(Province::SC, 7, 300);
        assert_eq!(generator.job(123), a[123]);
        let c: Vec<Job> = jobs(Province::SC, 8, 300).collect();
        assert_ne!(a, c);
        // The provinces differ for one seed, beyond their places.
        let cq: Vec<String> = jobs(Province::CQ, 7, 300).map(|j| j.title).collect();
        let sc: Vec<String> = a.iter().map(|j| j.title.clone()).collect();
        assert_ne!(cq, sc);
    }

    #[test]
    fn jobs_are_valid_distinct_and_varied() {
        for province in Province::ALL {
            let all: Vec<Job> = jobs(province, 1, 20_000).collect();
            let keys: HashSet<&str> = all.iter().map(|j| j.key.as_str()).collect();
            assert_eq!(keys.len(), all.len(), "keys are distinct");
            let titles: HashSet<&str> = all.iter().map(|j| j.title.as_str()).collect();
            assert!(titles.len() > 300, "{} distinct titles", titles.len());
            let employers: HashSet<&str> = all.iter().map(|j| j.employer.as_str()).collect();
            assert!(employers.len() > 1000, "{} employers", employers.len());
            let mut by_code = std::collections::HashMap::new();
            for job in &all {
                assert!(job.key.starts_with(&format!("{}-J-", province.tag())));
                assert!(job.city.starts_with(province.code()));
                assert!(division::lookup(&job.city).is_some(), "{}", job.city);
                assert!(valid_credit_code(&job.employer_credit_code), "{job:?}");
                assert_eq!(&job.employer_credit_code[2..8], job.city);
                // One employer, one code.
                let previous = by_code.insert(job.employer_credit_code.clone(), &job.employer);
                if let Some(previous) = previous {
                    assert_eq!(previous, &job.employer);
                }
                assert!(LEVELS.contains(&job.level));
                assert!(
                    [
                        "soe",
                        "private",
                        "foreign",
                        "institution",
                        "government",
                        "other"
                    ]
                    .contains(&job.employer_type)
                );
                assert!(
                    job.salary_min >= 2000 && job.salary_min < job.salary_max,
                    "{job:?}"
                );
                let chars = job.description.chars().count();
                assert!((120..=600).contains(&chars), "{chars}: {}", job.description);
                assert!(job.headcount >= 1);
                assert!((-30..=90).contains(&job.deadline_in_days));
            }
            let with_majors = all.iter().filter(|j| !j.majors.is_empty()).count();
            assert!(with_majors > all.len() / 2 && with_majors < all.len());
            let interns = all.iter().filter(|j| j.title.contains("实习")).count();
            assert!(interns > 100, "{interns} internships");
            for wanted in ["小学语文教师", "Java", "护士", "数据分析"] {
                assert!(all.iter().any(|j| j.title.contains(wanted)), "{wanted}");
            }
        }
    }

    #[test]
    fn short_city_names() {
        assert_eq!(short_city_name("成都市"), "成都");
        assert_eq!(short_city_name("凉山彝族自治州"), "凉山");
        assert_eq!(short_city_name("阿坝藏族羌族自治州"), "阿坝");
    }
}
