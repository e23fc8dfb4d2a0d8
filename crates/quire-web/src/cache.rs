//! Rendered pages kept in memory, ready to send: raw, gzip and brotli bytes
//! with their ETags. Any content change clears the whole cache (simple and
//! always right); a memory budget evicts the oldest pages first.

use super::headers::{CONTENT_SECURITY_POLICY, CROSS_ORIGIN_RESOURCE_POLICY};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;

/// Pages smaller than this are not worth compressing.
const COMPRESS_MIN_BYTES: usize = 1024;

/// A page as rendered, before caching.
pub struct RenderedPage {
    pub status: StatusCode,
    /// The body: HTML, a feed, a sitemap, a citation file.
    pub html: String,
    pub content_type: &'static str,
    /// A file name to offer as a download (Content-Disposition).
    pub download_as: Option<String>,
}

impl RenderedPage {
    /// An HTML page with this status.
    pub fn html(status: StatusCode, html: String) -> RenderedPage {
        RenderedPage {
            status,
            html,
            content_type: HTML,
            download_as: None,
        }
    }
}

/// The content type of pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// One page in every encoding, with the headers that never change.
pub struct CachedPage {
    status: StatusCode,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
    etag: HeaderValue,
    etag_gzip: HeaderValue,
    etag_brotli: HeaderValue,
    /// The bare hash, for matching If-None-Match whatever the suffix.
    hash: String,
    last_modified: HeaderValue,
    modified_at: OffsetDateTime,
    content_type: HeaderValue,
    disposition: Option<HeaderValue>,
    cache_control: HeaderValue,
    content_security_policy: HeaderValue,
    /// Who may embed it: this site only, but for a paper's images, which
    /// newsletters show in webmail on other sites.
    resource_policy: HeaderValue,
}

/// What a paper's image may do when opened on its own: nothing. An SVG's
/// scripts never run and it cannot reach the site's cookies.
pub const MEDIA_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// Pages: browsers keep them but ask again (ETag) before reuse.
const REVALIDATE: HeaderValue = HeaderValue::from_static("public, max-age=0, must-revalidate");

impl CachedPage {
    /// Compresses and fingerprints a page; `built_at` is its Last-Modified.
    pub fn new(page: RenderedPage, built_at: OffsetDateTime) -> CachedPage {
        Self::build(page, built_at, [true, true])
    }

    /// A page served once and not kept (search results): compressed only
    /// in the encoding this request prefers.
    pub fn for_request(page: RenderedPage, request: &HeaderMap) -> CachedPage {
        let wanted = match preferred_encoding(request) {
            Encoding::Brotli => [false, true],
            Encoding::Gzip => [true, false],
            Encoding::Identity => [false, false],
        };
        Self::build(page, OffsetDateTime::now_utc(), wanted)
    }

    /// A theme file under its content-hashed name: compressed once when
    /// `compress` (text formats), and cacheable by browsers for a year.
    pub fn asset(bytes: Bytes, content_type: &'static str, compress: bool) -> CachedPage {
        let page = RenderedPage {
            status: StatusCode::OK,
            html: String::new(),
            content_type,
            download_as: None,
        };
        let mut asset = Self::build_bytes(page, bytes, OffsetDateTime::UNIX_EPOCH, [compress, compress]);
        asset.cache_control = HeaderValue::from_static("public, max-age=31536000, immutable");
        asset
    }

    /// A binary file made by Quire (a PDF): kept and revalidated like a
    /// page, and not compressed again.
    pub fn file(bytes: Bytes, content_type: &'static str, built_at: OffsetDateTime) -> CachedPage {
        let page = RenderedPage {
            status: StatusCode::OK,
            html: String::new(),
            content_type,
            download_as: None,
        };
        Self::build_bytes(page, bytes, built_at, [false, false])
    }

