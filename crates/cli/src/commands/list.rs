//! `cos-ci workflow-executions list`: one page, or every page streamed
//! (`GET /workflowexecution`).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::SystemTime;

use clap::Args;
use cos_ci_proto::{CiTimestamp, ListWorkflowExecutions, StateFilter, WorkflowExecution};

use crate::args::{OutputArgs, ParallelArgs, ServiceArgs, TokenListingArgs};
use crate::flags;
use crate::output::{Column, Row};
use crate::runner::{action_args, listing_args};

/// Which executions: the filters `list`, `summary` and `failures` share
/// (`failures` fixes the state itself, so `--states` is apart).
#[derive(Debug, Args)]
pub struct ExecutionFilterArgs {
    /// Only executions of this workflow.
    #[arg(long, value_name = "ID")]
    pub workflow_id: Option<String>,
    /// Only executions for this exact object key.
    #[arg(long, value_name = "KEY")]
    pub name: Option<String>,
    /// Only executions started by this batch job.
    #[arg(long, value_name = "JOB")]
    pub job_id: Option<String>,
}

impl ExecutionFilterArgs {
    /// The listing of the executions these filters, `states` and the
    /// creation-time `range` select; order, page size and token unset.
    pub fn listing(
        &self,
        states: Option<BTreeSet<StateFilter>>,
        (start, end): (Option<CiTimestamp>, Option<CiTimestamp>),
    ) -> ListWorkflowExecutions {
        ListWorkflowExecutions {
            workflow_id: self.workflow_id.clone(),
            name: self.name.clone(),
            states,
            start_creation_time: start,
            end_creation_time: end,
            job_id: self.job_id.clone(),
            ..ListWorkflowExecutions::default()
        }
    }
}

/// `--states`, for `list` and `summary`.
#[derive(Debug, Args)]
pub struct StatesArgs {
    /// Comma-separated states, any case: All, Success, Failed, Running, Cancel.
    #[arg(long, value_name = "STATES", value_parser = flags::states)]
    pub states: Option<BTreeSet<StateFilter>>,
}

/// `impl ActionArgs` for a command whose listing of executions is its own
/// `request_at(now)` (`summary`, `failures`): the flags are `list`'s, so a
/// broken rule names them as `list` does.
macro_rules! listing_at_now {
    ($args:ty) => {
        impl $crate::runner::ActionArgs for $args {
            type Action = ::cos_ci_proto::ListWorkflowExecutions;

            $crate::runner::shared_args!();

            fn action(&self) -> Result<Self::Action, $crate::error::CliError> {
                self.request_at(::std::time::SystemTime::now())
            }

            fn flag(parameter: &str) -> Option<&'static str> {
                <$crate::commands::list::ListArgs as $crate::runner::ActionArgs>::flag(parameter)
            }
        }
    };
}
pub(crate) use listing_at_now;

/// `cos-ci workflow-executions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub service: ServiceArgs,

    #[command(flatten)]
    pub filter: ExecutionFilterArgs,
    #[command(flatten)]
    pub state: StatesArgs,
    #[command(flatten)]
    pub listing: TokenListingArgs,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    ListArgs => ListWorkflowExecutions |args|
    let (start, end) = args.listing.time.resolve(SystemTime::now())?;
    check args.parallel.check(&args.listing.paging);
    {
        workflow_id: args.filter.workflow_id.clone() => "workflowId" as "--workflow-id",
        name: args.filter.name.clone() => "name" as "--name",
        order: args.listing.order => "orderByTime" as "--order",
        size: args.listing.size => "size" as "--size",
        states: args.state.states.clone() => "states" as "--states",
        start_creation_time: start => "startCreationTime" as "--start-time",
        end_creation_time: end => "endCreationTime" as "--end-time",
        next_token: args.listing.next_token.clone() => "nextToken" as "--next-token",
        job_id: args.filter.job_id.clone() => "jobId" as "--job-id",
    }
}

listing_args!(ListArgs => "execution" in "WorkflowExecutionList" by token, parallel);

