//! Standing in for the services that hand out temporary credentials: the
//! CVM instance metadata service (`--metadata-role`) and STS's
//! `AssumeRoleWithWebIdentity` (`--sts`), plus the table of what they
//! issued, which the CI API then accepts until each set expires.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SERVER};
use http::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::handler::RequestHandler;
use crate::random::SplitMix64;

/// The metadata paths served: the documented one and the form without
/// `/latest` that coscli and the Java COS SDK use.
const METADATA_PREFIXES: [&str; 2] = [
    "/latest/meta-data/cam/security-credentials/",
    "/meta-data/cam/security-credentials/",
];

/// Issued sets kept for checking; the oldest go first beyond this.
const MAX_ISSUED: usize = 100_000;

/// One issued set of temporary credentials.
#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) secret_key: String,
    pub(crate) token: String,
    /// Unix seconds; refused from then on.
    pub(crate) expires_at: u64,
}

/// The credential services the emulator stands in for (see
/// [`crate::EmulatorConfig::metadata_role`] and [`crate::EmulatorConfig::sts`]),
/// and the temporary credentials they issued.
pub(crate) struct StandIns {
    pub(crate) metadata_role: Option<String>,
    pub(crate) sts: bool,
    pub(crate) issuer: Issuer,
}

/// Issues temporary credentials and remembers them.
pub(crate) struct Issuer {
    lifetime: Duration,
    state: Mutex<IssuerState>,
}

struct IssuerState {
    random: SplitMix64,
    count: u64,
    issued: HashMap<String, Issued>,
    order: VecDeque<String>,
}

impl Issuer {
    pub(crate) fn new(lifetime: Duration, seed: u64) -> Self {
        Issuer {
            lifetime: lifetime.max(Duration::from_secs(1)),
            state: Mutex::new(IssuerState {
                random: SplitMix64::new(seed ^ 0x7465_6d70_6372_6564),
                count: 0,
                issued: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// A new set, valid from `now` for the lifetime: (secret id, issued).
    pub(crate) fn issue(&self, now: u64) -> (String, Issued) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.count += 1;
        let (a, b, c, d) = (
            state.random.next_u64(),
            state.random.next_u64(),
            state.random.next_u64(),
            state.random.next_u64(),
        );
        let secret_id = format!("AKIDtmp{:06}{a:016x}", state.count);
        let issued = Issued {
            secret_key: format!("{b:016x}{c:016x}"),
            token: format!("emulator-token-{:06}-{d:016x}{a:016x}", state.count),
            expires_at: now.saturating_add(self.lifetime.as_secs()),
        };
        state.issued.insert(secret_id.clone(), issued.clone());
        state.order.push_back(secret_id.clone());
        while state.order.len() > MAX_ISSUED {
            if let Some(oldest) = state.order.pop_front() {
                state.issued.remove(&oldest);
            }
        }
        (secret_id, issued)
    }

    /// The set issued under `secret_id`, if any.
    pub(crate) fn get(&self, secret_id: &str) -> Option<Issued> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .issued
            .get(secret_id)
            .cloned()
    }

    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

/// Whether `request` is for one of the credential services this emulator
/// runs (decided on method and path only, before any body is read).
pub(crate) fn is_credential_request<B>(handler: &RequestHandler, request: &Request<B>) -> bool {
    let path = request.uri().path();
    (handler.stand_ins.metadata_role.is_some()
        && request.method() == Method::GET
        && METADATA_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix)))
        || (handler.stand_ins.sts && request.method() == Method::POST && path == "/")
}

/// Answer a credential-service request (see [`is_credential_request`]).
pub(crate) fn respond<B: AsRef<[u8]>>(
    handler: &RequestHandler,
    request: &Request<B>,
    request_id: &str,
    now: u64,
) -> Response<Bytes> {
    if request.method() == Method::GET {
        metadata(handler, request.uri().path(), now)
    } else {
        sts(handler, request, request_id, now)
    }
}

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(SERVER, http::HeaderValue::from_static("cos-ci-emulator"));
    response
}

