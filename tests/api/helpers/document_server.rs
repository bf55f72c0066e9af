//! A small HTTPS server the tests control, serving documents that
//! Castellan fetches (`jwks_uri`, client ID metadata documents). Its
//! certificate (tests/api/fixtures/tls) is for `localhost`, `docs.test`,
//! `evil.test`, `clients.test` and 127.0.0.1, signed by a test CA that the
//! server is told to trust with `CASTELLAN_EXTRA_CA_CERTS`. Answers are
//! written by hand so that a test can make them slow, large or a redirect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The path of the CA certificate, for `CASTELLAN_EXTRA_CA_CERTS`.
pub fn test_ca_path() -> String {
    format!("{}/tests/api/fixtures/tls/ca.pem", env!("CARGO_MANIFEST_DIR"))
}

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Waited before the body is written.
    pub delay: Duration,
    /// Leave out `Content-Length` (the body ends when the connection closes).
    pub without_length: bool,
}

impl Canned {
    pub fn json(value: &serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
            delay: Duration::ZERO,
            without_length: false,
        }
    }

    pub fn redirect(to: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("location".into(), to.into())],
            body: Vec::new(),
            delay: Duration::ZERO,
            without_length: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Clone)]
pub struct DocumentServer {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Canned>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    connections: Arc<AtomicUsize>,
}

impl DocumentServer {
    pub async fn start() -> Self {
        let dir = format!("{}/tests/api/fixtures/tls", env!("CARGO_MANIFEST_DIR"));
        let certs = CertificateDer::pem_file_iter(format!("{dir}/server.pem"))
            .expect("the test certificate")
            .collect::<Result<Vec<_>, _>>()
            .expect("the test certificate parses");
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).expect("the test key");
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a TLS server configuration");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
        let port = listener.local_addr().expect("local address").port();
        let server = Self { port, routes: Arc::default(), hits: Arc::default(), connections: Arc::default() };
        let handler = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                handler.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        handler.answer(stream).await;
                    }
                });
            }
        });
        server
    }

    /// `https://{host}:{port}{path}`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    pub fn serve(&self, path: &str, canned: Canned) {
        self.routes.lock().unwrap().insert(path.to_owned(), canned);
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// How many connections were accepted at all.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(&self, mut stream: S) {
        let mut request = Vec::new();
        let mut buffer = [0u8; 2048];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let text = String::from_utf8_lossy(&request);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
        *self.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
        let canned = self.routes.lock().unwrap().get(&path).cloned();
        let canned = canned.unwrap_or(Canned {
            status: 404,
            headers: Vec::new(),
            body: b"not found".to_vec(),
            delay: Duration::ZERO,
            without_length: false,
        });
        let mut head = format!("HTTP/1.1 {} Canned\r\nconnection: close\r\n", canned.status);
        if !canned.without_length {
            head.push_str(&format!("content-length: {}\r\n", canned.body.len()));
        }
        for (name, value) in &canned.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        tokio::time::sleep(canned.delay).await;
        let _ = stream.write_all(&canned.body).await;
        let _ = stream.shutdown().await;
    }
}
