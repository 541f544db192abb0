//! Showing a wait as it goes, on stderr: a workflow run as one line per
//! task, or a job as a progress bar, redrawn in place with ANSI cursor
//! movement when stderr is a terminal; one plain line per change when it
//! is not (a pipe, a log file, CI), so logs read well and carry no escape
//! sequences.
//!
//! Both are fed the waiter's [`WaitEvent`]s and write to any `io::Write`,
//! so tests use a `Vec<u8>`. Text from the service goes through
//! [`printable`].

use std::io::{self, Write};

use cos_ci_client::WaitEvent;
use unicode_width::UnicodeWidthStr;

use crate::terminal::printable;

/// Erase the current line and return to its start.
const CLEAR_LINE: &str = "\r\x1b[2K";

/// A wait shown on stderr as it goes, fed the waiter's events.
pub trait Drawing: Sized {
    /// The drawing of `id`; `terminal`: redrawn in place (stderr is a
    /// terminal), else plain lines.
    fn new(terminal: bool, id: &str) -> Self;

    /// Take one event and show it.
    fn on_event<W: Write + ?Sized>(&mut self, event: &WaitEvent, err: &mut W) -> io::Result<()>;

    /// End the drawing so what follows starts below it.
    fn finish<W: Write + ?Sized>(&mut self, err: &mut W) -> io::Result<()>;
}

/// One task of a run, as far as the events told.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TaskLine {
    name: String,
    task_type: String,
    state: &'static str,
    job_id: Option<String>,
    detail: Option<String>,
}

impl TaskLine {
    /// Its job id and detail, those it has, each after its separator.
    fn push_job_and_detail(&self, line: &mut String, before_job: &str, before_detail: &str) {
        for (before, text) in [(before_job, &self.job_id), (before_detail, &self.detail)] {
            if let Some(text) = text {
                line.push_str(before);
                line.push_str(&printable(text));
            }
        }
    }
}

/// A workflow run's progress: its state and a line per task.
#[derive(Debug)]
pub struct RunBoard {
    terminal: bool,
    width: usize,
    run_id: String,
    state: String,
    tasks: Vec<TaskLine>,
    drawn: usize,
}

/// The terminal's width in columns: `COLUMNS` when set (cos-ci asks the
/// terminal nothing), else 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse::<usize>().ok())
        .filter(|columns| *columns >= 20)
        .unwrap_or(100)
}

/// `line` cut to `width` display columns (ending with `…` when cut), so a
/// redrawn line never wraps and the cursor movement stays exact.
fn fit(line: &str, width: usize) -> String {
    if line.width() <= width {
        return line.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in line.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// On a terminal, lines cut to [`terminal_width`].
impl Drawing for RunBoard {
    fn new(terminal: bool, run_id: &str) -> Self {
        RunBoard {
            terminal,
            width: terminal_width(),
            run_id: run_id.to_owned(),
            state: "…".to_owned(),
            tasks: Vec::new(),
            drawn: 0,
        }
    }

    fn on_event<W: Write + ?Sized>(&mut self, event: &WaitEvent, err: &mut W) -> io::Result<()> {
        let plain = self.apply(event);
        if self.terminal {
            self.redraw(err)
        } else {
            match plain {
                Some(line) => writeln!(err, "{line}").and_then(|()| err.flush()),
                None => Ok(()),
            }
        }
    }

    /// Nothing to do: every frame and plain line ends its line.
    fn finish<W: Write + ?Sized>(&mut self, _err: &mut W) -> io::Result<()> {
        Ok(())
    }
}

impl RunBoard {
    /// Update the model; the plain line for the event, if it says anything.
    fn apply(&mut self, event: &WaitEvent) -> Option<String> {
        let (name, task_type, job_id, state, detail) = match event {
            WaitEvent::StateChanged { state } => {
                self.state = state.clone();
                return Some(format!(
                    "run {}: {}",
                    printable(&self.run_id),
                    printable(state)
                ));
            }
            WaitEvent::TaskStarted {
                name,
                task_type,
                job_id,
            } => (name, task_type, job_id, "started", None),
            WaitEvent::TaskSucceeded {
                name,
                task_type,
                job_id,
            } => (name, task_type, job_id, "succeeded", None),
            WaitEvent::TaskFailed {
                name,
                task_type,
                job_id,
                code,
                message,
            } => {
                let detail: Vec<&str> = [code.as_deref(), message.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|text| !text.is_empty())
                    .collect();
                let detail = (!detail.is_empty()).then(|| detail.join(": "));
                (name, task_type, job_id, "failed", detail)
            }
            _ => return None,
        };
        let index = self
            .tasks
            .iter()
            .position(|task| &task.name == name && &task.task_type == task_type);
        // A task is reported started when it appears and again when it
        // runs: say which.
        let state = match index {
            Some(index) if state == "started" && self.tasks[index].state == "started" => "running",
            _ => state,
        };
        let mut line = TaskLine {
            name: name.clone(),
            task_type: task_type.clone(),
            state,
            job_id: job_id.clone(),
            detail,
        };
        let mut plain = format!(
            "task {} ({}): {}",
            printable(&line.name),
            printable(&line.task_type),
            line.state
        );
        line.push_job_and_detail(&mut plain, ", job ", ": ");
        match index {
            Some(index) => {
                let task = &mut self.tasks[index];
                // A job id learnt earlier is kept.
                if line.job_id.is_none() {
                    line.job_id = task.job_id.take();
                }
                *task = line;
            }
            None => self.tasks.push(line),
        }
        Some(plain)
    }

    /// The board's lines: the run, then a line per task, aligned.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "run {}  {}",
            printable(&self.run_id),
            printable(&self.state)
        )];
        let cells: Vec<[String; 3]> = self
            .tasks
            .iter()
            .map(|task| {
                [
                    printable(&task.name).into_owned(),
                    printable(&task.task_type).into_owned(),
                    task.state.to_owned(),
                ]
            })
            .collect();
        let width = |column: usize| {
            cells
                .iter()
                .map(|row| row[column].width())
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2)];
        for (task, row) in self.tasks.iter().zip(&cells) {
            let mut line = String::from("  ");
            for (cell, width) in row.iter().zip(widths) {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.width() + 2));
            }
            task.push_job_and_detail(&mut line, "job ", "  ");
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    /// Move up over the lines drawn last time and draw them all again.
    fn redraw<W: Write + ?Sized>(&mut self, err: &mut W) -> io::Result<()> {
        let lines = self.lines();
        let mut frame = String::new();
        if self.drawn > 0 {
            frame.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in &lines {
            frame.push_str(CLEAR_LINE);
            frame.push_str(&fit(line, self.width));
            frame.push('\n');
        }
        self.drawn = lines.len();
        err.write_all(frame.as_bytes())?;
        err.flush()
    }
}

