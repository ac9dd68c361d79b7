//! Identifiers: citizen ID numbers (GB 11643-1999), 学籍号, 学校标识码, teacher
//! qualification certificate numbers and diploma numbers.
//!
//! Every `parse` normalises with [`normalize_code`], then checks its rules in a fixed order
//! and reports the first rule that fails as an [`IdError`] saying what to fix. Values of these
//! types are always valid and normalised, so they can be compared and stored as-is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::division::is_province_code;
use crate::{Lang, Localized};

/// Trims, maps full-width ASCII variants (U+FF01..=U+FF5E) to ASCII and the ideographic
/// space U+3000 to a space, and uppercases ASCII letters. Never used on names.
///
/// Each character maps to exactly one character, so positions in the result are positions
/// in the trimmed input; error messages rely on this to quote what the user typed.
pub fn normalize_code(input: &str) -> String {
    input
        .trim()
        .chars()
        .map(|c| match c {
            // The full-width block is the ASCII block shifted by 0xFEE0, so the result is
            // always in 0x21..=0x7E and fits a byte.
            '\u{FF01}'..='\u{FF5E}' => char::from((u32::from(c) - 0xFEE0) as u8),
            '\u{3000}' => ' ',
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Which identifier an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    CitizenId,
    StudentNo,
    DivisionCode,
    SchoolCode,
    TeacherCertNo,
    DiplomaNo,
    CreditCode,
}

impl IdKind {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (IdKind::CitizenId, Lang::Zh) => "身份证号",
            (IdKind::CitizenId, Lang::En) => "citizen ID number",
            (IdKind::StudentNo, Lang::Zh) => "学籍号",
            (IdKind::StudentNo, Lang::En) => "student registration number",
            (IdKind::DivisionCode, Lang::Zh) => "行政区划代码",
            (IdKind::DivisionCode, Lang::En) => "division code",
            (IdKind::SchoolCode, Lang::Zh) => "学校标识码",
            (IdKind::SchoolCode, Lang::En) => "school identification code",
            (IdKind::TeacherCertNo, Lang::Zh) => "教师资格证书编号",
            (IdKind::TeacherCertNo, Lang::En) => "teacher qualification certificate number",
            (IdKind::DiplomaNo, Lang::Zh) => "毕业证书编号",
            (IdKind::DiplomaNo, Lang::En) => "diploma number",
            (IdKind::CreditCode, Lang::Zh) => "统一社会信用代码",
            (IdKind::CreditCode, Lang::En) => "unified social credit code",
        }
    }
}

/// The characters allowed at a position, so an error can say what belongs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharClass {
    Digit,
    DigitOrX,
    Alphanumeric,
    /// The 31 characters of GB 32100: digits and uppercase letters without I, O, S, V, Z.
    CreditCode,
}

impl CharClass {
    fn accepts(self, c: char) -> bool {
        match self {
            CharClass::Digit => c.is_ascii_digit(),
            CharClass::DigitOrX => c.is_ascii_digit() || c == 'X',
            CharClass::Alphanumeric => c.is_ascii_alphanumeric(),
            CharClass::CreditCode => c.is_ascii() && CREDIT_CODE_CHARS.contains(&(c as u8)),
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (CharClass::Digit, Lang::Zh) => "数字",
            (CharClass::Digit, Lang::En) => "a digit",
            (CharClass::DigitOrX, Lang::Zh) => "数字或 X",
            (CharClass::DigitOrX, Lang::En) => "a digit or X",
            (CharClass::Alphanumeric, Lang::Zh) => "字母或数字",
            (CharClass::Alphanumeric, Lang::En) => "a letter or digit",
            (CharClass::CreditCode, Lang::Zh) => "数字或大写字母（不含 I、O、S、V、Z）",
            (CharClass::CreditCode, Lang::En) => {
                "a digit or an uppercase letter other than I, O, S, V, Z"
            }
        }
    }
}

/// Why an identifier was rejected. Each variant carries what the user needs to correct it.
///
/// The [`Localized::code`] of each variant is part of the API and never changes; the messages
/// may be reworded. `Display` gives the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Nothing but whitespace was given.
    Empty {
        kind: IdKind,
    },
    /// `expected` lists the allowed lengths in characters: "18", "15/18" (alternatives) or
    /// "9-25" (a range).
    Length {
        kind: IdKind,
        expected: &'static str,
        found: usize,
    },
    /// `position` is 1-based in the trimmed input; `found` is the character as typed.
    Character {
        kind: IdKind,
        position: usize,
        found: char,
        expected: CharClass,
    },
    /// A 学籍号 must start with G, J or L.
    Prefix {
        found: char,
    },
    /// The first two digits of a citizen ID number are not a province code.
    AreaCode {
        found: String,
    },
    /// The birth date digits of a citizen ID number are not a real date from 1900 on.
    BirthDate {
        found: String,
    },
    Checksum {
        expected: char,
        found: char,
    },
    /// A check character of a code other than a citizen ID number; `position` is 1-based.
    CodeChecksum {
        kind: IdKind,
        position: usize,
        expected: char,
        found: char,
    },
    UnknownDivision {
        code: String,
    },
    SchoolType {
        found: String,
    },
    Province {
        kind: IdKind,
        found: String,
    },
    CertType {
        found: char,
    },
    Year {
        kind: IdKind,
        found: u16,
        min: u16,
        max: u16,
    },
    Level {
        found: String,
    },
}

