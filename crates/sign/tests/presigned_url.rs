//! Pre-signed URLs from the sign crate alone: build one, decode it, verify
//! it; any change to what was signed is refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cos_ci_sign::{
    AUTHORIZATION_FIELDS, Credentials, DecodeError, HeaderPolicy, KeyTime, PresignError,
    SECURITY_TOKEN_NAMES, SignableRequest, Signer, UrlDecodeError, VerifyError, decode_query,
    split_presigned, verify_presigned_url,
};
use proptest::prelude::*;

mod common;
use common::{Req, borrowed};

const SECRET_ID: &str = "AKIDpresign";
const SECRET_KEY: &str = "presign-secret-key";

fn lookup(id: &str) -> Option<&'static str> {
    (id == SECRET_ID).then_some(SECRET_KEY)
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A request as the URL's user sends it: raw parts plus the headers that
/// arrive with it (`host` first).
impl Req {
    fn presign(&self, signer: &Signer, key_time: KeyTime) -> Result<String, PresignError> {
        let (mut query, mut headers) = (Vec::new(), Vec::new());
        signer.presigned_url("https", &self.view(&mut query, &mut headers), key_time)
    }

    fn verify(&self, url: &str, now: SystemTime) -> Result<(), VerifyError> {
        let headers = borrowed(&self.headers);
        verify_presigned_url(&self.method, url, &headers, lookup, now, &[]).map(|_| ())
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9_.~-]{0,12}", "[ -~]{0,12}", "\\PC{0,8}",]
}

fn req() -> impl Strategy<Value = Req> {
    let reserved = |k: &String| {
        AUTHORIZATION_FIELDS.contains(&k.as_str()) || SECURITY_TOKEN_NAMES.contains(&k.as_str())
    };
    (
        prop_oneof![Just("GET"), Just("put"), Just("HEAD")],
        prop_oneof![
            Just(String::new()),
            Just("/workflowexecution".to_owned()),
            "/\\PC{0,16}",
            "/[a-z/ +?#%]{0,12}",
        ],
        prop::collection::vec(
            (
                text().prop_filter("a q-* name", move |k| !reserved(k)),
                text(),
            ),
            0..6,
        ),
        "[a-z0-9.-]{1,30}(:[0-9]{1,5})?",
        prop::collection::vec(("x-cos-[a-z]{1,6}", text()), 0..2),
    )
        .prop_map(|(method, path, query, host, signed_headers)| {
            let mut headers = vec![("host".to_owned(), host)];
            headers.extend(signed_headers);
            Req {
                method: method.to_owned(),
                path,
                query,
                headers,
            }
        })
}

fn signer(with_token: bool) -> Signer {
    let mut credentials = Credentials::new(SECRET_ID, SECRET_KEY);
    if with_token {
        credentials = credentials.with_session_token("token/with+odd chars=&");
    }
    Signer::new(credentials, HeaderPolicy::OfficialDefault)
}

fn window() -> impl Strategy<Value = (KeyTime, SystemTime)> {
    (1_000u64..4_000_000_000, 0u64..100_000, 0.0f64..=1.0).prop_map(|(start, lifetime, at_frac)| {
        let kt = KeyTime::starting_at_time(at(start), Duration::from_secs(lifetime));
        let now = kt.start() + ((kt.end() - kt.start()) as f64 * at_frac) as u64;
        (kt, at(now))
    })
}

/// A request, its URL pre-signed with or without a session token, and a
/// moment inside the URL's window: what the tampering properties start
/// from. (`presigned_url_decodes_and_verifies` checks, with shrinking, that
/// pre-signing itself succeeds.)
fn presigned(with_token: bool) -> impl Strategy<Value = (Req, String, SystemTime)> {
    (req(), window()).prop_map(move |(req, (kt, now))| {
        let url = req.presign(&signer(with_token), kt).expect("pre-signed");
        (req, url, now)
    })
}

/// Where the request's own part of the URL starts (just after the first
/// `/` of the path; changing that `/` of an empty path changes nothing
/// signed) and where the `q-*` fields start.
fn request_part(url: &str) -> (usize, usize) {
    let after_scheme = url.find("://").unwrap() + 3;
    let path_start = after_scheme + url[after_scheme..].find('/').unwrap();
    let fields_start = url.find("q-sign-algorithm=").unwrap();
    (path_start + 1, fields_start)
}

