//! `cos-ci-hyper`: runs the `cos-ci-client` sans-IO client over hyper 1 and
//! tokio.
//!
//! What it is for: the ready-made async transport — pooled keep-alive
//! connections, TLS for `https` (rustls with the `ring` provider and the
//! webpki roots, no OpenSSL), plain `http` for the emulator, connect and
//! request timeouts, a response-size cap, the client's retry waits carried
//! out on tokio's timer, one call ([`HyperClient::execute`],
//! [`HyperClient::list_workflow_executions`]) or a lazy [`futures_core::Stream`]
//! over every page ([`HyperClient::list_all_workflow_executions`]), and a
//! `tracing` span per attempt.
//!
//! What it never does: decide anything about signing, retries, clock skew or
//! paging (the client does), buffer more than one page of a listing, or
//! record credentials, `Authorization` values or tokens in spans, logs or
//! errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cos_ci_client::Error> {
//! use cos_ci_client::{Config, Credentials};
//! use cos_ci_hyper::HyperClient;
//! use cos_ci_proto::ListWorkflowExecutions;
//! use futures_util::StreamExt;
//!
//! let config = Config::new("examplebucket-1250000000", "ap-beijing",
//!     Credentials::new("AKID…", "secret"))?;
//! let client = HyperClient::new(config);
//! let mut executions = std::pin::pin!(client.list_all_workflow_executions(ListWorkflowExecutions::default(), None));
//! while let Some(execution) = executions.next().await {
//!     println!("{}", execution?.run_id);
//! }
//! # Ok(()) }
//! ```

mod transport;

use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

use cos_ci_client::{Client, Config, Error, Paginator, RetryPolicy, Step};
use cos_ci_proto::{
    CiAction, ListWorkflowExecutions, ListWorkflowExecutionsOutput, PaginatedAction,
    WorkflowExecution,
};
use futures_core::Stream;
use tracing::Instrument;

pub use transport::TransportOptions;
use transport::{SendError, Transport};

/// The async client: a [`cos_ci_client::Client`] plus a pooled hyper
/// transport. Cheap to clone; clones share the pool and the learned clock
/// offset.
#[derive(Debug, Clone)]
pub struct HyperClient {
    client: Client,
    transport: Transport,
}

impl HyperClient {
    /// A client with default transport options. A random jitter seed is
    /// drawn unless `config`'s retry policy already has a non-default one.
    pub fn new(config: Config) -> Self {
        Self::with_options(config, TransportOptions::default())
    }

    /// A client with explicit transport options.
    pub fn with_options(config: Config, options: TransportOptions) -> Self {
        let mut retry = config.retry_policy().clone();
        if retry.jitter_seed == RetryPolicy::default().jitter_seed {
            // Processes that retry in lockstep hammer a recovering service
            // together; a per-process seed spreads them out.
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(std::process::id().into());
            retry.jitter_seed = hasher.finish();
        }
        let config = config.with_retry_policy(retry);
        Self {
            client: Client::new(config),
            transport: Transport::new(options),
        }
    }

