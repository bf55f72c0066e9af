//! The admin user API of interface.md: creating, reading and deleting users,
//! and their consents. A password goes in and never comes back out.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, assert_error};

/// A password the policy accepts: long enough and not a common one.
const PW: &str = "unguessable passphrase";

/// Keys a user view must never carry, whatever their spelling.
fn assert_no_password(user: &Value) {
    let object = user.as_object().expect("a user is a JSON object");
    assert!(object.keys().all(|k| !k.contains("password") && !k.contains("hash")), "{user}");
}

/// interface.md: `POST /admin/users` answers 201 with the user (id,
/// username, email, email_verified, name, roles, created_at) and never the
/// password or its hash; `GET /admin/users/{id}` shows the same.
async fn a_created_user_is_shown_without_the_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = crate::helpers::now();
    let (status, created) = app
        .create_user_with(json!({
            "username": "Alice", "password": "correct horse battery staple",
            "email": "alice@example.com", "email_verified": true, "name": "Alice Liddell",
            "roles": ["editor", "viewer"],
        }))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_no_password(&created);
    assert!(!created.to_string().contains("correct horse"), "{created}");
    let id = created["id"].as_str().expect("an id");
    assert!(!id.is_empty());
    assert_eq!(created["username"], "Alice");
    assert_eq!(created["email"], "alice@example.com");
    assert_eq!(created["email_verified"], true);
    assert_eq!(created["name"], "Alice Liddell");
    assert_eq!(created["roles"], json!(["editor", "viewer"]));
    let created_at = created["created_at"].as_i64().expect("created_at");
    assert!((before - 1..=before + 60).contains(&created_at));

    let (status, shown) = app.get_user(id).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown, created);

    let token = app.admin_token().await;
    let (status, list) = app.admin_request(Method::GET, "/admin/users", Some(&token), None).await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("a JSON array");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0], created);
}

/// Omitted optional fields take their defaults: no email or name (left out
/// of the view), `email_verified` false, no roles; the username is trimmed.
async fn omitted_user_fields_take_their_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app.create_user_with(json!({"username": "  bob ", "password": PW})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["username"], "bob");
    assert_eq!(created["email_verified"], false);
    assert_eq!(created["roles"], json!([]));
    assert!(created.get("email").is_none() && created.get("name").is_none(), "{created}");
    assert_no_password(&created);
}

/// The password is stored as an argon2id PHC string, never in the clear.
async fn the_password_is_stored_as_an_argon2id_hash(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_user("carol", "a password nobody guesses").await;
    let storage =
        castellan::storage::Storage::connect(&app.database_url, 1).await.expect("open the database");
    let user_id = castellan::domain::UserId::parse(&id).unwrap();
    let user = storage.users.get_user(&user_id).await.unwrap().expect("the user is stored");
    storage.health.close().await;
    assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", user.password_hash);
    assert!(!user.password_hash.contains("a password nobody guesses"));
}

/// Usernames are unique regardless of case: a second `alice` in another
/// case is 409 `conflict`, and the first user is untouched.
async fn a_username_taken_in_another_case_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_user("alice", PW).await;
    let (status, body) =
        app.create_user_with(json!({"username": "ALICE", "password": "another good passphrase"})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    assert!(body["error_description"].is_string());
    let (_, shown) = app.get_user(&id).await;
    assert_eq!(shown["username"], "alice");
}

