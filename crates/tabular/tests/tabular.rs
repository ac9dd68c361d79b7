use std::fs;
use std::io::{BufWriter, Write};

use kernel::{Lang, Localized};
use proptest::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use tabular::{
    ColumnSpec, CsvWriter, Encoding, Problem, Record, ReportWriter, SourceKind, TableReader,
    TabularError, Unsupported, XlsxWriter, report_csv_bytes, report_xlsx_bytes, template_csv_bytes,
    template_xlsx_bytes,
};

static STUDENT: &[ColumnSpec] = &[
    ColumnSpec {
        name: "学籍号",
        aliases: &["学生学籍号"],
        required: true,
    },
    ColumnSpec {
        name: "姓名",
        aliases: &["学生姓名"],
        required: true,
    },
    ColumnSpec {
        name: "出生日期",
        aliases: &[],
        required: false,
    },
    ColumnSpec {
        name: "学校标识码",
        aliases: &[],
        required: false,
    },
];

static REPORT: &[ColumnSpec] = &[
    ColumnSpec {
        name: "行号",
        aliases: &[],
        required: false,
    },
    ColumnSpec {
        name: "列",
        aliases: &[],
        required: true,
    },
    ColumnSpec {
        name: "值",
        aliases: &[],
        required: false,
    },
    ColumnSpec {
        name: "原因",
        aliases: &[],
        required: true,
    },
];

fn record(row: u64, values: &[&str]) -> Record {
    Record {
        row,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn csv(text: &str) -> Result<TableReader, TabularError> {
    TableReader::from_bytes("名单.csv", text.as_bytes().to_vec(), STUDENT)
}

fn all(reader: TableReader) -> Vec<Record> {
    reader.map(|r| r.expect("record")).collect()
}

fn values(reader: TableReader) -> Vec<Vec<String>> {
    all(reader).into_iter().map(|r| r.values).collect()
}

/// Deterministic bytes that look like nothing in particular.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

// ---- CSV encodings ----

#[test]
fn utf8_csv() {
    let reader = csv("学籍号,姓名,出生日期,学校标识码\nG1,王𫖯,2008-01-01,5001010001\n").unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8));
    assert_eq!(reader.header_row(), 1);
    assert!(reader.extra_columns().is_empty());
    assert_eq!(
        all(reader),
        [record(2, &["G1", "王𫖯", "2008-01-01", "5001010001"])]
    );
}

#[test]
fn utf8_csv_with_bom() {
    let reader = csv("\u{feff}学籍号,姓名\r\nG1,李𬌗\r\n").unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8Bom));
    assert_eq!(all(reader), [record(2, &["G1", "李𬌗", "", ""])]);
}

#[test]
fn gb18030_csv_keeps_names_outside_the_bmp() {
    let text = "学籍号,姓名\nG1,王𫖯\nG2,李𬌗\n";
    let (bytes, _, had_errors) = encoding_rs::GB18030.encode(text);
    assert!(!had_errors);
    let reader = TableReader::from_bytes("名单.csv", bytes.into_owned(), STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Gb18030));
    let names: Vec<String> = all(reader)
        .into_iter()
        .map(|r| r.values[1].clone())
        .collect();
    assert_eq!(names, ["王𫖯", "李𬌗"]);
    assert_eq!(names[0].as_bytes(), "王𫖯".as_bytes());
}

#[test]
fn gbk_csv_with_rare_characters() {
    // Characters people complain about: rare but inside GBK.
    let names = [
        "张堃", "李喆", "王赟", "陈祎", "刘彧", "赵犇", "孙淼", "周燚", "吴垚",
    ];
    let mut text = String::from("学籍号,姓名\n");
    for (i, name) in names.iter().enumerate() {
        text.push_str(&format!("G{i},{name}\n"));
    }
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(&text);
    assert!(!had_errors);
    let reader = TableReader::from_bytes("名单.csv", bytes.into_owned(), STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Gb18030));
    let read: Vec<String> = all(reader)
        .into_iter()
        .map(|r| r.values[1].clone())
        .collect();
    assert_eq!(read, names);
}

