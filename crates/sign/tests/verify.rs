//! The verifier's typed errors, one check at a time, plus presign and the
//! redacting `Debug` of the credentials.

use cos_ci_sign::{
    AUTHORIZATION_FIELDS, AuthorizationParseError as P, Credentials, HeaderPolicy, KeyTime,
    KeyTimeError, ParsedAuthorization, SignableRequest, Signer, VerifyError as V, verify,
};

const ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
const KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";
const HOST: &str = "examplebucket-1250000000.ci.ap-beijing.myqcloud.com";
/// CI-1 from protocol.md §2.8.
const CI1: &str = "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=host&q-url-param-list=nexttoken;size;startcreationtime;states;workflowid&q-signature=e1d933cc7922cb0ec5c46479b4cca63e66924bd2";
const QUERY: &[(&str, &str)] = &[
    ("workflowId", "web6ac56c1ef54dbfa44d7f4103203be9"),
    ("size", "10"),
    ("states", "Success,Failed"),
    ("startCreationTime", "2022-08-09T14:00:00+0800"),
    ("nextToken", "115716"),
];
const NOW: u64 = 1_557_990_000;

fn lookup(id: &str) -> Option<&'static str> {
    (id == ID).then_some(KEY)
}

fn request<'a>(
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'a str, &'a str)],
) -> SignableRequest<'a> {
    SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query,
        headers,
    }
}

fn check(auth: &str, query: &[(&str, &str)], headers: &[(&str, &str)]) -> Result<(), V> {
    verify(auth, &request(query, headers), lookup, NOW, &[]).map(|_| ())
}

#[test]
fn ci1_verifies_with_any_header_case_and_order() {
    let headers = [("user-agent", "x"), ("HOST", HOST)];
    let mut query = QUERY.to_vec();
    query.reverse();
    let ok = verify(CI1, &request(&query, &headers), lookup, NOW, &[]).unwrap();
    assert_eq!(ok.secret_id, ID);
    assert_eq!(
        ok.key_time,
        KeyTime::new(1_557_989_151, 1_557_996_351).unwrap()
    );
    assert_eq!(ok.signed_headers, vec!["host".to_owned()]);
}

#[test]
fn parse_errors_are_typed() {
    let field = |name: &str, value: &str| {
        let mut parts: Vec<String> = CI1.split('&').map(str::to_owned).collect();
        for p in &mut parts {
            if p.split_once('=').map(|(k, _)| k) == Some(name) {
                *p = format!("{name}={value}");
            }
        }
        parts.join("&")
    };
    let without = |name: &str| {
        CI1.split('&')
            .filter(|p| !p.starts_with(&format!("{name}=")))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert_eq!(
        ParsedAuthorization::parse(""),
        Err(P::BadPart(String::new()))
    );
    assert_eq!(
        ParsedAuthorization::parse(&format!("{CI1}&q-extra=1")),
        Err(P::BadPart("q-extra=1".into()))
    );
    assert_eq!(
        ParsedAuthorization::parse(&format!("{CI1}&garbage")),
        Err(P::BadPart("garbage".into()))
    );
    assert_eq!(
        ParsedAuthorization::parse(&format!("{CI1}&q-ak=other")),
        Err(P::DuplicateField("q-ak".into()))
    );
    // The fields as CI-1 has them, which are the ones the crate names.
    let names: Vec<&str> = CI1
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, AUTHORIZATION_FIELDS);
    for name in AUTHORIZATION_FIELDS {
        assert_eq!(
            ParsedAuthorization::parse(&without(name)),
            Err(P::MissingField(name))
        );
    }
    assert_eq!(
        ParsedAuthorization::parse(&field("q-sign-algorithm", "SHA1")),
        Err(P::UnsupportedAlgorithm("SHA1".into()))
    );
    assert_eq!(
        ParsedAuthorization::parse(&field("q-key-time", "1;x")),
        Err(P::BadTime {
            field: "q-key-time",
            source: KeyTimeError::Malformed
        })
    );
    assert_eq!(
        ParsedAuthorization::parse(&field("q-sign-time", "5;4")),
        Err(P::BadTime {
            field: "q-sign-time",
            source: KeyTimeError::EndBeforeStart { start: 5, end: 4 }
        })
    );
    for bad in [
        "",
        "e1d933cc",
        "E1D933CC7922CB0EC5C46479B4CCA63E66924BD2",
        "g1d933cc7922cb0ec5c46479b4cca63e66924bd2",
        "e1d933cc7922cb0ec5c46479b4cca63e66924bd2a",
    ] {
        assert_eq!(
            ParsedAuthorization::parse(&field("q-signature", bad)),
            Err(P::BadSignature),
            "{bad:?}"
        );
    }
    // Order of the parts does not matter.
    let mut parts: Vec<&str> = CI1.split('&').collect();
    parts.reverse();
    assert_eq!(
        ParsedAuthorization::parse(&parts.join("&")),
        ParsedAuthorization::parse(CI1)
    );
    // Malformed goes through verify as `Malformed`.
    assert_eq!(
        check("nonsense", QUERY, &[("host", HOST)]),
        Err(V::Malformed(P::BadPart("nonsense".into())))
    );
}