/// A missing or empty username or password, a malformed field, JSON of the
/// wrong shape, a body that is not JSON, or another content type is 400
/// `invalid_request`, and no user is created.
async fn malformed_user_requests_are_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in [
        json!({"password": PW}),
        json!({"username": "dave"}),
        json!({"username": "", "password": PW}),
        json!({"username": "   ", "password": PW}),
        json!({"username": "dave", "password": ""}),
        json!({"username": "da\u{0}ve", "password": PW}),
        json!({"username": "x".repeat(65), "password": PW}),
        json!({"username": "dave", "password": "x".repeat(1025)}),
        json!({"username": "dave", "password": PW, "email": "not-an-email"}),
        json!({"username": "dave", "password": PW, "roles": ["has space"]}),
        json!({"username": "dave", "password": PW, "roles": "admin"}),
        json!({"username": 42, "password": PW}),
        json!(["dave", "pw"]),
        json!(null),
    ] {
        let (status, answer) = app.create_user_with(body.clone()).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{body}: {answer}");
        assert!(answer["error_description"].is_string());
    }
    let token = app.admin_token().await;
    for (content_type, body) in [
        ("application/json", "{not json"),
        ("application/json", ""),
        ("text/plain", r#"{"username":"dave","password":"pw"}"#),
        ("application/x-www-form-urlencoded", "username=dave&password=pw"),
    ] {
        let response = app
            .http
            .post(app.url("/admin/users"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    let (_, list) = app.admin_request(Method::GET, "/admin/users", Some(&token), None).await;
    assert_eq!(list, json!([]));
}

/// NIST SP 800-63B §5.1.1.2: a password shorter than 8 characters, or one
/// on the shipped list of common passwords (in any letter case), is 400
/// `invalid_request` naming the rule, and no user is created; a long,
/// uncommon one (spaces and all) is accepted.
async fn short_and_common_passwords_are_refused_naming_the_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (password, rule) in [
        ("Tr0ub4!", "password must be at least 8 characters"),
        ("pw", "password must be at least 8 characters"),
        ("password", "password is too common"),
        ("Password1", "password is too common"),
        ("QWERTYUIOP", "password is too common"),
        ("iloveyou", "password is too common"),
    ] {
        let (status, answer) = app.create_user_with(json!({"username": "ivan", "password": password})).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_request")),
            "{password}: {answer}"
        );
        let description = answer["error_description"].as_str().unwrap_or_default();
        assert!(description.starts_with(rule), "{password}: {answer}");
        // (The password `password` is itself a word of every description.)
        if password != "password" {
            assert!(!description.contains(password), "the password is not echoed: {answer}");
        }
    }
    let token = app.admin_token().await;
    let (_, list) = app.admin_request(Method::GET, "/admin/users", Some(&token), None).await;
    assert_eq!(list, json!([]));
    let (status, created) =
        app.create_user_with(json!({"username": "ivan", "password": "Vertical lighthouse 42"})).await;
    assert_eq!(status, 201, "{created}");
}

/// interface.md, RFC 6750 §3.1: the user API answers 401 without a token
/// and 403 `insufficient_scope` with a token lacking the `admin` scope, on
/// every route.
async fn the_user_api_needs_an_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_user("erin", PW).await;
    let (client_id, secret) = app.service_client("orders:read").await;
    let weak = app.token_for(&client_id, &secret, &[]).await;
    let body = json!({"username": "mallory", "password": PW});
    let patch = json!({"disabled": true});
    let user = format!("/admin/users/{id}");
    let consents = format!("/admin/users/{id}/consents");
    let consent = format!("/admin/users/{id}/consents/{client_id}");
    let routes = [
        (Method::GET, "/admin/users", None),
        (Method::POST, "/admin/users", Some(&body)),
        (Method::GET, user.as_str(), None),
        (Method::PATCH, user.as_str(), Some(&patch)),
        (Method::DELETE, user.as_str(), None),
        (Method::GET, consents.as_str(), None),
        (Method::DELETE, consent.as_str(), None),
    ];
    for (method, path, body) in routes {
        let (status, answer) = app.admin_request(method.clone(), path, None, body).await;
        assert_eq!(status, 401, "{method} {path}");
        assert!(answer["error"].is_string(), "{method} {path}: {answer}");
        let (status, answer) = app.admin_request(method.clone(), path, Some(&weak), body).await;
        assert_eq!((status, answer["error"].as_str()), (403, Some("insufficient_scope")), "{method} {path}");
    }
    let (status, shown) = app.get_user(&id).await;
    assert_eq!((status, &shown["disabled"]), (200, &json!(false)), "the user survived unchanged");
    let (_, list) =
        app.admin_request(Method::GET, "/admin/users", Some(&app.admin_token().await), None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "no user was created: {list}");
}

/// interface.md: DELETE answers 204 with no body; afterwards GET is 404,
/// and deleting again is 404.
async fn a_deleted_user_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_user("frank", PW).await;
    let token = app.admin_token().await;
    let response =
        app.http.delete(app.url(&format!("/admin/users/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let (status, body) = app.get_user(&id).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    assert_eq!(app.delete_user(&id).await, 404, "deleting twice");
    let (status, _) = app.user_consents(&id).await;
    assert_eq!(status, 404);
    // The username is free again, under a new id.
    let again = app.create_user("frank", PW).await;
    assert_ne!(again, id);
}

/// An unknown user id, or a path segment that cannot be a user id, is a
/// JSON 404 `not_found` on every user route.
async fn an_unknown_user_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.public_client().await;
    for id in ["no-such-user", "not%20an%20id", &"x".repeat(65), "%FF"] {
        let (status, body) = app.get_user(id).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "GET {id}: {body}");
        assert_eq!(app.delete_user(id).await, 404, "DELETE {id}");
        let (status, body) = app.user_consents(id).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "consents {id}: {body}");
        assert_eq!(app.revoke_user_consent(id, &client).await, 404, "consent {id}");
    }
}