    /// An image stored with a paper: sandboxed, compressed only when it is
    /// text (SVG), and kept by browsers for an hour before they ask again.
    pub fn media(bytes: Bytes, kind: quire_core::domain::MediaKind, modified_at: OffsetDateTime) -> CachedPage {
        let page = RenderedPage {
            status: StatusCode::OK,
            html: String::new(),
            content_type: kind.content_type(),
            download_as: None,
        };
        let text = kind == quire_core::domain::MediaKind::Svg;
        let mut media = Self::build_bytes(page, bytes, modified_at, [text, text]);
        media.cache_control = HeaderValue::from_static("public, max-age=3600");
        media.content_security_policy = HeaderValue::from_static(MEDIA_SECURITY_POLICY);
        media.resource_policy = HeaderValue::from_static("cross-origin");
        media
    }

    /// `[gzip, brotli]` says which compressed copies to make.
    fn build(mut page: RenderedPage, built_at: OffsetDateTime, wanted: [bool; 2]) -> CachedPage {
        let identity = exact_bytes(std::mem::take(&mut page.html).into_bytes());
        Self::build_bytes(page, identity, built_at, wanted)
    }

    fn build_bytes(
        page: RenderedPage,
        identity: Bytes,
        built_at: OffsetDateTime,
        [want_gzip, want_brotli]: [bool; 2],
    ) -> CachedPage {
        let digest = Sha256::digest(&identity);
        let hash: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let big = identity.len() >= COMPRESS_MIN_BYTES;
        let gzip = if big && want_gzip { gzip_bytes(&identity) } else { None };
        let brotli = if big && want_brotli {
            brotli_bytes(&identity)
        } else {
            None
        };
        let content_type = HeaderValue::from_static(page.content_type);
        let disposition = page.download_as.as_deref().and_then(|name| {
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")).ok()
        });
        let etag_value = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).unwrap_or(HeaderValue::from_static("\"x\""))
        };
        let modified_at = built_at.replace_nanosecond(0).unwrap_or(built_at);
        CachedPage {
            status: page.status,
            etag: etag_value(""),
            etag_gzip: etag_value("-gz"),
            etag_brotli: etag_value("-br"),
            hash,
            last_modified: HeaderValue::from_str(&http_date(modified_at))
                .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
            modified_at,
            identity,
            gzip,
            brotli,
            content_type,
            disposition,
            cache_control: REVALIDATE,
            content_security_policy: HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            resource_policy: HeaderValue::from_static("same-origin"),
        }
    }

    /// Bytes held, for the memory budget.
    fn size(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
            + 256
    }

    /// The response for a request with these headers: the best encoding the
    /// client accepts, or 304 when its copy is current.
    pub fn respond(&self, request: &HeaderMap) -> Response<Body> {
        self.respond_with(request, &[])
    }

    /// The same, with `extra` headers added as they are (the site's
    /// security headers, which none of a page's own repeat): the response
    /// is built in one header map of the right size, with no look-ups.
    pub fn respond_with(&self, request: &HeaderMap, extra: &[(HeaderName, HeaderValue)]) -> Response<Body> {
        self.answer_with(request, extra).into_response()
    }

    /// The same answer in parts, for the serving loop to write itself.
    pub fn answer_with(&self, request: &HeaderMap, extra: &[(HeaderName, HeaderValue)]) -> Answer {
        let encoding = preferred_encoding(request);
        let (body, etag, content_encoding) = match encoding {
            Encoding::Brotli if self.brotli.is_some() => (self.brotli.clone(), &self.etag_brotli, Some("br")),
            Encoding::Gzip | Encoding::Brotli if self.gzip.is_some() => {
                (self.gzip.clone(), &self.etag_gzip, Some("gzip"))
            }
            _ => (Some(self.identity.clone()), &self.etag, None),
        };
        let fresh = self.status == StatusCode::OK && self.client_is_current(request);
        let mut headers = HeaderMap::with_capacity(16 + extra.len());
        headers.append(header::ETAG, etag.clone());
        headers.append(header::LAST_MODIFIED, self.last_modified.clone());
        headers.append(header::CACHE_CONTROL, self.cache_control.clone());
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        let body = if fresh {
            None
        } else {
            if let Some(d) = &self.disposition {
                headers.append(header::CONTENT_DISPOSITION, d.clone());
            }
            headers.append(header::CONTENT_TYPE, self.content_type.clone());
            headers.append(header::CONTENT_SECURITY_POLICY, self.content_security_policy.clone());
            headers.append(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.append(CROSS_ORIGIN_RESOURCE_POLICY, self.resource_policy.clone());
            headers.append(
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            );
            if let Some(enc) = content_encoding {
                headers.append(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
            }
            Some(body.unwrap_or_default())
        };
        for (name, value) in extra {
            headers.append(name.clone(), value.clone());
        }
        Answer {
            status: if fresh { StatusCode::NOT_MODIFIED } else { self.status },
            headers,
            body,
        }
    }

    fn client_is_current(&self, request: &HeaderMap) -> bool {
        if let Some(inm) = request.get(header::IF_NONE_MATCH) {
            let Ok(inm) = inm.to_str() else { return false };
            return inm.split(',').map(str::trim).any(|tag| {
                if tag == "*" {
                    return true;
                }
                let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
                let bare = tag
                    .strip_suffix("-gz")
                    .or_else(|| tag.strip_suffix("-br"))
                    .unwrap_or(tag);
                bare == self.hash
            });
        }
        if let Some(ims) = request.get(header::IF_MODIFIED_SINCE)
            && let Some(since) = ims.to_str().ok().and_then(parse_http_date)
        {
            return self.modified_at <= since;
        }
        false
    }
}

/// A cached answer in parts: the serving loop writes these itself for
/// plain GETs, and hands them to hyper as a response otherwise.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// None for a 304, which has no body.
    pub body: Option<Bytes>,
}

