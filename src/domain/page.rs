//! Keyset paging for the admin lists: a page is at most `limit` items whose
//! id sorts after a cursor (the last id of the page before). Keyset rather
//! than offset, so that a page costs the same anywhere in a long list and an
//! insert or a delete cannot shift the pages being walked.

use super::{ErrorCode, ProtocolError};

/// Items per page when the request names no `limit`.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The most a request may ask for.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Longer than any id we issue; anything longer cannot be a cursor of ours.
const MAX_CURSOR_LEN: usize = 256;
/// Longer searches are refused rather than matched.
pub const MAX_SEARCH_LEN: usize = 256;

/// Which page of a list is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items whose id sorts after this one; `None` for the first page.
    pub after: Option<String>,
    pub limit: usize,
}

impl PageRequest {
    pub fn first(limit: usize) -> Self {
        Self { after: None, limit }
    }

    /// Parses the `limit` and `after` query parameters.
    pub fn parse(limit: Option<&str>, after: Option<&str>) -> Result<Self, ProtocolError> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidRequest,
                        format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                    ));
                }
            },
        };
        let after = match after {
            None | Some("") => None,
            Some(cursor) if cursor.len() <= MAX_CURSOR_LEN => Some(cursor.to_owned()),
            Some(_) => return Err(ProtocolError::new(ErrorCode::InvalidRequest, "after is too long")),
        };
        Ok(Self { after, limit })
    }

    /// How many rows to fetch: one more than the page, to know whether
    /// another page follows.
    pub fn fetch_limit(&self) -> usize {
        self.limit + 1
    }
}

/// One page of a list, with the cursor of the next page if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `fetched` (up to [`PageRequest::fetch_limit`] items, in id order)
    /// to the page asked for; `id` names an item's cursor.
    pub fn from_fetched(mut fetched: Vec<T>, request: &PageRequest, id: impl Fn(&T) -> String) -> Self {
        let more = fetched.len() > request.limit;
        fetched.truncate(request.limit);
        let next = if more { fetched.last().map(id) } else { None };
        Self { items: fetched, next }
    }
}

/// A search text as the user list matches it: case-insensitive, within
/// the username or the email.
pub fn parse_search(text: Option<&str>) -> Result<Option<String>, ProtocolError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.len() <= MAX_SEARCH_LEN && !text.chars().any(char::is_control) => {
            Ok(Some(text.to_lowercase()))
        }
        Some(_) => Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("search must be at most {MAX_SEARCH_LEN} bytes of text"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_names_the_next_cursor_only_when_more_follow() {
        let request = PageRequest::parse(Some("2"), None).expect("valid");
        let page = Page::from_fetched(vec!["a", "b", "c"], &request, |s| s.to_string());
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next.as_deref(), Some("b"));
        let last = Page::from_fetched(vec!["c"], &request, |s| s.to_string());
        assert_eq!(last.next, None);
    }

    #[test]
    fn limits_outside_the_bounds_are_refused() {
        assert!(PageRequest::parse(Some("0"), None).is_err());
        assert!(PageRequest::parse(Some("1001"), None).is_err());
        assert!(PageRequest::parse(Some("ten"), None).is_err());
        assert_eq!(PageRequest::parse(None, None).expect("default").limit, DEFAULT_PAGE_SIZE);
    }
}