/// What a URL says: its decoded part before `?` and its decoded pairs.
fn meaning(url: &str) -> (Option<String>, Option<Vec<(String, String)>>) {
    let (before, query) = url.split_once('?').unwrap_or((url, ""));
    (cos_ci_sign::decode(before).ok(), decode_query(query).ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn presigned_url_decodes_and_verifies(req in req(), (kt, now) in window(), with_token in any::<bool>()) {
        let url = req.presign(&signer(with_token), kt).unwrap();
        prop_assert!(url.is_ascii());
        prop_assert_eq!(req.verify(&url, now), Ok(()));
        // The request target alone verifies the same way.
        let target = &url[url.find("://").unwrap() + 3..];
        let target = &target[target.find('/').unwrap()..];
        prop_assert_eq!(req.verify(target, now), Ok(()));
        // Decoding by hand gives back the request's pairs, then the fields.
        let pairs = decode_query(url.split_once('?').unwrap().1).unwrap();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, signed) = split_presigned(&pairs).unwrap();
        prop_assert_eq!(signed, borrowed(&req.query));
        prop_assert_eq!(
            pairs.last().copied(),
            Some(if with_token {
                ("x-cos-security-token", "token/with+odd chars=&")
            } else {
                ("q-signature", pairs.last().unwrap().1)
            })
        );
    }

    #[test]
    fn changing_any_byte_of_the_signed_request_part_fails(
        (req, url, now) in presigned(false),
        pick in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9&=%]",
    ) {
        let (start, end) = request_part(&url);
        prop_assume!(start < end);
        let i = start + pick.index(end - start);
        let original = url[i..=i].to_owned();
        // `%2F` and `%2f` decode alike: a change of case in an escape is no change.
        prop_assume!(!original.eq_ignore_ascii_case(&replacement));
        let mut tampered = url.clone();
        tampered.replace_range(i..=i, &replacement);
        // Some edits change bytes but not meaning (`k=` and `k` are the
        // same empty parameter, `&&` is no parameter): those must verify.
        prop_assume!(meaning(&tampered) != meaning(&url));
        prop_assert!(req.verify(&tampered, now).is_err(), "{} verified", tampered);
    }

    #[test]
    fn changing_the_signature_method_host_or_query_fails(
        (req, url, now) in presigned(true),
        pick in any::<prop::sample::Index>(),
        hex in "[0-9a-f]",
    ) {
        let signature_at = url.find("q-signature=").unwrap() + "q-signature=".len();
        let i = signature_at + pick.index(40);
        prop_assume!(url[i..=i] != hex);
        let mut forged = url.clone();
        forged.replace_range(i..=i, &hex);
        prop_assert_eq!(req.verify(&forged, now), Err(VerifyError::Mismatch));

        let mut other = req.clone();
        other.method = if req.method == "GET" { "POST".into() } else { "GET".into() };
        prop_assert_eq!(other.verify(&url, now), Err(VerifyError::Mismatch));

        let mut other = req.clone();
        other.headers[0].1.push_str(".evil");
        prop_assert_eq!(other.verify(&url, now), Err(VerifyError::Mismatch));

        prop_assert_eq!(
            req.verify(&format!("{url}&added=1"), now),
            Err(VerifyError::ParamNotSigned("added".into()))
        );
    }

    #[test]
    fn a_url_outside_its_window_fails(req in req(), (kt, _) in window(), delta in 1u64..1_000_000) {
        let url = req.presign(&signer(false), kt).unwrap();
        prop_assert_eq!(
            req.verify(&url, at(kt.end() + delta)),
            Err(VerifyError::Expired { end: kt.end(), now: kt.end() + delta })
        );
        prop_assert_eq!(
            req.verify(&url, at(kt.start() - delta.min(kt.start()))),
            if delta.min(kt.start()) == 0 {
                Ok(())
            } else {
                Err(VerifyError::NotYetValid { start: kt.start(), now: kt.start() - delta.min(kt.start()) })
            }
        );
    }

    #[test]
    fn verify_presigned_url_never_panics(url in any::<String>(), now in any::<u32>()) {
        let _ = verify_presigned_url("GET", &url, &[("host", "h")], lookup, at(now.into()), &[]);
    }
}

#[test]
fn urls_that_cannot_be_built_are_typed_errors() {
    let signer = signer(false);
    let kt = KeyTime::starting_at(1_700_000_000, 60);
    let build = |scheme: &str, path: &str, headers: &[(&str, &str)]| {
        let request = SignableRequest {
            method: "GET",
            path,
            query: &[],
            headers,
        };
        signer.presigned_url(scheme, &request, kt)
    };
    let host = [(
        "Host",
        "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
    )];
    assert!(
        build("HTTPS", "/", &host)
            .unwrap()
            .starts_with("https://examplebucket")
    );
    assert!(build("http", "", &host).unwrap().starts_with(
        "http://examplebucket-1250000000.ci.ap-beijing.myqcloud.com/?q-sign-algorithm=sha1&"
    ));
    assert_eq!(
        build("ftp", "/", &host),
        Err(PresignError::UnsupportedScheme)
    );
    assert_eq!(build("https", "/", &[]), Err(PresignError::MissingHost));
    for bad_host in ["", "evil.com/x?", "a b", "user@host"] {
        assert_eq!(
            build("https", "/", &[("host", bad_host)]),
            Err(PresignError::InvalidHost),
            "{bad_host}"
        );
    }
    assert_eq!(
        build("https", "relative", &host),
        Err(PresignError::RelativePath)
    );
}

#[test]
fn urls_that_are_not_presigned_or_not_encoded_are_typed_errors() {
    let check = |url: &str| verify_presigned_url("GET", url, &[("host", "h")], lookup, at(0), &[]);
    assert_eq!(check("https://h/path?a=1"), Err(VerifyError::NotPresigned));
    assert_eq!(check("https://h"), Err(VerifyError::NotPresigned));
    assert!(matches!(
        check("/p%zz?q-ak=x"),
        Err(VerifyError::BadUrlEncoding(UrlDecodeError { ref near, reason: DecodeError::BadEscape { offset: 2 }, .. })) if near == "/p%zz"
    ));
    assert!(matches!(
        check("/p?q-ak=%FF"),
        Err(VerifyError::BadUrlEncoding(UrlDecodeError {
            reason: DecodeError::NotUtf8,
            ..
        }))
    ));
    // A fragment is not part of what the server receives.
    assert!(matches!(
        check("/p?q-ak=x#%zz"),
        Err(VerifyError::Malformed(_))
    ));
}
