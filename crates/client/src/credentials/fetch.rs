//! Fetching temporary credentials as data: the requests to make to the
//! metadata service or STS, and reading their answers.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cos_ci_sign::{Credentials, SecretString, unix_secs};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use super::{
    CredentialError, LookedAt, METADATA_CREDENTIALS_PATH, ProvidedCredentials, Remote, RemoteKind,
    SourceKind, TkeOidc, check_credential_text,
};
use crate::TransportError;
use crate::operation::still_to_wait;

/// One HTTP request of a credential fetch, for the transport to send as it
/// is (no redirects, every status an `Ok` response) within
/// [`CredentialRequest::timeout`] — connect included — and without logging
/// its path, headers or body: the path names the instance role, the STS
/// body carries the web-identity token (its buffer is zeroed when the last
/// reference to it goes). `Debug` shows only the kind, method and host.
pub struct CredentialRequest {
    request: http::Request<Bytes>,
    timeout: Duration,
    kind: SourceKind,
}

impl CredentialRequest {
    /// The request.
    pub fn request(&self) -> &http::Request<Bytes> {
        &self.request
    }

    /// The request, to send.
    pub fn into_request(self) -> http::Request<Bytes> {
        self.request
    }

    /// Give up on this request after this long, connecting included (and
    /// report [`crate::TransportErrorKind::Timeout`]). Short for the
    /// metadata service so that a machine that is not a CVM does not hang.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Instance role or TKE OIDC.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }
}

impl fmt::Debug for CredentialRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialRequest")
            .field("kind", &self.kind)
            .field("method", self.request.method())
            .field("host", &self.request.uri().authority().map(|a| a.as_str()))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What a [`CredentialFetch`] needs next.
#[derive(Debug)]
pub enum FetchStep {
    /// Send this request, then report with [`CredentialFetch::on_response`]
    /// or [`CredentialFetch::on_transport_error`].
    Send(CredentialRequest),
    /// Wait this long before polling again (a retry's backoff).
    Wait(Duration),
    /// Finished.
    Done(Result<ProvidedCredentials, CredentialError>),
}

#[derive(Debug)]
enum State {
    Ready,
    Awaiting,
    WaitingUntil(SystemTime),
    Finished(Option<Result<ProvidedCredentials, CredentialError>>),
}

#[derive(Debug, Clone)]
enum Stage {
    /// `GET …/security-credentials/`: the role's name.
    RoleName,
    /// `GET …/security-credentials/<role>`: its credentials.
    RoleCredentials(String),
    /// `POST /` `AssumeRoleWithWebIdentity`.
    AssumeRole,
}

/// One fetch of temporary credentials, sans-IO: [`poll`](Self::poll) says
/// what to send (or how long to wait), the transport reports back, until
/// [`FetchStep::Done`].
///
/// An instance role takes two requests (the role name, then its
/// credentials; the name is remembered for later refreshes). TKE OIDC
/// takes one, with the token file read afresh each time. Transport
/// failures, 5xx and 429 are retried per [`super::CredentialPolicy`].
#[derive(Debug)]
pub struct CredentialFetch {
    remote: Option<Arc<Remote>>,
    state: State,
    stage: Stage,
    attempts: u32,
}

impl CredentialFetch {
    pub(crate) fn ready(result: Result<ProvidedCredentials, CredentialError>) -> Self {
        Self {
            remote: None,
            state: State::Finished(Some(result)),
            stage: Stage::RoleName,
            attempts: 0,
        }
    }

    pub(crate) fn start(remote: Arc<Remote>, _now: SystemTime) -> Self {
        let stage = match &remote.kind {
            RemoteKind::Cvm { .. } => match remote.role_name() {
                Some(role) => Stage::RoleCredentials(role),
                None => Stage::RoleName,
            },
            RemoteKind::Tke(_) => Stage::AssumeRole,
        };
        Self {
            remote: Some(remote),
            state: State::Ready,
            stage,
            attempts: 0,
        }
    }

