//! The national 学籍 (student-status) vocabulary: the columns of a 学籍 list and the values
//! its enumerated fields take. Shared by the registry (which validates against it) and the
//! synthetic-data generator (which writes it).

/// The columns of a 学籍 file, in the order exports write them. Imports find them by name
/// in any order.
pub const COLUMNS: [&str; 15] = [
    "学籍号",
    "姓名",
    "性别",
    "出生日期",
    "身份证件类型",
    "身份证件号码",
    "民族",
    "户籍地",
    "常住地",
    "学校标识码",
    "学段",
    "年级",
    "班级",
    "入学日期",
    "学籍状态",
];

pub const ID_TYPES: &[&str] = &[
    "居民身份证",
    "港澳台居民居住证",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "护照",
    "外国人永久居留身份证",
    "其他",
];

pub const STAGES: &[&str] = &["小学", "初中", "高中", "中职", "特殊教育"];

/// 年级 values and their order (1–12).
pub const GRADES: &[&str] = &[
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
];

/// 学籍状态 values. 在读 and 转入 are "active": the student studies at this school.
pub const STATUSES: &[&str] = &[
    "在读", "转入", "休学", "转出", "毕业", "结业", "肄业", "退学", "死亡",
];

/// The 56 ethnic groups (GB 3304) and the two extra categories of the national system.
pub const ETHNICITIES: &[&str] = &[
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
    "穿青人",
    "外国血统",
];

/// The columns of a school list.
pub const SCHOOL_COLUMNS: [&str; 4] = ["学校标识码", "学校名称", "办学类型", "所在地"];

/// The order of a 年级 (一年级 = 1 … 高三 = 12), 0 if unknown.
pub fn grade_no(grade: &str) -> i64 {
    GRADES
        .iter()
        .position(|g| *g == grade)
        .map(|i| i as i64 + 1)
        .unwrap_or(0)
}
