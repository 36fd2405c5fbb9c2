//! Positions: the compiler counts bytes, LSP counts lines and UTF-16 code units. Every
//! conversion between the two goes through [`LineIndex`].
//!
//! Positions from a client are untrusted: a character past the end of its line means the end
//! of the line (as the protocol says), a line past the end of the document is refused by the
//! caller with an `InvalidParams` error ([`LineIndex::offset`] returns `None`), and a position
//! inside a character that takes two UTF-16 units is moved to the character's start.

use tower_lsp_server::ls_types::{Position, Range};

/// Line starts of one text, for conversions in O(log n + line length).
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The LSP position of a byte offset (clamped to the text).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(self.len).min(text.len());
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let end = floor_char_boundary(text, start, offset);
        let character = utf16_len(text.get(start..end).unwrap_or(""));
        position(line, character)
    }

    /// A [`Cursor`] over this text, for the positions of many offsets in increasing order.
    pub fn cursor<'a>(&'a self, text: &'a str) -> Cursor<'a> {
        Cursor {
            ix: self,
            text,
            line: 0,
            offset: 0,
            character: 0,
        }
    }

    /// The line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        }
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range {
            start: self.position(text, start),
            end: self.position(text, end.max(start)),
        }
    }

    /// The byte offset of an LSP position, or `None` if its line is past the end of the text
    /// (the line just after a final newline is the end of the text).
    pub fn offset(&self, text: &str, pos: Position) -> Option<usize> {
        let line = pos.line as usize;
        let start = *self.starts.get(line)?;
        let end = self
            .starts
            .get(line + 1)
            .map(|s| s.saturating_sub(1))
            .unwrap_or(self.len);
        let line_text = text.get(start..end).unwrap_or("");
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let mut units = 0usize;
        for (i, c) in line_text.char_indices() {
            if units + c.len_utf16() > pos.character as usize {
                return Some(start + i);
            }
            units += c.len_utf16();
        }
        Some(start + line_text.len())
    }

    /// Like [`LineIndex::offset`], but a line past the end means the end of the text (for
    /// edits, whose ranges clients sometimes stretch to "the end").
    pub fn offset_clamped(&self, text: &str, pos: Position) -> usize {
        self.offset(text, pos).unwrap_or(self.len)
    }
}

/// Positions of byte offsets given in increasing order (the tokens of a file), each counted on
/// from the previous one: converting all the tokens of a line costs the line's length, where
/// [`LineIndex::position`] (which counts from the line's start) would cost its square. An
/// offset before the previous one is counted from its line's start again.
pub struct Cursor<'a> {
    ix: &'a LineIndex,
    text: &'a str,
    /// The line, byte offset (a char boundary) and UTF-16 column reached.
    line: usize,
    offset: usize,
    character: usize,
}

impl Cursor<'_> {
    /// The LSP position of a byte offset (clamped to the text), as [`LineIndex::position`].
    pub fn position(&mut self, offset: usize) -> Position {
        let offset = offset.min(self.ix.len).min(self.text.len());
        let line = self.ix.line_of(offset);
        if line != self.line || offset < self.offset {
            self.line = line;
            self.offset = self.ix.starts.get(line).copied().unwrap_or(0);
            self.character = 0;
        }
        let end = floor_char_boundary(self.text, self.offset, offset);
        self.character += utf16_len(self.text.get(self.offset..end).unwrap_or(""));
        self.offset = end;
        position(line, self.character)
    }
}

/// The char boundary at or before `offset`, not before `start` (a char boundary).
fn floor_char_boundary(text: &str, start: usize, offset: usize) -> usize {
    let mut o = offset;
    while o > start && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

fn position(line: usize, character: usize) -> Position {
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(character).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_columns() {
        let text = "a😀b\nçd\n";
        let ix = LineIndex::new(text);
        // 😀 is 4 bytes and 2 UTF-16 units.
        assert_eq!(ix.position(text, 5), pos(0, 3));
        assert_eq!(ix.offset(text, pos(0, 3)), Some(5));
        // Inside the surrogate pair: the character's start.
        assert_eq!(ix.offset(text, pos(0, 2)), Some(1));
        assert_eq!(ix.position(text, 9), pos(1, 1));
        assert_eq!(ix.offset(text, pos(1, 1)), Some(9));
    }

    #[test]
    fn cursor_agrees_with_position() {
        let text = "a😀b\nçd 😀\r\n\nxyz";
        let ix = LineIndex::new(text);
        let mut c = ix.cursor(text);
        // Every offset (inside characters too) forwards, then backwards, then past the end.
        let offsets: Vec<usize> = (0..=text.len()).chain((0..=text.len()).rev()).collect();
        for o in offsets.into_iter().chain([999, 3, 999]) {
            assert_eq!(c.position(o), ix.position(text, o), "offset {o}");
        }
    }

    #[test]
    fn past_the_end() {
        let text = "ab\ncd";
        let ix = LineIndex::new(text);
        assert_eq!(ix.offset(text, pos(0, 99)), Some(2));
        assert_eq!(ix.offset(text, pos(1, 99)), Some(5));
        assert_eq!(ix.offset(text, pos(2, 0)), None);
        assert_eq!(ix.offset_clamped(text, pos(7, 0)), 5);
        assert_eq!(ix.position(text, 999), pos(1, 2));
    }

    #[test]
    fn crlf_lines() {
        let text = "ab\r\ncd";
        let ix = LineIndex::new(text);
        assert_eq!(ix.offset(text, pos(0, 5)), Some(2));
        assert_eq!(ix.offset(text, pos(1, 1)), Some(5));
    }
}
