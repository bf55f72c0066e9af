//! The security events the servers of this test process log: a subscriber
//! for the `castellan::security` target only, writing JSON lines to memory.
//! Tests run side by side in one process, so a test picks its own events
//! out by something only it has (a client id, a user id, an address).

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn buffer() -> &'static Buffer {
    static BUFFER: OnceLock<Buffer> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new("castellan::security=info"))
            .with_writer(buffer.clone())
            .try_init();
        buffer
    })
}

/// Starts capturing (every test server calls it before it serves).
pub fn capture_security_events() {
    buffer();
}

/// Everything captured so far, as text (to check no secret is in it).
pub fn security_log() -> String {
    String::from_utf8_lossy(&buffer().0.lock().unwrap()).into_owned()
}

/// The captured events of `kind` whose fields include `field` = `value`.
pub fn security_events(kind: &str, field: &str, value: &str) -> Vec<Value> {
    security_log()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["event"] == kind && event[field] == value)
        .collect()
}
