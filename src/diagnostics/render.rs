//! The one adapter between svcc diagnostics and miette's rustc-like renderer.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{Diagnostic, Severity};
use crate::source::SourceMap;

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
        let report = Report::new(sources, diagnostic);
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

    pub fn render_all(&self, sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
        diagnostics
            .iter()
            .map(|d| self.render(sources, d))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Colourless rendering, as snapshots and pipes see it.
pub fn render_plain(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    Renderer::new(false).render_all(sources, diagnostics)
}

/// A diagnostic bound to its file, in the shape miette draws.
struct Report {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<String>,
}

impl Report {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Self {
        let file = sources.get(d.primary.span.file);
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
            source: NamedSource::new(file.name.clone(), file.text.clone()),
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

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
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
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}