    /// What to do next at `now`.
    pub fn poll(&mut self, now: SystemTime) -> FetchStep {
        match &mut self.state {
            State::Finished(result) => {
                return FetchStep::Done(result.take().unwrap_or_else(|| {
                    Err(misuse("the fetch was polled again after it finished"))
                }));
            }
            State::Awaiting => {
                return self.finish(Err(misuse(
                    "the fetch was polled before the last request's outcome was reported",
                )));
            }
            State::WaitingUntil(until) => {
                if let Some(remaining) = still_to_wait(*until, now) {
                    return FetchStep::Wait(remaining);
                }
            }
            State::Ready => {}
        }
        let Some(remote) = self.remote.clone() else {
            return self.finish(Err(misuse("nothing to fetch")));
        };
        let built = match (&remote.kind, &self.stage) {
            (RemoteKind::Cvm { endpoint, .. }, Stage::RoleName) => {
                metadata_get(endpoint, "", remote.policy.metadata_timeout)
            }
            (RemoteKind::Cvm { endpoint, .. }, Stage::RoleCredentials(role)) => {
                metadata_get(endpoint, role, remote.policy.metadata_timeout)
            }
            (RemoteKind::Tke(settings), _) => assume_role_request(settings, &remote, now),
            (RemoteKind::Cvm { .. }, Stage::AssumeRole) => Err(misuse("wrong stage")),
        };
        match built {
            Ok(request) => {
                self.attempts += 1;
                self.state = State::Awaiting;
                FetchStep::Send(request)
            }
            Err(error) => self.finish(Err(error)),
        }
    }

    /// The source a report (`what`) of the last request's outcome is for;
    /// `None` when no request was outstanding, which ends the fetch.
    fn outstanding(&mut self, what: &str) -> Option<Arc<Remote>> {
        if !matches!(self.state, State::Awaiting) {
            self.state = State::Finished(Some(Err(misuse(&format!(
                "{what} was reported but no request was outstanding"
            )))));
            return None;
        }
        self.remote.clone()
    }

    /// Report the answer to the last [`FetchStep::Send`], received at `now`.
    pub fn on_response(&mut self, response: http::Response<Bytes>, now: SystemTime) {
        let Some(remote) = self.outstanding("a response") else {
            return;
        };
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            let error = refused(&remote, Some(status.as_u16()), "the service is unavailable");
            self.retry_or_fail(&remote, error, now);
            return;
        }
        let outcome = match self.stage.clone() {
            Stage::RoleName => self.read_role_name(&remote, &response),
            Stage::RoleCredentials(role) => read_role_credentials(&remote, &role, &response, now),
            Stage::AssumeRole => read_assume_role(&remote, &response, now),
        };
        match outcome {
            Outcome::Next => {
                self.attempts = 0;
                self.state = State::Ready;
            }
            Outcome::Done(credentials) => {
                remote.established.store(true, Ordering::Relaxed);
                self.state = State::Finished(Some(Ok(credentials)));
            }
            Outcome::Retry(error) => self.retry_or_fail(&remote, error, now),
            Outcome::Fail(error) => self.state = State::Finished(Some(Err(error))),
        }
    }

    /// Report that the last [`FetchStep::Send`] got no (complete) answer.
    pub fn on_transport_error(&mut self, error: TransportError, now: SystemTime) {
        let Some(remote) = self.outstanding("a transport error") else {
            return;
        };
        // The last resort of the chain on a machine that is not a CVM: say
        // "nothing anywhere" at once rather than retrying.
        if let Some(looked_at) = first_fallback(&remote)
            && matches!(self.stage, Stage::RoleName)
        {
            let mut looked_at = looked_at.clone();
            looked_at.push(LookedAt::new(
                format!("CVM instance role (metadata at {})", remote.endpoint()),
                format!(
                    "no answer ({})",
                    match error.kind {
                        crate::TransportErrorKind::Connect => "could not connect",
                        crate::TransportErrorKind::Timeout => "timed out",
                        _ => "connection failed",
                    }
                ),
            ));
            self.state = State::Finished(Some(Err(CredentialError::NotFound { looked_at })));
            return;
        }
        let retryable = error.is_retryable();
        let error = CredentialError::Unreachable {
            kind: remote.source_kind(),
            endpoint: remote.endpoint().to_string(),
            error,
        };
        if retryable {
            self.retry_or_fail(&remote, error, now);
        } else {
            self.state = State::Finished(Some(Err(error)));
        }
    }

    fn retry_or_fail(&mut self, remote: &Remote, error: CredentialError, now: SystemTime) {
        if self.attempts < remote.policy.fetch_attempts.max(1) {
            let delay = Duration::from_millis(100) * (1 << self.attempts.saturating_sub(1).min(6));
            self.state = State::WaitingUntil(now.checked_add(delay).unwrap_or(now));
        } else {
            self.state = State::Finished(Some(Err(error)));
        }
    }

    fn finish(&mut self, result: Result<ProvidedCredentials, CredentialError>) -> FetchStep {
        self.state = State::Finished(None);
        FetchStep::Done(result)
    }

    fn read_role_name(&mut self, remote: &Remote, response: &http::Response<Bytes>) -> Outcome {
        let status = response.status().as_u16();
        let no_role = |why: &str| match first_fallback(remote) {
            Some(looked_at) => {
                let mut looked_at = looked_at.clone();
                looked_at.push(LookedAt::new(
                    format!("CVM instance role (metadata at {})", remote.endpoint()),
                    why.to_owned(),
                ));
                Outcome::Fail(CredentialError::NotFound { looked_at })
            }
            None => Outcome::Fail(refused(remote, None, why)),
        };
        if status == 404 {
            return no_role("no CAM role is bound to this instance (HTTP 404)");
        }
        if status != 200 {
            return Outcome::Fail(refused(
                remote,
                Some(status),
                "unexpected answer to the role-name request",
            ));
        }
        let Ok(body) = std::str::from_utf8(response.body()) else {
            return Outcome::Fail(refused(remote, None, "the role name is not UTF-8"));
        };
        let role = body.lines().map(str::trim).find(|line| !line.is_empty());
        let Some(role) = role else {
            return no_role("no CAM role is bound to this instance (empty role list)");
        };
        if !is_role_name(role) {
            return Outcome::Fail(refused(
                remote,
                None,
                "the role name it lists is not a CAM role name",
            ));
        }
        *remote
            .discovered_role
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(role.to_owned());
        self.stage = Stage::RoleCredentials(role.to_owned());
        Outcome::Next
    }
}

