//! formatter placeholder
use crate::diagnostic::Diagnostic;
use crate::span::FileId;
pub fn format_source(_file: FileId, src: &str) -> Result<String, Vec<Diagnostic>> {
    Ok(src.to_string())
}
