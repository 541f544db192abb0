//! One runner for every action.
//!
//! A subcommand that calls the service is an args struct implementing
//! [`ActionArgs`] (its flags → the proto action) plus how the answer is
//! shown ([`Render`] for one answer, [`Row`] for the items of a listing,
//! which also implements [`ListingArgs`]). [`call`] and [`list`] do the
//! rest, the same way for every action: check the action (errors name the
//! flag), resolve credentials, build the config, the tokio runtime and the
//! [`HyperClient`] once ([`Runner`]), run, print, and turn any failure into
//! a [`CliError`] with its exit code.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::pin::pin;

use std::time::SystemTime;

use cos_ci_client::{
    Config, CredentialProvider, Error as ClientError, PagingError, PagingOptions, ParallelOptions,
    RetryPolicy, TimeWindowed, WaitEvent, WaitOutcome, WaitPolicy, WaitTarget,
};
use cos_ci_hyper::{HyperClient, StreamedListing, TransportOptions};
use cos_ci_proto::{CiAction, Cursor, PaginatedAction};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::args::{
    CredentialArgs, OutputFormat, PagingArgs, ParallelArgs, RequestArgs, ServiceArgs, TargetArgs,
};
use crate::error::CliError;
use crate::output::{
    ListWriter, Progress, Render, Row, plural, resume_line, summary_line, write_document,
    write_json,
};

/// `ActionArgs::service` and `ActionArgs::format` for an args struct with
/// the usual `service: ServiceArgs` and `output: OutputArgs` fields, or
/// (`shared_args!(field)`) whose `field` has them.
macro_rules! shared_args {
    ($($field:ident)?) => {
        fn service(&self) -> &crate::args::ServiceArgs {
            &self$(.$field)?.service
        }

        fn format(&self) -> crate::args::OutputFormat {
            self$(.$field)?.output.format
        }
    };
}
pub(crate) use shared_args;

/// `impl ActionArgs` for an args struct with the usual `service` and
/// `output` fields (or a field that has them), from one list that says,
/// for each field of the request, where its value comes from and which
/// flag the user set it with: `action` builds the request from it, and
/// `flag` maps the wire parameters back to the flags.
///
/// ```text
/// action_args! {
///     JobsListArgs => ListJobs |args|
///     // Optional: the field that holds `service` and `output`.
///     shared in field;
///     // Optional: bindings, then rules of several flags (each returns
///     // Result<(), CliError>), run before the request is built.
///     let (start, end) = args.listing.time.resolve(SystemTime::now())?;
///     check args.some_rule();
///     {
///         tag => "tag" as "--tag",           // args.tag, cloned
///         queue_type: None,                  // no flag sets it
///         start_creation_time: start => "startCreationTime" as "--start-time",
///     }
///     // Optional: parameters that no field maps, then a
///     // fn(&str) -> Option<&'static str> for the rest (else None).
///     flags { "Tag" => "--tag" }
///     else request_flag
/// }
/// ```
macro_rules! action_args {
    (
        $args:ty => $action:ident |$a:ident|
        $(shared in $shared:ident;)?
        $(let $binding:pat = $init:expr;)*
        $(check $check:expr;)*
        {
            $($field:ident $(: $value:expr)? $(=> $wire:literal as $flag:literal)?),* $(,)?
        }
        $(flags { $($other_wire:literal => $other_flag:literal),* $(,)? })?
        $(else $fallback:expr)?
    ) => {
        impl $crate::runner::ActionArgs for $args {
            type Action = $action;

            $crate::runner::shared_args!($($shared)?);

            fn action(&self) -> Result<$action, $crate::error::CliError> {
                let $a = self;
                $(let $binding = $init;)*
                $($check?;)*
                Ok($action {
                    $($field: $crate::runner::action_args!(@value $a $field $($value)?),)*
                })
            }

            fn flag(parameter: &str) -> Option<&'static str> {
                match parameter {
                    $($($wire => Some($flag),)?)*
                    $($($other_wire => Some($other_flag),)*)?
                    _ => $crate::runner::action_args!(@fallback parameter $($fallback)?),
                }
            }
        }
    };
    (@value $a:ident $field:ident $value:expr) => { $value };
    (@value $a:ident $field:ident) => { ::std::clone::Clone::clone(&$a.$field) };
    (@fallback $parameter:ident $fallback:expr) => { $fallback($parameter) };
    (@fallback $parameter:ident) => { None };
}
pub(crate) use action_args;

