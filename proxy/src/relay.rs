//! The data path: copy bytes both ways until both sides are done or the pair goes idle.
//!
//! Each direction runs its own small loop so that a half-close is passed on: when one side stops
//! sending, the other side's write half is shut down (a FIN), and the reverse direction keeps
//! flowing. A shared "last activity" clock drives the idle timeout, so a long one-way download
//! is not mistaken for an idle pair.
//!
//! A copy buffer is held only while data is flowing and is handed back as soon as the socket has
//! nothing more to read; an idle connection costs no heap beyond its task. Handed-back buffers go
//! to a small pool per worker thread rather than to the allocator: a request/response exchange
//! touches a buffer per direction per message, and allocating (and zeroing) 64 KiB each time
//! showed up in profiles as the largest user-space cost per request. (Measured against
//! `splice(2)`; see the crate README for the figures and why this path was kept.)
//!
//! A read that returns less than the buffer holds has drained the socket, so the relay goes back
//! to waiting for readiness at once instead of asking again only to hear `WouldBlock`: one
//! `recv` per message instead of two, which is most of what a small request costs a proxy.
//!
//! When the sender's FIN had already come with its last bytes (a server that closes after a short
//! answer), those bytes are held back with `MSG_MORE` until the FIN is passed on, so that both
//! leave in one segment, which the receiver acknowledges once.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use rustix::net::SendFlags;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Bytes per read. 64 KiB measured as fast as splice(2) on loopback (16 KiB was 30% slower), and
/// the buffer exists only while data flows, so idle pairs do not pay for the size.
pub const COPY_BUFFER_BYTES: usize = 64 * 1024;

/// Buffers kept for reuse, per worker thread. A worker has at most a handful of bursts in
/// progress at once, so a few cover the steady state while capping what an idle worker keeps at
/// 256 KiB.
const POOLED_BUFFERS: usize = 4;

thread_local! {
    // Per thread, so that taking and giving back a buffer is never contended: a connection
    // lives on one worker thread from accept to close.
    static BUFFER_POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A copy buffer on loan from the pool; it goes back when dropped, also when the relay is
/// cancelled (idle timeout, drain) in the middle of a write.
struct PooledBuffer(Box<[u8]>);

impl PooledBuffer {
    fn take() -> Self {
        let reused = BUFFER_POOL.with_borrow_mut(Vec::pop);
        Self(reused.unwrap_or_else(|| vec![0u8; COPY_BUFFER_BYTES].into_boxed_slice()))
    }

    fn bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        // An empty box in its place costs no allocation.
        let buffer = std::mem::take(&mut self.0);
        // `try_with`: a thread that is going away has no pool left, and the buffer is freed.
        let _ = BUFFER_POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOLED_BUFFERS {
                pool.push(buffer);
            }
        });
    }
}

/// How a relay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both sides closed their sending half.
    Finished,
    /// Nothing moved in either direction for the idle timeout.
    IdleTimeout,
}

/// Byte counters for the two directions of one route.
#[derive(Clone, Debug)]
pub struct ByteCounters {
    /// Client to target.
    pub upstream: Counter,
    /// Target to client.
    pub downstream: Counter,
}

/// The clock both directions touch, in milliseconds since the relay began, and whether one
/// direction has ended already.
struct ActivityClock {
    started: Instant,
    last_millis: AtomicU64,
    one_direction_ended: AtomicBool,
}

