//! `cos-ci workflows ...`: list (by page number), get (the topology drawn
//! as a graph), create and update (from a `<Request>` XML or JSON file),
//! delete, pause, activate, and trigger (with `--wait`).

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

use clap::Args;
use cos_ci_client::{Error as ClientError, ExecutionWait, TransportErrorKind};
use cos_ci_proto::{
    ActivateWorkflow, CiAction, CreateWorkflow, DeleteWorkflow, ListWorkflows, MediaWorkflow,
    PauseWorkflow, TriggerWorkflow, TriggerWorkflowOutput, UpdateWorkflow, WorkflowOutput,
    WorkflowRequest,
};

use crate::args::{OutputArgs, PageNumberArgs, ServiceArgs, WaitArgs};
use serde::Serialize;

use crate::commands::topology;
use crate::commands::wait::wait_for;
use crate::error::CliError;
use crate::files::read_document;
use crate::flags::{self, IdList};
use crate::output::{Column, Render, Row, TableWriter, time_or_dash, write_fields};
use crate::runner::{self, ActionArgs, Runner, action_args, listing_args, note};
use crate::terminal::printable;

/// `cos-ci workflows list`.
#[derive(Debug, Args)]
pub struct WorkflowsListArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Only these workflows (comma-separated WorkflowIds); ids with no
    /// workflow are reported on stderr.
    #[arg(long, value_name = "ID,ID", value_parser = flags::id_list)]
    pub ids: Option<IdList>,
    /// Only workflows with this name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub pages: PageNumberArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    WorkflowsListArgs => ListWorkflows |args| {
        ids: args.ids.clone().map(|ids| ids.0) => "ids" as "--ids",
        name => "name" as "--name",
        page_number: args.pages.page_number => "pageNumber" as "--page-number",
        page_size: args.pages.page_size => "pageSize" as "--page-size",
    }
}

listing_args!(WorkflowsListArgs => "workflow" in "MediaWorkflowList" by page_number, missing non_exist_ids);

impl Row for MediaWorkflow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("WorkflowId", |workflow| {
            Cow::Borrowed(&workflow.workflow_id)
        }),
        Column::new("State", |workflow| Cow::Borrowed(workflow.state.as_str())),
        Column::new("CreateTime", |workflow| {
            Cow::Borrowed(time_or_dash(workflow.create_time.as_ref()))
        }),
        Column::new("UpdateTime", |workflow| {
            Cow::Borrowed(time_or_dash(workflow.update_time.as_ref()))
        }),
        Column::new("Name", |workflow| Cow::Borrowed(&workflow.name)),
    ];
}

/// `cos-ci workflows get|delete|pause|activate`: one workflow, by its id.
#[derive(Debug, Args)]
pub struct WorkflowIdArgs {
    /// The workflow's WorkflowId.
    #[arg(value_name = "WORKFLOW_ID")]
    pub workflow_id: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// An action on the one workflow [`WorkflowIdArgs`] names: `get`'s
/// listing of it, `delete`, `pause`, `activate`.
pub trait ForWorkflow: CiAction {
    /// The wire parameter that carries the id, which errors call
    /// `WORKFLOW_ID`.
    const ID_PARAMETER: &'static str;
    /// The action for workflow `workflow_id`.
    fn for_workflow(workflow_id: String) -> Result<Self, CliError>;
}

/// `get` lists the workflows with this one id (CI has no call for one
/// workflow); a comma would make it several.
impl ForWorkflow for ListWorkflows {
    const ID_PARAMETER: &'static str = "ids";

    fn for_workflow(workflow_id: String) -> Result<Self, CliError> {
        if workflow_id.is_empty() || workflow_id.contains(',') {
            return Err(CliError::invalid_flag(
                "WORKFLOW_ID",
                "must be one workflow id (not empty, no `,`)",
            ));
        }
        Ok(ListWorkflows {
            ids: Some(vec![workflow_id]),
            ..ListWorkflows::default()
        })
    }
}

/// [`WorkflowIdArgs`] as the action `A` on its workflow.
#[derive(Debug)]
pub struct WorkflowIdAction<'a, A> {
    args: &'a WorkflowIdArgs,
    action: PhantomData<fn() -> A>,
}

impl WorkflowIdArgs {
    /// These args as the action `A` on their workflow.
    pub fn as_action<A: ForWorkflow>(&self) -> WorkflowIdAction<'_, A> {
        WorkflowIdAction {
            args: self,
            action: PhantomData,
        }
    }
}

