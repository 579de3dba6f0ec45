//! The protocol core stays pure: no browser crate may appear under src/protocol, so that the
//! core builds and tests natively and can be reused by Rust servers. Inside it, the WebAuthn
//! machinery does not depend on the consumer (no cycle).
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    if dir.is_file() {
        out.push(dir.to_owned());
        return;
    }
    for entry in fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn offending_lines(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    assert!(!files.is_empty(), "no Rust files under {dir}");
    let mut hits = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let words = code.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            if words.into_iter().any(|w| forbidden.contains(&w)) {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn protocol_layer_imports_no_browser_crate() {
    let hits = offending_lines("src/protocol", &["wasm_bindgen", "web_sys", "js_sys", "gloo", "gloo_net", "wasm_bindgen_futures"]);
    assert!(hits.is_empty(), "src/protocol must stay sans-IO:\n{}", hits.join("\n"));
}

#[test]
fn browser_layer_never_uses_window() {
    // Everything goes through globalThis so it works in Workers too.
    let hits = offending_lines("src/browser", &["window", "Window"]);
    assert!(hits.is_empty(), "src/browser must not use window():\n{}", hits.join("\n"));
}

/// No cycle between the WebAuthn machinery and the consumer: `protocol::consumer` (its `passkey`
/// module) uses `protocol::passkey`, never the other way round.
#[test]
fn webauthn_machinery_does_not_know_the_consumer() {
    let hits = offending_lines("src/protocol/passkey.rs", &["consumer"]);
    assert!(hits.is_empty(), "src/protocol/passkey.rs must not use the consumer:\n{}", hits.join("\n"));
    assert!(!offending_lines("src/protocol/consumer/passkey.rs", &["passkey"]).is_empty(), "the scan reads that file");
}

#[test]
fn the_check_itself_finds_a_forbidden_word() {
    // Guard against a scanner that silently finds nothing.
    assert!(!offending_lines("src/browser", &["web_sys"]).is_empty());
}
