//! .xlsx rows, streamed from the first worksheet by calamine's cell reader.
//!
//! `XlsxCellReader` borrows the workbook mutably, so the two cannot live side by side in
//! the `TableReader` without unsafe code. A worker thread owns both and sends rows through a
//! bounded channel instead: memory stays flat, parsing the XML overlaps with the caller's
//! work, and a panic inside calamine on a hostile file ends only that thread (the reader
//! reports it as a damaged workbook). Dropping the reader stops the worker at its next send.

use std::io::{self, Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use calamine::{DataRef, ExcelDateTime, Reader, SheetType, SheetVisible, Xlsx, XlsxError};

use crate::read::RawRow;
use crate::{TabularError, trim_cell};

/// Excel's last column is XFD (16,384 columns); a cell reference beyond it is ignored.
const MAX_COLUMNS: u32 = 16_384;
const BATCH_ROWS: usize = 256;
const CHANNEL_BATCHES: usize = 4;

/// One non-blank row: its Excel row number and its non-empty cells.
type SheetRow = (u64, Vec<(usize, String)>);

enum Message {
    Rows(Vec<SheetRow>),
    Failed(TabularError),
    End,
}

pub(crate) struct XlsxSource {
    receiver: Receiver<Message>,
    batch: std::vec::IntoIter<SheetRow>,
    ended: bool,
}

impl XlsxSource {
    pub fn spawn<R: Read + Seek + Send + 'static>(input: R) -> Result<XlsxSource, TabularError> {
        let (sender, receiver) = sync_channel(CHANNEL_BATCHES);
        thread::Builder::new()
            .name("tabular-xlsx".to_string())
            .spawn(move || {
                let last = match stream(input, &sender) {
                    Ok(()) => Message::End,
                    Err(e) => Message::Failed(e),
                };
                // Fails only when the reader is gone, and then nobody is listening.
                let _ = sender.send(last);
            })?;
        Ok(XlsxSource {
            receiver,
            batch: Vec::new().into_iter(),
            ended: false,
        })
    }

    pub fn next_row(&mut self) -> Option<Result<(u64, RawRow<'_>), TabularError>> {
        loop {
            if let Some((row, cells)) = self.batch.next() {
                return Some(Ok((row, RawRow::Xlsx(cells))));
            }
            if self.ended {
                return None;
            }
            match self.receiver.recv() {
                Ok(Message::Rows(rows)) => self.batch = rows.into_iter(),
                Ok(Message::End) => self.ended = true,
                Ok(Message::Failed(e)) => {
                    self.ended = true;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.ended = true;
                    return Some(Err(TabularError::Xlsx {
                        detail: "the workbook reader stopped unexpectedly".to_string(),
                    }));
                }
            }
        }
    }
}

/// Reads the first worksheet and sends its non-blank rows. Returns early, without error,
/// once the receiving side is gone.
fn stream<R: Read + Seek>(input: R, sender: &SyncSender<Message>) -> Result<(), TabularError> {
    let mut book = Xlsx::new(input).map_err(xlsx_error)?;
    let sheet = first_sheet(&book)?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(xlsx_error)?;
    let mut batch: Vec<SheetRow> = Vec::with_capacity(BATCH_ROWS);
    let mut current: Option<(u32, Vec<(usize, String)>)> = None;
    let result = loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break Ok(()),
            Err(e) => break Err(xlsx_error(e)),
        };
        let (row, col) = cell.get_position();
        let text = cell_text(cell.get_value());
        if text.is_empty() || col >= MAX_COLUMNS {
            continue;
        }
        match &mut current {
            Some((r, row_cells)) if *r == row => row_cells.push((col as usize, text)),
            _ => {
                if let Some((r, row_cells)) = current.replace((row, vec![(col as usize, text)])) {
                    batch.push((u64::from(r) + 1, row_cells));
                }
                if batch.len() == BATCH_ROWS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                    if sender.send(Message::Rows(full)).is_err() {
                        return Ok(());
                    }
                }
            }
        }
    };
    // Rows read before a failure are still good; they go out ahead of the error.
    if let Some((r, row_cells)) = current {
        batch.push((u64::from(r) + 1, row_cells));
    }
    if !batch.is_empty() && sender.send(Message::Rows(batch)).is_err() {
        return Ok(());
    }
    result
}