#[test]
fn invalid_gb18030_sequence_is_an_error_naming_the_row() {
    let mut bytes = encoding_rs::GBK
        .encode("学籍号,姓名\nG1,张三\n")
        .0
        .into_owned();
    bytes.extend_from_slice(b"G2,\x81\x20\n");
    bytes.extend_from_slice(&encoding_rs::GBK.encode("G3,李四\n").0);
    let mut reader = TableReader::from_bytes("名单.csv", bytes, STUDENT).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().values[1], "张三");
    let err = reader.next().unwrap().unwrap_err();
    assert!(matches!(
        err,
        TabularError::Encoding {
            row: 3,
            encoding: Encoding::Gb18030
        }
    ));
    // The reader goes on with the next row.
    assert_eq!(
        reader.next().unwrap().unwrap(),
        record(4, &["G3", "李四", "", ""])
    );
    assert!(reader.next().is_none());
}

#[test]
fn invalid_utf8_after_the_sniffed_bytes_is_an_error_naming_the_row() {
    let mut bytes = "学籍号,姓名\n".as_bytes().to_vec();
    let mut line = 1;
    while bytes.len() < 70 * 1024 {
        line += 1;
        bytes.extend_from_slice(format!("G{line},王五\n").as_bytes());
    }
    bytes.extend_from_slice(b"GX,\xff\xfe\n");
    bytes.extend_from_slice("GY,赵六\n".as_bytes());
    let reader = TableReader::from_bytes("名单.csv", bytes, STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8));
    let items: Vec<_> = reader.collect();
    let n = items.len();
    assert!(matches!(
        items[n - 2],
        Err(TabularError::Encoding { row, encoding: Encoding::Utf8 }) if row == line + 1
    ));
    assert_eq!(
        items[n - 1].as_ref().unwrap(),
        &record(line + 2, &["GY", "赵六", "", ""])
    );
}

#[test]
fn a_damaged_byte_early_in_a_utf8_file_is_reported_not_misdecoded() {
    let mut bytes = "学籍号,姓名\nG1,王?\n".as_bytes().to_vec();
    // The '?' after 王 becomes a byte that is never UTF-8.
    let at = bytes.len() - 2;
    bytes[at] = 0xFF;
    for i in 2..40 {
        bytes.extend_from_slice(format!("G{i},欧阳娜娜\n").as_bytes());
    }
    let mut reader = TableReader::from_bytes("名单.csv", bytes, STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8));
    assert!(matches!(
        reader.next(),
        Some(Err(TabularError::Encoding { row: 2, .. }))
    ));
    assert!(reader.all(|r| r.unwrap().values[1] == "欧阳娜娜"));
}

#[test]
fn a_character_cut_at_the_sniff_boundary_is_still_utf8() {
    // Place "王" (3 bytes) across the 64 KiB mark.
    let head = "学籍号,姓名\nG1,";
    let pad = 64 * 1024 - 1 - head.len() - "\nG2,".len();
    let text = format!("{head}{}\nG2,王\n", "a".repeat(pad));
    assert!(!text.is_char_boundary(64 * 1024));
    let reader = csv(&text).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8));
    assert_eq!(values(reader)[1], ["G2", "王", "", ""]);
}

#[test]
fn utf16_and_legacy_xls_are_refused_with_a_hint() {
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "学籍号,姓名\r\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let err = TableReader::from_bytes("名单.txt", utf16, STUDENT)
        .err()
        .unwrap();
    assert!(matches!(
        err,
        TabularError::Unsupported {
            reason: Unsupported::Utf16,
            ..
        }
    ));
    assert_eq!(err.code(), "file.unsupported");

    let mut xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    xls.extend(garbage(600, 1));
    let err = TableReader::from_bytes("名单.xls", xls, STUDENT)
        .err()
        .unwrap();
    assert!(matches!(
        err,
        TabularError::Unsupported {
            reason: Unsupported::LegacyXls,
            ..
        }
    ));
    assert!(err.message(Lang::Zh).contains(".xlsx"));
}

