//! Client configuration: where to send requests and as whom.

use std::fmt;
use std::time::Duration;

use crate::credentials::CredentialProvider;

use crate::RetryPolicy;

/// A string newtype whose text is private, so that only its own `parse`
/// (written beside it) builds one and holding one means the text passed
/// those checks; declares the type, `as_str` and `Display`.
macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, as_str: $as_str_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = $as_str_doc]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

validated_name! {
    /// A bucket name with its APPID, `<name>-<appid>`, e.g.
    /// `examplebucket-1250000000`.
    Bucket, as_str: "The full `<name>-<appid>`."
}

validated_name! {
    /// A region such as `ap-beijing`.
    Region, as_str: "The region name."
}

impl Bucket {
    /// Validate `<name>-<appid>`: the name is 1–50 of `a-z 0-9 -`, neither
    /// starting nor ending with `-`; the APPID is 1–20 digits.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidBucket {
            bucket: excerpt(text),
            reason: reason.to_owned(),
        };
        let Some((name, appid)) = text.rsplit_once('-') else {
            return Err(invalid(
                "expected <name>-<appid>, e.g. examplebucket-1250000000",
            ));
        };
        if appid.is_empty() || appid.len() > 20 || !appid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "the part after the last '-' must be the numeric APPID",
            ));
        }
        if name.is_empty() || name.len() > 50 {
            return Err(invalid(
                "the name before the APPID must be 1 to 50 characters",
            ));
        }
        if !is_host_label(name) {
            return Err(invalid(
                "the name may contain only lower-case letters, digits and '-'",
            ));
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(invalid("the name must not start or end with '-'"));
        }
        Ok(Self(text.to_owned()))
    }
}

