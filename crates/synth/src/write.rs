//! Writing a whole data set to CSV and/or XLSX files in one streaming pass per table.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};

use crate::people::{Students, Teachers};
use crate::schools::{bureaus, schools};
use crate::{
    BUREAU_HEADERS, BureauRow, SCHOOL_HEADERS, STUDENT_HEADERS, SchoolRow, Spec, StudentRow,
    TEACHER_HEADERS, TeacherRow,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// Accepts "csv" or "xlsx" in any case.
    pub fn parse(input: &str) -> Option<Format> {
        let input = input.trim();
        [Format::Csv, Format::Xlsx]
            .into_iter()
            .find(|f| f.extension().eq_ignore_ascii_case(input))
    }
}

/// A file written and its number of data rows (header rows not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub rows: u64,
}

/// An .xlsx sheet has 1,048,576 rows; the first holds the headers.
const XLSX_DATA_ROWS: u32 = 1_048_575;

/// Writes `<dir>/{bureaus,schools,students,teachers}.{csv,xlsx}` for each format asked for
/// (creating `dir` if needed), generating every row once whatever the number of formats.
/// CSV files are UTF-8 without BOM; XLSX files are written in constant-memory mode and
/// continue on further sheets (学籍2, 学籍3 ...) past a sheet's row limit. Sets the progress
/// bar's length to the total number of rows and advances it per row.
///
/// Fails with `InvalidInput`, before writing anything, if the spec asks for more students or
/// teachers than can have distinct ID numbers with its schools (tens of millions).
pub fn write_all(
    spec: &Spec,
    dir: &Path,
    formats: &[Format],
    progress: &ProgressBar,
) -> io::Result<Vec<Written>> {
    write_with_sheet_limit(spec, dir, formats, progress, XLSX_DATA_ROWS)
}

/// [`write_all`] with at most `sheet_rows` data rows per XLSX sheet, so that tests can see
/// sheets overflow without writing a million rows.
pub(crate) fn write_with_sheet_limit(
    spec: &Spec,
    dir: &Path,
    formats: &[Format],
    progress: &ProgressBar,
    sheet_rows: u32,
) -> io::Result<Vec<Written>> {
    let bureaus = bureaus(spec);
    let schools = schools(spec);
    let students = Students::new(spec, &schools);
    let teachers = Teachers::new(spec, &schools);
    for (what, asked, possible) in [
        ("students", spec.students, students.count()),
        ("teachers", spec.teachers, teachers.count()),
    ] {
        if asked > possible {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "at most {possible} {what} can be generated with {} schools",
                    schools.len()
                ),
            ));
        }
    }
    let mut unique_formats: Vec<Format> = Vec::new();
    for &format in formats {
        if !unique_formats.contains(&format) {
            unique_formats.push(format);
        }
    }
    std::fs::create_dir_all(dir)?;
    progress.set_length(
        (bureaus.len() as u64 + schools.len() as u64)
            .saturating_add(students.count())
            .saturating_add(teachers.count()),
    );

    let mut written = Vec::new();
    let out = Output {
        dir,
        formats: &unique_formats,
        progress,
        sheet_rows,
    };
    written.extend(out.table("bureaus", "机构", BUREAU_HEADERS, bureaus.iter())?);
    written.extend(out.table("schools", "学校", SCHOOL_HEADERS, schools.iter())?);
    written.extend(out.table("students", "学籍", STUDENT_HEADERS, students.into_rows())?);
    written.extend(out.table("teachers", "教师", TEACHER_HEADERS, teachers.into_rows())?);
    Ok(written)
}

/// A row that can lend its fields, in header order, without allocating.
trait Record {
    fn with_fields<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R;
}

impl Record for &BureauRow {
    fn with_fields<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        f(&self.fields())
    }
}

impl Record for &SchoolRow {
    fn with_fields<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        f(&self.fields())
    }
}

impl Record for StudentRow {
    fn with_fields<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        f(&self.fields())
    }
}

impl Record for TeacherRow {
    fn with_fields<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        f(&self.fields())
    }
}

struct Output<'o> {
    dir: &'o Path,
    formats: &'o [Format],
    progress: &'o ProgressBar,
    sheet_rows: u32,
}

