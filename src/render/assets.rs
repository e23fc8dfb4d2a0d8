//! Static files of the theme (stylesheet, icons), embedded in the binary and
//! served under content-hashed names so browsers may cache them forever.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The embedded files: (logical name, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[(
    "quire.css",
    "text/css; charset=utf-8",
    include_bytes!("../../assets/quire.css"),
)];

/// One static file, ready to serve.
#[derive(Clone, Debug)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// Hex digest prefix of the bytes, also the strong ETag.
    pub hash: String,
}

/// Every static file, by logical name and by served (hashed) name.
#[derive(Clone, Debug)]
pub struct Assets {
    by_name: HashMap<&'static str, Asset>,
    by_served_name: HashMap<String, &'static str>,
}

impl Assets {
    pub fn embedded() -> Assets {
        let mut by_name = HashMap::new();
        let mut by_served_name = HashMap::new();
        for (name, content_type, bytes) in FILES {
            let digest = Sha256::digest(bytes);
            let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            by_served_name.insert(served_name(name, &hash), *name);
            by_name.insert(
                *name,
                Asset {
                    content_type,
                    bytes,
                    hash,
                },
            );
        }
        Assets {
            by_name,
            by_served_name,
        }
    }

    /// The URL path of `name`, e.g. `/assets/quire.3f2a9c01b2d4.css`.
    pub fn url(&self, name: &str) -> String {
        match self.by_name.get(name) {
            Some(a) => format!("/assets/{}", served_name(name, &a.hash)),
            None => format!("/assets/{name}"),
        }
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
}
