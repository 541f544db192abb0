//! The bodies of the cos-ci fuzz targets, one plain function per target.
//!
//! What it is for: each `fuzz_targets/<name>.rs` calls the function of the
//! same name here, and `xtask/tests/fuzz_corpus.rs` includes this file as a
//! module on stable and replays every saved corpus and crash input through
//! the same functions, so a fixed bug stays fixed under `cargo test`.
//!
//! What it never does: depend on libfuzzer, nightly, sockets or the clock.
//! A violated invariant is reported by panicking, which is what libFuzzer
//! (and the replay test) treat as a finding.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use cos_ci_emulator::{
    DEFAULT_BUCKET, DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, EmulatorConfig,
    ExecutionRecord, NextToken, PageQuery, Position, RequestHandler,
};
use cos_ci_proto::{
    ActivateWorkflow, CancelJob, CiAction, CiOutput, CreateJobs, CreateWorkflow, DeleteWorkflow,
    DescribeJobs, DescribeWorkflowExecution, DescribeWorkflowExecutionOutput, ListJobs, ListQueues,
    ListWorkflowExecutions, ListWorkflowExecutionsOutput, ListWorkflows, Order, PauseWorkflow,
    ServiceError, TriggerWorkflow, UpdateWorkflow, XmlDocument,
};
use cos_ci_sign::{
    AUTHORIZATION_FIELDS, Credentials, HeaderPolicy, KeyTime, ParsedAuthorization,
    SECURITY_TOKEN_NAMES, SignableRequest, Signer, Verified, VerifyError,
};

/// Response headers as the service sends them; the request id header is the
/// fallback when a body carries none.
fn response_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-ci-request-id",
        http::HeaderValue::from_static("NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0"),
    );
    headers
}

#[macro_use]
mod registry;

/// A target's body.
pub type TargetFn = fn(&[u8]);

/// Every target: its name and body (from `registry.rs`).
pub const TARGETS: &[(&str, TargetFn)] = {
    macro_rules! table {
        ($($name:ident => $body:expr),* $(,)?) => {
            &[$((stringify!($name), $body as TargetFn)),*]
        };
    }
    for_each_target!(table)
};

/// The body of the target named `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, body)| *body)
}

/// The fuzz binary's entry: runs the target named by the
/// `COS_CI_FUZZ_TARGET` environment variable (set by `cargo xtask fuzz`).
pub fn run_selected(data: &[u8]) {
    static SELECTED: OnceLock<fn(&[u8])> = OnceLock::new();
    let body = SELECTED.get_or_init(|| {
        let name = std::env::var("COS_CI_FUZZ_TARGET").unwrap_or_default();
        target(&name).unwrap_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            panic!("set COS_CI_FUZZ_TARGET to one of {names:?} (got {name:?})")
        })
    });
    body(data)
}

/// Any action's `parse_response` on a 200 with `data` as body never
/// panics; a successful parse survives `to_xml` and a second parse
/// unchanged; an empty `NextToken`-like string never reads as a value.
pub fn response<A>(data: &[u8])
where
    A: CiAction,
    A::Output: PartialEq + std::fmt::Debug,
{
    let headers = response_headers();
    let Ok(output) = A::parse_response(http::StatusCode::OK, &headers, data) else {
        return;
    };
    let written = output.to_xml();
    let reparsed = A::parse_response(
        http::StatusCode::OK,
        &http::HeaderMap::new(),
        written.as_bytes(),
    );
    match reparsed {
        Ok(again) => assert_eq!(again, output, "to_xml then parse changed the output"),
        Err(error) => panic!("to_xml produced a document that does not parse: {error}"),
    }
}

/// [`emulator_request`] as a target body.
fn emulator_request_target(data: &[u8]) {
    emulator_request(data);
}

