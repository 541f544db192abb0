//! Formatters: executions as a table, NDJSON or JSON, and the progress line.
//!
//! Every formatter writes to any `io::Write` so tests can use a `Vec<u8>`,
//! and works one page at a time so memory stays one page however long the
//! listing is.

use std::io::{self, Write};

use cos_ci_proto::{ListWorkflowExecutionsOutput, WorkflowExecution};

use crate::terminal::printable;

/// Column titles: the API's element names.
const HEADERS: [&str; 5] = ["RunId", "WorkflowId", "State", "CreateTime", "Object"];
/// Gap between columns.
const GAP: &str = "  ";

/// Aligned columns. Widths are fixed by the first non-empty page (pages of
/// a listing look alike), so later pages stream without buffering; a longer
/// value on a later page pushes only its own row out of line. `Object` is
/// last because it varies most.
#[derive(Debug, Default)]
pub struct TableWriter {
    widths: Option<[usize; 4]>,
    rows: u64,
}

impl TableWriter {
    /// A table with no rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write one page; the header goes before the first row.
    pub fn write_page<W: Write>(
        &mut self,
        out: &mut W,
        executions: &[WorkflowExecution],
    ) -> io::Result<()> {
        if executions.is_empty() {
            return Ok(());
        }
        let rows: Vec<[String; 5]> = executions.iter().map(cells).collect();
        let widths = match self.widths {
            Some(widths) => widths,
            None => {
                let mut widths = [0; 4];
                for (index, width) in widths.iter_mut().enumerate() {
                    let header = HEADERS.get(index).map_or(0, |h| h.len());
                    let longest = rows
                        .iter()
                        .filter_map(|row| row.get(index))
                        .map(|cell| cell.chars().count())
                        .max()
                        .unwrap_or(0);
                    *width = header.max(longest);
                }
                write_row(out, &widths, &HEADERS)?;
                self.widths = Some(widths);
                widths
            }
        };
        for row in &rows {
            write_row(out, &widths, row)?;
            self.rows += 1;
        }
        Ok(())
    }
}

fn write_row<W: Write, S: AsRef<str>>(
    out: &mut W,
    widths: &[usize; 4],
    cells: &[S; 5],
) -> io::Result<()> {
    let mut line = String::with_capacity(160);
    for (index, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        line.push_str(cell);
        if let Some(width) = widths.get(index) {
            let pad = width.saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(GAP);
        }
    }
    out.write_all(line.trim_end().as_bytes())?;
    out.write_all(b"\n")
}

/// The cells of a row, escaped for the terminal (control characters, a
/// newline in an object key, a right-to-left override from a hostile
/// server): a row stays a row and the terminal is not driven by data.
fn cells(execution: &WorkflowExecution) -> [String; 5] {
    let cell = |text: &str| printable(text).into_owned();
    [
        cell(&execution.run_id),
        cell(&execution.workflow_id),
        cell(execution.state.as_str()),
        execution
            .create_time
            .as_ref()
            .map_or_else(String::new, |time| cell(time.as_str())),
        cell(&execution.object),
    ]
}

/// One execution per line as compact JSON with the API's element names
/// (`RunId`, `WorkflowId`, `Object`, `CreateTime`, `State`).
pub fn write_ndjson<W: Write>(out: &mut W, executions: &[WorkflowExecution]) -> io::Result<()> {
    for execution in executions {
        serde_json::to_writer(&mut *out, execution)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One page as one pretty JSON document:
/// `{"RequestId": .., "WorkflowExecutionList": [..], "NextToken": ..}`.
pub fn write_json_page<W: Write>(
    out: &mut W,
    page: &ListWorkflowExecutionsOutput,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, page)?;
    out.write_all(b"\n")
}

/// A followed listing as one JSON document written as pages arrive:
/// `{"WorkflowExecutionList": [..], "Count": n}` (plus `"NextToken"` when a
/// limit stopped it early), one execution per line.
#[derive(Debug, Default)]
pub struct JsonListWriter {
    count: u64,
}

impl JsonListWriter {
    /// Nothing written yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Executions written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The opening of the document.
    pub fn begin<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b"{\n  \"WorkflowExecutionList\": [")
    }

    /// The executions of one page.
    pub fn write_page<W: Write>(
        &mut self,
        out: &mut W,
        executions: &[WorkflowExecution],
    ) -> io::Result<()> {
        for execution in executions {
            out.write_all(if self.count == 0 {
                b"\n    "
            } else {
                b",\n    "
            })?;
            serde_json::to_writer(&mut *out, execution)?;
            self.count += 1;
        }
        Ok(())
    }

    /// The end of the document, with the count and, when the listing
    /// stopped at a limit with more to come, the `NextToken` to resume from.
    pub fn finish<W: Write>(&mut self, out: &mut W, next_token: Option<&str>) -> io::Result<()> {
        if self.count > 0 {
            out.write_all(b"\n  ")?;
        }
        write!(out, "],\n  \"Count\": {}", self.count)?;
        if let Some(token) = next_token {
            out.write_all(b",\n  \"NextToken\": ")?;
            serde_json::to_writer(&mut *out, token)?;
        }
        out.write_all(b"\n}\n")
    }
}