impl ActivityClock {
    fn touch(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    fn idle_deadline(&self, idle: Duration) -> Instant {
        self.started + Duration::from_millis(self.last_millis.load(Ordering::Relaxed)) + idle
    }
}

/// Copies between `client` and `backend` until both directions end, one fails, or nothing has
/// moved for `idle_timeout`.
pub async fn relay(
    client: &mut TcpStream,
    backend: &mut TcpStream,
    idle_timeout: Duration,
    counters: &ByteCounters,
) -> io::Result<RelayEnd> {
    let clock = ActivityClock {
        started: Instant::now(),
        last_millis: AtomicU64::new(0),
        one_direction_ended: AtomicBool::new(false),
    };
    let (client_read, mut client_write) = client.split();
    let (backend_read, mut backend_write) = backend.split();
    let upstream = copy_one_way(&client_read, &mut backend_write, &clock, &counters.upstream);
    let downstream = copy_one_way(
        &backend_read,
        &mut client_write,
        &clock,
        &counters.downstream,
    );
    tokio::select! {
        result = async { tokio::try_join!(upstream, downstream) } => result.map(|_| RelayEnd::Finished),
        () = wait_until_idle(&clock, idle_timeout) => Ok(RelayEnd::IdleTimeout),
    }
}

async fn copy_one_way(
    reader: &ReadHalf<'_>,
    writer: &mut WriteHalf<'_>,
    clock: &ActivityClock,
    bytes: &Counter,
) -> io::Result<()> {
    let mut buffer: Option<PooledBuffer> = None;
    loop {
        // The readiness says whether the sender's FIN had come when epoll last reported it.
        let fin_seen = reader.ready(Interest::READABLE).await?.is_read_closed();
        let chunk = buffer.get_or_insert_with(PooledBuffer::take).bytes();
        let outcome = match read_some(reader, chunk)? {
            ReadOutcome::Data {
                read,
                drained: true,
            } if fin_seen => last_data(reader, chunk, read)?,
            outcome => outcome,
        };
        match outcome {
            ReadOutcome::Closed => return pass_fin_on(writer, clock).await,
            ReadOutcome::LastData(read) => {
                clock.touch();
                write_before_fin(writer, &chunk[..read]).await?;
                bytes.inc_by(read as u64);
                return pass_fin_on(writer, clock).await;
            }
            ReadOutcome::Data { read, drained } => {
                clock.touch();
                writer.write_all(&chunk[..read]).await?;
                bytes.inc_by(read as u64);
                clock.touch();
                if drained {
                    // Nothing more to read for now: give the buffer back so an idle pair holds none.
                    buffer = None;
                }
            }
            ReadOutcome::Drained => buffer = None,
        }
    }
}

/// The sender closed its half: pass the FIN on and let the other direction finish. When the
/// other direction has ended already, the relay ends now and both sockets are closed, which
/// sends the same FIN without a `shutdown` call: the receive queue of the socket closed is empty
/// (its EOF was read), so the close cannot turn into a reset.
async fn pass_fin_on(writer: &mut WriteHalf<'_>, clock: &ActivityClock) -> io::Result<()> {
    if !clock.one_direction_ended.swap(true, Ordering::AcqRel) {
        writer.shutdown().await?;
    }
    Ok(())
}

/// After a short read from a sender whose FIN had already come: one more read says whether
/// those were its last bytes (then EOF) or more came after all.
fn last_data(reader: &ReadHalf<'_>, chunk: &mut [u8], read: usize) -> io::Result<ReadOutcome> {
    match reader.try_read(&mut chunk[read..]) {
        Ok(0) => Ok(ReadOutcome::LastData(read)),
        Ok(more) => Ok(ReadOutcome::Data {
            read: read + more,
            drained: false,
        }),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::Data {
            read,
            drained: true,
        }),
        Err(error) => Err(error),
    }
}

/// Writes a sender's last bytes so that the FIN which follows at once (a `shutdown` or the close)
/// goes out in the same segment: `MSG_MORE` holds them back until then. A short answer, its FIN
/// and their ACK are then two segments fewer per connection, as HAProxy sends them. Whatever the
/// first `send` leaves is written as usual.
async fn write_before_fin(writer: &mut WriteHalf<'_>, data: &[u8]) -> io::Result<()> {
    let stream: &TcpStream = writer.as_ref();
    let flags = SendFlags::MORE | SendFlags::NOSIGNAL;
    let sent = match stream.try_io(Interest::WRITABLE, || {
        rustix::net::send(stream, data, flags).map_err(io::Error::from)
    }) {
        Ok(sent) => sent,
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
        Err(error) => return Err(error),
    };
    writer.write_all(&data[sent..]).await
}

/// What one read found.
enum ReadOutcome {
    /// `read` bytes; `drained` when they were all the socket had.
    Data { read: usize, drained: bool },
    /// Nothing to read after all (the readiness was stale).
    Drained,
    /// The peer closed its sending half.
    Closed,
    /// `read` bytes, and then the peer's FIN.
    LastData(usize),
}

/// Reads once. A short read means the socket's receive queue is empty, so the readiness is
/// cleared there and then: the next wait is for new data, without a `recv` that would only
/// report `WouldBlock`. (tokio clears readiness only when no newer event has arrived, and keeps
/// the closed states, so neither new data nor a FIN that came with this data can be missed.)
fn read_some(reader: &ReadHalf<'_>, chunk: &mut [u8]) -> io::Result<ReadOutcome> {
    let mut short_read = 0;
    let outcome = reader.as_ref().try_io(Interest::READABLE, || {
        let read = reader.try_read(chunk)?;
        if read > 0 && read < chunk.len() {
            short_read = read;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(read)
    });
    match outcome {
        Ok(0) => Ok(ReadOutcome::Closed),
        Ok(read) => Ok(ReadOutcome::Data {
            read,
            drained: false,
        }),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock && short_read > 0 => {
            Ok(ReadOutcome::Data {
                read: short_read,
                drained: true,
            })
        }
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::Drained),
        Err(error) => Err(error),
    }
}

async fn wait_until_idle(clock: &ActivityClock, idle_timeout: Duration) {
    loop {
        let deadline = clock.idle_deadline(idle_timeout);
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}