/// Line breaks in the Unicode sense: a one-line message contains none.
fn breaks_line(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `ServiceError::from_response` for several statuses never panics, its
/// `Display` is one line and its body excerpt stays within 200 characters.
pub fn error_body(data: &[u8]) {
    let headers = response_headers();
    for status in [200, 400, 403, 404, 429, 500, 503] {
        let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
        let error = ServiceError::from_response(status, &headers, data);
        let shown = error.to_string();
        assert!(
            !shown.contains(breaks_line),
            "Display is not one line: {shown:?}"
        );
        if let Some(excerpt) = &error.body_excerpt {
            assert!(
                excerpt.chars().count() <= 200,
                "body excerpt longer than 200 characters"
            );
        }
        // 2xx with an <Error> root, and every non-2xx, must be an error.
        let _ = cos_ci_proto::check_status(status, &headers, data);
    }
}

/// `decode_query` and `ListWorkflowExecutions::from_wire` never
/// panic; decoded pairs survive `encode_query`; an accepted request
/// survives `to_wire_query` and a second decode unchanged.
pub fn wire_query(data: &[u8]) {
    let Ok(wire) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pairs) = cos_ci_proto::query::decode_query(wire) {
        let encoded = cos_ci_proto::query::encode_query(&pairs);
        match cos_ci_proto::query::decode_query(&encoded) {
            Ok(again) => assert_eq!(again, pairs, "encode_query then decode_query changed pairs"),
            Err(error) => {
                panic!("encode_query produced {encoded:?} which does not decode: {error}")
            }
        }
    }
    if let Ok(request) = ListWorkflowExecutions::from_wire("/workflowexecution", wire, b"") {
        let encoded = request.wire_query();
        match ListWorkflowExecutions::from_wire("/workflowexecution", &encoded, b"") {
            Ok(again) => assert_eq!(again, request, "to_wire_query then decode changed it"),
            Err(error) => panic!("to_wire_query produced {encoded:?} which is rejected: {error}"),
        }
    }
}

/// The fixed request the `authorization` target verifies against.
pub const AUTH_SECRET_ID: &str = "AKIDcosciFUZZ000000000000000000000";
const AUTH_SECRET_KEY: &str = "cosciFuzzSecretKey00000000000000";
/// The key time of the correctly signed value, and the `now` verified at.
pub const AUTH_KEY_TIME: (u64, u64) = (1_557_989_151, 1_557_996_351);
const AUTH_NOW: u64 = 1_557_990_000;
const AUTH_HOST: &str = "examplebucket-1250000000.ci.ap-beijing.myqcloud.com";
const AUTH_QUERY: &[(&str, &str)] = &[
    ("size", "10"),
    ("states", "Success,Failed"),
    ("nextToken", "115716"),
];

fn auth_request() -> SignableRequest<'static> {
    SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: AUTH_QUERY,
        headers: &[("host", AUTH_HOST)],
    }
}

/// The one `Authorization` value that is correct for the fixed request
/// (used to seed the corpus and by the replay test).
pub fn correct_authorization() -> String {
    let key_time = KeyTime::new(AUTH_KEY_TIME.0, AUTH_KEY_TIME.1)
        .unwrap_or_else(|_| KeyTime::starting_at(AUTH_KEY_TIME.0, 7200));
    let signer = Signer::new(
        Credentials::new(AUTH_SECRET_ID, AUTH_SECRET_KEY),
        HeaderPolicy::OfficialDefault,
    );
    signer
        .authorization(&auth_request(), key_time)
        .as_str()
        .to_owned()
}

/// `verify` of `value` against the fixed request and key, at the fixed now.
pub fn verify_fixed(value: &str) -> Result<Verified, VerifyError> {
    cos_ci_sign::verify(
        value,
        &auth_request(),
        |id| (id == AUTH_SECRET_ID).then_some(AUTH_SECRET_KEY),
        AUTH_NOW,
        &[],
    )
}

