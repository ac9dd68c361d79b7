use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::csv_source::CsvSource;
use crate::header::{Header, Matcher, Verdict};
use crate::xlsx_source::XlsxSource;
use crate::{ColumnSpec, Encoding, Record, SourceKind, TabularError, Unsupported, trim_cell};

/// How much of a file is looked at to decide its type and encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// How many non-blank rows may stand above the header (titles, instructions).
const HEADER_SEARCH_ROWS: usize = 20;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE2_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Good multi-byte characters needed per damaged sequence for text to count as UTF-8.
const UTF8_GOOD_PER_BAD: usize = 50;

/// A streaming reader of one uploaded table: yields the data rows below the header, one
/// [`Record`] at a time, with the values in the order of the caller's [`ColumnSpec`]s.
///
/// Blank rows are skipped. An `Err` for a row whose text cannot be decoded
/// ([`TabularError::Encoding`]) is followed by the next rows; any other `Err` is the last
/// item.
pub struct TableReader {
    kind: SourceKind,
    source: Source,
    header: Header,
    present: Vec<bool>,
    /// Column of the sheet → index of its spec, for the sparse rows of .xlsx.
    spec_of_column: Vec<Option<usize>>,
    progress: Arc<Progress>,
    total: Option<u64>,
    finished: bool,
}

impl TableReader {
    /// Opens a file; its kind comes from the extension (.csv/.txt, .xlsx) unless the content
    /// says otherwise (a workbook is a workbook whatever its name).
    pub fn open(path: &Path, columns: &'static [ColumnSpec]) -> Result<TableReader, TabularError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut file = File::open(path)?;
        let total = file.metadata().ok().map(|m| m.len());
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)?;
        let progress = Arc::new(Progress::default());
        let (kind, source) = match detect(&name, &head)? {
            Detected::Xlsx => {
                file.seek(SeekFrom::Start(0))?;
                let input = Counted::new(BufReader::new(file), &progress, None);
                (SourceKind::Xlsx, Source::Xlsx(XlsxSource::spawn(input)?))
            }
            Detected::Csv => {
                let text = sniff_text(&name, &head)?;
                let input = Box::new(Cursor::new(head).chain(file));
                let source = CsvSource::new(input, text, &progress);
                (
                    SourceKind::Csv(text.encoding),
                    Source::Csv(Box::new(source)),
                )
            }
        };
        TableReader::start(kind, source, columns, progress, total)
    }

    /// Reads an upload held in memory; `name` is the file name the user gave it.
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        columns: &'static [ColumnSpec],
    ) -> Result<TableReader, TabularError> {
        let total = Some(bytes.len() as u64);
        let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
        let progress = Arc::new(Progress::default());
        let (kind, source) = match detect(name, head)? {
            Detected::Xlsx => {
                let input = Counted::new(Cursor::new(bytes), &progress, None);
                (SourceKind::Xlsx, Source::Xlsx(XlsxSource::spawn(input)?))
            }
            Detected::Csv => {
                let text = sniff_text(name, head)?;
                let source = CsvSource::new(Box::new(Cursor::new(bytes)), text, &progress);
                (
                    SourceKind::Csv(text.encoding),
                    Source::Csv(Box::new(source)),
                )
            }
        };
        TableReader::start(kind, source, columns, progress, total)
    }

    fn start(
        kind: SourceKind,
        mut source: Source,
        columns: &'static [ColumnSpec],
        progress: Arc<Progress>,
        total: Option<u64>,
    ) -> Result<TableReader, TabularError> {
        let header = find_header(&mut source, columns)?;
        let present = header.positions.iter().map(Option::is_some).collect();
        // Only sheet rows need the reverse map; its width is bounded by Excel's columns,
        // whereas a CSV header could place a column a million fields to the right.
        let mut spec_of_column = Vec::new();
        if kind == SourceKind::Xlsx {
            for (spec, col) in header.positions.iter().enumerate() {
                if let Some(col) = *col {
                    if spec_of_column.len() <= col {
                        spec_of_column.resize(col + 1, None);
                    }
                    spec_of_column[col] = Some(spec);
                }
            }
        }
        Ok(TableReader {
            kind,
            source,
            header,
            present,
            spec_of_column,
            progress,
            total,
            finished: false,
        })
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The row number of the header, counted like [`Record::row`].
    pub fn header_row(&self) -> u64 {
        self.header.row
    }

    /// Header cells that matched no spec; their columns are ignored.
    pub fn extra_columns(&self) -> &[String] {
        &self.header.extra
    }

    /// For each spec, whether the file has that column. A missing optional column reads as
    /// "" in every record, which is not the same as a column left blank.
    pub fn columns_present(&self) -> &[bool] {
        &self.present
    }

    /// Bytes of the file consumed so far (approximate: the readers buffer ahead).
    pub fn bytes_read(&self) -> u64 {
        let read = self.progress.read.load(Ordering::Relaxed);
        self.total.map_or(read, |total| read.min(total))
    }

    pub fn total_bytes(&self) -> Option<u64> {
        self.total
    }
}