#[test]
fn tab_delimited_text() {
    let bytes = "学籍号\t姓名\nG1\t王𫖯\n".as_bytes().to_vec();
    let reader = TableReader::from_bytes("名单.txt", bytes, STUDENT).unwrap();
    assert_eq!(values(reader), [["G1", "王𫖯", "", ""]]);
}

#[test]
fn old_mac_line_ends() {
    let reader = csv("名单\r学籍号,姓名\rG1,王𫖯\r\rG2,\"李\r四\"\r").unwrap();
    assert_eq!(reader.header_row(), 2);
    assert_eq!(
        all(reader),
        [
            record(3, &["G1", "王𫖯", "", ""]),
            record(5, &["G2", "李\n四", "", ""]),
        ]
    );
}

// ---- header ----

#[test]
fn title_rows_above_the_header_are_skipped() {
    let reader =
        csv("重庆市2024年学籍名单,,\n填表说明：带*为必填,,\n\n学籍号,姓名\r\nG1,王𫖯\n").unwrap();
    assert_eq!(reader.header_row(), 4);
    assert_eq!(all(reader), [record(5, &["G1", "王𫖯", "", ""])]);
}

#[test]
fn reordered_marked_and_extra_columns() {
    let reader =
        csv("备注,　姓名,序号,*学籍号,出生日期（YYYY-MM-DD）\n班长,王𫖯 ,1,＊G1,2008-01-01\n")
            .unwrap();
    assert_eq!(reader.extra_columns(), ["备注", "序号"]);
    assert_eq!(reader.columns_present(), [true, true, true, false]);
    // Only the surrounding whitespace goes; a '*' in a value is the value.
    assert_eq!(values(reader), [["＊G1", "王𫖯", "2008-01-01", ""]]);
}

#[test]
fn aliases_match() {
    let reader = csv("学生姓名,学生学籍号\n王𫖯,G1\n").unwrap();
    assert_eq!(values(reader), [["G1", "王𫖯", "", ""]]);
}

#[test]
fn missing_required_columns_are_all_named() {
    let err = csv("学号,名字\nG1,王\n").err().unwrap();
    assert!(matches!(&err, TabularError::Header { missing } if missing == &["学籍号", "姓名"]));
    assert_eq!(err.code(), "file.header");
    assert_eq!(
        err.message(Lang::Zh),
        "找不到表头：缺少“学籍号”“姓名”列。请使用模板中的列名。"
    );
    assert!(err.message(Lang::En).contains("“学籍号”, “姓名”"));

    // The best candidate row decides what is reported.
    let err = csv("名单\n学籍号,性别\nG1,男\n").err().unwrap();
    assert!(matches!(&err, TabularError::Header { missing } if missing == &["姓名"]));
}

#[test]
fn header_must_be_within_the_first_twenty_rows() {
    let titles = |n: usize| "说明\n".repeat(n);
    assert!(csv(&format!("{}学籍号,姓名\nG1,王\n", titles(19))).is_ok());
    let err = csv(&format!("{}学籍号,姓名\nG1,王\n", titles(20)))
        .err()
        .unwrap();
    assert!(matches!(err, TabularError::Header { .. }));
}

#[test]
fn duplicate_header_is_an_error() {
    for text in ["学籍号,姓名,学籍号\n", "学籍号,姓名,*学生学籍号\n"] {
        let err = csv(text).err().unwrap();
        assert!(matches!(
            err,
            TabularError::DuplicateColumn {
                column: "学籍号",
                row: 1
            }
        ));
        assert_eq!(err.code(), "file.duplicate_column");
    }
}

// ---- rows ----

