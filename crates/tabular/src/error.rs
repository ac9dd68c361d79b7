use std::io;

use kernel::{Lang, Localized};

use crate::Encoding;

/// Why a file is not read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Neither .csv/.txt nor .xlsx, and the content is not a workbook either.
    Extension,
    /// An Excel 97-2003 workbook (.xls), recognised by its OLE2 signature.
    LegacyXls,
    /// UTF-16 text, which Excel writes when saving as "Unicode Text".
    Utf16,
}

#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    #[error("unsupported file {name:?} ({reason:?})")]
    Unsupported { name: String, reason: Unsupported },
    #[error("the file has no rows")]
    Empty,
    #[error("header not found; missing columns: {missing:?}")]
    Header { missing: Vec<&'static str> },
    #[error("column {column:?} appears more than once in the header (row {row})")]
    DuplicateColumn { column: &'static str, row: u64 },
    #[error("row {row} is not valid {} text", encoding.label())]
    Encoding { row: u64, encoding: Encoding },
    /// The only way the lenient CSV parser fails: a record grows past the size limit,
    /// nearly always because a quotation mark is not closed.
    #[error("malformed CSV: the record starting at line {row} is too long")]
    Csv { row: u64 },
    #[error("not a valid .xlsx workbook: {detail}")]
    Xlsx { detail: String },
    #[error("could not read the file: {0}")]
    Io(#[from] io::Error),
}

impl TabularError {
    /// Whether the reader can go on after this error: a row with undecodable text is skipped,
    /// anything else leaves the stream in an unknown state.
    pub(crate) fn is_row_level(&self) -> bool {
        matches!(self, TabularError::Encoding { .. })
    }
}

impl Localized for TabularError {
    fn code(&self) -> &'static str {
        match self {
            TabularError::Unsupported { .. } => "file.unsupported",
            TabularError::Empty => "file.empty",
            TabularError::Header { .. } => "file.header",
            TabularError::DuplicateColumn { .. } => "file.duplicate_column",
            TabularError::Encoding { .. } => "file.encoding",
            TabularError::Csv { .. } => "file.csv",
            TabularError::Xlsx { .. } => "file.xlsx",
            TabularError::Io(_) => "file.io",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (TabularError::Unsupported { name, reason }, Lang::Zh) => match reason {
                Unsupported::Extension => format!(
                    "不支持文件“{name}”的类型：请上传 CSV（.csv）文件或 Excel 工作簿（.xlsx）。"
                ),
                Unsupported::LegacyXls => format!(
                    "“{name}”是旧版 Excel 97-2003 工作簿（.xls）：请在 Excel 中“另存为”“Excel 工作簿 (*.xlsx)”后再上传。"
                ),
                Unsupported::Utf16 => format!(
                    "“{name}”是 UTF-16 编码的文本（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”或 Excel 工作簿（.xlsx）后再上传。"
                ),
            },
            (TabularError::Unsupported { name, reason }, Lang::En) => match reason {
                Unsupported::Extension => format!(
                    "The file “{name}” has an unsupported type: please upload a CSV file (.csv) or an Excel workbook (.xlsx)."
                ),
                Unsupported::LegacyXls => format!(
                    "“{name}” is an old Excel 97-2003 workbook (.xls): open it in Excel, save it as “Excel Workbook (*.xlsx)” and upload that file."
                ),
                Unsupported::Utf16 => format!(
                    "“{name}” is UTF-16 text (Excel's “Unicode Text”): save it as “CSV UTF-8 (Comma delimited)” or as an Excel workbook (.xlsx) and upload that file."
                ),
            },
            (TabularError::Empty, Lang::Zh) => "文件是空的：没有任何内容。".to_string(),
            (TabularError::Empty, Lang::En) => "The file is empty: it has no rows.".to_string(),
            (TabularError::Header { missing }, Lang::Zh) => {
                let names: String = missing.iter().map(|m| format!("“{m}”")).collect();
                format!("找不到表头：缺少{names}列。请使用模板中的列名。")
            }
            (TabularError::Header { missing }, Lang::En) => {
                let names: Vec<String> = missing.iter().map(|m| format!("“{m}”")).collect();
                format!(
                    "Header not found: the column(s) {} are missing. Please use the column names of the template.",
                    names.join(", ")
                )
            }
            (TabularError::DuplicateColumn { column, row }, Lang::Zh) => {
                format!("第 {row} 行的表头中“{column}”列出现了不止一次：请删除重复的列。")
            }
            (TabularError::DuplicateColumn { column, row }, Lang::En) => format!(
                "The header (row {row}) has the column “{column}” more than once: delete the duplicate."
            ),
            (TabularError::Encoding { row, encoding }, Lang::Zh) => format!(
                "第 {row} 行含有无法识别的字符（文件按 {} 编码读取）：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 Excel 工作簿（.xlsx）后再上传。",
                encoding.label()
            ),
            (TabularError::Encoding { row, encoding }, Lang::En) => format!(
                "Row {row} contains characters that are not valid {} text: save the file as “CSV UTF-8 (Comma delimited)” or as an Excel workbook (.xlsx) and upload it again.",
                encoding.label()
            ),
            (TabularError::Csv { row }, Lang::Zh) => format!(
                "CSV 格式有误：从第 {row} 行开始的一条记录过长，通常是某个引号（\"）没有闭合。请检查该行。"
            ),
            (TabularError::Csv { row }, Lang::En) => format!(
                "Malformed CSV: the record starting at line {row} is too long, usually because a quotation mark (\") is not closed. Please check that line."
            ),
            (TabularError::Xlsx { detail }, Lang::Zh) => format!(
                "文件不是有效的 Excel 工作簿（.xlsx）或已损坏（{detail}）：请在 Excel 中打开并重新保存后再上传。"
            ),
            (TabularError::Xlsx { detail }, Lang::En) => format!(
                "The file is not a valid Excel workbook (.xlsx) or is damaged ({detail}): open it in Excel, save it again and upload it."
            ),
            (TabularError::Io(e), Lang::Zh) => format!("读取文件时出错：{e}"),
            (TabularError::Io(e), Lang::En) => format!("Could not read the file: {e}"),
        }
    }
}