impl Iterator for TableReader {
    type Item = Result<Record, TabularError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let width = self.present.len();
        let item = match self.source.next_row()? {
            Ok((row, RawRow::Csv(record))) => {
                let values = self
                    .header
                    .positions
                    .iter()
                    .map(|col| {
                        col.and_then(|c| record.get(c))
                            .map_or_else(String::new, |v| trim_cell(v).to_string())
                    })
                    .collect();
                Ok(Record { row, values })
            }
            Ok((row, RawRow::Xlsx(cells))) => {
                let mut values = vec![String::new(); width];
                for (col, text) in cells {
                    if let Some(&Some(spec)) = self.spec_of_column.get(col) {
                        values[spec] = text;
                    }
                }
                Ok(Record { row, values })
            }
            Err(e) => {
                self.finished = !e.is_row_level();
                Err(e)
            }
        };
        Some(item)
    }
}

/// Looks for the header among the first non-blank rows.
fn find_header(
    source: &mut Source,
    columns: &'static [ColumnSpec],
) -> Result<Header, TabularError> {
    let matcher = Matcher::new(columns);
    // The candidate lacking the fewest required columns names what is missing.
    let mut best: Option<Vec<&'static str>> = None;
    for _ in 0..HEADER_SEARCH_ROWS {
        let Some(next) = source.next_row() else { break };
        let verdict = match next? {
            (row, RawRow::Csv(record)) => matcher.check(row, record.iter().enumerate())?,
            (row, RawRow::Xlsx(cells)) => {
                matcher.check(row, cells.iter().map(|(c, t)| (*c, t.as_str())))?
            }
        };
        match verdict {
            Verdict::Header(header) => return Ok(header),
            Verdict::Missing(missing) => {
                if best.as_ref().is_none_or(|b| missing.len() < b.len()) {
                    best = Some(missing);
                }
            }
        }
    }
    match best {
        None => Err(TabularError::Empty),
        Some(missing) if missing.is_empty() => Err(TabularError::Header {
            // No column matched at all although none is required: name them all.
            missing: columns.iter().map(|c| c.name).collect(),
        }),
        Some(missing) => Err(TabularError::Header { missing }),
    }
}

pub(crate) enum Source {
    // Boxed: the CSV reader's state is several times the size of the channel end.
    Csv(Box<CsvSource>),
    Xlsx(XlsxSource),
}

/// A non-blank row before it is mapped to the specs.
pub(crate) enum RawRow<'a> {
    /// All fields of a CSV record, untrimmed.
    Csv(&'a csv::StringRecord),
    /// The non-empty cells of a sheet row as (column, trimmed text).
    Xlsx(Vec<(usize, String)>),
}

impl Source {
    fn next_row(&mut self) -> Option<Result<(u64, RawRow<'_>), TabularError>> {
        match self {
            Source::Csv(csv) => csv.next_row(),
            Source::Xlsx(xlsx) => xlsx.next_row(),
        }
    }
}

enum Detected {
    Csv,
    Xlsx,
}

