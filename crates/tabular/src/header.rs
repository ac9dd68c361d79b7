//! Finding the header row among the first rows of a file, and matching its cells to the
//! caller's columns.

use crate::{ColumnSpec, TabularError, trim_cell};

/// The header row as found in the file.
pub(crate) struct Header {
    pub row: u64,
    /// For each spec, the 0-based column of the file that holds it.
    pub positions: Vec<Option<usize>>,
    /// Header cells that matched no spec, as written.
    pub extra: Vec<String>,
}

/// What one candidate row says.
pub(crate) enum Verdict {
    Header(Header),
    /// Not the header; the required columns it lacks.
    Missing(Vec<&'static str>),
}

pub(crate) struct Matcher {
    columns: &'static [ColumnSpec],
    /// Normalised name or alias → index of its spec.
    keys: Vec<(String, usize)>,
}

impl Matcher {
    pub fn new(columns: &'static [ColumnSpec]) -> Matcher {
        let keys = columns
            .iter()
            .enumerate()
            .flat_map(|(i, spec)| {
                std::iter::once(spec.name)
                    .chain(spec.aliases.iter().copied())
                    .map(move |name| (normalize(name), i))
            })
            .collect();
        Matcher { columns, keys }
    }

    fn spec_of(&self, cell: &str) -> Option<usize> {
        let key = normalize(cell);
        if key.is_empty() {
            return None;
        }
        self.keys.iter().find(|(k, _)| *k == key).map(|&(_, i)| i)
    }

    /// Judges one non-blank row given as (column, text) pairs.
    pub fn check<'a>(
        &self,
        row: u64,
        cells: impl Iterator<Item = (usize, &'a str)>,
    ) -> Result<Verdict, TabularError> {
        let mut positions = vec![None; self.columns.len()];
        let mut extra = Vec::new();
        let mut duplicate = None;
        for (col, text) in cells {
            match self.spec_of(text) {
                Some(i) if positions[i].is_some() => {
                    duplicate.get_or_insert(i);
                }
                Some(i) => positions[i] = Some(col),
                None => {
                    let text = trim_cell(text);
                    if !text.is_empty() {
                        extra.push(text.to_string());
                    }
                }
            }
        }
        let missing: Vec<&'static str> = self
            .columns
            .iter()
            .zip(&positions)
            .filter(|(spec, pos)| spec.required && pos.is_none())
            .map(|(spec, _)| spec.name)
            .collect();
        // A row that matches nothing is not a header, even when no column is required.
        if !missing.is_empty() || positions.iter().all(Option::is_none) {
            return Ok(Verdict::Missing(missing));
        }
        if let Some(i) = duplicate {
            return Err(TabularError::DuplicateColumn {
                column: self.columns[i].name,
                row,
            });
        }
        Ok(Verdict::Header(Header {
            row,
            positions,
            extra,
        }))
    }
}

/// The comparable form of a header cell: templates mark required columns with '*' and
/// people add notes such as "出生日期（YYYY-MM-DD）", neither of which is part of the name.
pub(crate) fn normalize(text: &str) -> String {
    let mut current: String = text
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '＊' => '*',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    loop {
        let trimmed = trim_cell(trim_cell(&current).trim_matches('*'));
        let without_note = trimmed
            .strip_suffix(')')
            .and_then(|rest| rest.rfind('(').map(|open| &rest[..open]))
            .filter(|name| !trim_cell(name).is_empty())
            .unwrap_or(trimmed);
        if without_note.len() == current.len() {
            return current;
        }
        current = without_note.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_markers_and_notes() {
        assert_eq!(normalize(" *学籍号 "), "学籍号");
        assert_eq!(normalize("＊姓名"), "姓名");
        assert_eq!(normalize("学籍号*"), "学籍号");
        assert_eq!(normalize("出生日期（YYYY-MM-DD）"), "出生日期");
        assert_eq!(normalize("*出生日期 (yyyy-mm-dd)"), "出生日期");
        assert_eq!(normalize("身高(cm)(选填)"), "身高");
        assert_eq!(normalize("\u{3000}民族\u{3000}"), "民族");
        assert_eq!(normalize("(备注)"), "(备注)");
        assert_eq!(normalize("*"), "");
        assert_eq!(normalize("Name"), "name");
    }
}