/// Roles are kept in the order given, each once.
async fn roles_are_deduplicated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app
        .create_user_with(json!({
            "username": "grace", "password": PW, "roles": ["editor", "viewer", "editor", "viewer", "admin"],
        }))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["roles"], json!(["editor", "viewer", "admin"]));
    let (_, shown) = app.get_user(created["id"].as_str().unwrap()).await;
    assert_eq!(shown["roles"], json!(["editor", "viewer", "admin"]));
}

/// A user who never consented has an empty consent list, and withdrawing a
/// consent that was never given (or for a client that does not exist) is 404.
async fn a_fresh_user_has_no_consents_to_withdraw(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_user("heidi", PW).await;
    let client = app.public_client().await;
    let (status, consents) = app.user_consents(&id).await;
    assert_eq!((status, consents), (200, json!([])));
    assert_eq!(app.revoke_user_consent(&id, &client).await, 404);
    assert_eq!(app.revoke_user_consent(&id, "no-such-client").await, 404);
    let token = app.admin_token().await;
    let path = format!("/admin/users/{id}/consents/{client}");
    let (_, body) = app.admin_request(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(body["error"], "not_found", "{body}");
}

/// The `next` target of a `Link` header (RFC 8288), if any.
fn next_link(response: &reqwest::Response) -> Option<String> {
    let link = response.headers().get("link")?.to_str().ok()?;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(link.strip_prefix('<')?.split('>').next()?.to_owned())
}

/// `GET /admin/users?limit=` pages the users in id order, each page linking
/// the next with `Link: <…>; rel="next"` and the last linking nothing;
/// `search=` keeps only users whose username or email contains it (any
/// case), across pages too; a limit out of range is 400 `invalid_request`.
async fn users_are_paged_with_a_link_header_and_searched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for (username, email) in [
        ("Alice", "a@wonderland.example"),
        ("Bob", "bob@example.com"),
        ("Carol", "carol@wonderland.example"),
        ("Dave", "dave@example.com"),
        ("Eve", "eve@example.com"),
    ] {
        let (status, created) =
            app.create_user_with(json!({"username": username, "password": PW, "email": email})).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    let token = app.admin_token().await;
    let walk = async |first: &str| {
        let (mut seen, mut pages, mut next) = (Vec::new(), 0, Some(first.to_owned()));
        while let Some(target) = next {
            let response = app.http.get(app.url(&target)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(response.status(), 200, "{target}");
            next = next_link(&response);
            let page: Value = response.json().await.unwrap();
            let page = page.as_array().expect("a JSON array").clone();
            assert!(page.len() <= 2 && !page.is_empty(), "{target}: {page:?}");
            seen.extend(page.iter().map(|user| user["id"].as_str().unwrap().to_owned()));
            pages += 1;
        }
        (seen, pages)
    };
    assert_eq!(walk("/admin/users?limit=2").await, (ids.clone(), 3), "every user once, in id order");

    let (found, _) = walk("/admin/users?limit=1&search=WONDERLAND").await;
    let wonderland: Vec<String> = ids.iter().filter(|id| found.contains(id)).cloned().collect();
    assert_eq!((found.len(), &found), (2, &wonderland), "two users, in id order");
    let (status, found) = app.admin_request(Method::GET, "/admin/users?search=aro", Some(&token), None).await;
    assert_eq!(
        (status, found[0]["username"].as_str(), found.as_array().map(Vec::len)),
        (200, Some("Carol"), Some(1))
    );
    for bad in ["limit=0", "limit=1001", "limit=two"] {
        let (status, answer) =
            app.admin_request(Method::GET, &format!("/admin/users?{bad}"), Some(&token), None).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{bad}: {answer}");
    }
}

both_backends!(
    users_are_paged_with_a_link_header_and_searched,
    a_created_user_is_shown_without_the_password,
    omitted_user_fields_take_their_defaults,
    the_password_is_stored_as_an_argon2id_hash,
    a_username_taken_in_another_case_is_a_conflict,
    malformed_user_requests_are_invalid_request,
    the_user_api_needs_an_admin_token,
    a_deleted_user_is_gone,
    an_unknown_user_is_not_found,
    roles_are_deduplicated,
    a_fresh_user_has_no_consents_to_withdraw,
    short_and_common_passwords_are_refused_naming_the_rule,
);