/// `ParsedAuthorization::parse` and `verify` never panic; `verify` accepts
/// only a value whose signed fields (secret id, key time, header list, param
/// list, signature) are exactly those of the correctly signed value. Only
/// `q-sign-time` is free (it is not part of the string to sign), and the
/// order of the parts does not matter.
pub fn authorization(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = ParsedAuthorization::parse(value);
    if verify_fixed(value).is_err() {
        return;
    }
    let Ok(parsed) = parsed else {
        panic!("verify accepted a value that does not parse: {value:?}");
    };
    let correct = ParsedAuthorization::parse(&correct_authorization());
    let Ok(correct) = correct else {
        panic!("the correctly signed value does not parse");
    };
    assert_eq!(
        parsed.secret_id(),
        correct.secret_id(),
        "accepted: {value:?}"
    );
    assert_eq!(parsed.key_time(), correct.key_time(), "accepted: {value:?}");
    assert_eq!(
        parsed.header_list(),
        correct.header_list(),
        "accepted: {value:?}"
    );
    assert_eq!(
        parsed.url_param_list(),
        correct.url_param_list(),
        "accepted: {value:?}"
    );
    assert_eq!(
        parsed.signature(),
        correct.signature(),
        "accepted: {value:?}"
    );
}

/// The unix time the `emulator_request` target signs and verifies at.
const EMULATOR_NOW: u64 = 1_767_600_000;
/// How many executions the `emulator_request` store holds.
pub const EMULATOR_DATASET_LEN: usize = 300;
/// The seed of that store's executions.
const EMULATOR_DATASET_SEED: u64 = 7;
/// The address the handler answers for in its `Host` check (nothing is
/// bound); the bucket's virtual host is accepted too.
const EMULATOR_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);
/// The session token of the handler configured with one.
pub const EMULATOR_SESSION_TOKEN: &str = "cosciFuzzSessionToken";

/// A new emulator handler over the fixed store, with or without a session
/// token.
fn new_emulator_handler(with_token: bool) -> RequestHandler {
    RequestHandler::new(EmulatorConfig {
        listen: std::net::SocketAddr::from(EMULATOR_LISTEN),
        dataset: emulator_dataset().clone(),
        session_token: with_token.then(|| EMULATOR_SESSION_TOKEN.into()),
        log_requests: false,
        ..EmulatorConfig::default()
    })
}

/// The emulator's own handler over the fixed store, with or without a
/// session token, for every method but POST, PUT and DELETE: built once,
/// since no other method changes a store. (Those three may create, change
/// or delete; each input that sends one gets a handler of its own, so
/// inputs never see each other's changes.)
fn emulator_handler(with_token: bool) -> &'static RequestHandler {
    static PLAIN: OnceLock<RequestHandler> = OnceLock::new();
    static WITH_TOKEN: OnceLock<RequestHandler> = OnceLock::new();
    if with_token {
        WITH_TOKEN.get_or_init(|| new_emulator_handler(true))
    } else {
        PLAIN.get_or_init(|| new_emulator_handler(false))
    }
}

fn emulator_dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET.get_or_init(|| Dataset::generate(EMULATOR_DATASET_LEN, EMULATOR_DATASET_SEED))
}

/// The store's executions by run id: the oracle a served page is checked
/// against.
fn emulator_records() -> &'static HashMap<String, ExecutionRecord> {
    static RECORDS: OnceLock<HashMap<String, ExecutionRecord>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        emulator_dataset()
            .records()
            .iter()
            .map(|record| (record.run_id.clone(), record.clone()))
            .collect()
    })
}

