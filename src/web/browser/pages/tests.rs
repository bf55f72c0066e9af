use axum::body::to_bytes;
use axum::http::StatusCode;
use axum::response::Response;

use super::*;

fn issuer() -> Issuer {
    Issuer::parse("https://id.example.com").unwrap()
}

async fn body(response: Response) -> String {
    String::from_utf8(to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

const EVIL: &str = "<script>alert(1)</script>\"'&";
const EVIL_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";

fn login_form(error: Option<&str>) -> LoginForm {
    LoginForm {
        sealed_request: "sealed-1".into(),
        csrf_token: "csrf-1".into(),
        client_name: "Photo Print".into(),
        username: "alice".into(),
        error: error.map(str::to_owned),
    }
}

fn consent_form(client_name: &str, username: &str) -> ConsentForm {
    ConsentForm {
        request_id: "rid-2".into(),
        csrf_token: "csrf-2".into(),
        client_name: client_name.into(),
        username: username.into(),
        scopes: vec![
            ScopeLine { scope: "openid".into(), description: "Confirm who you are".into() },
            ScopeLine { scope: "email".into(), description: "See your email address".into() },
        ],
        resources: vec!["Orders <API>".into()],
        metadata_document: None,
    }
}

fn logout_form(client_name: Option<&str>) -> LogoutForm {
    LogoutForm {
        csrf_token: "csrf-3".into(),
        client_name: client_name.map(str::to_owned),
        post_logout_redirect_uri: Some("https://app.example.com/bye?a=1&b=2".into()),
        state: None,
        client_id: Some("app".into()),
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn assert_page_headers(response: &Response) {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(header("content-security-policy").as_deref(), Some(CONTENT_SECURITY_POLICY_VALUE));
    assert!(!CONTENT_SECURITY_POLICY_VALUE.contains("form-action"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
}

fn assert_common_markup(html: &str) {
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    assert_eq!(count(html, "<title>"), 1);
    assert_eq!(count(html, "<main"), 1);
    assert!(html.contains("<link rel=\"stylesheet\" href=\"https://id.example.com/static/castellan.css\">"));
    assert!(!html.contains("<script"));
    assert!(!html.contains(" style="));
}

#[tokio::test]
async fn login_page_has_username_password_and_one_submit_button() {
    let response = login_page(&issuer(), &login_form(None), StatusCode::OK);
    assert_eq!(response.status(), StatusCode::OK);
    assert_page_headers(&response);
    let html = body(response).await;
    assert_common_markup(&html);
    assert!(html.contains("<form method=\"post\" action=\"https://id.example.com/login\">"));
    assert!(html.contains("name=\"csrf_token\" value=\"csrf-1\""));
    assert!(html.contains("name=\"request\" value=\"sealed-1\""));
    assert!(html.contains("name=\"username\" type=\"text\" value=\"alice\" autocomplete=\"username\""));
    assert!(html.contains("name=\"password\" type=\"password\" autocomplete=\"current-password\""));
    assert!(html.contains("<label for=\"username\">") && html.contains("<label for=\"password\">"));
    assert_eq!(count(&html, "type=\"submit\""), 1);
    assert!(html.contains("<button type=\"submit\" class=\"button primary\">Sign in</button>"));
    assert!(html.contains("to continue to <b>Photo Print</b>"));
    assert!(!html.contains("role=\"alert\""));
}

#[tokio::test]
async fn login_page_shows_the_error_as_an_alert_with_the_given_status() {
    let response =
        login_page(&issuer(), &login_form(Some("Wrong username or password.")), StatusCode::UNAUTHORIZED);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = body(response).await;
    assert!(html.contains("role=\"alert\" id=\"login-error\">Wrong username or password.</p>"));
    assert_eq!(count(&html, "aria-describedby=\"login-error\""), 2);
}

#[tokio::test]
async fn login_page_escapes_client_name_username_and_error() {
    let form = LoginForm {
        sealed_request: EVIL.into(),
        csrf_token: EVIL.into(),
        client_name: EVIL.into(),
        username: EVIL.into(),
        error: Some(EVIL.into()),
    };
    let html = body(login_page(&issuer(), &form, StatusCode::OK)).await;
    assert!(!html.contains("<script"));
    assert_eq!(count(&html, EVIL_ESCAPED), 5);
}

#[tokio::test]
async fn consent_page_names_client_user_scopes_and_has_allow_and_deny() {
    let response = consent_page(&issuer(), &consent_form("Photo Print", "alice"));
    assert_eq!(response.status(), StatusCode::OK);
    assert_page_headers(&response);
    let html = body(response).await;
    assert_common_markup(&html);
    assert!(html.contains("<form method=\"post\" action=\"https://id.example.com/consent\">"));
    assert!(html.contains("name=\"csrf_token\" value=\"csrf-2\""));
    assert!(html.contains("name=\"rid\" value=\"rid-2\""));
    assert!(html.contains("<b>Photo Print</b> wants to access your account"));
    assert!(html.contains("Signed in as <b>alice</b>"));
    assert!(html.contains("<span>See your email address</span> <code>email</code>"));
    assert!(html.contains("<span>Confirm who you are</span> <code>openid</code>"));
    assert!(html.contains("<li>Orders &#60;API&#62;</li>"), "the resources asked for, escaped");
    assert_eq!(count(&html, "type=\"submit\""), 2);
    assert!(html.contains("name=\"decision\" value=\"Allow\" class=\"button primary\">Allow</button>"));
    assert!(html.contains("name=\"decision\" value=\"Deny\" class=\"button secondary\">Deny</button>"));
}

#[tokio::test]
async fn consent_page_escapes_client_name_username_and_scopes() {
    let mut form = consent_form(EVIL, EVIL);
    form.scopes = vec![ScopeLine { scope: EVIL.into(), description: EVIL.into() }];
    let html = body(consent_page(&issuer(), &form)).await;
    assert!(!html.contains("<script"));
    assert!(count(&html, EVIL_ESCAPED) >= 5);
}

#[tokio::test]
async fn consent_page_shows_where_a_metadata_document_client_comes_from_and_warns_of_loopback() {
    let mut form = consent_form("Photo Print", "alice");
    let html = body(consent_page(&issuer(), &form)).await;
    assert!(!html.contains("class=\"client-origin\""), "only for metadata-document clients");
    form.metadata_document = Some(MetadataDocumentNotice {
        client_host: Some("app.example".into()),
        redirect_host: "127.0.0.1".into(),
        loopback_redirect: true,
    });
    let html = body(consent_page(&issuer(), &form)).await;
    assert!(html.contains("Photo Print (from <b>app.example</b>)"), "{html}");
    assert!(html.contains("sent back to <b>127.0.0.1</b>"), "{html}");
    assert!(html.contains("class=\"warning\" role=\"alert\""), "{html}");
    form.metadata_document = Some(MetadataDocumentNotice {
        client_host: Some(EVIL.into()),
        redirect_host: "app.example".into(),
        loopback_redirect: false,
    });
    let html = body(consent_page(&issuer(), &form)).await;
    assert!(!html.contains("role=\"alert\""));
    assert!(!html.contains("<script") && html.contains(EVIL_ESCAPED));
}

#[tokio::test]
async fn error_page_has_the_status_title_message_and_no_links() {
    let response = error_page(&issuer(), StatusCode::BAD_REQUEST, "Unknown client", EVIL);
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_page_headers(&response);
    let html = body(response).await;
    assert_common_markup(&html);
    assert!(html.contains("<h1>Unknown client</h1>"));
    assert!(html.contains(EVIL_ESCAPED));
    assert!(html.contains("Error 400 · Bad Request"));
    assert!(!html.contains("<a "));
    assert!(!html.contains("<form"));
}

#[tokio::test]
async fn logout_confirm_page_posts_the_present_fields_only() {
    let response = logout_confirm_page(&issuer(), &logout_form(Some("Photo Print")));
    assert_page_headers(&response);
    let html = body(response).await;
    assert_common_markup(&html);
    assert!(html.contains("Sign out of Castellan?"));
    assert!(html.contains("<b>Photo Print</b>"));
    assert!(html.contains("<form method=\"post\" action=\"https://id.example.com/oauth2/logout\">"));
    assert!(html.contains("name=\"csrf_token\" value=\"csrf-3\""));
    assert!(
        html.contains("name=\"post_logout_redirect_uri\" value=\"https://app.example.com/bye?a=1&#38;b=2\"")
    );
    assert!(html.contains("name=\"client_id\" value=\"app\""));
    assert!(!html.contains("name=\"state\""));
    assert_eq!(count(&html, "type=\"submit\""), 1);
    assert!(html.contains(">Sign out</button>"));
}

#[tokio::test]
async fn logout_confirm_page_without_client_name_escapes_state() {
    let mut form = logout_form(None);
    form.state = Some(EVIL.into());
    let html = body(logout_confirm_page(&issuer(), &form)).await;
    assert!(!html.contains("asked to sign you out"));
    assert!(html.contains(&format!("name=\"state\" value=\"{EVIL_ESCAPED}\"")));
}

#[tokio::test]
async fn logged_out_page_confirms() {
    let response = logged_out_page(&issuer());
    assert_eq!(response.status(), StatusCode::OK);
    assert_page_headers(&response);
    let html = body(response).await;
    assert_common_markup(&html);
    assert!(html.contains("You have signed out."));
}

#[tokio::test]
async fn stylesheet_is_css_cached_for_an_hour() {
    let response = stylesheet().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    assert!(body(response).await.contains("prefers-color-scheme: dark"));
}

/// Writes every page to `$CASTELLAN_PAGES_PREVIEW` (a directory) with the stylesheet
/// beside it, for looking at in a browser:
/// `CASTELLAN_PAGES_PREVIEW=/tmp/pages cargo test --lib pages::tests::preview -- --ignored`.
#[tokio::test]
#[ignore = "writes files for a person to look at"]
async fn preview() {
    let dir = std::path::PathBuf::from(std::env::var("CASTELLAN_PAGES_PREVIEW").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("castellan.css"), STYLESHEET_CSS).unwrap();
    let config = issuer();
    let mut consent_many = consent_form("Photo Print", "alice@example.com");
    consent_many.scopes.extend([
        ScopeLine { scope: "profile".into(), description: "See your name and username".into() },
        ScopeLine { scope: "offline_access".into(), description: "Stay signed in to Photo Print".into() },
    ]);
    let pages = [
        ("login", login_page(&config, &login_form(None), StatusCode::OK)),
        (
            "login-error",
            login_page(&config, &login_form(Some("Wrong username or password.")), StatusCode::OK),
        ),
        ("consent", consent_page(&config, &consent_many)),
        (
            "error",
            error_page(
                &config,
                StatusCode::BAD_REQUEST,
                "Unknown application",
                "The application that sent you here is not registered with this server.",
            ),
        ),
        ("logout", logout_confirm_page(&config, &logout_form(Some("Photo Print")))),
        ("logged-out", logged_out_page(&config)),
    ];
    for (name, response) in pages {
        let html =
            body(response).await.replace("https://id.example.com/static/castellan.css", "castellan.css");
        std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
    }
}