/// The stderr line that tells how to get the next page.
pub fn next_token_line(token: &str) -> String {
    format!("NextToken: {}", printable(token))
}

/// The stderr summary after following pages.
pub fn summary_line(executions: u64, pages: u64) -> String {
    format!(
        "listed {executions} execution{} in {pages} page{}",
        plural(executions),
        plural(pages)
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A one-line progress indicator, redrawn in place on a terminal. When
/// disabled (stderr is not a terminal) every method does nothing.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    drawn: bool,
}

impl Progress {
    /// `enabled` should be `stderr().is_terminal()`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            drawn: false,
        }
    }

    /// Draw `… N executions, P pages` in place of the previous line.
    pub fn update<W: Write>(&mut self, err: &mut W, executions: u64, pages: u64) -> io::Result<()> {
        if !self.enabled {
            return Ok(());
        }
        write!(
            err,
            "\r\x1b[2K… {executions} execution{}, {pages} page{}",
            plural(executions),
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
    use cos_ci_proto::{CiTimestamp, ExecutionState};

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

    #[test]
    fn empty_table_prints_nothing() {
        let mut out = Vec::new();
        TableWriter::new().write_page(&mut out, &[]).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn ndjson_uses_api_names() {
        let mut out = Vec::new();
        write_ndjson(&mut out, &[execution("i1", "a\"b", ExecutionState::Failed)]).unwrap();
        insta::assert_snapshot!(text(out), @r#"{"RunId":"i1","WorkflowId":"w1","Object":"a\"b","CreateTime":"2022-08-09T14:54:17+08:00","State":"Failed"}"#);
    }

    #[test]
    fn json_list_is_valid_json() {
        for pages in [0usize, 1, 3] {
            let mut writer = JsonListWriter::new();
            let mut out = Vec::new();
            writer.begin(&mut out).unwrap();
            for page in 0..pages {
                let run = format!("i{page}");
                writer
                    .write_page(&mut out, &[execution(&run, "o", ExecutionState::Success)])
                    .unwrap();
            }
            writer
                .finish(&mut out, (pages == 3).then_some("token \"3\""))
                .unwrap();
            let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(value["Count"], pages);
            assert_eq!(
                value["WorkflowExecutionList"].as_array().map(Vec::len),
                Some(pages)
            );
        }
    }

    #[test]
    fn json_page_document() {
        let page = ListWorkflowExecutionsOutput {
            request_id: Some("req".into()),
            executions: vec![execution("i1", "o", ExecutionState::Success)],
            next_token: None,
        };
        let mut out = Vec::new();
        write_json_page(&mut out, &page).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["RequestId"], "req");
        assert_eq!(value["NextToken"], serde_json::Value::Null);
        assert_eq!(value["WorkflowExecutionList"][0]["RunId"], "i1");
    }

    #[test]
    fn progress_only_when_enabled() {
        let mut err = Vec::new();
        let mut off = Progress::new(false);
        off.update(&mut err, 10, 1).unwrap();
        off.clear(&mut err).unwrap();
        assert!(err.is_empty());

        let mut on = Progress::new(true);
        on.update(&mut err, 10, 1).unwrap();
        on.clear(&mut err).unwrap();
        on.clear(&mut err).unwrap();
        assert_eq!(text(err), "\r\x1b[2K… 10 executions, 1 page\r\x1b[2K");
    }

    #[test]
    fn lines() {
        assert_eq!(summary_line(1, 1), "listed 1 execution in 1 page");
        assert_eq!(summary_line(0, 2), "listed 0 executions in 2 pages");
        assert_eq!(next_token_line("abc"), "NextToken: abc");
        assert_eq!(next_token_line("a\u{202e}b"), "NextToken: a\\u{202e}b");
    }
}