#[test]
fn blank_short_and_long_rows() {
    let reader = csv("学籍号,姓名,出生日期\n\
         G1,王𫖯,2008-01-01\n\
         ,,\n\
         \u{3000}, ,\t\n\
         \n\
         G2\n\
         G3,李𬌗,2008-02-29,多余,更多\n\
         ,,\n\
         \n")
    .unwrap();
    assert_eq!(
        all(reader),
        [
            record(2, &["G1", "王𫖯", "2008-01-01", ""]),
            record(6, &["G2", "", "", ""]),
            record(7, &["G3", "李𬌗", "2008-02-29", ""]),
        ]
    );
}

#[test]
fn quoted_fields_spanning_lines_keep_the_user_visible_row() {
    let reader = csv("学籍号,姓名\r\n\"G1\",\"王\r\n小明\"\r\nG2,\"李, \"\"四\"\"\"\r\n").unwrap();
    assert_eq!(
        all(reader),
        [
            record(2, &["G1", "王\r\n小明", "", ""]),
            record(4, &["G2", "李, \"四\"", "", ""]),
        ]
    );
}

#[test]
fn row_numbers_with_crlf_blank_lines_and_no_final_line_end() {
    let reader =
        csv("标题\r\n\r\n学籍号,姓名\r\n\r\nG1,王\r\n,\r\n\n\nG2,\"李\r\n四\"\r\nG3,赵").unwrap();
    assert_eq!(reader.header_row(), 3);
    assert_eq!(
        all(reader),
        [
            record(5, &["G1", "王", "", ""]),
            record(9, &["G2", "李\r\n四", "", ""]),
            record(11, &["G3", "赵", "", ""]),
        ]
    );
    // A quoted line break in the last record of a file without a final line end.
    let reader = csv("学籍号,姓名\nG1,\"王\n五\"").unwrap();
    assert_eq!(all(reader), [record(2, &["G1", "王\n五", "", ""])]);
}

#[test]
fn an_unclosed_quote_stops_with_a_csv_error() {
    let mut bytes = "学籍号,姓名\nG1,\"王\n".as_bytes().to_vec();
    let filler = "G2,李四\n".repeat(9 * 1024 * 1024 / 10);
    bytes.extend_from_slice(filler.as_bytes());
    let mut reader = TableReader::from_bytes("名单.csv", bytes, STUDENT).unwrap();
    let err = reader.next().unwrap().unwrap_err();
    assert!(matches!(err, TabularError::Csv { row: 2 }), "{err:?}");
    assert_eq!(err.code(), "file.csv");
    assert!(reader.next().is_none());
}

#[test]
fn empty_files() {
    for (name, bytes) in [
        ("名单.csv", Vec::new()),
        ("名单.xlsx", Vec::new()),
        ("名单.csv", b"\n\n\r\n,,,\n\xE3\x80\x80, \n".to_vec()),
        ("名单.csv", b"\xEF\xBB\xBF".to_vec()),
    ] {
        let err = TableReader::from_bytes(name, bytes, STUDENT).err().unwrap();
        assert!(matches!(err, TabularError::Empty), "{name}: {err:?}");
        assert_eq!(err.code(), "file.empty");
    }
}

#[test]
fn binary_garbage_is_refused() {
    for seed in 0..20 {
        let bytes = garbage(100_000, seed);
        let err = TableReader::from_bytes("名单.csv", bytes.clone(), STUDENT)
            .err()
            .unwrap();
        assert!(
            ["file.encoding", "file.header", "file.csv"].contains(&err.code()),
            "{err:?}"
        );
        let err = TableReader::from_bytes("名单.xlsx", bytes.clone(), STUDENT)
            .err()
            .unwrap();
        assert_eq!(err.code(), "file.xlsx");
        let mut zip_like = b"PK\x03\x04".to_vec();
        zip_like.extend(bytes);
        let err = TableReader::from_bytes("名单.xlsx", zip_like, STUDENT)
            .err()
            .unwrap();
        assert_eq!(err.code(), "file.xlsx", "{err:?}");
    }
}

