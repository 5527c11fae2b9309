//! Giving every worker thread a listener of its own on a route's address.
//!
//! One listener shared by the workers' event loops wakes them all for each new client, and the
//! first to call `accept` wins: a keep-alive load of 64 connections then landed mostly on one
//! thread, which set the p99. With `SO_REUSEPORT` each worker has its own socket on the same
//! address and the kernel spreads new connections over them by their address hash, so workers
//! get shares within a few connections of each other. The route's own listener (bound by the
//! caller, a test may have asked for port 0) is the first of the group; if the address cannot
//! be shared this way the workers fall back to clones of it.
//!
//! Every listener of the group has `TCP_NODELAY` set, which Linux copies to each connection it
//! accepts: a relay writes what it has read at once, and setting it on each client instead cost a
//! `setsockopt` per connection.

use std::io;
use std::net::TcpListener;

use rustix::net::sockopt;

use crate::socket::nodelay_socket;

/// The backlog of each sibling, as tokio's own `TcpListener::bind` uses.
const BACKLOG: i32 = 1024;

/// Listeners for `workers` threads on the address `listener` is bound to; the first is
/// `listener` itself.
pub fn per_worker(listener: TcpListener, workers: usize) -> io::Result<Vec<TcpListener>> {
    listener.set_nonblocking(true)?;
    sockopt::set_tcp_nodelay(&listener, true)?;
    let mut group = Vec::with_capacity(workers);
    for _ in 1..workers {
        let sibling = match reuseport_sibling(&listener) {
            Ok(sibling) => sibling,
            Err(error) => {
                tracing::debug!(%error, "SO_REUSEPORT is not available; the workers share one listener");
                let clone = listener.try_clone()?;
                clone.set_nonblocking(true)?;
                clone
            }
        };
        group.push(sibling);
    }
    group.insert(0, listener);
    Ok(group)
}

/// A new socket bound to the same address with `SO_REUSEPORT`, listening.
fn reuseport_sibling(listener: &TcpListener) -> io::Result<TcpListener> {
    let addr = listener.local_addr()?;
    sockopt::set_socket_reuseport(listener, true)?;
    let socket = nodelay_socket(&addr)?;
    sockopt::set_socket_reuseaddr(&socket, true)?;
    sockopt::set_socket_reuseport(&socket, true)?;
    if addr.is_ipv6() {
        sockopt::set_ipv6_v6only(&socket, sockopt::ipv6_v6only(listener)?)?;
    }
    rustix::net::bind(&socket, &addr)?;
    rustix::net::listen(&socket, BACKLOG)?;
    Ok(TcpListener::from(socket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_worker_gets_a_listener_on_the_same_address() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let group = per_worker(listener, 3).expect("group");
        assert_eq!(group.len(), 3);
        for member in &group {
            assert_eq!(member.local_addr().expect("addr"), addr);
        }
        // Connections spread over the group; together the members accept every one.
        let clients: Vec<_> = (0..30)
            .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
            .collect();
        let mut accepted = 0;
        for _ in 0..100 {
            for member in &group {
                while member.accept().is_ok() {
                    accepted += 1;
                }
            }
            if accepted == clients.len() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(accepted, clients.len());
    }

    #[test]
    fn accepted_connections_come_with_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let group = per_worker(listener, 2).expect("group");
        let mut seen = 0;
        for member in &group {
            for _ in 0..20 {
                let _client = std::net::TcpStream::connect(addr).expect("connect");
                std::thread::sleep(std::time::Duration::from_millis(5));
                for other in &group {
                    while let Ok((accepted, _)) = other.accept() {
                        assert!(accepted.nodelay().expect("nodelay"), "{member:?}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0);
    }
}
