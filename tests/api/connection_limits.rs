//! Connections cannot be held forever: a request's header must arrive within
//! the header-read timeout, the whole request within the request timeout,
//! and connections beyond the cap wait until one closes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// Guards against a hang, far above the timeouts the tests configure.
const HANG_GUARD: Duration = Duration::from_secs(60);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: castellan\r\n\r\n";

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect")
}

/// Reads until the server closes the connection; what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, stream.read_to_end(&mut received)).await;
    match read.expect("the server closes the connection") {
        Ok(_) => {}
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Sends a request for /healthz and reads its response (the connection stays open).
async fn healthz(stream: &mut TcpStream) -> String {
    stream.write_all(HEALTHZ).await.unwrap();
    read_response(stream).await
}

/// Reads one response, whose end its `Content-Length` tells.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !ends_a_response(&received) {
        let read = tokio::time::timeout(HANG_GUARD, stream.read(&mut buffer)).await.expect("a response");
        let count = read.expect("read");
        assert!(count > 0, "closed before a response: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..count]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

fn ends_a_response(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

/// A client that sends half a request header (slowloris), or nothing at
/// all, is disconnected after the header-read timeout; others are served.
async fn a_connection_that_sends_half_a_header_is_closed_after_the_header_read_timeout(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_HEADER_READ_TIMEOUT", "1")]).await;
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: castellan\r\nX-Slow: ").await.unwrap();
    let mut silent = connect(&app).await;
    let received = read_until_closed(&mut half).await;
    assert!(received.is_empty() || received.starts_with("HTTP/1.1 408"), "{received}");
    let received = read_until_closed(&mut silent).await;
    assert!(received.is_empty() || received.starts_with("HTTP/1.1 408"), "{received}");

    let mut whole = connect(&app).await;
    assert!(healthz(&mut whole).await.starts_with("HTTP/1.1 200"));
}

/// RFC 9110 §15.5.9: a request whose body does not arrive within the
/// request timeout is answered 408 and its connection closed.
async fn a_request_whose_body_never_arrives_gets_408_and_the_connection_closes(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_REQUEST_TIMEOUT", "1")]).await;
    let mut slow = connect(&app).await;
    slow.write_all(
        b"POST /oauth2/token HTTP/1.1\r\nHost: castellan\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\ngrant_type=",
    )
    .await
    .unwrap();
    let received = read_until_closed(&mut slow).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.to_ascii_lowercase().contains("connection: close"), "{received}");
}

/// With a cap of two connections, a third is not served while two are
/// open (the open ones still are); once one closes, the third is served,
/// and so are later ones.
async fn connections_beyond_the_cap_wait_until_one_closes(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("CASTELLAN_MAX_CONNECTIONS", "2"), ("CASTELLAN_HEADER_READ_TIMEOUT", "300")],
    )
    .await;
    let mut first = connect(&app).await;
    let mut second = connect(&app).await;
    assert!(healthz(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(healthz(&mut second).await.starts_with("HTTP/1.1 200"));

    let mut third = connect(&app).await;
    third.write_all(HEALTHZ).await.unwrap();
    // The open connections are served meanwhile; the third is not.
    for _ in 0..3 {
        assert!(healthz(&mut first).await.starts_with("HTTP/1.1 200"));
        assert!(healthz(&mut second).await.starts_with("HTTP/1.1 200"));
    }
    let mut nothing = [0u8; 64];
    match third.try_read(&mut nothing) {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the third connection was answered: {other:?}"),
    }

    drop(first);
    assert!(read_response(&mut third).await.starts_with("HTTP/1.1 200"));

    drop(second);
    let mut fourth = connect(&app).await;
    assert!(healthz(&mut fourth).await.starts_with("HTTP/1.1 200"));
}

both_backends!(
    a_connection_that_sends_half_a_header_is_closed_after_the_header_read_timeout,
    a_request_whose_body_never_arrives_gets_408_and_the_connection_closes,
    connections_beyond_the_cap_wait_until_one_closes,
);