#[test]
fn unknown_types_are_refused_but_a_workbook_is_known_by_its_content() {
    let err = TableReader::from_bytes("名单.pdf", b"%PDF-1.7".to_vec(), STUDENT)
        .err()
        .unwrap();
    assert!(matches!(
        err,
        TabularError::Unsupported {
            reason: Unsupported::Extension,
            ..
        }
    ));
    assert!(err.message(Lang::Zh).contains("名单.pdf"));

    let book = template_xlsx_bytes("学生", STUDENT, &[], &[example()]).unwrap();
    let reader = TableReader::from_bytes("名单.csv", book, STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Xlsx);
}

#[test]
fn open_reads_files_and_reports_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("名单.CSV");
    fs::write(&path, "学籍号,姓名\nG1,王𫖯\n").unwrap();
    let reader = TableReader::open(&path, STUDENT).unwrap();
    assert_eq!(
        reader.total_bytes(),
        Some(fs::metadata(&path).unwrap().len())
    );
    assert_eq!(values(reader), [["G1", "王𫖯", "", ""]]);

    let err = TableReader::open(&dir.path().join("没有.csv"), STUDENT)
        .err()
        .unwrap();
    assert_eq!(err.code(), "file.io");
}

#[test]
fn streams_a_large_csv() {
    const ROWS: u64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("大名单.csv");
    let mut out = BufWriter::new(fs::File::create(&path).unwrap());
    out.write_all("重庆市学籍名单\n\n姓名,备注,学籍号\n".as_bytes())
        .unwrap();
    let mut expected_line = Vec::with_capacity(ROWS as usize);
    let mut line = 3;
    for i in 0..ROWS {
        if i % 1000 == 999 {
            out.write_all(b",,\n").unwrap();
            line += 1;
        }
        line += 1;
        expected_line.push(line);
        writeln!(out, "学生{i},,G{i:018}").unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();

    let reader = TableReader::open(&path, STUDENT).unwrap();
    assert_eq!(reader.header_row(), 3);
    let total = reader.total_bytes().unwrap();
    let mut seen = 0u64;
    let mut reader = reader;
    let mut last_progress = 0;
    while let Some(item) = reader.next() {
        let record = item.unwrap();
        assert_eq!(record.row, expected_line[seen as usize]);
        assert_eq!(record.values[0], format!("G{seen:018}"));
        assert_eq!(record.values[1], format!("学生{seen}"));
        let progress = reader.bytes_read();
        assert!(progress >= last_progress && progress <= total);
        last_progress = progress;
        seen += 1;
    }
    assert_eq!(seen, ROWS);
    assert_eq!(reader.bytes_read(), total);
}

// ---- .xlsx ----

#[test]
fn xlsx_with_numbers_dates_booleans_and_shared_strings() {
    static COLUMNS: &[ColumnSpec] = &[
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
        ColumnSpec {
            name: "出生日期",
            aliases: &[],
            required: false,
        },
        ColumnSpec {
            name: "学校标识码",
            aliases: &[],
            required: false,
        },
        ColumnSpec {
            name: "在校",
            aliases: &[],
            required: false,
        },
        ColumnSpec {
            name: "身高",
            aliases: &[],
            required: false,
        },
        ColumnSpec {
            name: "核对",
            aliases: &[],
            required: false,
        },
    ];
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "重庆市某中学学籍名单").unwrap();
    let header = [
        "学籍号",
        "*姓名",
        "出生日期(YYYY-MM-DD)",
        "学校标识码",
        "在校",
        "身高",
        "核对",
    ];
    for (col, title) in (0u16..).zip(header) {
        ws.write_string(1, col, title).unwrap();
    }
    ws.write_string(2, 0, " G500101200801011234 ").unwrap();
    ws.write_string(2, 1, "王𫖯").unwrap();
    let birthday = ExcelDateTime::from_ymd(2008, 1, 1).unwrap();
    ws.write_datetime_with_format(2, 2, &birthday, &date)
        .unwrap();
    ws.write_number(2, 3, 2151010001.0).unwrap();
    ws.write_boolean(2, 4, true).unwrap();
    ws.write_number(2, 5, 170.5).unwrap();
    ws.write_formula(2, 6, Formula::new("=NA()").set_result("#N/A"))
        .unwrap();
    // Row 4 is left out: a blank row. Row 5 has only whitespace: blank too.
    ws.write_string(4, 0, "\u{3000}").unwrap();
    ws.write_string(5, 0, "G2").unwrap();
    ws.write_string(5, 1, "李𬌗").unwrap();
    let moment = ExcelDateTime::from_ymd(2008, 2, 29)
        .unwrap()
        .and_hms(8, 30, 5)
        .unwrap();
    ws.write_datetime_with_format(5, 2, &moment, &datetime)
        .unwrap();
    ws.write_number(5, 3, 0.1).unwrap();
    ws.write_boolean(5, 4, false).unwrap();
    // A cell far right of the header is ignored, not a reason to allocate.
    ws.write_string(5, 16_000, "远处").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(contains(&bytes, b"xl/sharedStrings.xml"));

    let reader = TableReader::from_bytes("名单.xlsx", bytes, COLUMNS).unwrap();
    assert_eq!(reader.kind(), SourceKind::Xlsx);
    assert_eq!(reader.header_row(), 2);
    assert_eq!(
        all(reader),
        [
            record(
                3,
                &[
                    "G500101200801011234",
                    "王𫖯",
                    "2008-01-01",
                    "2151010001",
                    "TRUE",
                    "170.5",
                    "#N/A"
                ]
            ),
            record(
                6,
                &["G2", "李𬌗", "2008-02-29 08:30:05", "0.1", "FALSE", "", ""]
            ),
        ]
    );
}

