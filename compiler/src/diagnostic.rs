//! Diagnostics as plain data.
//!
//! Every phase reports problems as [`Diagnostic`] values: a severity, a stable code, a one-line
//! message (lowercase, no final period, user input in backticks), labelled spans and an optional
//! `help` line. Only at the edge are they turned into terminal output ([`render`]), JSON (the
//! CLI) or LSP diagnostics (the language server).

use crate::files::SourceDb;
use crate::span::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable code such as `E0101`, so tools and tests can match on it.
    pub code: &'static str,
    pub message: String,
    /// The span that is to blame, with a short label.
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn to_codespan(&self) -> cs::Diagnostic<crate::span::FileId> {
        let mut d = match self.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        }
        .with_code(self.code)
        .with_message(&self.message);
        let mut labels = Vec::new();
        if let Some(p) = &self.primary {
            labels.push(cs::Label::primary(p.span.file, p.span.range()).with_message(&p.message));
        }
        for s in &self.secondary {
            labels.push(cs::Label::secondary(s.span.file, s.span.range()).with_message(&s.message));
        }
        let mut notes = self.notes.clone();
        if let Some(h) = &self.help {
            notes.push(format!("help: {h}"));
        }
        d = d.with_labels(labels).with_notes(notes);
        d
    }

    /// `file:line:col` of the primary span, if any.
    pub fn location(&self, db: &SourceDb) -> Option<(String, usize, usize)> {
        let p = self.primary.as_ref()?;
        let (line, col) = db.line_col(p.span.file, p.span.start as usize);
        Some((db.name(p.span.file).to_string(), line, col))
    }
}

/// Renders diagnostics the way a terminal shows them (codespan style), without colour.
pub fn render(db: &SourceDb, diagnostics: &[Diagnostic]) -> String {
    let mut out: Vec<u8> = Vec::new();
    let config = term::Config::default();
    for d in diagnostics {
        // Rendering into memory cannot fail for I/O reasons; a span outside its file is shown
        // without source instead.
        if term::emit_to_io_write(&mut out, &config, db, &d.to_codespan()).is_err() {
            let mut plain = d.clone();
            plain.primary = None;
            plain.secondary.clear();
            let _ = term::emit_to_io_write(&mut out, &config, db, &plain.to_codespan());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Renders with colour to a terminal writer.
pub fn emit(
    writer: &mut dyn term::WriteStyle,
    db: &SourceDb,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diagnostics {
        term::emit_to_write_style(writer, &config, db, &d.to_codespan())
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}