/// `impl ListingArgs` for a listing command: `$noun`s listed under the
/// element `$items`, paged `by token` (the usual `listing:
/// TokenListingArgs` field; `, parallel` adds `WindowedListingArgs` for
/// the usual `parallel: ParallelArgs` field) or `by page_number` (the
/// usual `pages: PageNumberArgs` field; the answer's `$missing` ids, which
/// do not exist, noted on stderr).
macro_rules! listing_args {
    ($args:ty => $noun:literal in $items:literal by token $(, $parallel:ident)?) => {
        impl $crate::runner::ListingArgs for $args {
            const NOUN: &'static str = $noun;
            const ITEMS_KEY: &'static str = $items;

            fn paging(&self) -> &$crate::args::PagingArgs {
                &self.listing.paging
            }
        }
        $($crate::runner::listing_args!(@windowed $args, $parallel);)?
    };
    ($args:ty => $noun:literal in $items:literal by page_number, missing $missing:ident) => {
        impl $crate::runner::ListingArgs for $args {
            const NOUN: &'static str = $noun;
            const ITEMS_KEY: &'static str = $items;
            const PAGE_NUMBERS: bool = true;

            fn paging(&self) -> &$crate::args::PagingArgs {
                &self.pages.paging
            }

            fn notes(output: &$crate::runner::Output<Self>) -> Vec<String> {
                $crate::runner::not_found_note($noun, &output.$missing)
            }
        }
    };
    (@windowed $args:ty, parallel) => {
        impl $crate::runner::WindowedListingArgs for $args {
            fn parallel(&self) -> &$crate::args::ParallelArgs {
                &self.parallel
            }
        }
    };
}
pub(crate) use listing_args;

/// A subcommand's arguments that describe one API action.
pub trait ActionArgs {
    /// The action the flags build.
    type Action: CiAction;
    /// The shared flags: target, credentials, timeout and attempts.
    fn service(&self) -> &ServiceArgs;
    /// `--output`.
    fn format(&self) -> OutputFormat;
    /// The action. Values were already parsed by clap; check here the rules
    /// that involve several flags, naming the flags.
    fn action(&self) -> Result<Self::Action, CliError>;
    /// The flag (or argument) that sets a wire parameter, so the action's
    /// own validation errors name it (`nextToken` → `--next-token`).
    fn flag(parameter: &str) -> Option<&'static str> {
        let _ = parameter;
        None
    }
}

/// The arguments of a listing: an action that pages, whose answer and
/// items the runner can print (pages are fetched on the runtime while
/// they are printed, hence a [`StreamedListing`]).
pub trait ListingArgs:
    ActionArgs<Action: StreamedListing + PaginatedAction<Item: Row> + CiAction<Output: Serialize>>
{
    /// One item, for summaries and progress (`execution`).
    const NOUN: &'static str;
    /// The JSON document's array when pages are followed: the listing's
    /// element name (`WorkflowExecutionList`).
    const ITEMS_KEY: &'static str;
    /// `--all`, `--limit`, `--max-pages`.
    fn paging(&self) -> &PagingArgs;
    /// Whether the listing pages by number (`pageNumber`/`pageSize`)
    /// rather than by token: its resume hint is a page number, valid only
    /// with the same page size, so `--limit` picks a page size it divides.
    const PAGE_NUMBERS: bool = false;
    /// Lines for stderr about one page beyond its items (e.g. the ids the
    /// service reports as not existing), shown when one page is printed.
    fn notes(output: &Output<Self>) -> Vec<String> {
        let _ = output;
        Vec::new()
    }
}