impl Localized for IdError {
    fn code(&self) -> &'static str {
        match self {
            IdError::Empty { .. } => "id.empty",
            IdError::Length { .. } => "id.length",
            IdError::Character { .. } => "id.character",
            IdError::Prefix { .. } => "id.prefix",
            IdError::AreaCode { .. } => "id.area_code",
            IdError::BirthDate { .. } => "id.birth_date",
            IdError::Checksum { .. } | IdError::CodeChecksum { .. } => "id.checksum",
            IdError::UnknownDivision { .. } => "division.unknown",
            IdError::SchoolType { .. } => "id.school_type",
            IdError::Province { .. } => "id.province",
            IdError::CertType { .. } => "id.cert_type",
            IdError::Year { .. } => "id.year",
            IdError::Level { .. } => "id.level",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            IdError::Empty { kind } => {
                let label = kind.label(lang);
                if zh {
                    format!("{label}不能为空")
                } else {
                    format!("The {label} is empty")
                }
            }
            IdError::Length {
                kind: IdKind::CitizenId,
                found,
                ..
            } => {
                if zh {
                    format!("身份证号应为 18 位（或旧版 15 位），实为 {found} 位")
                } else {
                    format!(
                        "A citizen ID number has 18 characters (15 in the old format), \
                         but this one has {found}"
                    )
                }
            }
            IdError::Length {
                kind,
                expected,
                found,
            } => {
                let label = kind.label(lang);
                let expected = spell_lengths(expected, lang);
                if zh {
                    format!("{label}应为 {expected} 位，实为 {found} 位")
                } else {
                    format!("The {label} must have {expected} characters, but has {found}")
                }
            }
            IdError::Character {
                kind,
                position,
                found,
                expected,
            } => {
                let label = kind.label(lang);
                let found = show_char(*found, lang);
                let expected = expected.label(lang);
                if zh {
                    format!("{label}第 {position} 位字符{found}无效，应为{expected}")
                } else {
                    format!(
                        "Character {position} of the {label}, {found}, is not allowed; \
                         expected {expected}"
                    )
                }
            }
            IdError::Prefix { found } => {
                let found = show_char(*found, lang);
                if zh {
                    format!("学籍号首位应为 G、J 或 L，实为{found}")
                } else {
                    format!("A student registration number starts with G, J or L, not {found}")
                }
            }
            IdError::AreaCode { found } => {
                if zh {
                    format!("身份证号前两位“{found}”不是有效的省级行政区划代码")
                } else {
                    format!(
                        "The first two digits of the citizen ID number, “{found}”, \
                         are not a province code"
                    )
                }
            }
            IdError::BirthDate { found } => {
                if zh {
                    format!("身份证号中的出生日期“{found}”不是 1900 年以后的有效日期")
                } else {
                    format!(
                        "The birth date in the citizen ID number, “{found}”, \
                         is not a real date from 1900 on"
                    )
                }
            }
            IdError::Checksum { expected, found } => {
                if zh {
                    format!("身份证号校验位错误：应为 {expected}，实为 {found}")
                } else {
                    format!(
                        "The check character of the citizen ID number is wrong: \
                         expected {expected}, found {found}"
                    )
                }
            }
            IdError::CodeChecksum {
                kind,
                position,
                expected,
                found,
            } => {
                if zh {
                    format!(
                        "{}第 {position} 位校验码错误：应为 {expected}，实为 {found}",
                        kind.label(lang)
                    )
                } else {
                    format!(
                        "Character {position} of the {} is a check character and is wrong: \
                         expected {expected}, found {found}",
                        kind.label(lang)
                    )
                }
            }
            IdError::UnknownDivision { code } => {
                if zh {
                    format!("行政区划代码“{code}”不在川渝行政区划表中")
                } else {
                    format!("Division code “{code}” is not in the Chongqing–Sichuan table")
                }
            }
            IdError::SchoolType { found } => {
                if zh {
                    format!("学校标识码前两位“{found}”不是已知的学校类型代码")
                } else {
                    format!(
                        "The first two digits of the school identification code, “{found}”, \
                         are not a known school type"
                    )
                }
            }
            IdError::Province { kind, found } => {
                let label = kind.label(lang);
                if zh {
                    format!("{label}中的省份代码“{found}”无效")
                } else {
                    format!("The province code in the {label}, “{found}”, is not valid")
                }
            }
            IdError::CertType { found } => {
                if zh {
                    format!("教师资格证书编号第 10 位资格种类“{found}”无效，应为 1–7")
                } else {
                    format!(
                        "Digit 10 of the teacher qualification certificate number, the \
                         qualification type, is “{found}”; expected 1–7"
                    )
                }
            }
            IdError::Year {
                kind,
                found,
                min,
                max,
            } => {
                let label = kind.label(lang);
                if zh {
                    format!("{label}中的年份 {found} 不在 {min}–{max} 之间")
                } else {
                    format!("The year in the {label}, {found}, is not within {min}–{max}")
                }
            }
            IdError::Level { found } => {
                if zh {
                    format!(
                        "毕业证书编号中的学历层次代码“{found}”无效，应为 01（博士研究生）、\
                         02（硕士研究生）、05（第二学士学位）、06（本科）或 07（专科）"
                    )
                } else {
                    format!(
                        "The level code in the diploma number, “{found}”, is not valid; \
                         expected 01 (doctorate), 02 (master's), 05 (second bachelor's), \
                         06 (bachelor's) or 07 (associate)"
                    )
                }
            }
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

/// Turns the compact length notation of [`IdError::Length`] into words.
fn spell_lengths(expected: &str, lang: Lang) -> String {
    let or = match lang {
        Lang::Zh => " 或 ",
        Lang::En => " or ",
    };
    expected.replace('/', or).replace('-', "–")
}

/// Quotes a character for a message, naming blanks and invisible characters instead, as
/// quoting them would show nothing.
fn show_char(c: char, lang: Lang) -> String {
    let invisible = !matches!(c, '\\' | '\'' | '"') && c.escape_debug().nth(1).is_some();
    match lang {
        Lang::Zh if c.is_whitespace() => "（空白）".to_owned(),
        Lang::En if c.is_whitespace() => "(blank)".to_owned(),
        _ if invisible => format!("(U+{:04X})", u32::from(c)),
        _ => format!("“{c}”"),
    }
}

/// Normalises `input` and checks it is non-empty with an allowed number of characters.
/// Returns the trimmed input (for quoting) and the normalised value.
fn normalized<'a>(
    kind: IdKind,
    input: &'a str,
    length_ok: impl Fn(usize) -> bool,
    expected: &'static str,
) -> Result<(&'a str, String), IdError> {
    let value = normalize_code(input);
    let found = value.chars().count();
    if found == 0 {
        return Err(IdError::Empty { kind });
    }
    if !length_ok(found) {
        return Err(IdError::Length {
            kind,
            expected,
            found,
        });
    }
    Ok((input.trim(), value))
}

/// Checks each character of `value` from index `start` against `class_at(index)`, quoting
/// the character as typed in `original`.
fn check_chars(
    kind: IdKind,
    original: &str,
    value: &str,
    start: usize,
    class_at: impl Fn(usize) -> CharClass,
) -> Result<(), IdError> {
    let pairs = original.chars().zip(value.chars()).enumerate().skip(start);
    for (i, (typed, c)) in pairs {
        let expected = class_at(i);
        if !expected.accepts(c) {
            return Err(IdError::Character {
                kind,
                position: i + 1,
                found: typed,
                expected,
            });
        }
    }
    Ok(())
}

/// Normalises and checks a code made only of ASCII digits.
pub(crate) fn parse_digits(
    kind: IdKind,
    input: &str,
    length_ok: impl Fn(usize) -> bool,
    expected: &'static str,
) -> Result<String, IdError> {
    let (original, value) = normalized(kind, input, length_ok, expected)?;
    check_chars(kind, original, &value, 0, |_| CharClass::Digit)?;
    Ok(value)
}

/// The number written by at most nine ASCII digits (callers have checked they are digits).
fn number(digits: &str) -> u32 {
    digits.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

macro_rules! string_newtype {
    ($name:ident, $field:tt) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.$field)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.$field
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sex::Male, Lang::Zh) => "男",
            (Sex::Male, Lang::En) => "Male",
            (Sex::Female, Lang::Zh) => "女",
            (Sex::Female, Lang::En) => "Female",
        }
    }

    /// Accepts 男/女, M/F, male/female (any case) and the GB/T 2261.1 codes 1/2.
    pub fn parse(s: &str) -> Option<Sex> {
        match normalize_code(s).as_str() {
            "男" | "M" | "MALE" | "1" => Some(Sex::Male),
            "女" | "F" | "FEMALE" | "2" => Some(Sex::Female),
            _ => None,
        }
    }
}

