//! GB/T 2260 administrative divisions of Chongqing (50) and Sichuan (51).
//!
//! The table is versioned reference data compiled into the binary, so every process (and the
//! offline verifier) agrees on the same codes without reading files at run time.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::ids::{IdError, IdKind, parse_digits};

/// Identifies the reference data, so stored records can say which table they were checked
/// against. Change it whenever the CSV file changes.
pub const REFERENCE: &str = "GB/T 2260 川渝 divisions-cq-sc.csv";

const DATA: &str = include_str!("../../../reference/divisions-cq-sc.csv");

/// National GB/T 2260 province-level codes. ID numbers from anywhere in China are valid, so
/// this list is not limited to the two provinces in the table.
pub(crate) const PROVINCE_CODES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DivisionLevel {
    Province,
    Prefecture,
    County,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: DivisionLevel,
    pub parent: Option<String>,
}

impl Division {
    /// The code prefix shared by this division and everything under it; scopes compare
    /// division codes against it with `starts_with`.
    pub fn prefix(&self) -> &str {
        let len = match self.level {
            DivisionLevel::Province => 2,
            DivisionLevel::Prefecture => 4,
            DivisionLevel::County => 6,
        };
        self.code.get(..len).unwrap_or(&self.code)
    }

    /// The province this division belongs to.
    ///
    /// # Panics
    ///
    /// Only if `self` was built by hand with a code outside the reference table; every
    /// division returned by this module has a province (checked when the table is loaded).
    pub fn province(&self) -> &'static Division {
        self.code
            .get(..2)
            .and_then(|two| lookup(&format!("{two}0000")))
            .expect("every division in the reference table belongs to a province")
    }

    /// The name as written on documents, e.g. "四川省成都市武侯区" or "重庆市渝中区".
    pub fn full_name(&self) -> String {
        let mut names = vec![self.name.as_str()];
        let mut parent = self.parent.as_deref().and_then(lookup);
        while let Some(division) = parent {
            if !division.is_placeholder() {
                names.push(&division.name);
            }
            parent = division.parent.as_deref().and_then(lookup);
        }
        names.reverse();
        names.concat()
    }

    /// Chongqing's districts and counties sit under the placeholder prefecture rows 市辖区 and
    /// 县, which never appear in a written address.
    fn is_placeholder(&self) -> bool {
        self.level == DivisionLevel::Prefecture && (self.name == "市辖区" || self.name == "县")
    }
}

struct Table {
    rows: Vec<Division>,
    by_code: HashMap<String, usize>,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    level: DivisionLevel,
    parent_code: Option<String>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    // The data is compiled in and checked by the tests, so a failure here is a build defect,
    // not something an input can cause.
    TABLE.get_or_init(|| load(DATA).expect("the embedded division table is well-formed"))
}

/// Parses the CSV and checks the invariants the accessors rely on: six-digit unique codes,
/// parents that exist one level up, and provinces for every row.
fn load(data: &str) -> Result<Table, String> {
    let mut rows = Vec::new();
    for record in csv::Reader::from_reader(data.as_bytes()).deserialize::<Row>() {
        let row = record.map_err(|e| e.to_string())?;
        rows.push(Division {
            code: row.code,
            name: row.name,
            level: row.level,
            parent: row.parent_code.filter(|p| !p.is_empty()),
        });
    }
    let mut by_code = HashMap::with_capacity(rows.len());
    for (i, division) in rows.iter().enumerate() {
        if division.code.len() != 6 || !division.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("malformed code {:?}", division.code));
        }
        if by_code.insert(division.code.clone(), i).is_some() {
            return Err(format!("duplicate code {}", division.code));
        }
    }
    for division in &rows {
        let parent_level = division
            .parent
            .as_ref()
            .and_then(|p| by_code.get(p))
            .and_then(|&i| rows.get(i))
            .map(|p| p.level);
        let expected = match division.level {
            DivisionLevel::Province => None,
            DivisionLevel::Prefecture => Some(DivisionLevel::Province),
            DivisionLevel::County => Some(DivisionLevel::Prefecture),
        };
        if parent_level != expected {
            return Err(format!("{} has a wrong or missing parent", division.code));
        }
        let province = format!("{}0000", division.prefix().get(..2).unwrap_or_default());
        if !by_code.contains_key(&province) {
            return Err(format!("{} has no province row", division.code));
        }
    }
    Ok(Table { rows, by_code })
}

/// Every division, in file order (provinces, then prefectures, then counties).
pub fn all() -> &'static [Division] {
    &table().rows
}

/// The division with exactly this code (no normalisation; see [`DivisionCode::parse`]).
pub fn lookup(code: &str) -> Option<&'static Division> {
    let table = table();
    table.by_code.get(code).and_then(|&i| table.rows.get(i))
}

/// The divisions whose parent is `code`, in file order.
pub fn children(code: &str) -> impl Iterator<Item = &'static Division> {
    all()
        .iter()
        .filter(move |d| d.parent.as_deref() == Some(code))
}

/// County-level divisions (districts, counties, county-level cities), in file order.
pub fn counties() -> impl Iterator<Item = &'static Division> {
    all().iter().filter(|d| d.level == DivisionLevel::County)
}

/// Whether two characters are a national GB/T 2260 province code (used to check ID numbers
/// and codes issued anywhere in China).
pub fn is_province_code(two_digits: &str) -> bool {
    PROVINCE_CODES.contains(&two_digits)
}

/// A division code known to the reference table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(&'static Division);

