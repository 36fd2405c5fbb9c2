//! # norm-runtime
//!
//! Everything that executes a checked law: the reference interpreter ([`interp`]), facts JSON
//! ([`facts`]), deciding a case ([`decision`]), `test` blocks ([`testing`]) and the embedding
//! API ([`Engine`]).

pub mod decision;
pub mod engine;
pub mod facts;
pub mod interp;
pub mod jit;
pub mod testing;
pub mod why;

pub use decision::Decision;
pub use engine::{DecideError, Engine, FsLoader, LoadError};
pub use norm_compiler::date::Date;
