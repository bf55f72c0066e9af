//! A client's web site, as small as can be: a loopback listener on a port of
//! its own (so a web origin of its own) that answers every request with one
//! tiny HTML page. The browser lands there after authorization, and a test's
//! script runs in it as a single-page app would.

use tokio::net::{TcpListener, TcpStream};

/// What every path answers: a page for scripts to run in.
const PAGE: &str = "<!doctype html><html><head><title>Client app</title></head><body>app</body></html>";

/// Serves the page on a new loopback port; returns the site's origin
/// (`http://127.0.0.1:<port>`, as a browser serialises it).
pub async fn serve_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_page(stream));
        }
    });
    format!("http://{address}")
}

/// Reads one request's head and answers with the page, closing the connection.
async fn answer_page(stream: TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{PAGE}",
        PAGE.len()
    );
    let answer = answer.as_bytes();
    let mut written = 0;
    while written < answer.len() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_write(&answer[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}
