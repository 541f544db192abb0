//! Building the signature from a request description.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use crate::encode::{HEX_LOWER, encode_bytes_into, encode_path, encode_query};
use crate::key_time::KEY_TIME_MAX_LEN;
use crate::{Canonical, Credentials, KeyTime, canonicalize};

/// What is signed: the parts of an HTTP request, all decoded.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, any case (`GET`); lower-cased in the http string.
    pub method: &'a str,
    /// The percent-DECODED path, e.g. `/exampleobject(腾讯云)`. Used as is
    /// (an empty path signs as `/`).
    pub path: &'a str,
    /// Query pairs with raw (decoded) keys and values. A key without a value
    /// is `("acl", "")`.
    pub query: &'a [(&'a str, &'a str)],
    /// Request headers (name, value) as they will be sent. Must include
    /// `host` for the default policy to sign it.
    pub headers: &'a [(&'a str, &'a str)],
}

/// Which headers are signed. `host` is always signed when present; every
/// query parameter is always signed (COS strict signature mode requires it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeaderPolicy {
    /// The official SDKs' set: `host`, `cache-control`, `content-disposition`,
    /// `content-encoding`, `content-length`, `content-md5`, `content-type`,
    /// `expect`, `expires`, `if-match`, `if-modified-since`, `if-none-match`,
    /// `if-unmodified-since`, `origin`, `range`, `transfer-encoding`,
    /// `pic-operations`, `access-control-request-method`,
    /// `access-control-request-headers`, and every `x-cos-*` and `x-ci-*`.
    #[default]
    OfficialDefault,
    /// Exactly these header names (case-insensitive), plus `host`.
    Explicit(Vec<String>),
    /// Every header given in the request (used by `cos-ci sign` and by the
    /// verifier, which signs exactly the names in `q-header-list`).
    All,
}

/// The fixed part of [`HeaderPolicy::OfficialDefault`] (besides `host`,
/// `x-cos-*` and `x-ci-*`), lower-case.
pub const OFFICIAL_SIGNED_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-length",
    "content-md5",
    "content-type",
    "expect",
    "expires",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "origin",
    "range",
    "transfer-encoding",
    "pic-operations",
    "access-control-request-method",
    "access-control-request-headers",
];

impl HeaderPolicy {
    /// Whether a header called `name` (any case) is signed under this policy.
    ///
    /// ```
    /// use cos_ci_sign::HeaderPolicy;
    /// assert!(HeaderPolicy::OfficialDefault.signs("Host"));
    /// assert!(HeaderPolicy::OfficialDefault.signs("X-CI-Security-Token"));
    /// assert!(!HeaderPolicy::OfficialDefault.signs("date"));
    /// assert!(HeaderPolicy::Explicit(vec!["Date".into()]).signs("DATE"));
    /// assert!(HeaderPolicy::Explicit(vec![]).signs("host"));
    /// ```
    pub fn signs(&self, name: &str) -> bool {
        if name.eq_ignore_ascii_case("host") {
            return true;
        }
        match self {
            Self::All => true,
            Self::Explicit(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
            Self::OfficialDefault => {
                let b = name.as_bytes();
                let prefixed =
                    |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
                prefixed(b"x-cos-")
                    || prefixed(b"x-ci-")
                    || OFFICIAL_SIGNED_HEADERS
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(name))
            }
        }
    }
}

/// Every intermediate value of one signature, for debugging and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages {
    /// `start;end`
    pub key_time: String,
    /// HMAC-SHA1(secret key, key time), lower-case hex.
    pub sign_key: String,
    /// `q-url-param-list` and HttpParameters.
    pub params: crate::Canonical,
    /// `q-header-list` and HttpHeaders.
    pub headers: crate::Canonical,
    /// `method\npath\nparams\nheaders\n`
    pub http_string: String,
    /// SHA1(http string), lower-case hex.
    pub http_string_sha1: String,
    /// `sha1\nkeytime\nsha1(httpstring)\n`
    pub string_to_sign: String,
    /// HMAC-SHA1(sign key as hex text, string to sign), lower-case hex.
    pub signature: String,
    /// The full `Authorization` value.
    pub authorization: String,
}

/// The `Authorization` header value. Not secret (it is sent in clear) but
/// kept as its own type so it is never confused with other strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization(pub String);

impl Authorization {
    /// The value to put in the `Authorization` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Query pairs (raw, not yet encoded) to append for a pre-signed URL: the
/// seven `q-*` fields and, with temporary credentials,
/// `x-cos-security-token`.
///
/// [`PresignedQuery::to_query_string`] encodes them ready to append;
/// [`Signer::presigned_url`] builds the whole URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedQuery {
    /// `(name, value)` in the order they should be appended.
    pub pairs: Vec<(String, String)>,
}