/// An HTTP request head written as text: the first line `METHOD TARGET`,
/// then `name: value` lines. `None` when `http` itself would refuse it
/// (hyper rejects such a request before the emulator sees it).
fn request_from_text(text: &str) -> Option<http::Request<()>> {
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(http::Uri::try_from(target).ok()?);
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(
            http::HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            http::HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    builder.body(()).ok()
}

/// Replace the request's `Authorization` with a correct one (default
/// emulator key, fixed time) over what the emulator verifies: the decoded
/// path, the decoded query and every header with a text value. `false`
/// when the path does not decode (the emulator refuses it before any
/// signature check), leaving the request as it was.
fn sign_request(request: &mut http::Request<()>, pairs: &[(String, String)]) -> bool {
    let Ok(path) = cos_ci_sign::decode(request.uri().path()) else {
        return false;
    };
    request.headers_mut().remove(http::header::AUTHORIZATION);
    let query: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signable = SignableRequest {
        method: request.method().as_str(),
        path: &path,
        query: &query,
        headers: &headers,
    };
    let signer = Signer::new(
        Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
        HeaderPolicy::OfficialDefault,
    );
    let authorization =
        signer.authorization(&signable, KeyTime::starting_at(EMULATOR_NOW - 60, 3600));
    let Ok(value) = http::HeaderValue::from_str(authorization.as_str()) else {
        return false;
    };
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    true
}

/// Why the emulator refused a request, from its error code (and, for
/// `AccessDenied` and `InvalidArgument`, which come from two checks each,
/// its message or whether the query decodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Before the signature check: URI, path or method.
    Request,
    /// `InvalidHost`.
    Host,
    /// The query does not decode (before the signature check).
    Query,
    /// The signature (or its absence).
    Signature,
    /// The session token, checked after the signature.
    Token,
    /// The parameters or the paging token, checked after the signature.
    Parameters,
}

fn refusal(error: &ServiceError, query_decodes: bool) -> Refusal {
    let code = error.code.as_deref().unwrap_or_default();
    let message = error.message.as_deref().unwrap_or_default();
    match code {
        "InvalidUrl" | "MethodNotAllowed" => Refusal::Request,
        // A body over the limit, refused before the signature check.
        "InvalidContent" if error.status == 413 => Refusal::Request,
        "InvalidHost" => Refusal::Host,
        "InvalidArgument" | "ResourceNotFound" | "MissingContent" | "InvalidContent"
        | "QueuePaused"
            if query_decodes =>
        {
            Refusal::Parameters
        }
        "InvalidArgument" => Refusal::Query,
        "AccessDenied"
            if message.starts_with("The request is signed with temporary credentials")
                || message == "The security token is invalid." =>
        {
            Refusal::Token
        }
        "MissingAuthorization"
        | "InvalidAuthorization"
        | "SecretidNotExist"
        | "SignatureExpired"
        | "AccessDenied" => Refusal::Signature,
        other => panic!("an error code the emulator does not send: {other:?} ({error:?})"),
    }
}

/// The 200 of the action named `$name`, one of `$action`s, checked by
/// [`served`] (with `$args`); any other name is a route the oracle does not
/// know.
macro_rules! served_one_of {
    ($name:expr, $args:tt, [$($action:ident),+ $(,)?]) => {
        match $name {
            $($action::NAME => {
                served::<$action> $args;
                Reached::Served($action::NAME)
            })+
            other => panic!("a route the oracle does not know: {other}"),
        }
    };
}