const CHECK_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// MOD 11-2 over the first 17 bytes, which the caller has checked are ASCII digits.
fn check_char_of(digits: &[u8]) -> char {
    let sum: u32 = digits
        .iter()
        .zip(CHECK_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// The ISO 7064 MOD 11-2 check character for the first 17 digits of a citizen ID number;
/// `None` unless `first17` is exactly 17 ASCII digits.
pub fn citizen_id_check_char(first17: &str) -> Option<char> {
    (first17.len() == 17 && first17.bytes().all(|b| b.is_ascii_digit()))
        .then(|| check_char_of(first17.as_bytes()))
}

/// A citizen ID number (公民身份号码, GB 11643-1999): the 18-character form with an
/// uppercase X, or the legacy 15-digit form as issued.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenId {
    id: String,
    // Kept so that `birth_date` cannot fail; it is derived from `id`, so equality and
    // ordering are still those of the number.
    birth: Date,
}

string_newtype!(CitizenId, id);

impl CitizenId {
    /// Checks, in order: not empty; 18 or 15 characters; digits (the 18th may be X); a
    /// province area code (retired county codes are still accepted, as IDs keep them for
    /// life); a real birth date from 1900 on; the check character (18-character form).
    pub fn parse(input: &str) -> Result<CitizenId, IdError> {
        let kind = IdKind::CitizenId;
        let (original, id) = normalized(kind, input, |n| n == 18 || n == 15, "18/15")?;
        check_chars(kind, original, &id, 0, |i| {
            if i == 17 {
                CharClass::DigitOrX
            } else {
                CharClass::Digit
            }
        })?;
        CitizenId::from_checked_chars(id)
    }

    /// The rules after the character check: `id` is 15 digits or 17 digits then a digit or X.
    fn from_checked_chars(id: String) -> Result<CitizenId, IdError> {
        let area = &id[..2];
        if !is_province_code(area) {
            return Err(IdError::AreaCode {
                found: area.to_owned(),
            });
        }
        let legacy = id.len() == 15;
        let (date, year) = if legacy {
            (&id[6..12], 1900 + number(&id[6..8]))
        } else {
            (&id[6..14], number(&id[6..10]))
        };
        let month = number(&date[date.len() - 4..date.len() - 2]);
        let day = number(&date[date.len() - 2..]);
        let birth = calendar_date(year, month, day)
            .filter(|_| year >= 1900)
            .ok_or_else(|| IdError::BirthDate {
                found: date.to_owned(),
            })?;
        if !legacy {
            let expected = check_char_of(id.as_bytes());
            let found = char::from(id.as_bytes()[17]);
            if expected != found {
                return Err(IdError::Checksum { expected, found });
            }
        }
        Ok(CitizenId { id, birth })
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// Whether this is the 15-digit form issued before 1999.
    pub fn is_legacy(&self) -> bool {
        self.id.len() == 15
    }

    /// The six-digit area code of the place of first registration (may be retired).
    pub fn area_code(&self) -> &str {
        &self.id[..6]
    }

    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// From the sequence number's last digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        let digit = if self.is_legacy() { 14 } else { 16 };
        // ASCII digits have the parity of the digit they write.
        match self.id.as_bytes().get(digit) {
            Some(b) if b % 2 == 1 => Sex::Male,
            _ => Sex::Female,
        }
    }

    /// The number with all but the first and last four characters hidden, for display to
    /// users who may not see full ID numbers.
    pub fn masked(&self) -> String {
        let len = self.id.len();
        format!(
            "{}{}{}",
            &self.id[..4],
            "*".repeat(len - 8),
            &self.id[len - 4..]
        )
    }

    /// The 18-character form: a legacy number gets the century "19" and a check character.
    pub fn to_18(&self) -> CitizenId {
        if !self.is_legacy() {
            return self.clone();
        }
        let mut id = String::with_capacity(18);
        id.push_str(&self.id[..6]);
        id.push_str("19");
        id.push_str(&self.id[6..]);
        id.push(check_char_of(id.as_bytes()));
        CitizenId {
            id,
            birth: self.birth,
        }
    }
}

fn calendar_date(year: u32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StudentNoKind {
    /// "G" + the student's citizen ID number.
    G,
    /// "J" + an ID-shaped number for students without a mainland citizen ID.
    J,
    /// "L" + a temporary number.
    L,
}

/// A 学籍号 (national student registration number), normalised to uppercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudentNo(String);

string_newtype!(StudentNo, 0);

impl StudentNo {
    /// Checks, in order: not empty; the prefix G, J or L; the length (19, or 9–25 for L);
    /// the characters; for G, the citizen ID rules (area, birth date, checksum).
    pub fn parse(input: &str) -> Result<StudentNo, IdError> {
        let kind = IdKind::StudentNo;
        let original = input.trim();
        let value = normalize_code(input);
        let (Some(prefix), Some(typed)) = (value.chars().next(), original.chars().next()) else {
            return Err(IdError::Empty { kind });
        };
        let (lengths, expected) = match prefix {
            'G' | 'J' => (19..=19, "19"),
            'L' => (9..=25, "9-25"),
            _ => return Err(IdError::Prefix { found: typed }),
        };
        let found = value.chars().count();
        if !lengths.contains(&found) {
            return Err(IdError::Length {
                kind,
                expected,
                found,
            });
        }
        check_chars(kind, original, &value, 1, |i| match (prefix, i) {
            ('L', _) => CharClass::Alphanumeric,
            (_, 18) => CharClass::DigitOrX,
            _ => CharClass::Digit,
        })?;
        if prefix == 'G' {
            CitizenId::from_checked_chars(value[1..].to_owned())?;
        }
        Ok(StudentNo(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> StudentNoKind {
        match self.0.as_bytes().first() {
            Some(b'G') => StudentNoKind::G,
            Some(b'J') => StudentNoKind::J,
            _ => StudentNoKind::L,
        }
    }

    /// The citizen ID number a G-number is made of.
    pub fn citizen_id(&self) -> Option<CitizenId> {
        match self.kind() {
            StudentNoKind::G => CitizenId::parse(&self.0[1..]).ok(),
            StudentNoKind::J | StudentNoKind::L => None,
        }
    }
}

/// The school type in the first two digits of a 学校标识码.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SchoolType {
    Kindergarten,
    Primary,
    JuniorSecondary,
    NineYear,
    CompleteSecondary,
    SeniorSecondary,
    TwelveYear,
    SecondaryVocational,
    RegularHigher,
    AdultHigher,
    SpecialEducation,
}

impl SchoolType {
    pub const ALL: [SchoolType; 11] = [
        SchoolType::Kindergarten,
        SchoolType::Primary,
        SchoolType::JuniorSecondary,
        SchoolType::NineYear,
        SchoolType::CompleteSecondary,
        SchoolType::SeniorSecondary,
        SchoolType::TwelveYear,
        SchoolType::SecondaryVocational,
        SchoolType::RegularHigher,
        SchoolType::AdultHigher,
        SchoolType::SpecialEducation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SchoolType::Kindergarten => "11",
            SchoolType::Primary => "21",
            SchoolType::JuniorSecondary => "31",
            SchoolType::NineYear => "32",
            SchoolType::CompleteSecondary => "33",
            SchoolType::SeniorSecondary => "34",
            SchoolType::TwelveYear => "35",
            SchoolType::SecondaryVocational => "36",
            SchoolType::RegularHigher => "41",
            SchoolType::AdultHigher => "42",
            SchoolType::SpecialEducation => "51",
        }
    }

    pub fn from_code(code: &str) -> Option<SchoolType> {
        SchoolType::ALL.into_iter().find(|t| t.code() == code)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SchoolType::Kindergarten, Lang::Zh) => "幼儿园",
            (SchoolType::Kindergarten, Lang::En) => "Kindergarten",
            (SchoolType::Primary, Lang::Zh) => "小学",
            (SchoolType::Primary, Lang::En) => "Primary school",
            (SchoolType::JuniorSecondary, Lang::Zh) => "初级中学",
            (SchoolType::JuniorSecondary, Lang::En) => "Junior secondary school",
            (SchoolType::NineYear, Lang::Zh) => "九年一贯制学校",
            (SchoolType::NineYear, Lang::En) => "Nine-year school",
            (SchoolType::CompleteSecondary, Lang::Zh) => "完全中学",
            (SchoolType::CompleteSecondary, Lang::En) => "Complete secondary school",
            (SchoolType::SeniorSecondary, Lang::Zh) => "高级中学",
            (SchoolType::SeniorSecondary, Lang::En) => "Senior secondary school",
            (SchoolType::TwelveYear, Lang::Zh) => "十二年一贯制学校",
            (SchoolType::TwelveYear, Lang::En) => "Twelve-year school",
            (SchoolType::SecondaryVocational, Lang::Zh) => "中等职业学校",
            (SchoolType::SecondaryVocational, Lang::En) => "Secondary vocational school",
            (SchoolType::RegularHigher, Lang::Zh) => "普通高等学校",
            (SchoolType::RegularHigher, Lang::En) => "Regular higher education institution",
            (SchoolType::AdultHigher, Lang::Zh) => "成人高等学校",
            (SchoolType::AdultHigher, Lang::En) => "Adult higher education institution",
            (SchoolType::SpecialEducation, Lang::Zh) => "特殊教育学校",
            (SchoolType::SpecialEducation, Lang::En) => "Special education school",
        }
    }
}

/// A 学校标识码: ten digits AABBCCCCCC, school type AA, province BB, then a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SchoolCode {
    code: String,
    // Derived from `code` and kept so that `school_type` cannot fail.
    school_type: SchoolType,
}

