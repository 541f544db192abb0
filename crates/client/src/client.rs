//! Building signed requests and reading responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use cos_ci_proto::{CiAction, PaginatedAction, ResponseError, ServiceError};
use cos_ci_sign::{KeyTime, SignableRequest, unix_secs};

use crate::credentials::{
    CredentialCache, CredentialError, CredentialProvider, Current, ProvidedCredentials,
};
use crate::{Config, Error, Operation, Paginator, PagingOptions};

/// How far before `now` each signature's window starts, so that a server
/// whose clock is a little behind ours still accepts it. (Python's SDK uses
/// 60 s, Node's 1 s; larger skews are handled by clock-skew correction.)
const KEY_TIME_BACKDATE_SECS: u64 = 60;

/// A configured client. Cheap to clone (an `Arc`); clones share the learned
/// clock offset.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    /// The credentials signed with, and the refresh in flight.
    credentials: CredentialCache,
    /// Seconds to add to the caller's `now` to get the server's time, learned
    /// from a skew rejection's `Date` header.
    clock_offset_secs: AtomicI64,
    /// Distinguishes operations so each gets its own jitter sequence.
    operations_started: AtomicU64,
}

impl Client {
    /// A client for `config`.
    pub fn new(config: Config) -> Self {
        let credentials = CredentialCache::new(config.credentials().clone());
        Self {
            inner: Arc::new(Inner {
                config,
                credentials,
                clock_offset_secs: AtomicI64::new(0),
                operations_started: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The clock offset in seconds currently applied to `now` when signing.
    pub fn clock_offset_secs(&self) -> i64 {
        self.inner.clock_offset_secs.load(Ordering::Relaxed)
    }

    /// Set the clock offset (e.g. restored from a previous run). Normally it
    /// is learned automatically by [`Operation`].
    pub fn set_clock_offset_secs(&self, offset: i64) {
        self.inner
            .clock_offset_secs
            .store(offset, Ordering::Relaxed);
    }

    /// The caller's `now` corrected by the learned offset, in Unix seconds.
    pub(crate) fn corrected_unix_secs(&self, now: SystemTime) -> u64 {
        let local = unix_secs(now);
        local.saturating_add_signed(self.clock_offset_secs())
    }

    /// Where the credentials come from.
    pub fn credential_provider(&self) -> &CredentialProvider {
        self.inner.credentials.provider()
    }

    /// The credentials last fetched (or the fixed ones), with their source
    /// and expiry; `None` before a refreshing provider's first fetch.
    pub fn credentials(&self) -> Option<ProvidedCredentials> {
        self.inner.credentials.last()
    }

    pub(crate) fn credential_cache(&self) -> &CredentialCache {
        &self.inner.credentials
    }

    /// Build the signed request for `action` at time `now`. Validates the
    /// action first; nothing invalid is ever signed. With a refreshing
    /// credential provider this signs with the credentials last fetched and
    /// fails with [`CredentialError::NotFetched`] if there are none (an
    /// [`Operation`] fetches them as needed).
    pub fn prepare<A: CiAction>(
        &self,
        action: &A,
        now: SystemTime,
    ) -> Result<http::Request<Bytes>, Error> {
        let current = self
            .inner
            .credentials
            .current(now)
            .ok_or(Error::Credentials(CredentialError::NotFetched))?;
        self.prepare_with(&current, action, now)
    }

    /// [`Client::prepare`] with these credentials.
    pub(crate) fn prepare_with<A: CiAction>(
        &self,
        current: &Current,
        action: &A,
        now: SystemTime,
    ) -> Result<http::Request<Bytes>, Error> {
        action.validate()?;
        let config = &self.inner.config;
        let path = action.path();
        let signed_query = action.signed_query_pairs();
        let extra_headers = action.headers();
        let body = action.body();
        let host = config.endpoint().authority().as_str();

        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(3 + extra_headers.len());
        headers.push(("host", host));
        let token = current.provided.credentials().expose_session_token();
        if let Some(token) = token {
            headers.push((crate::SESSION_TOKEN_HEADER, token));
        }
        if let Some(body) = &body {
            headers.push(("content-type", body.content_type));
        }
        for (name, value) in &extra_headers {
            headers.push((name.as_str(), value.as_str()));
        }
        let query: Vec<(&str, &str)> = signed_query.iter().map(|(k, v)| (*k, v.as_str())).collect();

        let start = self
            .corrected_unix_secs(now)
            .saturating_sub(KEY_TIME_BACKDATE_SECS);
        let lifetime = config.signature_lifetime().as_secs() + KEY_TIME_BACKDATE_SECS;
        let key_time = KeyTime::starting_at(start, lifetime);
        let authorization = current.signer.authorization(
            &SignableRequest {
                method: A::METHOD.as_str(),
                path: &path,
                query: &query,
                headers: &headers,
            },
            key_time,
        );

        let wire_query = action.wire_query();
        let mut uri = String::with_capacity(64 + path.len() + wire_query.len());
        uri.push_str(config.endpoint().scheme().as_str());
        uri.push_str("://");
        uri.push_str(host);
        push_encoded_path(&mut uri, &path);
        if !wire_query.is_empty() {
            uri.push('?');
            uri.push_str(&wire_query);
        }

        let mut builder = http::Request::builder()
            .method(A::METHOD)
            .uri(uri)
            .header(http::header::HOST, host)
            .header(http::header::USER_AGENT, config.user_agent())
            .header(
                http::header::AUTHORIZATION,
                sensitive(authorization.as_str())?,
            );
        if let Some(token) = token {
            builder = builder.header(crate::SESSION_TOKEN_HEADER, sensitive(token)?);
        }
        for (name, value) in extra_headers {
            builder = builder.header(name, value);
        }
        let bytes = match body {
            Some(body) => {
                builder = builder.header(http::header::CONTENT_TYPE, body.content_type);
                Bytes::from(body.bytes)
            }
            None => Bytes::new(),
        };
        builder
            .body(bytes)
            .map_err(|e| Error::Usage(static_reason(&e)))
    }

    /// Read a response to `A` into its output or a typed error.
    pub fn read<A: CiAction>(&self, response: &http::Response<Bytes>) -> Result<A::Output, Error> {
        A::parse_response(response.status(), response.headers(), response.body()).map_err(|e| {
            match e {
                ResponseError::Service(e) => Error::Service(e),
                ResponseError::Malformed(e) => Error::MalformedResponse(e),
            }
        })
    }

    /// The error for a response whose body was over the transport's `cap`:
    /// `response` carries the status, the headers and the start of the
    /// body (see [`Operation::on_oversized_response`]).
    pub fn read_oversized(&self, response: &http::Response<Bytes>, cap: usize) -> Error {
        Error::ResponseTooLarge {
            cap,
            answer: ServiceError::from_partial_response(
                response.status(),
                response.headers(),
                response.body(),
            ),
        }
    }

    /// A driver for one call of `action` with retries and clock-skew
    /// correction (see [`Operation`]).
    pub fn operation<A: CiAction>(&self, action: A) -> Operation<A> {
        let n = self
            .inner
            .operations_started
            .fetch_add(1, Ordering::Relaxed);
        let seed =
            self.inner.config.retry_policy().jitter_seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Operation::new(self.clone(), action, seed)
    }

    /// A paginator over every page of `action` (see [`Paginator`]).
    pub fn paginator<A: PaginatedAction>(&self, action: A, options: PagingOptions) -> Paginator<A> {
        Paginator::with_options(action, options)
    }
}

/// Append `path` (decoded, starting with `/`) percent-encoded segment by
/// segment, so the server decodes it back to exactly the signed path.
fn push_encoded_path(out: &mut String, path: &str) {
    if !path.starts_with('/') {
        out.push('/');
    }
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        cos_ci_sign::encode_into(out, segment.as_bytes());
    }
}

/// A header value that `http` marks sensitive, so HTTP/2 encoders never
/// index it and well-behaved `Debug` output hides it.
fn sensitive(value: &str) -> Result<http::HeaderValue, Error> {
    let mut value = http::HeaderValue::from_str(value)
        .map_err(|_| Error::Usage("a credential is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

fn static_reason(error: &http::Error) -> &'static str {
    if error.is::<http::uri::InvalidUri>() {
        "the request URI could not be built"
    } else {
        "the request could not be built"
    }
}