impl DivisionCode {
    /// Normalises (trim, full-width to ASCII) and accepts a six-digit code in the table.
    pub fn parse(input: &str) -> Result<DivisionCode, IdError> {
        let code = parse_digits(IdKind::DivisionCode, input, |n| n == 6, "6")?;
        lookup(&code)
            .map(DivisionCode)
            .ok_or(IdError::UnknownDivision { code })
    }

    pub fn as_str(&self) -> &str {
        &self.0.code
    }

    pub fn division(&self) -> &'static Division {
        self.0
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = IdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&value)
    }
}

impl FromStr for DivisionCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DivisionCode::parse(s)
    }
}

impl From<DivisionCode> for String {
    fn from(value: DivisionCode) -> Self {
        value.0.code.clone()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{Lang, Localized};

    fn count(level: DivisionLevel) -> usize {
        all().iter().filter(|d| d.level == level).count()
    }

    #[test]
    fn table_has_the_documented_shape() {
        assert_eq!(all().len(), 246);
        assert_eq!(count(DivisionLevel::Province), 2);
        assert_eq!(count(DivisionLevel::Prefecture), 23);
        assert_eq!(count(DivisionLevel::County), 221);
        assert_eq!(counties().count(), 221);
        assert!(counties().all(|d| d.level == DivisionLevel::County));
    }

    #[test]
    fn every_parent_exists_one_level_up() {
        for d in all() {
            match d.level {
                DivisionLevel::Province => assert_eq!(d.parent, None, "{}", d.code),
                level => {
                    let parent = d.parent.as_deref().and_then(lookup);
                    let parent = parent.unwrap_or_else(|| panic!("{} has no parent", d.code));
                    assert!(parent.level < level, "{}", d.code);
                    assert!(d.code.starts_with(parent.prefix()), "{}", d.code);
                }
            }
            assert_eq!(d.province().level, DivisionLevel::Province);
        }
    }

    #[test]
    fn prefixes() {
        let prefix = |code| lookup(code).map(Division::prefix);
        assert_eq!(prefix("510000"), Some("51"));
        assert_eq!(prefix("500000"), Some("50"));
        assert_eq!(prefix("510100"), Some("5101"));
        assert_eq!(prefix("500100"), Some("5001"));
        assert_eq!(prefix("500200"), Some("5002"));
        assert_eq!(prefix("510104"), Some("510104"));
    }

    #[test]
    fn full_names() {
        let name = |code| lookup(code).map(Division::full_name);
        assert_eq!(name("510107").as_deref(), Some("四川省成都市武侯区"));
        assert_eq!(name("500103").as_deref(), Some("重庆市渝中区"));
        assert_eq!(name("500229").as_deref(), Some("重庆市城口县"));
        assert_eq!(name("510000").as_deref(), Some("四川省"));
        assert_eq!(name("510100").as_deref(), Some("四川省成都市"));
    }

    #[test]
    fn provinces_and_children() {
        assert_eq!(
            lookup("500103").map(|d| d.province().code.as_str()),
            Some("500000")
        );
        assert_eq!(
            lookup("513401").map(|d| d.province().name.as_str()),
            Some("四川省")
        );
        let chongqing: Vec<_> = children("500000").map(|d| d.code.as_str()).collect();
        assert_eq!(chongqing, ["500100", "500200"]);
        assert_eq!(children("510000").count(), 21);
        assert!(children("510100").all(|d| d.code.starts_with("5101")));
        assert_eq!(children("999999").count(), 0);
    }

    #[test]
    fn province_codes() {
        for code in [
            "11", "15", "23", "37", "46", "50", "51", "54", "65", "71", "81", "82",
        ] {
            assert!(is_province_code(code), "{code}");
        }
        for code in [
            "", "1", "10", "16", "24", "38", "47", "55", "66", "72", "83", "99", "510",
        ] {
            assert!(!is_province_code(code), "{code}");
        }
    }

    #[test]
    fn division_code_parsing() {
        let code = DivisionCode::parse(" 510107 ").unwrap();
        assert_eq!(code.as_str(), "510107");
        assert_eq!(code.division().name, "武侯区");
        assert_eq!(code.to_string(), "510107");
        assert_eq!(DivisionCode::parse("５１０１０７"), Ok(code.clone()));
        assert_eq!(String::from(code.clone()), "510107");
        assert_eq!(
            DivisionCode::try_from("510107".to_owned()),
            Ok(code.clone())
        );
        assert_eq!("510107".parse::<DivisionCode>(), Ok(code));

        let unknown = DivisionCode::parse("510199").unwrap_err();
        assert_eq!(
            unknown,
            IdError::UnknownDivision {
                code: "510199".into()
            }
        );
        assert_eq!(unknown.code(), "division.unknown");
        assert!(unknown.message(Lang::Zh).contains("510199"));
        assert!(unknown.message(Lang::En).contains("510199"));

        let kind = IdKind::DivisionCode;
        assert_eq!(DivisionCode::parse("  "), Err(IdError::Empty { kind }));
        assert!(matches!(
            DivisionCode::parse("5101"),
            Err(IdError::Length { found: 4, .. })
        ));
        assert!(matches!(
            DivisionCode::parse("51010a"),
            Err(IdError::Character {
                position: 6,
                found: 'a',
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn division_code_parse_never_panics_and_round_trips(s in any::<String>()) {
            if let Ok(code) = DivisionCode::parse(&s) {
                prop_assert_eq!(DivisionCode::parse(&code.to_string()), Ok(code));
            }
        }

        #[test]
        fn every_table_code_parses(i in 0..246usize) {
            let division = &all()[i];
            let code = DivisionCode::parse(&division.code).unwrap();
            prop_assert_eq!(code.division(), division);
        }
    }
}