fn detect(name: &str, head: &[u8]) -> Result<Detected, TabularError> {
    if head.is_empty() {
        return Err(TabularError::Empty);
    }
    if head.starts_with(ZIP_MAGIC) {
        return Ok(Detected::Xlsx);
    }
    if head.starts_with(OLE2_MAGIC) {
        return Err(TabularError::Unsupported {
            name: name.to_string(),
            reason: Unsupported::LegacyXls,
        });
    }
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("csv" | "txt") => Ok(Detected::Csv),
        Some("xlsx" | "xlsm") => Err(TabularError::Xlsx {
            detail: "not a ZIP archive".to_string(),
        }),
        _ => Err(TabularError::Unsupported {
            name: name.to_string(),
            reason: Unsupported::Extension,
        }),
    }
}

/// What the first bytes of a text file say about the rest.
#[derive(Clone, Copy)]
pub(crate) struct TextFormat {
    pub encoding: Encoding,
    pub delimiter: u8,
    /// Lines end in a bare CR, as in "CSV (Macintosh)" files from old Excel for Mac.
    pub cr_line_ends: bool,
}

fn sniff_text(name: &str, head: &[u8]) -> Result<TextFormat, TabularError> {
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(TabularError::Unsupported {
            name: name.to_string(),
            reason: Unsupported::Utf16,
        });
    }
    let encoding = if head.starts_with(UTF8_BOM) {
        Encoding::Utf8Bom
    } else if looks_like_utf8(head) {
        Encoding::Utf8
    } else {
        Encoding::Gb18030
    };
    // Excel's "Text (Tab delimited)" .txt uses tabs. None of these bytes occurs inside a
    // multi-byte character in UTF-8 or GB18030, so raw counts are safe.
    let count = |byte: u8| head.iter().filter(|&&b| b == byte).count();
    Ok(TextFormat {
        encoding,
        delimiter: if count(b'\t') > count(b',') {
            b'\t'
        } else {
            b','
        },
        cr_line_ends: count(b'\r') > 0 && count(b'\n') == 0,
    })
}

/// Whether text is UTF-8. A character cut at the end of the sniffed bytes does not count
/// against it, nor does a rare damaged sequence among many good ones: read as GB18030, a
/// UTF-8 file would turn every name into other, valid-looking characters, whereas read as
/// UTF-8 the damaged row is reported. GBK text has about as many invalid sequences as
/// characters, so it is never taken for UTF-8.
fn looks_like_utf8(mut bytes: &[u8]) -> bool {
    let mut good = 0usize;
    let mut bad = 0usize;
    let non_ascii = |valid: &[u8]| valid.iter().filter(|&&b| b >= 0xC0).count();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                good += non_ascii(bytes);
                break;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                good += non_ascii(valid);
                match e.error_len() {
                    None => break,
                    Some(len) => {
                        bad += 1;
                        bytes = rest.get(len..).unwrap_or_default();
                    }
                }
            }
        }
    }
    bad * UTF8_GOOD_PER_BAD <= good
}

/// Shared between the reader and the wrapper that counts the bytes it consumes.
#[derive(Default)]
pub(crate) struct Progress {
    read: AtomicU64,
    /// `read` when the current CSV record started.
    record_start: AtomicU64,
}

impl Progress {
    pub fn start_record(&self) {
        self.record_start
            .store(self.read.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// The error a [`Counted`] reader gives when one record grows past its limit.
#[derive(Debug, thiserror::Error)]
#[error("record too long")]
pub(crate) struct RecordTooLong;

/// Counts the bytes read (for the progress bar) and, for CSV, stops a single record from
/// growing without bound: an unclosed quote would otherwise swallow the rest of the file
/// into memory.
pub(crate) struct Counted<R> {
    inner: R,
    progress: Arc<Progress>,
    record_limit: Option<u64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R, progress: &Arc<Progress>, record_limit: Option<u64>) -> Counted<R> {
        Counted {
            inner,
            progress: Arc::clone(progress),
            record_limit,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(limit) = self.record_limit {
            let read = self.progress.read.load(Ordering::Relaxed);
            let start = self.progress.record_start.load(Ordering::Relaxed);
            if read.saturating_sub(start) > limit {
                return Err(io::Error::other(RecordTooLong));
            }
        }
        let n = self.inner.read(buf)?;
        self.progress.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}
