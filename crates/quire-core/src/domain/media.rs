//! A paper's images: the names a paper may give them, the formats and sizes
//! Quire keeps, and the address each is served at. Pure rules; reading the
//! files is the command line's job, storing them the store's.

use serde::Serialize;

/// Largest image Quire keeps, in bytes: a full-page photograph at print
/// quality fits; a mistaken video or archive does not.
pub const MAX_MEDIA_BYTES: usize = 25 * 1024 * 1024;
/// Largest raster image in pixels: about 8,000 × 6,000. Decoding takes four
/// bytes a pixel, so this bounds the memory one image can claim.
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest side of a raster image, in pixels.
pub const MAX_SIDE: u32 = 20_000;
/// Longest image name, in bytes.
const MAX_NAME_BYTES: usize = 200;

/// The image formats browsers and the PDF typesetter both read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
}

impl MediaKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Png => "png",
            MediaKind::Jpeg => "jpeg",
            MediaKind::Gif => "gif",
            MediaKind::Webp => "webp",
            MediaKind::Svg => "svg",
        }
    }

    /// Reads a name stored by `as_str`.
    pub fn parse(s: &str) -> Option<MediaKind> {
        [
            MediaKind::Png,
            MediaKind::Jpeg,
            MediaKind::Gif,
            MediaKind::Webp,
            MediaKind::Svg,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind a file name's extension promises, any case.
    pub fn from_extension(ext: &str) -> Option<MediaKind> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(MediaKind::Png),
            "jpg" | "jpeg" => Some(MediaKind::Jpeg),
            "gif" => Some(MediaKind::Gif),
            "webp" => Some(MediaKind::Webp),
            "svg" => Some(MediaKind::Svg),
            _ => None,
        }
    }

    /// The extension the typesetter expects.
    pub fn extension(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "jpg",
            other => other.as_str(),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Png => "image/png",
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Gif => "image/gif",
            MediaKind::Webp => "image/webp",
            MediaKind::Svg => "image/svg+xml",
        }
    }

    /// What readers call the format, for messages.
    fn label(self) -> &'static str {
        match self {
            MediaKind::Png => "PNG",
            MediaKind::Jpeg => "JPEG",
            MediaKind::Gif => "GIF",
            MediaKind::Webp => "WebP",
            MediaKind::Svg => "SVG",
        }
    }

    /// The format `data` is in, by its first bytes.
    pub fn sniff(data: &[u8]) -> Option<MediaKind> {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaKind::Png)
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaKind::Jpeg)
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some(MediaKind::Gif)
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some(MediaKind::Webp)
        } else if looks_like_svg(data) {
            Some(MediaKind::Svg)
        } else {
            None
        }
    }
}

/// SVG is XML text whose root is `<svg`: the start must be markup and the
/// root element must appear early.
fn looks_like_svg(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The cut may fall inside a character.
        Err(e) if e.valid_up_to() + 4 > head.len() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
        Err(_) => return false,
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with('<') && text.contains("<svg")
}

/// An image as a paper file brings it, checked and ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaInput {
    /// The paper's name for it: a path relative to the paper file.
    pub name: String,
    pub kind: MediaKind,
    /// Pixels (raster) or the drawing's own size (SVG), when known.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub data: Vec<u8>,
}

/// A stored image, without its bytes: what a page needs to show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaMeta {
    pub name: String,
    pub kind: MediaKind,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub byte_size: u64,
    /// Hex SHA-256 of the bytes: the ETag, and part of the PDF's cache key.
    pub sha256: String,
}

/// A stored image with its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFile {
    pub meta: MediaMeta,
    pub data: Vec<u8>,
}

