//! A local port that refuses connections, reliably.
//!
//! Binding port 0 and dropping the listener leaves a port that another
//! test (an emulator binding port 0, say) may take before the port is used,
//! so a "nothing listens there" test can meet a server instead. A socket
//! that is bound but never listens keeps the port out of everyone's hands
//! while the kernel still refuses every connection to it (RST), which is
//! what `socket2` gives and `std` does not (its `bind` always listens).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

/// `http://127.0.0.1:<port>` where the port is held, bound and not
/// listening, for the rest of the process: connecting is refused.
pub fn closed_port_url() -> &'static str {
    static CLOSED: OnceLock<(Socket, String)> = OnceLock::new();
    let (_, url) = CLOSED.get_or_init(|| {
        let socket =
            Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("a TCP socket");
        socket
            .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("bind 127.0.0.1:0");
        let port = socket
            .local_addr()
            .ok()
            .and_then(|address| address.as_socket())
            .expect("the bound address")
            .port();
        (socket, format!("http://127.0.0.1:{port}"))
    });
    url
}
