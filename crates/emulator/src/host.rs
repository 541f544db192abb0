//! The `Host` check: which names this emulator answers for.

use std::net::IpAddr;

use http::header::{AUTHORIZATION, HOST};
use http::{Request, StatusCode};

use cos_ci_proto::query::excerpt;

use crate::handler::RequestHandler;
use crate::response::CiError;

/// Two `Host` headers (or two `Authorization` headers) make a request mean
/// two things at once; RFC 9112 requires a 400 for the first, and "first
/// one wins" would let a proxy and this server disagree on the second.
pub(crate) fn reject_repeated_headers<B>(request: &Request<B>) -> Result<(), CiError> {
    let repeated = |name| request.headers().get_all(name).iter().nth(1).is_some();
    if repeated(HOST) {
        return Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidHost",
            "The request has more than one Host header.",
        ));
    }
    if repeated(AUTHORIZATION) {
        return Err(CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAuthorization",
            "The request has more than one Authorization header.",
        ));
    }
    Ok(())
}

/// `Host`, and the authority of an absolute-form target (which RFC 9112
/// says takes precedence over `Host`), must each be one this server
/// serves (see [`is_served_host`]).
pub(crate) fn check_host<B>(handler: &RequestHandler, request: &Request<B>) -> Result<(), CiError> {
    let invalid = |message: String| CiError::new(StatusCode::BAD_REQUEST, "InvalidHost", message);
    let not_served = |what: &str, host: &str| {
        invalid(format!(
            "{what} `{}` is not served here; use `{}` or `{}`.",
            excerpt(host, 100),
            handler.virtual_host,
            handler.local_addr
        ))
    };
    let host = match request.headers().get(HOST) {
        Some(value) => value
            .to_str()
            .map_err(|_| invalid("The Host header is not valid text.".to_owned()))?
            .to_ascii_lowercase(),
        None => return Err(invalid("The request has no Host header.".to_owned())),
    };
    if !is_served_host(handler, &host) {
        return Err(not_served("Host", &host));
    }
    if let Some(authority) = request.uri().authority() {
        let target_host = authority.as_str().to_ascii_lowercase();
        if !is_served_host(handler, &target_host) {
            return Err(not_served("The request target's host", &target_host));
        }
    }
    Ok(())
}

/// Exactly the hosts docs/emulator.md lists: the bucket's virtual host
/// (any port), or this listener's own address with its port: the listen
/// IP itself, `localhost`, or any IP literal when bound to an unspecified
/// address. (Another loopback address such as `127.0.0.2` is not ours.)
fn is_served_host(handler: &RequestHandler, host: &str) -> bool {
    let (name, port) = split_host_port(host);
    if name == handler.virtual_host {
        return true;
    }
    let our_port = handler.local_addr.port();
    let port_matches = match port {
        Some(port) => port == our_port,
        None => our_port == 80,
    };
    let listen = handler.local_addr.ip();
    let name_matches = name == "localhost"
        || name
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(name)
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip == listen || listen.is_unspecified());
    port_matches && name_matches
}

/// `name[:port]`, with `[v6]:port` handled.
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => (name, Some(port)),
        _ => (host, None),
    };
    match port {
        Some(port) => (name, port.parse().ok().or(Some(0))),
        None => (name, None),
    }
}
