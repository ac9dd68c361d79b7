//! CSV rows: decoded to UTF-8 while streaming, parsed by the csv crate.

use std::io::{self, Read};
use std::sync::Arc;

use csv::{ByteRecord, StringRecord};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use crate::read::{Counted, Progress, RawRow, RecordTooLong, TextFormat};
use crate::{Encoding, TabularError, trim_cell};

/// Largest record accepted (in bytes of the file). A real row is a few hundred bytes; the
/// limit only stops an unclosed quote from reading the rest of the file into one field.
const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;

type Decoded = Tail<DecodeReaderBytes<Counted<Box<dyn Read + Send>>, Vec<u8>>>;

pub(crate) struct CsvSource {
    reader: csv::Reader<Decoded>,
    encoding: Encoding,
    progress: Arc<Progress>,
    /// The current record; its buffers are reused for the next one.
    record: StringRecord,
}

impl CsvSource {
    pub fn new(
        input: Box<dyn Read + Send>,
        text: TextFormat,
        progress: &Arc<Progress>,
    ) -> CsvSource {
        let encoding = text.encoding;
        let counted = Counted::new(input, progress, Some(MAX_RECORD_BYTES));
        let mut decoder = DecodeReaderBytesBuilder::new();
        match encoding {
            Encoding::Gb18030 => decoder.encoding(Some(encoding_rs::GB18030)),
            // No decoder at all for UTF-8: the bytes pass through untouched, so an invalid
            // sequence reaches the record check below instead of becoming U+FFFD.
            Encoding::Utf8 | Encoding::Utf8Bom => decoder.utf8_passthru(true).strip_bom(true),
        };
        // Only '\n' ends a record, so that every record read consumes its own line end and
        // the row numbers below come out right; the '\r' of CRLF stays at the end of the last
        // field, where trimming removes it.
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(text.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(64 * 1024)
            .from_reader(Tail::new(decoder.build(counted), text.cr_line_ends));
        CsvSource {
            reader,
            encoding,
            progress: Arc::clone(progress),
            record: StringRecord::new(),
        }
    }

    /// The next record with any non-blank field.
    pub fn next_row(&mut self) -> Option<Result<(u64, RawRow<'_>), TabularError>> {
        loop {
            self.progress.start_record();
            let mut raw = std::mem::take(&mut self.record).into_byte_record();
            match self.reader.read_byte_record(&mut raw) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    let row = raw.position().map_or(1, |p| p.line());
                    return Some(Err(self.csv_error(e, row)));
                }
            }
            let row = self.start_line(&raw);
            match StringRecord::from_byte_record(raw) {
                Ok(record) => self.record = record,
                Err(e) => {
                    self.record = recycle(e.into_byte_record());
                    return Some(Err(self.encoding_error(row)));
                }
            }
            // The GB18030 decoder replaces undecodable bytes with U+FFFD and cannot say where;
            // a replacement character in a list of names is always damage, so it is refused.
            if self.encoding == Encoding::Gb18030
                && self.record.iter().any(|f| f.contains('\u{FFFD}'))
            {
                return Some(Err(self.encoding_error(row)));
            }
            if self.record.iter().all(|f| trim_cell(f).is_empty()) {
                continue;
            }
            return Some(Ok((row, RawRow::Csv(&self.record))));
        }
    }

    /// The line where the record just read starts. The csv crate's own record position is
    /// where the reader stood before skipping empty lines, so it is worked back from the
    /// line after the record: minus the line breaks inside quoted fields, minus the record's
    /// own line end unless the file ended without one.
    fn start_line(&self, record: &ByteRecord) -> u64 {
        let inner_breaks = record
            .iter()
            .map(|field| field.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum::<u64>();
        let own_end = u64::from(!self.reader.get_ref().ended_without_line_end());
        self.reader
            .position()
            .line()
            .saturating_sub(inner_breaks + own_end)
            .max(1)
    }

    fn encoding_error(&self, row: u64) -> TabularError {
        TabularError::Encoding {
            row,
            encoding: self.encoding,
        }
    }

    /// `row` is where the failed record started, as far as the reader knows.
    fn csv_error(&self, error: csv::Error, row: u64) -> TabularError {
        match error.into_kind() {
            csv::ErrorKind::Io(e)
                if e.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()) =>
            {
                TabularError::Csv { row }
            }
            csv::ErrorKind::Io(e) => TabularError::Io(e),
            // A flexible reader of byte records has no other failure; kept total anyway.
            _ => TabularError::Csv { row },
        }
    }
}

/// Keeps a record's allocation after its text turned out not to be UTF-8.
fn recycle(mut raw: ByteRecord) -> StringRecord {
    raw.clear();
    StringRecord::from_byte_record(raw).unwrap_or_default()
}

/// Remembers how the decoded text ended, which the row numbers of the last record need,
/// and turns bare-CR line ends into LF (the only line end the reader is set to).
pub(crate) struct Tail<R> {
    inner: R,
    cr_line_ends: bool,
    at_end: bool,
    last: Option<u8>,
}

impl<R> Tail<R> {
    fn new(inner: R, cr_line_ends: bool) -> Tail<R> {
        Tail {
            inner,
            cr_line_ends,
            at_end: false,
            last: None,
        }
    }

    fn ended_without_line_end(&self) -> bool {
        self.at_end && self.last != Some(b'\n')
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = buf.get_mut(..n).unwrap_or_default();
        if self.cr_line_ends {
            // 0x0D is only ever CR in UTF-8, which the decoder has produced.
            read.iter_mut()
                .filter(|b| **b == b'\r')
                .for_each(|b| *b = b'\n');
        }
        match read.last() {
            None => self.at_end = true,
            last => self.last = last.copied(),
        }
        Ok(n)
    }
}
