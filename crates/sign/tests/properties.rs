//! Property tests: encoding, canonical order, fast path = stages,
//! sign-then-verify, and tampering of every signed part.

use cos_ci_sign::{
    Credentials, HeaderPolicy, KeyTime, ParsedAuthorization, Signer, VerifyError, canonicalize,
    decode, encode, sign_stages, verify,
};
use proptest::prelude::*;

mod common;
use common::Req;

const SECRET_ID: &str = "AKIDprop";
const SECRET_KEY: &str = "prop-secret-key";

fn lookup(id: &str) -> Option<&'static str> {
    (id == SECRET_ID).then_some(SECRET_KEY)
}

/// Keys: non-empty, any printable text including the awkward characters.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.~-]{1,12}",
        "[A-Za-z0-9 %+/=&;:,?#~]{1,12}",
        "\\PC{1,8}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.~-]{0,16}",
        "[ -~]{0,16}",
        "\\PC{0,8}",
        any::<String>()
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((key(), value()), 0..8)
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_owned()),
        Just("put".to_owned()),
        Just("Post".to_owned()),
        Just("DELETE".to_owned()),
        Just("HEAD".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("/workflowexecution".to_owned()),
        "/\\PC{0,20}",
        "[a-z/]{0,10}",
    ]
}

/// A request the default policy signs: host, some `x-cos-*`/`x-ci-*`
/// headers, and possibly unsigned ones.
fn req() -> impl Strategy<Value = Req> {
    let signed_header = (
        prop_oneof![
            "x-cos-[a-z-]{1,8}",
            "X-CI-[A-Za-z]{1,8}",
            Just("Content-Type".to_owned()),
            Just("range".to_owned()),
        ],
        value(),
    );
    let unsigned_header = (
        prop_oneof![
            Just("User-Agent".to_owned()),
            Just("date".to_owned()),
            "y-[a-z]{1,6}"
        ],
        value(),
    );
    (
        method(),
        path(),
        pairs(),
        "[a-z0-9.-]{1,30}(:[0-9]{1,5})?",
        prop::collection::vec(signed_header, 0..4),
        prop::collection::vec(unsigned_header, 0..3),
    )
        .prop_map(|(method, path, query, host, signed, unsigned)| {
            let mut headers = vec![("Host".to_owned(), host)];
            headers.extend(signed);
            headers.extend(unsigned);
            Req {
                method,
                path,
                query,
                headers,
            }
        })
}

fn key_time() -> impl Strategy<Value = KeyTime> {
    (0u64..4_000_000_000, 0u64..100_000).prop_map(|(s, l)| KeyTime::starting_at(s, l))
}

fn sign(req: &Req, kt: KeyTime) -> String {
    let (mut q, mut h) = (Vec::new(), Vec::new());
    let request = req.view(&mut q, &mut h);
    Signer::new(
        Credentials::new(SECRET_ID, SECRET_KEY),
        HeaderPolicy::OfficialDefault,
    )
    .authorization(&request, kt)
    .0
}