/// `GET …/security-credentials/` lists the role; `…/<role>` answers its
/// credentials; anything else is a 404, as on a CVM.
fn metadata(handler: &RequestHandler, path: &str, now: u64) -> Response<Bytes> {
    let Some(role) = handler.stand_ins.metadata_role.as_deref() else {
        return plain(StatusCode::NOT_FOUND, "text/plain", "Not Found".to_owned());
    };
    let rest = METADATA_PREFIXES
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .unwrap_or(path);
    if rest.is_empty() {
        return plain(StatusCode::OK, "text/plain", role.to_owned());
    }
    if rest != role {
        return plain(StatusCode::NOT_FOUND, "text/plain", "Not Found".to_owned());
    }
    let (secret_id, issued) = handler.stand_ins.issuer.issue(now);
    let body = json!({
        "TmpSecretId": secret_id,
        "TmpSecretKey": issued.secret_key,
        "ExpiredTime": issued.expires_at,
        "Expiration": rfc3339(issued.expires_at),
        "Token": issued.token,
        "Code": "Success",
    });
    plain(StatusCode::OK, "application/json", body.to_string())
}

/// STS's answer shape: HTTP 200 whether it worked or not.
fn sts_error(code: &str, message: &str, request_id: &str) -> Response<Bytes> {
    let body = json!({
        "Response": {
            "Error": { "Code": code, "Message": message },
            "RequestId": request_id,
        }
    });
    plain(StatusCode::OK, "application/json", body.to_string())
}

/// `POST /` with `X-TC-Action: AssumeRoleWithWebIdentity`: unsigned
/// (`Authorization: SKIP`); any provider id and role ARN; the token must
/// not be empty.
fn sts<B: AsRef<[u8]>>(
    handler: &RequestHandler,
    request: &Request<B>,
    request_id: &str,
    now: u64,
) -> Response<Bytes> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    };
    let action = header("x-tc-action");
    if action != "AssumeRoleWithWebIdentity" {
        return sts_error(
            "InvalidAction",
            &format!(
                "Action `{}` is not served here; only AssumeRoleWithWebIdentity is.",
                cos_ci_proto::query::excerpt(action, 60)
            ),
            request_id,
        );
    }
    if header("authorization") != "SKIP" {
        return sts_error(
            "AuthFailure.InvalidAuthorization",
            "AssumeRoleWithWebIdentity is called unsigned, with `Authorization: SKIP`.",
            request_id,
        );
    }
    if header("x-tc-version") != "2018-08-13" {
        return sts_error(
            "InvalidParameter",
            "X-TC-Version must be 2018-08-13.",
            request_id,
        );
    }
    if header("x-tc-region").is_empty() {
        return sts_error("MissingParameter", "X-TC-Region is missing.", request_id);
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(request.body().as_ref()) else {
        return sts_error(
            "InvalidParameter",
            "The body must be a JSON object.",
            request_id,
        );
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    for name in ["ProviderId", "RoleArn", "RoleSessionName"] {
        if text(name).is_empty() {
            return sts_error(
                "MissingParameter",
                &format!("{name} is missing."),
                request_id,
            );
        }
    }
    let session = text("RoleSessionName");
    if session.len() < 2
        || session.len() > 128
        || !session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return sts_error(
            "InvalidParameter.RoleSessionName",
            "RoleSessionName must be 2 to 128 of letters, digits and +=,.@_-.",
            request_id,
        );
    }
    if text("WebIdentityToken").is_empty() {
        return sts_error(
            "InvalidParameter.WebIdentityTokenError",
            "WebIdentityToken is empty.",
            request_id,
        );
    }
    if let Some(duration) = body.get("DurationSeconds")
        && !duration.as_u64().is_some_and(|d| (1..=43_200).contains(&d))
    {
        return sts_error(
            "InvalidParameter.DurationSeconds",
            "DurationSeconds must be between 1 and 43200.",
            request_id,
        );
    }
    let (secret_id, issued) = handler.stand_ins.issuer.issue(now);
    let answer = json!({
        "Response": {
            "Credentials": {
                "Token": issued.token,
                "TmpSecretId": secret_id,
                "TmpSecretKey": issued.secret_key,
            },
            "ExpiredTime": issued.expires_at,
            "Expiration": rfc3339(issued.expires_at),
            "RequestId": request_id,
        }
    });
    plain(StatusCode::OK, "application/json", answer.to_string())
}

/// Unix seconds as `2021-03-12T23:00:47Z`.
pub(crate) fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_615_590_047), "2021-03-12T23:00:47Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn issued_sets_differ_and_are_kept() {
        let issuer = Issuer::new(Duration::from_secs(60), 1);
        let (a, first) = issuer.issue(100);
        let (b, second) = issuer.issue(100);
        assert_ne!(a, b);
        assert_ne!(first.token, second.token);
        assert_eq!(first.expires_at, 160);
        assert_eq!(issuer.get(&a).unwrap().secret_key, first.secret_key);
        assert!(issuer.get("AKIDnope").is_none());
    }
}
