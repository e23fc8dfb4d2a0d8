//! Plumbing every form handler shares: the same-site check, form fields,
//! cookies, and the plain, redirect and private answers.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use std::collections::HashMap;

/// The value of the request's cookie `name` (the first, if several).
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Whether the post comes from a page of this site: browsers send Origin
/// (and Sec-Fetch-Site) with form posts; another site's page is refused.
pub(super) fn same_site(headers: &HeaderMap, base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site == "cross-site"
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else { return false };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin = origin.trim_end_matches('/');
    origin == base_url.trim_end_matches('/')
        || origin
            .split_once("://")
            .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

/// The form fields of a urlencoded body (invalid UTF-8 becomes U+FFFD).
pub(super) fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        fields.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    fields
}

/// A short text answer that no cache keeps: errors of forms and probes.
pub(super) fn plain(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(text.to_owned()))
        .unwrap_or_default()
}

pub(super) fn see_other(location: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}

/// An HTML page for one reader: not kept by the cache or by browsers.
pub fn private_page(status: StatusCode, html: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, super::cache::HTML)
        .header(header::CACHE_CONTROL, "private, no-store")
        .header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::headers::CONTENT_SECURITY_POLICY),
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(html))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_read_by_name_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; quire_held=h3.ab"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2;quire_held=second"));
        assert_eq!(cookie(&h, "quire_held").as_deref(), Some("h3.ab"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "missing"), None);
        // Junk around a cookie does not hide it, in time linear in the header.
        let junk = format!("{}; quire_held=x", ";=;".repeat(20_000));
        h.insert(header::COOKIE, HeaderValue::from_str(&junk).expect("value"));
        assert_eq!(cookie(&h, "quire_held").as_deref(), Some("x"));
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            same_site(&h, "https://papers.example.org")
        };
        assert!(with(&[]), "no Origin: an old browser or a test client");
        assert!(with(&[("origin", "https://papers.example.org")]));
        assert!(with(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")]));
        assert!(!with(&[("origin", "https://evil.example")]));
        assert!(!with(&[("origin", "null")]), "a sandboxed or privacy-stripped origin");
        assert!(!with(&[("sec-fetch-site", "cross-site")]));
    }
}
