//! The compiler's whole world for one paper: the generated main file, the
//! template, the fonts and the paper's images. Any other path (a file on
//! disk, a package, `/etc/passwd`) is not found; there is no network.

use crate::Typesetter;
use typst::WorldExt;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

pub struct PaperWorld<'t> {
    typesetter: &'t Typesetter,
    main: Source,
    template: Source,
    images: Vec<(FileId, Bytes)>,
}

fn file_id(path: &str) -> FileId {
    // Paths are made by Quire ("/main.typ", "/images/0.png") and valid.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| VirtualPath::new("/invalid").expect("a valid path"));
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

impl<'t> PaperWorld<'t> {
    pub fn new(typesetter: &'t Typesetter, main: String, images: &[(String, Bytes)]) -> PaperWorld<'t> {
        PaperWorld {
            typesetter,
            main: Source::new(file_id("/main.typ"), main),
            template: Source::new(file_id("/template.typ"), typesetter.template.clone()),
            images: images
                .iter()
                .map(|(path, data)| (file_id(path), data.clone()))
                .collect(),
        }
    }
}

impl PaperWorld<'_> {
    /// Compiler messages with where they point: the template (as a theme
    /// names it, `pdf/paper.typ`) or the generated paper, and the line.
    pub fn describe(&self, errors: &[SourceDiagnostic]) -> String {
        errors
            .iter()
            .map(|e| {
                let place = e.span.id().and_then(|id| {
                    let source = self.source(id).ok()?;
                    let range = self.range(e.span)?;
                    let line = source.text()[..range.start.min(source.text().len())]
                        .matches('\n')
                        .count()
                        + 1;
                    let file = if id == self.template.id() {
                        "pdf/paper.typ"
                    } else {
                        "the generated paper"
                    };
                    Some(format!("{file}, line {line}: "))
                });
                format!("{}{}", place.unwrap_or_default(), e.message)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl World for PaperWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.typesetter.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.typesetter.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.template.id() {
            Ok(self.template.clone())
        } else {
            Err(FileError::NotFound(id.vpath().get_with_slash().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        match self.images.iter().find(|(image, _)| *image == id) {
            Some((_, data)) => Ok(data.clone()),
            None => Err(FileError::NotFound(id.vpath().get_with_slash().into())),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.typesetter.fonts.get(index).cloned()
    }

    /// No clock: a paper's PDF depends on the paper alone.
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}
