//! A paper's typeset PDF: what the PDF shows, from the stored paper and
//! the site, handed to `quire_pdf`, which does the typesetting.

use crate::cite::Citation;
use crate::{DateView, paths};
use pulldown_cmark::{Event, Tag};
use quire_core::domain::{Direction, MediaFile, MediaMeta, Paper, media_name};
use quire_pdf::{Author, Image, PaperInfo, Pdf, PdfError, Typesetter};

/// Which site a PDF is made for: its name, address and language.
pub struct PdfSite<'a> {
    pub name: &'a str,
    pub base_url: &'a str,
    pub language: &'a str,
}

/// What the first page, running header and footer, metadata and closing
/// citation of `paper`'s PDF show.
pub fn paper_info(paper: &Paper, site: &PdfSite<'_>) -> PaperInfo {
    let (site_name, base_url) = (site.name, site.base_url);
    let meta = &paper.meta;
    let permalink = format!("{base_url}{}", paths::paper(&meta.slug));
    let citation = Citation::new(meta, site_name, permalink.clone()).chicago_text();
    PaperInfo {
        organisation: site_name.to_owned(),
        kind: crate::capitalise(&meta.kind),
        title: meta.title.clone(),
        subtitle: meta.subtitle.clone(),
        short_title: meta.title.clone(),
        authors: meta
            .authors
            .iter()
            .map(|a| Author {
                name: a.name.clone(),
                affiliation: a.affiliation.clone(),
            })
            .collect(),
        date: meta.published_at.map(|t| DateView::new(t).display).unwrap_or_default(),
        date_parts: meta.published_at.map(|t| (t.year(), u8::from(t.month()), t.day())),
        summary: meta.summary.clone(),
        permalink,
        language: meta.language.clone(),
        right_to_left: meta.direction() == Direction::Rtl,
        site_language: site.language.to_owned(),
        keywords: meta.topics.iter().map(|t| t.name.clone()).collect(),
        citation,
    }
}

/// The images `paper`'s body shows that are stored with it (`media`), each
/// under the address the body gives it, in order of first use: what the
/// typesetter embeds. Images from elsewhere are not fetched; the PDF
/// prints their description.
pub fn image_refs<'m>(paper: &Paper, media: &'m [MediaMeta]) -> Vec<(String, &'m MediaMeta)> {
    let mut out: Vec<(String, &MediaMeta)> = Vec::new();
    for event in quire_core::markdown::events(&paper.body) {
        let Event::Start(Tag::Image { dest_url, .. }) = event else {
            continue;
        };
        if out.iter().any(|(url, _)| url == dest_url.as_ref()) {
            continue;
        }
        let Ok(Some(name)) = media_name(&dest_url) else {
            continue;
        };
        if let Some(meta) = media.iter().find(|m| m.name == name) {
            out.push((dest_url.to_string(), meta));
        }
    }
    out
}

/// The typesetter's images for `refs`, with their bytes from `files` (an
/// image missing there is described instead).
pub fn images(refs: &[(String, &MediaMeta)], files: &[MediaFile]) -> Vec<Image> {
    refs.iter()
        .filter_map(|(url, meta)| {
            let file = files.iter().find(|f| f.meta.name == meta.name)?;
            Some(Image {
                url: url.clone(),
                extension: file.meta.kind.extension().to_owned(),
                data: file.data.clone(),
            })
        })
        .collect()
}

/// Typesets `paper` with its stored images (`media`). CPU-bound for tens of
/// milliseconds: callers on the async runtime run it on a blocking thread.
pub fn typeset(
    typesetter: &Typesetter,
    paper: &Paper,
    media: &[MediaFile],
    site: &PdfSite<'_>,
) -> Result<Pdf, PdfError> {
    let info = paper_info(paper, site);
    let metas: Vec<MediaMeta> = media.iter().map(|m| m.meta.clone()).collect();
    let images = images(&image_refs(paper, &metas), media);
    typesetter.typeset(&info, quire_core::markdown::events(&paper.body), &images)
}
