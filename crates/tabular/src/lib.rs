//! The tabular files schools and bureaus exchange with the platform: a streaming reader of
//! uploaded lists (CSV in UTF-8 or GB18030/GBK, and .xlsx) with Chinese column headers, and
//! writers for error reports, blank templates and exports.
//!
//! Memory stays flat whatever the file size: CSV is decoded and parsed one record at a time,
//! an .xlsx sheet is read one cell at a time on a worker thread, and the .xlsx writers use
//! rust_xlsxwriter's constant-memory mode.

mod csv_source;
mod error;
mod header;
mod read;
mod write;
mod xlsx_source;

pub use error::{TabularError, Unsupported};
pub use read::TableReader;
pub use write::{
    CsvWriter, Problem, ReportWriter, XlsxWriter, report_csv_bytes, report_xlsx_bytes,
    template_csv_bytes, template_xlsx_bytes,
};

/// One column the caller expects, found in the file by its name or one of its aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// The text encoding of a CSV file, as detected from its first 64 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    /// GB18030, which includes GBK (what Excel on Chinese Windows writes by default).
    Gb18030,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gb18030 => "GB18030",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Csv(Encoding),
    Xlsx,
}

/// One data row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The row number the user sees: the 1-based line of the CSV where the record starts
    /// (title and header lines included), or the row number in Excel.
    pub row: u64,
    /// One value per [`ColumnSpec`], in the order of the specs; "" for a blank cell or a
    /// column the file does not have. Trimmed of surrounding whitespace, otherwise untouched.
    pub values: Vec<String>,
}

/// Trims what surrounds a cell's text: Unicode whitespace (including the ideographic space
/// U+3000 and no-break space) and stray byte order marks left by concatenated files.
pub(crate) fn trim_cell(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}
