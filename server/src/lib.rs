//! # norm-server
//!
//! `norm serve`: the law as an HTTP service (axum on tokio). The edge stays thin: each handler
//! turns a request into one call of the [`Engine`] and its result (or error) back into HTTP;
//! limits (body size, per-request timeout, concurrency) are tower layers, not code in handlers;
//! every error is the `{"error": {…}}` object the CLI prints with `--format json`.
//!
//! The engine's state is an immutable snapshot behind an atomic pointer, so decisions never
//! take a lock and a `PUT /v1/modules` swaps the snapshot while decisions in flight finish on
//! the old one. Deciding is CPU work: it runs on tokio's blocking pool, bounded by the
//! concurrency limit (beyond it a request is shed with 503, never queued without bound).

mod api;
mod conn;
mod declog;
mod metrics;
mod moddir;
mod openapi;

use norm_runtime::{Engine, EngineKind, EngineOptions, FsLoader, TrustStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What `norm serve` was asked for.
#[derive(Clone, Debug)]
pub struct Config {
    /// The law: a directory or a file.
    pub law: PathBuf,
    /// Data modules (default: the `data` directory beside the law).
    pub data: Option<Vec<PathBuf>>,
    pub addr: String,
    /// With a trust store every data module must be a package that verifies, and
    /// `PUT /v1/modules` is on (with a token).
    pub trust: Option<PathBuf>,
    /// A directory watched for signed packages (`*.normpkg`) to install; needs `trust`.
    pub modules_dir: Option<PathBuf>,
    pub decision_log: Option<PathBuf>,
    /// The bearer token `PUT /v1/modules` requires (the file's content, trimmed).
    pub token_file: Option<PathBuf>,
    /// Write the facts themselves into the decision log (by default only their SHA-256).
    pub log_facts: bool,
    /// Rotate the decision log when it would grow past this many bytes.
    pub decision_log_max_bytes: u64,
    pub limits: Limits,
}

/// The tower layers' parameters.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest body of `POST /v1/decide` (bytes); larger is a 413.
    pub max_body: usize,
    /// Largest body of `POST /v1/decide/batch`.
    pub max_batch_body: usize,
    /// A request not answered within this time (its body included) is a 408.
    pub timeout: Duration,
    /// Requests handled at once; beyond it a request is refused with 503 (load shedding).
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 1024 * 1024,
            max_batch_body: 64 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            concurrency: 256,
        }
    }
}

impl Config {
    pub fn new(law: PathBuf) -> Config {
        Config {
            law,
            data: None,
            addr: "127.0.0.1:8080".into(),
            trust: None,
            modules_dir: None,
            decision_log: None,
            token_file: None,
            log_facts: false,
            decision_log_max_bytes: 100 * 1024 * 1024,
            limits: Limits::default(),
        }
    }
}

/// Why the server could not start (its message is for the operator, said once).
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// What the handlers share.
pub(crate) struct AppState {
    pub engine: Engine,
    /// The bearer token of `PUT /v1/modules`: `None` turns the endpoint off.
    pub token: Option<String>,
    pub metrics: metrics::Metrics,
    pub ready: AtomicBool,
    /// The key that signed each module version loaded (`name@version@effective` → key id).
    pub signers: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub limits: Limits,
    pub log: Option<declog::DecisionLog>,
    /// Decision-log ids: this prefix (the start time) and a sequence number.
    pub log_prefix: String,
    pub log_seq: std::sync::atomic::AtomicU64,
    /// SHA-256 over the law's sources (each file's name and text), recorded with every decision.
    pub law_hash: String,
    /// `/v1/openapi.json`, built once (the law, and so the facts' schema, never changes).
    pub openapi: axum::body::Bytes,
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    /// The `--modules-dir` watch, kept while serving.
    modules_dir: Option<moddir::ModulesDir>,
}

/// Builds the engine and the state from the configuration (the slow part: the law compiles).
fn load(config: &Config) -> Result<AppState, StartError> {
    if let Some(dir) = &config.modules_dir {
        if config.trust.is_none() {
            return Err(StartError(format!(
                "--modules-dir `{}` needs --trust: a package from the directory is installed only if it verifies with a trust store",
                dir.display()
            )));
        }
        if !dir.is_dir() {
            return Err(StartError(format!(
                "--modules-dir: `{}` is not a directory",
                dir.display()
            )));
        }
    }
    let mut paths = vec![config.law.clone()];
    paths.extend(config.data.iter().flatten().cloned());
    paths.extend(config.trust.iter().cloned());
    paths.extend(config.token_file.iter().cloned());
    for p in &paths {
        if !p.exists() {
            return Err(StartError(format!(
                "no such file or directory: `{}`",
                p.display()
            )));
        }
    }
    let trust = match &config.trust {
        Some(t) => Some(TrustStore::load(t).map_err(|e| StartError(e.to_string()))?),
        None => None,
    };
    let token = match &config.token_file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| StartError(format!("cannot read `{}`: {e}", f.display())))?;
            let t = text.trim().to_string();
            if t.is_empty() {
                return Err(StartError(format!(
                    "the token file `{}` is empty",
                    f.display()
                )));
            }
            Some(t)
        }
        None => None,
    };
    let has_trust = trust.is_some();
    let options = EngineOptions {
        kind: EngineKind::Jit,
        trust,
    };
    let engine = Engine::open(
        &FsLoader,
        std::slice::from_ref(&config.law),
        config.data.as_deref(),
        options,
    )
    .map_err(|e| StartError(e.to_string()))?;
    let log = match &config.decision_log {
        Some(p) => Some(
            declog::DecisionLog::open(p, config.decision_log_max_bytes, config.log_facts)
                .map_err(StartError)?,
        ),
        None => None,
    };
    let signers = if has_trust {
        initial_signers(&engine, config)
    } else {
        Default::default()
    };
    Ok(AppState {
        // Without a trust store nothing could be verified: installing is off whatever the token.
        token: if has_trust { token } else { None },
        metrics: metrics::Metrics::default(),
        ready: AtomicBool::new(false),
        signers: std::sync::Mutex::new(signers),
        limits: config.limits,
        log_prefix: format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ),
        log_seq: std::sync::atomic::AtomicU64::new(0),
        law_hash: law_hash(&engine),
        openapi: openapi_bytes(&engine),
        log,
        engine,
    })
}

