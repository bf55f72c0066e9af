//! The accept loop: HTTP/1.1 connections served by hyper, each with the
//! client's address for the handlers, within three limits that keep a slow
//! or idle client from holding the server: a deadline for each request's
//! header (also the keep-alive idle time), a deadline for the whole request
//! (`request_deadline`), and a cap on open connections, of which one client
//! address may hold only a share (`peer_connections`). On shutdown the
//! listener closes, idle connections close, and requests in flight finish.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::peer_connections::PeerConnections;

/// How long a client may take over what it sends.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Open connections at most; at the cap, new ones wait in the listen
    /// backlog until one closes.
    pub max_connections: usize,
    /// From the connection's start (or the end of its previous request) to
    /// the end of a request's header.
    pub header_read_timeout: Duration,
    /// From a request's header to its response, body included.
    pub request_timeout: Duration,
}

/// After an accept error that is not about one connection (out of file
/// descriptors, say), the listener rests instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` completes; then waits for the
/// open connections to finish their requests in flight.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: &ServerLimits,
    peers: Arc<PeerConnections>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    // Dropping the sender tells every connection to finish.
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // A free place first: at the cap the listener is not even polled, so
        // connections beyond it wait in the kernel's backlog and cost no file
        // descriptor, and the ones open proceed undisturbed.
        let place = tokio::select! {
            () = &mut shutdown => break,
            place = connections.clone().acquire_owned() => place,
        };
        let Ok(place) = place else { break };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Past its share of the places, an address's new connection
                // is closed at once.
                let Some(peer_place) = peers.enter(peer.ip()) else { continue };
                let connection = serve_connection(http.clone(), app.clone(), stream, peer, stopping.clone());
                tokio::spawn(async move {
                    connection.await;
                    // The place is given back once the connection has closed.
                    drop(peer_place);
                    drop(place);
                });
            }
            Err(error) if is_about_one_connection(&error) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot accept connections; pausing");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    drop(stop);
    // Every connection holds a place until it has closed.
    let _all = connections.acquire_many(limits.max_connections as u32).await;
    Ok(())
}

async fn serve_connection(
    http: http1::Builder,
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    mut stopping: watch::Receiver<()>,
) {
    // Handlers read the peer address (sign-in throttling) as axum's `ConnectInfo`.
    let service = app.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return log_end(result),
        _ = stopping.changed() => connection.as_mut().graceful_shutdown(),
    }
    log_end(connection.await);
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // Timeouts and clients that went away are routine.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Errors of one connection, gone before it was accepted; others (no file
/// descriptors, no memory) are about the listener.
fn is_about_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}