string_newtype!(SchoolCode, code);

impl SchoolCode {
    /// Checks, in order: not empty; 10 characters; digits; a known school type; a province.
    pub fn parse(input: &str) -> Result<SchoolCode, IdError> {
        let kind = IdKind::SchoolCode;
        let code = parse_digits(kind, input, |n| n == 10, "10")?;
        let school_type = SchoolType::from_code(&code[..2]).ok_or_else(|| IdError::SchoolType {
            found: code[..2].to_owned(),
        })?;
        if !is_province_code(&code[2..4]) {
            return Err(IdError::Province {
                kind,
                found: code[2..4].to_owned(),
            });
        }
        Ok(SchoolCode { code, school_type })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    pub fn school_type(&self) -> SchoolType {
        self.school_type
    }

    pub fn province_code(&self) -> &str {
        &self.code[2..4]
    }
}

/// The kind of teacher qualification, digit 10 of the certificate number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TeacherCertType {
    Kindergarten,
    Primary,
    JuniorSecondary,
    SeniorSecondary,
    SecondaryVocational,
    VocationalPracticeInstructor,
    HigherEducation,
}

impl TeacherCertType {
    pub fn digit(self) -> u8 {
        match self {
            TeacherCertType::Kindergarten => 1,
            TeacherCertType::Primary => 2,
            TeacherCertType::JuniorSecondary => 3,
            TeacherCertType::SeniorSecondary => 4,
            TeacherCertType::SecondaryVocational => 5,
            TeacherCertType::VocationalPracticeInstructor => 6,
            TeacherCertType::HigherEducation => 7,
        }
    }

    pub fn from_digit(digit: u8) -> Option<TeacherCertType> {
        match digit {
            1 => Some(TeacherCertType::Kindergarten),
            2 => Some(TeacherCertType::Primary),
            3 => Some(TeacherCertType::JuniorSecondary),
            4 => Some(TeacherCertType::SeniorSecondary),
            5 => Some(TeacherCertType::SecondaryVocational),
            6 => Some(TeacherCertType::VocationalPracticeInstructor),
            7 => Some(TeacherCertType::HigherEducation),
            _ => None,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (TeacherCertType::Kindergarten, Lang::Zh) => "幼儿园教师资格",
            (TeacherCertType::Kindergarten, Lang::En) => "Kindergarten teacher",
            (TeacherCertType::Primary, Lang::Zh) => "小学教师资格",
            (TeacherCertType::Primary, Lang::En) => "Primary school teacher",
            (TeacherCertType::JuniorSecondary, Lang::Zh) => "初级中学教师资格",
            (TeacherCertType::JuniorSecondary, Lang::En) => "Junior secondary school teacher",
            (TeacherCertType::SeniorSecondary, Lang::Zh) => "高级中学教师资格",
            (TeacherCertType::SeniorSecondary, Lang::En) => "Senior secondary school teacher",
            (TeacherCertType::SecondaryVocational, Lang::Zh) => "中等职业学校教师资格",
            (TeacherCertType::SecondaryVocational, Lang::En) => {
                "Secondary vocational school teacher"
            }
            (TeacherCertType::VocationalPracticeInstructor, Lang::Zh) => {
                "中等职业学校实习指导教师资格"
            }
            (TeacherCertType::VocationalPracticeInstructor, Lang::En) => {
                "Secondary vocational practice instructor"
            }
            (TeacherCertType::HigherEducation, Lang::Zh) => "高等学校教师资格",
            (TeacherCertType::HigherEducation, Lang::En) => "Higher education teacher",
        }
    }
}

/// A teacher qualification certificate number: year (4) + province (2) + certifying body (3)
/// + qualification type (1) + sex (1) + sequence (6). It has no check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TeacherCertNo {
    number: String,
    // Derived from `number` and kept so that `cert_type` cannot fail.
    cert_type: TeacherCertType,
}

string_newtype!(TeacherCertNo, number);

impl TeacherCertNo {
    /// Checks, in order: not empty; 17 characters; digits; a year in 1990–2100; a province;
    /// a qualification type 1–7.
    pub fn parse(input: &str) -> Result<TeacherCertNo, IdError> {
        let kind = IdKind::TeacherCertNo;
        let number = parse_digits(kind, input, |n| n == 17, "17")?;
        check_year(kind, &number[..4], 1990, 2100)?;
        if !is_province_code(&number[4..6]) {
            return Err(IdError::Province {
                kind,
                found: number[4..6].to_owned(),
            });
        }
        let type_digit = number.as_bytes()[9];
        let cert_type =
            TeacherCertType::from_digit(type_digit - b'0').ok_or(IdError::CertType {
                found: char::from(type_digit),
            })?;
        Ok(TeacherCertNo { number, cert_type })
    }

    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn year(&self) -> u16 {
        year_of(&self.number[..4])
    }

    pub fn province_code(&self) -> &str {
        &self.number[4..6]
    }

    pub fn cert_type(&self) -> TeacherCertType {
        self.cert_type
    }
}

/// Four checked digits as a year (at most 9999, so it fits).
fn year_of(digits: &str) -> u16 {
    digits.bytes().fold(0, |n: u16, b| {
        n.saturating_mul(10).saturating_add(u16::from(b - b'0'))
    })
}

fn check_year(kind: IdKind, digits: &str, min: u16, max: u16) -> Result<(), IdError> {
    let found = year_of(digits);
    if (min..=max).contains(&found) {
        Ok(())
    } else {
        Err(IdError::Year {
            kind,
            found,
            min,
            max,
        })
    }
}

/// Education levels in a diploma number: 01 博士研究生, 02 硕士研究生, 05 第二学士学位,
/// 06 本科, 07 专科.
const DIPLOMA_LEVELS: [&str; 5] = ["01", "02", "05", "06", "07"];

/// A diploma (毕业证书) number: institution code (5) + schooling form (1) + year (4) +
/// level (2) + sequence (5 or 6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiplomaNo(String);

string_newtype!(DiplomaNo, 0);

