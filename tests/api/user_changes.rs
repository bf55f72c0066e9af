//! `PATCH /admin/users/{id}` (RFC 7396 merge patch) of interface.md: each
//! member changes its field and nothing else, the id (the `sub` of the
//! user's tokens) never changes, and a bad patch is 400 JSON that changes
//! nothing. What a new password and disabling end is in `user_disabling`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, Backend, TestApp, assert_error, security_events, security_log};

const PW: &str = "unguessable passphrase";

both_backends!(
    each_member_changes_its_field_and_the_id_never_changes,
    an_empty_patch_changes_nothing,
    a_new_email_is_unverified_unless_the_patch_verifies_it,
    json_and_merge_patch_json_are_both_accepted,
    bad_patches_are_invalid_request_and_change_nothing,
    patching_an_unknown_user_is_not_found,
    each_change_is_a_security_event_naming_the_fields_not_their_values,
);

/// A user with every optional field set; returns the view.
async fn alice(app: &TestApp) -> Value {
    let (status, created) = app
        .create_user_with(json!({
            "username": "alice", "password": PW, "email": "alice@example.com", "email_verified": true,
            "name": "Alice", "roles": ["reader"],
        }))
        .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// `after` is `before` with `changes` (`null` meaning "left out of the view").
fn assert_changed(before: &Value, after: &Value, changes: Value) {
    let mut expected = before.clone();
    for (member, value) in changes.as_object().expect("changes are an object") {
        match value {
            Value::Null => {
                expected.as_object_mut().unwrap().remove(member);
            }
            value => expected[member] = value.clone(),
        }
    }
    assert_eq!(after, &expected);
}

/// RFC 7396 §2: a member left out is unchanged, a member given replaces the
/// field, `null` removes `email` or `name`. The id, username and creation
/// time stay, and the view says whether the user is disabled.
async fn each_member_changes_its_field_and_the_id_never_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut user = alice(&app).await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["disabled"], false, "{user}");
    assert!(user.get("disabled_at").is_none(), "{user}");
    for (patch, changes) in [
        (json!({"name": "  Alice Liddell "}), json!({"name": "Alice Liddell"})),
        (json!({"roles": ["editor", "viewer", "editor"]}), json!({"roles": ["editor", "viewer"]})),
        (json!({"roles": []}), json!({"roles": []})),
        (json!({"email_verified": false}), json!({"email_verified": false})),
        (json!({"email": null}), json!({"email": null})),
        (json!({"name": null}), json!({"name": null})),
        (
            json!({"email": "liddell@example.com", "email_verified": true}),
            json!({"email": "liddell@example.com", "email_verified": true}),
        ),
    ] {
        let (status, changed) = app.patch_user(&id, patch.clone()).await;
        assert_eq!(status, 200, "{patch}: {changed}");
        assert_changed(&user, &changed, changes);
        assert_eq!(app.get_user(&id).await, (200, changed.clone()), "{patch}: stored as shown");
        user = changed;
    }
    assert_eq!((user["id"].as_str(), user["username"].as_str()), (Some(id.as_str()), Some("alice")));
    assert!(!user.to_string().contains("password"), "{user}");
}

/// RFC 7396: `{}` is a patch that changes nothing; the answer is the user.
async fn an_empty_patch_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(app.patch_user(id, json!({})).await, (200, user.clone()));
    assert_eq!(app.get_user(id).await, (200, user));
}

/// OpenID Connect Core §5.1: `email_verified` is trusted by relying
/// parties, so a new address is unverified unless the same patch says it
/// is verified; the same address given again stays verified.
async fn a_new_email_is_unverified_unless_the_patch_verifies_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let id = user["id"].as_str().unwrap();
    let (_, same) = app.patch_user(id, json!({"email": "alice@example.com"})).await;
    assert_eq!(same["email_verified"], true, "{same}");
    let (_, changed) = app.patch_user(id, json!({"email": "alice@new.example"})).await;
    assert_eq!(
        (changed["email"].as_str(), &changed["email_verified"]),
        (Some("alice@new.example"), &json!(false))
    );
}

/// interface.md: `application/merge-patch+json` (RFC 7396 §4) and
/// `application/json` both carry a patch.
async fn json_and_merge_patch_json_are_both_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let path = format!("/admin/users/{}", user["id"].as_str().unwrap());
    let token = app.admin_token().await;
    let (status, changed) =
        app.admin_request(Method::PATCH, &path, Some(&token), Some(&json!({"name": "By JSON"}))).await;
    assert_eq!((status, changed["name"].as_str()), (200, Some("By JSON")), "{changed}");
    let response = app
        .http
        .patch(app.url(&path))
        .bearer_auth(&token)
        .header("content-type", "application/merge-patch+json; charset=utf-8")
        .body(r#"{"name": "By merge patch"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["name"], "By merge patch");
}

