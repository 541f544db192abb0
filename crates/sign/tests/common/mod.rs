//! Shared by the sign crate's tests and its bench: the typical list
//! request (the parts of protocol.md's CI-1), and a request with owned
//! parts for the property tests to generate.
#![allow(dead_code, unreachable_pub)]

use cos_ci_sign::{Credentials, KeyTime, SignableRequest};

pub const SECRET_ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
pub const SECRET_KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";
pub const HOST: &str = "examplebucket-1250000000.ci.ap-beijing.myqcloud.com";
pub const QUERY: &[(&str, &str)] = &[
    ("workflowId", "web6ac56c1ef54dbfa44d7f4103203be9"),
    ("states", "Success,Failed"),
    ("size", "10"),
    ("startCreationTime", "2022-08-09T14:00:00+0800"),
    ("nextToken", "115716"),
];

pub fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY)
}

pub fn key_time() -> KeyTime {
    KeyTime::new(1_557_989_151, 1_557_996_351).unwrap()
}

/// `GET /workflowexecution` with [`QUERY`] and `headers`.
pub fn list_request<'a>(headers: &'a [(&'a str, &'a str)]) -> SignableRequest<'a> {
    SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: QUERY,
        headers,
    }
}

/// A request with owned parts (as a strategy generates them).
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
}

/// `list` as the borrowed pairs a [`SignableRequest`] takes.
pub fn borrowed(list: &[(String, String)]) -> Vec<(&str, &str)> {
    list.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl Req {
    /// The request to sign or verify, its pairs kept in `query` and
    /// `headers`.
    pub fn view<'a>(
        &'a self,
        query: &'a mut Vec<(&'a str, &'a str)>,
        headers: &'a mut Vec<(&'a str, &'a str)>,
    ) -> SignableRequest<'a> {
        *query = borrowed(&self.query);
        *headers = borrowed(&self.headers);
        SignableRequest {
            method: &self.method,
            path: &self.path,
            query,
            headers,
        }
    }
}
