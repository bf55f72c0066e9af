//! Arguments as data, for the writes on the token path: each is built once
//! (`sql_grants.rs`) and bound by either backend.

/// One argument of a write whose SQL and arguments are data (`sql.rs`
/// `bind_args`), so that both backends bind the same list, and SQLite's
/// group commit can run a write again.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    NullText,
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<&[u8]> for Arg {
    fn from(value: &[u8]) -> Self {
        Self::Blob(value.to_vec())
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        value.map_or(Self::NullText, Self::Text)
    }
}
