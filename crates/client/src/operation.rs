//! The sans-IO driver of one API call: retries, backoff, deadlines and
//! clock-skew correction, as steps the caller carries out.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cos_ci_proto::CiAction;

use crate::credentials::{Acquire, CredentialFetch, CredentialRequest, FetchStep};
use crate::{Backoff, Client, Error, RetryDecision, TransportError, TransportErrorKind};
use cos_ci_sign::unix_secs;

/// A skew smaller than this is not what made a signature fail, so it is not
/// corrected (Node's SDK uses the same threshold).
const MIN_SKEW_TO_CORRECT: Duration = Duration::from_secs(30);

/// What the caller should do next.
#[derive(Debug)]
pub enum Step<T> {
    /// Send this request, then report the outcome with
    /// [`Operation::on_response`] or [`Operation::on_transport_error`].
    Send(http::Request<Bytes>),
    /// Fetch temporary credentials first: send this request (to the
    /// metadata service or STS, not to CI) within its own
    /// [`CredentialRequest::timeout`], then report the outcome with
    /// [`Operation::on_response`] or [`Operation::on_transport_error`] as
    /// for [`Step::Send`]. Only with a refreshing credential provider, and
    /// only from the one operation of the client that does the refresh.
    FetchCredentials(CredentialRequest),
    /// Sleep this long, then [`Operation::poll`] again.
    Wait(Duration),
    /// Finished.
    Done(Result<T, Error>),
}

#[derive(Debug)]
enum State<T> {
    Ready,
    AwaitingResponse,
    AwaitingCredentials,
    WaitingUntil(SystemTime),
    Finished(Option<Result<T, Error>>),
}

/// Drives one call of an action to completion.
///
/// ```no_run
/// # use std::time::SystemTime;
/// # use cos_ci_client::{Client, Step, TransportError};
/// # fn send(r: http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, TransportError> { todo!() }
/// # fn run(client: &Client) -> Result<(), cos_ci_client::Error> {
/// let mut op = client.operation(cos_ci_proto::ListWorkflowExecutions::default());
/// let page = loop {
///     match op.poll(SystemTime::now()) {
///         Step::Send(request) => match send(request) {
///             Ok(response) => op.on_response(response, SystemTime::now()),
///             Err(error) => op.on_transport_error(error, SystemTime::now()),
///         },
///         Step::FetchCredentials(fetch) => {
///             let timeout = fetch.timeout(); // short: give up on it after this
///             match send(fetch.into_request()) {
///                 Ok(response) => op.on_response(response, SystemTime::now()),
///                 Err(error) => op.on_transport_error(error, SystemTime::now()),
///             }
///         }
///         Step::Wait(delay) => std::thread::sleep(delay),
///         Step::Done(result) => break result?,
///     }
/// };
/// # Ok(()) }
/// ```
///
/// Every attempt is signed afresh at the `now` given to [`Operation::poll`].
/// Retried: 5xx, 429 / `SlowDown`, and transport failures (for idempotent
/// methods only), with full-jitter exponential backoff, never sooner than a
/// `Retry-After`. A signature rejected as expired, with a `Date` header at
/// least 30 s away from our clock, is retried once at once with the offset
/// learned (and kept by the [`Client`] for later calls).
///
/// With a refreshing credential provider, credentials are fetched (as
/// [`Step::FetchCredentials`]) before the first request and again when
/// they near expiry; a refusal that an expired token explains gets one
/// refresh and one retry ([`RetryDecision::RetryWithRefreshedCredentials`]).
#[derive(Debug)]
pub struct Operation<A: CiAction> {
    client: Client,
    action: A,
    state: State<A::Output>,
    attempts: u32,
    first_attempt_at: Option<SystemTime>,
    backoff: Backoff,
    clock_corrected: bool,
    last_decision: Option<RetryDecision>,
    /// The refresh this operation drives: its claim and the fetch.
    fetch: Option<(u64, CredentialFetch)>,
    /// Waiting for another operation's refresh: the failure count then.
    credential_wait: Option<u64>,
    /// The credentials generation the last request was signed with.
    used_generation: u64,
    credentials_refreshed: bool,
}

