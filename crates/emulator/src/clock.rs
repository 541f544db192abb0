//! The clock a job follows, alone or as one task of a workflow run: when
//! it was created, when it starts and ends, and how it ends. Nothing runs
//! in the background: every state, progress and time is derived from
//! (creation instant, duration, now) when a request asks, so every view
//! of a job at one instant agrees (its listing, its details, its run's
//! tasks, its callback) and a fixed `now` gives a fixed answer.
//!
//! A job is `Submitted` for the first quarter of its duration, then
//! `Running` (its `Progress` rising from 0 to 99), then `Success`, or
//! `Failed` when its input matched the failure pattern. A job still
//! `Submitted` can be cancelled: it is `Cancel` from that instant on.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use cos_ci_proto::{CiTimestamp, JobState};

/// The offset every time the emulator writes is in (Beijing, as CI).
pub(crate) const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// Why a job fails under the failure pattern: CI's `Code` and `Message`.
pub(crate) const FAILURE: (&str, &str) = ("InvalidInput", "the input file has no video stream");

/// What a cancelled job reports as its `Code` and `Message`.
pub(crate) const CANCELLED: (&str, &str) = ("Cancel", "the job was cancelled before it started");

/// Where a job stands at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not created yet (a later task of a run): not shown anywhere.
    NotCreated,
    /// Queued, not started.
    Submitted,
    /// Started; `progress` in percent, 0 to 99.
    Running { progress: u32 },
    /// Ended well.
    Succeeded,
    /// Ended with [`FAILURE`].
    Failed,
    /// Cancelled before it started.
    Cancelled,
}

impl Phase {
    /// The state CI reports.
    pub(crate) fn state(self) -> JobState {
        match self {
            Phase::NotCreated | Phase::Submitted => JobState::Submitted,
            Phase::Running { .. } => JobState::Running,
            Phase::Succeeded => JobState::Success,
            Phase::Failed => JobState::Failed,
            Phase::Cancelled => JobState::Cancel,
        }
    }

    /// Ended (well or not).
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Cancelled)
    }

    /// Whether it has started (its `StartTime` is set).
    pub(crate) fn has_started(self) -> bool {
        matches!(
            self,
            Phase::Running { .. } | Phase::Succeeded | Phase::Failed
        )
    }

    /// A job's `Code` and `Message` in this phase.
    pub(crate) fn outcome(self) -> (&'static str, Option<&'static str>) {
        match self {
            Phase::Failed => (FAILURE.0, Some(FAILURE.1)),
            Phase::Cancelled => (CANCELLED.0, Some(CANCELLED.1)),
            _ => ("Success", None),
        }
    }

    /// `Progress`: 0 until it runs, then rising, 100 once it succeeded.
    pub(crate) fn progress(self) -> u32 {
        match self {
            Phase::Running { progress } => progress,
            Phase::Succeeded => 100,
            _ => 0,
        }
    }
}

/// When a job or run was cancelled, if it was: read and set by request
/// handlers and the callback worker at once.
#[derive(Debug, Default)]
pub(crate) struct CancelMark(Mutex<Option<SystemTime>>);

impl CancelMark {
    /// When it was cancelled, if it was.
    pub(crate) fn at(&self) -> Option<SystemTime> {
        *self.lock()
    }

    /// The mark, held: to decide and set it in one step. A handler that
    /// panicked while holding it left a valid `Option` behind.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<SystemTime>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One job's timeline.
#[derive(Debug)]
pub(crate) struct JobClock {
    created: SystemTime,
    duration: Duration,
    fails: bool,
    cancelled: CancelMark,
}

impl JobClock {
    /// A job created at `created` that takes `duration` and, if `fails`,
    /// ends `Failed`.
    pub(crate) fn new(created: SystemTime, duration: Duration, fails: bool) -> Self {
        JobClock {
            created,
            duration,
            fails,
            cancelled: CancelMark::default(),
        }
    }

    /// When it was submitted.
    pub(crate) fn created(&self) -> SystemTime {
        self.created
    }

    /// When it starts running.
    pub(crate) fn starts(&self) -> SystemTime {
        self.created + self.duration / 4
    }

    /// When it ends: its cancellation, else the end of its duration.
    pub(crate) fn ends(&self) -> SystemTime {
        self.cancelled_at().unwrap_or(self.created + self.duration)
    }

    /// `StartTime` and `EndTime` as CI reports them in `phase`: each once
    /// reached, in `form`.
    pub(crate) fn start_and_end(
        &self,
        phase: Phase,
        form: TimeForm,
    ) -> (Option<CiTimestamp>, Option<CiTimestamp>) {
        let reached = |reached: bool, instant: SystemTime| {
            reached.then(|| timestamp(instant, form)).flatten()
        };
        (
            reached(phase.has_started(), self.starts()),
            reached(phase.is_terminal(), self.ends()),
        )
    }

    /// When it was cancelled, if it was.
    pub(crate) fn cancelled_at(&self) -> Option<SystemTime> {
        self.cancelled.at()
    }

    /// Where it stands at `now`.
    pub(crate) fn phase(&self, now: SystemTime) -> Phase {
        let cancelled = self.cancelled_at();
        phase_of(self.created, self.duration, self.fails, cancelled, now)
    }

