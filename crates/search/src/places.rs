//! Place names derived from a county code, for the `place` text field.
//!
//! Names come from the kernel's GB/T 2260 table; the aliases below are the common
//! nicknames people type in a search box. They are applied at index time (every 成都 job
//! carries 蓉城), so the query side needs no rewriting; changing them needs a rebuild, hence
//! the schema version.

use kernel::division::{self, Division, DivisionLevel};

/// Nicknames by division-code prefix.
const ALIASES: &[(&str, &[&str])] = &[
    ("50", &["山城", "渝", "雾都", "巴渝"]),
    ("51", &["川", "蜀", "巴蜀", "天府"]),
    ("5101", &["蓉城", "蓉", "锦官城", "天府之国"]),
    ("5103", &["盐都", "灯城"]),
    ("5104", &["花城"]),
    ("5105", &["酒城"]),
    ("5107", &["科技城"]),
    ("5111", &["嘉州"]),
    ("5113", &["果城"]),
    ("5115", &["酒都"]),
    ("5117", &["巴山"]),
];

/// County, prefecture and province names with their short forms, and the aliases of the
/// code's prefixes, separated by spaces (the analyzer splits them further).
pub(crate) fn place_text(code: &str) -> String {
    let mut out = String::new();
    let mut push = |s: &str| {
        if !s.is_empty() {
            out.push_str(s);
            out.push(' ');
        }
    };
    let mut division = division::lookup(code);
    while let Some(d) = division {
        if !is_placeholder(d) {
            push(&d.name);
            push(short_name(d));
        }
        division = d.parent.as_deref().and_then(division::lookup);
    }
    if division::lookup(code).is_none() {
        // Not in the table: at least the province.
        match code.get(..2) {
            Some("50") => push("重庆市"),
            Some("51") => push("四川省"),
            _ => {}
        }
    }
    for (prefix, aliases) in ALIASES {
        if code.starts_with(prefix) {
            for alias in *aliases {
                push(alias);
            }
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Chongqing's 市辖区 and 县 rows are not names anyone searches for.
fn is_placeholder(d: &Division) -> bool {
    d.level == DivisionLevel::Prefecture && (d.name == "市辖区" || d.name == "县")
}

/// "成都市" → "成都", "武侯区" → "武侯", "凉山彝族自治州" → "凉山", "石柱土家族自治县" →
/// "石柱"; names of two characters stay whole ("渠县", "忠县").
fn short_name(d: &Division) -> &str {
    let name = d.name.as_str();
    let cut = ["藏族", "彝族", "羌族", "土家族", "苗族", "回族"]
        .iter()
        .filter_map(|m| name.find(m))
        .min();
    if let Some(cut) = cut.filter(|&c| c >= 2 * 3) {
        return &name[..cut];
    }
    let stripped = name
        .strip_suffix('市')
        .or_else(|| name.strip_suffix('区'))
        .or_else(|| name.strip_suffix('县'))
        .or_else(|| name.strip_suffix('省'))
        .unwrap_or(name);
    if stripped.chars().count() >= 2 {
        stripped
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        let wuhou = place_text("510107");
        for word in [
            "武侯区",
            "武侯",
            "成都市",
            "成都",
            "四川省",
            "四川",
            "蓉城",
            "蜀",
        ] {
            assert!(wuhou.split(' ').any(|w| w == word), "{word} in {wuhou}");
        }
        let yubei = place_text("500112");
        for word in ["渝北区", "渝北", "重庆市", "重庆", "山城", "渝"] {
            assert!(yubei.split(' ').any(|w| w == word), "{word} in {yubei}");
        }
        assert!(!yubei.contains("市辖区"));
        let shizhu = place_text("500240");
        assert!(shizhu.split(' ').any(|w| w == "石柱"), "{shizhu}");
        let xichang = place_text("513401");
        assert!(xichang.split(' ').any(|w| w == "凉山"), "{xichang}");
        assert!(xichang.split(' ').any(|w| w == "西昌"), "{xichang}");
        assert_eq!(place_text("519999"), "四川省 川 蜀 巴蜀 天府");
    }
}