impl<A: ForWorkflow> ActionArgs for WorkflowIdAction<'_, A> {
    type Action = A;

    runner::shared_args!(args);

    fn action(&self) -> Result<A, CliError> {
        A::for_workflow(self.args.workflow_id.clone())
    }

    fn flag(parameter: &str) -> Option<&'static str> {
        (parameter == A::ID_PARAMETER).then_some("WORKFLOW_ID")
    }
}

/// Run `workflows get`: the workflow as `create` and `update` answer it.
pub fn get(args: &WorkflowIdArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let (_, output) = runner::answer(&args.as_action::<ListWorkflows>(), env)?;
    let Some(workflow) = output
        .workflows
        .into_iter()
        .find(|workflow| workflow.workflow_id == args.workflow_id)
    else {
        return Err(CliError::NotFound(format!(
            "no workflow with id {}",
            printable(&args.workflow_id)
        )));
    };
    runner::print_document(
        args.output.format,
        &WorkflowOutput {
            request_id: output.request_id,
            workflow,
        },
    )
}

/// A workflow: its fields, its graph (one line per route from `Start`),
/// and its nodes.
impl Render for WorkflowOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let workflow = &self.workflow;
        write_fields(
            out,
            &[
                ("WorkflowId", &workflow.workflow_id),
                ("Name", &workflow.name),
                ("State", workflow.state.as_str()),
                ("BucketId", workflow.bucket_id.as_deref().unwrap_or("")),
                ("CreateTime", time_or_dash(workflow.create_time.as_ref())),
                ("UpdateTime", time_or_dash(workflow.update_time.as_ref())),
            ],
        )?;
        let Some(topology) = &workflow.topology else {
            return out.write_all(b"\nno topology\n");
        };
        out.write_all(b"\nTopology:\n")?;
        let lines = topology::draw(topology);
        if lines.is_empty() {
            out.write_all(b"  (no Dependencies)\n")?;
        }
        for line in lines {
            writeln!(out, "  {}", printable(&line))?;
        }
        let nodes = topology::nodes(topology);
        if !nodes.is_empty() {
            out.write_all(b"\n")?;
            TableWriter::new().write_page(out, &nodes)?;
        }
        Ok(())
    }
}

impl Row for topology::NodeSummary {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("Node", |node| Cow::Borrowed(&node.name)),
        Column::new("Type", |node| Cow::Borrowed(&node.node_type)),
        Column::new("TemplateId", |node| {
            Cow::Borrowed(node.template_id.as_deref().unwrap_or("-"))
        }),
        Column::new("Detail", |node| Cow::Borrowed(&node.detail)),
    ];
}

/// `cos-ci workflows create`, and `update` after its WORKFLOW_ID.
#[derive(Debug, Args)]
pub struct WorkflowCreateArgs {
    /// The `<Request>` XML document, or JSON with the same element names
    /// (`{"MediaWorkflow": {"Name": …, "Topology": …}}`); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which flag a broken rule of a workflow request belongs to.
fn request_flag(parameter: &str) -> Option<&'static str> {
    matches!(parameter, "Name" | "Topology" | "State").then_some("--file")
}

action_args! {
    WorkflowCreateArgs => CreateWorkflow |args| {
        request: read_document::<WorkflowRequest>(&args.file, "--file")?,
    }
    else request_flag
}

/// `cos-ci workflows update`.
#[derive(Debug, Args)]
pub struct WorkflowUpdateArgs {
    /// The workflow's WorkflowId.
    #[arg(value_name = "WORKFLOW_ID")]
    pub workflow_id: String,
    /// The new definition, given as to `create`.
    #[command(flatten)]
    pub definition: WorkflowCreateArgs,
}

action_args! {
    WorkflowUpdateArgs => UpdateWorkflow |args|
    shared in definition;
    {
        workflow_id => "WorkflowId" as "WORKFLOW_ID",
        request: read_document::<WorkflowRequest>(&args.definition.file, "--file")?,
    }
    else request_flag
}

/// A change to one workflow by its id (`delete`, `pause`, `activate`):
/// the action, and what the table form says once it is done.
pub trait WorkflowChange: ForWorkflow<Output: Serialize> {
    /// `deleted`, `paused`, …, and what that means for the workflow.
    const DONE: (&'static str, &'static str);
}

