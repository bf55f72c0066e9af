//! Paged admin lists: `?limit=&after=` (and `search=` for users) in, the
//! page as a JSON array out, with a `Link: <…>; rel="next"` header (RFC 8288)
//! while more follow. The body stays an array, so a script that reads one
//! page of a short list needs no change.

use axum::Json;
use axum::extract::{FromRequestParts, Query};
use axum::http::header::LINK;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::page::parse_search;
use crate::domain::{ErrorCode, Page, PageRequest, ProtocolError};

#[derive(Deserialize)]
struct RawListQuery {
    limit: Option<String>,
    after: Option<String>,
    search: Option<String>,
}

/// A list request's query, parsed once here.
pub struct ListQuery {
    pub page: PageRequest,
    /// Lower-cased; only lists that search read it.
    pub search: Option<String>,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ProtocolError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(raw) = Query::<RawListQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| ProtocolError::new(ErrorCode::InvalidRequest, "the query string is malformed"))?;
        Ok(Self {
            page: PageRequest::parse(raw.limit.as_deref(), raw.after.as_deref())?,
            search: parse_search(raw.search.as_deref())?,
            path: parts.uri.path().to_owned(),
        })
    }
}

impl ListQuery {
    /// The page as a JSON array of `view`s, linking the next page if any.
    pub fn respond<T, V: Serialize>(&self, page: Page<T>, view: impl Fn(&T) -> V) -> Response {
        let body: Vec<V> = page.items.iter().map(view).collect();
        let mut response = Json(body).into_response();
        if let Some(link) = page.next.as_deref().and_then(|after| self.next_link(after)) {
            response.headers_mut().insert(LINK, link);
        }
        response
    }

    fn next_link(&self, after: &str) -> Option<HeaderValue> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("limit", &self.page.limit.to_string()).append_pair("after", after);
        if let Some(search) = &self.search {
            query.append_pair("search", search);
        }
        let target: Uri = format!("{}?{}", self.path, query.finish()).parse().ok()?;
        HeaderValue::from_str(&format!("<{target}>; rel=\"next\"")).ok()
    }
}