enum Outcome {
    /// On to the next stage.
    Next,
    Done(ProvidedCredentials),
    Retry(CredentialError),
    Fail(CredentialError),
}

/// The looked-at list, if this is the chain's last resort and has never
/// worked.
fn first_fallback(remote: &Remote) -> Option<&Vec<LookedAt>> {
    remote
        .fallback
        .as_ref()
        .filter(|_| !remote.established.load(Ordering::Relaxed))
}

fn misuse(reason: &str) -> CredentialError {
    CredentialError::Invalid {
        place: "credential fetch".to_owned(),
        reason: reason.to_owned(),
    }
}

/// `remote` said no, or nothing usable: `why`, with the HTTP status when it
/// tells something.
fn refused(remote: &Remote, status: Option<u16>, why: impl Into<String>) -> CredentialError {
    refused_with(remote, status, None, why.into(), None)
}

/// [`refused`] with the service's own error code and request id.
fn refused_with(
    remote: &Remote,
    status: Option<u16>,
    code: Option<String>,
    message: String,
    request_id: Option<String>,
) -> CredentialError {
    CredentialError::Refused {
        kind: remote.source_kind(),
        endpoint: remote.endpoint().to_string(),
        status,
        code,
        message,
        request_id,
    }
}

/// CAM role names: letters, digits and `+=,.@_-`, 1 to 128.
fn is_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

fn metadata_get(
    endpoint: &crate::Endpoint,
    role: &str,
    timeout: Duration,
) -> Result<CredentialRequest, CredentialError> {
    let uri = format!("{endpoint}{METADATA_CREDENTIALS_PATH}{role}");
    let request = http::Request::get(uri)
        .header(http::header::HOST, endpoint.authority().as_str())
        .header(http::header::USER_AGENT, crate::USER_AGENT)
        .body(Bytes::new())
        .map_err(|_| misuse("the metadata request could not be built"))?;
    Ok(CredentialRequest {
        request,
        timeout,
        kind: SourceKind::CvmRole,
    })
}

/// A request body that is zeroed when the last `Bytes` referring to it is
/// dropped (it holds the web-identity token).
struct ZeroizedBody(Vec<u8>);

