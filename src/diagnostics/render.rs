//! The one adapter between svcc diagnostics and miette's rustc-like renderer.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceSpan, SpanContents,
};

use super::{Diagnostic, Severity};
use crate::source::{SourceFile, SourceMap};

/// Renders diagnostics against the files they point into.
pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    /// Colour for terminals, plain for pipes and snapshots.
    pub fn new(color: bool) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Self {
            handler: GraphicalReportHandler::new_themed(theme)
                .with_width(100)
                .with_urls(false),
        }
    }

    pub fn render(&self, sources: &SourceMap, diagnostic: &Diagnostic) -> String {
        let file = sources.get(diagnostic.primary.span.file);
        self.render_in(sources, &Indexed::new(file), diagnostic)
    }

    pub fn render_all(&self, sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
        // One line index per file, shared by its diagnostics: each then reads only the
        // lines it shows, so rendering stays linear in the number of diagnostics.
        let indexed: Vec<Indexed> = sources.files().iter().map(Indexed::new).collect();
        diagnostics
            .iter()
            .map(|d| {
                let file = usize::try_from(d.primary.span.file.0).unwrap_or(usize::MAX);
                match indexed.get(file) {
                    Some(source) => self.render_in(sources, source, d),
                    None => self.render(sources, d),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn render_in(&self, sources: &SourceMap, source: &Indexed, diagnostic: &Diagnostic) -> String {
        let report = Report::new(sources, source, diagnostic);
        let mut out = String::new();
        if self.handler.render_report(&mut out, &report).is_err() {
            // Rendering only fails on a broken `fmt::Write`; fall back to one line.
            out = format!(
                "{}[{}]: {}\n",
                diagnostic.severity.as_str(),
                diagnostic.code,
                diagnostic.message
            );
        }
        out
    }
}

/// Colourless rendering, as snapshots and pipes see it.
pub fn render_plain(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    Renderer::new(false).render_all(sources, diagnostics)
}

/// A file's text with the byte offset of every line start. miette's own `str` source
/// counts lines from the top of the file for every span it reads.
struct Indexed<'a> {
    name: &'a str,
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Indexed<'a> {
    fn new(file: &'a SourceFile) -> Self {
        let line_starts = std::iter::once(0)
            .chain(file.text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Indexed {
            name: &file.name,
            text: &file.text,
            line_starts,
        }
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1)
    }
}

impl miette::SourceCode for Indexed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let start = span.offset().min(self.text.len());
        let end = (start + span.len()).min(self.text.len());
        let first = self.line_of(start).saturating_sub(context_lines_before);
        let last = self.line_of(end.saturating_sub(1).max(start)) + context_lines_after;
        let window_start = self.line_starts[first];
        let window_end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        let window = &self.text[window_start..window_end];
        let local = SourceSpan::new((start - window_start).into(), end - start);
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_owned(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window_start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            inner.column(),
            // miette counts lines from the top of the file here, not within the snippet.
            inner.line_count() + first,
        )))
    }
}

/// A diagnostic bound to its file, in the shape miette draws.
struct Report<'a> {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: &'a Indexed<'a>,
}

impl<'a> Report<'a> {
    fn new(sources: &SourceMap, source: &'a Indexed<'a>, d: &Diagnostic) -> Self {
        let mut labels = vec![labeled(&d.primary.text, d.primary.span, true)];
        let mut notes = d.notes.clone();
        for label in &d.secondary {
            if label.span.file == d.primary.span.file {
                labels.push(labeled(&label.text, label.span, false));
            } else {
                // miette draws one file per report; point at other files in a note.
                notes.push(format!("{}: {}", sources.location(label.span), label.text));
            }
        }
        let help = match (&d.help, notes.is_empty()) {
            (None, true) => None,
            (help, _) => {
                let mut lines: Vec<String> = help.iter().cloned().collect();
                lines.extend(notes.iter().map(|n| format!("note: {n}")));
                Some(lines.join("\n"))
            }
        };
        Self {
            message: d.message.clone(),
            code: d.code.to_string(),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            labels,
            source,
        }
    }
}

fn labeled(text: &str, span: crate::source::Span, primary: bool) -> LabeledSpan {
    let text = (!text.is_empty()).then(|| text.to_string());
    let span = SourceSpan::new((span.start as usize).into(), span.len());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}
