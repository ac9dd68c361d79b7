//! Writers: error reports, blank templates and exports. CSV is written in UTF-8 with a BOM,
//! without which Excel on Chinese Windows reads it as GBK; .xlsx cells are written as text
//! so that Excel never turns an ID into a number.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatBorder, Note, Workbook, XlsxError};

use crate::ColumnSpec;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Rows of one Excel sheet, the header row included.
const SHEET_ROWS: u32 = 1_048_576;
/// Excel's limit on the length of a sheet name.
const SHEET_NAME_CHARS: usize = 31;

const REPORT_SHEET: &str = "错误报告";
const REPORT_HEADER: [&str; 4] = ["行号", "列", "值", "原因"];
const REPORT_WIDTHS: [f64; 4] = [8.0, 16.0, 30.0, 60.0];
/// A report is read by people: a pasted essay in one cell is cut, which also keeps every
/// cell under Excel's 32,767-character limit.
const REPORT_CELL_CHARS: usize = 1000;

const GUIDE_SHEET: &str = "填写说明";

/// One problem found in an uploaded file, for the error report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The row the user sees ([`crate::Record::row`]); 0 for the file as a whole.
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// A streaming CSV writer for exports: UTF-8 with BOM, a header row of the column names,
/// CRLF line ends. Its files read back through [`crate::TableReader`] unchanged.
pub struct CsvWriter<W: Write = File> {
    inner: csv::Writer<W>,
    width: usize,
}

impl CsvWriter<File> {
    pub fn create(path: &Path, columns: &[ColumnSpec]) -> io::Result<CsvWriter<File>> {
        CsvWriter::new(File::create(path)?, columns)
    }
}

impl<W: Write> CsvWriter<W> {
    /// Writes into any sink, e.g. the body of a download.
    pub fn new(writer: W, columns: &[ColumnSpec]) -> io::Result<CsvWriter<W>> {
        let header: Vec<&str> = columns.iter().map(|c| c.name).collect();
        CsvWriter::with_header(writer, &header)
    }

    fn with_header(mut writer: W, header: &[&str]) -> io::Result<CsvWriter<W>> {
        writer.write_all(BOM)?;
        let mut inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(writer);
        inner.write_record(header)?;
        Ok(CsvWriter {
            inner,
            width: header.len(),
        })
    }

    /// Writes one row; it must have one value per column.
    pub fn push(&mut self, values: &[&str]) -> io::Result<()> {
        // Checked first: the csv crate notices a wrong length only after writing the row.
        if values.len() != self.width {
            return Err(wrong_width(values.len(), self.width));
        }
        self.inner.write_record(values)?;
        Ok(())
    }