impl AsRef<[u8]> for ZeroizedBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for ZeroizedBody {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleBody<'a> {
    provider_id: &'a str,
    web_identity_token: &'a str,
    role_arn: &'a str,
    role_session_name: &'a str,
    duration_seconds: u64,
}

fn assume_role_request(
    settings: &TkeOidc,
    remote: &Remote,
    now: SystemTime,
) -> Result<CredentialRequest, CredentialError> {
    let place = || {
        format!(
            "TKE_WEB_IDENTITY_TOKEN_FILE ({})",
            settings.token_file.display()
        )
    };
    let bytes =
        zeroize::Zeroizing::new(settings.files.read(&settings.token_file).map_err(|error| {
            CredentialError::Invalid {
                place: place(),
                reason: match error.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_owned(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                    _ => format!("cannot be read: {error}"),
                },
            }
        })?);
    let token = std::str::from_utf8(&bytes)
        .map_err(|_| CredentialError::Invalid {
            place: place(),
            reason: "is not UTF-8 text".to_owned(),
        })?
        .trim();
    if token.is_empty() {
        return Err(CredentialError::Invalid {
            place: place(),
            reason: "is empty".to_owned(),
        });
    }
    let micros = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    let session = format!("cos-ci-{micros}");
    let mut body = Vec::with_capacity(256 + token.len());
    serde_json::to_writer(
        &mut body,
        &AssumeRoleBody {
            provider_id: &settings.provider_id,
            web_identity_token: token,
            role_arn: &settings.role_arn,
            role_session_name: &session,
            duration_seconds: remote.policy.sts_duration.as_secs().clamp(1, 43_200),
        },
    )
    .map_err(|_| misuse("the STS request body could not be written"))?;
    let endpoint = &settings.endpoint;
    let request = http::Request::post(format!("{endpoint}/"))
        .header(http::header::HOST, endpoint.authority().as_str())
        .header(http::header::USER_AGENT, crate::USER_AGENT)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, "SKIP")
        .header("x-tc-action", "AssumeRoleWithWebIdentity")
        .header("x-tc-version", "2018-08-13")
        .header("x-tc-region", settings.region.as_str())
        .header("x-tc-timestamp", unix_secs(now).to_string())
        .header("x-tc-requestclient", crate::USER_AGENT)
        .body(Bytes::from_owner(ZeroizedBody(body)))
        .map_err(|_| CredentialError::Invalid {
            place: "TKE_REGION".to_owned(),
            reason: "cannot be sent as a header".to_owned(),
        })?;
    Ok(CredentialRequest {
        request,
        timeout: remote.policy.sts_timeout,
        kind: SourceKind::TkeOidc,
    })
}

fn json_body(response: &http::Response<Bytes>) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(response.body()) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

fn take_secret(object: &mut Map<String, Value>, key: &str) -> Option<SecretString> {
    match object.remove(key) {
        Some(Value::String(text)) => Some(SecretString::from(text)),
        _ => None,
    }
}

fn take_string(object: &mut Map<String, Value>, key: &str) -> Option<String> {
    match object.remove(key) {
        Some(Value::String(text)) => Some(text),
        _ => None,
    }
}