#[test]
fn each_check_reports_its_own_error() {
    let headers = [("host", HOST)];
    // Unknown key.
    assert_eq!(
        check(&CI1.replace(ID, "AKIDother"), QUERY, &headers),
        Err(V::UnknownKey)
    );
    // Time window (inclusive).
    let req = request(QUERY, &headers);
    assert!(verify(CI1, &req, lookup, 1_557_989_151, &[]).is_ok());
    assert!(verify(CI1, &req, lookup, 1_557_996_351, &[]).is_ok());
    assert_eq!(
        verify(CI1, &req, lookup, 1_557_996_352, &[]),
        Err(V::Expired {
            end: 1_557_996_351,
            now: 1_557_996_352
        })
    );
    assert_eq!(
        verify(CI1, &req, lookup, 1_557_989_150, &[]),
        Err(V::NotYetValid {
            start: 1_557_989_151,
            now: 1_557_989_150
        })
    );
    // Required headers.
    assert_eq!(
        verify(CI1, &req, lookup, NOW, &["content-md5"]),
        Err(V::HeaderNotSigned("content-md5".into()))
    );
    assert_eq!(
        check(
            &CI1.replace("q-header-list=host", "q-header-list="),
            QUERY,
            &headers
        ),
        Err(V::HeaderNotSigned("host".into()))
    );
    // A listed header missing from the request.
    assert_eq!(
        check(CI1, QUERY, &[("user-agent", "x")]),
        Err(V::SignedHeaderMissing("host".into()))
    );
    // Params: one too many, one too few.
    let mut more = QUERY.to_vec();
    more.push(("Extra", "1"));
    assert_eq!(
        check(CI1, &more, &headers),
        Err(V::ParamNotSigned("extra".into()))
    );
    assert_eq!(
        check(CI1, &QUERY[1..], &headers),
        Err(V::ParamNotSigned("workflowid".into()))
    );
    // Everything in place but one value changed.
    let mut changed = QUERY.to_vec();
    changed[1] = ("size", "100");
    assert_eq!(check(CI1, &changed, &headers), Err(V::Mismatch));
    assert_eq!(
        check(CI1, QUERY, &[("host", "other.example")]),
        Err(V::Mismatch)
    );
    // The signature itself.
    assert_eq!(
        check(
            &CI1.replace("e1d933cc7922", "e1d933cc7923"),
            QUERY,
            &headers
        ),
        Err(V::Mismatch)
    );
}

#[test]
fn sign_time_window_is_checked_too() {
    // q-sign-time is not covered by the signature, but a value that says the
    // signature is not valid now is still refused.
    let auth = CI1.replace(
        "q-sign-time=1557989151;1557996351",
        "q-sign-time=1557989151;1557989999",
    );
    assert_eq!(
        check(&auth, QUERY, &[("host", HOST)]),
        Err(V::Expired {
            end: 1_557_989_999,
            now: NOW
        })
    );
}

#[test]
fn presign_pairs_match_the_authorization() {
    let headers = [("Host", HOST)];
    let req = request(QUERY, &headers);
    let kt = KeyTime::new(1_557_989_151, 1_557_996_351).unwrap();
    let signer = Signer::new(Credentials::new(ID, KEY), HeaderPolicy::OfficialDefault);
    let pre = signer.presign(&req, kt);
    let joined = pre
        .pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(joined, CI1);

    let with_token = Signer::new(
        Credentials::new(ID, KEY).with_session_token("tok"),
        HeaderPolicy::OfficialDefault,
    )
    .presign(&req, kt);
    assert_eq!(&with_token.pairs[..7], &pre.pairs[..]);
    assert_eq!(
        with_token.pairs[7],
        ("x-cos-security-token".to_owned(), "tok".to_owned())
    );
}

#[test]
fn credentials_and_signer_debug_never_show_secrets() {
    let creds =
        Credentials::new("AKIDvisible", "TOP-SECRET-KEY").with_session_token("SECRET-TOKEN");
    let signer = Signer::new(creds.clone(), HeaderPolicy::OfficialDefault);
    for text in [
        format!("{creds:?}"),
        format!("{creds:#?}"),
        format!("{signer:?}"),
        format!("{signer:#?}"),
    ] {
        assert!(text.contains("AKIDvisible"), "{text}");
        assert!(!text.contains("TOP-SECRET-KEY"), "{text}");
        assert!(!text.contains("SECRET-TOKEN"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}

#[test]
fn long_secret_keys_follow_hmac() {
    // Keys longer than one SHA1 block are hashed first (RFC 2104); check
    // against the stage functions, which share the code, and a value
    // computed independently with Python's hmac module.
    let key = "k".repeat(100);
    let kt = KeyTime::new(1, 2).unwrap();
    assert_eq!(
        cos_ci_sign::sign_key(&key, &kt),
        "98ffc26815d9c0e5997c459fc332c14c08720ebf"
    );
}

#[test]
fn presigned_urls_verify_through_split_presigned() {
    let headers = [("Host", HOST)];
    let req = request(QUERY, &headers);
    let kt = KeyTime::new(1_557_989_151, 1_557_996_351).unwrap();
    let signer = Signer::new(
        Credentials::new(ID, KEY).with_session_token("tok"),
        HeaderPolicy::OfficialDefault,
    );
    let pre = signer.presign(&req, kt);
    // The URL as the server receives it: the request's params, then the q-* ones.
    let mut url_query: Vec<(&str, &str)> = QUERY.to_vec();
    url_query.extend(pre.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (auth, signed) = cos_ci_sign::split_presigned(&url_query).unwrap();
    assert_eq!(auth, CI1);
    assert_eq!(signed, QUERY);
    assert!(verify(&auth, &request(&signed, &headers), lookup, NOW, &[]).is_ok());
    // Not a pre-signed URL.
    assert_eq!(cos_ci_sign::split_presigned(QUERY), None);
    // A duplicated field is left for the parser to refuse.
    let (dup, _) = cos_ci_sign::split_presigned(&[("q-ak", "a"), ("q-ak", "b")]).unwrap();
    assert_eq!(
        ParsedAuthorization::parse(&dup),
        Err(P::DuplicateField("q-ak".into()))
    );
}