#[test]
fn damaged_workbook_is_an_error_not_a_panic() {
    let book = template_xlsx_bytes("学生", STUDENT, &[], &vec![example(); 50]).unwrap();
    for cut in [10, book.len() / 3, book.len() / 2, book.len() - 10] {
        let result = TableReader::from_bytes("名单.xlsx", book[..cut].to_vec(), STUDENT);
        match result {
            Err(e) => assert!(["file.xlsx", "file.io"].contains(&e.code()), "{e:?}"),
            Ok(reader) => {
                for item in reader {
                    if let Err(e) = item {
                        assert_eq!(e.code(), "file.xlsx");
                    }
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---- writers ----

fn example() -> Vec<String> {
    ["G510104200801011234", "王𫖯", "2008-01-01", "0012"]
        .map(String::from)
        .to_vec()
}

fn export_rows() -> Vec<[&'static str; 4]> {
    vec![
        ["G510104200801011234", "王𫖯", "2008-01-01", "0012"],
        ["L123", "李𬌗", "", "=1+1"],
        ["J5101", "欧阳\"小\"明, 二", "2008-02-29", "x\ny"],
        ["510104200801011234", "𠀀𪚥", "", "5101010001"],
    ]
}

#[test]
fn csv_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("导出.csv");
    let mut writer = CsvWriter::create(&path, STUDENT).unwrap();
    for row in export_rows() {
        writer.push(&row).unwrap();
    }
    assert!(writer.push(&["too", "few"]).is_err());
    writer.finish().unwrap();
    assert!(fs::read(&path).unwrap().starts_with(b"\xEF\xBB\xBF"));

    let reader = TableReader::open(&path, STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Csv(Encoding::Utf8Bom));
    assert_eq!(values(reader), export_rows());

    // Into memory, e.g. for a download.
    let mut writer = CsvWriter::new(Vec::new(), STUDENT).unwrap();
    writer.push(&export_rows()[0]).unwrap();
    let bytes = writer.finish().unwrap();
    let reader = TableReader::from_bytes("导出.csv", bytes, STUDENT).unwrap();
    assert_eq!(values(reader), [export_rows()[0]]);
}

#[test]
fn xlsx_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("导出.xlsx");
    let mut writer = XlsxWriter::create(&path, "学生", STUDENT).unwrap();
    for row in export_rows() {
        writer.push(&row).unwrap();
    }
    writer.finish().unwrap();
    let bytes = fs::read(&path).unwrap();
    // Constant-memory mode writes inline strings, the other string form.
    assert!(!contains(&bytes, b"xl/sharedStrings.xml"));

    let reader = TableReader::open(&path, STUDENT).unwrap();
    assert_eq!(reader.kind(), SourceKind::Xlsx);
    let read = values(reader);
    assert_eq!(read, export_rows());
    assert_eq!(read[0][1].as_bytes(), "王𫖯".as_bytes());
}

fn problems() -> Vec<Problem> {
    vec![
        Problem {
            row: 0,
            column: "学籍号".into(),
            value: String::new(),
            reason: "缺少必填列".into(),
        },
        Problem {
            row: 12,
            column: "姓名".into(),
            value: "王𫖯".into(),
            reason: "与第 5 行重复".into(),
        },
        Problem {
            row: 13,
            column: "出生日期".into(),
            value: "x".repeat(5000),
            reason: "日期格式应为 YYYY-MM-DD".into(),
        },
    ]
}

fn check_report(reader: TableReader) {
    let rows = values(reader);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], ["", "学籍号", "", "缺少必填列"]);
    assert_eq!(rows[1], ["12", "姓名", "王𫖯", "与第 5 行重复"]);
    assert_eq!(rows[2][0], "13");
    assert_eq!(rows[2][2].chars().count(), 1001);
    assert!(rows[2][2].ends_with('…'));
}

#[test]
fn report_writers() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["报告.csv", "报告.xlsx"] {
        let path = dir.path().join(name);
        let mut writer = if name.ends_with(".csv") {
            ReportWriter::csv(&path).unwrap()
        } else {
            ReportWriter::xlsx(&path).unwrap()
        };
        for problem in problems() {
            writer.push(&problem).unwrap();
        }
        writer.finish().unwrap();
        check_report(TableReader::open(&path, REPORT).unwrap());
    }

    let bytes = report_csv_bytes(&problems());
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));

    // A value that Excel would run as a formula is defused in the CSV report only.
    let formula = [Problem {
        row: 2,
        column: "姓名".into(),
        value: "=HYPERLINK(\"http://x\")".into(),
        reason: "不是姓名".into(),
    }];
    let csv_report = TableReader::from_bytes("报告.csv", report_csv_bytes(&formula), REPORT);
    assert_eq!(
        values(csv_report.unwrap())[0][2],
        "'=HYPERLINK(\"http://x\")"
    );
    let xlsx_report =
        TableReader::from_bytes("报告.xlsx", report_xlsx_bytes(&formula).unwrap(), REPORT);
    assert_eq!(
        values(xlsx_report.unwrap())[0][2],
        "=HYPERLINK(\"http://x\")"
    );

    check_report(TableReader::from_bytes("报告.csv", bytes, REPORT).unwrap());
    let bytes = report_xlsx_bytes(&problems()).unwrap();
    check_report(TableReader::from_bytes("报告.xlsx", bytes, REPORT).unwrap());
    assert!(report_xlsx_bytes(&[]).is_ok());
}

