//! `cos-ci-hyper`: runs the `cos-ci-client` sans-IO client over hyper 1 and
//! tokio.
//!
//! ```toml
//! [dependencies]
//! cos-ci-hyper = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Those two lines are enough: tokio for your runtime (`#[tokio::main]`;
//! `rt` alone with a current-thread runtime works too, the crate enables
//! the timer and networking it needs itself), and this crate re-exports
//! what its API takes and returns — [`Config`], [`Credentials`], [`Error`],
//! the list request and output types, the [`Stream`] trait and
//! [`StreamExt`] (for `.next().await`), and the [`cos_ci_client`] and
//! [`cos_ci_proto`] crates for everything else.
//!
//! What it is for: the ready-made async transport — pooled keep-alive
//! connections, TLS for `https` (rustls with the `ring` provider and the
//! webpki roots, no OpenSSL), plain `http` for the emulator, connect and
//! request timeouts, a response-size cap, the client's retry waits carried
//! out on tokio's timer, one call ([`HyperClient::execute`],
//! [`HyperClient::list_workflow_executions`]) or a lazy [`Stream`] over
//! every page ([`HyperClient::list_all_workflow_executions`]), the same
//! listing paged by creation-time windows several requests at a time
//! ([`HyperClient::parallel_items`]), and a `tracing` span per attempt.
//!
//! What it never does: decide anything about signing, retries, clock skew,
//! paging or time windows (the client does), buffer more than one page of a
//! sequential listing (a few pages per worker of a parallel one), or
//! record credentials, `Authorization` values or tokens in spans, logs or
//! errors.
//!
//! # Listing in parallel
//!
//! A listing by `NextToken` costs one round trip per page, one after the
//! other. [`HyperClient::parallel_items`] cuts it into creation-time
//! windows and pages several at once, handing out exactly what
//! [`HyperClient::items`] would, in the same order:
//!
//! ```no_run
//! use cos_ci_hyper::{HyperClient, ListWorkflowExecutions, ParallelOptions, StreamExt};
//!
//! # async fn demo(client: HyperClient) -> Result<(), cos_ci_hyper::Error> {
//! let mut executions = std::pin::pin!(
//!     client.parallel_items(ListWorkflowExecutions::default(), ParallelOptions::new(8))
//! );
//! while let Some(execution) = executions.next().await {
//!     println!("{}", execution?.run_id);
//! }
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! use cos_ci_hyper::{Config, Credentials, HyperClient, ListWorkflowExecutions, PagingOptions, StreamExt};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), cos_ci_hyper::Error> {
//!     let config = Config::new("examplebucket-1250000000", "ap-beijing",
//!         Credentials::new("AKID…", "secret"))?;
//!     let client = HyperClient::new(config);
//!     let mut executions = std::pin::pin!(client.list_all_workflow_executions(ListWorkflowExecutions::default(), PagingOptions::all()));
//!     while let Some(execution) = executions.next().await {
//!         println!("{}", execution?.run_id);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Temporary credentials
//!
//! Temporary (STS) credentials are the temporary pair plus the session
//! token; the token is signed and sent as `x-ci-security-token`, and never
//! shown by `Debug`.
//!
//! ```
//! use cos_ci_hyper::{Config, Credentials, HyperClient};
//!
//! let credentials = Credentials::new("AKIDtmp", "tmp-secret").with_session_token("token-1");
//! let config = Config::new("examplebucket-1250000000", "ap-beijing", credentials)?;
//! assert!(!format!("{config:?}").contains("token-1"));
//! let client = HyperClient::new(config);
//! # drop(client);
//! # Ok::<(), cos_ci_hyper::Error>(())
//! ```
//!
//! Or let the client find and refresh them: [`credentials_from_environment`]
//! runs the provider chain (environment, tccli profile, the SDKs'
//! credentials file, TKE OIDC, CVM instance role; see
//! [`CredentialChain`]). Instance-role and TKE OIDC credentials are
//! fetched on first use with short timeouts (2 s for the metadata service)
//! over a separate small connection pool, refreshed before they expire by
//! one task while the others go on, and never logged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cos_ci_hyper::Error> {
//! use cos_ci_hyper::{Config, HyperClient};
//!
//! let provider = cos_ci_hyper::credentials_from_environment()?;
//! let client = HyperClient::new(Config::new("examplebucket-1250000000", "ap-beijing", provider)?);
//! let credentials = client.credentials().await?;
//! println!("using {} until {:?}", credentials.source(), credentials.expires_at());
//! # Ok(()) }
//! ```
//!
//! # One client, many tasks
//!
//! A [`HyperClient`] is `Clone + Send + Sync`. Make one per process (or per
//! set of credentials) and clone it into every task: clones share the
//! connection pool and the learned clock offset, so concurrent calls reuse
//! connections instead of opening new ones.
//!
//! ```no_run
//! use cos_ci_hyper::{HyperClient, ListWorkflowExecutions};
//!
//! # async fn demo(client: HyperClient) -> Result<(), cos_ci_hyper::Error> {
//! let mut tasks = tokio::task::JoinSet::new();
//! for workflow_id in ["w1", "w2", "w3"] {
//!     let client = client.clone(); // same pool, same clock offset
//!     tasks.spawn(async move {
//!         let request = ListWorkflowExecutions {
//!             workflow_id: Some(workflow_id.to_owned()),
//!             ..Default::default()
//!         };
//!         client.list_workflow_executions(request).await
//!     });
//! }
//! while let Some(joined) = tasks.join_next().await {
//!     let page = joined.expect("the task panicked")?;
//!     println!("{} executions", page.executions.len());
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

// Re-exported so that one dependency line (plus tokio for the runtime) is
// enough: the API takes and returns these types.
pub use cos_ci_client;
pub use cos_ci_client::credentials::{CredentialPolicy, SourceKind};
pub use cos_ci_client::{
    Config, CredentialChain, CredentialError, CredentialProvider, CredentialSource, Credentials,
    Error, ExecutionWait, ListingStats, PagingError, PagingOptions, ParallelOptions,
    ProvidedCredentials, RetryPolicy, SecretString, Terminal, TransportError, TransportErrorKind,
    WaitEvent, WaitOutcome, WaitPolicy, WaitTarget,
};
pub use cos_ci_proto;
pub use cos_ci_proto::{
    ListWorkflowExecutions, ListWorkflowExecutionsOutput, PageSize, StateFilter, WorkflowExecution,
};
pub use futures_core::Stream;
pub use futures_util::StreamExt;

mod files;
mod transport;

use std::sync::Arc;
use std::time::SystemTime;

use cos_ci_client::credentials::{CredentialFetch, CredentialRequest, FetchStep};
use cos_ci_client::{
    Client, FetchId, ListingStep, Paginator, ParallelListing, Step, TimeWindowed, WaitStep, Waiter,
};
use cos_ci_proto::{CiAction, Cursor, PaginatedAction};
use tracing::Instrument;

pub use files::SystemFiles;
pub use transport::TransportOptions;
use transport::{SendError, Transport};

/// The async client: a [`cos_ci_client::Client`] plus a pooled hyper
/// transport. Cheap to clone; clones share the pool and the learned clock
/// offset.
#[derive(Debug, Clone)]
pub struct HyperClient {
    client: Client,
    transport: Transport,
    /// For the metadata service and STS: its own small pool and cap.
    credential_transport: Transport,
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
            retry.jitter_seed = RetryPolicy::random_jitter_seed();
        }
        let config = config.with_retry_policy(retry);
        Self {
            client: Client::new(config),
            credential_transport: Transport::new(TransportOptions::for_credentials(&options)),
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
                Step::FetchCredentials(request) => {
                    let outcome = self
                        .fetch_one(request, operation.deadline())
                        .instrument(tracing::info_span!("ci.credentials", operation = A::NAME))
                        .await;
                    let now = SystemTime::now();
                    match outcome {
                        Ok(response) => operation.on_response(response, now),
                        Err(error) => operation.on_transport_error(error, now),
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

    /// Send one credential request within its own short timeout (and the
    /// operation's deadline). Only the kind and the outcome's status are
    /// recorded: the path names the instance role, the body carries the
    /// web-identity token, the answer holds the credentials.
    async fn fetch_one(
        &self,
        request: CredentialRequest,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<bytes::Bytes>, TransportError> {
        let kind = request.kind();
        let own = SystemTime::now().checked_add(request.timeout());
        let deadline = match (own, deadline) {
            (Some(own), Some(deadline)) => Some(own.min(deadline)),
            (own, deadline) => own.or(deadline),
        };
        let outcome = self
            .credential_transport
            .send_whole(request.into_request(), deadline)
            .await;
        match &outcome {
            Ok(response) => {
                tracing::debug!(%kind, status = response.status().as_u16(), "credentials answer")
            }
            Err(error) => tracing::debug!(%kind, kind = ?error.kind, "credentials: no answer"),
        }
        outcome
    }

    /// Where this client's credentials come from and, once fetched, when
    /// they expire: the credentials last fetched, or (before the first
    /// call) a fetch made now. Fixed credentials are returned as they are.
    pub async fn credentials(&self) -> Result<ProvidedCredentials, CredentialError> {
        if let Some(provided) = self.client.credentials() {
            return Ok(provided);
        }
        let mut fetch = self.client.credential_provider().fetch(SystemTime::now());
        self.drive_fetch(&mut fetch).await
    }

    async fn drive_fetch(
        &self,
        fetch: &mut CredentialFetch,
    ) -> Result<ProvidedCredentials, CredentialError> {
        loop {
            match fetch.poll(SystemTime::now()) {
                FetchStep::Send(request) => match self.fetch_one(request, None).await {
                    Ok(response) => fetch.on_response(response, SystemTime::now()),
                    Err(error) => fetch.on_transport_error(error, SystemTime::now()),
                },
                FetchStep::Wait(delay) => tokio::time::sleep(delay).await,
                FetchStep::Done(result) => return result,
            }
        }
    }

    /// Every page of a listing (either paging style), fetched lazily as
    /// the stream is polled: one page in memory at a time, at the largest
    /// page size unless `options` or the request say otherwise. Ends after
    /// the last page, after `options.limit` items, or after the first
    /// error (which it yields, including a [`cos_ci_client::PagingError`]
    /// from the endless-listing guards). Each [`Page`] carries where to
    /// resume, so a listing stopped at its limit can be continued later.
    pub fn pages<A: StreamedListing>(
        &self,
        action: A,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<Page<A::Item>, Error>> + Send + use<A> {
        let paginator = Paginator::with_options(action, options);
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
                            let next_cursor = paginator.resume_cursor().cloned();
                            Some((Ok(Page { items, next_cursor }), Some(paginator)))
                        }
                        Err(error) => Some((Err(error), None)),
                    },
                }
            }
        })
    }

    /// Every item of a listing, lazily (see [`HyperClient::pages`]).
    pub fn items<A: StreamedListing>(
        &self,
        action: A,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<A::Item, Error>> + Send + use<A> {
        flatten(
            self.pages(action, options)
                .map(|page| page.map(|page| page.items)),
        )
    }

    /// Every page of a listing by creation-time windows, `options.workers`
    /// requests at a time: the same items, each once, in the same order,
    /// as [`HyperClient::items`] gives for the same request (see
    /// [`cos_ci_client::parallel`] for the plan and its one assumption).
    /// Each item of the stream is the next run of items in order (a
    /// window's page, less what a neighbouring window owns), handed out as
    /// the windows complete in order; memory stays at a few pages per
    /// worker. The window planning is [`ParallelListing`]'s, sans-IO: this
    /// only runs its requests (each an ordinary call with retries, as
    /// [`HyperClient::execute`]) as tokio tasks and reports them back.
    /// Requests still in flight when the stream ends or is dropped are
    /// aborted. With `workers == 1` it sends exactly the requests of
    /// [`HyperClient::pages`].
    pub fn parallel_pages<A: StreamedListing + TimeWindowed>(
        &self,
        action: A,
        options: ParallelOptions,
    ) -> impl Stream<Item = Result<Vec<A::Item>, Error>> + Send + use<A> {
        struct State<A: TimeWindowed> {
            listing: ParallelListing<A>,
            requests: tokio::task::JoinSet<(FetchId, Result<A::Output, Error>)>,
            finished: bool,
        }
        let state = State {
            listing: ParallelListing::new(action, options),
            requests: tokio::task::JoinSet::new(),
            finished: false,
        };
        let this = self.clone();
        futures_util::stream::unfold(state, move |mut state| {
            let this = this.clone();
            async move {
                if state.finished {
                    return None;
                }
                loop {
                    match state.listing.poll() {
                        ListingStep::Send(id, request) => {
                            let client = this.clone();
                            state
                                .requests
                                .spawn(async move { (id, client.execute(request).await) });
                        }
                        ListingStep::Items(items) => return Some((Ok(items), state)),
                        ListingStep::Wait => match state.requests.join_next().await {
                            Some(Ok((id, Ok(output)))) => state.listing.on_page(id, output),
                            Some(Ok((id, Err(error)))) => state.listing.on_error(id, error),
                            Some(Err(joined)) => match joined.try_into_panic() {
                                Ok(panic) => std::panic::resume_unwind(panic),
                                // Only aborted tasks are cancelled, and
                                // only the drop of this state aborts.
                                Err(_) => return None,
                            },
                            None => return None,
                        },
                        ListingStep::Done(result) => {
                            let stats = state.listing.stats();
                            tracing::debug!(
                                requests = stats.requests,
                                windows = stats.windows,
                                splits = stats.splits,
                                dropped = stats.dropped,
                                items = stats.items,
                                peak_pages_ahead = stats.peak_pages_ahead,
                                "parallel listing done"
                            );
                            state.finished = true;
                            state.requests.abort_all();
                            return match result {
                                Ok(()) => None,
                                Err(error) => Some((Err(error), state)),
                            };
                        }
                    }
                }
            }
        })
    }

    /// Every item of a listing by creation-time windows (see
    /// [`HyperClient::parallel_pages`]).
    pub fn parallel_items<A: StreamedListing + TimeWindowed>(
        &self,
        action: A,
        options: ParallelOptions,
    ) -> impl Stream<Item = Result<A::Item, Error>> + Send + use<A> {
        flatten(self.parallel_pages(action, options))
    }

    /// Follow `target` until it ends or `policy`'s deadline passes, calling
    /// `on_event` with each change seen between polls (the sans-IO
    /// [`Waiter`] decides when to poll and how long to sleep; each poll is
    /// an ordinary call with its own retries).
    pub async fn wait<T: WaitTarget>(
        &self,
        target: T,
        policy: WaitPolicy,
        mut on_event: impl FnMut(&WaitEvent),
    ) -> Result<WaitOutcome<<T::Action as CiAction>::Output>, Error> {
        let mut waiter = Waiter::new(target, policy);
        loop {
            match waiter.poll(SystemTime::now()) {
                WaitStep::Poll(action) => match self.execute(action).await {
                    Ok(output) => {
                        for event in waiter.on_output(output, SystemTime::now()) {
                            on_event(&event);
                        }
                    }
                    Err(error) => waiter.on_error(error),
                },
                WaitStep::Sleep(delay) => tokio::time::sleep(delay).await,
                WaitStep::Done(result) => return result,
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

    /// Every workflow execution matching `request` (see [`HyperClient::items`]).
    pub fn list_all_workflow_executions(
        &self,
        request: ListWorkflowExecutions,
        options: PagingOptions,
    ) -> impl Stream<Item = Result<WorkflowExecution, Error>> + Send + use<> {
        self.items(request, options)
    }
}

/// Fetch credentials from `provider` once (fixed ones are returned as
/// they are), with the short timeouts of its [`CredentialPolicy`]: e.g. to
/// show where they come from and when they expire. `options` supplies
/// extra root certificates for a private STS endpoint.
pub async fn fetch_credentials(
    provider: &CredentialProvider,
    options: &TransportOptions,
) -> Result<ProvidedCredentials, CredentialError> {
    let transport = Transport::new(TransportOptions::for_credentials(options));
    let mut fetch = provider.fetch(SystemTime::now());
    loop {
        match fetch.poll(SystemTime::now()) {
            FetchStep::Send(request) => {
                let deadline = SystemTime::now().checked_add(request.timeout());
                match transport.send_whole(request.into_request(), deadline).await {
                    Ok(response) => fetch.on_response(response, SystemTime::now()),
                    Err(error) => fetch.on_transport_error(error, SystemTime::now()),
                }
            }
            FetchStep::Wait(delay) => tokio::time::sleep(delay).await,
            FetchStep::Done(result) => return result,
        }
    }
}

/// The default provider chain over this process's environment and files
/// (see [`CredentialChain`]): environment, tccli profile, the SDKs'
/// credentials file, TKE OIDC, then the CVM instance role. Reads the
/// variables and files now; fetching sources fetch on first use.
pub fn credentials_from_environment() -> Result<CredentialProvider, CredentialError> {
    CredentialChain::default().resolve(&|name| std::env::var_os(name), Arc::new(SystemFiles))
}

/// A listing the page streams ([`HyperClient::pages`] and the others)
/// can follow: the request, its answers and its items move between
/// tokio's threads. Every paginated action whose output and items are
/// `Send` is one; the name only says it once instead of in each stream's
/// bounds.
pub trait StreamedListing:
    PaginatedAction<Item: Send> + CiAction<Output: Send> + Send + 'static
{
}

impl<A> StreamedListing for A where
    A: PaginatedAction<Item: Send> + CiAction<Output: Send> + Send + 'static
{
}

/// One page of a listing followed by [`HyperClient::pages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items, in order (cut to the overall limit).
    pub items: Vec<T>,
    /// Where the next page starts; `None` after the last page. After the
    /// page that reached the limit, where to resume the listing.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// [`Page::next_cursor`] as a `nextToken` (token listings only).
    pub fn next_token(&self) -> Option<&str> {
        match &self.next_cursor {
            Some(Cursor::Token(token)) => Some(token),
            _ => None,
        }
    }
}

/// Turn a stream of pages into a stream of items, keeping the first error.
fn flatten<T: Send, S>(pages: S) -> impl Stream<Item = Result<T, Error>> + Send
where
    S: Stream<Item = Result<Vec<T>, Error>> + Send,
{
    pages.flat_map(|page| {
        let items: Vec<Result<T, Error>> = match page {
            Ok(items) => items.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        futures_util::stream::iter(items)
    })
}