/// The name a paper's image reference gives a file stored with the paper,
/// or `None` when the reference is not such a name (a web address, an
/// absolute path, a fragment): those are left as written, never read.
///
/// Names are relative paths below the paper file's folder, percent-decoded,
/// without `.` segments; `..`, backslashes, control characters and other
/// file-system tricks are refused with a message saying what to do.
pub fn media_name(reference: &str) -> Result<Option<String>, String> {
    let reference = reference.trim();
    let path = reference.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() || path.starts_with('/') || has_scheme(path) {
        return Ok(None);
    }
    let decoded = percent_decode(path).ok_or_else(|| {
        format!("image {reference:?}: its %-escapes do not spell UTF-8 text: write the file name as it is")
    })?;
    let mut parts: Vec<&str> = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "image {reference:?} points outside the paper's folder: put the image in the paper's folder or below it"
                ));
            }
            _ => {
                if let Some(c) = part.chars().find(|c| !name_char(*c)) {
                    return Err(format!(
                        "image {reference:?}: its name has the character {c:?}: rename the file using letters, digits, spaces and - _ . + ( ) ~"
                    ));
                }
                parts.push(part);
            }
        }
    }
    let name = parts.join("/");
    if name.is_empty() {
        return Err(format!(
            "image {reference:?} names a folder, not a file: name the image file"
        ));
    }
    if name.len() > MAX_NAME_BYTES || parts.len() > 8 {
        return Err(format!(
            "image {reference:?}: the name is too long (at most {MAX_NAME_BYTES} bytes in 8 folders): give it a shorter name"
        ));
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if MediaKind::from_extension(ext).is_none() {
        return Err(format!(
            "image {reference:?}: Quire keeps PNG, JPEG, GIF, WebP and SVG images (.png, .jpg, .gif, .webp, .svg): convert it to one of those"
        ));
    }
    Ok(Some(name))
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || " -_.+()~".contains(c)
}