#[test]
fn templates_read_back() {
    let notes = [
        ("学籍号", "G + 18 位身份证号，如 G510104200801011234"),
        ("出生日期", "格式 YYYY-MM-DD，如 2008-01-01"),
    ];
    let examples = vec![example(), ["L1", "李𬌗", "", ""].map(String::from).to_vec()];
    let book = template_xlsx_bytes("学生名单", STUDENT, &notes, &examples).unwrap();
    let reader = TableReader::from_bytes("模板.xlsx", book, STUDENT).unwrap();
    assert_eq!(reader.header_row(), 1);
    assert!(reader.extra_columns().is_empty());
    assert_eq!(reader.columns_present(), [true; 4]);
    assert_eq!(values(reader), examples);

    let csv_template = template_csv_bytes(STUDENT, &examples);
    assert!(csv_template.starts_with("\u{feff}*学籍号,*姓名,出生日期,学校标识码\r\n".as_bytes()));
    let reader = TableReader::from_bytes("模板.csv", csv_template, STUDENT).unwrap();
    assert_eq!(reader.header_row(), 1);
    assert_eq!(values(reader), examples);

    assert!(template_xlsx_bytes("学生名单", STUDENT, &[("性别", "男/女")], &[]).is_err());
    assert!(template_xlsx_bytes("学生名单", STUDENT, &[], &[vec!["G1".into()]]).is_err());
}