impl PresignedQuery {
    /// The pairs encoded with the signature's encoder and joined with `&`,
    /// without a leading `?` or `&`: append it after the request's own
    /// (identically encoded) query.
    ///
    /// It holds the session token of temporary credentials: treat it, and
    /// any URL made from it, as a secret until it expires.
    pub fn to_query_string(&self) -> String {
        encode_query(&self.pairs)
    }
}

/// Why [`Signer::presigned_url`] could not build a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresignError {
    /// The scheme is neither `http` nor `https`.
    #[error("the scheme must be http or https")]
    UnsupportedScheme,
    /// The request has no `host` header, so the URL has no host (and the
    /// signature would not bind one).
    #[error("the request has no host header to build the URL from")]
    MissingHost,
    /// The `host` header holds something other than a host and optional
    /// port (`A-Z a-z 0-9 . - _`, `:` and IPv6 brackets).
    #[error("the host header is not a host name with an optional port")]
    InvalidHost,
    /// The path is neither empty nor starts with `/`, so no URL path
    /// decodes back to it and the signature could never verify.
    #[error("the path must start with `/`")]
    RelativePath,
}

/// HMAC-SHA1 keyed with `key`, built without a fallible constructor: keys
/// up to one block are zero-padded, longer keys are hashed first (RFC 2104,
/// exactly what `Hmac::new_from_slice` does).
fn hmac_sha1(key: &[u8]) -> Hmac<Sha1> {
    let mut block = [0u8; 64];
    if key.len() <= block.len() {
        block[..key.len()].copy_from_slice(key);
    } else {
        block[..20].copy_from_slice(&Sha1::digest(key));
    }
    <Hmac<Sha1> as KeyInit>::new(&block.into())
}

/// 20 bytes as 40 lower-case hex digits, on the stack.
fn hex40(bytes: &[u8]) -> [u8; 40] {
    let mut out = [0u8; 40];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_LOWER[usize::from(b >> 4)];
        pair[1] = HEX_LOWER[usize::from(b & 0x0f)];
    }
    out
}

/// Hex digits are ASCII, so this never fails; kept panic-free anyway.
fn hex_string(bytes: &[u8]) -> String {
    String::from_utf8(hex40(bytes).to_vec()).unwrap_or_default()
}

/// The method lower-cased (ASCII only), as the http string needs it.
fn lower_method(method: &str) -> String {
    method.to_ascii_lowercase()
}

/// The path as signed: as given, or `/` when empty.
fn signed_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// HMAC-SHA1(secret key, key time) as lower-case hex.
///
/// ```
/// let kt = "1557989151;1557996351".parse().unwrap();
/// assert_eq!(
///     cos_ci_sign::sign_key("BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", &kt),
///     "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"
/// );
/// ```
pub fn sign_key(secret_key: &str, key_time: &KeyTime) -> String {
    let mut mac = hmac_sha1(secret_key.as_bytes());
    mac.update(key_time.to_string().as_bytes());
    hex_string(&mac.finalize().into_bytes())
}

/// `lower(method)\npath\nparams.pairs\nheaders.pairs\n`.
///
/// `method` is ASCII lower-cased; `path` is used exactly as given (the
/// percent-DECODED path), except that an empty path is signed as `/`.
pub fn http_string(method: &str, path: &str, params: &Canonical, headers: &Canonical) -> String {
    let path = signed_path(path);
    let mut s = String::with_capacity(
        method.len() + path.len() + params.pairs.len() + headers.pairs.len() + 4,
    );
    s.push_str(&lower_method(method));
    s.push('\n');
    s.push_str(path);
    s.push('\n');
    s.push_str(&params.pairs);
    s.push('\n');
    s.push_str(&headers.pairs);
    s.push('\n');
    s
}

/// SHA1 of the http string, lower-case hex.
fn sha1_hex(data: &str) -> String {
    hex_string(&Sha1::digest(data.as_bytes()))
}

/// `sha1\n<key time>\n<sha1(http string) hex>\n`.
pub fn string_to_sign(key_time: &KeyTime, http_string: &str) -> String {
    format!("sha1\n{key_time}\n{}\n", sha1_hex(http_string))
}

/// HMAC-SHA1 keyed with the sign key's hex TEXT over the string to sign.
pub fn signature(sign_key_hex: &str, string_to_sign: &str) -> String {
    let mut mac = hmac_sha1(sign_key_hex.as_bytes());
    mac.update(string_to_sign.as_bytes());
    hex_string(&mac.finalize().into_bytes())
}

