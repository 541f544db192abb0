//! How results are shown: one generic writer for every action.
//!
//! A listed item type says only what its table columns are ([`Row`]: a
//! header and the cell text per column); an action's whole answer says how
//! its table looks ([`Render`]). JSON and NDJSON always come from serde,
//! with the API's element names as keys, so they need nothing per type.
//!
//! Every writer writes to any `io::Write` so tests can use a `Vec<u8>`, and
//! a listing is written one page at a time so memory stays one page however
//! long it is. Text from the service is passed through
//! [`crate::terminal::printable`] (the one escaping rule) before it reaches
//! a table or stderr; column widths are display widths of the escaped text,
//! so wide (CJK) characters line up and invisible ones cannot shift a column.

use std::borrow::Cow;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::time::SystemTime;

use cos_ci_proto::{CiTimestamp, Cursor};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::args::OutputFormat;
use crate::terminal::printable;

/// One table column of `T`: its header and how to get a row's cell text
/// (raw; the writer escapes it).
pub struct Column<T> {
    /// The header, usually the API's element name (`RunId`).
    pub header: &'static str,
    /// The cell text of one row.
    pub cell: for<'a> fn(&'a T) -> Cow<'a, str>,
}

impl<T> Column<T> {
    /// A column: its header and how to get a row's cell.
    pub const fn new(header: &'static str, cell: for<'a> fn(&'a T) -> Cow<'a, str>) -> Self {
        Column { header, cell }
    }
}

impl<T> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// An item shown as one table row. JSON and NDJSON come from its
/// `Serialize` impl.
pub trait Row: Serialize + Sized + 'static {
    /// The columns, left to right. Put the one whose width varies most last:
    /// the last column is never padded.
    const COLUMNS: &'static [Column<Self>];
}

/// A table row whose cells are its own texts: the struct (one `String`
/// field a column) and its [`Row`] impl, each field with its header, left
/// to right.
macro_rules! text_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($field:ident: $header:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
        $vis struct $name {
            $($field: String,)*
        }

        impl $crate::output::Row for $name {
            const COLUMNS: &'static [$crate::output::Column<Self>] = &[
                $($crate::output::Column::new($header, |row| {
                    ::std::borrow::Cow::Borrowed(&row.$field)
                }),)*
            ];
        }
    };
}
pub(crate) use text_row;

