//! The security headers every response carries, whatever made it: pages
//! from the cache, forms, redirects, errors, files. Built once from the
//! configuration; a handler that set one of them (a paper's image, with its
//! own sandboxing policy) keeps its own.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// What a page may use of the browser: none of the powerful features.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), \
     interest-cohort=(), browsing-topics=()";

/// HSTS for sites served over HTTPS: a year, subdomains included.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The name of the Cross-Origin-Resource-Policy header.
pub const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

/// Headers every HTML page carries: no inline scripts or styles may run,
/// nothing may frame the site, MIME types are not sniffed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

/// The headers a cached page sets itself when it answers
/// (`cache::CachedPage::respond`), which the layer and a handler's extra
/// headers must not repeat.
pub const CACHED_PAGE_HEADERS: [HeaderName; 4] = [
    header::CONTENT_SECURITY_POLICY,
    header::X_CONTENT_TYPE_OPTIONS,
    header::REFERRER_POLICY,
    CROSS_ORIGIN_RESOURCE_POLICY,
];

/// The headers and their values, in the order they are added.
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Those a cached page does not set itself.
    beyond_cached_pages: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    /// The set for a site at `base_url`: HSTS only when it is https (a
    /// browser ignores it over plain HTTP, and it would lock out a site
    /// that has no certificate yet).
    pub fn new(base_url: &str) -> SecurityHeaders {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static(PERMISSIONS_POLICY),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (CROSS_ORIGIN_RESOURCE_POLICY, HeaderValue::from_static("same-origin")),
            (
                HeaderName::from_static("x-permitted-cross-domain-policies"),
                HeaderValue::from_static("none"),
            ),
        ];
        if base_url.trim().to_ascii_lowercase().starts_with("https://") {
            headers.push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS)));
        }
        let beyond_cached_pages = headers
            .iter()
            .filter(|(name, _)| !CACHED_PAGE_HEADERS.contains(name))
            .cloned()
            .collect();
        SecurityHeaders {
            headers,
            beyond_cached_pages,
        }
    }

    /// The headers a cached page does not set itself, to add to it as
    /// they are.
    pub fn beyond_cached_pages(&self) -> &[(HeaderName, HeaderValue)] {
        &self.beyond_cached_pages
    }

    /// Adds each header the response does not have yet.
    pub fn apply(&self, response: &mut HeaderMap) {
        for (name, value) in &self.headers {
            if !response.contains_key(name) {
                response.insert(name.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_only_for_https_sites_and_own_headers_are_kept() {
        let mut h = HeaderMap::new();
        SecurityHeaders::new("http://127.0.0.1:8080").apply(&mut h);
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        assert_eq!(h[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
        SecurityHeaders::new("HTTPS://papers.example.org").apply(&mut h);
        assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], HSTS);
        assert_eq!(
            h[header::CONTENT_SECURITY_POLICY],
            "sandbox",
            "a handler's own policy stays"
        );
    }
}
