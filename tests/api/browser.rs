//! End-to-end in a real headless browser. STUB.