/// The `Authorization` value from its parts (the seven fields, in the
/// official order).
fn format_authorization(
    secret_id: &str,
    key_time: &KeyTime,
    header_list: &str,
    url_param_list: &str,
    signature: &str,
) -> String {
    format!(
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}\
         &q-header-list={header_list}&q-url-param-list={url_param_list}&q-signature={signature}"
    )
}

/// The headers of `request` that `policy` signs.
fn signed_headers<'r>(
    request: &SignableRequest<'r>,
    policy: &HeaderPolicy,
) -> impl Iterator<Item = (&'r str, &'r str)> {
    request
        .headers
        .iter()
        .copied()
        .filter(move |(name, _)| policy.signs(name))
}

/// Compute every stage for `request`.
///
/// This is the plain, stage-by-stage implementation; [`Signer::authorization`]
/// is an optimised one that must (and is tested to) produce the same bytes.
pub fn sign_stages(
    credentials: &Credentials,
    request: &SignableRequest<'_>,
    key_time: KeyTime,
    policy: &HeaderPolicy,
) -> Stages {
    let sign_key = sign_key(credentials.expose_secret_key(), &key_time);
    let params = canonicalize(request.query.iter().copied());
    let headers = canonicalize(signed_headers(request, policy));
    let http_string = http_string(request.method, request.path, &params, &headers);
    let http_string_sha1 = sha1_hex(&http_string);
    let string_to_sign = string_to_sign(&key_time, &http_string);
    let signature = signature(&sign_key, &string_to_sign);
    let authorization = format_authorization(
        credentials.secret_id(),
        &key_time,
        &headers.list,
        &params.list,
        &signature,
    );
    Stages {
        key_time: key_time.to_string(),
        sign_key,
        params,
        headers,
        http_string,
        http_string_sha1,
        string_to_sign,
        signature,
        authorization,
    }
}

/// Signs requests with one set of credentials and one header policy.
/// Cheap to clone; caches nothing that depends on time.
///
/// The only thing it precomputes is the HMAC state keyed with the secret
/// key (the inner and outer pads), which saves two SHA1 blocks per
/// signature.
#[derive(Clone)]
pub struct Signer {
    credentials: Credentials,
    policy: HeaderPolicy,
    /// HMAC-SHA1 keyed with the secret key, not yet fed any data.
    key_mac: Hmac<Sha1>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// One canonical entry in the scratch buffer: key is `buf[start..key_end]`,
/// value is `buf[key_end..end]`.
#[derive(Clone, Copy, Default)]
struct Entry {
    start: usize,
    key_end: usize,
    end: usize,
}

/// Entries kept on the stack up to this many per list.
const STACK_ENTRIES: usize = 16;

/// Encode `pairs` into `buf` (keys lower-cased) and sort the entries.
fn encode_entries<'a>(
    buf: &mut Vec<u8>,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    entries: &mut [Entry],
) -> usize {
    let mut n = 0;
    for ((k, v), slot) in pairs.zip(entries.iter_mut()) {
        let start = buf.len();
        encode_bytes_into(buf, k.as_bytes());
        let key_end = buf.len();
        if let Some(key) = buf.get_mut(start..key_end) {
            key.make_ascii_lowercase();
        }
        encode_bytes_into(buf, v.as_bytes());
        *slot = Entry {
            start,
            key_end,
            end: buf.len(),
        };
        n += 1;
    }
    let buf: &[u8] = buf;
    let key = |e: &Entry| buf.get(e.start..e.key_end).unwrap_or_default();
    let value = |e: &Entry| buf.get(e.key_end..e.end).unwrap_or_default();
    if let Some(used) = entries.get_mut(..n) {
        used.sort_unstable_by(|a, b| key(a).cmp(key(b)).then_with(|| value(a).cmp(value(b))));
    }
    n
}

/// Append `k1=v1&k2=v2…` for `entries` to the end of `buf`.
fn push_pairs(buf: &mut Vec<u8>, entries: &[Entry]) {
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            buf.push(b'&');
        }
        buf.extend_from_within(e.start..e.key_end);
        buf.push(b'=');
        buf.extend_from_within(e.key_end..e.end);
    }
}

/// Append `k1;k2;…` for `entries` to `out`.
fn push_list(out: &mut Vec<u8>, buf: &[u8], entries: &[Entry]) {
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(buf.get(e.start..e.key_end).unwrap_or_default());
    }
}

