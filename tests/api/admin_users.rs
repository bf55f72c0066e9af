//! Admin API for users. STUB.
