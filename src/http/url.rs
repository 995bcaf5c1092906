//! The few things we need from the request URL, without the `url` crate, which would link its IDNA and
//! Unicode-normalisation tables (~150 KB of wasm) for nothing we use. The runtime hands us URLs it
//! has already parsed and normalised (WHATWG URL), so splitting them is enough.

/// The path of an absolute URL, still percent-encoded, without query or fragment (`/` at least).
pub fn path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let without_query = after_scheme.split(['?', '#']).next().unwrap_or("");
    match without_query.find('/') {
        Some(i) if url.contains("://") => without_query[i..].to_string(),
        None if url.contains("://") => "/".to_string(),
        _ => without_query.to_string(),
    }
}

/// `scheme://host[:port]` of an absolute URL (what an `Origin` header carries), lowercased.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if scheme.is_empty() || authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

/// The first value of query parameter `name`, percent-decoded (`application/x-www-form-urlencoded`).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_authority() {
        assert_eq!(
            origin("https://Auth.Example.com/auth/login?x=1").as_deref(),
            Some("https://auth.example.com")
        );
        assert_eq!(origin("http://127.0.0.1:8787/health").as_deref(), Some("http://127.0.0.1:8787"));
        assert_eq!(origin("http://localhost").as_deref(), Some("http://localhost"));
        assert_eq!(origin("/relative"), None);
        assert_eq!(origin("https://user@evil.example/"), None);
    }

    #[test]
    fn paths_keep_their_encoding_and_lose_query_and_fragment() {
        assert_eq!(path("https://a.example/auth/login"), "/auth/login");
        assert_eq!(path("https://a.example/auth/admin/users/a%2Fb?x=/y#z"), "/auth/admin/users/a%2Fb");
        assert_eq!(path("http://127.0.0.1:8787"), "/");
        assert_eq!(path("http://127.0.0.1:8787?q=/x"), "/");
        assert_eq!(path("https://a.example/"), "/");
        assert_eq!(path("/relative/path?x"), "/relative/path");
    }

    #[test]
    fn query_parameters_are_decoded() {
        let u = "https://a.example/auth/admin/users?limit=20&q=ana%20b%25&cursor=abc#frag";
        assert_eq!(query_param(u, "limit").as_deref(), Some("20"));
        assert_eq!(query_param(u, "q").as_deref(), Some("ana b%"));
        assert_eq!(query_param(u, "cursor").as_deref(), Some("abc"));
        assert_eq!(query_param(u, "missing"), None);
        assert_eq!(query_param("https://a.example/x", "q"), None);
    }
}