/// Either a stack array or, for long lists, a heap one.
fn with_entries<R>(n: usize, f: impl FnOnce(&mut [Entry]) -> R) -> R {
    if n <= STACK_ENTRIES {
        let mut stack = [Entry::default(); STACK_ENTRIES];
        f(&mut stack[..n])
    } else {
        f(&mut vec![Entry::default(); n])
    }
}

impl Signer {
    /// A signer with the given credentials and policy.
    pub fn new(credentials: Credentials, policy: HeaderPolicy) -> Self {
        let key_mac = hmac_sha1(credentials.expose_secret_key().as_bytes());
        Self {
            credentials,
            policy,
            key_mac,
        }
    }
    /// The credentials this signer uses.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// The header policy this signer uses.
    pub fn policy(&self) -> &HeaderPolicy {
        &self.policy
    }
    /// The `Authorization` value for `request` in the window `key_time`
    /// (the fast path: same bytes as `sign_stages(..).authorization`).
    pub fn authorization(&self, request: &SignableRequest<'_>, key_time: KeyTime) -> Authorization {
        // Room for everything: the fixed text, the id, two key times, the
        // signature and the two lists (at most three bytes per name byte).
        let names: usize = request
            .query
            .iter()
            .chain(request.headers)
            .map(|(k, _)| k.len() + 1)
            .sum();
        let mut out = Vec::with_capacity(
            192usize
                .saturating_add(self.credentials.secret_id().len())
                .saturating_add(names.saturating_mul(3)),
        );
        out.extend_from_slice(b"q-sign-algorithm=sha1&q-ak=");
        out.extend_from_slice(self.credentials.secret_id().as_bytes());
        let mut kt = [0u8; KEY_TIME_MAX_LEN];
        let kt_len = key_time.write_to(&mut kt);
        let kt = kt.get(..kt_len).unwrap_or_default();
        out.extend_from_slice(b"&q-sign-time=");
        out.extend_from_slice(kt);
        out.extend_from_slice(b"&q-key-time=");
        out.extend_from_slice(kt);
        let signature = self.sign_into(request, kt, &mut out);
        out.extend_from_slice(b"&q-signature=");
        out.extend_from_slice(&signature);
        Authorization(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// The core of the fast path: appends
    /// `&q-header-list=…&q-url-param-list=…` to `out` and returns the
    /// signature as lower-case hex.
    fn sign_into(&self, request: &SignableRequest<'_>, kt: &[u8], out: &mut Vec<u8>) -> [u8; 40] {
        // Sign key: HMAC(secret key, key time), from the pre-keyed state.
        let mut mac = self.key_mac.clone();
        mac.update(kt);
        let sign_key = hex40(&mac.finalize().into_bytes());

        // One scratch buffer: encoded params, encoded headers, then the
        // http string itself at the end.
        let mut buf = Vec::with_capacity(1024);
        let n_params = request.query.len();
        let n_headers = request.headers.len();
        let http_sha1 = with_entries(n_params, |params| {
            let np = encode_entries(&mut buf, request.query.iter().copied(), params);
            let params = params.get(..np).unwrap_or_default();
            with_entries(n_headers, |headers| {
                let nh = encode_entries(&mut buf, signed_headers(request, &self.policy), headers);
                let headers = headers.get(..nh).unwrap_or_default();

                out.extend_from_slice(b"&q-header-list=");
                push_list(out, &buf, headers);
                out.extend_from_slice(b"&q-url-param-list=");
                push_list(out, &buf, params);

                let hs_start = buf.len();
                for chunk in request.method.as_bytes().chunks(32) {
                    let mut lower = [0u8; 32];
                    let lower = lower.get_mut(..chunk.len()).unwrap_or_default();
                    lower.copy_from_slice(chunk);
                    lower.make_ascii_lowercase();
                    buf.extend_from_slice(lower);
                }
                buf.push(b'\n');
                buf.extend_from_slice(signed_path(request.path).as_bytes());
                buf.push(b'\n');
                push_pairs(&mut buf, params);
                buf.push(b'\n');
                push_pairs(&mut buf, headers);
                buf.push(b'\n');
                hex40(&Sha1::digest(buf.get(hs_start..).unwrap_or_default()))
            })
        });

        // String to sign, on the stack: "sha1\n" kt "\n" sha1hex "\n".
        let mut sts = [0u8; 5 + KEY_TIME_MAX_LEN + 1 + 40 + 1];
        let mut n = 0;
        for part in [b"sha1\n".as_slice(), kt, b"\n", &http_sha1, b"\n"] {
            if let Some(dst) = sts.get_mut(n..n + part.len()) {
                dst.copy_from_slice(part);
            }
            n += part.len();
        }
        let mut mac = hmac_sha1(&sign_key);
        mac.update(sts.get(..n).unwrap_or_default());
        hex40(&mac.finalize().into_bytes())
    }

    /// Query pairs that make `request` a pre-signed URL.
    ///
    /// The pairs are raw: [`PresignedQuery::to_query_string`] encodes them,
    /// or use [`Signer::presigned_url`] for the whole URL. With temporary
    /// credentials the token follows as `x-cos-security-token`; it is not
    /// itself signed.
    pub fn presign(&self, request: &SignableRequest<'_>, key_time: KeyTime) -> PresignedQuery {
        let mut kt = [0u8; KEY_TIME_MAX_LEN];
        let kt_len = key_time.write_to(&mut kt);
        let kt = kt.get(..kt_len).unwrap_or_default();
        let mut lists = Vec::with_capacity(128);
        let signature = self.sign_into(request, kt, &mut lists);
        // `lists` is `&q-header-list=H&q-url-param-list=P`; H and P are
        // encoded, so neither contains `&`.
        let lists = String::from_utf8_lossy(&lists);
        let (header_list, url_param_list) = lists
            .strip_prefix("&q-header-list=")
            .and_then(|rest| rest.split_once("&q-url-param-list="))
            .unwrap_or_default();
        let key_time = key_time.to_string();
        let mut pairs = vec![
            ("q-sign-algorithm".to_owned(), "sha1".to_owned()),
            ("q-ak".to_owned(), self.credentials.secret_id().to_owned()),
            ("q-sign-time".to_owned(), key_time.clone()),
            ("q-key-time".to_owned(), key_time),
            ("q-header-list".to_owned(), header_list.to_owned()),
            ("q-url-param-list".to_owned(), url_param_list.to_owned()),
            (
                "q-signature".to_owned(),
                String::from_utf8_lossy(&signature).into_owned(),
            ),
        ];
        if let Some(token) = self.credentials.expose_session_token() {
            pairs.push(("x-cos-security-token".to_owned(), token.to_owned()));
        }
        PresignedQuery { pairs }
    }

    /// The whole pre-signed URL for `request`:
    /// `scheme://host/encoded/path?request-query&q-sign-algorithm=sha1&…`.
    ///
    /// The host is the request's `host` header (which is signed), the path
    /// is encoded segment by segment and the query with the signature's own
    /// encoder, so the server decodes exactly what was signed
    /// ([`verify_presigned_url`](crate::verify_presigned_url) checks such a
    /// URL). Whoever uses the URL must send any other header the policy
    /// signed, with the same value. With temporary credentials the URL
    /// carries the session token: keep it secret until it expires.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer};
    ///
    /// let signer = Signer::new(Credentials::new("AKIDexample", "secret"), HeaderPolicy::OfficialDefault);
    /// let request = SignableRequest {
    ///     method: "GET",
    ///     path: "/workflowexecution",
    ///     query: &[("workflowId", "w1")],
    ///     headers: &[("host", "examplebucket-1250000000.ci.ap-beijing.myqcloud.com")],
    /// };
    /// let signed_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let key_time = KeyTime::starting_at_time(signed_at, Duration::from_secs(600));
    /// let url = signer.presigned_url("https", &request, key_time)?;
    /// assert!(url.starts_with(
    ///     "https://examplebucket-1250000000.ci.ap-beijing.myqcloud.com/workflowexecution?workflowId=w1&q-sign-algorithm=sha1&q-ak=AKIDexample&"
    /// ));
    /// # Ok::<(), cos_ci_sign::PresignError>(())
    /// ```
    pub fn presigned_url(
        &self,
        scheme: &str,
        request: &SignableRequest<'_>,
        key_time: KeyTime,
    ) -> Result<String, PresignError> {
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            "https"
        } else if scheme.eq_ignore_ascii_case("http") {
            "http"
        } else {
            return Err(PresignError::UnsupportedScheme);
        };
        let host = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|&(_, value)| value)
            .ok_or(PresignError::MissingHost)?;
        let host_byte_ok = |b: u8| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        };
        if host.is_empty() || !host.bytes().all(host_byte_ok) {
            return Err(PresignError::InvalidHost);
        }
        if !(request.path.is_empty() || request.path.starts_with('/')) {
            return Err(PresignError::RelativePath);
        }
        let presigned = self.presign(request, key_time).to_query_string();
        let mut url = format!("{scheme}://{host}{}?", encode_path(request.path));
        if !request.query.is_empty() {
            url.push_str(&encode_query(request.query));
            url.push('&');
        }
        url.push_str(&presigned);
        Ok(url)
    }
}
