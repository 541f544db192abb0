//! Walks `tests/vectors/<case>/` and asserts every stage file present in
//! each case. See `tests/vectors/README.md` for the file format.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use cos_ci_sign::{
    Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer, VerifyError, canonicalize, encode,
    http_string, sign_key, sign_stages, signature, string_to_sign, verify,
};

/// Every file of one case, by name, exact bytes as text.
struct Case {
    name: String,
    files: BTreeMap<String, String>,
}

impl Case {
    fn get(&self, file: &str) -> Option<&str> {
        self.files.get(file).map(String::as_str)
    }
    fn need(&self, file: &str) -> &str {
        self.get(file)
            .unwrap_or_else(|| panic!("{}: missing file `{file}`", self.name))
    }
    /// `name: value` lines (one space after the first `:` is dropped).
    fn pairs(&self, file: &str) -> Vec<(&str, &str)> {
        self.get(file)
            .unwrap_or("")
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}: `{file}` line without `:`: {l:?}", self.name));
                (k, v.strip_prefix(' ').unwrap_or(v))
            })
            .collect()
    }
    fn policy(&self) -> HeaderPolicy {
        match self.get("policy").map(str::trim) {
            None | Some("default") => HeaderPolicy::OfficialDefault,
            Some("all") => HeaderPolicy::All,
            Some(other) => match other.strip_prefix("explicit:") {
                Some(list) => HeaderPolicy::Explicit(
                    list.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                ),
                None => panic!("{}: unknown policy {other:?}", self.name),
            },
        }
    }
}

fn cases() -> Vec<Case> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/vectors exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load(d)).collect()
}

fn load(dir: &Path) -> Case {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("case dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.insert(name, text);
        }
    }
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        files,
    }
}

/// Stage files the walker knows; anything else in a case folder is an error
/// (a typo would otherwise silently assert nothing).
const KNOWN: &[&str] = &[
    "method",
    "path",
    "params",
    "headers",
    "policy",
    "secret_id",
    "secret_key",
    "key_time",
    "sign_key",
    "url_param_list",
    "http_parameters",
    "header_list",
    "http_headers",
    "http_string",
    "http_string_sha1",
    "string_to_sign",
    "signature",
    "authorization",
    "encode_input",
    "encoded",
    "source",
];

#[test]
fn every_stage_of_every_vector() {
    let cases = cases();
    assert!(
        cases.len() >= 12,
        "expected at least 12 vector cases, found {}",
        cases.len()
    );
    let mut asserted = 0usize;
    for case in &cases {
        let name = &case.name;
        for file in case.files.keys() {
            assert!(
                KNOWN.contains(&file.as_str()),
                "{name}: unknown file `{file}`"
            );
        }
        let mut check = |stage: &str, got: &str| {
            if let Some(want) = case.get(stage) {
                assert_eq!(got, want, "{name}: stage `{stage}`");
                asserted += 1;
            }
        };

        // Encoder-only cases.
        if let Some(input) = case.get("encode_input") {
            let encoded = encode(input);
            check("encoded", &encoded);
            assert_eq!(
                cos_ci_sign::decode(&encoded).as_deref(),
                Ok(input),
                "{name}: decode"
            );
            continue;
        }

        // Canonicalisation: needs only params / headers.
        let params = case.pairs("params");
        let headers = case.pairs("headers");
        let policy = case.policy();
        let cparams = canonicalize(params.iter().copied());
        let cheaders = canonicalize(headers.iter().copied().filter(|(n, _)| policy.signs(n)));
        check("url_param_list", &cparams.list);
        check("http_parameters", &cparams.pairs);
        check("header_list", &cheaders.list);
        check("http_headers", &cheaders.pairs);

        let Some(secret_key) = case.get("secret_key") else {
            for stage in ["sign_key", "http_string", "signature", "authorization"] {
                assert!(
                    case.get(stage).is_none(),
                    "{name}: `{stage}` needs secret_key"
                );
            }
            continue;
        };
        let key_time: KeyTime = case.need("key_time").parse().expect("key_time");
        let method = case.need("method");
        let path = case.need("path");

        // Stage by stage, with the public stage functions.
        let key = sign_key(secret_key, &key_time);
        check("sign_key", &key);
        let http = http_string(method, path, &cparams, &cheaders);
        check("http_string", &http);
        let sts = string_to_sign(&key_time, &http);
        check("string_to_sign", &sts);
        check("signature", &signature(&key, &sts));

        // All at once, and through the fast path.
        let credentials = Credentials::new(case.need("secret_id"), secret_key);
        let request = SignableRequest {
            method,
            path,
            query: &params,
            headers: &headers,
        };
        let stages = sign_stages(&credentials, &request, key_time, &policy);
        assert_eq!(stages.key_time, key_time.to_string(), "{name}");
        check("key_time", &stages.key_time);
        check("sign_key", &stages.sign_key);
        check("url_param_list", &stages.params.list);
        check("http_parameters", &stages.params.pairs);
        check("header_list", &stages.headers.list);
        check("http_headers", &stages.headers.pairs);
        check("http_string", &stages.http_string);
        check("http_string_sha1", &stages.http_string_sha1);
        check("string_to_sign", &stages.string_to_sign);
        check("signature", &stages.signature);
        check("authorization", &stages.authorization);
        let fast = Signer::new(credentials, policy).authorization(&request, key_time);
        check("authorization", fast.as_str());
        assert_eq!(fast.as_str(), stages.authorization, "{name}: fast path");

        // The verifier accepts what was signed (when host is signed; it
        // insists on host).
        let verdict = verify(
            fast.as_str(),
            &request,
            |id| (id == case.need("secret_id")).then_some(secret_key),
            key_time.start(),
            &[],
        );
        if stages.headers.list.split(';').any(|h| h == "host") {
            let ok = verdict.unwrap_or_else(|e| panic!("{name}: verify: {e}"));
            assert_eq!(ok.key_time, key_time);
        } else {
            assert_eq!(
                verdict,
                Err(VerifyError::HeaderNotSigned("host".into())),
                "{name}"
            );
        }
    }
    // Not a tautology: make sure the walker really compared something.
    assert!(asserted >= 100, "only {asserted} stage assertions ran");
}