/// A job's progress: a bar on a terminal, plain lines otherwise.
#[derive(Debug)]
pub struct JobBar {
    terminal: bool,
    job_id: String,
    state: String,
    percent: Option<u32>,
    drawn: bool,
}

/// Cells in the bar.
const BAR_WIDTH: usize = 30;

/// On a terminal, one line redrawn in place.
impl Drawing for JobBar {
    fn new(terminal: bool, job_id: &str) -> Self {
        JobBar {
            terminal,
            job_id: job_id.to_owned(),
            state: "…".to_owned(),
            percent: None,
            drawn: false,
        }
    }

    fn on_event<W: Write + ?Sized>(&mut self, event: &WaitEvent, err: &mut W) -> io::Result<()> {
        let plain = match event {
            WaitEvent::StateChanged { state } => {
                self.state = state.clone();
                format!("job {}: {}", printable(&self.job_id), printable(state))
            }
            WaitEvent::Progress { percent } => {
                self.percent = Some((*percent).min(100));
                format!("job {}: {percent}%", printable(&self.job_id))
            }
            _ => return Ok(()),
        };
        if self.terminal {
            self.drawn = true;
            write!(err, "{CLEAR_LINE}{}", self.bar())?;
        } else {
            writeln!(err, "{plain}")?;
        }
        err.flush()
    }

    /// The bar's line ends once it was drawn.
    fn finish<W: Write + ?Sized>(&mut self, err: &mut W) -> io::Result<()> {
        if self.drawn {
            self.drawn = false;
            err.write_all(b"\n")?;
            err.flush()?;
        }
        Ok(())
    }
}

