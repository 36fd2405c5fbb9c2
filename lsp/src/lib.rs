//! # norm-lsp
//!
//! The language server for Norm (`norm lsp`): diagnostics, hover, go to definition, references,
//! rename, symbols, completion, semantic tokens, folding, inlay hints, quick fixes, test code
//! lenses and formatting, over stdio.
//!
//! There is one front end: every feature reads what the compiler's own error-tolerant parser
//! and fault-tolerant checker produced (`driver::compile`), indexed by
//! [`norm_compiler::index`]. This is the only crate that knows the LSP protocol.
//!
//! Threads: the protocol runs on one thread (a current-thread Tokio runtime); compilations
//! run on blocking threads with a large stack (as the CLI's), one per law at a time.

#![forbid(unsafe_code)]

pub mod features;
pub mod server;
pub mod text;
pub mod transport;
pub mod workspace;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Stack of the threads that compile (deeply nested input stays far from the limit).
const STACK: usize = 256 * 1024 * 1024;

/// The runtime the server runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .thread_stack_size(STACK)
        .max_blocking_threads(4)
        .build()
}

/// Serves the protocol over a pair of streams until the client exits or closes the input.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    const PIPE: usize = 1 << 16;
    let (to_server, server_in) = tokio::io::duplex(PIPE);
    let (server_out, from_server) = tokio::io::duplex(PIPE);
    let (answers_in, answers_out) = tokio::io::duplex(PIPE);
    let (service, socket) = LspService::new(server::Backend::new);
    let server = Server::new(server_in, server_out, socket).serve(service);
    let work = async {
        tokio::join!(server, transport::merge(from_server, answers_out, output));
    };
    tokio::pin!(work);
    tokio::select! {
        _ = &mut work => {}
        _ = transport::guard(input, to_server, answers_in) => {
            // The input ended: the server sees the end of its own and stops.
            (&mut work).await;
        }
    }
}

/// `norm lsp`: serves on stdin and stdout. Returns the exit code.
pub fn run_stdio() -> u8 {
    match runtime() {
        Ok(rt) => {
            rt.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
            // A read of stdin may still be blocked: do not wait for it.
            rt.shutdown_background();
            0
        }
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            1
        }
    }
}
