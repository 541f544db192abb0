//! insta snapshots of every stage for the typical list request.

mod common;

use common::{HOST, credentials, key_time, list_request};
use cos_ci_sign::{HeaderPolicy, SignableRequest, Signer, Stages, sign_stages};

/// Every stage of signing `request` with the official default headers.
fn official_stages(request: &SignableRequest<'_>) -> Stages {
    sign_stages(
        &credentials(),
        request,
        key_time(),
        &HeaderPolicy::OfficialDefault,
    )
}

/// Each case is one snapshot, named after it; the fast signer must agree
/// with the staged one on every case.
#[test]
fn list_request_stages() {
    let cases: [(&str, &[(&str, &str)]); 2] = [
        (
            "list_request_stages",
            &[
                ("Host", HOST),
                // Not in the official default set: must not be signed.
                ("User-Agent", "cos-ci/0.1"),
            ],
        ),
        (
            "list_request_with_token_stages",
            &[
                ("Host", HOST),
                ("x-ci-security-token", "temporary token/with+specials="),
            ],
        ),
    ];
    for (name, headers) in cases {
        let request = list_request(headers);
        let stages = official_stages(&request);
        insta::assert_debug_snapshot!(name, stages);
        let fast = Signer::new(credentials(), HeaderPolicy::OfficialDefault)
            .authorization(&request, key_time());
        assert_eq!(fast.as_str(), stages.authorization, "{name}");
    }
}

#[test]
fn list_request_presigned() {
    let headers = [("Host", HOST)];
    let request = list_request(&headers);
    let signer = Signer::new(
        credentials().with_session_token("session-token"),
        HeaderPolicy::OfficialDefault,
    );
    insta::assert_debug_snapshot!(signer.presign(&request, key_time()));
}
