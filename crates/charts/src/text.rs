//! Text helpers: width estimation for CJK/Latin labels, wrapping, number formatting, escaping.
//!
//! The SVG is laid out here but its text is rendered by the browser, so we have no font metrics.
//! The estimate is deliberately conservative: CJK (and other full-width) characters are exactly
//! 1 em wide in every CJK font; Latin letters and digits average well under 0.62 em in sans fonts.

/// Estimated rendered width in pixels of `s` at `px` font size.
pub(crate) fn text_width(s: &str, px: f64) -> f64 {
    s.chars().map(char_em).sum::<f64>() * px
}

fn char_em(c: char) -> f64 {
    if is_wide(c) {
        1.0
    } else if c == ' ' {
        0.3
    } else if c.is_ascii() {
        0.62
    } else {
        // Other scripts and symbols: assume wide to stay on the safe side.
        1.0
    }
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Make user text safe for XML 1.0: control characters (which cannot appear in XML even when
/// escaped) become spaces, non-characters are dropped. `<>&"'` are escaped by plotters' SVG
/// backend (and by [`escape`] for the parts we write ourselves).
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// XML-escape text for element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Greedy wrap into at most `max_lines` lines no wider than `max_w` pixels; CJK text may break
/// anywhere, Latin words break at spaces where possible. The last line gets an ellipsis when the
/// text did not fit. Always returns at least one (possibly empty) line.
pub(crate) fn wrap(s: &str, px: f64, max_w: f64, max_lines: usize) -> Vec<String> {
    let s = clean(s);
    let max_lines = max_lines.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        let candidate_w = text_width(&cur, px) + char_em(c) * px;
        if candidate_w > max_w && !cur.is_empty() {
            if lines.len() + 1 == max_lines {
                lines.push(ellipsize(&cur, px, max_w));
                return lines;
            }
            // Prefer breaking at the last space of a Latin run.
            let mut next = String::new();
            if !is_wide(c)
                && c != ' '
                && let Some(pos) = cur.rfind(' ')
            {
                let tail = cur[pos + 1..].to_string();
                if !tail.is_empty() && tail.chars().all(|t| !is_wide(t)) {
                    cur.truncate(pos);
                    next = tail;
                }
            }
            lines.push(cur.trim_end().to_string());
            cur = next;
            if c == ' ' {
                continue;
            }
        }
        cur.push(c);
    }
    lines.push(cur);
    lines
}

fn ellipsize(line: &str, px: f64, max_w: f64) -> String {
    let mut out: String = line.trim_end().to_string();
    while !out.is_empty() && text_width(&out, px) + px > max_w {
        out.pop();
    }
    out.push('…');
    out
}

/// Format a number for display: thousands separators, at most a couple of decimals, scientific
/// notation for absurd magnitudes, an em dash for NaN/infinity.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if !(0.01..1e15).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = if v.fract() == 0.0 || a >= 1000.0 {
        0
    } else if a >= 1.0 {
        1
    } else {
        2
    };
    let s = format!("{a:.decimals$}");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (s.as_str(), ""),
    };
    let mut grouped = String::new();
    for (i, d) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(fmt_num(93.456), "93.5");
        assert_eq!(fmt_num(100.0), "100");
        assert_eq!(fmt_num(12345.0), "12,345");
        assert_eq!(fmt_num(1234567.8), "1,234,568");
        assert_eq!(fmt_num(-5.0), "-5");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(f64::NAN), "—");
        assert_eq!(fmt_num(1e300), "1.00e300");
        assert_eq!(fmt_num(-0.001), "-1.00e-3");
    }

    #[test]
    fn wraps_and_ellipsizes() {
        let s = "重庆".repeat(20);
        let lines = wrap(&s, 10.0, 100.0, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].chars().count(), 10);
        assert!(lines[1].ends_with('…'));
        assert!(lines.iter().all(|l| text_width(l, 10.0) <= 100.0));
        assert_eq!(wrap("", 10.0, 100.0, 2), vec![String::new()]);
        assert_eq!(
            wrap("Sichuan University", 10.0, 100.0, 2),
            vec!["Sichuan", "University"]
        );
    }

    #[test]
    fn cleans_control_characters() {
        assert_eq!(clean("a\u{0}b\nc\u{FFFF}"), "a b c");
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&apos;");
    }
}