impl<A: CiAction> Operation<A> {
    pub(crate) fn new(client: Client, action: A, jitter_seed: u64) -> Self {
        Self {
            client,
            action,
            state: State::Ready,
            attempts: 0,
            first_attempt_at: None,
            backoff: Backoff::from_seed(jitter_seed),
            clock_corrected: false,
            last_decision: None,
            fetch: None,
            credential_wait: None,
            used_generation: 0,
            credentials_refreshed: false,
        }
    }

    /// Replace the jitter source (tests, or a caller with its own RNG).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The action being driven.
    pub fn action(&self) -> &A {
        &self.action
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The decision taken after the last failed attempt.
    pub fn last_decision(&self) -> Option<RetryDecision> {
        self.last_decision
    }

    /// When the operation will give up, once it has started. Transports
    /// should not let a single attempt run past it.
    pub fn deadline(&self) -> Option<SystemTime> {
        let policy = self.client.config().retry_policy();
        self.first_attempt_at
            .and_then(|start| start.checked_add(policy.total_deadline))
    }

    /// What to do next at time `now`.
    pub fn poll(&mut self, now: SystemTime) -> Step<A::Output> {
        match &self.state {
            State::Finished(_) => {
                return match std::mem::replace(&mut self.state, State::Finished(None)) {
                    State::Finished(Some(result)) => Step::Done(result),
                    _ => Step::Done(Err(Error::Usage("polled again after Done"))),
                };
            }
            State::AwaitingResponse | State::AwaitingCredentials => {
                return Step::Done(Err(Error::Usage(
                    "polled before the last request's outcome was reported",
                )));
            }
            State::WaitingUntil(until) => {
                if let Some(remaining) = still_to_wait(*until, now) {
                    return Step::Wait(remaining);
                }
            }
            State::Ready => {}
        }
        self.state = State::Ready;
        let first = *self.first_attempt_at.get_or_insert(now);
        let policy = self.client.config().retry_policy();
        if self.attempts > 0 || self.fetch.is_some() || self.credential_wait.is_some() {
            let elapsed = now.duration_since(first).unwrap_or(Duration::ZERO);
            if elapsed >= policy.total_deadline {
                let deadline = policy.total_deadline;
                return self.finish(Err(Error::DeadlineExceeded {
                    attempts: self.attempts,
                    elapsed,
                    deadline,
                    last_error: None,
                }));
            }
        }
        // At most: finish a fetch, start one, then sign.
        for _ in 0..3 {
            if let Some((claim, fetch)) = &mut self.fetch {
                let claim = *claim;
                match fetch.poll(now) {
                    FetchStep::Send(request) => {
                        self.state = State::AwaitingCredentials;
                        return Step::FetchCredentials(request);
                    }
                    FetchStep::Wait(delay) => {
                        self.state = State::WaitingUntil(now.checked_add(delay).unwrap_or(now));
                        return Step::Wait(delay);
                    }
                    FetchStep::Done(result) => {
                        self.fetch = None;
                        let cache = self.client.credential_cache();
                        if let Some(error) = cache.complete(claim, result, now) {
                            return self.finish(Err(Error::Credentials(error)));
                        }
                    }
                }
            }
            match self
                .client
                .credential_cache()
                .acquire(now, self.credential_wait)
            {
                Acquire::Use(current) => {
                    self.credential_wait = None;
                    return match self.client.prepare_with(&current, &self.action, now) {
                        Ok(request) => {
                            self.used_generation = current.generation;
                            self.attempts += 1;
                            self.state = State::AwaitingResponse;
                            Step::Send(request)
                        }
                        Err(error) => self.finish(Err(error)),
                    };
                }
                Acquire::Refresh { claim, fetch } => self.fetch = Some((claim, fetch)),
                Acquire::Wait {
                    delay,
                    failures_seen,
                } => {
                    self.credential_wait = Some(failures_seen);
                    self.state = State::WaitingUntil(now.checked_add(delay).unwrap_or(now));
                    return Step::Wait(delay);
                }
                Acquire::Fail(error) => return self.finish(Err(Error::Credentials(error))),
            }
        }
        self.finish(Err(Error::Usage("credentials kept needing a refresh")))
    }

    /// Report the response to the last [`Step::Send`], received at `now`.
    pub fn on_response(&mut self, response: http::Response<Bytes>, now: SystemTime) {
        if matches!(self.state, State::AwaitingCredentials) {
            return self.report_to_fetch(|fetch| fetch.on_response(response, now));
        }
        if !self.awaiting_response(RESPONSE_WITHOUT_REQUEST) {
            return;
        }
        match self.client.read::<A>(&response) {
            Ok(output) => self.state = State::Finished(Some(Ok(output))),
            Err(error) => {
                let server_date = header_str(&response, http::header::DATE)
                    .and_then(|v| httpdate::parse_http_date(v).ok());
                let retry_after = header_str(&response, http::header::RETRY_AFTER)
                    .and_then(|v| parse_retry_after(v, server_date.unwrap_or(now)));
                self.after_failure(error, retry_after, server_date, now);
            }
        }
    }

    /// Report that the last [`Step::Send`] got a response whose body was
    /// larger than the transport's `cap` (in bytes): `response` holds its
    /// status and headers and as much of the start of the body as the
    /// transport kept. The call ends with [`Error::ResponseTooLarge`]: the
    /// service answered, so this is not a network failure.
    pub fn on_oversized_response(
        &mut self,
        response: http::Response<Bytes>,
        cap: usize,
        now: SystemTime,
    ) {
        if !self.awaiting_response(RESPONSE_WITHOUT_REQUEST) {
            return;
        }
        let error = self.client.read_oversized(&response, cap);
        self.after_failure(error, None, None, now);
    }

    /// Report that the last [`Step::Send`] got no (complete) response.
    pub fn on_transport_error(&mut self, error: TransportError, now: SystemTime) {
        if matches!(self.state, State::AwaitingCredentials) {
            return self.report_to_fetch(|fetch| fetch.on_transport_error(error, now));
        }
        if !self.awaiting_response("a transport error was reported but no request was outstanding")
        {
            return;
        }
        self.after_failure(Error::Transport(error), None, None, now);
    }

    /// Pass a report of the credential request's outcome to the fetch.
    fn report_to_fetch(&mut self, report: impl FnOnce(&mut CredentialFetch)) {
        if let Some((_, fetch)) = &mut self.fetch {
            report(fetch);
        }
        self.state = State::Ready;
    }

    /// Whether a request of this operation is outstanding; a report of an
    /// outcome with none outstanding ends the operation with `misuse`.
    fn awaiting_response(&mut self, misuse: &'static str) -> bool {
        if matches!(self.state, State::AwaitingResponse) {
            return true;
        }
        self.state = State::Finished(Some(Err(Error::Usage(misuse))));
        false
    }

    fn finish(&mut self, result: Result<A::Output, Error>) -> Step<A::Output> {
        self.state = State::Finished(None);
        Step::Done(result)
    }

    fn after_failure(
        &mut self,
        error: Error,
        retry_after: Option<Duration>,
        server_date: Option<SystemTime>,
        now: SystemTime,
    ) {
        let decision = self.decide(&error, retry_after, server_date, now);
        self.last_decision = Some(decision);
        self.state = match decision {
            RetryDecision::RetryWithCorrectedClock
            | RetryDecision::RetryWithRefreshedCredentials => State::Ready,
            RetryDecision::RetryAfter(delay) => {
                State::WaitingUntil(now.checked_add(delay).unwrap_or(now))
            }
            RetryDecision::DoNotRetry | RetryDecision::AttemptsExhausted => {
                State::Finished(Some(Err(self.maybe_applied(error))))
            }
            RetryDecision::RetryAfterTooLong => {
                let policy = self.client.config().retry_policy();
                State::Finished(Some(Err(Error::RetryAfterTooLong {
                    retry_after: retry_after.unwrap_or(Duration::MAX),
                    limit: policy.max_retry_after,
                    last_error: Box::new(error),
                })))
            }
            RetryDecision::DeadlineExceeded => {
                let policy = self.client.config().retry_policy();
                let elapsed = self
                    .first_attempt_at
                    .and_then(|first| now.duration_since(first).ok())
                    .unwrap_or(Duration::ZERO);
                State::Finished(Some(Err(Error::DeadlineExceeded {
                    attempts: self.attempts,
                    elapsed,
                    deadline: policy.total_deadline,
                    last_error: Some(Box::new(error)),
                })))
            }
        };
    }

    /// A transport failure of a non-idempotent action after the request
    /// may have gone out: say so, so the caller checks before sending again.
    fn maybe_applied(&self, error: Error) -> Error {
        match error {
            Error::Transport(transport)
                if !is_idempotent(&A::METHOD) && transport.kind != TransportErrorKind::Connect =>
            {
                Error::MaybeApplied {
                    action: A::NAME,
                    source: transport,
                }
            }
            other => other,
        }
    }

    fn decide(
        &mut self,
        error: &Error,
        retry_after: Option<Duration>,
        server_date: Option<SystemTime>,
        now: SystemTime,
    ) -> RetryDecision {
        if !self.clock_corrected
            && is_clock_rejection(error)
            && let Some(server_date) = server_date
        {
            let ours = i128::from(self.client.corrected_unix_secs(now));
            let theirs = i128::from(unix_secs(server_date));
            let skew = theirs - ours;
            if skew.unsigned_abs() >= u128::from(MIN_SKEW_TO_CORRECT.as_secs()) {
                let offset = i128::from(self.client.clock_offset_secs()) + skew;
                let offset = i64::try_from(offset).unwrap_or(0);
                self.client.set_clock_offset_secs(offset);
                self.clock_corrected = true;
                return RetryDecision::RetryWithCorrectedClock;
            }
        }
        if !self.credentials_refreshed
            && self.client.credential_cache().is_refreshing()
            && is_credential_rejection(error)
        {
            // Temporary credentials the service no longer takes: most likely
            // the token expired sooner than our clock says. Refresh (one
            // fetch for every operation refused with them) and retry once.
            self.client.credential_cache().reject(self.used_generation);
            self.credentials_refreshed = true;
            return RetryDecision::RetryWithRefreshedCredentials;
        }
        if !error.is_retryable() {
            return RetryDecision::DoNotRetry;
        }
        if let Error::Transport(transport) = error
            && !is_idempotent(&A::METHOD)
            && transport.kind != TransportErrorKind::Connect
        {
            // The request may have been processed; sending it again could,
            // e.g., trigger a workflow twice. (A connection that was never
            // made carried nothing, so that one is retried.)
            return RetryDecision::DoNotRetry;
        }
        let policy = self.client.config().retry_policy().clone();
        let elapsed = self
            .first_attempt_at
            .and_then(|first| now.duration_since(first).ok())
            .unwrap_or(Duration::ZERO);
        // Checked before the attempt budget: when the deadline cut the last
        // attempt short, the deadline is what ended the call, and the error
        // must say so.
        if elapsed >= policy.total_deadline {
            return RetryDecision::DeadlineExceeded;
        }
        if self.attempts >= policy.max_attempts {
            return RetryDecision::AttemptsExhausted;
        }
        let mut delay = self.backoff.delay(&policy, self.attempts);
        if let Some(retry_after) = retry_after {
            if retry_after > policy.max_retry_after {
                return RetryDecision::RetryAfterTooLong;
            }
            delay = delay.max(retry_after);
        }
        if elapsed.saturating_add(delay) >= policy.total_deadline {
            return RetryDecision::DeadlineExceeded;
        }
        RetryDecision::RetryAfter(delay)
    }
}

impl<A: CiAction> Drop for Operation<A> {
    fn drop(&mut self) {
        // Dropped mid-refresh (a cancelled task): let another operation
        // take the refresh over at once.
        if let Some((claim, _)) = self.fetch.take() {
            self.client.credential_cache().release(claim);
        }
    }
}

/// A refusal of the credentials themselves, which an expired or revoked
/// token explains: CI's `AccessDenied` and `InvalidAuthorization`, COS's
/// `ExpiredToken`, `InvalidAccessKeyId`, `SecretidNotExist`.
fn is_credential_rejection(error: &Error) -> bool {
    let Error::Service(e) = error else {
        return false;
    };
    matches!(
        e.code.as_deref(),
        Some(
            "AccessDenied"
                | "InvalidAuthorization"
                | "ExpiredToken"
                | "InvalidAccessKeyId"
                | "SecretidNotExist"
                | "InvalidToken"
        )
    )
}

fn is_idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::PUT | http::Method::DELETE
    )
}

