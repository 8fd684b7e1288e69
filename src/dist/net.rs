//! Connecting the worker processes: every process listens on its own
//! address, connects to every process before it and accepts every process
//! after it, as timely expects, but with a deadline, a handshake that checks
//! both ends agree on the cluster, and errors instead of retries forever.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Opens every connection of a `hydra dist` handshake.
const MAGIC: &[u8; 8] = b"HYDRADST";
/// Pause between attempts to connect or accept.
const POLL: Duration = Duration::from_millis(20);

/// The sockets to every other process of `addresses`, in process order,
/// `None` at `me`.
///
/// # Errors
///
/// An I/O error if this process cannot listen on its address, if another
/// process is not reachable or has not connected within `timeout`, or if
/// a peer's handshake shows it was started with another process count or
/// index.
pub(crate) fn connect(
    addresses: &[String],
    me: usize,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>> {
    let n = addresses.len();
    let deadline = Instant::now() + timeout;
    let listener = TcpListener::bind(addresses[me].as_str()).map_err(|e| {
        Error::io(format!("process {me}: cannot listen on {}", addresses[me]), None, e)
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io(format!("process {me}: cannot poll the listener"), None, e))?;
    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    for (peer, address) in addresses.iter().enumerate().take(me) {
        let stream = loop {
            match TcpStream::connect(address.as_str()) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => {
                    return Err(Error::io(
                        format!(
                            "process {me}: cannot connect to process {peer} at {address} within {}s",
                            timeout.as_secs()
                        ),
                        None,
                        e,
                    ));
                }
                Err(_) => sleep(POLL),
            }
        };
        let (stream, _) = handshake(stream, n, me, Some(peer), deadline).map_err(|e| {
            Error::io(
                format!("process {me}: handshake with process {peer} at {address} failed"),
                None,
                e,
            )
        })?;
        sockets[peer] = Some(stream);
    }
    let mut missing = n - 1 - me;
    while missing > 0 {
        match listener.accept() {
            Ok((stream, from)) => {
                let (stream, peer) = handshake(stream, n, me, None, deadline).map_err(|e| {
                    Error::io(format!("process {me}: handshake with {from} failed"), None, e)
                })?;
                if peer <= me || sockets[peer].is_some() {
                    return Err(Error::io(
                        format!(
                            "process {me}: {from} connected as process {peer} (twice, or out of order)"
                        ),
                        None,
                        io::Error::from(io::ErrorKind::InvalidData),
                    ));
                }
                sockets[peer] = Some(stream);
                missing -= 1;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let waiting: Vec<String> = (me + 1..n)
                        .filter(|&p| sockets[p].is_none())
                        .map(|p| format!("{p} ({})", addresses[p]))
                        .collect();
                    return Err(Error::io(
                        format!(
                            "process {me}: processes {} did not connect within {}s",
                            waiting.join(", "),
                            timeout.as_secs()
                        ),
                        None,
                        io::Error::from(io::ErrorKind::TimedOut),
                    ));
                }
                sleep(POLL);
            }
            Err(e) => {
                return Err(Error::io(format!("process {me}: cannot accept connections"), None, e));
            }
        }
    }
    for socket in sockets.iter().flatten() {
        socket
            .set_read_timeout(None)
            .and_then(|()| socket.set_nodelay(true))
            .map_err(|e| Error::io(format!("process {me}: cannot configure a socket"), None, e))?;
    }
    Ok(sockets)
}

/// Exchanges (magic, process count, index) both ways; checks the count
/// and, when known, the peer's index; returns the stream and the peer's index.
fn handshake(
    mut stream: TcpStream,
    n: usize,
    me: usize,
    expect: Option<usize>,
    deadline: Instant,
) -> io::Result<(TcpStream, usize)> {
    stream.set_nonblocking(false)?;
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    stream.set_read_timeout(Some(left))?;
    let mut hello = [0u8; 24];
    hello[..8].copy_from_slice(MAGIC);
    hello[8..16].copy_from_slice(&(n as u64).to_le_bytes());
    hello[16..].copy_from_slice(&(me as u64).to_le_bytes());
    stream.write_all(&hello)?;
    let mut reply = [0u8; 24];
    stream.read_exact(&mut reply)?;
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    if &reply[..8] != MAGIC {
        return Err(bad("the peer is not a `hydra dist` process".to_owned()));
    }
    let their_n = u64::from_le_bytes(reply[8..16].try_into().expect("8 bytes"));
    let their_index = u64::from_le_bytes(reply[16..].try_into().expect("8 bytes"));
    if their_n != n as u64 {
        return Err(bad(format!("the peer expects {their_n} processes, this one {n}")));
    }
    if their_index >= n as u64 || expect.is_some_and(|e| e as u64 != their_index) {
        return Err(bad(format!(
            "the peer says it is process {their_index}, expected {}",
            expect.map_or_else(|| format!("one of 0..{n}"), |e| e.to_string())
        )));
    }
    Ok((stream, their_index as usize))
}