/// An action's whole answer as people see it (`--output table`). JSON and
/// NDJSON come from its `Serialize` impl.
pub trait Render: Serialize {
    /// Write the table form.
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Write one answer in `format`: the table from [`Render`], one pretty JSON
/// document, or the same document compact on one line.
pub fn write_document<T: Render + ?Sized, W: Write>(
    out: &mut W,
    format: OutputFormat,
    value: &T,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => value.write_table(out)?,
        OutputFormat::Json => write_json(out, value)?,
        OutputFormat::Ndjson => {
            serde_json::to_writer(&mut *out, value)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// `value` as one pretty JSON document and a newline.
pub fn write_json<T: Serialize + ?Sized, W: Write + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

/// Gap between columns.
const GAP: &str = "  ";

/// Aligned columns. Widths are fixed by the first non-empty page (pages of
/// a listing look alike), so later pages stream without buffering; a longer
/// value on a later page pushes only its own row out of line.
#[derive(Debug)]
pub struct TableWriter<T> {
    widths: Option<Vec<usize>>,
    rows: u64,
    row: PhantomData<fn(&T)>,
}

impl<T> Default for TableWriter<T> {
    fn default() -> Self {
        TableWriter {
            widths: None,
            rows: 0,
            row: PhantomData,
        }
    }
}

impl<T: Row> TableWriter<T> {
    /// A table with no rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write one page; the header goes before the first row.
    pub fn write_page<W: Write + ?Sized>(&mut self, out: &mut W, items: &[T]) -> io::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|item| {
                T::COLUMNS
                    .iter()
                    .map(|column| printable(&(column.cell)(item)).into_owned())
                    .collect()
            })
            .collect();
        if self.widths.is_none() {
            let headers: Vec<String> = T::COLUMNS
                .iter()
                .map(|column| column.header.to_owned())
                .collect();
            // Every column but the last is padded.
            let padded = T::COLUMNS.len().saturating_sub(1);
            let widths: Vec<usize> = (0..padded)
                .map(|index| {
                    std::iter::once(&headers)
                        .chain(&rows)
                        .filter_map(|row| row.get(index))
                        .map(|cell| cell.width())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            write_row(out, &widths, &headers)?;
            self.widths = Some(widths);
        }
        let widths = self.widths.as_deref().unwrap_or_default();
        for row in &rows {
            write_row(out, widths, row)?;
            self.rows += 1;
        }
        Ok(())
    }
}

fn write_row<W: Write + ?Sized>(out: &mut W, widths: &[usize], cells: &[String]) -> io::Result<()> {
    let mut line = String::with_capacity(160);
    for (index, cell) in cells.iter().enumerate() {
        line.push_str(cell);
        if let Some(width) = widths.get(index) {
            let pad = width.saturating_sub(cell.width());
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(GAP);
        }
    }
    out.write_all(line.trim_end().as_bytes())?;
    out.write_all(b"\n")
}

/// `Label:  value` lines with the values aligned (the head of a `get`).
/// Values are escaped; labels are the caller's own text.
pub fn write_fields<W: Write + ?Sized>(out: &mut W, fields: &[(&str, &str)]) -> io::Result<()> {
    let width = fields
        .iter()
        .map(|(label, _)| label.width() + 1)
        .max()
        .unwrap_or(0);
    for (label, value) in fields {
        let label = format!("{label}:");
        let pad = width.saturating_sub(label.width());
        let line = format!("{label}{}{GAP}{}", " ".repeat(pad), printable(value));
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// [`write_fields`] for the elements of `value`'s JSON form (the API's
/// element names) that `keys` names (space-separated), in that order;
/// `Label=Key` shows element `Key` as `Label`. An absent or null element
/// shows empty.
pub fn write_record<W: Write + ?Sized, T: Serialize>(
    out: &mut W,
    value: &T,
    keys: &str,
) -> io::Result<()> {
    let json = serde_json::to_value(value)?;
    let texts: Vec<(&str, String)> = keys
        .split_whitespace()
        .map(|spec| {
            let (label, key) = spec.split_once('=').unwrap_or((spec, spec));
            let text = match json.get(key) {
                Some(serde_json::Value::String(text)) => text.clone(),
                None | Some(serde_json::Value::Null) => String::new(),
                Some(other) => other.to_string(),
            };
            (label, text)
        })
        .collect();
    let fields: Vec<(&str, &str)> = texts.iter().map(|(l, t)| (*l, t.as_str())).collect();
    write_fields(out, &fields)
}

/// `-` for a cell whose value is absent or empty (not started, no job yet).
pub fn dash(text: Option<&str>) -> &str {
    text.filter(|text| !text.is_empty()).unwrap_or("-")
}

/// `at` in RFC 3339 at UTC (`2021-03-12T23:00:47+00:00`), or its Unix
/// seconds where no such timestamp exists: when credentials expire.
pub(crate) fn utc_time(at: SystemTime) -> String {
    let secs = cos_ci_sign::unix_secs(at);
    i64::try_from(secs)
        .ok()
        .and_then(|secs| CiTimestamp::from_unix(secs, 0).ok())
        .map_or_else(|| format!("{secs} (Unix time)"), |ts| ts.to_string())
}

/// A timestamp's text, or `-` without one.
pub fn time_or_dash(time: Option<&CiTimestamp>) -> &str {
    dash(time.map(CiTimestamp::as_str))
}

/// The items of a listing in any format, written as pages arrive: a table
/// (header once), one JSON object per line, or one JSON document
/// `{"<key>": [..], "Count": n}` (plus `"NextToken"` when a limit stopped
/// the listing early) with one item per line.
#[derive(Debug)]
pub struct ListWriter<T> {
    format: OutputFormat,
    key: &'static str,
    table: TableWriter<T>,
    count: u64,
}

impl<T: Row> ListWriter<T> {
    /// The items of one page.
    pub fn write_page<W: Write + ?Sized>(&mut self, out: &mut W, items: &[T]) -> io::Result<()> {
        if self.format != OutputFormat::Table {
            return self.write_serialized(out, items);
        }
        self.table.write_page(out, items)?;
        self.count += items.len() as u64;
        Ok(())
    }
}

impl<T: Serialize> ListWriter<T> {
    /// A writer for `format`; `key` names the JSON document's array (the
    /// listing's element name, e.g. `WorkflowExecutionList`).
    pub fn new(format: OutputFormat, key: &'static str) -> Self {
        ListWriter {
            format,
            key,
            table: TableWriter::default(),
            count: 0,
        }
    }

    /// Items written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The opening of the JSON document (nothing for the other formats).
    pub fn begin<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        if self.format == OutputFormat::Json {
            out.write_all(b"{\n  ")?;
            serde_json::to_writer(&mut *out, self.key)?;
            out.write_all(b": [")?;
        }
        Ok(())
    }

    /// The JSON or NDJSON form of `items`; nothing for the table format
    /// (an item that is not one [`Row`], e.g. a run with several failed
    /// tasks, is drawn by its caller).
    pub fn write_serialized<W: Write + ?Sized>(
        &mut self,
        out: &mut W,
        items: &[T],
    ) -> io::Result<()> {
        match self.format {
            OutputFormat::Table => return Ok(()),
            OutputFormat::Ndjson => {
                for item in items {
                    serde_json::to_writer(&mut *out, item)?;
                    out.write_all(b"\n")?;
                }
            }
            OutputFormat::Json => {
                for (index, item) in items.iter().enumerate() {
                    let first = self.count == 0 && index == 0;
                    out.write_all(if first { b"\n    " } else { b",\n    " })?;
                    serde_json::to_writer(&mut *out, item)?;
                }
            }
        }
        self.count += items.len() as u64;
        Ok(())
    }

    /// The end of the JSON document, with the count and, when the listing
    /// stopped with more to come, where to resume (nothing for the other
    /// formats).
    pub fn finish<W: Write + ?Sized>(
        &mut self,
        out: &mut W,
        resume: Option<&Cursor>,
    ) -> io::Result<()> {
        if self.format != OutputFormat::Json {
            return Ok(());
        }
        if self.count > 0 {
            out.write_all(b"\n  ")?;
        }
        write!(out, "],\n  \"Count\": {}", self.count)?;
        match resume {
            Some(Cursor::Token(token)) => {
                out.write_all(b",\n  \"NextToken\": ")?;
                serde_json::to_writer(&mut *out, token)?;
            }
            Some(Cursor::Page(page)) => write!(out, ",\n  \"NextPageNumber\": {page}")?,
            None => {}
        }
        out.write_all(b"\n}\n")
    }
}

/// The stderr line that tells where to resume a listing.
pub fn resume_line(cursor: &Cursor) -> String {
    match cursor {
        Cursor::Token(token) => next_token_line(token),
        Cursor::Page(page) => format!("NextPageNumber: {page}"),
    }
}

/// The stderr line that tells how to get the next page.
pub fn next_token_line(token: &str) -> String {
    format!("NextToken: {}", printable(token))
}

/// The stderr summary after following pages, e.g. `listed 3 executions in
/// 1 page`.
pub fn summary_line(noun: &str, items: u64, pages: u64) -> String {
    format!(
        "listed {items} {noun}{} in {pages} page{}",
        plural(items),
        plural(pages)
    )
}

/// `s` unless `n` is one: `3 runs`, `1 run`.
pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A one-line progress indicator, redrawn in place on a terminal. When
/// disabled (stderr is not a terminal) every method does nothing.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    drawn: bool,
    noun: &'static str,
}

impl Progress {
    /// `enabled` should be `stderr().is_terminal()`; `noun` names one item
    /// (`execution`).
    pub fn new(enabled: bool, noun: &'static str) -> Self {
        Self {
            enabled,
            drawn: false,
            noun,
        }
    }

    /// Draw `… N items, P pages` in place of the previous line.
    pub fn update<W: Write>(&mut self, err: &mut W, items: u64, pages: u64) -> io::Result<()> {
        if !self.enabled {
            return Ok(());
        }
        write!(
            err,
            "\r\x1b[2K… {items} {}{}, {pages} page{}",
            self.noun,
            plural(items),
            plural(pages)
        )?;
        self.drawn = true;
        err.flush()
    }

    /// Erase the line (before other output shares the terminal, and at the end).
    pub fn clear<W: Write>(&mut self, err: &mut W) -> io::Result<()> {
        if self.drawn {
            err.write_all(b"\r\x1b[2K")?;
            self.drawn = false;
            err.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_proto::{CiTimestamp, ExecutionState, WorkflowExecution};

    fn execution(run: &str, object: &str, state: ExecutionState) -> WorkflowExecution {
        WorkflowExecution {
            run_id: run.into(),
            workflow_id: "w1".into(),
            object: object.into(),
            create_time: CiTimestamp::parse("2022-08-09T14:54:17+08:00").ok(),
            state,
        }
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn table_aligns_and_escapes() {
        let mut table = TableWriter::new();
        let mut out = Vec::new();
        table
            .write_page(
                &mut out,
                &[
                    execution("i1", "a.mp4", ExecutionState::Success),
                    execution("i22", "line\nbreak.mp4", ExecutionState::Running),
                    execution("i4", "\u{202e}4pm.exe", ExecutionState::Failed),
                    execution("i5", "zero\u{200b}width\u{2066}", ExecutionState::Success),
                ],
            )
            .unwrap();
        table.write_page(&mut out, &[]).unwrap();
        table
            .write_page(
                &mut out,
                &[execution("i3", "视频 1.mp4", ExecutionState::Cancel)],
            )
            .unwrap();
        assert_eq!(table.rows(), 5);
        insta::assert_snapshot!(text(out), @r"
        RunId  WorkflowId  State    CreateTime                 Object
        i1     w1          Success  2022-08-09T14:54:17+08:00  a.mp4
        i22    w1          Running  2022-08-09T14:54:17+08:00  line\nbreak.mp4
        i4     w1          Failed   2022-08-09T14:54:17+08:00  \u{202e}4pm.exe
        i5     w1          Success  2022-08-09T14:54:17+08:00  zero\u{200b}width\u{2066}
        i3     w1          Cancel   2022-08-09T14:54:17+08:00  视频 1.mp4
        ");
    }

    /// An object key and its state, object first: a wide column that is
    /// not the last one.
    #[derive(Serialize)]
    struct Keyed {
        object: &'static str,
        state: &'static str,
    }

    impl Row for Keyed {
        const COLUMNS: &'static [Column<Self>] = &[
            Column::new("Object", |row| Cow::Borrowed(row.object)),
            Column::new("State", |row| Cow::Borrowed(row.state)),
        ];
    }

    #[test]
    fn wide_characters_line_up_by_display_width() {
        let mut out = Vec::new();
        TableWriter::new()
            .write_page(
                &mut out,
                &[
                    Keyed {
                        object: "视频/测试 19.mov",
                        state: "Running",
                    },
                    Keyed {
                        object: "a.mp4",
                        state: "Failed",
                    },
                    Keyed {
                        object: "照片 20+raw.jpg",
                        state: "Success",
                    },
                ],
            )
            .unwrap();
        let out = text(out);
        // The State column starts at the same display column on every line.
        let starts: Vec<usize> = out
            .lines()
            .map(|line| {
                let state = line.rfind(' ').unwrap() + 1;
                line[..state].width()
            })
            .collect();
        assert!(starts.windows(2).all(|pair| pair[0] == pair[1]), "{out}");
        insta::assert_snapshot!(out, @r"
        Object            State
        视频/测试 19.mov  Running
        a.mp4             Failed
        照片 20+raw.jpg   Success
        ");
    }

    #[test]
    fn empty_table_prints_nothing() {
        let mut out = Vec::new();
        TableWriter::<WorkflowExecution>::new()
            .write_page(&mut out, &[])
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn ndjson_uses_api_names() {
        let mut out = Vec::new();
        let mut writer = ListWriter::new(OutputFormat::Ndjson, "WorkflowExecutionList");
        writer.begin(&mut out).unwrap();
        writer
            .write_page(&mut out, &[execution("i1", "a\"b", ExecutionState::Failed)])
            .unwrap();
        writer.finish(&mut out, None).unwrap();
        insta::assert_snapshot!(text(out), @r#"{"RunId":"i1","WorkflowId":"w1","Object":"a\"b","CreateTime":"2022-08-09T14:54:17+08:00","State":"Failed"}"#);
    }

    #[test]
    fn json_list_is_valid_json() {
        for pages in [0usize, 1, 3] {
            let mut writer = ListWriter::new(OutputFormat::Json, "WorkflowExecutionList");
            let mut out = Vec::new();
            writer.begin(&mut out).unwrap();
            for page in 0..pages {
                let run = format!("i{page}");
                writer
                    .write_page(&mut out, &[execution(&run, "o", ExecutionState::Success)])
                    .unwrap();
            }
            let resume = Cursor::Token("token \"3\"".into());
            writer
                .finish(&mut out, (pages == 3).then_some(&resume))
                .unwrap();
            assert_eq!(writer.count(), pages as u64);
            let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(value["Count"], pages);
            assert_eq!(
                value["WorkflowExecutionList"].as_array().map(Vec::len),
                Some(pages)
            );
            if pages == 3 {
                assert_eq!(value["NextToken"], "token \"3\"");
            }
        }
    }

    #[test]
    fn fields_align_and_escape() {
        let mut out = Vec::new();
        write_fields(
            &mut out,
            &[("RunId", "i1"), ("Object", "视频\n1.mp4"), ("X", "")],
        )
        .unwrap();
        insta::assert_snapshot!(text(out), @r"
        RunId:   i1
        Object:  视频\n1.mp4
        X:
        ");
    }

    #[test]
    fn a_record_shows_the_named_elements_of_its_json_form() {
        let value = serde_json::json!({"Id": "i1", "Name": "a\tb", "Count": 3, "Gone": null});
        let mut out = Vec::new();
        write_record(&mut out, &value, "Count Title=Name Id Gone Absent").unwrap();
        insta::assert_snapshot!(text(out), @r"
        Count:   3
        Title:   a\tb
        Id:      i1
        Gone:
        Absent:
        ");
        assert_eq!(dash(Some("")), "-");
        assert_eq!(dash(None), "-");
        assert_eq!(time_or_dash(None), "-");
    }

    #[test]
    fn progress_only_when_enabled() {
        let mut err = Vec::new();
        let mut off = Progress::new(false, "execution");
        off.update(&mut err, 10, 1).unwrap();
        off.clear(&mut err).unwrap();
        assert!(err.is_empty());

        let mut on = Progress::new(true, "execution");
        on.update(&mut err, 10, 1).unwrap();
        on.clear(&mut err).unwrap();
        on.clear(&mut err).unwrap();
        assert_eq!(text(err), "\r\x1b[2K… 10 executions, 1 page\r\x1b[2K");
    }

    #[test]
    fn lines() {
        assert_eq!(
            summary_line("execution", 1, 1),
            "listed 1 execution in 1 page"
        );
        assert_eq!(
            summary_line("execution", 0, 2),
            "listed 0 executions in 2 pages"
        );
        assert_eq!(next_token_line("abc"), "NextToken: abc");
        assert_eq!(next_token_line("a\u{202e}b"), "NextToken: a\\u{202e}b");
        assert_eq!(resume_line(&Cursor::Page(3)), "NextPageNumber: 3");
    }
}
