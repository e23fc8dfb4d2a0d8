//! `/papers/{slug}.pdf`: the paper typeset by Typst, made on a blocking
//! thread, a few at a time and within a time limit, and kept by a hash of
//! everything it is made from, so an edit makes a new one and nothing
//! else does.

use super::{AppState, PageError};
use crate::cache::CachedPage;
use bytes::Bytes;
use quire_core::domain::{MediaFile, Paper};
use quire_pdf::Typesetter;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Why a paper's PDF could not be made, its cause kept.
#[derive(Debug, thiserror::Error)]
pub enum PdfFailure {
    #[error(transparent)]
    Typeset(#[from] quire_pdf::PdfError),
    #[error("typesetting took over {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("the typesetter stopped: {0}")]
    Stopped(#[source] tokio::task::JoinError),
    #[error("the typesetter is shutting down")]
    ShuttingDown,
}

/// PDFs typeset at once: each keeps a core busy.
const AT_ONCE: usize = 2;
/// Longest a reader waits for one; a longer paper is an error to look at.
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// PDFs kept by content hash.
const KEPT: usize = 64;

/// PDFs by the hash of what they were made from, oldest first.
#[derive(Default)]
struct Kept {
    pdfs: HashMap<[u8; 32], Bytes>,
    order: VecDeque<[u8; 32]>,
}

/// Makes and keeps PDFs for the server.
pub struct PdfMaker {
    typesetter: Arc<Typesetter>,
    permits: Arc<Semaphore>,
    time_limit: Duration,
    kept: Mutex<Kept>,
}

impl PdfMaker {
    /// The PDF kept under `key`, if any.
    fn kept(&self, key: &[u8; 32]) -> Option<Bytes> {
        self.kept.lock().ok().and_then(|kept| kept.pdfs.get(key).cloned())
    }

    pub fn new(template: Option<String>) -> PdfMaker {
        Self::with_limit(template, TIME_LIMIT)
    }

    fn with_limit(template: Option<String>, time_limit: Duration) -> PdfMaker {
        PdfMaker {
            typesetter: Arc::new(Typesetter::new(template)),
            permits: Arc::new(Semaphore::new(AT_ONCE)),
            time_limit,
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The PDF of `paper`: kept, or typeset now with the images
    /// `load_media` reads. Images are read only once a typesetting permit
    /// is held, so readers asking for many PDFs at once cannot make the
    /// server hold every paper's images in memory.
    pub async fn pdf<F, Fut>(
        &self,
        paper: &Paper,
        site: &quire_render::SiteView,
        load_media: F,
    ) -> Result<Bytes, PageError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<MediaFile>, PageError>>,
    {
        let site = quire_render::pdf::PdfSite {
            name: &site.name,
            base_url: &site.base_url,
            language: &site.language,
        };
        let info = quire_render::pdf::paper_info(paper, &site);
        let refs = quire_render::pdf::image_refs(paper, &paper.media);
        // The source names images by number and extension only.
        let placeholders: Vec<quire_pdf::Image> = refs
            .iter()
            .map(|(url, meta)| quire_pdf::Image {
                url: url.clone(),
                extension: meta.kind.extension().to_owned(),
                data: Vec::new(),
            })
            .collect();
        let source = self
            .typesetter
            .source(&info, quire_core::markdown::events(&paper.body), &placeholders);
        let mut hasher = Sha256::new();
        hasher.update(self.typesetter.template().as_bytes());
        hasher.update([0]);
        hasher.update(source.as_bytes());
        // The images' bytes count too, by their stored fingerprints.
        for (_, meta) in &refs {
            hasher.update([0]);
            hasher.update(meta.sha256.as_bytes());
        }
        let key: [u8; 32] = hasher.finalize().into();
        if let Some(pdf) = self.kept(&key) {
            return Ok(pdf);
        }
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PdfFailure::ShuttingDown)?;
        // Made while this request waited its turn.
        if let Some(pdf) = self.kept(&key) {
            return Ok(pdf);
        }
        let images = if refs.is_empty() {
            Vec::new()
        } else {
            quire_render::pdf::images(&refs, &load_media().await?)
        };
        let typesetter = self.typesetter.clone();
        let ident = info.permalink.clone();
        // The compile goes on to its end if the time runs out (it cannot
        // be stopped), and holds its permit until then, so runaway papers
        // cannot pile up.
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            typesetter.compile(source, &images, &ident)
        });
        let pdf = match tokio::time::timeout(self.time_limit, job).await {
            Ok(Ok(Ok(pdf))) => {
                let misused = quire_pdf::misused_fonts(&pdf);
                if !misused.is_empty() {
                    tracing::warn!(slug = %paper.meta.slug, fonts = ?misused, "the PDF sets text in faces not made for it");
                }
                Bytes::from(pdf.bytes)
            }
            Ok(Ok(Err(e))) => return Err(PdfFailure::Typeset(e).into()),
            Ok(Err(e)) => return Err(PdfFailure::Stopped(e).into()),
            Err(_) => return Err(PdfFailure::TimedOut(self.time_limit).into()),
        };
        if let Ok(mut kept) = self.kept.lock() {
            if kept.pdfs.insert(key, pdf.clone()).is_none() {
                kept.order.push_back(key);
            }
            while kept.order.len() > KEPT {
                if let Some(old) = kept.order.pop_front() {
                    kept.pdfs.remove(&old);
                }
            }
        }
        Ok(pdf)
    }
}

/// Serves `/papers/{slug}.pdf` (`slug` without `.pdf`).
pub async fn paper_pdf(state: AppState, slug: &str, headers: &axum::http::HeaderMap) -> axum::response::Response {
    let key = format!("{}.pdf", quire_render::paths::paper(slug).trim_end_matches('/'));
    let slug = slug.to_owned();
    state
        .cached_page(headers, key, |state| async move {
            let now = time::OffsetDateTime::now_utc();
            let paper = state.public_paper(&slug, now).await?;
            let store = state.store.clone();
            let id = paper.meta.id;
            let bytes = state
                .pdf
                .pdf(
                    &paper,
                    &state.site(),
                    || async move { Ok(store.media_files(id).await?) },
                )
                .await?;
            Ok(CachedPage::file(bytes, "application/pdf", now))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_core::domain::{PaperMeta, Status};

    fn paper() -> Paper {
        let now = time::OffsetDateTime::now_utc();
        Paper {
            meta: PaperMeta {
                id: 1,
                slug: "slow".into(),
                title: "Slow".into(),
                subtitle: None,
                kind: "report".into(),
                summary: "A summary.".into(),
                language: "en".into(),
                status: Status::Published,
                published_at: Some(now),
                updated_at: now,
                canonical_url: None,
                translation_of: None,
                comments: quire_core::domain::CommentsMode::Open,
                comment_count: 0,
                trashed_at: None,
                word_count: 1,
                authors: Vec::new(),
                topics: Vec::new(),
            },
            body: "Body.".into(),
            media: Vec::new(),
        }
    }

    fn drawing(fill: &str) -> MediaFile {
        let data = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"10\"><rect width=\"20\" height=\"10\" fill=\"{fill}\"/></svg>"
        )
        .into_bytes();
        MediaFile {
            meta: quire_core::domain::MediaMeta {
                name: "a.svg".into(),
                kind: quire_core::domain::MediaKind::Svg,
                width: None,
                height: None,
                byte_size: data.len() as u64,
                sha256: Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect(),
            },
            data,
        }
    }

    /// The same text with another image under the same name is another
    /// PDF: the kept one is not served.
    #[test]
    fn a_changed_image_makes_a_new_pdf() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let maker = PdfMaker::new(None);
        let site =
            quire_app::config::Config::default().site_view(&quire_render::Theme::embedded().expect("theme").assets);
        let mut paper = paper();
        paper.body = "![A box](a.svg)\n".into();
        let pdf = |fill: &'static str| {
            let mut paper = paper.clone();
            let file = drawing(fill);
            paper.media = vec![file.meta.clone()];
            let maker = &maker;
            let site = &site;
            async move { maker.pdf(&paper, site, || async move { Ok(vec![file]) }).await }
        };
        let red = runtime.block_on(pdf("#c00")).expect("red");
        let again = runtime.block_on(pdf("#c00")).expect("red again");
        let blue = runtime.block_on(pdf("#00c")).expect("blue");
        assert_eq!(red, again, "kept");
        assert_ne!(red, blue, "made again for the new image");
        assert_eq!(maker.kept.lock().expect("kept").order.len(), 2);
        // A kept PDF reads no image.
        paper.media = vec![drawing("#c00").meta];
        let kept = runtime
            .block_on(maker.pdf(&paper, &site, || async {
                Err(PageError::Worker("images were read for a kept PDF".into()))
            }))
            .expect("kept");
        assert_eq!(kept, red);
    }

    /// A template that computes for seconds is cut off at the limit, and
    /// its permit is held until it ends, so such papers cannot pile up.
    #[test]
    fn typesetting_past_the_time_limit_is_an_error() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let slow = "#let paper(..args, doc) = { let n = 0; for i in range(5000000) { n += 1 }; [#n]; doc }\n";
        let maker = PdfMaker::with_limit(Some(slow.into()), Duration::from_millis(50));
        let site =
            quire_app::config::Config::default().site_view(&quire_render::Theme::embedded().expect("theme").assets);
        let result = runtime.block_on(maker.pdf(&paper(), &site, || async { Ok(Vec::new()) }));
        match result {
            Err(PageError::Pdf(e @ PdfFailure::TimedOut(_))) => {
                let message = e.to_string();
                assert!(message.contains("took over 50 ms"), "{message}")
            }
            other => panic!("expected the time limit, got {:?}", other.map(|b| b.len())),
        }
        assert_eq!(
            maker.permits.available_permits(),
            AT_ONCE - 1,
            "the running compile keeps its permit"
        );
        // The compile runs on to its end in the background; do not wait.
        runtime.shutdown_background();
    }
}