/// The first worksheet as the user sees it: hidden sheets (often lookup lists) and chart
/// sheets are passed over unless nothing else is left.
fn first_sheet<R: Read + Seek>(book: &Xlsx<R>) -> Result<String, TabularError> {
    let sheets = book.sheets_metadata();
    let worksheets = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    worksheets()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| worksheets().next())
        .map(|s| s.name.clone())
        .ok_or_else(|| TabularError::Xlsx {
            detail: "the workbook has no worksheet".to_string(),
        })
}

fn xlsx_error(error: XlsxError) -> TabularError {
    match error {
        // Truncated or garbled archives surface as these kinds; they are damage, not IO.
        XlsxError::Io(e)
            if !matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            TabularError::Io(e)
        }
        other => TabularError::Xlsx {
            detail: other.to_string(),
        },
    }
}

/// The text of a cell as the user typed or sees it.
pub(crate) fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            trim_cell(s).to_string()
        }
        DataRef::SharedString(s) => trim_cell(s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::Bool(true) => "TRUE".to_string(),
        DataRef::Bool(false) => "FALSE".to_string(),
        DataRef::DateTime(d) => date_text(d),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// A number as Excel shows it in a General cell: integers without ".0" (a 学校标识码 typed as
/// a number), others in the shortest form after rounding to Excel's 15 significant digits,
/// which drops the binary noise of formulas (0.1+0.2 shows as 0.3).
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        // Exact: every integer below 2^53 converts without loss; -0 becomes 0.
        return (value as i64).to_string();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    rounded.to_string()
}

/// An Excel date: "YYYY-MM-DD", with " HH:MM:SS" only when the time is not midnight; a
/// time-only value (serial below 1) as "HH:MM:SS"; a duration as "[h]:MM:SS".
fn date_text(value: &ExcelDateTime) -> String {
    let serial = value.as_f64();
    if value.is_duration() {
        let seconds = (serial * 86_400.0).round();
        if !seconds.is_finite() {
            return serial.to_string();
        }
        let sign = if seconds < 0.0 { "-" } else { "" };
        let seconds = seconds.abs() as u64;
        return format!(
            "{sign}{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
    }
    let (year, month, day, hour, minute, second, _) = value.to_ymd_hms_milli();
    if (0.0..1.0).contains(&serial) {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else if (hour, minute, second) == (0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    }
}

#[cfg(test)]
mod tests {
    use calamine::{CellErrorType, DataRef, ExcelDateTime, ExcelDateTimeType};

    use super::cell_text;

    fn date(serial: f64) -> DataRef<'static> {
        DataRef::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    #[test]
    fn numbers_as_excel_shows_them() {
        assert_eq!(cell_text(&DataRef::Float(2151010001.0)), "2151010001");
        assert_eq!(cell_text(&DataRef::Float(-0.0)), "0");
        assert_eq!(cell_text(&DataRef::Float(170.5)), "170.5");
        assert_eq!(cell_text(&DataRef::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell_text(&DataRef::Float(1e20)), "100000000000000000000");
        assert_eq!(
            cell_text(&DataRef::Float(5.10104200001011e17)),
            "510104200001011000"
        );
        assert_eq!(cell_text(&DataRef::Float(f64::NAN)), "NaN");
        assert_eq!(cell_text(&DataRef::Int(-42)), "-42");
    }

    #[test]
    fn dates_booleans_errors() {
        assert_eq!(cell_text(&date(45943.0)), "2025-10-13");
        assert_eq!(cell_text(&date(45943.5)), "2025-10-13 12:00:00");
        assert_eq!(cell_text(&date(0.75)), "18:00:00");
        // Out-of-range serials give some text, never a panic.
        for serial in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
            let _ = cell_text(&date(serial));
        }
        let duration =
            DataRef::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert_eq!(cell_text(&duration), "36:00:00");
        assert_eq!(cell_text(&DataRef::Bool(true)), "TRUE");
        assert_eq!(cell_text(&DataRef::Error(CellErrorType::NA)), "#N/A");
        assert_eq!(cell_text(&DataRef::String(" 王\u{3000}".into())), "王");
    }
}