    /// The sans-IO client underneath (for its config and clock offset).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run one call of `action` to completion: sign, send, retry and wait as
    /// the client decides.
    pub async fn execute<A: CiAction>(&self, action: A) -> Result<A::Output, Error> {
        let mut operation = self.client.operation(action);
        loop {
            match operation.poll(SystemTime::now()) {
                Step::Send(request) => {
                    let attempt = operation.attempts();
                    let span = tracing::info_span!(
                        "ci.request",
                        operation = A::NAME,
                        attempt,
                        method = %request.method(),
                        path = request.uri().path(),
                        status = tracing::field::Empty,
                        request_id = tracing::field::Empty,
                    );
                    let outcome = self
                        .transport
                        .send(request, operation.deadline())
                        .instrument(span.clone())
                        .await;
                    let now = SystemTime::now();
                    match outcome {
                        Ok(response) => {
                            span.record("status", response.status().as_u16());
                            if let Some(id) = response
                                .headers()
                                .get("x-ci-request-id")
                                .and_then(|v| v.to_str().ok())
                            {
                                span.record("request_id", id);
                            }
                            span.in_scope(|| {
                                tracing::debug!(status = response.status().as_u16(), "response")
                            });
                            operation.on_response(response, now);
                        }
                        Err(SendError::TooLarge { response, cap }) => {
                            span.record("status", response.status().as_u16());
                            span.in_scope(|| {
                                tracing::debug!(
                                    status = response.status().as_u16(),
                                    cap,
                                    "response body over the cap"
                                )
                            });
                            operation.on_oversized_response(response, cap, now);
                        }
                        Err(SendError::Transport(error)) => {
                            span.in_scope(
                                || tracing::debug!(kind = ?error.kind, %error, "transport error"),
                            );
                            operation.on_transport_error(error, now);
                        }
                    }
                    if let Some(decision) = operation.last_decision() {
                        span.in_scope(|| tracing::debug!(?decision, "retry decision"));
                    }
                }
                Step::Wait(delay) => {
                    tracing::debug!(operation = A::NAME, ?delay, "waiting before retry");
                    tokio::time::sleep(delay).await;
                }
                Step::Done(result) => return result,
            }
        }
    }

    /// One page of workflow executions (`GET /workflowexecution`).
    pub async fn list_workflow_executions(
        &self,
        request: ListWorkflowExecutions,
    ) -> Result<ListWorkflowExecutionsOutput, Error> {
        self.execute(request).await
    }

    /// Every page of a paginated action, fetched lazily as the stream is
    /// polled: one page in memory at a time. Ends after the last page, after
    /// `limit` items, or after the first error (which it yields). Each
    /// [`Page`] carries the token to resume from, so a listing stopped at
    /// `limit` can be continued later.
    pub fn pages<A>(
        &self,
        action: A,
        limit: Option<u64>,
    ) -> impl Stream<Item = Result<Page<A::Item>, Error>> + Send + use<A>
    where
        A: PaginatedAction + Send + 'static,
        A::Output: Send,
        A::Item: Send,
    {
        let mut paginator = Paginator::new(action);
        if let Some(limit) = limit {
            paginator = paginator.with_limit(limit);
        }
        let this = self.clone();
        futures_util::stream::unfold(Some(paginator), move |state| {
            let this = this.clone();
            async move {
                let mut paginator = state?;
                match paginator.next_request()? {
                    Err(error) => Some((Err(error), None)),
                    Ok(request) => match this.execute(request).await {
                        Ok(output) => {
                            let items = paginator.on_page(output);
                            let next_token = paginator.resume_token().map(str::to_owned);
                            Some((Ok(Page { items, next_token }), Some(paginator)))
                        }
                        Err(error) => Some((Err(error), None)),
                    },
                }
            }
        })
    }

    /// Every workflow execution matching `request`, following every page
    /// lazily (memory stays one page), stopping after `limit` items if set.
    pub fn list_all_workflow_executions(
        &self,
        request: ListWorkflowExecutions,
        limit: Option<u64>,
    ) -> impl Stream<Item = Result<WorkflowExecution, Error>> + Send + use<> {
        flatten_pages(self.pages(request, limit))
    }
}

/// One page of a listing followed by [`HyperClient::pages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items, in order (cut to the overall limit).
    pub items: Vec<T>,
    /// The token of the next page; `None` after the last page. After the
    /// page that reached the limit, where to resume the listing.
    pub next_token: Option<String>,
}

/// Turn a stream of pages into a stream of items, keeping the first error.
fn flatten_pages<T: Send, S>(pages: S) -> impl Stream<Item = Result<T, Error>> + Send
where
    S: Stream<Item = Result<Page<T>, Error>> + Send,
{
    use futures_util::StreamExt;
    pages.flat_map(|page| {
        let items: Vec<Result<T, Error>> = match page {
            Ok(page) => page.items.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        futures_util::stream::iter(items)
    })
}
