//! Driving the client over a blocking transport, so that a transport only
//! has to move one request and its response.
//!
//! Implement [`BlockingTransport`] (`send`, see the crate docs' transport
//! contract, and the clock: `now` and `sleep`), then use a [`BlockingClient`]: [`BlockingClient::execute`]
//! runs one call with its retries, [`BlockingClient::pages`] and
//! [`BlockingClient::items`] follow every page. [`drive`] runs an
//! [`Operation`] you built yourself.
//!
//! Like the rest of the crate, this module never sleeps or reads the clock
//! itself: it asks the transport, whose [`BlockingTransport::now`] and
//! [`BlockingTransport::sleep`] are real time in a real transport
//! (`SystemTime::now()`, `std::thread::sleep`) and virtual time in a test.

use std::iter::FusedIterator;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cos_ci_proto::{CiAction, PaginatedAction};

use crate::credentials::{CredentialFetch, CredentialRequest, FetchStep};
use crate::{
    Client, Config, CredentialError, CredentialProvider, Error, Operation, Paginator,
    PagingOptions, ProvidedCredentials, RetryPolicy, Step, TransportError,
};

/// Moves one signed request to the service and its response back, blocking,
/// and keeps the time.
///
/// [`send`](BlockingTransport::send) moves the bytes (see the crate docs
/// for what it must and must not do); [`now`](BlockingTransport::now) and
/// [`sleep`](BlockingTransport::sleep) are the clock the driver runs on, so
/// that the crate itself never reads the clock or blocks a thread (see
/// [`BlockingClient`]'s example).
pub trait BlockingTransport {
    /// Send `request` as it is and return the whole response, whatever its
    /// status, or the reason none arrived. No attempt may run past
    /// `deadline` (the operation's, from [`Operation::deadline`]).
    fn send(
        &mut self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError>;

    /// Send a request for temporary credentials to the metadata service or
    /// STS (see [`CredentialRequest`]). The default sends it with
    /// [`send`](BlockingTransport::send), its deadline
    /// [`CredentialRequest::timeout`] from [`now`](BlockingTransport::now).
    /// Override it to use shorter connect timeouts or another client, and
    /// never log the request: its path and body are secret.
    fn fetch_credentials(
        &mut self,
        request: CredentialRequest,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let deadline = self.now().checked_add(request.timeout());
        self.send(request.into_request(), deadline)
    }

    /// The current time, passed to the driver: `SystemTime::now()` in a
    /// real transport, a virtual clock (moved on by
    /// [`sleep`](BlockingTransport::sleep)) in a test.
    fn now(&self) -> SystemTime;

    /// Wait `delay` before the next attempt: `std::thread::sleep(delay)` in
    /// a real transport, moving the virtual clock on in a test.
    fn sleep(&mut self, delay: Duration);
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for &mut T {
    fn send(
        &mut self,
        request: http::Request<Bytes>,
        deadline: Option<SystemTime>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request, deadline)
    }

    fn fetch_credentials(
        &mut self,
        request: CredentialRequest,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (**self).fetch_credentials(request)
    }

    fn now(&self) -> SystemTime {
        (**self).now()
    }

    fn sleep(&mut self, delay: Duration) {
        (**self).sleep(delay);
    }
}

/// Run `operation` to completion over `transport`: send, wait and retry as
/// the operation decides, passing it the operation's deadline for each
/// attempt.
pub fn drive<A, T>(operation: &mut Operation<A>, transport: &mut T) -> Result<A::Output, Error>
where
    A: CiAction,
    T: BlockingTransport + ?Sized,
{
    loop {
        match operation.poll(transport.now()) {
            Step::Send(request) => match transport.send(request, operation.deadline()) {
                Ok(response) => operation.on_response(response, transport.now()),
                Err(error) => operation.on_transport_error(error, transport.now()),
            },
            Step::FetchCredentials(request) => match transport.fetch_credentials(request) {
                Ok(response) => operation.on_response(response, transport.now()),
                Err(error) => operation.on_transport_error(error, transport.now()),
            },
            Step::Wait(delay) => transport.sleep(delay),
            Step::Done(result) => return result,
        }
    }
}

/// Fetch credentials from `provider` once over `transport` (fixed ones are
/// returned as they are), e.g. to show where they come from and when they
/// expire.
pub fn fetch_credentials<T>(
    provider: &CredentialProvider,
    transport: &mut T,
) -> Result<ProvidedCredentials, CredentialError>
where
    T: BlockingTransport + ?Sized,
{
    drive_fetch(&mut provider.fetch(transport.now()), transport)
}

/// Run a [`CredentialFetch`] to its end over `transport`.
pub fn drive_fetch<T>(
    fetch: &mut CredentialFetch,
    transport: &mut T,
) -> Result<ProvidedCredentials, CredentialError>
where
    T: BlockingTransport + ?Sized,
{
    loop {
        match fetch.poll(transport.now()) {
            FetchStep::Send(request) => match transport.fetch_credentials(request) {
                Ok(response) => fetch.on_response(response, transport.now()),
                Err(error) => fetch.on_transport_error(error, transport.now()),
            },
            FetchStep::Wait(delay) => transport.sleep(delay),
            FetchStep::Done(result) => return result,
        }
    }
}

/// A [`Client`] with a blocking transport: whole calls and whole listings.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// use cos_ci_client::bytes::Bytes;
/// use cos_ci_client::{
///     BlockingClient, BlockingTransport, Config, Credentials, ListWorkflowExecutions,
///     ListWorkflowExecutionsOutput, PagingOptions, TransportError, http,
/// };
/// use cos_ci_client::cos_ci_proto::XmlDocument;
///
/// /// Answers every request with an empty page (a real one does HTTP).
/// struct EmptyPages;
///
/// impl BlockingTransport for EmptyPages {
///     fn send(
///         &mut self,
///         request: http::Request<Bytes>,
///         _deadline: Option<SystemTime>,
///     ) -> Result<http::Response<Bytes>, TransportError> {
///         assert!(request.headers().contains_key("authorization"));
///         let body = ListWorkflowExecutionsOutput::default().to_xml();
///         Ok(http::Response::new(Bytes::from(body)))
///     }
///
///     // A real transport's clock; a test's would be virtual.
///     fn now(&self) -> SystemTime {
///         SystemTime::now()
///     }
///
///     fn sleep(&mut self, delay: Duration) {
///         std::thread::sleep(delay);
///     }
/// }
///
/// let config = Config::new("examplebucket-1250000000", "ap-beijing", Credentials::new("AKID", "key"))?;
/// let mut client = BlockingClient::new(config, EmptyPages);
/// let page = client.execute(ListWorkflowExecutions::default())?;
/// assert!(page.executions.is_empty());
/// for execution in client.items(ListWorkflowExecutions::default(), PagingOptions::all()) {
///     println!("{}", execution?.run_id);
/// }
/// # Ok::<(), cos_ci_client::Error>(())
/// ```
#[derive(Debug)]
pub struct BlockingClient<T> {
    client: Client,
    transport: T,
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// A client for `config` over `transport`. Unless `config`'s retry
    /// policy already has a seed other than the default, the jitter is
    /// seeded at random ([`RetryPolicy::random_jitter_seed`]), so that many
    /// processes do not retry in lockstep.
    pub fn new(config: Config, transport: T) -> Self {
        let mut retry = config.retry_policy().clone();
        if retry.jitter_seed == RetryPolicy::default().jitter_seed {
            retry.jitter_seed = RetryPolicy::random_jitter_seed();
        }
        Self::from_client(Client::new(config.with_retry_policy(retry)), transport)
    }

