//! # norm-runtime
//!
//! Everything that executes a checked law: the reference interpreter ([`interp`]), facts JSON
//! ([`facts`]), deciding a case ([`decision`]), `test` blocks ([`testing`]), the embedding
//! API ([`Engine`]), signed data modules ([`modules`]) and the impact of a new version over a
//! corpus of cases ([`diff`]).

pub mod decision;
pub mod diff;
pub mod engine;
pub mod facts;
pub mod interp;
pub mod jit;
pub mod modules;
pub mod schema;
pub mod subjects;
pub mod testing;
pub mod why;

pub use decision::Decision;
pub use engine::{
    DecideError, DecideOptions, Engine, EngineKind, EngineOptions, FsLoader, InstallOptions,
    Installed, LoadError, OpenError, Snapshot,
};
pub use modules::{ModuleError, TrustStore};
pub use norm_compiler::date::Date;
pub use norm_compiler::driver::MemoryLoader;
pub use norm_compiler::files::Loader;
