//! CSV rows: decoded to UTF-8 while streaming, parsed by the csv crate.

use std::io::Read;
use std::sync::Arc;

use csv::{ByteRecord, StringRecord};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use crate::read::{Counted, Progress, RawRow, RecordTooLong};
use crate::{Encoding, TabularError, trim_cell};

/// Largest record accepted (in bytes of the file). A real row is a few hundred bytes; the
/// limit only stops an unclosed quote from reading the rest of the file into one field.
const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;

type Decoded = DecodeReaderBytes<Counted<Box<dyn Read + Send>>, Vec<u8>>;

pub(crate) struct CsvSource {
    reader: csv::Reader<Decoded>,
    encoding: Encoding,
    progress: Arc<Progress>,
    /// The current record; its buffers are reused for the next one.
    record: StringRecord,
    /// The line where the next record starts, for errors raised before it is complete.
    next_line: u64,
}

impl CsvSource {
    pub fn new(
        input: Box<dyn Read + Send>,
        encoding: Encoding,
        delimiter: u8,
        progress: &Arc<Progress>,
    ) -> CsvSource {
        let counted = Counted::new(input, progress, Some(MAX_RECORD_BYTES));
        let mut decoder = DecodeReaderBytesBuilder::new();
        match encoding {
            Encoding::Gb18030 => decoder.encoding(Some(encoding_rs::GB18030)),
            // No decoder at all for UTF-8: the bytes pass through untouched, so an invalid
            // sequence reaches the record check below instead of becoming U+FFFD.
            Encoding::Utf8 | Encoding::Utf8Bom => decoder.utf8_passthru(true).strip_bom(true),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(64 * 1024)
            .from_reader(decoder.build(counted));
        CsvSource {
            reader,
            encoding,
            progress: Arc::clone(progress),
            record: StringRecord::new(),
            next_line: 1,
        }
    }

    /// The next record with any non-blank field.
    pub fn next_row(&mut self) -> Option<Result<(u64, RawRow<'_>), TabularError>> {
        loop {
            self.progress.start_record();
            let mut raw = std::mem::take(&mut self.record).into_byte_record();
            let read = self.reader.read_byte_record(&mut raw);
            let row = raw.position().map_or(self.next_line, |p| p.line());
            match read {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(self.csv_error(e))),
            }
            self.next_line = self.reader.position().line();
            match StringRecord::from_byte_record(raw) {
                Ok(record) => self.record = record,
                Err(e) => {
                    self.record = recycle(e.into_byte_record());
                    return Some(Err(self.encoding_error(row)));
                }
            }
            // The GB18030 decoder replaces undecodable bytes with U+FFFD and cannot say where;
            // a replacement character in a list of names is always damage, so it is refused.
            if self.encoding == Encoding::Gb18030 && self.record.iter().any(|f| f.contains('\u{FFFD}'))
            {
                return Some(Err(self.encoding_error(row)));
            }
            if self.record.iter().all(|f| trim_cell(f).is_empty()) {
                continue;
            }
            return Some(Ok((row, RawRow::Csv(&self.record))));
        }
    }

    fn encoding_error(&self, row: u64) -> TabularError {
        TabularError::Encoding {
            row,
            encoding: self.encoding,
        }
    }

    fn csv_error(&self, error: csv::Error) -> TabularError {
        match error.into_kind() {
            csv::ErrorKind::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()) => {
                TabularError::Csv {
                    row: self.next_line,
                }
            }
            csv::ErrorKind::Io(e) => TabularError::Io(e),
            // A flexible reader of byte records has no other failure; kept total anyway.
            _ => TabularError::Csv {
                row: self.next_line,
            },
        }
    }
}

/// Keeps a record's allocation after its text turned out not to be UTF-8.
fn recycle(mut raw: ByteRecord) -> StringRecord {
    raw.clear();
    StringRecord::from_byte_record(raw).unwrap_or_default()
}
