//! `cos-ci workflow-executions list`: one page, or every page streamed.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::pin::pin;

use cos_ci_client::{Config, PagingOptions, RetryPolicy};
use cos_ci_hyper::{HyperClient, TransportOptions};
use cos_ci_proto::ListWorkflowExecutions;
use futures_util::StreamExt;

use crate::args::{ListArgs, OutputFormat};
use crate::error::CliError;
use crate::output::{
    JsonListWriter, Progress, TableWriter, next_token_line, summary_line, write_json_page,
    write_ndjson,
};

/// Run the listing described by `args`, printing to stdout (results) and
/// stderr (NextToken, summary, progress). `env` looks up environment
/// variables (credentials).
pub async fn run(args: &ListArgs, env: impl Fn(&str) -> Option<OsString>) -> Result<(), CliError> {
    let request = args.request()?;
    let following = args.following()?;
    let mut options = TransportOptions::default();
    let limits = args.time_limits(options.request_timeout)?;
    let credentials = args.credentials.resolve(env)?;
    let mut config = Config::new(&args.target.bucket, &args.target.region, credentials)?;
    if let Some(endpoint) = &args.target.endpoint {
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
    tracing::debug!(%endpoint, bucket = %config.bucket(), region = %config.region(), "listing workflow executions");
    let client = HyperClient::with_options(config, options);

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match following {
        None => one_page(&client, request, args.output, &mut out, &endpoint).await,
        Some(limit) => every_page(&client, request, limit, args.output, &mut out, &endpoint).await,
    };
    // Flush what was printed before reporting an error, so the reader sees
    // every complete page that arrived.
    let flushed = out.flush().map_err(CliError::Output);
    result.and(flushed)
}

async fn one_page<W: Write>(
    client: &HyperClient,
    request: ListWorkflowExecutions,
    format: OutputFormat,
    out: &mut W,
    endpoint: &str,
) -> Result<(), CliError> {
    let page = client
        .list_workflow_executions(request)
        .await
        .map_err(|error| CliError::client(error, endpoint))?;
    match format {
        OutputFormat::Json => write_json_page(out, &page).map_err(CliError::Output)?,
        OutputFormat::Ndjson => write_ndjson(out, &page.executions).map_err(CliError::Output)?,
        OutputFormat::Table => {
            TableWriter::new()
                .write_page(out, &page.executions)
                .map_err(CliError::Output)?;
            if page.executions.is_empty() {
                note("no executions found");
            }
        }
    }
    out.flush().map_err(CliError::Output)?;
    // JSON carries the token in the document; the other formats keep stdout
    // pure data and say it on stderr.
    if let Some(token) = page
        .next_token
        .as_deref()
        .filter(|_| format != OutputFormat::Json)
    {
        note(&next_token_line(token));
    }
    Ok(())
}

async fn every_page<W: Write>(
    client: &HyperClient,
    request: ListWorkflowExecutions,
    limit: Option<u64>,
    format: OutputFormat,
    out: &mut W,
    endpoint: &str,
) -> Result<(), CliError> {
    let options = PagingOptions {
        limit,
        ..PagingOptions::default()
    };
    let mut pages = pin!(client.pages(request, options));
    let mut progress = Progress::new(io::stderr().is_terminal());
    let mut table = TableWriter::new();
    let mut json = JsonListWriter::new();
    let mut executions: u64 = 0;
    let mut page_count: u64 = 0;
    let mut resume_token: Option<String> = None;
    if format == OutputFormat::Json {
        json.begin(out).map_err(CliError::Output)?;
    }
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                let _ = progress.clear(&mut io::stderr());
                return Err(CliError::client(error, endpoint));
            }
        };
        page_count += 1;
        executions += page.items.len() as u64;
        resume_token = page.next_token().map(str::to_owned);
        let page = page.items;
        // The progress line and table rows may share one terminal: erase
        // the line, print the rows, then draw it again below them.
        let _ = progress.clear(&mut io::stderr());
        match format {
            OutputFormat::Table => table.write_page(out, &page),
            OutputFormat::Ndjson => write_ndjson(out, &page),
            OutputFormat::Json => json.write_page(out, &page),
        }
        .and_then(|()| out.flush())
        .map_err(CliError::Output)?;
        let _ = progress.update(&mut io::stderr(), executions, page_count);
        tracing::debug!(
            page = page_count,
            items = page.len(),
            total = executions,
            "page"
        );
    }
    let _ = progress.clear(&mut io::stderr());
    // Stopped by --limit with more to come: say where to resume, as for a
    // single page (in the document for JSON, on stderr otherwise).
    match format {
        OutputFormat::Json => json
            .finish(out, resume_token.as_deref())
            .map_err(CliError::Output)?,
        OutputFormat::Table => note(&summary_line(executions, page_count)),
        OutputFormat::Ndjson => {}
    }
    if let Some(token) = resume_token
        .as_deref()
        .filter(|_| format != OutputFormat::Json)
    {
        note(&next_token_line(token));
    }
    tracing::info!(executions, pages = page_count, "listing complete");
    Ok(())
}

/// A line on stderr. A closed stderr is not worth failing the run for.
fn note(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}