/// Whether `path` starts with a URL scheme (`https:`, `data:`, `c:`): a
/// colon before any slash.
fn has_scheme(path: &str) -> bool {
    match path.find(':') {
        Some(colon) => !path[..colon].contains('/'),
        None => false,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `name` as a URL path: each segment percent-encoded, slashes kept.
pub fn media_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, part) in name.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in part.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Checks an image's size in bytes, before reading it if it can.
pub fn check_media_size(name: &str, bytes: u64) -> Result<(), String> {
    if bytes == 0 {
        return Err(format!("image {name:?} is an empty file: save the image again"));
    }
    if bytes > MAX_MEDIA_BYTES as u64 {
        return Err(format!(
            "image {name:?} is {:.1} MB; Quire keeps images up to {} MB: save it smaller or at a lower resolution",
            bytes as f64 / 1_048_576.0,
            MAX_MEDIA_BYTES / 1_048_576
        ));
    }
    Ok(())
}

/// Checks an image's bytes against its name and Quire's limits: the
/// format its first bytes show must be the one its extension promises, and
/// a raster image's header must give a size within bounds. Returns its kind
/// and pixel size. The full decode is the typesetter's check, run next.
pub fn check_media(name: &str, data: &[u8]) -> Result<(MediaKind, Option<(u32, u32)>), String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let promised = MediaKind::from_extension(ext)
        .ok_or_else(|| format!("image {name:?}: Quire keeps PNG, JPEG, GIF, WebP and SVG images"))?;
    check_media_size(name, data.len() as u64)?;
    match MediaKind::sniff(data) {
        Some(kind) if kind == promised => {}
        Some(kind) => {
            return Err(format!(
                "image {name:?} is named as {} but holds a {} image: rename it to .{}",
                promised.label(),
                kind.label(),
                kind.extension()
            ));
        }
        None => {
            return Err(format!(
                "image {name:?} is not a {} image (its first bytes are not that format's): export it again as {}",
                promised.label(),
                promised.label()
            ));
        }
    }
    if promised == MediaKind::Svg {
        return Ok((promised, None));
    }
    let size = imagesize::blob_size(data)
        .map_err(|e| format!("image {name:?}: its header cannot be read ({e}): export it again"))?;
    let (w, h) = (size.width, size.height);
    if w == 0 || h == 0 {
        return Err(format!("image {name:?} has no pixels ({w} × {h}): export it again"));
    }
    let too_big = w > MAX_SIDE as usize || h > MAX_SIDE as usize || (w as u64) * (h as u64) > MAX_PIXELS;
    if too_big {
        return Err(format!(
            "image {name:?} is {w} × {h} pixels; Quire keeps images up to {} megapixels and {MAX_SIDE} pixels a side: scale it down",
            MAX_PIXELS / 1_000_000
        ));
    }
    let w = u32::try_from(w).unwrap_or(MAX_SIDE);
    let h = u32::try_from(h).unwrap_or(MAX_SIDE);
    Ok((promised, Some((w, h))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 × 1 PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF,
        0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn relative_names_are_normalised() {
        assert_eq!(media_name("chart.png"), Ok(Some("chart.png".into())));
        assert_eq!(media_name("./figures//chart.PNG"), Ok(Some("figures/chart.PNG".into())));
        assert_eq!(media_name("my%20chart.svg"), Ok(Some("my chart.svg".into())));
        assert_eq!(media_name("chart.png?v=2#x"), Ok(Some("chart.png".into())));
        assert_eq!(media_name("رسم.png"), Ok(Some("رسم.png".into())));
    }

    #[test]
    fn addresses_that_are_not_names_are_left_alone() {
        for r in [
            "https://example.org/a.png",
            "http:a.png",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "/etc/passwd",
            "//evil.example/a.png",
            "#top",
            "",
            "C:/Windows/win.ini",
            "file:///etc/passwd",
        ] {
            assert_eq!(media_name(r), Ok(None), "{r}");
        }
    }

    #[test]
    fn hostile_names_are_refused_with_a_way_out() {
        for (r, says) in [
            ("../secret.png", "outside the paper's folder"),
            ("figures/../../etc/passwd.png", "outside the paper's folder"),
            ("%2e%2e/x.png", "outside the paper's folder"),
            ("a\\..\\b.png", "character '\\\\'"),
            ("a%00.png", "character '\\0'"),
            ("a%0a.png", "character '\\n'"),
            ("a\u{202e}gnp.svg", "character"),
            ("%ff.png", "UTF-8"),
            ("notes.txt", "PNG, JPEG, GIF, WebP and SVG"),
            ("script.svg.html", "PNG, JPEG"),
            ("noextension", "PNG, JPEG"),
            ("./", "names a folder"),
        ] {
            let err = media_name(r).expect_err(r);
            assert!(err.contains(says), "{r}: {err}");
        }
        let long = format!("{}.png", "a".repeat(300));
        assert!(media_name(&long).expect_err("long").contains("too long"));
        let deep = format!("{}x.png", "d/".repeat(9));
        assert!(media_name(&deep).expect_err("deep").contains("too long"));
    }

    #[test]
    fn paths_encode_every_segment() {
        assert_eq!(media_path("figures/my chart.png"), "figures/my%20chart.png");
        assert_eq!(media_path("a(1)+b.png"), "a%281%29%2Bb.png");
        assert_eq!(media_path("رسم.png"), "%D8%B1%D8%B3%D9%85.png");
        for name in ["figures/my chart.png", "رسم.png", "a(1)+b~.png"] {
            assert_eq!(media_name(&media_path(name)), Ok(Some(name.to_owned())), "round trip");
        }
    }

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(MediaKind::sniff(PNG), Some(MediaKind::Png));
        assert_eq!(MediaKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(MediaKind::Jpeg));
        assert_eq!(MediaKind::sniff(b"GIF89a...."), Some(MediaKind::Gif));
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaKind::Webp));
        assert_eq!(
            MediaKind::sniff(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some(MediaKind::Svg)
        );
        assert_eq!(MediaKind::sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(MediaKind::sniff(b"hello"), None);
        for kind in [
            MediaKind::Png,
            MediaKind::Jpeg,
            MediaKind::Gif,
            MediaKind::Webp,
            MediaKind::Svg,
        ] {
            assert_eq!(MediaKind::parse(kind.as_str()), Some(kind));
            assert_eq!(MediaKind::from_extension(kind.extension()), Some(kind));
        }
    }

    #[test]
    fn checks_match_the_name_and_bound_the_size() {
        assert_eq!(check_media("a.png", PNG), Ok((MediaKind::Png, Some((1, 1)))));
        let err = check_media("a.jpg", PNG).expect_err("mismatch");
        assert!(err.contains("holds a PNG image: rename it to .png"), "{err}");
        let err = check_media("a.png", b"not an image").expect_err("text");
        assert!(err.contains("is not a PNG image"), "{err}");
        assert!(check_media("a.png", b"").expect_err("empty").contains("empty file"));
        let mut huge = PNG.to_vec();
        huge.resize(MAX_MEDIA_BYTES + 1, 0);
        assert!(check_media("a.png", &huge).expect_err("huge").contains("up to 25 MB"));
        // A decompression bomb: a small file whose header claims
        // 100,000 × 100,000 pixels is refused before any decoding.
        let mut bomb = PNG.to_vec();
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let err = check_media("bomb.png", &bomb).expect_err("bomb");
        assert!(
            err.contains("100000 × 100000 pixels") && err.contains("scale it down"),
            "{err}"
        );
        let mut wide = PNG.to_vec();
        wide[16..20].copy_from_slice(&30_000u32.to_be_bytes());
        assert!(check_media("wide.png", &wide).expect_err("wide").contains("a side"));
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
        assert_eq!(check_media("d.svg", svg), Ok((MediaKind::Svg, None)));
        assert!(
            check_media("d.svg", PNG)
                .expect_err("png as svg")
                .contains("rename it to .png")
        );
    }
}
