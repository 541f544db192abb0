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

use std::sync::OnceLock;

use cos_ci_emulator::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Dataset, ExecutionRecord, ExecutionStore, NextToken,
    PageQuery, Position,
};
use cos_ci_proto::{
    CiAction, ListWorkflowExecutions, ListWorkflowExecutionsOutput, Order, PageSize, ServiceError,
};
use cos_ci_sign::{
    Credentials, HeaderPolicy, KeyTime, ParsedAuthorization, SignableRequest, Signer, Verified,
    VerifyError,
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

/// `ListWorkflowExecutions::parse_response` on a 200 with `data` as body
/// never panics, and a successful parse survives `write_xml` and a second
/// parse unchanged.
pub fn list_response(data: &[u8]) {
    let headers = response_headers();
    let Ok(output) = ListWorkflowExecutions::parse_response(http::StatusCode::OK, &headers, data)
    else {
        return;
    };
    assert!(
        output.next_token.as_deref() != Some(""),
        "an empty NextToken must read as the last page (None)"
    );
    assert!(
        output.executions.iter().all(|e| !e.run_id.is_empty()),
        "an execution without a RunId was accepted"
    );
    let written = output.write_xml();
    let reparsed = ListWorkflowExecutions::parse_response(
        http::StatusCode::OK,
        &http::HeaderMap::new(),
        written.as_bytes(),
    );
    match reparsed {
        Ok(again) => assert_eq!(again, output, "write_xml then parse changed the page"),
        Err(error) => panic!("write_xml produced a document that does not parse: {error}"),
    }
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

/// `decode_query` and `ListWorkflowExecutions::from_wire_query` never
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
    if let Ok(request) = ListWorkflowExecutions::from_wire_query(wire) {
        let encoded = request.to_wire_query();
        match ListWorkflowExecutions::from_wire_query(&encoded) {
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
    assert_eq!(parsed.secret_id, correct.secret_id, "accepted: {value:?}");
    assert_eq!(parsed.key_time, correct.key_time, "accepted: {value:?}");
    assert_eq!(
        parsed.header_list, correct.header_list,
        "accepted: {value:?}"
    );
    assert_eq!(
        parsed.url_param_list, correct.url_param_list,
        "accepted: {value:?}"
    );
    assert_eq!(parsed.signature, correct.signature, "accepted: {value:?}");
}

/// The unix time the `emulator_request` target signs and verifies at.
const EMULATOR_NOW: u64 = 1_767_600_000;
/// How many executions the `emulator_request` store holds.
pub const EMULATOR_DATASET_LEN: usize = 300;
/// The only path the emulator serves.
const EMULATOR_PATH: &str = "/workflowexecution";

fn emulator_store() -> &'static ExecutionStore {
    static STORE: OnceLock<ExecutionStore> = OnceLock::new();
    STORE.get_or_init(|| ExecutionStore::from_dataset(Dataset::generate(EMULATOR_DATASET_LEN, 7)))
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

/// The emulator's request handling, without sockets, through its public
/// parts in the order its handler runs them: path decoding, a readable
/// `Host` (whether it names this server is not checked: that needs a
/// listener), query decoding (`+` as space), signature check, parameter decoding and validation,
/// token decoding and paging of a fixed 300-execution store, then the XML
/// answer.
///
/// The first input byte chooses who signs: if its low bit is set the target
/// signs the request itself (default emulator key, fixed time) and the
/// emulator's verifier must accept it: signer and verifier agree on every
/// request the emulator can decode. Otherwise the request's own
/// `Authorization` is checked and must be rejected (the fuzzer cannot
/// forge an HMAC). The rest is the request head as text (see
/// `request_from_text`). On an accepted request the page must hold at most
/// `size` executions, all matching the filters, strictly ordered, strictly
/// after the token's position, with a next token that decodes back to the
/// last one; the XML written must parse back to the same page.
pub fn emulator_request(data: &[u8]) -> Reached {
    let Some((&flags, head)) = data.split_first() else {
        return Reached::Nothing;
    };
    let text = String::from_utf8_lossy(head);
    let Some(request) = request_from_text(&text) else {
        return Reached::Nothing;
    };
    let uri = request.uri();
    let Ok(path) = cos_ci_sign::decode(uri.path()) else {
        return Reached::Request;
    };
    if path != EMULATOR_PATH || request.method() != http::Method::GET {
        return Reached::Request;
    }
    // The emulator answers InvalidHost before anything else without a
    // Host it can read (and the verifier always requires a signed host).
    let host_is_text = request
        .headers()
        .get(http::header::HOST)
        .is_some_and(|host| host.to_str().is_ok());
    if !host_is_text {
        return Reached::Request;
    }
    let wire_query = uri.query().unwrap_or("").replace('+', "%20");
    let Ok(pairs) = cos_ci_proto::query::decode_query(&wire_query) else {
        return Reached::Request;
    };
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
    let lookup = |id: &str| (id == DEFAULT_SECRET_ID).then_some(DEFAULT_SECRET_KEY);
    let signs_itself = flags & 1 == 1;
    let authorization = if signs_itself {
        let signer = Signer::new(
            Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            HeaderPolicy::OfficialDefault,
        );
        let key_time = KeyTime::starting_at(EMULATOR_NOW - 60, 3600);
        signer
            .authorization(&signable, key_time)
            .as_str()
            .to_owned()
    } else {
        match request.headers().get(http::header::AUTHORIZATION) {
            Some(value) => match value.to_str() {
                Ok(value) => value.to_owned(),
                Err(_) => return Reached::Query,
            },
            None => String::new(),
        }
    };
    let verified = cos_ci_sign::verify(&authorization, &signable, lookup, EMULATOR_NOW, &[]);
    match (signs_itself, verified) {
        (true, Ok(_)) => {}
        (true, Err(error)) => panic!(
            "the verifier rejects what the signer signed ({error}): {authorization:?} for {signable:?}"
        ),
        (false, Ok(_)) => panic!("an unsigned request was accepted: {authorization:?}"),
        (false, Err(_)) => return Reached::Query,
    }

    let Ok(list) = ListWorkflowExecutions::from_query_pairs(&query) else {
        return Reached::Signature;
    };
    if list.validate().is_err() {
        return Reached::Signature;
    }
    let Ok(page_query) = PageQuery::from_request(&list) else {
        return Reached::Signature;
    };
    check_page(&page_query)
}

/// How far an `emulator_request` input got (the replay test checks that the
/// corpus reaches paging, and continues from a token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Not a request head `http` accepts.
    Nothing,
    /// A request, but not a GET of the API path with a decodable query.
    Request,
    /// Decoded; the signature was (rightly) refused.
    Query,
    /// Signed and verified; the parameters or the token were refused.
    Signature,
    /// A page was served, with this many executions, continuing a token or
    /// not.
    Page {
        /// Executions on the page.
        executions: usize,
        /// Whether the request continued a `nextToken`.
        continued: bool,
    },
}

/// The paging invariants for one query against the fixed store.
fn check_page(query: &PageQuery) -> Reached {
    let page = emulator_store().page(query);
    let limit = query.size.clamp(1, PageSize::MAX) as usize;
    assert!(page.records.len() <= limit, "page longer than size {limit}");
    let positions: Vec<Position> = page.records.iter().map(Position::of).collect();
    for record in &page.records {
        assert!(
            query.matches(record),
            "page holds a non-matching {record:?}"
        );
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
    if let Some(next) = page.next_token(query.order) {
        assert_eq!(
            Some(&next.position),
            positions.last(),
            "next is not the last one"
        );
        assert_eq!(
            NextToken::decode_for(&next.encode(), query.order).as_ref(),
            Ok(&next),
            "a next token does not decode back"
        );
    }
    let output = ListWorkflowExecutionsOutput {
        request_id: Some("fuzz".to_owned()),
        executions: page
            .records
            .iter()
            .map(ExecutionRecord::to_execution)
            .collect(),
        next_token: page.next_token(query.order).map(|token| token.encode()),
    };
    let xml = output.write_xml();
    let parsed = ListWorkflowExecutions::parse_response(
        http::StatusCode::OK,
        &http::HeaderMap::new(),
        xml.as_bytes(),
    );
    assert_eq!(
        parsed.as_ref(),
        Ok(&output),
        "the emulator's XML does not read back"
    );
    Reached::Page {
        executions: page.records.len(),
        continued: query.after.is_some(),
    }
}