#[test]
fn template_sheets() {
    use calamine::Reader;
    let book = template_xlsx_bytes("学生名单", STUDENT, &[("姓名", "与户口簿一致")], &[]).unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(book)).unwrap();
    assert_eq!(book.sheet_names(), ["学生名单", "填写说明"]);
    let guide = book.worksheet_range("填写说明").unwrap();
    let row = guide
        .rows()
        .find(|r| matches!(r.first(), Some(calamine::Data::String(s)) if s == "姓名"))
        .unwrap();
    assert_eq!(row[1].to_string(), "必填");
    assert_eq!(row[2].to_string(), "与户口簿一致");
}

// ---- errors ----

#[test]
fn every_error_has_a_code_and_two_messages() {
    let errors = [
        TabularError::Unsupported {
            name: "a.pdf".into(),
            reason: Unsupported::Extension,
        },
        TabularError::Empty,
        TabularError::Header {
            missing: vec!["学籍号"],
        },
        TabularError::DuplicateColumn {
            column: "姓名",
            row: 3,
        },
        TabularError::Encoding {
            row: 7,
            encoding: Encoding::Gb18030,
        },
        TabularError::Csv { row: 9 },
        TabularError::Xlsx {
            detail: "bad".into(),
        },
        TabularError::Io(std::io::Error::other("disk")),
    ];
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "file.unsupported",
            "file.empty",
            "file.header",
            "file.duplicate_column",
            "file.encoding",
            "file.csv",
            "file.xlsx",
            "file.io"
        ]
    );
    for e in &errors {
        let zh = e.message(Lang::Zh);
        let en = e.message(Lang::En);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(en.is_ascii() || en.contains('“'), "{en}");
    }
    assert!(errors[4].message(Lang::Zh).contains("第 7 行"));
    assert!(errors[4].message(Lang::En).contains("GB18030"));
}

#[test]
fn reader_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<TableReader>();
}

// ---- no panics on any input ----

/// Reads everything; a panic inside calamine would show as its worker stopping.
fn drain(name: &str, bytes: Vec<u8>) {
    let check = |e: &TabularError| {
        assert!(
            !matches!(e, TabularError::Xlsx { detail } if detail.contains("stopped unexpectedly")),
            "{e:?}"
        )
    };
    match TableReader::from_bytes(name, bytes, STUDENT) {
        Ok(reader) => reader.filter_map(Result::err).for_each(|e| check(&e)),
        Err(e) => check(&e),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        drain("x.csv", bytes.clone());
        drain("x.xlsx", bytes.clone());
        let mut zip_like = b"PK\x03\x04".to_vec();
        zip_like.extend(bytes);
        drain("x.xlsx", zip_like);
    }

    #[test]
    fn damaged_csv_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20)
    ) {
        let mut bytes = encoding_rs::GB18030
            .encode("名单\n学籍号,姓名,出生日期\nG1,王𫖯,2008-01-01\n\"G2\",\"李\n𬌗\",\n")
            .0
            .into_owned();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        drain("x.csv", bytes);
    }

    #[test]
    fn damaged_xlsx_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = template_xlsx_bytes("学生", STUDENT, &[], &[example()]).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        drain("x.xlsx", bytes);
    }
}