macro_rules! workflow_changes {
    ($($action:ident: $done:literal, $effect:literal;)*) => {$(
        impl ForWorkflow for $action {
            const ID_PARAMETER: &'static str = "WorkflowId";

            fn for_workflow(workflow_id: String) -> Result<Self, CliError> {
                Ok($action { workflow_id })
            }
        }

        impl WorkflowChange for $action {
            const DONE: (&'static str, &'static str) = ($done, $effect);
        }
    )*};
}

workflow_changes! {
    DeleteWorkflow: "deleted", "";
    PauseWorkflow: "paused", ": it no longer runs on new objects";
    ActivateWorkflow: "activated", ": it runs on new objects";
}

/// Run `workflows delete`, `pause` or `activate` (`A`).
pub fn change<A: WorkflowChange>(
    args: &WorkflowIdArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let (done, effect) = A::DONE;
    let line = format!("{done} workflow {}{effect}", args.workflow_id);
    runner::call_saying(&args.as_action::<A>(), env, |_| line)
}

/// `cos-ci workflows trigger`.
#[derive(Debug, Args)]
pub struct WorkflowTriggerArgs {
    /// The workflow to run.
    #[arg(long, value_name = "ID")]
    pub workflow_id: String,
    /// The object key to run it on.
    #[arg(long, value_name = "KEY")]
    pub object: String,
    /// A name for the trigger (the API's batch-trigger job name), at most
    /// 128 characters.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Follow the run to its end: each task's progress on stderr, the run
    /// as `workflow-executions get` shows it on stdout; exit 0 on Success,
    /// 5 on Failed or Cancel, 4 when --wait-timeout passes first.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub waiting: WaitArgs,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    WorkflowTriggerArgs => TriggerWorkflow |args|
    check check_wait_flags(args.wait, &args.waiting);
    {
        workflow_id => "workflowId" as "--workflow-id",
        object => "object" as "--object",
        name => "name" as "--name",
    }
}

/// `--wait-timeout` and `--poll-interval` mean something only with `--wait`.
pub fn check_wait_flags(wait: bool, waiting: &WaitArgs) -> Result<(), CliError> {
    if wait {
        return Ok(());
    }
    for (flag, set) in [
        ("--wait-timeout", waiting.wait_timeout.is_some()),
        ("--poll-interval", waiting.poll_interval.is_some()),
    ] {
        if set {
            return Err(CliError::invalid_flag(flag, "only applies with --wait"));
        }
    }
    Ok(())
}

/// The RunId, as people read it.
impl Render for TriggerWorkflowOutput {
    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        write_fields(out, &[("RunId", &self.instance_id)])
    }
}

/// Whether a call that got no answer may still have reached the service:
/// the client's [`ClientError::MaybeApplied`] (a non-idempotent action is
/// never retried after its request may have gone out), and a transport
/// failure or deadline that cut an attempt short, other than a connection
/// that was never made.
pub fn may_have_been_sent(error: &ClientError) -> bool {
    match error {
        ClientError::MaybeApplied { .. } => true,
        ClientError::Transport(error) => error.kind != TransportErrorKind::Connect,
        ClientError::DeadlineExceeded { last_error, .. } => {
            last_error.as_deref().is_none_or(may_have_been_sent)
        }
        _ => false,
    }
}

/// `error` with advice when it is a call that may have reached the service
/// without its answer reaching us: how to check (`check`, a command)
/// whether `what` (`the trigger`) took effect before sending it again.
pub fn hint_if_maybe_sent(error: CliError, what: &str, check: &str) -> CliError {
    let CliError::Client { error: client, .. } = &error else {
        return error;
    };
    if !may_have_been_sent(client) {
        return error;
    }
    let hint = if matches!(client, ClientError::MaybeApplied { .. }) {
        // The client's message already says what happened.
        format!("for example with `{check}`")
    } else {
        format!(
            "{what} may have reached the service anyway (it is never retried); check with \
             `{check}` before sending it again"
        )
    };
    error.with_hint(hint)
}

/// Run `workflows trigger`.
pub fn trigger(
    args: &WorkflowTriggerArgs,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let action = runner::checked_action(args)?;
    let runner = Runner::new(&args.service, env)?;
    let output = runner.call(action).map_err(|error| {
        let check = format!(
            "cos-ci workflow-executions list --workflow-id {} --name {} --since 1h",
            shell_word(&args.workflow_id),
            shell_word(&args.object)
        );
        hint_if_maybe_sent(error, "the trigger", &check)
    })?;
    if !args.wait {
        return runner::print_document(args.format(), &output);
    }
    note(&format!("started run {}", printable(&output.instance_id)));
    wait_for::<ExecutionWait>(&runner, &output.instance_id, &args.waiting, args.format())
}

