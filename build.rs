//! Embeds docs/openapi.json minified (a third smaller in the wasm than the pretty file), after checking
//! that it parses, so a broken document fails the build instead of a request.

use std::{env, fs, path::Path};

fn main() {
    let source = "docs/openapi.json";
    println!("cargo:rerun-if-changed={source}");
    let text = fs::read_to_string(source).expect("docs/openapi.json is readable");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("docs/openapi.json is valid JSON");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("openapi.min.json");
    fs::write(out, serde_json::to_string(&doc).expect("serialises")).expect("OUT_DIR is writable");
}
