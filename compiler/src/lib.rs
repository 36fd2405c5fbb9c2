//! # norm-compiler
//!
//! Source to checked IR, purely: this crate reads only the sources it is handed (through a
//! [`files::Loader`] for imports), has no `unsafe` and knows nothing of Cranelift, argv or
//! terminals. The pipeline: [`syntax`] (lex, parse) → [`check`] (resolve, type-check, lower)
//! → [`ir`].

#![forbid(unsafe_code)]

pub mod calendar;
pub mod check;
pub mod date;
pub mod diagnostic;
pub mod driver;
pub mod files;
pub mod index;
pub mod ir;
pub mod layout;
pub mod span;
pub mod syntax;
pub mod value;
