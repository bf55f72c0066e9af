//! A minimal browser for Castellan's login, consent and logout pages: a
//! cookie jar, redirects followed by hand (each hop inside the server, never
//! out of it), and just enough HTML form parsing for those pages.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use url::Url;

use super::html::{Form, decode_entities, parse_forms};

/// The name of Castellan's session cookie.
pub const SESSION_COOKIE: &str = "castellan_session";

/// A page the browser stopped on.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    pub status: u16,
    pub body: String,
}

/// Where following redirects ended: a page of the server, or a redirect out
/// of it (to a client's redirect URI), which is not fetched.
#[derive(Debug)]
pub enum Landing {
    Page(Page),
    Callback(Url),
}

impl Landing {
    /// The URL the server sent the browser to; panics on a page.
    pub fn callback(self) -> Url {
        match self {
            Self::Callback(url) => url,
            Self::Page(page) => {
                panic!("expected a redirect to the client, got {} {}\n{}", page.status, page.url, page.body)
            }
        }
    }

    /// The page; panics on a redirect to the client.
    pub fn page(self) -> Page {
        match self {
            Self::Page(page) => page,
            Self::Callback(url) => panic!("expected a page, got a redirect to {url}"),
        }
    }
}

impl Page {
    /// Every form on the page.
    pub fn forms(&self) -> Vec<Form> {
        parse_forms(&self.body, &self.url)
    }

    /// The page's only (or first) form; panics if there is none.
    pub fn form(&self) -> Form {
        self.forms().into_iter().next().unwrap_or_else(|| panic!("no form on {}:\n{}", self.url, self.body))
    }

    /// The login form (with `username` and `password`), if this is the login page.
    pub fn login_form(&self) -> Option<Form> {
        self.forms().into_iter().find(|f| f.has_field("username") && f.has_field("password"))
    }

    /// The consent form (with `decision` buttons), if this is the consent page.
    pub fn consent_form(&self) -> Option<Form> {
        self.forms().into_iter().find(|f| f.buttons.iter().any(|(name, _, _)| name == "decision"))
    }

    /// The text of the page's alert (`role="alert"`), such as a login error.
    pub fn alert(&self) -> Option<String> {
        let at = self.body.find("role=\"alert\"")?;
        let start = at + self.body[at..].find('>')? + 1;
        let end = start + self.body[start..].find("</")?;
        Some(decode_entities(self.body[start..end].trim()))
    }
}

/// A browser with its own cookie jar.
pub struct UserAgent {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    /// The server's origin: redirects elsewhere are not followed.
    server: String,
    page: Option<Page>,
}

impl UserAgent {
    /// A browser with an empty cookie jar, for the server at `issuer`.
    pub fn new(issuer: &str) -> Self {
        Self::with_headers(issuer, reqwest::header::HeaderMap::new())
    }

    /// A browser at `address`, behind a reverse proxy that says so in
    /// `X-Forwarded-For` (the server must trust the proxy, 127.0.0.1).
    pub fn behind_proxy(issuer: &str, address: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", address.parse().unwrap());
        Self::with_headers(issuer, headers)
    }

    fn with_headers(issuer: &str, headers: reqwest::header::HeaderMap) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .build()
            .expect("an HTTP client");
        Self { http, jar, server: issuer.trim_end_matches('/').to_owned(), page: None }
    }

    /// The cookies the browser would send to `url`, as one `Cookie` header value.
    pub fn cookies(&self, url: &str) -> String {
        let url = Url::parse(url).unwrap();
        self.jar.cookies(&url).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// The session cookie's value, if the browser holds one.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies(&self.server)
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")).map(str::to_owned))
    }

    /// The last page the browser stopped on.
    pub fn page(&self) -> &Page {
        self.page.as_ref().expect("the browser has shown a page")
    }

    /// A plain GET that does not follow redirects.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// GETs `url` and follows redirects within the server.
    pub async fn follow(&mut self, url: &str) -> Landing {
        let url = Url::parse(url).unwrap();
        let response = self.http.get(url.clone()).send().await.unwrap();
        self.land(url, response).await
    }

    /// Submits `form` with `values` in place of (or besides) its fields, and
    /// with the button whose value or label is `button`; follows redirects.
    pub async fn submit(&mut self, form: &Form, values: &[(&str, &str)], button: Option<&str>) -> Landing {
        let response = self.submit_raw(form, values, button).await;
        self.land(form.action.clone(), response).await
    }

    /// As [`UserAgent::submit`], but answers the response itself.
    pub async fn submit_raw(
        &self,
        form: &Form,
        values: &[(&str, &str)],
        button: Option<&str>,
    ) -> reqwest::Response {
        let mut body: Vec<(String, String)> =
            form.fields.iter().filter(|(name, _)| !values.iter().any(|(n, _)| n == name)).cloned().collect();
        body.extend(values.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        if let Some(choice) = button {
            let (name, value, _) = form
                .buttons
                .iter()
                .find(|(_, value, label)| value == choice || label == choice)
                .unwrap_or_else(|| panic!("no button {choice:?} in {form:?}"));
            if !name.is_empty() {
                body.push((name.clone(), value.clone()));
            }
        }
        assert!(form.method.eq_ignore_ascii_case("post"), "{form:?}");
        self.http.post(form.action.clone()).form(&body).send().await.unwrap()
    }

    /// Fills in and submits the login form of the current page.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Landing {
        let page = self.page().clone();
        let form =
            page.login_form().unwrap_or_else(|| panic!("not the login page: {}\n{}", page.url, page.body));
        self.submit(&form, &[("username", username), ("password", password)], None).await
    }

    /// Answers the consent page with `Allow` or `Deny`.
    pub async fn consent(&mut self, decision: &str) -> Landing {
        let page = self.page().clone();
        let form = page
            .consent_form()
            .unwrap_or_else(|| panic!("not the consent page: {}\n{}", page.url, page.body));
        self.submit(&form, &[], Some(decision)).await
    }

    /// Follows `response` (to a request for `url`) through redirects.
    async fn land(&mut self, mut url: Url, mut response: reqwest::Response) -> Landing {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                let page = Page { url, status, body };
                self.page = Some(page.clone());
                return Landing::Page(page);
            }
            let location = response.headers().get("location").expect("a redirect has a Location");
            let next = url.join(location.to_str().unwrap()).expect("a valid Location");
            if !next.as_str().starts_with(&format!("{}/", self.server)) {
                return Landing::Callback(next);
            }
            response = self.http.get(next.clone()).send().await.unwrap();
            url = next;
        }
        panic!("more than 10 redirects, the last to {url}");
    }
}

/// The query parameter `name` of `url`.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}
