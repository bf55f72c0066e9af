//! Test helpers for users. STUB.
