//! Source text to syntax tree: [`lexer`] (logos), the lalrpop grammar, [`parser`] (error
//! recovery and syntax diagnostics), [`ast`] (the tree) and [`format`] (the formatter).

pub mod ast;
pub mod format;
pub mod lexer;
pub mod parser;