/// The emulator's real request handling ([`RequestHandler`], everything a
/// request goes through after fault injection, without sockets): the URI
/// limit, the `Host` match, path and method, query decoding (`+` as space),
/// the signature and session-token checks, parameter and token decoding,
/// paging of a fixed 300-execution store, and the response (XML, error
/// XML, request id headers).
///
/// The first input byte holds flags. Bit 0: the target signs the request
/// itself (default emulator key, fixed time), so the emulator must not
/// refuse it for its signature: signer and verifier agree on every request
/// the emulator can decode. Without it the request's own `Authorization`
/// (or pre-signed query) is checked and must be refused (the fuzzer cannot
/// forge an HMAC): no 200, and no refusal from a check that runs only
/// after the signature passed. Bit 1: the emulator is configured with a
/// session token; bit 2 (with bit 1): the target adds the right
/// `x-cos-security-token`, which must then pass. The rest is the request
/// head as text (see `request_from_text`), answered as `127.0.0.1:8080`.
///
/// Every answer carries `x-ci-request-id`; an error is CI's error XML with
/// that id, a trace id and a code the emulator sends. A 200 is for a route
/// of `cos_ci_emulator::routes()`, whose action says what it must hold. Its
/// XML parses back with the same request id. A page has at most `size`
/// executions, each one of the store's (unchanged) and matching the
/// filters, strictly ordered, strictly after the request's token, with a
/// next token that decodes back to the last one. Details are those of the
/// execution the path names, agreeing with the listing; a
/// `ResourceNotFound` names a run id the store does not hold. With a
/// session token configured, only a request carrying it is served; only a
/// `Host` naming the virtual host or port 8080 is.
pub fn emulator_request(data: &[u8]) -> Reached {
    let Some((&flags, head)) = data.split_first() else {
        return Reached::Nothing;
    };
    let signs_itself = flags & 1 == 1;
    let with_token = flags & 2 == 2;
    let presents_token = with_token && flags & 4 == 4;
    let text = String::from_utf8_lossy(head);
    let Some(mut request) = request_from_text(&text) else {
        return Reached::Nothing;
    };
    let wire_query = request.uri().query().unwrap_or("").replace('+', "%20");
    let pairs = cos_ci_proto::query::decode_query(&wire_query).ok();
    if presents_token {
        request.headers_mut().insert(
            "x-cos-security-token",
            http::HeaderValue::from_static(EMULATOR_SESSION_TOKEN),
        );
    }
    let signed_here = signs_itself
        && pairs
            .as_deref()
            .is_some_and(|pairs| sign_request(&mut request, pairs));

    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(EMULATOR_NOW);
    let own_handler;
    let changes = [http::Method::POST, http::Method::PUT, http::Method::DELETE];
    let handler = if changes.contains(request.method()) {
        own_handler = new_emulator_handler(with_token);
        &own_handler
    } else {
        emulator_handler(with_token)
    };
    let response = handler.handle_at(&request, now);
    let status = response.status();
    let headers = response.headers();
    let request_id = headers
        .get("x-ci-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty());
    let Some(request_id) = request_id else {
        panic!("an answer without x-ci-request-id: {status} {headers:?}");
    };

    if status == http::StatusCode::OK {
        assert!(
            signed_here,
            "a request the target did not sign was served: {text:?}"
        );
        // Not the emulator's whole rule (which names are ours), but what
        // any Host it serves has: the virtual host, or our port.
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let virtual_host = handler.virtual_host();
        let (name, port) = host.rsplit_once(':').unwrap_or((&host, ""));
        assert!(
            host == virtual_host
                || name == virtual_host
                || port.parse::<u16>() == Ok(EMULATOR_LISTEN.1),
            "served a foreign Host {host:?}"
        );
        // Signed in the header, so only a token header counts.
        let carries_token = SECURITY_TOKEN_NAMES.iter().any(|name| {
            request
                .headers()
                .get_all(*name)
                .iter()
                .any(|value| value.as_bytes() == EMULATOR_SESSION_TOKEN.as_bytes())
        });
        assert!(
            !with_token || carries_token,
            "served without the session token: {request:?}"
        );
        let Some(pairs) = pairs else {
            panic!("a 200 for a query that does not decode: {text:?}");
        };
        // The route table says which action, and so which document, a
        // 200 on this method, path and sub-resource is.
        let path = request.uri().path();
        let api_names: Vec<&str> = pairs
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| {
                !AUTHORIZATION_FIELDS.contains(name) && !SECURITY_TOKEN_NAMES.contains(name)
            })
            .collect();
        let route = cos_ci_emulator::routes().iter().find(|route| {
            route.method() == request.method()
                && route.matches_path(path)
                && route.matches_query(api_names.iter().copied())
        });
        let Some(route) = route else {
            panic!("a 200 on no route: {text:?}");
        };
        let body = response.body();
        return match route.action() {
            ListWorkflowExecutions::NAME => check_page(
                &pairs,
                &served::<ListWorkflowExecutions>(status, headers, body, request_id),
            ),
            DescribeWorkflowExecution::NAME => check_details(
                path,
                &pairs,
                &served::<DescribeWorkflowExecution>(status, headers, body, request_id),
            ),
            other => served_one_of!(
                other,
                (status, headers, body, request_id),
                [
                    ListWorkflows,
                    CreateWorkflow,
                    UpdateWorkflow,
                    ActivateWorkflow,
                    PauseWorkflow,
                    DeleteWorkflow,
                    TriggerWorkflow,
                    ListJobs,
                    DescribeJobs,
                    CreateJobs,
                    CancelJob,
                    ListQueues,
                ]
            ),
        };
    }

    let error = ServiceError::from_response(status, headers, response.body());
    assert_eq!(error.status, status.as_u16());
    assert_eq!(error.request_id.as_deref(), Some(request_id), "{error:?}");
    let trace_id = headers
        .get("x-ci-trace-id")
        .and_then(|value| value.to_str().ok());
    assert!(
        trace_id.is_some_and(|id| !id.is_empty()) && error.trace_id.as_deref() == trace_id,
        "an error without its trace id: {error:?}"
    );
    if error.code.as_deref() == Some("ResourceNotFound")
        && let Some(run_id) = details_run_id(request.uri().path())
    {
        assert!(
            !emulator_records().contains_key(&run_id),
            "ResourceNotFound for an execution the store holds: {text:?}"
        );
    }
    match refusal(&error, pairs.is_some()) {
        Refusal::Request | Refusal::Query => Reached::Request,
        Refusal::Host => Reached::Host,
        Refusal::Signature => {
            assert!(
                !signed_here,
                "the emulator refuses what the signer signed ({error:?}): {request:?}"
            );
            Reached::Query
        }
        Refusal::Token => {
            assert!(
                signed_here,
                "a forged signature passed ({error:?}): {text:?}"
            );
            assert!(
                with_token && !presents_token,
                "a token refusal when none was due ({error:?}): {request:?}"
            );
            Reached::Token
        }
        Refusal::Parameters => {
            assert!(
                signed_here,
                "a forged signature passed ({error:?}): {text:?}"
            );
            Reached::Signature
        }
    }
}