/// `word` quoted for a POSIX shell when it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,=+@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_client::TransportError;

    #[test]
    fn only_a_refused_connection_surely_did_not_send() {
        let transport = |kind| ClientError::Transport(TransportError::new(kind, "x"));
        assert!(may_have_been_sent(&ClientError::MaybeApplied {
            action: "TriggerMediaWorkflow",
            source: TransportError::new(TransportErrorKind::ConnectionClosed, "x"),
        }));
        assert!(!may_have_been_sent(&transport(TransportErrorKind::Connect)));
        for kind in [
            TransportErrorKind::Timeout,
            TransportErrorKind::ConnectionClosed,
            TransportErrorKind::Io,
        ] {
            assert!(may_have_been_sent(&transport(kind)), "{kind:?}");
        }
        let deadline = |last: Option<ClientError>| ClientError::DeadlineExceeded {
            attempts: 1,
            elapsed: std::time::Duration::from_secs(1),
            deadline: std::time::Duration::from_secs(1),
            last_error: last.map(Box::new),
        };
        assert!(may_have_been_sent(&deadline(None)));
        assert!(may_have_been_sent(&deadline(Some(transport(
            TransportErrorKind::Timeout
        )))));
        assert!(!may_have_been_sent(&deadline(Some(transport(
            TransportErrorKind::Connect
        )))));
        assert!(!may_have_been_sent(&ClientError::Usage("x")));
    }

    #[test]
    fn advice_says_how_to_check() {
        let client = |error| CliError::client(error, "http://x");
        let applied = client(ClientError::MaybeApplied {
            action: "TriggerMediaWorkflow",
            source: TransportError::new(TransportErrorKind::Timeout, "slow"),
        });
        let line = hint_if_maybe_sent(applied, "the trigger", "cos-ci check").to_line();
        assert!(
            line.ends_with("again; for example with `cos-ci check`"),
            "{line}"
        );
        let cut = client(ClientError::DeadlineExceeded {
            attempts: 1,
            elapsed: std::time::Duration::from_secs(1),
            deadline: std::time::Duration::from_secs(1),
            last_error: None,
        });
        let line = hint_if_maybe_sent(cut, "the trigger", "cos-ci check").to_line();
        assert!(
            line.ends_with(
                "; the trigger may have reached the service anyway (it is never retried); \
                 check with `cos-ci check` before sending it again"
            ),
            "{line}"
        );
        let refused = client(ClientError::Transport(TransportError::new(
            TransportErrorKind::Connect,
            "refused",
        )));
        let line = hint_if_maybe_sent(refused, "the trigger", "cos-ci check").to_line();
        assert!(!line.contains("cos-ci check"), "{line}");
        assert_eq!(
            hint_if_maybe_sent(CliError::usage("x"), "the trigger", "c").to_line(),
            "error: x"
        );
    }

    /// `get`, `delete`, `pause` and `activate` share the args; what each
    /// sends, and which parameter errors call WORKFLOW_ID, is the action's.
    #[test]
    fn one_workflow_by_id() {
        let args: WorkflowIdArgs = crate::args::parsed(&["w1"]);
        let get = args.as_action::<ListWorkflows>().action().unwrap();
        assert_eq!(get.ids, Some(vec!["w1".to_owned()]));
        assert_eq!(get.name, None);
        let pause = args.as_action::<PauseWorkflow>().action().unwrap();
        assert_eq!(pause.workflow_id, "w1");
        assert_eq!(
            WorkflowIdAction::<ListWorkflows>::flag("ids"),
            Some("WORKFLOW_ID")
        );
        assert_eq!(
            WorkflowIdAction::<DeleteWorkflow>::flag("WorkflowId"),
            Some("WORKFLOW_ID")
        );
        assert_eq!(WorkflowIdAction::<DeleteWorkflow>::flag("ids"), None);
        for several in ["", "w1,w2"] {
            let args: WorkflowIdArgs = crate::args::parsed(&[several]);
            let error = args.as_action::<ListWorkflows>().action().unwrap_err();
            assert_eq!(
                error.to_string(),
                "invalid WORKFLOW_ID: must be one workflow id (not empty, no `,`)"
            );
            assert_eq!(error.exit_code(), 2);
        }
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("in/a.mp4"), "in/a.mp4");
        assert_eq!(shell_word("a b's"), r"'a b'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