fn check(req: &Req, auth: &str, now: u64) -> Result<(), VerifyError> {
    let (mut q, mut h) = (Vec::new(), Vec::new());
    let request = req.view(&mut q, &mut h);
    verify(auth, &request, lookup, now, &[]).map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_round_trips(s in any::<String>()) {
        prop_assert_eq!(decode(&encode(&s)), Ok(s));
    }

    #[test]
    fn encode_leaves_only_unreserved_literal(s in any::<String>()) {
        let e = encode(&s);
        let b = e.as_bytes();
        let mut i = 0;
        let mut expected_len = 0;
        for &c in s.as_bytes() {
            expected_len += if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) { 1 } else { 3 };
        }
        prop_assert_eq!(b.len(), expected_len);
        while i < b.len() {
            if b[i] == b'%' {
                prop_assert!(i + 2 < b.len());
                prop_assert!(b[i + 1].is_ascii_digit() || (b'A'..=b'F').contains(&b[i + 1]));
                prop_assert!(b[i + 2].is_ascii_digit() || (b'A'..=b'F').contains(&b[i + 2]));
                i += 3;
            } else {
                prop_assert!(b[i].is_ascii_alphanumeric() || b"-_.~".contains(&b[i]), "literal {:?}", b[i] as char);
                i += 1;
            }
        }
    }

    #[test]
    fn canonical_form_ignores_input_order(
        (original, shuffled) in pairs().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle()))
    ) {
        let a = canonicalize(original.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let b = canonicalize(shuffled.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn fast_path_equals_stages(
        req in req(),
        kt in key_time(),
        policy in prop_oneof![
            Just(HeaderPolicy::OfficialDefault),
            Just(HeaderPolicy::All),
            Just(HeaderPolicy::Explicit(vec!["DATE".into(), "user-agent".into()])),
        ],
        extra in prop::collection::vec((key(), value()), 0..20),
    ) {
        // `extra` pushes the lists past the signer's stack capacity sometimes.
        let mut req = req;
        req.query.extend(extra.iter().cloned());
        req.headers.extend(extra.into_iter().map(|(k, v)| (format!("x-cos-{k}"), v)));
        let (mut q, mut h) = (Vec::new(), Vec::new());
        let request = req.view(&mut q, &mut h);
        let creds = Credentials::new(SECRET_ID, SECRET_KEY);
        let stages = sign_stages(&creds, &request, kt, &policy);
        let fast = Signer::new(creds, policy).authorization(&request, kt);
        prop_assert_eq!(fast.as_str(), stages.authorization.as_str());
        prop_assert!(ParsedAuthorization::parse(fast.as_str()).is_ok());
    }

    #[test]
    fn sign_then_verify_accepts(req in req(), kt in key_time(), at in 0.0f64..=1.0) {
        let auth = sign(&req, kt);
        let now = kt.start() + ((kt.end() - kt.start()) as f64 * at) as u64;
        prop_assert_eq!(check(&req, &auth, now), Ok(()));
        prop_assert_eq!(check(&req, &auth, kt.start()), Ok(()));
        prop_assert_eq!(check(&req, &auth, kt.end()), Ok(()));
        // Unsigned headers may change freely.
        let mut other = req.clone();
        other.headers.push(("User-Agent".into(), "changed".into()));
        prop_assert_eq!(check(&other, &auth, now), Ok(()));
    }

    #[test]
    fn changing_the_method_rejects(req in req(), kt in key_time(), m in method()) {
        prop_assume!(!m.eq_ignore_ascii_case(&req.method));
        let auth = sign(&req, kt);
        let mut other = req.clone();
        other.method = m;
        prop_assert_eq!(check(&other, &auth, kt.start()), Err(VerifyError::Mismatch));
    }

    #[test]
    fn changing_the_path_rejects(req in req(), kt in key_time(), suffix in "\\PC{1,4}") {
        let auth = sign(&req, kt);
        let mut other = req.clone();
        // "" and "/" sign the same; make sure the change is real.
        other.path = if req.path.is_empty() { format!("/{suffix}") } else { format!("{}{suffix}", req.path) };
        prop_assert_eq!(check(&other, &auth, kt.start()), Err(VerifyError::Mismatch));
    }

    #[test]
    fn changing_a_param_rejects(req in req(), kt in key_time(), pick in any::<prop::sample::Index>(), add in "\\PC{1,4}") {
        prop_assume!(!req.query.is_empty());
        let auth = sign(&req, kt);
        let i = pick.index(req.query.len());
        // A changed value.
        let mut other = req.clone();
        other.query[i].1.push_str(&add);
        prop_assert_eq!(check(&other, &auth, kt.start()), Err(VerifyError::Mismatch));
        // A removed param.
        let mut other = req.clone();
        let removed = other.query.remove(i);
        let still_there = other.query.iter().any(|(k, _)| k.eq_ignore_ascii_case(&removed.0));
        let got = check(&other, &auth, kt.start());
        if still_there {
            prop_assert_eq!(got, Err(VerifyError::Mismatch));
        } else {
            prop_assert!(matches!(got, Err(VerifyError::ParamNotSigned(_))), "{:?}", got);
        }
        // An added param with a new key.
        let mut other = req.clone();
        other.query.push(("zz-unsigned-new".into(), add));
        prop_assume!(!req.query.iter().any(|(k, _)| k.eq_ignore_ascii_case("zz-unsigned-new")));
        prop_assert_eq!(
            check(&other, &auth, kt.start()),
            Err(VerifyError::ParamNotSigned("zz-unsigned-new".into()))
        );
    }

    #[test]
    fn changing_a_signed_header_rejects(req in req(), kt in key_time(), pick in any::<prop::sample::Index>(), add in "\\PC{1,4}") {
        let auth = sign(&req, kt);
        let signed: Vec<usize> = (0..req.headers.len())
            .filter(|&i| HeaderPolicy::OfficialDefault.signs(&req.headers[i].0))
            .collect();
        let i = signed[pick.index(signed.len())];
        let mut other = req.clone();
        other.headers[i].1.push_str(&add);
        prop_assert_eq!(check(&other, &auth, kt.start()), Err(VerifyError::Mismatch));
        // Dropping a signed header entirely.
        let mut other = req.clone();
        let name = other.headers.remove(i).0.to_ascii_lowercase();
        let still_there = other.headers.iter().any(|(n, _)| n.to_ascii_lowercase() == name);
        let got = check(&other, &auth, kt.start());
        if still_there {
            prop_assert_eq!(got, Err(VerifyError::Mismatch));
        } else {
            prop_assert_eq!(got, Err(VerifyError::SignedHeaderMissing(name)));
        }
    }

    #[test]
    fn the_wrong_key_rejects(req in req(), kt in key_time(), wrong in "[A-Za-z0-9]{1,40}") {
        prop_assume!(wrong != SECRET_KEY);
        let auth = sign(&req, kt);
        let (mut q, mut h) = (Vec::new(), Vec::new());
        let request = req.view(&mut q, &mut h);
        prop_assert_eq!(
            verify(&auth, &request, |_| Some(wrong.as_str()), kt.start(), &[]),
            Err(VerifyError::Mismatch)
        );
        prop_assert_eq!(
            verify(&auth, &request, |_| None, kt.start(), &[]),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn the_time_window_is_enforced(req in req(), kt in key_time(), delta in 1u64..1_000_000, shift in 1u64..1000) {
        prop_assume!(kt.start() >= delta);
        let auth = sign(&req, kt);
        prop_assert_eq!(
            check(&req, &auth, kt.end() + delta),
            Err(VerifyError::Expired { end: kt.end(), now: kt.end() + delta })
        );
        prop_assert_eq!(
            check(&req, &auth, kt.start() - delta),
            Err(VerifyError::NotYetValid { start: kt.start(), now: kt.start() - delta })
        );
        // Stretching the window in the value (both fields) breaks the signature.
        let longer = KeyTime::new(kt.start(), kt.end() + shift).unwrap();
        let forged = auth.replace(&kt.to_string(), &longer.to_string());
        prop_assert_eq!(check(&req, &forged, kt.start()), Err(VerifyError::Mismatch));
    }

    #[test]
    fn verify_never_panics(
        auth in prop_oneof![any::<String>(), "(q-[a-z-]{2,16}=[ -~]{0,20}&){0,8}"],
        req in req(),
        now in any::<u64>(),
        required in prop::collection::vec("\\PC{0,6}", 0..3),
    ) {
        let (mut q, mut h) = (Vec::new(), Vec::new());
        let request = req.view(&mut q, &mut h);
        let required: Vec<&str> = required.iter().map(String::as_str).collect();
        let _ = verify(&auth, &request, lookup, now, &required);
    }
}