impl DiplomaNo {
    /// Checks, in order: not empty; 17 or 18 characters; digits; a year in 1950–2100; a
    /// known level code.
    pub fn parse(input: &str) -> Result<DiplomaNo, IdError> {
        let kind = IdKind::DiplomaNo;
        let number = parse_digits(kind, input, |n| n == 17 || n == 18, "17/18")?;
        check_year(kind, &number[6..10], 1950, 2100)?;
        if !DIPLOMA_LEVELS.contains(&&number[10..12]) {
            return Err(IdError::Level {
                found: number[10..12].to_owned(),
            });
        }
        Ok(DiplomaNo(number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn institution_code(&self) -> &str {
        &self.0[..5]
    }

    pub fn year(&self) -> u16 {
        year_of(&self.0[6..10])
    }

    pub fn level_code(&self) -> &str {
        &self.0[10..12]
    }
}

/// The 31 characters of GB 32100, in the order of their values 0–30.
const CREDIT_CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_CODE_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn credit_char_value(b: u8) -> u32 {
    CREDIT_CODE_CHARS.iter().position(|&c| c == b).unwrap_or(0) as u32
}

/// The GB 32100 check character (18th) for the first 17 characters, which the caller has
/// checked are in the code's character set.
fn credit_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(CREDIT_CODE_WEIGHTS)
        .map(|(&b, w)| credit_char_value(b) * w)
        .sum();
    char::from(CREDIT_CODE_CHARS[((31 - sum % 31) % 31) as usize])
}

/// The GB 11714 check character of an organisation code's first 8 characters (digits and
/// uppercase letters, A = 10 … Z = 35).
fn org_code_check_char(first8: &[u8]) -> char {
    let sum: u32 = first8
        .iter()
        .zip(ORG_CODE_WEIGHTS)
        .map(|(&b, w)| char::from(b).to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from(b'0' + n as u8),
    }
}

/// A unified social credit code (统一社会信用代码, GB 32100-2015) of an employer or other
/// organisation: registration authority (1) + organisation category (1) + division code of
/// the registering authority (6) + organisation code with its GB 11714 check character (9) +
/// the code's check character (1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

string_newtype!(CreditCode, 0);

impl CreditCode {
    /// Checks, in order: not empty; 18 characters; each in the GB 32100 set (so never I, O,
    /// S, V or Z); digits at 3–8 starting with a province code; the organisation code's check
    /// character (17th); the code's check character (18th).
    pub fn parse(input: &str) -> Result<CreditCode, IdError> {
        let kind = IdKind::CreditCode;
        let (original, code) = normalized(kind, input, |n| n == 18, "18")?;
        check_chars(kind, original, &code, 0, |i| {
            if (2..8).contains(&i) {
                CharClass::Digit
            } else {
                CharClass::CreditCode
            }
        })?;
        let bytes = code.as_bytes();
        if !is_province_code(&code[2..4]) {
            return Err(IdError::AreaCode {
                found: code[2..4].to_owned(),
            });
        }
        for (position, expected) in [
            (17, org_code_check_char(&bytes[8..16])),
            (18, credit_check_char(&bytes[..17])),
        ] {
            let found = char::from(bytes[position - 1]);
            if found != expected {
                return Err(IdError::CodeChecksum {
                    kind,
                    position,
                    expected,
                    found,
                });
            }
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The division code of the authority that registered the organisation.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

/// Completes the first 16 characters of a credit code (authority, category, division and
/// the first 8 of the organisation code) with both check characters, for test data and
/// synthetic employers; `None` unless they are in the code's character set.
pub fn complete_credit_code(first16: &str) -> Option<String> {
    let b = first16.as_bytes();
    if b.len() != 16 || !b.iter().all(|c| CREDIT_CODE_CHARS.contains(c)) {
        return None;
    }
    let mut code = first16.to_owned();
    code.push(org_code_check_char(&b[8..16]));
    let last = credit_check_char(code.as_bytes());
    code.push(last);
    Some(code)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::division::PROVINCE_CODES;

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", citizen_id_check_char(first17).unwrap())
    }

    /// 成都市武侯区, born 2008-03-15, sequence 123 (odd, so male).
    const WUHOU_2008: &str = "51010720080315123";

    fn ending_in_x() -> String {
        (0..1000)
            .map(|seq| format!("50010319900101{seq:03}"))
            .find(|first17| citizen_id_check_char(first17) == Some('X'))
            .map(|first17| first17 + "X")
            .unwrap()
    }

    fn err(input: &str) -> IdError {
        CitizenId::parse(input).unwrap_err()
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_code("  ５１０１ｘａ　"), "5101XA");
        assert_eq!(normalize_code("\u{3000}g 1２\u{3000}3 "), "G 12 3");
        assert_eq!(normalize_code("！～"), "!~");
        assert_eq!(normalize_code("张三𠀀"), "张三𠀀");
        assert_eq!(normalize_code(""), "");
    }

    #[test]
    fn check_char() {
        // The example in GB 11643-1999.
        assert_eq!(citizen_id_check_char("11010519491231002"), Some('X'));
        assert_eq!(citizen_id_check_char("1101051949123100"), None);
        assert_eq!(citizen_id_check_char("110105194912310021"), None);
        assert_eq!(citizen_id_check_char("1101051949123100a"), None);
        assert_eq!(
            citizen_id_check_char("１１０１０５１９４９１２３１００２"),
            None
        );
    }

    #[test]
    fn valid_citizen_ids() {
        let id = CitizenId::parse(&with_check(WUHOU_2008)).unwrap();
        assert!(!id.is_legacy());
        assert_eq!(id.area_code(), "510107");
        assert_eq!(
            id.birth_date(),
            Date::from_calendar_date(2008, Month::March, 15).unwrap()
        );
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.to_18(), id);

        let x = ending_in_x();
        let id = CitizenId::parse(&x).unwrap();
        assert_eq!(id.as_str(), x);
        let odd = x.as_bytes()[16] % 2 == 1;
        assert_eq!(id.sex(), if odd { Sex::Male } else { Sex::Female });
        assert_eq!(
            CitizenId::parse(&with_check("51010720080315124"))
                .unwrap()
                .sex(),
            Sex::Female
        );
        assert_eq!(
            CitizenId::parse("11010519491231002X").unwrap().area_code(),
            "110105"
        );
        // 双流县 became 双流区 (510116) in 2015; people keep the old code for life.
        assert!(CitizenId::parse(&with_check("51012219700101002")).is_ok());
    }

    #[test]
    fn citizen_id_input_is_normalised() {
        let x = ending_in_x();
        let id = CitizenId::parse(&x).unwrap();
        assert_eq!(CitizenId::parse(&x.to_lowercase()), Ok(id.clone()));
        assert_eq!(CitizenId::parse(&format!(" \t{x}\u{3000}")), Ok(id.clone()));
        let full_width: String = x
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
            .collect();
        assert_eq!(CitizenId::parse(&full_width), Ok(id.clone()));
        assert_eq!(String::from(id.clone()), x);
        assert_eq!(id.to_string(), x);
        assert_eq!(x.parse::<CitizenId>(), Ok(id.clone()));
        assert_eq!(CitizenId::try_from(x), Ok(id));
    }

    #[test]
    fn citizen_id_rules() {
        let kind = IdKind::CitizenId;
        assert_eq!(err(""), IdError::Empty { kind });
        assert_eq!(err(" \u{3000} "), IdError::Empty { kind });

        let length = err(WUHOU_2008);
        assert_eq!(
            length,
            IdError::Length {
                kind,
                expected: "18/15",
                found: 17
            }
        );
        assert_eq!(length.code(), "id.length");
        assert_eq!(
            length.to_string(),
            "身份证号应为 18 位（或旧版 15 位），实为 17 位"
        );

        let letter = err("5101a7200803151234");
        let expected = CharClass::Digit;
        assert_eq!(
            letter,
            IdError::Character {
                kind,
                position: 5,
                found: 'a',
                expected
            }
        );
        assert_eq!(letter.code(), "id.character");
        assert!(letter.message(Lang::Zh).contains("第 5 位字符“a”无效"));
        let x_inside = err("51010X200803151234");
        assert!(matches!(
            x_inside,
            IdError::Character {
                position: 6,
                found: 'X',
                ..
            }
        ));
        let x_in_legacy = err("51010720080315X");
        assert!(matches!(
            x_in_legacy,
            IdError::Character { position: 15, .. }
        ));

        let province = err(&with_check("99010720080315123"));
        assert_eq!(province, IdError::AreaCode { found: "99".into() });
        assert_eq!(province.code(), "id.area_code");

        for (first17, date) in [
            ("51010720080230123", "20080230"),
            ("51010720081301123", "20081301"),
            ("51010720080001123", "20080001"),
            ("51010718991231123", "18991231"),
        ] {
            let e = err(&with_check(first17));
            assert_eq!(e, IdError::BirthDate { found: date.into() }, "{first17}");
            assert_eq!(e.code(), "id.birth_date");
        }
        assert!(CitizenId::parse(&with_check("51010720080229123")).is_ok());

        let good = with_check(WUHOU_2008);
        let wrong = if good.ends_with('3') { "4" } else { "3" };
        let e = err(&format!("{WUHOU_2008}{wrong}"));
        let expected = good.chars().last().unwrap();
        assert_eq!(
            e,
            IdError::Checksum {
                expected,
                found: wrong.chars().next().unwrap()
            }
        );
        assert_eq!(e.code(), "id.checksum");
        let x = ending_in_x();
        let e = err(&format!("{}3", &x[..17]));
        assert_eq!(e.to_string(), "身份证号校验位错误：应为 X，实为 3");
        assert!(e.message(Lang::En).contains("expected X, found 3"));
    }

    #[test]
    fn legacy_citizen_ids() {
        let id = CitizenId::parse(" 510107800315123 ").unwrap();
        assert!(id.is_legacy());
        assert_eq!(id.as_str(), "510107800315123");
        assert_eq!(
            id.birth_date(),
            Date::from_calendar_date(1980, Month::March, 15).unwrap()
        );
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.masked(), "5101*******5123");
        let full = id.to_18();
        assert!(!full.is_legacy());
        assert_eq!(full.as_str(), with_check("51010719800315123"));
        assert_eq!(CitizenId::parse(full.as_str()), Ok(full.clone()));
        assert_eq!(full.birth_date(), id.birth_date());
        assert_eq!(full.sex(), id.sex());
        assert_eq!(
            err("510107800230123"),
            IdError::BirthDate {
                found: "800230".into()
            }
        );
    }

    #[test]
    fn masking() {
        let id = CitizenId::parse(&ending_in_x()).unwrap();
        let masked = id.masked();
        assert_eq!(masked.len(), 18);
        assert_eq!(&masked[..4], "5001");
        assert_eq!(&masked[4..14], "**********");
        assert_eq!(&masked[14..], &id.as_str()[14..]);
        assert!(masked.ends_with('X'));
    }

    #[test]
    fn sex() {
        for s in ["男", "M", "m", "male", "Male", "1", "１", " 男 "] {
            assert_eq!(Sex::parse(s), Some(Sex::Male), "{s}");
        }
        for s in ["女", "F", "f", "female", "FEMALE", "2"] {
            assert_eq!(Sex::parse(s), Some(Sex::Female), "{s}");
        }
        for s in ["", "0", "3", "x", "男性"] {
            assert_eq!(Sex::parse(s), None, "{s}");
        }
        assert_eq!(Sex::Male.label(Lang::Zh), "男");
        assert_eq!(Sex::Female.label(Lang::En), "Female");
    }

    #[test]
    fn student_numbers() {
        let kind = IdKind::StudentNo;
        let x = ending_in_x();
        let g = StudentNo::parse(&format!(" g{}", x.to_lowercase())).unwrap();
        assert_eq!(g.as_str(), format!("G{x}"));
        assert_eq!(g.kind(), StudentNoKind::G);
        assert_eq!(g.citizen_id(), CitizenId::parse(&x).ok());

        let j = StudentNo::parse("J81000019900101001x").unwrap();
        assert_eq!(j.as_str(), "J81000019900101001X");
        assert_eq!(j.kind(), StudentNoKind::J);
        assert_eq!(j.citizen_id(), None);

        let l = StudentNo::parse("l2024ab01").unwrap();
        assert_eq!(l.as_str(), "L2024AB01");
        assert_eq!(l.kind(), StudentNoKind::L);
        assert_eq!(l.citizen_id(), None);
        assert!(StudentNo::parse(&format!("L{}", "9".repeat(24))).is_ok());

        assert_eq!(StudentNo::parse(" "), Err(IdError::Empty { kind }));
        let prefix = StudentNo::parse("Q123").unwrap_err();
        assert_eq!(prefix, IdError::Prefix { found: 'Q' });
        assert_eq!(prefix.code(), "id.prefix");
        assert_eq!(
            StudentNo::parse("学123"),
            Err(IdError::Prefix { found: '学' })
        );
        assert_eq!(
            StudentNo::parse(&format!("G{}", &x[..17])),
            Err(IdError::Length {
                kind,
                expected: "19",
                found: 18
            })
        );
        assert_eq!(
            StudentNo::parse(&format!("G{}3", &x[..17])),
            Err(IdError::Checksum {
                expected: 'X',
                found: '3'
            })
        );
        assert!(matches!(
            StudentNo::parse(&format!("G99{}", &x[2..])),
            Err(IdError::AreaCode { .. })
        ));
        assert!(matches!(
            StudentNo::parse("J8100001990010100AX"),
            Err(IdError::Character {
                kind: IdKind::StudentNo,
                position: 18,
                found: 'A',
                ..
            })
        ));
        assert!(matches!(
            StudentNo::parse("J81000019900101001Y"),
            Err(IdError::Character {
                position: 19,
                expected: CharClass::DigitOrX,
                ..
            })
        ));
        assert_eq!(
            StudentNo::parse("L1234567"),
            Err(IdError::Length {
                kind,
                expected: "9-25",
                found: 8
            })
        );
        assert!(StudentNo::parse(&format!("L{}", "9".repeat(25))).is_err());
        assert!(matches!(
            StudentNo::parse("L2024-AB01"),
            Err(IdError::Character {
                position: 6,
                found: '-',
                ..
            })
        ));
        let message = StudentNo::parse("L1234567").unwrap_err().message(Lang::Zh);
        assert_eq!(message, "学籍号应为 9–25 位，实为 8 位");
    }

    #[test]
    fn school_codes() {
        let kind = IdKind::SchoolCode;
        let code = SchoolCode::parse("2151010001").unwrap();
        assert_eq!(code.school_type(), SchoolType::Primary);
        assert_eq!(code.province_code(), "51");
        assert_eq!(SchoolCode::parse("２１５１０１０００１"), Ok(code));
        let code = SchoolCode::parse("3650000123").unwrap();
        assert_eq!(code.school_type(), SchoolType::SecondaryVocational);
        assert_eq!(code.school_type().label(Lang::Zh), "中等职业学校");
        assert_eq!(code.province_code(), "50");

        assert_eq!(SchoolCode::parse(""), Err(IdError::Empty { kind }));
        assert_eq!(
            SchoolCode::parse("215101000"),
            Err(IdError::Length {
                kind,
                expected: "10",
                found: 9
            })
        );
        assert!(matches!(
            SchoolCode::parse("21510100O1"),
            Err(IdError::Character {
                position: 9,
                found: 'O',
                ..
            })
        ));
        let school_type = SchoolCode::parse("9951010001").unwrap_err();
        assert_eq!(school_type, IdError::SchoolType { found: "99".into() });
        assert_eq!(school_type.code(), "id.school_type");
        let province = SchoolCode::parse("2199010001").unwrap_err();
        assert_eq!(
            province,
            IdError::Province {
                kind,
                found: "99".into()
            }
        );
        assert_eq!(province.code(), "id.province");
    }

    #[test]
    fn school_types() {
        for t in SchoolType::ALL {
            assert_eq!(SchoolType::from_code(t.code()), Some(t));
            assert!(!t.label(Lang::Zh).is_empty() && !t.label(Lang::En).is_empty());
        }
        assert_eq!(SchoolType::from_code("32"), Some(SchoolType::NineYear));
        assert_eq!(
            SchoolType::from_code("51"),
            Some(SchoolType::SpecialEducation)
        );
        assert_eq!(SchoolType::from_code("12"), None);
    }

    #[test]
    fn teacher_certificate_numbers() {
        let kind = IdKind::TeacherCertNo;
        // 2021, Sichuan, body 010, primary school, sex digit 1, sequence 000123.
        let no = TeacherCertNo::parse("20215101021000123").unwrap();
        assert_eq!(no.year(), 2021);
        assert_eq!(no.province_code(), "51");
        assert_eq!(no.cert_type(), TeacherCertType::Primary);
        assert_eq!(no.cert_type().label(Lang::Zh), "小学教师资格");
        let no = TeacherCertNo::parse("19905000061000001").unwrap();
        assert_eq!(
            no.cert_type(),
            TeacherCertType::VocationalPracticeInstructor
        );

        assert_eq!(TeacherCertNo::parse("　"), Err(IdError::Empty { kind }));
        assert_eq!(
            TeacherCertNo::parse("2021510102100012"),
            Err(IdError::Length {
                kind,
                expected: "17",
                found: 16
            })
        );
        assert!(matches!(
            TeacherCertNo::parse("2021510102100012a"),
            Err(IdError::Character {
                position: 17,
                found: 'a',
                ..
            })
        ));
        let year = TeacherCertNo::parse("19895101021000123").unwrap_err();
        assert_eq!(
            year,
            IdError::Year {
                kind,
                found: 1989,
                min: 1990,
                max: 2100
            }
        );
        assert_eq!(year.code(), "id.year");
        assert_eq!(
            TeacherCertNo::parse("21015101021000123").unwrap_err(),
            IdError::Year {
                kind,
                found: 2101,
                min: 1990,
                max: 2100
            }
        );
        assert_eq!(
            TeacherCertNo::parse("20219901021000123"),
            Err(IdError::Province {
                kind,
                found: "99".into()
            })
        );
        for digit in ['0', '8', '9'] {
            let input = format!("202151010{digit}1000123");
            let e = TeacherCertNo::parse(&input).unwrap_err();
            assert_eq!(e, IdError::CertType { found: digit });
            assert_eq!(e.code(), "id.cert_type");
        }
    }

    #[test]
    fn teacher_certificate_types() {
        for digit in 1..=7 {
            let t = TeacherCertType::from_digit(digit).unwrap();
            assert_eq!(t.digit(), digit);
            assert!(t.label(Lang::Zh).ends_with("教师资格"));
            assert!(!t.label(Lang::En).is_empty());
        }
        assert_eq!(TeacherCertType::from_digit(0), None);
        assert_eq!(TeacherCertType::from_digit(8), None);
    }

    #[test]
    fn diploma_numbers() {
        let kind = IdKind::DiplomaNo;
        let no = DiplomaNo::parse("106101202006000123").unwrap();
        assert_eq!(no.institution_code(), "10610");
        assert_eq!(no.year(), 2020);
        assert_eq!(no.level_code(), "06");
        let no = DiplomaNo::parse(" 10611120230700001 ").unwrap();
        assert_eq!(no.as_str(), "10611120230700001");
        assert_eq!(no.level_code(), "07");

        assert_eq!(DiplomaNo::parse(""), Err(IdError::Empty { kind }));
        assert_eq!(
            DiplomaNo::parse("1061012020060001"),
            Err(IdError::Length {
                kind,
                expected: "17/18",
                found: 16
            })
        );
        assert_eq!(
            DiplomaNo::parse("1061012020060001")
                .unwrap_err()
                .message(Lang::Zh),
            "毕业证书编号应为 17 或 18 位，实为 16 位"
        );
        assert!(matches!(
            DiplomaNo::parse("10610120200600012Ⅹ"),
            Err(IdError::Character {
                position: 18,
                found: 'Ⅹ',
                ..
            })
        ));
        assert_eq!(
            DiplomaNo::parse("106101194906000123"),
            Err(IdError::Year {
                kind,
                found: 1949,
                min: 1950,
                max: 2100
            })
        );
        let level = DiplomaNo::parse("106101202003000123").unwrap_err();
        assert_eq!(level, IdError::Level { found: "03".into() });
        assert_eq!(level.code(), "id.level");
    }

    #[test]
    fn every_error_has_a_stable_code_and_two_messages() {
        let kind = IdKind::CitizenId;
        let errors = [
            (IdError::Empty { kind }, "id.empty"),
            (
                IdError::Length {
                    kind: IdKind::DiplomaNo,
                    expected: "17/18",
                    found: 3,
                },
                "id.length",
            ),
            (
                IdError::Character {
                    kind,
                    position: 1,
                    found: ' ',
                    expected: CharClass::Digit,
                },
                "id.character",
            ),
            (IdError::Prefix { found: '\u{200B}' }, "id.prefix"),
            (IdError::AreaCode { found: "99".into() }, "id.area_code"),
            (
                IdError::BirthDate {
                    found: "20080230".into(),
                },
                "id.birth_date",
            ),
            (
                IdError::Checksum {
                    expected: 'X',
                    found: '1',
                },
                "id.checksum",
            ),
            (
                IdError::UnknownDivision {
                    code: "510199".into(),
                },
                "division.unknown",
            ),
            (IdError::SchoolType { found: "99".into() }, "id.school_type"),
            (
                IdError::Province {
                    kind,
                    found: "99".into(),
                },
                "id.province",
            ),
            (IdError::CertType { found: '8' }, "id.cert_type"),
            (
                IdError::Year {
                    kind,
                    found: 1,
                    min: 1990,
                    max: 2100,
                },
                "id.year",
            ),
            (IdError::Level { found: "03".into() }, "id.level"),
        ];
        for (error, code) in errors {
            assert_eq!(error.code(), code);
            let (zh, en) = (error.message(Lang::Zh), error.message(Lang::En));
            assert_eq!(error.to_string(), zh);
            assert!(
                zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{zh}"
            );
            assert!(
                en.is_ascii() || en.contains('“') || en.contains('–'),
                "{en}"
            );
            assert_ne!(zh, en);
        }
        let blank = IdError::Character {
            kind,
            position: 1,
            found: ' ',
            expected: CharClass::Digit,
        };
        assert_eq!(
            blank.to_string(),
            "身份证号第 1 位字符（空白）无效，应为数字"
        );
        assert!(
            IdError::Prefix { found: '\u{200B}' }
                .to_string()
                .contains("U+200B")
        );
    }

    /// The first 17 characters of a citizen ID number with a province prefix and a real
    /// birth date from 1900 to 2099.
    fn first17() -> impl Strategy<Value = String> {
        first17_born(1900, 2099)
    }

    fn first17_born(first_year: i32, last_year: i32) -> impl Strategy<Value = String> {
        let first = Date::from_calendar_date(first_year, Month::January, 1)
            .unwrap()
            .to_julian_day();
        let last = Date::from_calendar_date(last_year, Month::December, 31)
            .unwrap()
            .to_julian_day();
        (
            select(&PROVINCE_CODES[..]),
            0..10_000u32,
            first..=last,
            0..1000u32,
        )
            .prop_map(|(province, county, day, seq)| {
                let date = Date::from_julian_day(day).unwrap();
                let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
                format!("{province}{county:04}{y:04}{m:02}{d:02}{seq:03}")
            })
    }

    /// Any Unicode, weighted towards the characters identifiers are made of.
    fn text() -> impl Strategy<Value = String> {
        let interesting = select(
            &[
                '0', '5', '9', 'X', 'x', 'G', 'j', 'L', '１', 'Ｘ', '　', ' ',
            ][..],
        );
        proptest::collection::vec(prop_oneof![any::<char>(), interesting], 0..30)
            .prop_map(|chars| chars.into_iter().collect())
    }

    /// Decorates a valid identifier the way users type it: lowercase, full-width, padded.
    fn typed(value: String) -> impl Strategy<Value = String> {
        let n = value.chars().count();
        (
            proptest::collection::vec(0..3u8, n),
            "[ \u{3000}\t]{0,2}",
            "[ \u{3000}]{0,2}",
        )
            .prop_map(move |(styles, before, after)| {
                let body: String = value
                    .chars()
                    .zip(styles)
                    .map(|(c, style)| match style {
                        1 => c.to_ascii_lowercase(),
                        2 => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
                        _ => c,
                    })
                    .collect();
                format!("{before}{body}{after}")
            })
    }

    fn round_trips<T, E>(
        parse: impl Fn(&str) -> Result<T, E>,
        input: &str,
    ) -> Result<(), TestCaseError>
    where
        T: fmt::Display + PartialEq + fmt::Debug,
        E: PartialEq + fmt::Debug,
    {
        if let Ok(value) = parse(input) {
            let again = parse(&value.to_string());
            prop_assert_eq!(again, Ok(value));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn valid_first17_with_check_char_parses(first17 in first17()) {
            let id = CitizenId::parse(&with_check(&first17)).unwrap();
            prop_assert_eq!(&id.as_str()[..17], first17.as_str());
            prop_assert_eq!(id.birth_date().year(), first17[6..10].parse::<i32>().unwrap());
        }

        #[test]
        fn any_single_character_change_is_detected(
            first17 in first17(),
            position in 0..18usize,
            shift in 1..11usize,
        ) {
            // Shifting within the 11 possible characters always picks a different one.
            const ALPHABET: &[u8; 11] = b"0123456789X";
            let mut changed = with_check(&first17).into_bytes();
            let old = ALPHABET.iter().position(|&c| c == changed[position]).unwrap();
            changed[position] = ALPHABET[(old + shift) % 11];
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(CitizenId::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn typed_ids_parse_to_the_canonical_form(
            (canonical, input) in first17()
                .prop_map(|first17| with_check(&first17))
                .prop_flat_map(|id| (Just(id.clone()), typed(id))),
        ) {
            prop_assert_eq!(CitizenId::parse(&input).map(String::from), Ok(canonical.clone()));
            let student_no = StudentNo::parse(&format!("g{}", input.trim()));
            prop_assert_eq!(student_no.map(String::from), Ok(format!("G{canonical}")));
        }

        #[test]
        fn legacy_ids_convert_to_valid_18_character_ids(first17 in first17_born(1900, 1999)) {
            let legacy = format!("{}{}", &first17[..6], &first17[8..]);
            let id = CitizenId::parse(&legacy).unwrap();
            let full = id.to_18();
            prop_assert_eq!(String::from(full.clone()), with_check(&first17));
            prop_assert_eq!(CitizenId::parse(full.as_str()), Ok(full.clone()));
        }

        #[test]
        fn parsers_never_panic_and_round_trip(input in text()) {
            round_trips(CitizenId::parse, &input)?;
            round_trips(StudentNo::parse, &input)?;
            round_trips(SchoolCode::parse, &input)?;
            round_trips(TeacherCertNo::parse, &input)?;
            round_trips(DiplomaNo::parse, &input)?;
            round_trips(crate::division::DivisionCode::parse, &input)?;
            let _ = Sex::parse(&input);
            let _ = citizen_id_check_char(&input);
            let normal = normalize_code(&input);
            prop_assert_eq!(normalize_code(&normal), normal);
            let errors = [
                CitizenId::parse(&input).err(),
                StudentNo::parse(&input).err(),
                TeacherCertNo::parse(&input).err(),
            ];
            for e in errors.into_iter().flatten() {
                prop_assert!(!e.message(Lang::Zh).is_empty() && !e.message(Lang::En).is_empty());
            }
        }

        #[test]
        fn shaped_inputs_round_trip(
            digits in "[0-9０-９xX]{8,20}",
            prefix in "[GJLgjl ]?",
        ) {
            let input = format!("{prefix}{digits}");
            round_trips(CitizenId::parse, &input)?;
            round_trips(StudentNo::parse, &input)?;
            round_trips(SchoolCode::parse, &input)?;
            round_trips(TeacherCertNo::parse, &input)?;
            round_trips(DiplomaNo::parse, &input)?;
        }

        #[test]
        fn temporary_student_numbers(body in "[a-zA-Z0-9]{8,24}") {
            let no = StudentNo::parse(&format!("L{body}")).unwrap();
            prop_assert_eq!(no.as_str(), format!("L{}", body.to_ascii_uppercase()));
            prop_assert_eq!(no.kind(), StudentNoKind::L);
        }
    }

    #[test]
    fn credit_codes() {
        let ok = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(ok.division(), "350100");
        // Full-width input and lowercase are normalised.
        assert_eq!(
            CreditCode::parse(" ９１３５０１００m０００１００y４３ ").unwrap(),
            ok
        );
        assert_eq!(
            complete_credit_code("91350100M000100Y").as_deref(),
            Some("91350100M000100Y43")
        );
        assert_eq!(complete_credit_code("91350100M000100I"), None);
        let e = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(
            e,
            IdError::CodeChecksum {
                kind: IdKind::CreditCode,
                position: 18,
                expected: '3',
                found: '4'
            }
        );
        assert_eq!(e.code(), "id.checksum");
        assert_eq!(
            e.to_string(),
            "统一社会信用代码第 18 位校验码错误：应为 3，实为 4"
        );
        // The organisation code's own check character is checked before the code's.
        assert!(matches!(
            CreditCode::parse("91350100M000100Y53"),
            Err(IdError::CodeChecksum { position: 17, .. })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100I43"),
            Err(IdError::Character {
                position: 16,
                found: 'I',
                ..
            })
        ));
        assert!(matches!(
            CreditCode::parse("9135A100M000100Y43"),
            Err(IdError::Character {
                position: 5,
                expected: CharClass::Digit,
                ..
            })
        ));
        assert!(matches!(
            CreditCode::parse("91990100M000100Y43"),
            Err(IdError::AreaCode { .. })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100Y4"),
            Err(IdError::Length { found: 17, .. })
        ));
        assert!(matches!(
            CreditCode::parse("  "),
            Err(IdError::Empty { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn credit_code_never_panics(s in "\\PC{0,24}") {
            let _ = CreditCode::parse(&s);
        }

        #[test]
        fn a_changed_character_is_caught(pos in 0usize..18, c in 0usize..31) {
            let good = b"91350100M000100Y43";
            let mut bad = *good;
            bad[pos] = CREDIT_CODE_CHARS[c];
            let bad = String::from_utf8(bad.to_vec()).unwrap();
            proptest::prop_assume!(bad.as_bytes() != good);
            proptest::prop_assert!(CreditCode::parse(&bad).is_err());
        }
    }
}
