//! Helpers shared by the integration tests (`mod common;` in each).

use cos_ci_proto::CiAction;
use http::{HeaderMap, StatusCode};

/// `A`'s output for a 200 answer carrying `body` and no headers; panics
/// with the error if it does not parse.
pub(crate) fn parse_ok<A: CiAction>(body: impl AsRef<[u8]>) -> A::Output {
    A::parse_response(StatusCode::OK, &HeaderMap::new(), body.as_ref())
        .unwrap_or_else(|error| panic!("{} answer did not parse: {error}", A::NAME))
}

/// `action` is sent as `METHOD path?name`, a bare sub-resource, and signed
/// with `name` and an empty value.
pub(crate) fn assert_sub_resource<A: CiAction>(
    action: &A,
    method: http::Method,
    path: &str,
    name: &str,
) {
    assert_eq!(A::METHOD, method);
    assert_eq!(action.path(), path);
    assert_eq!(action.wire_query(), name);
    assert_eq!(action.signed_query_pairs(), [(name, String::new())]);
}
