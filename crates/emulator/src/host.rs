//! The `Host` check: which names this emulator answers for.

use std::net::IpAddr;

use http::header::HOST;
use http::{Request, StatusCode};

use cos_ci_proto::query::excerpt;

use crate::handler::RequestHandler;
use crate::response::CiError;

/// `Host` must be the bucket's virtual host (any port) or this listener's
/// address (`127.0.0.1:PORT`, `localhost:PORT`, or any IP literal with our
/// port when bound to an unspecified address).
pub(crate) fn check_host<B>(handler: &RequestHandler, request: &Request<B>) -> Result<(), CiError> {
    let invalid = |message: String| CiError::new(StatusCode::BAD_REQUEST, "InvalidHost", message);
    let host = match request.headers().get(HOST) {
        Some(value) => value
            .to_str()
            .map_err(|_| invalid("The Host header is not valid text.".to_owned()))?
            .to_ascii_lowercase(),
        None => return Err(invalid("The request has no Host header.".to_owned())),
    };
    let (name, port) = split_host_port(&host);
    if name == handler.virtual_host {
        return Ok(());
    }
    let our_port = handler.local_addr.port();
    let port_matches = match port {
        Some(port) => port == our_port,
        None => our_port == 80,
    };
    let name_matches = name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| {
                let listen = handler.local_addr.ip();
                ip == listen
                    || listen.is_unspecified()
                    || (ip.is_loopback() && listen.is_loopback())
            });
    if port_matches && name_matches {
        return Ok(());
    }
    Err(invalid(format!(
        "Host `{}` is not served here; use `{}` or `{}`.",
        excerpt(&host, 100),
        handler.virtual_host,
        handler.local_addr
    )))
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