/// A rejection that a wrong local clock explains: CI's `SignatureExpired`,
/// COS's `RequestTimeTooSkewed`, or `AccessDenied` "Request has expired".
fn is_clock_rejection(error: &Error) -> bool {
    let Error::Service(e) = error else {
        return false;
    };
    match e.code.as_deref() {
        Some("SignatureExpired" | "RequestTimeTooSkewed" | "ExpiredRequest") => true,
        Some("AccessDenied") => e
            .message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("expired")),
        _ => false,
    }
}

/// How long a transport may give one attempt at `now`: what is left of
/// the operation's `deadline` (as [`Operation::deadline`] gives it, `None`
/// for none), and never more than `cap`, the transport's own per-attempt
/// limit. Once the deadline has passed, the contract's `Timeout` error, to
/// return without sending.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cos_ci_client::{TransportErrorKind, attempt_timeout};
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let cap = Duration::from_secs(30);
/// assert_eq!(attempt_timeout(None, now, cap), Ok(cap));
/// let soon = now + Duration::from_secs(5);
/// assert_eq!(attempt_timeout(Some(soon), now, cap), Ok(Duration::from_secs(5)));
/// let error = attempt_timeout(Some(now), now, cap).unwrap_err();
/// assert_eq!(error.kind, TransportErrorKind::Timeout);
/// ```
pub fn attempt_timeout(
    deadline: Option<SystemTime>,
    now: SystemTime,
    cap: Duration,
) -> Result<Duration, TransportError> {
    let left = deadline.map(|deadline| deadline.duration_since(now).unwrap_or_default());
    let timeout = left.map_or(cap, |left| left.min(cap));
    if timeout.is_zero() {
        return Err(TransportError::new(
            TransportErrorKind::Timeout,
            "the deadline has passed",
        ));
    }
    Ok(timeout)
}

const RESPONSE_WITHOUT_REQUEST: &str = "a response was reported but no request was outstanding";

fn header_str(response: &http::Response<Bytes>, name: http::header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// What is left of a wait until `until` at `now`, `None` once it is over.
/// A poll that comes early (a caller's timer may fire early) is told to
/// wait again rather than to go ahead.
pub(crate) fn still_to_wait(until: SystemTime, now: SystemTime) -> Option<Duration> {
    until
        .duration_since(now)
        .ok()
        .filter(|remaining| !remaining.is_zero())
}

/// `Retry-After` as delta-seconds or an HTTP date (relative to `now`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
