//! `--modules-dir`: a watched directory of signed packages. A package (`*.normpkg`) created
//! there or moved in is installed through the same path as `PUT /v1/modules`
//! ([`crate::api::install_bytes`]: the engine verifies it with the configured trust store); a
//! bad one is refused, logged, counted in `/metrics`, and left where it is, and the installed
//! module keeps deciding. Packages already there at start are installed at start, in name order.
//!
//! Events are debounced: a path is read once no event has arrived for it for [`QUIET`], and a
//! file whose bytes are the ones last read from that path is not installed again (one write
//! raises several events). A package is best written under another name and renamed in, so
//! that it is never read half written; a half-written one is refused and read again when the
//! writer's next event arrives.

use crate::AppState;
use norm_runtime::ModuleError;
use norm_runtime::engine::InstallOptions;
use norm_runtime::modules::PACKAGE_EXTENSION;
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a path must be quiet before it is read.
const QUIET: Duration = Duration::from_millis(200);

/// The running watch: dropping it stops the watcher, and with it the installing thread.
pub(crate) struct ModulesDir {
    _watcher: notify::RecommendedWatcher,
}

fn is_package(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    !hidden && path.extension().and_then(|e| e.to_str()) == Some(PACKAGE_EXTENSION)
}

/// Starts watching `dir`, installs the packages already there (in name order), then hands the
/// events to a thread of its own. Blocking: call it off the async runtime.
pub(crate) fn start(state: Arc<AppState>, dir: &Path) -> Result<ModulesDir, String> {
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx)
        .map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?;
    // Watch first, then list: a package arriving in between is seen by one or the other (or
    // both, and then its bytes are the same and it is not installed twice).
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?;
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    let mut present: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_package(p) && p.is_file())
        .collect();
    present.sort();
    let mut seen = Seen::default();
    for p in &present {
        seen.install(&state, p);
    }
    tracing::info!(dir = %dir.display(), packages = present.len(), "watching the modules directory");
    std::thread::Builder::new()
        .name("norm-modules-dir".into())
        .spawn(move || run(&state, &rx, seen))
        .map_err(|e| format!("cannot start the modules-directory thread: {e}"))?;
    Ok(ModulesDir { _watcher: watcher })
}

/// The SHA-256 of the bytes last read from each path.
#[derive(Default)]
struct Seen(HashMap<PathBuf, String>);

impl Seen {
    /// Reads and installs one package, unless its bytes are the ones last read from `path`.
    fn install(&mut self, state: &AppState, path: &Path) {
        let bytes = match norm_runtime::modules::read_file(path) {
            Ok(b) => b,
            // Gone again (renamed away, removed) before it was read: nothing to do.
            Err(ModuleError::Io { .. }) if !path.exists() => return,
            Err(e) => {
                state.metrics.refused(&crate::api::refusal_kind(&e));
                tracing::warn!(file = %path.display(), kind = crate::api::refusal_kind(&e),
                               error = %e, "module refused (left in place)");
                return;
            }
        };
        let hash = crate::declog::sha256_hex(&bytes);
        if self.0.get(path) == Some(&hash) {
            tracing::debug!(file = %path.display(), "unchanged package, not installed again");
            return;
        }
        self.0.insert(path.to_path_buf(), hash);
        match crate::api::install_bytes(state, &state.engine, &bytes, &InstallOptions::default()) {
            Ok(installed) => {
                tracing::info!(file = %path.display(), module = %installed.module,
                               version = %installed.version, "installed from the modules directory");
            }
            // A replay (the same version seen again, or one already loaded with --data):
            // nothing is wrong and the installed module is the one wanted.
            Err(e @ ModuleError::NotNewer { .. }) => {
                tracing::info!(file = %path.display(), reason = %e, "package not installed: not newer");
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), kind = crate::api::refusal_kind(&e),
                               error = %e, "module refused (left in place)");
            }
        }
    }
}

/// Collects the events' paths and installs each once it has been quiet for [`QUIET`]. Ends
/// when the watcher is dropped.
fn run(state: &AppState, rx: &mpsc::Receiver<notify::Result<notify::Event>>, mut seen: Seen) {
    let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
    loop {
        let wait = pending
            .values()
            .map(|t| (*t + QUIET).saturating_duration_since(Instant::now()))
            .min()
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(Ok(event)) => {
                if matters(event.kind) {
                    let now = Instant::now();
                    for p in event.paths.into_iter().filter(|p| is_package(p)) {
                        pending.insert(p, now);
                    }
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "watching the modules directory"),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let mut ready: Vec<PathBuf> = pending
            .iter()
            .filter(|(_, t)| now.saturating_duration_since(**t) >= QUIET)
            .map(|(p, _)| p.clone())
            .collect();
        ready.sort();
        for p in ready {
            pending.remove(&p);
            if p.is_file() {
                seen.install(state, &p);
            } else {
                seen.0.remove(&p);
            }
        }
    }
}

/// Events that may leave a new package at a path: created, written, closed after writing,
/// renamed in. Reads and removals do not.
fn matters(kind: EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Remove(_) => false,
    }
}