    /// Use `client` as it is (its clones share the learned clock offset).
    pub fn from_client(client: Client, transport: T) -> Self {
        Self { client, transport }
    }

    /// The sans-IO client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The client and the transport.
    pub fn into_parts(self) -> (Client, T) {
        (self.client, self.transport)
    }

    /// One call of `action`, with the client's retries, waits and clock-skew
    /// correction.
    pub fn execute<A: CiAction>(&mut self, action: A) -> Result<A::Output, Error> {
        let mut operation = self.client.operation(action);
        drive(&mut operation, &mut self.transport)
    }

    /// Every page of `action`, one request per page as the iterator is
    /// advanced, stopping after `limit` items if set. Ends after the last
    /// page or after the first error, which it yields.
    pub fn pages<A: PaginatedAction>(
        &mut self,
        action: A,
        options: PagingOptions,
    ) -> Pages<'_, A, T> {
        let paginator = Paginator::with_options(action, options);
        Pages {
            client: self,
            paginator,
            failed: false,
        }
    }

    /// Every item of every page of `action` (one page in memory), stopping
    /// after `limit` items if set; after an error, nothing more.
    pub fn items<A: PaginatedAction>(
        &mut self,
        action: A,
        options: PagingOptions,
    ) -> Items<'_, A, T> {
        Items {
            pages: self.pages(action, options),
            page: Vec::new().into_iter(),
        }
    }
}

/// The pages of a listing, from [`BlockingClient::pages`]: each item is one
/// page's items (cut to the limit).
#[derive(Debug)]
pub struct Pages<'c, A: PaginatedAction, T> {
    client: &'c mut BlockingClient<T>,
    paginator: Paginator<A>,
    failed: bool,
}

impl<A: PaginatedAction, T> Pages<'_, A, T> {
    /// Where to continue the listing later: after a page, the token of the
    /// next one (`None` after the last page); after an error, the token of
    /// the page that failed.
    pub fn resume_token(&self) -> Option<&str> {
        self.paginator.resume_token()
    }

    /// The paginator underneath (pages and items so far).
    pub fn paginator(&self) -> &Paginator<A> {
        &self.paginator
    }
}

impl<A: PaginatedAction, T: BlockingTransport> Iterator for Pages<'_, A, T> {
    type Item = Result<Vec<A::Item>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let outcome = self
            .paginator
            .next_request()?
            .and_then(|request| self.client.execute(request));
        match outcome {
            Ok(output) => Some(Ok(self.paginator.on_page(output))),
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

impl<A: PaginatedAction, T: BlockingTransport> FusedIterator for Pages<'_, A, T> {}

/// The items of a listing, from [`BlockingClient::items`].
pub struct Items<'c, A: PaginatedAction, T> {
    pages: Pages<'c, A, T>,
    page: std::vec::IntoIter<A::Item>,
}

impl<A: PaginatedAction + std::fmt::Debug, T: std::fmt::Debug> std::fmt::Debug for Items<'_, A, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("left_in_page", &self.page.len())
            .finish()
    }
}

impl<A: PaginatedAction, T: BlockingTransport> Iterator for Items<'_, A, T> {
    type Item = Result<A::Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(Ok(item));
            }
            match self.pages.next()? {
                Ok(items) => self.page = items.into_iter(),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl<A: PaginatedAction, T: BlockingTransport> FusedIterator for Items<'_, A, T> {}
