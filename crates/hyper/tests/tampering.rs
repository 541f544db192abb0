//! Emulator hardening: a request signed by the client is accepted, and any
//! single tampering with it — method, path, a parameter, the host, the token,
//! the key time or the signature — is rejected. Real HTTP on 127.0.0.1.

use std::time::SystemTime;

use bytes::Bytes;
use cos_ci_client::Client;
use cos_ci_emulator::{Dataset, Emulator, EmulatorConfig};
use cos_ci_proto::ListWorkflowExecutions;
use cos_ci_testkit::list_request_with_every_parameter;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as RawClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proptest::prelude::*;

mod common;
use common::{config_for, default_credentials, start};

const TOKEN: &str = "tampering-test-token";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    raw: RawClient<HttpConnector, Full<Bytes>>,
    client: Client,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(start(EmulatorConfig {
        dataset: Dataset::generate(20, 1),
        session_token: Some(TOKEN.into()),
        ..Default::default()
    }));
    let config = config_for(&emulator, default_credentials().with_session_token(TOKEN));
    let raw = RawClient::builder(TokioExecutor::new()).build_http();
    Fixture {
        runtime,
        emulator,
        raw,
        client: Client::new(config),
    }
}

/// Every parameter but `nextToken`: the emulator refuses a token it did
/// not issue, and the untampered request must be served.
fn full_request() -> ListWorkflowExecutions {
    ListWorkflowExecutions {
        next_token: None,
        ..list_request_with_every_parameter()
    }
}

impl Fixture {
    fn status(&self, request: http::Request<Bytes>) -> u16 {
        self.runtime.block_on(async {
            let response = self.raw.request(request.map(Full::new)).await.unwrap();
            let status = response.status().as_u16();
            let _ = response.into_body().collect().await;
            status
        })
    }

    fn signed(&self) -> http::Request<Bytes> {
        self.client
            .prepare(&full_request(), SystemTime::now())
            .unwrap()
    }
}

#[derive(Debug, Clone)]
enum Tamper {
    Method(&'static str),
    PathSuffix(String),
    /// Replace the value of the n-th query parameter.
    ParamValue(usize, String),
    DropParam(usize),
    AddParam(String),
    Host(String),
    DropToken,
    Token(String),
    /// Shift `q-key-time` and `q-sign-time` by this many seconds.
    KeyTime(i64),
    /// Flip the n-th hex digit of `q-signature`.
    Signature(usize),
    DropAuthorization,
}

fn tamper_strategy() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        prop::sample::select(vec!["POST", "PUT", "DELETE", "HEAD", "PATCH"])
            .prop_map(Tamper::Method),
        "[a-z0-9/]{1,8}".prop_map(Tamper::PathSuffix),
        (0usize..8, "[A-Za-z0-9 +/%~]{0,6}").prop_map(|(n, v)| Tamper::ParamValue(n, v)),
        (0usize..8).prop_map(Tamper::DropParam),
        "[a-z]{1,8}".prop_map(Tamper::AddParam),
        "[a-z]{1,12}\\.example".prop_map(Tamper::Host),
        Just(Tamper::DropToken),
        "[a-z]{1,12}".prop_map(Tamper::Token),
        prop_oneof![(-100_000i64..-1), (1i64..100_000)].prop_map(Tamper::KeyTime),
        (0usize..40).prop_map(Tamper::Signature),
        Just(Tamper::DropAuthorization),
    ]
}

fn apply(mut request: http::Request<Bytes>, tamper: &Tamper) -> Option<http::Request<Bytes>> {
    let uri = request.uri().clone();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let mut params: Vec<String> = query.split('&').map(str::to_owned).collect();
    let set_uri = |path: &str, params: &[String]| {
        let text = format!(
            "{}://{}{}?{}",
            uri.scheme_str().unwrap_or("http"),
            uri.authority().unwrap(),
            path,
            params.join("&")
        );
        text.parse::<http::Uri>().ok()
    };
    match tamper {
        Tamper::Method(method) => *request.method_mut() = method.parse().ok()?,
        Tamper::PathSuffix(suffix) => {
            *request.uri_mut() = set_uri(&format!("{path}{suffix}"), &params)?
        }
        Tamper::ParamValue(n, value) => {
            let index = n % params.len();
            let key = params[index]
                .split('=')
                .next()
                .unwrap_or_default()
                .to_owned();
            let new = format!("{key}={}", cos_ci_sign::encode(value));
            if new == params[index] {
                return None;
            }
            params[index] = new;
            *request.uri_mut() = set_uri(&path, &params)?;
        }
        Tamper::DropParam(n) => {
            let index = n % params.len();
            params.remove(index);
            *request.uri_mut() = set_uri(&path, &params)?;
        }
        Tamper::AddParam(key) => {
            params.push(format!("{key}=1"));
            *request.uri_mut() = set_uri(&path, &params)?;
        }
        Tamper::Host(host) => {
            request.headers_mut().insert("host", host.parse().ok()?);
        }
        Tamper::DropToken => {
            request.headers_mut().remove("x-ci-security-token");
        }
        Tamper::Token(token) => {
            request
                .headers_mut()
                .insert("x-ci-security-token", token.parse().ok()?);
        }
        Tamper::KeyTime(shift) => {
            let auth = request.headers()["authorization"].to_str().ok()?.to_owned();
            let shifted: Vec<String> = auth
                .split('&')
                .map(|part| match part.split_once('=') {
                    Some((k @ ("q-key-time" | "q-sign-time"), v)) => {
                        let (a, b) = v.split_once(';').unwrap();
                        let a = a.parse::<i64>().unwrap() + shift;
                        let b = b.parse::<i64>().unwrap() + shift;
                        format!("{k}={a};{b}")
                    }
                    _ => part.to_owned(),
                })
                .collect();
            request
                .headers_mut()
                .insert("authorization", shifted.join("&").parse().ok()?);
        }
        Tamper::Signature(n) => {
            let auth = request.headers()["authorization"].to_str().ok()?.to_owned();
            let at = auth.find("q-signature=")? + "q-signature=".len() + n;
            let mut bytes = auth.into_bytes();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            request.headers_mut().insert(
                "authorization",
                String::from_utf8(bytes).ok()?.parse().ok()?,
            );
        }
        Tamper::DropAuthorization => {
            request.headers_mut().remove("authorization");
        }
    }
    Some(request)
}

#[test]
fn untampered_requests_are_accepted() {
    let fixture = fixture();
    assert_eq!(fixture.status(fixture.signed()), 200);
    fixture.runtime.block_on(fixture.emulator.shutdown());
}

#[test]
fn every_tampering_is_rejected() {
    let fixture = fixture();
    let config = ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(tamper in tamper_strategy())| {
        if let Some(request) = apply(fixture.signed(), &tamper) {
            let status = fixture.status(request);
            prop_assert!((400..500).contains(&status), "{tamper:?} was answered {status}");
        }
    });
    fixture.runtime.block_on(fixture.emulator.shutdown());
}