    /// Flushes and returns the sink.
    pub fn finish(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// A streaming .xlsx writer for exports: every column text-formatted, rows flushed to a
/// temporary file as they are written (constant-memory mode). Past Excel's 1,048,575 data
/// rows the export goes on in a new sheet "name (2)" with the same header.
pub struct XlsxWriter {
    sheets: Sheets,
    file: File,
}

impl XlsxWriter {
    pub fn create(path: &Path, sheet: &str, columns: &[ColumnSpec]) -> io::Result<XlsxWriter> {
        let header: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
        let widths = header
            .iter()
            .map(|h| (display_width(h) + 4).max(16) as f64)
            .collect();
        let sheets = Sheets::new(sheet, header, widths)?;
        Ok(XlsxWriter {
            sheets,
            file: File::create(path)?,
        })
    }

    /// Writes one row; it must have one value per column.
    pub fn push(&mut self, values: &[&str]) -> io::Result<()> {
        self.sheets.push(values.iter().map(|v| Cell::Text(v)))
    }

    pub fn finish(self) -> io::Result<()> {
        let mut out = BufWriter::new(self.file);
        let mut workbook = self.sheets.workbook;
        workbook.save_to_writer(&mut out).map_err(xlsx_io)?;
        out.flush()
    }
}

/// The error report of an import, written while the import runs: columns 行号, 列, 值,
/// 原因; the .xlsx form has them in a sheet named 错误报告.
pub struct ReportWriter(ReportTarget);

/// Both boxed: the two writers differ several-fold in size.
enum ReportTarget {
    Csv(Box<CsvWriter<File>>),
    Xlsx(Box<XlsxWriter>),
}

impl ReportWriter {
    /// UTF-8 with BOM so that Excel on Chinese Windows opens it correctly.
    pub fn csv(path: &Path) -> io::Result<ReportWriter> {
        let writer = CsvWriter::with_header(File::create(path)?, &REPORT_HEADER)?;
        Ok(ReportWriter(ReportTarget::Csv(Box::new(writer))))
    }

    pub fn xlsx(path: &Path) -> io::Result<ReportWriter> {
        let sheets = report_sheets()?;
        let file = File::create(path)?;
        let writer = Box::new(XlsxWriter { sheets, file });
        Ok(ReportWriter(ReportTarget::Xlsx(writer)))
    }

    pub fn push(&mut self, problem: &Problem) -> io::Result<()> {
        match &mut self.0 {
            ReportTarget::Csv(writer) => {
                let [row, column, value, reason] = report_cells(problem);
                writer.push(&[&row, &column, &value, &reason])
            }
            ReportTarget::Xlsx(writer) => push_report_row(&mut writer.sheets, problem),
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self.0 {
            ReportTarget::Csv(writer) => writer.finish().map(drop),
            ReportTarget::Xlsx(writer) => writer.finish(),
        }
    }
}

/// The error report as a CSV download (UTF-8 with BOM).
pub fn report_csv_bytes(problems: &[Problem]) -> Vec<u8> {
    let header = std::iter::once(REPORT_HEADER.map(String::from));
    csv_bytes(header.chain(problems.iter().map(report_cells)))
}

/// The error report as an .xlsx download.
pub fn report_xlsx_bytes(problems: &[Problem]) -> io::Result<Vec<u8>> {
    let mut sheets = report_sheets()?;
    for problem in problems {
        push_report_row(&mut sheets, problem)?;
    }
    sheets.workbook.save_to_buffer().map_err(xlsx_io)
}

/// A blank template: the header row in bold with required columns marked "*" (and in red),
/// every column formatted as text, widths to fit, the example rows, each note as a comment
/// on its column's header cell, and a second sheet 填写说明 listing every column. Notes name
/// their column by [`ColumnSpec::name`]; every example row has one value per column.
pub fn template_xlsx_bytes(
    sheet: &str,
    columns: &[ColumnSpec],
    notes: &[(&str, &str)],
    examples: &[Vec<String>],
) -> io::Result<Vec<u8>> {
    if let Some((name, _)) = notes
        .iter()
        .find(|(name, _)| !columns.iter().any(|c| c.name == *name))
    {
        return Err(invalid_input(format!("note for unknown column {name:?}")));
    }
    if examples.iter().any(|e| e.len() != columns.len()) {
        return Err(invalid_input(
            "an example row does not have one value per column",
        ));
    }
    let note_of = |spec: &ColumnSpec| {
        notes
            .iter()
            .find(|(name, _)| *name == spec.name)
            .map(|&(_, note)| note)
    };
    let labels = template_labels(columns);
    let text = Format::new().set_num_format("@");
    let header = text
        .clone()
        .set_bold()
        .set_background_color(0xDDEBF7)
        .set_border(FormatBorder::Thin);
    let required = header.clone().set_font_color(Color::Red);

    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name(sheet).map_err(xlsx_io)?;
    for (i, (spec, label)) in columns.iter().zip(&labels).enumerate() {
        let col = u16::try_from(i).map_err(|_| invalid_input("too many columns"))?;
        let width = examples
            .iter()
            .map(|e| display_width(&e[i]))
            .chain([display_width(label)])
            .max()
            .unwrap_or(0);
        ws.set_column_width(col, (width + 4).clamp(10, 50) as f64)
            .map_err(xlsx_io)?;
        ws.set_column_format(col, &text).map_err(xlsx_io)?;
        let format = if spec.required { &required } else { &header };
        ws.write_string_with_format(0, col, label, format)
            .map_err(xlsx_io)?;
        if let Some(note) = note_of(spec) {
            let note = Note::new(note).add_author_prefix(false);
            ws.insert_note(0, col, &note).map_err(xlsx_io)?;
        }
    }
    for (r, example) in examples.iter().enumerate() {
        let row = u32::try_from(r + 1).map_err(|_| invalid_input("too many example rows"))?;
        for (col, value) in (0u16..).zip(example) {
            ws.write_string_with_format(row, col, value, &text)
                .map_err(xlsx_io)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_io)?;

    let guide = workbook.add_worksheet();
    guide.set_name(GUIDE_SHEET).map_err(xlsx_io)?;
    guide
        .write_string(
            0,
            0,
            "带 * 的列为必填。请勿修改表头；所有单元格均为文本格式，请直接输入或粘贴为文本。",
        )
        .map_err(xlsx_io)?;
    for (col, (title, width)) in (0u16..).zip([("列名", 20), ("是否必填", 10), ("填写说明", 60)])
    {
        guide.set_column_width(col, width).map_err(xlsx_io)?;
        guide
            .write_string_with_format(2, col, title, &header)
            .map_err(xlsx_io)?;
    }
    for (row, spec) in (3u32..).zip(columns) {
        let needed = if spec.required { "必填" } else { "选填" };
        for (col, value) in (0u16..).zip([spec.name, needed, note_of(spec).unwrap_or("")]) {
            guide.write_string(row, col, value).map_err(xlsx_io)?;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_io)
}

/// A blank template as CSV (UTF-8 with BOM): the header row, required columns marked "*",
/// then the example rows.
pub fn template_csv_bytes(columns: &[ColumnSpec], examples: &[Vec<String>]) -> Vec<u8> {
    csv_bytes(std::iter::once(template_labels(columns)).chain(examples.iter().cloned()))
}

fn template_labels(columns: &[ColumnSpec]) -> Vec<String> {
    columns
        .iter()
        .map(|c| {
            if c.required {
                format!("*{}", c.name)
            } else {
                c.name.to_string()
            }
        })
        .collect()
}

fn csv_bytes(rows: impl IntoIterator<Item = impl AsRef<[String]>>) -> Vec<u8> {
    let mut out = BOM.to_vec();
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut out);
    for row in rows {
        // Memory cannot refuse a write and a flexible writer takes rows of any length, so
        // this never stops early.
        if writer.write_record(row.as_ref()).is_err() {
            break;
        }
    }
    // Dropping the writer flushes it into `out`.
    drop(writer);
    out
}

fn report_sheets() -> io::Result<Sheets> {
    let header = REPORT_HEADER.map(String::from).to_vec();
    Sheets::new(REPORT_SHEET, header, REPORT_WIDTHS.to_vec())
}

/// A report row for CSV. The texts come from the upload, and Excel runs a CSV field that
/// starts like a formula ("=HYPERLINK(...)"), so such a field gets a leading apostrophe.
/// (The .xlsx report stores text cells, which Excel never evaluates.)
fn report_cells(problem: &Problem) -> [String; 4] {
    let row = if problem.row == 0 {
        String::new()
    } else {
        problem.row.to_string()
    };
    let inert = |text: &str| {
        let text = clip(text);
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.into_owned()
        }
    };
    [
        row,
        inert(&problem.column),
        inert(&problem.value),
        inert(&problem.reason),
    ]
}

fn push_report_row(sheets: &mut Sheets, problem: &Problem) -> io::Result<()> {
    // The row number as a number, so that the report sorts by it.
    let row = if problem.row == 0 {
        Cell::Blank
    } else {
        Cell::Number(problem.row as f64)
    };
    let (column, value, reason) = (
        clip(&problem.column),
        clip(&problem.value),
        clip(&problem.reason),
    );
    sheets.push([
        row,
        Cell::Text(&column),
        Cell::Text(&value),
        Cell::Text(&reason),
    ])
}

fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(REPORT_CELL_CHARS) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

/// Width in Excel's character units: CJK and other full-width characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if c.len_utf8() > 1 { 2 } else { 1 })
        .sum()
}

enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Blank,
}

/// A constant-memory workbook that starts a new sheet, with the same header, whenever the
/// current one is full.
struct Sheets {
    workbook: Workbook,
    name: String,
    header: Vec<String>,
    widths: Vec<f64>,
    text: Format,
    bold: Format,
    sheet_count: usize,
    /// The next row to write in the current sheet (0 is the header).
    next_row: u32,
    /// Data rows per sheet; lowered in tests.
    rows_per_sheet: u32,
}

impl Sheets {
    fn new(name: &str, header: Vec<String>, widths: Vec<f64>) -> io::Result<Sheets> {
        let text = Format::new().set_num_format("@");
        let bold = text.clone().set_bold();
        let mut sheets = Sheets {
            workbook: Workbook::new(),
            name: name.to_string(),
            header,
            widths,
            text,
            bold,
            sheet_count: 0,
            next_row: 0,
            rows_per_sheet: SHEET_ROWS - 1,
        };
        sheets.add_sheet()?;
        Ok(sheets)
    }