impl Region {
    /// Validate: 1–40 of `a-z 0-9 -`, at least one `-`, starting with a
    /// letter and not ending with `-` (`ap-beijing`, `na-siliconvalley`).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidRegion {
            region: excerpt(text),
            reason: reason.to_owned(),
        };
        if text.is_empty() || text.len() > 40 {
            return Err(invalid("must be 1 to 40 characters, e.g. ap-beijing"));
        }
        if !is_host_label(text) {
            return Err(invalid(
                "may contain only lower-case letters, digits and '-', e.g. ap-beijing",
            ));
        }
        if !text.starts_with(|c: char| c.is_ascii_lowercase())
            || text.ends_with('-')
            || !text.contains('-')
            || text.contains("--")
        {
            return Err(invalid(
                "expected a region such as ap-beijing or ap-guangzhou",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

/// Where requests go: a scheme (`http` or `https`) and an authority, e.g.
/// the default `https://<bucket>.ci.<region>.myqcloud.com`, an emulator's
/// `http://127.0.0.1:8080`, or a private domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
}

impl Endpoint {
    /// The service's own endpoint for a bucket and region.
    pub fn for_bucket(bucket: &Bucket, region: &Region) -> Self {
        let host = format!("{bucket}.ci.{region}.myqcloud.com");
        Self {
            scheme: http::uri::Scheme::HTTPS,
            // A validated bucket and region contain only characters that are
            // legal in a host name, so this cannot fail; fall back to a
            // clearly invalid authority rather than panic if that ever changes.
            authority: host
                .parse()
                .unwrap_or_else(|_| http::uri::Authority::from_static("invalid.invalid")),
        }
    }

    /// Parse a base URL: `http://` or `https://`, a host and optional port,
    /// and nothing else (a trailing `/` is allowed).
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidEndpoint {
            endpoint: excerpt(url),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|_| invalid("not a URL; expected e.g. http://127.0.0.1:8080"))?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| invalid("missing scheme; expected http:// or https://"))?;
        if scheme != http::uri::Scheme::HTTP && scheme != http::uri::Scheme::HTTPS {
            return Err(invalid("scheme must be http or https"));
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("missing host"))?;
        if authority.host().is_empty() {
            return Err(invalid("missing host"));
        }
        if authority.as_str().contains('@') {
            return Err(invalid("user information in the URL is not supported"));
        }
        // `http` keeps a port it cannot read as a u16 (`:65536`) and callers
        // then fall back to the scheme's default: the request would go to
        // port 80 or 443 instead of failing.
        let after_host = authority
            .as_str()
            .get(authority.host().len()..)
            .unwrap_or_default();
        if let Some(port) = after_host.strip_prefix(':')
            && !(port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok_and(|number| number != 0))
        {
            return Err(invalid("the port must be a number from 1 to 65535"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(invalid("must be a base URL without a path or query"));
        }
        Ok(Self { scheme, authority })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &http::uri::Scheme {
        &self.scheme
    }

    /// Host and optional port, also the signed `Host` header.
    pub fn authority(&self) -> &http::uri::Authority {
        &self.authority
    }

    /// Whether TLS is used.
    pub fn is_https(&self) -> bool {
        self.scheme == http::uri::Scheme::HTTPS
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// Everything a [`crate::Client`] needs. Build with [`Config::new`], then
/// adjust with the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Config {
    bucket: Bucket,
    region: Region,
    endpoint: Endpoint,
    credentials: CredentialProvider,
    signature_lifetime: Duration,
    user_agent: String,
    retry: RetryPolicy,
}

impl Config {
    /// Default signature lifetime: long enough for slow networks, short
    /// enough that a leaked signature is soon useless.
    pub const DEFAULT_SIGNATURE_LIFETIME: Duration = Duration::from_secs(15 * 60);

    /// A config for `bucket` (`<name>-<appid>`) in `region`, using the
    /// service's own endpoint, signing with `credentials`: fixed
    /// [`cos_ci_sign::Credentials`], or any [`CredentialProvider`] (e.g.
    /// from [`crate::credentials::CredentialChain::resolve`]), whose
    /// temporary credentials the client fetches and refreshes.
    pub fn new(
        bucket: &str,
        region: &str,
        credentials: impl Into<CredentialProvider>,
    ) -> Result<Self, ConfigError> {
        let bucket = Bucket::parse(bucket)?;
        let region = Region::parse(region)?;
        let credentials = credentials.into();
        if let Some(fixed) = credentials.fixed_credentials() {
            let fixed = fixed.credentials();
            if fixed.secret_id().is_empty() {
                return Err(ConfigError::MissingCredentials("the secret id is empty"));
            }
            if fixed.expose_secret_key().is_empty() {
                return Err(ConfigError::MissingCredentials("the secret key is empty"));
            }
            if fixed.expose_session_token() == Some("") {
                return Err(ConfigError::MissingCredentials(
                    "the session token is empty (leave it unset for long-term keys)",
                ));
            }
            CredentialPart::SecretId.check(fixed.secret_id())?;
            CredentialPart::SecretKey.check(fixed.expose_secret_key())?;
            if let Some(token) = fixed.expose_session_token() {
                CredentialPart::SessionToken.check(token)?;
            }
        }
        Ok(Self {
            endpoint: Endpoint::for_bucket(&bucket, &region),
            bucket,
            region,
            credentials,
            signature_lifetime: Self::DEFAULT_SIGNATURE_LIFETIME,
            user_agent: crate::USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
        })
    }

    /// Send requests to `url` instead (an emulator, a private domain).
    pub fn with_endpoint(mut self, url: &str) -> Result<Self, ConfigError> {
        self.endpoint = Endpoint::parse(url)?;
        Ok(self)
    }

    /// How long each signature stays valid (at least 1 s, at most 7 days).
    pub fn with_signature_lifetime(mut self, lifetime: Duration) -> Result<Self, ConfigError> {
        if lifetime < Duration::from_secs(1) || lifetime > Duration::from_secs(7 * 24 * 3600) {
            return Err(ConfigError::InvalidSignatureLifetime(lifetime));
        }
        self.signature_lifetime = lifetime;
        Ok(self)
    }

    /// Replace the `User-Agent` (e.g. to append your application's name).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Result<Self, ConfigError> {
        let user_agent = user_agent.into();
        if http::HeaderValue::from_str(&user_agent).is_err() {
            return Err(ConfigError::InvalidUserAgent);
        }
        self.user_agent = user_agent;
        Ok(self)
    }

    /// Replace the retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Give up on a call (every attempt and wait included) once `deadline`
    /// has passed since its first attempt: 1 ms to 24 h. The default is
    /// [`RetryPolicy::DEFAULT_TOTAL_DEADLINE`]; a transport must not let
    /// one attempt run past it (see [`crate::Operation::deadline`]), and
    /// [`RetryPolicy::deadline_for`] gives the deadline that lets every
    /// attempt use a whole per-attempt timeout.
    pub fn with_deadline(mut self, deadline: Duration) -> Result<Self, ConfigError> {
        if deadline < Duration::from_millis(1) || deadline > MAX_DEADLINE {
            return Err(ConfigError::InvalidDeadline(deadline));
        }
        self.retry.total_deadline = deadline;
        Ok(self)
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }
    /// The region.
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    /// Where the credentials come from (`Debug` is redacted).
    pub fn credentials(&self) -> &CredentialProvider {
        &self.credentials
    }
    /// The signature lifetime.
    pub fn signature_lifetime(&self) -> Duration {
        self.signature_lifetime
    }
    /// The `User-Agent`.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }
    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}

/// Longest deadline [`Config::with_deadline`] accepts.
pub(crate) const MAX_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// One part of the credentials, for errors that must say which part is wrong
/// without showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialPart {
    /// The SecretId (sent in every `Authorization`).
    SecretId,
    /// The SecretKey (never sent).
    SecretKey,
    /// The session token of temporary credentials (sent as a header).
    SessionToken,
}

impl CredentialPart {
    /// Check the characters of this part: printable ASCII (space allowed
    /// inside, not at either end). A CR or LF, which a credentials file with
    /// Windows line endings leaves behind, or any other control or
    /// non-ASCII character could not be sent in a header or would sign
    /// with the wrong key. The error says where, never what the value is.
    pub fn check(self, value: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidCredentials { part: self, reason };
        if let Some((index, c)) = value.char_indices().find(|(_, c)| !(' '..='~').contains(c)) {
            let (what, hint) = match c {
                '\r' => (
                    "a carriage return (CR)".to_owned(),
                    " (was it read from a file with Windows line endings?)",
                ),
                '\n' => (
                    "a line feed (LF)".to_owned(),
                    " (was a trailing newline kept?)",
                ),
                '\t' => ("a tab".to_owned(), ""),
                c if c.is_control() => {
                    (format!("a control character (U+{:04X})", u32::from(c)), "")
                }
                _ => ("a non-ASCII character".to_owned(), ""),
            };
            return Err(invalid(format!(
                "contains {what} at byte {index}; credentials must be printable ASCII{hint}"
            )));
        }
        if value.starts_with(' ') || value.ends_with(' ') {
            return Err(invalid(
                "starts or ends with a space; credentials never do".to_owned(),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for CredentialPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialPart::SecretId => "secret id",
            CredentialPart::SecretKey => "secret key",
            CredentialPart::SessionToken => "session token",
        })
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Bad bucket.
    #[error("invalid bucket `{bucket}`: {reason}")]
    InvalidBucket {
        /// The value given (shortened).
        bucket: String,
        /// The rule.
        reason: String,
    },
    /// Bad region.
    #[error("invalid region `{region}`: {reason}")]
    InvalidRegion {
        /// The value given (shortened).
        region: String,
        /// The rule.
        reason: String,
    },
    /// Bad endpoint.
    #[error("invalid endpoint `{endpoint}`: {reason}")]
    InvalidEndpoint {
        /// The value given (shortened).
        endpoint: String,
        /// The rule.
        reason: String,
    },
    /// Credentials missing or empty.
    #[error("missing credentials: {0}")]
    MissingCredentials(&'static str),
    /// A credential part with characters that cannot work (the value itself
    /// is never included).
    #[error("invalid {part}: {reason}")]
    InvalidCredentials {
        /// Which part.
        part: CredentialPart,
        /// What is wrong and where.
        reason: String,
    },
    /// Deadline out of range.
    #[error("the deadline must be between 1 ms and 24 h, got {0:?}")]
    InvalidDeadline(Duration),
    /// Signature lifetime out of range.
    #[error("signature lifetime must be between 1 s and 7 days, got {0:?}")]
    InvalidSignatureLifetime(Duration),
    /// User agent not a valid header value.
    #[error("user agent must be visible ASCII")]
    InvalidUserAgent,
}

/// Only `a-z 0-9 -`: what a bucket name and a region may contain, both
/// being labels of the endpoint's host name.
fn is_host_label(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The first 80 characters of user input, for error messages.
fn excerpt(text: &str) -> String {
    cos_ci_proto::query::excerpt(text, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name's `parse`: the texts it takes (shown back as they are)
    /// and the texts it refuses.
    #[test]
    fn buckets_and_regions() {
        type Parse = fn(&str) -> Result<String, ConfigError>;
        let cases: [(Parse, &[&str], &[&str]); 2] = [
            (
                |text| Bucket::parse(text).map(|bucket| bucket.to_string()),
                &["examplebucket-1250000000", "my-bucket-1250000000"],
                &[
                    "",
                    "examplebucket",
                    "Example-125",
                    "bucket-12a",
                    "-b-1",
                    "b--1",
                    "b_x-1",
                ],
            ),
            (
                |text| Region::parse(text).map(|region| region.to_string()),
                &["ap-beijing", "na-siliconvalley"],
                &[
                    "",
                    "beijing",
                    "AP-beijing",
                    "ap-",
                    "ap--x",
                    "ap beijing",
                    "1p-x",
                ],
            ),
        ];
        for (parse, good, bad) in cases {
            for text in good {
                assert_eq!(parse(text).ok().as_deref(), Some(*text));
            }
            for text in bad {
                assert!(parse(text).is_err(), "{text}");
            }
        }
    }

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(e.to_string(), "http://127.0.0.1:8080");
        assert!(Endpoint::parse("http://127.0.0.1:8080/").is_ok());
        for port in ["1", "80", "65535"] {
            let url = format!("http://[::1]:{port}");
            let e = Endpoint::parse(&url).unwrap();
            assert_eq!(
                e.authority().port_u16().map(|p| p.to_string()).as_deref(),
                Some(port)
            );
        }
        for bad in [
            "",
            "127.0.0.1:80",
            "ftp://x",
            "http://",
            "http://h/p",
            "http://h/?q",
            "http://u@h",
            "http://127.0.0.1:65536",
            "http://127.0.0.1:99999999999",
            "http://127.0.0.1:0",
            "http://127.0.0.1:",
            "https://h:-1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