/// How far an `emulator_request` input got (the replay test checks that the
/// corpus reaches each of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Not a request head `http` accepts.
    Nothing,
    /// Refused before the signature check: URI, path, method or a query
    /// that does not decode.
    Request,
    /// Refused by the `Host` check.
    Host,
    /// The signature was (rightly) refused.
    Query,
    /// Signed and verified; the session token was refused.
    Token,
    /// Signed and verified; the parameters or the token were refused.
    Signature,
    /// One execution's details were served.
    Details,
    /// Another action answered 200 (workflows, jobs, queues).
    Served(&'static str),
    /// A page was served, with this many executions, continuing a token or
    /// not.
    Page {
        /// Executions on the page.
        executions: usize,
        /// Whether the request continued a `nextToken`.
        continued: bool,
    },
}

/// A 200 of action `A`: its document parses as `A`'s output (an empty body
/// for the actions whose success is one) and carries the request id.
fn served<A: CiAction>(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
    request_id: &str,
) -> A::Output {
    let parsed = A::parse_response(status, headers, body);
    let mut output = match parsed {
        Ok(output) => output,
        Err(error) => panic!("a 200 of {} that does not parse ({error})", A::NAME),
    };
    assert_eq!(
        output.request_id_mut().as_deref(),
        Some(request_id),
        "{}'s RequestId",
        A::NAME
    );
    output
}