/// Column titles are the API's element names; `Object` is last because it
/// varies most.
impl Row for WorkflowExecution {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("RunId", |execution| Cow::Borrowed(&execution.run_id)),
        Column::new("WorkflowId", |execution| {
            Cow::Borrowed(&execution.workflow_id)
        }),
        Column::new("State", |execution| Cow::Borrowed(execution.state.as_str())),
        Column::new("CreateTime", |execution| {
            Cow::Borrowed(
                execution
                    .create_time
                    .as_ref()
                    .map_or("", CiTimestamp::as_str),
            )
        }),
        Column::new("Object", |execution| Cow::Borrowed(&execution.object)),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse_aimed, parsed};
    use crate::error::CliError;
    use crate::runner::ActionArgs;
    use cos_ci_proto::CiAction;

    fn parse(args: &[&str]) -> Result<ListArgs, clap::Error> {
        parse_aimed(args)
    }

    fn list(args: &[&str]) -> ListArgs {
        parsed(args)
    }

    #[test]
    fn builds_the_request() {
        let request = list(&[
            "--workflow-id",
            "w1",
            "--states",
            "success,Failed",
            "--order",
            "asc",
            "--size",
            "100",
            "--start-time",
            "2022-08-09T14:00:00+08:00",
            "--end-time",
            "2022-08-10T14:00:00+0800",
        ])
        .action()
        .unwrap();
        assert_eq!(
            request.wire_query(),
            "workflowId=w1&states=Success%2CFailed&orderByTime=Asc&startCreationTime=2022-08-09T14%3A00%3A00%2B0800&endCreationTime=2022-08-10T14%3A00%3A00%2B0800&size=100"
        );
        for order in ["asc", "Asc", "ASC"] {
            assert_eq!(
                list(&["--order", order]).listing.order,
                Some(cos_ci_proto::Order::Asc)
            );
        }
    }

    /// Bad values are refused by clap while parsing; the error names the
    /// flag and carries the protocol crate's rule.
    #[test]
    fn value_errors_name_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--size", "0"], "--size"),
            (&["--size", "101"], "--size"),
            (&["--size", "ten"], "--size"),
            (&["--states", "Done"], "--states"),
            (&["--states", "Success,,Failed"], "--states"),
            (&["--order", "newest"], "--order"),
            (&["--start-time", "yesterday"], "--start-time"),
            (&["--start-time", "-24"], "--start-time"),
            (&["--since", "24"], "--since"),
            (&["--since", "-2h"], "--since"),
            (&["--end-time", "2022-13-01T00:00:00+0800"], "--end-time"),
            (&["--limit", "0"], "--limit"),
            (&["--max-pages", "-1"], "--max-pages"),
            (&["--timeout", "soon"], "--timeout"),
            (&["--max-attempts", "11"], "--max-attempts"),
        ];
        for (args, flag) in cases {
            let error = parse(args).expect_err(&format!("{args:?}"));
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
            let line = crate::clap_error_line(&error).expect("one line");
            assert!(
                line.starts_with(&format!("error: invalid {flag}: ")),
                "{args:?}: {line}"
            );
        }
    }

    #[test]
    fn rule_errors_name_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--workflow-id", ""], "--workflow-id"),
            (
                &[
                    "--start-time",
                    "2022-08-10T00:00:00Z",
                    "--end-time",
                    "2022-08-09T00:00:00Z",
                ],
                "--start-time",
            ),
        ];
        for (args, flag) in cases {
            let args = list(args);
            let error = args
                .action()
                .and_then(|action| {
                    action.validate().map_err(|error| {
                        CliError::invalid_flag(
                            ListArgs::flag(error.parameter).unwrap_or("?"),
                            error.rule,
                        )
                    })
                })
                .unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("invalid {flag}: ")),
                "{args:?}: {message}"
            );
            assert!(!message.contains("CreationTime"), "{message}");
        }
    }

    #[test]
    fn relative_times_and_since() {
        let before = SystemTime::now();
        let request = list(&["--start-time", "-24h", "--end-time", "now"])
            .action()
            .unwrap();
        let start = request.start_creation_time.unwrap();
        let end = request.end_creation_time.unwrap();
        assert_eq!(end.unix_seconds() - start.unix_seconds(), 86_400);
        let now = before
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((end.unix_seconds() - now).abs() <= 2, "{end} vs {now}");
        assert_eq!(end.offset_seconds(), 8 * 3600, "relative times are +08:00");
        let since = list(&["--since", "2h"]).action().unwrap();
        assert_eq!(
            since.end_creation_time.unwrap().unix_seconds()
                - since.start_creation_time.unwrap().unix_seconds(),
            7_200
        );
        // --since is a range of its own.
        let error = parse(&["--since", "2h", "--start-time", "-1h"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        // A relative start after an absolute end is refused, naming the flags.
        let error = list(&["--start-time", "-1h", "--end-time", "2020-01-01T00:00:00Z"])
            .action()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid --start-time: must not be after --end-time"),
            "{error}"
        );
    }

    #[test]
    fn paging_flags() {
        assert!(!list(&[]).listing.paging.follows());
        assert!(list(&["--all"]).listing.paging.follows());
        assert_eq!(
            list(&["--limit", "5"]).listing.paging.options().limit,
            Some(5)
        );
        let capped = list(&["--max-pages", "3"]).listing.paging;
        assert!(capped.follows(), "--max-pages alone follows pages");
        assert_eq!(capped.options().max_pages, Some(3));
        assert!(parse(&["--all", "--limit", "3"]).is_err());
        assert_eq!(list(&[]).parallel.workers, 1);
        assert_eq!(list(&["--all", "--parallel", "8"]).parallel.workers, 8);
        for bad in ["0", "33"] {
            let error = parse(&["--all", "--parallel", bad]).unwrap_err();
            let line = crate::clap_error_line(&error).expect("one line");
            assert!(line.starts_with("error: invalid --parallel: "), "{line}");
        }
        let error = list(&["--parallel", "4"]).action().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid --parallel: needs --all, --limit or --max-pages (one page is one request)"
        );
        assert!(list(&["--limit", "5", "--parallel", "4"]).action().is_ok());
    }
}