    fn add_sheet(&mut self) -> io::Result<()> {
        self.sheet_count += 1;
        let name = sheet_name(&self.name, self.sheet_count);
        let ws = self.workbook.add_worksheet_with_constant_memory();
        ws.set_name(name).map_err(xlsx_io)?;
        for (i, (title, width)) in self.header.iter().zip(&self.widths).enumerate() {
            let col = u16::try_from(i).map_err(|_| invalid_input("too many columns"))?;
            ws.set_column_width(col, *width).map_err(xlsx_io)?;
            ws.set_column_format(col, &self.text).map_err(xlsx_io)?;
            ws.write_string_with_format(0, col, title, &self.bold)
                .map_err(xlsx_io)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_io)?;
        self.next_row = 1;
        Ok(())
    }

    fn push<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> io::Result<()> {
        let cells: Vec<Cell<'a>> = cells.into_iter().collect();
        if cells.len() != self.header.len() {
            return Err(wrong_width(cells.len(), self.header.len()));
        }
        if self.next_row > self.rows_per_sheet {
            self.add_sheet()?;
        }
        let row = self.next_row;
        let ws = self
            .workbook
            .worksheet_from_index(self.sheet_count - 1)
            .map_err(xlsx_io)?;
        for (col, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Text(text) => ws.write_string_with_format(row, col, text, &self.text),
                Cell::Number(number) => ws.write_number(row, col, number),
                Cell::Blank => continue,
            }
            .map_err(xlsx_io)?;
        }
        self.next_row += 1;
        Ok(())
    }
}