/// A patch that is not an object, names a member that does not exist or
/// cannot change, gives `null` where a value is needed, or a value the
/// creation rules refuse, is 400 `invalid_request` saying what is wrong,
/// and nothing of it is applied, not even its good members.
async fn bad_patches_are_invalid_request_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let id = user["id"].as_str().unwrap();
    for (patch, says) in [
        (json!({"password": null}), "password cannot be null"),
        (json!({"password": "short"}), "password must be at least 8 characters"),
        (json!({"password": "Password1"}), "password is too common"),
        (json!({"password": 12345678}), "password must be a string"),
        (json!({"email_verified": null}), "email_verified must be true or false"),
        (json!({"roles": null}), "roles must be an array"),
        (json!({"roles": "admin"}), "roles must be an array"),
        (json!({"roles": ["has space"]}), "each role"),
        (json!({"disabled": null}), "disabled must be true or false"),
        (json!({"disabled": "yes"}), "disabled must be true or false"),
        (json!({"email": "not-an-email"}), "email is not an email address"),
        (json!({"name": 5}), "name must be a string"),
        (json!({"name": "x".repeat(201)}), "name must be at most 200"),
        (json!({"id": "another-id"}), "id cannot be changed"),
        (json!({"username": "bob"}), "username cannot be changed"),
        (json!({"created_at": 1}), "created_at cannot be changed"),
        (json!({"disabled_at": null}), "disabled_at cannot be changed"),
        (json!({"nmae": "typo"}), "unknown member \"nmae\""),
        (json!({"name": "Good", "roles": "bad"}), "roles must be an array"),
        (json!(["name", "x"]), "a user patch is a JSON object"),
        (json!("name"), "a user patch is a JSON object"),
        (json!(null), "a user patch is a JSON object"),
    ] {
        let (status, answer) = app.patch_user(id, patch.clone()).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{patch}: {answer}");
        let description = answer["error_description"].as_str().unwrap_or_default();
        assert!(description.starts_with(says), "{patch}: {answer}");
    }
    let token = app.admin_token().await;
    for (content_type, body) in [
        ("application/merge-patch+json", "{not json"),
        ("application/merge-patch+json", ""),
        ("text/plain", r#"{"name": "x"}"#),
    ] {
        let response = app
            .http
            .patch(app.url(&format!("/admin/users/{id}")))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    assert_eq!(app.get_user(id).await, (200, user), "nothing changed");
}

/// A patch for a user that does not exist, or a path that cannot be a user
/// id, is a JSON 404 `not_found`, and creates no one.
async fn patching_an_unknown_user_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for id in ["no-such-user", "not%20an%20id", &"x".repeat(65)] {
        for patch in [json!({"name": "Ghost"}), json!({"disabled": true}), json!({"password": PW}), json!({})]
        {
            let (status, answer) = app.patch_user(id, patch.clone()).await;
            assert_eq!(
                (status, answer["error"].as_str()),
                (404, Some("not_found")),
                "{id} {patch}: {answer}"
            );
        }
    }
    let token = app.admin_token().await;
    let (_, list) = app.admin_request(Method::GET, "/admin/users", Some(&token), None).await;
    assert_eq!(list, json!([]));
}

/// A change is an `admin_change` event naming the admin client, the user and
/// the fields changed (and whether the user was disabled or enabled), never
/// a value: the new password is nowhere in the log. `{}` records nothing.
async fn each_change_is_a_security_event_naming_the_fields_not_their_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let id = user["id"].as_str().unwrap();
    let new_password = "a secret nobody may log";
    for patch in [
        json!({}),
        json!({"name": "Alice Liddell", "roles": ["editor"]}),
        json!({"password": new_password, "disabled": true}),
        json!({"disabled": false}),
    ] {
        assert_eq!(app.patch_user(id, patch.clone()).await.0, 200, "{patch}");
    }
    let events = security_events("admin_change", "user_id", id);
    let details: Vec<_> = events.iter().map(|e| e["detail"].as_str().unwrap_or_default()).collect();
    assert_eq!(
        details,
        [
            "created a user",
            "changed a user's name, roles",
            "changed a user's password; disabled the user",
            "enabled the user"
        ]
    );
    assert!(events.iter().all(|e| e["client_id"] == ADMIN_ID), "{events:?}");
    assert!(!security_log().contains(new_password));
}