/// The answer to `A`'s action.
pub(crate) type Output<A> = <<A as ActionArgs>::Action as CiAction>::Output;
type Item<A> = <<A as ActionArgs>::Action as PaginatedAction>::Item;

/// Run a one-call action and print its answer (`get`).
pub fn call<A>(args: &A, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError>
where
    A: ActionArgs,
    Output<A>: Render,
{
    let (_, output) = answer(args, env)?;
    print_document(args.format(), &output)
}

/// The runner for `args` and the answer to its action, called once.
pub fn answer<A: ActionArgs>(
    args: &A,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(Runner, Output<A>), CliError> {
    let action = checked_action(args)?;
    let runner = Runner::new(args.service(), env)?;
    let output = runner.call(action)?;
    Ok((runner, output))
}

/// Run a one-call action whose answer says little (delete, pause, cancel):
/// the table form is `line` (`paused workflow w1`); JSON and NDJSON are the
/// answer itself.
pub fn call_saying<A>(
    args: &A,
    env: impl Fn(&str) -> Option<OsString>,
    line: impl FnOnce(&Output<A>) -> String,
) -> Result<(), CliError>
where
    A: ActionArgs,
    Output<A>: Serialize,
{
    let (_, output) = answer(args, env)?;
    to_stdout(|out| {
        match args.format() {
            OutputFormat::Table => writeln!(out, "{}", crate::terminal::printable(&line(&output))),
            OutputFormat::Json => write_json(out, &output),
            OutputFormat::Ndjson => serde_json::to_writer(&mut *out, &output)
                .map_err(io::Error::from)
                .and_then(|()| out.write_all(b"\n")),
        }
        .map_err(CliError::Output)
    })
}

/// Print one document to stdout in `format`.
pub fn print_document<T: Render + ?Sized>(format: OutputFormat, value: &T) -> Result<(), CliError> {
    to_stdout(|out| write_document(out, format, value).map_err(CliError::Output))
}

/// Run `write` on buffered stdout, then flush what it printed even when
/// it failed, so that the reader sees every complete page that arrived
/// before the error (which is returned first).
pub(crate) fn to_stdout(
    write: impl FnOnce(&mut io::BufWriter<io::StdoutLock<'static>>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = write(&mut out);
    let flushed = out.flush().map_err(CliError::Output);
    result.and(flushed)
}

/// Run a listing: one page, or (with `--all`, `--limit`, `--max-pages`)
/// every page streamed, printing results to stdout and the NextToken,
/// summary and progress to stderr.
pub fn list<A: ListingArgs>(
    args: &A,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let action = checked_action(args)?;
    let runner = Runner::new(args.service(), env)?;
    to_stdout(|out| {
        if args.paging().follows() {
            runner.every_page::<A, _>(action, args, out)
        } else {
            runner.one_page::<A, _>(action, args.format(), out)
        }
    })
}

/// The arguments of a listing that can also be paged by creation-time
/// windows, several requests at a time (`--parallel N`).
pub trait WindowedListingArgs: ListingArgs<Action: TimeWindowed> {
    /// `--parallel`: requests in flight at once; 1 is the sequential
    /// listing.
    fn parallel(&self) -> &ParallelArgs;
}

/// [`list`], by creation-time windows when `--parallel` is above 1 and
/// pages are followed: the same items in the same order, several requests
/// at a time (see [`cos_ci_client::parallel`]). No NextToken is printed
/// then (the position of a windowed listing is not one token).
pub fn list_windowed<A: WindowedListingArgs>(
    args: &A,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(), CliError> {
    let parallel = args.parallel();
    if !parallel.windowed(args.paging()) {
        return list(args, env);
    }
    let options = ParallelOptions::new(parallel.workers).with_paging(args.paging().options());
    let action = checked_action(args)?;
    let page_size = options
        .paging
        .page_size
        .or(action.page_size())
        .unwrap_or(<A::Action as PaginatedAction>::MAX_PAGE_SIZE);
    let runner = Runner::new(args.service(), env)?;
    let pages = windowed_pages(&runner.client, action, options);
    to_stdout(|out| runner.print_pages::<A, _, _>(pages, args, out, page_size, 1))
}

/// A listing's items page by page, each page with where the listing
/// resumes after it.
pub fn sequential_pages<A: StreamedListing>(
    client: &HyperClient,
    action: A,
    options: PagingOptions,
) -> impl Stream<Item = Result<(Vec<A::Item>, Option<Cursor>), ClientError>> + Send + use<A> {
    client
        .pages(action, options)
        .map(|page| page.map(|page| (page.items, page.next_cursor)))
}

/// [`sequential_pages`] by creation-time windows, several requests at a
/// time: no page has a resume point (a windowed listing's position is
/// not one token).
pub fn windowed_pages<A: StreamedListing + TimeWindowed>(
    client: &HyperClient,
    action: A,
    options: ParallelOptions,
) -> impl Stream<Item = Result<(Vec<A::Item>, Option<Cursor>), ClientError>> + Send + use<A> {
    client
        .parallel_pages(action, options)
        .map(|page| page.map(|items| (items, None)))
}

/// The action, checked; a broken rule names the flag that set it.
pub fn checked_action<A: ActionArgs>(args: &A) -> Result<A::Action, CliError> {
    check::<A>(args.action()?)
}

/// `action` checked with its own rules; a broken rule names the flag of
/// `A` that set it.
pub fn check<A: ActionArgs>(action: A::Action) -> Result<A::Action, CliError> {
    action.validate().map_err(|error| {
        let flag = A::flag(error.parameter).map_or_else(
            || Cow::Owned(format!("parameter `{}`", error.parameter)),
            Cow::Borrowed,
        );
        CliError::invalid_flag(flag, error.rule)
    })?;
    Ok(action)
}

/// The config, runtime and client for one run, built once from the shared
/// flags.
#[derive(Debug)]
pub struct Runner {
    runtime: tokio::runtime::Runtime,
    client: HyperClient,
    endpoint: String,
}

impl Runner {
    /// Make `--timeout`, `--max-attempts` and `--deadline` agree, resolve
    /// credentials (flags, then `env`, checked and named by source), check
    /// bucket, region and endpoint.
    pub fn new(
        service: &ServiceArgs,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, CliError> {
        Self::from_parts(&service.target, &service.credentials, &service.request, env)
    }

    /// [`Runner::new`] from the three parts of [`ServiceArgs`] (for a
    /// command whose target is optional, like `callbacks listen`).
    pub fn from_parts(
        target: &TargetArgs,
        credentials: &CredentialArgs,
        request: &RequestArgs,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, CliError> {
        let mut options = TransportOptions::default();
        let limits = request.time_limits(options.request_timeout)?;
        let provider = credentials.resolve(&env)?;
        warn_if_expired(&provider);
        let region = target.region(credentials, &env)?;
        tracing::debug!(source = %provider.source(), "credentials");
        let mut config = Config::new(&target.bucket, &region, provider)?;
        if let Some(endpoint) = &target.endpoint {
            config = config.with_endpoint(endpoint)?;
        }
        let retry = RetryPolicy {
            max_attempts: limits.max_attempts,
            ..config.retry_policy().clone()
        };
        config = config
            .with_retry_policy(retry)
            .with_deadline(limits.deadline)
            .map_err(|error| CliError::invalid_flag("--deadline", error.to_string()))?;
        options.request_timeout = limits.attempt_timeout;
        options.connect_timeout = options.connect_timeout.min(limits.attempt_timeout);
        let endpoint = config.endpoint().to_string();
        tracing::debug!(%endpoint, bucket = %config.bucket(), region = %config.region(), "client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::Runtime)?;
        let client = {
            let _context = runtime.enter();
            HyperClient::with_options(config, options)
        };
        Ok(Runner {
            runtime,
            client,
            endpoint,
        })
    }

    /// The client.
    pub fn client(&self) -> &HyperClient {
        &self.client
    }

    /// A failed call, with where it went.
    pub fn error(&self, error: ClientError) -> CliError {
        CliError::client(error, &self.endpoint)
    }

    /// Where requests go (`https://<bucket>.ci.<region>.myqcloud.com`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Run a future on this run's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// One call of `action`, to completion (retries included).
    pub fn call<T: CiAction>(&self, action: T) -> Result<T::Output, CliError> {
        tracing::debug!(action = T::NAME, "call");
        self.runtime
            .block_on(self.client.execute(action))
            .map_err(|error| self.error(error))
    }

    /// Follow `target` until it ends or `policy`'s deadline passes,
    /// calling `on_event` with each change.
    pub fn wait<T: WaitTarget>(
        &self,
        target: T,
        policy: WaitPolicy,
        on_event: impl FnMut(&WaitEvent),
    ) -> Result<WaitOutcome<<T::Action as CiAction>::Output>, CliError> {
        self.runtime
            .block_on(self.client.wait(target, policy, on_event))
            .map_err(|error| self.error(error))
    }

    fn one_page<A, W>(
        &self,
        action: A::Action,
        format: OutputFormat,
        out: &mut W,
    ) -> Result<(), CliError>
    where
        A: ListingArgs,
        W: Write,
    {
        let request = action.clone();
        let output = self.call(action)?;
        let next = request.next_cursor(&output);
        for line in A::notes(&output) {
            note(&line);
        }
        match format {
            // JSON is the answer as the service gave it, NextToken included.
            OutputFormat::Json => write_json(out, &output),
            _ => {
                let items = <A::Action as PaginatedAction>::into_items(output);
                if items.is_empty() && format == OutputFormat::Table {
                    note(&format!("no {}s found", A::NOUN));
                }
                ListWriter::new(format, A::ITEMS_KEY).write_page(out, &items)
            }
        }
        .and_then(|()| out.flush())
        .map_err(CliError::Output)?;
        // The other formats keep stdout pure data and say it on stderr.
        if let Some(cursor) = next.filter(|_| format != OutputFormat::Json) {
            note(&resume_line(&cursor));
            if let Cursor::Page(page) = cursor {
                // Unset: the service's default page size.
                let size = request
                    .page_size()
                    .unwrap_or(cos_ci_proto::PageSize::DEFAULT);
                note(&page_hint(page, size, None));
            }
        }
        Ok(())
    }

    fn every_page<A, W>(&self, action: A::Action, args: &A, out: &mut W) -> Result<(), CliError>
    where
        A: ListingArgs,
        W: Write,
    {
        let mut options = args.paging().options();
        // A page-number listing resumes at a page boundary only if the
        // limit is a whole number of pages.
        if A::PAGE_NUMBERS
            && action.page_size().is_none()
            && let Some(limit) = options.limit
        {
            options.page_size = Some(page_size_for_limit(
                limit,
                <A::Action as PaginatedAction>::MAX_PAGE_SIZE,
            ));
        }
        let page_size = options
            .page_size
            .or(action.page_size())
            .unwrap_or(<A::Action as PaginatedAction>::MAX_PAGE_SIZE);
        // The number of the first page fetched (page-number listings).
        let page_number = match action.cursor() {
            Some(Cursor::Page(page)) => page,
            _ => 1,
        };
        let pages = sequential_pages(&self.client, action, options);
        self.print_pages::<A, _, _>(pages, args, out, page_size, page_number)
    }

    /// Print `pages` (each its items and where the listing resumes after
    /// it) as they arrive, then the summary and where to resume;
    /// `page_size` and `page_number` (of the first page) serve the hints of
    /// page-number listings.
    fn print_pages<A, W, S>(
        &self,
        pages: S,
        args: &A,
        out: &mut W,
        page_size: u32,
        mut page_number: u32,
    ) -> Result<(), CliError>
    where
        A: ListingArgs,
        W: Write,
        S: Stream<Item = Result<(Vec<Item<A>>, Option<Cursor>), ClientError>>,
    {
        let format = args.format();
        let mut writer = ListWriter::new(format, A::ITEMS_KEY);
        let mut progress = Progress::new(io::stderr().is_terminal(), A::NOUN);
        let mut pages_seen: u64 = 0;
        let mut resume: Option<Cursor> = None;
        // The number of the page being fetched, and of the last one seen
        // with how many items it gave (page-number listings).
        let mut last_page = (page_number, 0usize);
        writer.begin(out).map_err(CliError::Output)?;
        self.runtime.block_on(async {
            let mut pages = pin!(pages);
            while let Some(page) = pages.next().await {
                let (items, next_cursor) = match page {
                    Ok(page) => page,
                    Err(error) => {
                        let _ = progress.clear(&mut io::stderr());
                        note_resume_point(&error, resume.as_ref());
                        return Err(self.error(error));
                    }
                };
                pages_seen += 1;
                last_page = (page_number, items.len());
                page_number = match &next_cursor {
                    Some(Cursor::Page(next)) => *next,
                    _ => page_number.saturating_add(1),
                };
                resume = next_cursor;
                // The progress line and table rows may share one terminal:
                // erase the line, print the rows, then draw it again below.
                let _ = progress.clear(&mut io::stderr());
                writer
                    .write_page(out, &items)
                    .and_then(|()| out.flush())
                    .map_err(CliError::Output)?;
                let _ = progress.update(&mut io::stderr(), writer.count(), pages_seen);
                tracing::debug!(
                    page = pages_seen,
                    items = items.len(),
                    total = writer.count(),
                    "page"
                );
            }
            Ok(())
        })?;
        let _ = progress.clear(&mut io::stderr());
        // A page-number listing the limit stopped inside a page resumes at
        // that page (its first items were listed), not after it.
        let mut cut = None;
        if let Some(Cursor::Page(_)) = resume
            && last_page.1 < page_size as usize
        {
            resume = Some(Cursor::Page(last_page.0));
            cut = Some(last_page.1);
        }
        // Stopped by --limit with more to come: say where to resume, in the
        // document for JSON, on stderr otherwise.
        writer
            .finish(out, resume.as_ref())
            .map_err(CliError::Output)?;
        if format == OutputFormat::Table {
            note(&summary_line(A::NOUN, writer.count(), pages_seen));
        }
        if let Some(cursor) = resume.as_ref() {
            if format != OutputFormat::Json {
                note(&resume_line(cursor));
            }
            if let Cursor::Page(page) = cursor {
                note(&page_hint(*page, page_size, cut));
            }
        }
        tracing::info!(
            items = writer.count(),
            pages = pages_seen,
            "listing complete"
        );
        Ok(())
    }
}

/// The page size for `--limit` on a page-number listing: the limit itself
/// up to `max`, else its largest divisor from 10 to `max` (so the listing
/// stops at a page boundary and resumes exactly), else `max`.
pub fn page_size_for_limit(limit: u64, max: u32) -> u32 {
    if limit <= u64::from(max) {
        return u32::try_from(limit).unwrap_or(max).max(1);
    }
    (10..=max)
        .rev()
        .find(|size| limit.is_multiple_of(u64::from(*size)))
        .unwrap_or(max)
}

/// How to resume a page-number listing: the page number only means the
/// same items with the same page size.
pub fn page_hint(page: u32, page_size: u32, cut: Option<usize>) -> String {
    let mut line = format!("resume with --page-number {page} --page-size {page_size}");
    if let Some(listed) = cut {
        line.push_str(&format!(
            " (the first {listed} item{} of page {page} were listed above)",
            plural(listed as u64)
        ));
    }
    line
}

/// Fixed credentials that say when they expire (a tccli `oauth`/`sso`
/// login) and have: they are still tried, but the user is told why they
/// will probably be refused.
pub(crate) fn warn_if_expired(provider: &CredentialProvider) {
    let Some(provided) = provider.fixed_credentials() else {
        return;
    };
    if provided.is_expired(SystemTime::now()) {
        note(&format!(
            "warning: the credentials from {} expired at {} (log in again, e.g. `tccli auth login`)",
            provided.source(),
            provided
                .expires_at()
                .map(crate::output::utc_time)
                .unwrap_or_default()
        ));
    }
}

/// A line on stderr. A closed stderr is not worth failing the run for.
pub(crate) fn note(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// `no workflow with id: a, b` for the ids the service says do not exist
/// (`NonExistIDs`, each entry possibly comma-separated).
pub fn not_found_note(noun: &str, ids: &[String]) -> Vec<String> {
    let ids: Vec<&str> = ids
        .iter()
        .flat_map(|ids| ids.split(','))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "no {noun} with id: {}",
        crate::terminal::printable(&ids.join(", "))
    )]
}

/// After a listing stopped on `error`, print where to pick it up again
/// (`resume`, the position after the last page received) when the stop
/// was not the service misbehaving: a page limit, or a failed request for
/// the next page.
pub(crate) fn note_resume_point(error: &ClientError, resume: Option<&Cursor>) {
    let resumable = matches!(error, ClientError::Paging(PagingError::MaxPages { .. }))
        || !matches!(error, ClientError::Paging(_));
    if let Some(cursor) = resume.filter(|_| resumable) {
        note(&resume_line(cursor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_picks_a_page_size_that_ends_on_a_page_boundary() {
        assert_eq!(page_size_for_limit(5, 100), 5);
        assert_eq!(page_size_for_limit(100, 100), 100);
        assert_eq!(page_size_for_limit(150, 100), 75);
        assert_eq!(page_size_for_limit(250, 100), 50);
        assert_eq!(page_size_for_limit(1000, 100), 100);
        // A prime has no divisor from 10 to 100: whole pages, the last cut.
        assert_eq!(page_size_for_limit(101, 100), 100);
    }

    /// What `action_args!` writes for `flag`: each field's flag, the
    /// extra `flags`, and the fallback.
    #[test]
    fn action_args_map_parameters_back_to_flags() {
        use crate::commands::jobs::{JobSubmitArgs, JobsListArgs};
        use crate::commands::workflows::{WorkflowCreateArgs, WorkflowUpdateArgs};
        assert_eq!(
            JobsListArgs::flag("inventoryTriggerJobId"),
            Some("--batch-job-id")
        );
        assert_eq!(JobsListArgs::flag("queueType"), None, "no flag sets it");
        assert_eq!(JobSubmitArgs::flag("Input.Object"), Some("--input"));
        assert_eq!(JobSubmitArgs::flag("Operation.Snapshot"), Some("--file"));
        assert_eq!(WorkflowUpdateArgs::flag("WorkflowId"), Some("WORKFLOW_ID"));
        assert_eq!(WorkflowUpdateArgs::flag("Topology"), Some("--file"));
        assert_eq!(WorkflowCreateArgs::flag("Other"), None);
    }

    #[test]
    fn page_hints() {
        assert_eq!(
            page_hint(3, 50, None),
            "resume with --page-number 3 --page-size 50"
        );
        assert_eq!(
            page_hint(2, 100, Some(1)),
            "resume with --page-number 2 --page-size 100 (the first 1 item of page 2 were listed above)"
        );
    }
}