impl Answer {
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(self.body.map_or_else(Body::empty, Body::from));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Reads Accept-Encoding, honouring `q=0` refusals; brotli beats gzip.
fn preferred_encoding(request: &HeaderMap) -> Encoding {
    let Some(accept) = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let mut brotli = false;
    let mut gzip = false;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if refused {
            continue;
        }
        if name.eq_ignore_ascii_case("br") {
            brotli = true;
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") || name == "*" {
            gzip = true;
            if name == "*" {
                brotli = true;
            }
        }
    }
    if brotli {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip_bytes(data: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::new(6));
    enc.write_all(data).ok()?;
    enc.finish().ok().map(exact_bytes)
}

/// Bytes holding exactly `v`'s contents: growth slack in a rendered page or
/// a compressor's buffer would otherwise stay allocated as long as the page
/// is cached, and the cache budget would undercount it. A copy, because
/// allocators may keep a shrunk block at its old size.
fn exact_bytes(v: Vec<u8>) -> Bytes {
    Bytes::copy_from_slice(&v)
}

fn brotli_bytes(data: &[u8]) -> Option<Bytes> {
    // Quality 5 with a window just big enough for the page and a size hint:
    // nearly the ratio of higher qualities at a fraction of the time, and
    // small hash tables. Windows under 2^18 switch the encoder to a far
    // slower matcher (measured: 5 ms instead of 0.13 ms for a 12 KB page).
    let params = brotli::enc::BrotliEncoderParams {
        quality: 5,
        lgwin: i32::try_from((usize::BITS - data.len().leading_zeros()).clamp(18, 22)).unwrap_or(22),
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 3);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).ok()?;
    Some(exact_bytes(out))
}

const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// RFC 9110 date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(HTTP_DATE).unwrap_or_default()
}

/// Parses an RFC 9110 date; anything else is `None`.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s.trim(), HTTP_DATE)
        .ok()
        .map(|t| t.assume_utc())
}

struct Entries {
    pages: HashMap<String, Arc<CachedPage>>,
    order: VecDeque<String>,
    bytes: usize,
}

