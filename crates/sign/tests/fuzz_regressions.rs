//! Inputs found by the fuzz targets in `fuzz/` (see `docs/reliability.md`),
//! kept as plain tests of this crate.

use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer, verify};

const ID: &str = "AKIDcosciEMULATOR0000000000000000";
const KEY: &str = "cosciEmulatorSecretKey0000000000";
const NOW: u64 = 1_767_600_000;

fn sign_then_verify(query: &[(&str, &str)]) -> Result<(), cos_ci_sign::VerifyError> {
    let request = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query,
        headers: &[(
            "host",
            "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
        )],
    };
    let signer = Signer::new(Credentials::new(ID, KEY), HeaderPolicy::OfficialDefault);
    let authorization = signer.authorization(&request, KeyTime::starting_at(NOW - 60, 3600));
    verify(
        authorization.as_str(),
        &request,
        |id| (id == ID).then_some(KEY),
        NOW,
        &[],
    )
    .map(|_| ())
}

/// `?=v`: the signer lists the empty name as `q-url-param-list=`, which
/// also reads as "no parameters"; the verifier must still accept it.
#[test]
fn a_lone_parameter_with_an_empty_name_verifies() {
    assert_eq!(sign_then_verify(&[("", "v1.a.1.aTAwMDA")]), Ok(()));
    assert_eq!(sign_then_verify(&[("", "x"), ("size", "10")]), Ok(()));
    assert_eq!(sign_then_verify(&[("", "x"), ("", "y")]), Ok(()));
}

/// The leniency is only about the list: an empty-named parameter added to
/// a request signed without it still fails on the signature.
#[test]
fn an_added_empty_parameter_is_still_refused() {
    let signed = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: &[],
        headers: &[("host", "h")],
    };
    let signer = Signer::new(Credentials::new(ID, KEY), HeaderPolicy::OfficialDefault);
    let authorization = signer.authorization(&signed, KeyTime::starting_at(NOW - 60, 3600));
    let received = SignableRequest {
        query: &[("", "x")],
        ..signed
    };
    assert_eq!(
        verify(
            authorization.as_str(),
            &received,
            |id| (id == ID).then_some(KEY),
            NOW,
            &[]
        ),
        Err(cos_ci_sign::VerifyError::Mismatch)
    );
}