/// The OpenAPI document, with the law's facts schema in it.
fn openapi_bytes(engine: &Engine) -> axum::body::Bytes {
    let p = engine.program();
    let doc = openapi::document(
        norm_runtime::schema::facts_schema(p),
        &p.law.title,
        &p.law.version,
    );
    axum::body::Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
}

/// SHA-256 over the law's source files, in load order: each file's name, a NUL, its text, a NUL.
fn law_hash(engine: &Engine) -> String {
    let db = engine.sources();
    let mut bytes = Vec::new();
    for id in db.ids() {
        bytes.extend_from_slice(db.name(id).as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(db.text(id).as_bytes());
        bytes.push(0);
    }
    declog::sha256_hex(&bytes)
}

/// The key that signed each package the engine loaded at start (the snapshot keeps the
/// modules, not who signed them): verified again, which is cheap next to compiling the law.
fn initial_signers(engine: &Engine, config: &Config) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let dirs: Vec<PathBuf> = match &config.data {
        Some(d) => d.clone(),
        None => config
            .law
            .parent()
            .map(|p| vec![p.join("data")])
            .unwrap_or_default(),
    };
    let Ok(files) = norm_runtime::modules::module_files(&dirs) else {
        return out;
    };
    for f in files {
        let Ok(bytes) = norm_runtime::modules::read_file(&f) else {
            continue;
        };
        if let Ok(v) = norm_runtime::modules::open(&bytes, engine.program(), engine.trust())
            && let Some(k) = v.signed_by
        {
            out.insert(
                signer_key(
                    &v.module.name,
                    &v.module.version,
                    &v.module.effective.to_string(),
                ),
                k,
            );
        }
    }
    out
}

pub(crate) fn signer_key(name: &str, version: &str, effective: &str) -> String {
    format!("{name}@{version}@{effective}")
}

impl Server {
    /// Loads the law and binds the address (`127.0.0.1:0` picks a free port).
    pub async fn bind(config: &Config) -> Result<Server, StartError> {
        let cfg = config.clone();
        let (state, modules_dir) = tokio::task::spawn_blocking(move || {
            let state = Arc::new(load(&cfg)?);
            // The packages already in the directory are installed before the server listens.
            let watch = match &cfg.modules_dir {
                Some(dir) => Some(moddir::start(state.clone(), dir).map_err(StartError)?),
                None => None,
            };
            Ok::<_, StartError>((state, watch))
        })
        .await
        .map_err(|e| StartError(format!("internal error: loading stopped: {e}")))??;
        let listener = tokio::net::TcpListener::bind(&config.addr)
            .await
            .map_err(|e| StartError(format!("cannot listen on `{}`: {e}", config.addr)))?;
        Ok(Server {
            listener,
            state,
            modules_dir,
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, StartError> {
        self.listener
            .local_addr()
            .map_err(|e| StartError(format!("no local address: {e}")))
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the requests in flight
    /// finish, and returns.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let state = self.state.clone();
        state.ready.store(true, Ordering::SeqCst);
        let app = api::router(self.state.clone());
        let signal_state = state.clone();
        let shutdown = async move {
            shutdown.await;
            signal_state.ready.store(false, Ordering::SeqCst);
            tracing::info!("shutting down: finishing the requests in flight");
        };
        conn::serve(self.listener, app, self.state.limits.timeout, shutdown).await;
        // No more installs from the directory once the server has stopped.
        drop(self.modules_dir);
        Ok(())
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Structured logs on stderr (`RUST_LOG` filters; default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// `norm serve`: loads the law, serves until SIGTERM or Ctrl-C, drains, returns.
pub fn run(config: Config) -> Result<(), StartError> {
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| StartError(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let server = Server::bind(&config).await?;
        let addr = server.local_addr()?;
        tracing::info!(%addr, law = %config.law.display(), "norm serve listening");
        // One line on stdout for whoever started us (with port 0, the port it got).
        {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "norm serve: listening on http://{addr}");
            let _ = out.flush();
        }
        server.serve(shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}
