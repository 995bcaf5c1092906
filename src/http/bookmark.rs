//! The D1 bookmark's round trip (read replication): after a request that used D1, its session's
//! bookmark goes back in `X-D1-Bookmark` (and, in cookie mode, a cookie); a request that brings one
//! back to a route whose reads may lag starts its session there, so it reads its own writes however
//! far the nearest replica is behind. A bookmark is no credential: it only asks for data at least that
//! new. One that does not look like D1's is ignored (`adapters::bookmark`), never an error.

use super::cookies;
use crate::adapters;
use edge_auth_core::config::Config;
use worker::{Headers, Request};

/// The header both ways (exposed to listed origins by CORS).
pub const HEADER: &str = "X-D1-Bookmark";

/// The client's bookmark: the header, else in cookie mode the cookie; `None` when neither is valid.
pub fn from_request(req: &Request, config: &Config) -> Option<String> {
    let header = req.headers().get(HEADER).ok().flatten();
    let value = match header {
        Some(h) => h,
        None if config.cookie_mode => cookies::read(req, cookies::BOOKMARK_COOKIE)?,
        None => return None,
    };
    adapters::bookmark(value.trim())
}

/// Sends the request's bookmark back: always in the header; in cookie mode also as a cookie, but only
/// on a success, so a refused request still sets no cookie at all.
pub fn send(headers: &Headers, config: &Config, status: u16, bookmark: &str) {
    super::response::set(headers, HEADER, bookmark);
    if config.cookie_mode && (200..300).contains(&status) {
        cookies::set_bookmark(headers, config, bookmark);
    }
}
