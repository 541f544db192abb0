//! insta snapshots of every stage for the typical list request.

use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer, sign_stages};

const QUERY: &[(&str, &str)] = &[
    ("workflowId", "web6ac56c1ef54dbfa44d7f4103203be9"),
    ("states", "Success,Failed"),
    ("size", "10"),
    ("startCreationTime", "2022-08-09T14:00:00+0800"),
    ("nextToken", "115716"),
];

fn credentials() -> Credentials {
    Credentials::new(
        "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
        "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
    )
}

fn key_time() -> KeyTime {
    KeyTime::new(1_557_989_151, 1_557_996_351).unwrap()
}

#[test]
fn list_request_stages() {
    let headers = [
        (
            "Host",
            "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
        ),
        // Not in the official default set: must not be signed.
        ("User-Agent", "cos-ci/0.1"),
    ];
    let request = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: QUERY,
        headers: &headers,
    };
    let stages = sign_stages(
        &credentials(),
        &request,
        key_time(),
        &HeaderPolicy::OfficialDefault,
    );
    insta::assert_debug_snapshot!(stages);
    let fast = Signer::new(credentials(), HeaderPolicy::OfficialDefault)
        .authorization(&request, key_time());
    assert_eq!(fast.as_str(), stages.authorization);
}

#[test]
fn list_request_with_token_stages() {
    let headers = [
        (
            "Host",
            "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
        ),
        ("x-ci-security-token", "temporary token/with+specials="),
    ];
    let request = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: QUERY,
        headers: &headers,
    };
    let stages = sign_stages(
        &credentials(),
        &request,
        key_time(),
        &HeaderPolicy::OfficialDefault,
    );
    insta::assert_debug_snapshot!(stages);
}

#[test]
fn list_request_presigned() {
    let headers = [(
        "Host",
        "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
    )];
    let request = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: QUERY,
        headers: &headers,
    };
    let signer = Signer::new(
        credentials().with_session_token("session-token"),
        HeaderPolicy::OfficialDefault,
    );
    insta::assert_debug_snapshot!(signer.presign(&request, key_time()));
}