/// "name" for the first sheet, "name (2)", "name (3)", ... after it, within Excel's limit.
fn sheet_name(base: &str, number: usize) -> String {
    let suffix = if number == 1 {
        String::new()
    } else {
        format!(" ({number})")
    };
    let keep = SHEET_NAME_CHARS.saturating_sub(suffix.chars().count());
    base.chars().take(keep).chain(suffix.chars()).collect()
}

fn wrong_width(values: usize, columns: usize) -> io::Error {
    invalid_input(format!("a row has {values} values for {columns} columns"))
}

fn invalid_input(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.into())
}

fn xlsx_io(error: XlsxError) -> io::Error {
    match error {
        XlsxError::IoError(e) => e,
        other => invalid_input(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_stay_within_excel_limit() {
        assert_eq!(sheet_name("学生", 1), "学生");
        assert_eq!(sheet_name("学生", 2), "学生 (2)");
        let long = "名".repeat(40);
        assert_eq!(sheet_name(&long, 1).chars().count(), 31);
        assert_eq!(sheet_name(&long, 12).chars().count(), 31);
        assert!(sheet_name(&long, 12).ends_with(" (12)"));
    }

    #[test]
    fn clip_cuts_long_values_only() {
        assert_eq!(clip("王𫖯"), "王𫖯");
        let long = "𫖯".repeat(REPORT_CELL_CHARS + 5);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), REPORT_CELL_CHARS + 1);
        assert!(clipped.ends_with('…'));
    }

    #[test]
    fn export_continues_on_a_new_sheet() {
        use calamine::{Reader, Xlsx};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.xlsx");
        let columns = [
            ColumnSpec {
                name: "学籍号",
                aliases: &[],
                required: true,
            },
            ColumnSpec {
                name: "姓名",
                aliases: &[],
                required: true,
            },
        ];
        let mut writer = XlsxWriter::create(&path, "学生", &columns).unwrap();
        writer.sheets.rows_per_sheet = 3;
        for i in 0..7 {
            writer.push(&[&format!("G{i}"), "王𫖯"]).unwrap();
        }
        assert!(writer.push(&["only one"]).is_err());
        writer.finish().unwrap();

        let mut book: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), ["学生", "学生 (2)", "学生 (3)"]);
        let mut rows = Vec::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            let mut sheet_rows = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>());
            assert_eq!(sheet_rows.next().unwrap(), ["学籍号", "姓名"]);
            rows.extend(sheet_rows.map(|r| r[0].clone()));
        }
        assert_eq!(rows, ["G0", "G1", "G2", "G3", "G4", "G5", "G6"]);
    }
}
