//! A client that no one here wrote: the official Model Context Protocol
//! SDK (TypeScript, `tests/mcp`) finds Castellan from an MCP server's 401,
//! registers itself (RFC 7591), signs the user in with PKCE and `resource`
//! (RFC 8707), calls a tool with its token, and refreshes. The MCP server
//! (the SDK's too) accepts only tokens whose audience is itself, checked
//! through introspection with its own client.

use std::process::Command;

use serde_json::json;

use crate::both_backends_with_node;
use crate::helpers::{Backend, TestApp};

async fn the_mcp_sdk_registers_signs_in_with_resource_and_pkce_calls_a_tool_and_refreshes(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_REGISTRATION", "open")]).await;
    app.create_user("ada", "correct horse battery staple").await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let (rs_id, rs_secret) = app.service_client("").await;
    let (status, body) = app
        .create_resource_with(json!({
            "identifier": resource, "name": "MCP test server", "scopes": ["tools"],
            "client_ids": [rs_id], "dynamic_registration": true,
        }))
        .await;
    assert_eq!(status, 201, "{body}");

    let script = format!("{}/tests/mcp/flow.mjs", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("ISSUER", &app.address)
            .env("RESOURCE_PORT", port.to_string())
            .env("RS_CLIENT_ID", rs_id)
            .env("RS_CLIENT_SECRET", rs_secret)
            .env("USERNAME", "ada")
            .env("PASSWORD", "correct horse battery staple")
            .output()
            .map(|output| (output, app))
    })
    .await
    .expect("the node process is waited for")
    .expect("node runs");
    let (output, _app) = output;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the MCP SDK flow failed:\n{stdout}\n{stderr}");
    for step in [
        "registered as",
        "resource and PKCE",
        "code redeemed",
        "tool answered: hello",
        "refreshed",
        "tool answered after refresh",
        "done",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
}

both_backends_with_node!(the_mcp_sdk_registers_signs_in_with_resource_and_pkce_calls_a_tool_and_refreshes);