    /// Cancel it at `now` if it has not started; else where it stands.
    pub(crate) fn cancel(&self, now: SystemTime) -> Result<(), Phase> {
        let mut cancelled = self.cancelled.lock();
        match phase_of(self.created, self.duration, self.fails, *cancelled, now) {
            Phase::Submitted => {
                *cancelled = Some(now);
                Ok(())
            }
            other => Err(other),
        }
    }
}

fn phase_of(
    created: SystemTime,
    duration: Duration,
    fails: bool,
    cancelled: Option<SystemTime>,
    now: SystemTime,
) -> Phase {
    if now < created {
        return Phase::NotCreated;
    }
    if cancelled.is_some_and(|at| now >= at) {
        return Phase::Cancelled;
    }
    let starts = created + duration / 4;
    let ends = created + duration;
    if now >= ends {
        return if fails {
            Phase::Failed
        } else {
            Phase::Succeeded
        };
    }
    if now < starts {
        return Phase::Submitted;
    }
    let span = ends.duration_since(starts).unwrap_or_default().as_millis();
    let done = now.duration_since(starts).unwrap_or_default().as_millis();
    let progress = (done * 100).checked_div(span).unwrap_or(0).min(99);
    Phase::Running {
        progress: u32::try_from(progress).unwrap_or(99),
    }
}

/// How a time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeForm {
    /// `2022-08-09T14:54:17+08:00`: executions and their tasks.
    Colon,
    /// `2022-06-27T15:23:12+0800`: jobs, workflows, queues.
    Api,
    /// `2022-08-09 14:54:17+0800`: workflow callbacks.
    Spaced,
}

/// `instant` in Unix seconds as the stores key their entries and
/// [`CiTimestamp::from_unix`] takes them (0 before the epoch).
pub(crate) fn unix_time(instant: SystemTime) -> i64 {
    i64::try_from(cos_ci_sign::unix_secs(instant)).unwrap_or(i64::MAX)
}

/// `instant` (to the second, in Beijing time) written in `form`; `None`
/// only outside the years 0000..=9999, which no clock here reads.
pub(crate) fn timestamp(instant: SystemTime, form: TimeForm) -> Option<CiTimestamp> {
    let colon = CiTimestamp::from_unix(unix_time(instant), BEIJING_OFFSET_SECS).ok()?;
    let text = match form {
        TimeForm::Colon => return Some(colon),
        TimeForm::Api => colon.to_api_string(),
        TimeForm::Spaced => colon.to_api_string().replacen('T', " ", 1),
    };
    CiTimestamp::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_767_600_000_000 + millis)
    }

    #[test]
    fn a_job_is_submitted_then_runs_then_ends() {
        let clock = JobClock::new(at(0), Duration::from_secs(4), false);
        let before = at(0).checked_sub(Duration::from_millis(1)).unwrap();
        assert_eq!(clock.phase(before), Phase::NotCreated);
        assert_eq!(clock.phase(at(0)), Phase::Submitted);
        assert_eq!(clock.phase(at(999)), Phase::Submitted);
        assert_eq!(clock.phase(at(1000)), Phase::Running { progress: 0 });
        assert_eq!(clock.phase(at(2500)), Phase::Running { progress: 50 });
        assert_eq!(clock.phase(at(3999)), Phase::Running { progress: 99 });
        assert_eq!(clock.phase(at(4000)), Phase::Succeeded);
        assert_eq!(clock.ends(), at(4000));
        let failing = JobClock::new(at(0), Duration::from_secs(4), true);
        assert_eq!(failing.phase(at(4000)), Phase::Failed);
        assert_eq!(failing.phase(at(4000)).state(), JobState::Failed);
    }

    #[test]
    fn zero_duration_ends_at_once() {
        let clock = JobClock::new(at(0), Duration::ZERO, false);
        assert_eq!(clock.phase(at(0)), Phase::Succeeded);
        assert_eq!(clock.cancel(at(0)), Err(Phase::Succeeded));
    }

    #[test]
    fn only_a_submitted_job_cancels() {
        let clock = JobClock::new(at(0), Duration::from_secs(4), false);
        assert_eq!(clock.cancel(at(500)), Ok(()));
        assert_eq!(clock.phase(at(499)), Phase::Submitted);
        assert_eq!(clock.phase(at(500)), Phase::Cancelled);
        assert_eq!(clock.phase(at(9000)), Phase::Cancelled);
        assert_eq!(clock.ends(), at(500));
        assert_eq!(clock.cancel(at(600)), Err(Phase::Cancelled));
        let running = JobClock::new(at(0), Duration::from_secs(4), false);
        assert_eq!(
            running.cancel(at(2000)),
            Err(Phase::Running { progress: 33 })
        );
    }

    #[test]
    fn times_in_each_form() {
        let instant = UNIX_EPOCH + Duration::from_millis(1_660_028_057_900);
        assert_eq!(
            timestamp(instant, TimeForm::Colon).unwrap().as_str(),
            "2022-08-09T14:54:17+08:00"
        );
        assert_eq!(
            timestamp(instant, TimeForm::Api).unwrap().as_str(),
            "2022-08-09T14:54:17+0800"
        );
        assert_eq!(
            timestamp(instant, TimeForm::Spaced).unwrap().as_str(),
            "2022-08-09 14:54:17+0800"
        );
    }
}