/// A service-supplied message: one line, at most 200 characters.
fn short(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// Build the credentials from the parts an answer had, checking each.
/// The credentials in `fields` (`TmpSecretId`, `TmpSecretKey`, `Token`, as
/// both the metadata service and STS name them), expiring at
/// `expired_time`: done, or failed when they are missing or unusable.
fn assembled(
    remote: &Remote,
    role: Option<&str>,
    fields: &mut Map<String, Value>,
    expired_time: Option<u64>,
    now: SystemTime,
) -> Outcome {
    let id = take_string(fields, "TmpSecretId");
    let key = take_secret(fields, "TmpSecretKey");
    let token = take_secret(fields, "Token");
    match assemble(remote, role, id, key, token, expired_time, now) {
        Ok(credentials) => Outcome::Done(credentials),
        Err(error) => Outcome::Fail(error),
    }
}

fn assemble(
    remote: &Remote,
    role: Option<&str>,
    id: Option<String>,
    key: Option<SecretString>,
    token: Option<SecretString>,
    expired_time: Option<u64>,
    now: SystemTime,
) -> Result<ProvidedCredentials, CredentialError> {
    let unusable = |why: String| refused(remote, None, why);
    let (Some(id), Some(key), Some(token)) = (id, key, token) else {
        return Err(unusable(
            "the answer lacks TmpSecretId, TmpSecretKey or Token".to_owned(),
        ));
    };
    for (name, value) in [
        ("TmpSecretId", id.as_str()),
        ("TmpSecretKey", key.expose()),
        ("Token", token.expose()),
    ] {
        check_credential_text(value).map_err(|why| unusable(format!("its {name} {why}")))?;
    }
    let Some(expired_time) = expired_time else {
        return Err(unusable("the answer has no ExpiredTime".to_owned()));
    };
    let expires_at = UNIX_EPOCH + Duration::from_secs(expired_time);
    if expires_at <= now {
        return Err(unusable(format!(
            "the credentials it gave expired at {expired_time} (Unix time), which is not in \
             the future; is this machine's clock right?"
        )));
    }
    Ok(ProvidedCredentials::new(
        Credentials::new(id, key).with_session_token(token),
        remote.source(role.map(str::to_owned)),
    )
    .obtained_at(now)
    .expiring_at(expires_at))
}

fn read_role_credentials(
    remote: &Remote,
    role: &str,
    response: &http::Response<Bytes>,
    now: SystemTime,
) -> Outcome {
    let status = response.status().as_u16();
    if status == 404 {
        // The role was unbound or replaced: find it again next time.
        *remote
            .discovered_role
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        return Outcome::Fail(refused(
            remote,
            Some(404),
            format!("the instance has no role `{role}` (any longer)"),
        ));
    }
    if status != 200 {
        return Outcome::Fail(refused(
            remote,
            Some(status),
            "unexpected answer to the credentials request",
        ));
    }
    let Some(mut object) = json_body(response) else {
        return Outcome::Fail(refused(
            remote,
            None,
            "the credentials answer is not a JSON object",
        ));
    };
    let code = take_string(&mut object, "Code");
    if code.as_deref() != Some("Success") {
        return Outcome::Fail(refused_with(
            remote,
            None,
            code.map(|code| short(&code)),
            "the credentials answer does not say Code: Success".to_owned(),
            None,
        ));
    }
    let expired_time = object.get("ExpiredTime").and_then(Value::as_u64);
    assembled(remote, Some(role), &mut object, expired_time, now)
}

fn read_assume_role(remote: &Remote, response: &http::Response<Bytes>, now: SystemTime) -> Outcome {
    let status = response.status().as_u16();
    let body = json_body(response).and_then(|mut object| match object.remove("Response") {
        Some(Value::Object(inner)) => Some(inner),
        _ => None,
    });
    let Some(mut body) = body else {
        return Outcome::Fail(refused(
            remote,
            (status != 200).then_some(status),
            "the answer is not STS's JSON",
        ));
    };
    let request_id = take_string(&mut body, "RequestId").map(|id| short(&id));
    if let Some(Value::Object(mut error)) = body.remove("Error") {
        let code = take_string(&mut error, "Code").map(|code| short(&code));
        let message = take_string(&mut error, "Message").map_or_else(String::new, |m| short(&m));
        let transient = code.as_deref().is_some_and(|code| {
            code.starts_with("InternalError") || code.starts_with("RequestLimitExceeded")
        });
        let error = refused_with(
            remote,
            (status != 200).then_some(status),
            code,
            message,
            request_id,
        );
        return if transient {
            Outcome::Retry(error)
        } else {
            Outcome::Fail(error)
        };
    }
    if status != 200 {
        return Outcome::Fail(refused_with(
            remote,
            Some(status),
            None,
            "unexpected answer".to_owned(),
            request_id,
        ));
    }
    let Some(Value::Object(mut credentials)) = body.remove("Credentials") else {
        return Outcome::Fail(refused_with(
            remote,
            None,
            None,
            "the answer has no Credentials".to_owned(),
            request_id,
        ));
    };
    let expired_time = body.get("ExpiredTime").and_then(Value::as_u64);
    assembled(remote, None, &mut credentials, expired_time, now)
}