/// The paging invariants for one served page: `pairs` is the decoded query
/// of the request, `output` its parsed answer.
fn check_page(pairs: &[(String, String)], output: &ListWorkflowExecutionsOutput) -> Reached {
    // A 200 means the emulator took every other parameter as the API's
    // (a pre-signed query also carries the signature and token fields).
    let api_pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| !AUTHORIZATION_FIELDS.contains(k) && !SECURITY_TOKEN_NAMES.contains(k))
        .collect();
    let query = ListWorkflowExecutions::from_request("/workflowexecution", &api_pairs, b"")
        .map_err(|error| error.to_string())
        .and_then(|list| PageQuery::from_request(&list).map_err(|error| error.to_string()));
    let query = match query {
        Ok(query) => query,
        Err(error) => panic!("served a query its own parts refuse ({error}): {pairs:?}"),
    };
    let limit = query.size.get() as usize;
    assert!(
        output.executions.len() <= limit,
        "page longer than size {limit}"
    );
    let mut positions = Vec::with_capacity(output.executions.len());
    for execution in &output.executions {
        let Some(record) = emulator_records().get(&execution.run_id) else {
            panic!("served an execution not in the store: {execution:?}");
        };
        assert_eq!(
            &record.to_execution(),
            execution,
            "served a changed execution"
        );
        assert!(
            query.matches(record),
            "page holds a non-matching {record:?}"
        );
        positions.push(Position::of(record));
    }
    let in_order = |a: &Position, b: &Position| match query.order {
        Order::Asc => a < b,
        Order::Desc => a > b,
    };
    for pair in positions.windows(2) {
        if let [a, b] = pair {
            assert!(in_order(a, b), "page out of order: {a:?} then {b:?}");
        }
    }
    if let (Some(after), Some(first)) = (&query.after, positions.first()) {
        assert!(
            in_order(after, first),
            "page does not start after the token"
        );
    }
    if let Some(next) = &output.next_token {
        let decoded = NextToken::decode_for(next, query.order);
        let Ok(decoded) = decoded else {
            panic!("a next token that does not decode: {next:?} ({decoded:?})");
        };
        assert_eq!(
            Some(&decoded.position),
            positions.last(),
            "next is not the last one"
        );
        assert_eq!(
            &decoded.encode(),
            next,
            "a next token that does not re-encode"
        );
    }
    Reached::Page {
        executions: output.executions.len(),
        continued: query.after.is_some(),
    }
}

/// The run id of a details path (`/workflowexecution/<RunId>`, decoded),
/// read independently of the emulator's own routing.
fn details_run_id(wire_path: &str) -> Option<String> {
    let path = cos_ci_sign::decode(wire_path).ok()?;
    path.strip_prefix("/workflowexecution/")
        .filter(|run_id| !run_id.is_empty() && !run_id.contains('/'))
        .map(str::to_owned)
}

/// The invariants for served details: the path names an execution of the
/// store, the request carried no API parameter, and the answer is that
/// execution (the listing's fields) with its details, exactly as the
/// record derives them.
fn check_details(
    wire_path: &str,
    pairs: &[(String, String)],
    output: &DescribeWorkflowExecutionOutput,
) -> Reached {
    let api_pairs = pairs
        .iter()
        .filter(|(k, _)| {
            !AUTHORIZATION_FIELDS.contains(&k.as_str())
                && !SECURITY_TOKEN_NAMES.contains(&k.as_str())
        })
        .count();
    assert_eq!(api_pairs, 0, "details served despite parameters: {pairs:?}");
    let Some(run_id) = details_run_id(wire_path) else {
        panic!("details served for a path without a run id: {wire_path:?}");
    };
    let Some(record) = emulator_records().get(&run_id) else {
        panic!("details served for an execution not in the store: {run_id:?}");
    };
    let detail = &output.execution;
    let listed = record.to_execution();
    assert_eq!(
        (
            &detail.run_id,
            &detail.workflow_id,
            &detail.object,
            &detail.state
        ),
        (
            &listed.run_id,
            &listed.workflow_id,
            &listed.object,
            &listed.state
        ),
        "details disagree with the listing"
    );
    assert_eq!(
        detail.create_time.as_ref().map(|time| time.as_str()),
        Some(record.create_time.as_str()),
        "details disagree with the listing's CreateTime"
    );
    assert_eq!(
        detail,
        &record.to_detail(DEFAULT_BUCKET, DEFAULT_REGION),
        "served changed details"
    );
    Reached::Details
}