impl Output<'_> {
    fn table<R: Record>(
        &self,
        stem: &str,
        sheet: &'static str,
        headers: &[&str],
        rows: impl Iterator<Item = R>,
    ) -> io::Result<Vec<Written>> {
        let mut sinks = Vec::with_capacity(self.formats.len());
        for &format in self.formats {
            let path = self.dir.join(format!("{stem}.{}", format.extension()));
            let sink: Box<dyn Sink> = match format {
                Format::Csv => Box::new(CsvSink::new(path, headers)?),
                Format::Xlsx => {
                    check_temp_dir()?;
                    Box::new(XlsxSink::new(path, sheet, headers, self.sheet_rows).map_err(xlsx)?)
                }
            };
            sinks.push(sink);
        }
        let mut count = 0;
        for row in rows {
            row.with_fields(|fields| sinks.iter_mut().try_for_each(|sink| sink.write(fields)))?;
            count += 1;
            self.progress.inc(1);
        }
        sinks.into_iter().map(|sink| sink.finish(count)).collect()
    }
}

/// One output file of a table.
trait Sink {
    fn write(&mut self, fields: &[&str]) -> io::Result<()>;
    /// Flushes and closes the file; `rows` is the number of data rows written.
    fn finish(self: Box<Self>, rows: u64) -> io::Result<Written>;
}

struct CsvSink {
    path: PathBuf,
    writer: csv::Writer<File>,
}

impl CsvSink {
    fn new(path: PathBuf, headers: &[&str]) -> io::Result<CsvSink> {
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_path(&path)?;
        writer.write_record(headers)?;
        Ok(CsvSink { path, writer })
    }
}

impl Sink for CsvSink {
    fn write(&mut self, fields: &[&str]) -> io::Result<()> {
        Ok(self.writer.write_record(fields)?)
    }

    fn finish(mut self: Box<Self>, rows: u64) -> io::Result<Written> {
        self.writer.flush()?;
        Ok(Written {
            path: self.path,
            rows,
        })
    }
}

/// rust_xlsxwriter panics when it cannot create a sheet's temporary file; trying first turns
/// an unusable temporary directory into an error instead.
fn check_temp_dir() -> io::Result<()> {
    let probe = std::env::temp_dir().join(format!(".synth-probe-{}", std::process::id()));
    File::create(&probe)?;
    std::fs::remove_file(&probe)
}

fn xlsx(error: XlsxError) -> io::Error {
    match error {
        XlsxError::IoError(error) => error,
        other => io::Error::other(other),
    }
}

/// A workbook written sheet by sheet, each sheet streamed to a temporary file.
struct XlsxSink {
    path: PathBuf,
    workbook: Workbook,
    sheet: Worksheet,
    sheet_name: &'static str,
    sheets: u32,
    /// The next row to write on the current sheet.
    row: u32,
    /// Data rows per sheet.
    sheet_rows: u32,
    headers: Vec<String>,
}

impl XlsxSink {
    fn new(
        path: PathBuf,
        sheet_name: &'static str,
        headers: &[&str],
        sheet_rows: u32,
    ) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        let sheet = new_sheet(&mut workbook, sheet_name, &headers)?;
        Ok(XlsxSink {
            path,
            workbook,
            sheet,
            sheet_name,
            sheets: 1,
            row: 1,
            sheet_rows,
            headers,
        })
    }

    fn write_row(&mut self, fields: &[&str]) -> Result<(), XlsxError> {
        if self.row > self.sheet_rows {
            self.sheets += 1;
            let name = format!("{}{}", self.sheet_name, self.sheets);
            let next = new_sheet(&mut self.workbook, &name, &self.headers)?;
            let full = std::mem::replace(&mut self.sheet, next);
            self.workbook.push_worksheet(full);
            self.row = 1;
        }
        for (col, field) in (0u16..).zip(fields) {
            self.sheet.write_string(self.row, col, *field)?;
        }
        self.row += 1;
        Ok(())
    }
}

impl Sink for XlsxSink {
    fn write(&mut self, fields: &[&str]) -> io::Result<()> {
        self.write_row(fields).map_err(xlsx)
    }

    fn finish(self: Box<Self>, rows: u64) -> io::Result<Written> {
        let XlsxSink {
            path,
            mut workbook,
            sheet,
            ..
        } = *self;
        workbook.push_worksheet(sheet);
        workbook.save(&path).map_err(xlsx)?;
        Ok(Written { path, rows })
    }
}

fn new_sheet(
    workbook: &mut Workbook,
    name: &str,
    headers: &[String],
) -> Result<Worksheet, XlsxError> {
    let mut sheet = workbook.new_worksheet_with_constant_memory();
    sheet.set_name(name)?;
    for (col, header) in (0u16..).zip(headers) {
        sheet.write_string(0, col, header)?;
    }
    Ok(sheet)
}