impl JobBar {
    /// `job j1  [#########.....................]  30%  Running`
    fn bar(&self) -> String {
        let percent = self.percent.unwrap_or(0) as usize;
        let filled = percent * BAR_WIDTH / 100;
        let shown = self
            .percent
            .map_or_else(|| "  -".to_owned(), |percent| format!("{percent:>3}"));
        format!(
            "job {}  [{}{}] {shown}%  {}",
            printable(&self.job_id),
            "#".repeat(filled),
            ".".repeat(BAR_WIDTH - filled),
            printable(&self.state)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_events() -> Vec<WaitEvent> {
        vec![
            WaitEvent::StateChanged {
                state: "Running".into(),
            },
            WaitEvent::TaskStarted {
                name: "Snapshot_1".into(),
                task_type: "Snapshot".into(),
                job_id: None,
            },
            WaitEvent::TaskStarted {
                name: "Transcode_1581665960538".into(),
                task_type: "Transcode".into(),
                job_id: Some("j2".into()),
            },
            WaitEvent::TaskSucceeded {
                name: "Snapshot_1".into(),
                task_type: "Snapshot".into(),
                job_id: Some("j1".into()),
            },
            WaitEvent::StateChanged {
                state: "Failed".into(),
            },
            WaitEvent::TaskFailed {
                name: "Transcode_1581665960538".into(),
                task_type: "Transcode".into(),
                job_id: None,
                code: Some("InvalidInput".into()),
                message: Some("no video\nstream".into()),
            },
        ]
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_run_piped_is_one_plain_line_per_change() {
        let mut board = RunBoard::new(false, "i1");
        let mut err = Vec::new();
        let mut events = run_events();
        // Seen again once running.
        events.insert(
            3,
            WaitEvent::TaskStarted {
                name: "Snapshot_1".into(),
                task_type: "Snapshot".into(),
                job_id: Some("j1".into()),
            },
        );
        for event in events {
            board.on_event(&event, &mut err).unwrap();
        }
        let err = text(err);
        assert!(!err.contains('\x1b'), "no escape sequences when piped");
        insta::assert_snapshot!(err, @r"
        run i1: Running
        task Snapshot_1 (Snapshot): started
        task Transcode_1581665960538 (Transcode): started, job j2
        task Snapshot_1 (Snapshot): running, job j1
        task Snapshot_1 (Snapshot): succeeded, job j1
        run i1: Failed
        task Transcode_1581665960538 (Transcode): failed: InvalidInput: no video\nstream
        ");
    }

    #[test]
    fn a_run_on_a_terminal_is_redrawn_in_place() {
        let mut board = RunBoard::new(true, "i1");
        let mut err = Vec::new();
        let events = run_events();
        board.on_event(&events[0], &mut err).unwrap();
        board.on_event(&events[1], &mut err).unwrap();
        assert_eq!(
            text(std::mem::take(&mut err)),
            "\r\x1b[2Krun i1  Running\n\x1b[1A\r\x1b[2Krun i1  Running\n\r\x1b[2K  Snapshot_1  Snapshot  started\n"
        );
        for event in &events[2..] {
            board.on_event(event, &mut err).unwrap();
        }
        // The last frame: up over the three lines drawn, then the board.
        let err = text(err);
        let last = err.rsplit("\x1b[3A").next().unwrap();
        insta::assert_snapshot!(last.replace(CLEAR_LINE, ""), @r"
        run i1  Failed
          Snapshot_1               Snapshot   succeeded  job j1
          Transcode_1581665960538  Transcode  failed     job j2  InvalidInput: no video\nstream
        ");
    }

    #[test]
    fn redrawn_lines_never_wrap() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdef", 5), "abcd…");
        assert_eq!(fit("视频视频", 5), "视频…");
        let mut board = RunBoard::new(true, "i1");
        board.width = 20;
        let mut err = Vec::new();
        board
            .on_event(
                &WaitEvent::StateChanged {
                    state: "Running with a very long state".into(),
                },
                &mut err,
            )
            .unwrap();
        assert_eq!(text(err), "\r\x1b[2Krun i1  Running wit…\n");
    }

    #[test]
    fn a_job_bar_on_a_terminal_and_plain_lines_when_piped() {
        let events = [
            WaitEvent::StateChanged {
                state: "Submitted".into(),
            },
            WaitEvent::Progress { percent: 0 },
            WaitEvent::StateChanged {
                state: "Running".into(),
            },
            WaitEvent::Progress { percent: 50 },
            WaitEvent::StateChanged {
                state: "Success".into(),
            },
            WaitEvent::Progress { percent: 100 },
        ];
        let mut piped = JobBar::new(false, "j1");
        let mut err = Vec::new();
        for event in &events {
            piped.on_event(event, &mut err).unwrap();
        }
        piped.finish(&mut err).unwrap();
        insta::assert_snapshot!(text(err), @r"
        job j1: Submitted
        job j1: 0%
        job j1: Running
        job j1: 50%
        job j1: Success
        job j1: 100%
        ");

        let mut bar = JobBar::new(true, "j1");
        let mut err = Vec::new();
        bar.on_event(&events[0], &mut err).unwrap();
        bar.on_event(&events[3], &mut err).unwrap();
        bar.finish(&mut err).unwrap();
        assert_eq!(
            text(err),
            "\r\x1b[2Kjob j1  [..............................]   -%  Submitted\
             \r\x1b[2Kjob j1  [###############...............]  50%  Submitted\n"
        );
    }
}
