//! The core's Unicode port (`edge_auth_core::unicode::TextBackend`) over the JavaScript engine's own
//! Unicode data: `String.prototype.normalize("NFKC")` and `toLowerCase`, so the Worker's wasm carries
//! no tables of its own. Installed once per instance, in `#[event(start)]`.

use edge_auth_core::unicode::TextBackend;
use worker::js_sys::JsString;

pub struct JsUnicode;

impl TextBackend for JsUnicode {
    fn nfkc(&self, s: &str) -> String {
        JsString::from(s).normalize("NFKC").into()
    }

    fn lowercase(&self, s: &str) -> String {
        JsString::from(s).to_lower_case().into()
    }
}

/// Installs it (the first installation of an instance stays).
pub fn install() {
    edge_auth_core::unicode::install(&JsUnicode);
}
