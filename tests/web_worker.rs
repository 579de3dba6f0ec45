//! Browser tests in a dedicated Worker (headless Chromium through wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

mod web_common;

#[wasm_bindgen_test::wasm_bindgen_test]
fn runs_in_a_dedicated_worker() {
    assert!(keybound::browser::js::in_worker());
    assert!(!keybound::browser::js::global_prop_exists("document"));
    assert!(!keybound::browser::js::global_prop_exists("window"));
}
