//! `norm`: the command-line face of Norm. Thin: parses arguments, calls the compiler and the
//! runtime, prints. The only crate that knows about argv, terminals and exit codes
//! (0 success, 1 the input is wrong, 2 the command line is wrong; never a panic).

/// `println!` for the command's output: a reader that goes away early (`norm schema … | head`)
/// ends the output, not the program (a closed pipe is not an error of ours).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` likewise.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod commands;
mod coverage;
mod data;
mod diff;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "norm",
    version,
    about = "Norm: law as checked, explainable code",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The law compiled to native code (Cranelift)
    Jit,
    /// The reference interpreter
    Interp,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestEngine {
    /// The law compiled to native code (Cranelift)
    Jit,
    /// The reference interpreter
    Interp,
    /// Both, and the results must agree
    Both,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check files or directories
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Print the checked IR
        #[arg(long)]
        ir: bool,
    },
    /// Decide one case
    Eval {
        /// The law: a directory or a file
        law: PathBuf,
        /// Facts of the case (JSON)
        #[arg(long)]
        facts: PathBuf,
        /// Decide as of this date (YYYY-MM-DD; default: today)
        #[arg(long)]
        as_of: Option<String>,
        /// Data modules (default: the `data` directory beside the law)
        #[arg(long)]
        data: Option<Vec<PathBuf>>,
        /// Which engine decides
        #[arg(long, value_enum, default_value = "jit")]
        engine: EngineKind,
        /// Explain each norm: the conditions that held and the exceptions considered
        #[arg(long)]
        explain: bool,
        /// Explain why this norm does not apply, and what change to the facts would make it apply
        #[arg(long, value_name = "ID")]
        why_not: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Accept only data modules that are packages verifying with this trust store
        #[arg(long, value_name = "TRUST.json")]
        trust: Option<PathBuf>,
    },
    /// Run `test` blocks
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Which engine runs the tests
        #[arg(long, value_enum, default_value = "both")]
        engine: TestEngine,
        /// Report, per article, which norms the tests exercised (applied in some test's case)
        #[arg(long)]
        coverage: bool,
    },
    /// Format source files canonically
    Fmt {
        /// Report files that are not formatted, change nothing
        #[arg(long)]
        check: bool,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Evaluate one expression
    Expr {
        expr: String,
        /// The law whose types and data schemas the expression may use (default: stdlib/mail if present)
        #[arg(long)]
        law: Option<PathBuf>,
        /// Data modules (default: the `data` directory beside the law)
        #[arg(long)]
        data: Option<Vec<PathBuf>>,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the JSON Schema of the facts a law expects
    Schema { law: PathBuf },
    /// Run the language server on stdin and stdout
    Lsp,
    /// Publisher keys, signed data-module packages, trust, imported lists
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
    /// The norms each case of a corpus gains, loses or sees changed under a new data module or law version
    Diff(diff::DiffArgs),
    /// Serve the law over HTTP (`/v1/decide`, `/v1/law`, `/v1/schema`, `/v1/modules`, `/metrics`, `/v1/openapi.json`)
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The law: a directory or a file
    #[arg(long)]
    law: PathBuf,
    /// Data modules (default: the `data` directory beside the law)
    #[arg(long)]
    data: Option<Vec<PathBuf>>,
    /// Address to listen on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Accept only data modules that are packages verifying with this trust store; turns on `PUT /v1/modules`
    #[arg(long, value_name = "TRUST.json")]
    trust: Option<PathBuf>,
    /// A directory watched for signed packages (`*.normpkg`) to install, those there at start first; needs --trust
    #[arg(long, value_name = "DIR")]
    modules_dir: Option<PathBuf>,
    /// Append one JSON line per decision to this file
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Also write each case's facts into the decision log (by default only their SHA-256)
    #[arg(long)]
    log_facts: bool,
    /// Rotate the decision log when it would grow past this many bytes
    #[arg(long, default_value_t = 100 * 1024 * 1024)]
    decision_log_max_bytes: u64,
    /// The bearer token `PUT /v1/modules` requires
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Largest body of `POST /v1/decide`, in bytes
    #[arg(long, default_value_t = 1024 * 1024)]
    max_body: usize,
    /// Seconds a request may take, its body included (and the time allowed to send its headers)
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Requests handled at once; beyond it, 503
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    // Deeply nested input is refused by the compiler, but a generous stack keeps every pass
    // (and the drop of a large tree) far from the limit.
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || run(cli));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal error (the evaluation thread stopped); please report this");
            ExitCode::from(70)
        }
    }
}

/// `norm serve`: the flags become the server's configuration; the server crate does the rest.
fn serve(args: ServeArgs) -> u8 {
    let mut config = norm_server::Config::new(args.law);
    config.data = args.data;
    config.addr = args.addr;
    config.trust = args.trust;
    config.modules_dir = args.modules_dir;
    config.decision_log = args.decision_log;
    config.token_file = args.token_file;
    config.log_facts = args.log_facts;
    config.decision_log_max_bytes = args.decision_log_max_bytes;
    config.limits.max_body = args.max_body;
    config.limits.timeout = std::time::Duration::from_secs(args.timeout);
    config.limits.concurrency = args.concurrency;
    match norm_server::run(config) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Check { paths, format, ir } => commands::check(&paths, format, ir),
        Command::Eval {
            law,
            facts,
            as_of,
            data,
            engine,
            explain,
            why_not,
            format,
            trust,
        } => commands::eval(
            &law,
            &facts,
            commands::EvalOptions {
                as_of: as_of.as_deref(),
                data: data.as_deref(),
                explain,
                why_not: why_not.as_deref(),
                format,
                trust: trust.as_deref(),
                engine: match engine {
                    EngineKind::Jit => norm_runtime::engine::EngineKind::Jit,
                    EngineKind::Interp => norm_runtime::engine::EngineKind::Interp,
                },
            },
        ),
        Command::Test {
            paths,
            engine,
            coverage,
        } => commands::test(&paths, engine, coverage),
        Command::Fmt { check, paths } => commands::fmt(&paths, check),
        Command::Expr {
            expr,
            law,
            data,
            as_of,
            format,
        } => commands::expr(
            &expr,
            law.as_deref(),
            data.as_deref(),
            as_of.as_deref(),
            format,
        ),
        Command::Schema { law } => commands::schema(&law),
        Command::Lsp => norm_lsp::run_stdio(),
        Command::Data { command } => data::run(command),
        Command::Diff(args) => diff::run(&args),
        Command::Serve(args) => serve(args),
    };
    ExitCode::from(code)
}
