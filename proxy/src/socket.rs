//! One way to open the proxy's TCP sockets: non-blocking, close-on-exec, `TCP_NODELAY` set.
//!
//! A relay writes what it has just read, so Nagle's algorithm would only hold small messages
//! back; set before `listen` or `connect`, the option costs no system call per connection
//! (Linux copies it from a listener to each connection it accepts).

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use rustix::net::{sockopt, AddressFamily, SocketFlags, SocketType};

/// A new TCP socket of `addr`'s family, ready for an event loop.
pub(crate) fn nodelay_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let socket = rustix::net::socket_with(family, SocketType::STREAM, flags, None)?;
    sockopt::set_tcp_nodelay(&socket, true)?;
    Ok(socket)
}
