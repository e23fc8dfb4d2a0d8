//! Static files of the theme (stylesheet, script, icons), embedded in the
//! binary or overridden from a theme folder, and served under
//! content-hashed names so browsers may cache them forever.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The embedded files: (logical name, bytes).
const FILES: &[(&str, &[u8])] = &[
    ("quire.css", include_bytes!("../assets/quire.css")),
    ("quire.js", include_bytes!("../assets/quire.js")),
    ("admin.css", include_bytes!("../assets/admin.css")),
    ("admin-editor.js", include_bytes!("../assets/admin-editor.js")),
];

/// Largest theme file Quire serves from memory.
pub const MAX_ASSET_BYTES: u64 = 16 * 1024 * 1024;

/// Whether a content type gains from gzip or brotli (text does; images
/// and fonts are compressed already).
pub fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/") || content_type.contains("svg") || content_type.contains("json")
}

/// One static file, ready to serve.
#[derive(Clone, Debug)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: Bytes,
    /// Hex digest prefix of the bytes, also the strong ETag.
    pub hash: String,
}

/// Every static file, by logical name and by served (hashed) name.
#[derive(Clone, Debug)]
pub struct Assets {
    by_name: HashMap<String, Asset>,
    by_served_name: HashMap<String, String>,
}

/// The content type a browser needs for a file, from its extension.
pub fn content_type_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

impl Assets {
    pub fn embedded() -> Assets {
        let mut assets = Assets {
            by_name: HashMap::new(),
            by_served_name: HashMap::new(),
        };
        for (name, bytes) in FILES {
            assets.insert(name, Bytes::from_static(bytes));
        }
        assets
    }

    /// Adds or replaces the file `name`.
    pub fn insert(&mut self, name: &str, bytes: Bytes) {
        let digest = Sha256::digest(&bytes);
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        if let Some(old) = self.by_name.get(name) {
            self.by_served_name.remove(&served_name(name, &old.hash));
        }
        self.by_served_name.insert(served_name(name, &hash), name.to_owned());
        self.by_name.insert(
            name.to_owned(),
            Asset {
                content_type: content_type_of(name),
                bytes,
                hash,
            },
        );
    }

    /// Adds every file under `dir` (sub-folders as `a/b.png`), replacing
    /// embedded files of the same name.
    pub fn overlay_dir(&mut self, dir: &Path) -> Result<(), super::ThemeError> {
        for (name, path) in super::files_under(dir)? {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_ASSET_BYTES {
                return Err(super::ThemeError::new(
                    &path,
                    format!(
                        "is larger than {} MiB; serve large files from elsewhere",
                        MAX_ASSET_BYTES / 1024 / 1024
                    ),
                ));
            }
            let bytes = std::fs::read(&path).map_err(|e| super::ThemeError::new(&path, e.to_string()))?;
            self.insert(&name, Bytes::from(bytes));
        }
        Ok(())
    }

    /// The URL path of `name`, e.g. `/assets/quire.3f2a9c01b2d4.css`.
    pub fn url(&self, name: &str) -> String {
        match self.by_name.get(name) {
            Some(a) => format!("/assets/{}", served_name(name, &a.hash)),
            None => format!("/assets/{name}"),
        }
    }

    /// Every file's URL by logical name, for templates' `asset_url()`.
    pub fn urls(&self) -> HashMap<String, String> {
        self.by_name.keys().map(|name| (name.clone(), self.url(name))).collect()
    }

    /// Every file with its served (hashed) name.
    pub fn served(&self) -> impl Iterator<Item = (&str, &Asset)> {
        self.by_served_name
            .iter()
            .filter_map(|(served, name)| self.by_name.get(name).map(|a| (served.as_str(), a)))
    }

    /// The file served as `served` (the hashed name), if any.
    pub fn get(&self, served: &str) -> Option<&Asset> {
        self.by_served_name.get(served).and_then(|name| self.by_name.get(name))
    }
}

/// `quire.css` with hash `abc` → `quire.abc.css`.
fn served_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_served_by_hashed_name_only() {
        let assets = Assets::embedded();
        let url = assets.url("quire.css");
        let served = url.strip_prefix("/assets/").expect("prefix");
        assert!(served.starts_with("quire.") && served.ends_with(".css") && served.len() > 10);
        assert!(assets.get(served).is_some());
        assert!(assets.get("quire.css").is_none());
        assert!(assets.get("../Cargo.toml").is_none());
    }

    #[test]
    fn replacing_a_file_changes_its_url() {
        let mut assets = Assets::embedded();
        let before = assets.url("quire.css");
        assets.insert("quire.css", Bytes::from_static(b"body{}"));
        let after = assets.url("quire.css");
        assert_ne!(before, after);
        assert!(assets.get(before.trim_start_matches("/assets/")).is_none());
        let served = assets.get(after.trim_start_matches("/assets/")).expect("new file");
        assert_eq!(&served.bytes[..], b"body{}");
        assert_eq!(served.content_type, "text/css; charset=utf-8");
        assert_eq!(content_type_of("logo.SVG"), "image/svg+xml");
    }
}
