//! Which halves of the test suite this machine can run. The Postgres half
//! (`CASTELLAN_TEST_POSTGRES_URL` set) and the browser tests (Debian's
//! Chromium and ChromeDriver installed) are compiled as *ignored* where they
//! cannot run, so `cargo test` counts them as ignored, with the reason,
//! instead of as passes. So is the MCP SDK test where Node.js or its
//! packages (`npm ci --prefix tests/mcp`) are missing. Nothing in the server depends on these switches.

use std::path::Path;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const MCP_DIR: &str = "tests/mcp";
const MCP_SDK: &str = "tests/mcp/node_modules/@modelcontextprotocol/sdk/package.json";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(castellan_postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(castellan_browser_tests)");
    println!("cargo::rustc-check-cfg=cfg(castellan_node_tests)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CASTELLAN_TEST_POSTGRES_URL");
    if std::env::var("CASTELLAN_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=castellan_postgres_tests");
    }
    // Installing or removing a package changes the directory, which has
    // this looked at again (a path that does not exist would rerun it, and
    // rebuild the crate, on every build).
    if let Some(bin) = Path::new(CHROMIUM).parent().filter(|dir| dir.exists()) {
        println!("cargo::rerun-if-changed={}", bin.display());
    }
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        println!("cargo::rustc-cfg=castellan_browser_tests");
    }
    // The MCP SDK test needs Node.js and `npm ci` in tests/mcp.
    if Path::new(MCP_DIR).exists() {
        println!("cargo::rerun-if-changed={MCP_DIR}");
    }
    if Path::new(MCP_SDK).exists() && node_runs() {
        println!("cargo::rustc-cfg=castellan_node_tests");
    }
}

fn node_runs() -> bool {
    std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success())
}
