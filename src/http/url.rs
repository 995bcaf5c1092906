//! The two things we need from the request URL, without the `url` crate: `Request::url()` parses with
//! it, which links its IDNA and Unicode-normalisation tables (~150 KB of wasm) for nothing we use.

use worker::Request;

/// The request's URL as the runtime gave it (absolute).
pub fn raw(req: &Request) -> String {
    req.inner().url()
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
    fn query_parameters_are_decoded() {
        let u = "https://a.example/auth/admin/users?limit=20&q=ana%20b%25&cursor=abc#frag";
        assert_eq!(query_param(u, "limit").as_deref(), Some("20"));
        assert_eq!(query_param(u, "q").as_deref(), Some("ana b%"));
        assert_eq!(query_param(u, "cursor").as_deref(), Some("abc"));
        assert_eq!(query_param(u, "missing"), None);
        assert_eq!(query_param("https://a.example/x", "q"), None);
    }
}