/// The rendered-page cache, shared by every request.
pub struct PageCache {
    entries: RwLock<Entries>,
    generation: AtomicU64,
    budget: usize,
    /// The pages being built, by key, each with the turn its builders
    /// take and how many want it: entries are as many as the requests
    /// under way, no more.
    building: std::sync::Mutex<HashMap<String, (Turn, usize)>>,
}

/// The lock a page's builders take in turn.
type Turn = Arc<tokio::sync::Mutex<()>>;

/// One request's turn to build a missing page; while it is held, others
/// missing the same key wait for it and then find the page cached.
pub struct BuildTurn<'a> {
    cache: &'a PageCache,
    key: String,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for BuildTurn<'_> {
    fn drop(&mut self) {
        // Counted under the map's lock, not read from the lock's
        // reference count: a guard being dropped still holds its
        // reference after the next builder has taken the turn.
        let mut building = self.cache.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, wanting)) = building.get_mut(&self.key) {
            *wanting -= 1;
            if *wanting == 0 {
                building.remove(&self.key);
            }
        }
    }
}

impl PageCache {
    /// A cache holding at most `budget_bytes` of pages.
    pub fn new(budget_bytes: usize) -> PageCache {
        PageCache {
            entries: RwLock::new(Entries {
                pages: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            }),
            generation: AtomicU64::new(0),
            budget: budget_bytes,
            building: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the turn to build the page `key`: the first reader to
    /// miss a page builds it, and readers missing it meanwhile wait and
    /// then look again, rather than each rendering it (the readers of a
    /// popular page, just after a change, would otherwise render it as
    /// many times as they are).
    pub async fn build_turn(&self, key: &str) -> BuildTurn<'_> {
        let turn = {
            let mut building = self.building.lock().unwrap_or_else(|e| e.into_inner());
            let (turn, wanting) = building.entry(key.to_owned()).or_default();
            *wanting += 1;
            turn.clone()
        };
        BuildTurn {
            cache: self,
            key: key.to_owned(),
            _held: turn.lock_owned().await,
        }
    }

    /// Pages being built now (for tests).
    pub fn building(&self) -> usize {
        self.building.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedPage>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.pages.get(key).cloned()
    }

    /// The generation to pass to [`PageCache::insert`]; take it before
    /// reading the data a page is built from.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a page unless the content changed since `generation` was
    /// taken (the page may then be stale).
    pub fn insert(&self, generation: u64, key: String, page: Arc<CachedPage>) {
        let size = page.size();
        if size > self.budget {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if let Some(old) = entries.pages.insert(key.clone(), page) {
            entries.bytes -= old.size();
        } else {
            entries.order.push_back(key);
        }
        entries.bytes += size;
        while entries.bytes > self.budget {
            let Some(oldest) = entries.order.pop_front() else { break };
            if let Some(old) = entries.pages.remove(&oldest) {
                entries.bytes -= old.size();
            }
        }
    }

    /// Forgets every page: content changed.
    pub fn invalidate(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.pages.clear();
        entries.order.clear();
        entries.bytes = 0;
    }

    /// Number of pages held.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn page(html: &str) -> Arc<CachedPage> {
        Arc::new(CachedPage::new(
            RenderedPage::html(StatusCode::OK, html.to_owned()),
            datetime!(2026-01-05 10:00:00.5 UTC),
        ))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn picks_the_best_accepted_encoding() {
        let big = "<p>hello</p>".repeat(500);
        let p = page(&big);
        let r = p.respond(&headers(&[("accept-encoding", "gzip, deflate, br")]));
        assert_eq!(r.headers()["content-encoding"], "br");
        let r = p.respond(&headers(&[("accept-encoding", "gzip, br;q=0")]));
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let r = p.respond(&headers(&[]));
        assert!(r.headers().get("content-encoding").is_none());
        let r = p.respond(&headers(&[("accept-encoding", "identity")]));
        assert!(r.headers().get("content-encoding").is_none());
        // Small pages are sent as they are.
        let r = page("<p>hi</p>").respond(&headers(&[("accept-encoding", "br")]));
        assert!(r.headers().get("content-encoding").is_none());
    }

    #[test]
    fn compressed_bodies_decompress_to_the_page() {
        let big = "<p>hello world</p>".repeat(300);
        let p = page(&big);
        let mut out = String::new();
        let mut d = flate2::read::GzDecoder::new(&p.gzip.as_ref().expect("gzip")[..]);
        std::io::Read::read_to_string(&mut d, &mut out).expect("gunzip");
        assert_eq!(out, big);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &p.brotli.as_ref().expect("br")[..], &mut out).expect("unbrotli");
        assert_eq!(out, big.as_bytes());
    }

    #[test]
    fn conditional_requests_get_304() {
        let p = page("<p>x</p>");
        let etag = p.respond(&HeaderMap::new()).headers()["etag"]
            .to_str()
            .expect("etag")
            .to_owned();
        assert_eq!(
            p.respond(&headers(&[("if-none-match", &etag)])).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            p.respond(&headers(&[("if-none-match", "\"other\", *")])).status(),
            StatusCode::NOT_MODIFIED
        );
        let weak = format!("W/\"{}-gz\"", etag.trim_matches('"'));
        assert_eq!(
            p.respond(&headers(&[("if-none-match", &weak)])).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            p.respond(&headers(&[("if-none-match", "\"nope\"")])).status(),
            StatusCode::OK
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            p.respond(&headers(&[
                ("if-none-match", "\"nope\""),
                ("if-modified-since", "Mon, 05 Jan 2026 10:00:00 GMT")
            ]))
            .status(),
            StatusCode::OK
        );
        assert_eq!(
            p.respond(&headers(&[("if-modified-since", "Mon, 05 Jan 2026 10:00:00 GMT")]))
                .status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            p.respond(&headers(&[("if-modified-since", "Mon, 05 Jan 2026 09:59:59 GMT")]))
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            p.respond(&headers(&[("if-modified-since", "yesterday")])).status(),
            StatusCode::OK
        );
    }

    #[test]
    fn http_dates_round_trip() {
        let t = datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("\u{0}garbage"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_missing_one_page_at_once_build_it_once() {
        let cache = Arc::new(PageCache::new(1_000_000));
        let builds = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..32)
            .map(|_| {
                let (cache, builds) = (cache.clone(), builds.clone());
                tokio::spawn(async move {
                    if cache.get("/popular/").is_some() {
                        return;
                    }
                    let _turn = cache.build_turn("/popular/").await;
                    if cache.get("/popular/").is_some() {
                        return;
                    }
                    let g = cache.generation();
                    builds.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    cache.insert(g, "/popular/".into(), page("<p>popular</p>"));
                })
            })
            .collect();
        for r in readers {
            r.await.expect("reader");
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1, "one build for every reader");
        assert_eq!(cache.building(), 0, "nothing left of the turns");
        // Other keys are built side by side, each once.
        let (a, b) = tokio::join!(cache.build_turn("/a/"), cache.build_turn("/b/"));
        assert_eq!(cache.building(), 2);
        drop((a, b));
        assert_eq!(cache.building(), 0);
    }

    #[test]
    fn stale_renders_are_not_cached_and_budget_holds() {
        let cache = PageCache::new(10_000);
        let g = cache.generation();
        cache.invalidate();
        cache.insert(g, "/".into(), page("<p>old</p>"));
        assert!(cache.get("/").is_none(), "rendered before a change");
        let g = cache.generation();
        for i in 0..100 {
            cache.insert(g, format!("/p{i}"), page(&format!("<p>{i}</p>")));
        }
        assert!(cache.len() < 100, "budget evicts");
        assert!(cache.get("/p99").is_some(), "newest kept");
        assert!(cache.get("/p0").is_none(), "oldest evicted");
        cache.invalidate();
        assert!(cache.is_empty());
    }
}
