//! The decision log (`--decision-log FILE`): one JSON line per decision, written by a thread
//! of its own so that the request path never waits on the disk. The request path only formats
//! the line and hands it to a bounded channel; when the writer falls behind and the channel is
//! full the line is dropped and counted (`norm_decision_log_dropped_total`), never queued
//! without bound. The file is rotated by size: `FILE` → `FILE.1` → … → `FILE.{KEEP}`.

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// Rotated files kept beside the current one.
const KEEP: u32 = 5;
/// Lines waiting for the writer.
const QUEUE: usize = 65_536;

pub struct DecisionLog {
    tx: SyncSender<String>,
    pub dropped: AtomicU64,
    pub written: std::sync::Arc<AtomicU64>,
    pub log_facts: bool,
}

impl DecisionLog {
    /// Opens (appends to) `path` and starts the writer thread.
    pub fn open(path: &Path, max_bytes: u64, log_facts: bool) -> Result<DecisionLog, String> {
        let file = open_append(path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let (tx, rx) = sync_channel::<String>(QUEUE);
        let written = std::sync::Arc::new(AtomicU64::new(0));
        let mut writer = Writer {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            size,
            max_bytes: max_bytes.max(1),
            written: written.clone(),
        };
        std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| format!("cannot start the decision log's writer: {e}"))?;
        Ok(DecisionLog {
            tx,
            dropped: AtomicU64::new(0),
            written,
            log_facts,
        })
    }

    /// Queues one line (without its newline); never blocks.
    pub fn write(&self, line: String) {
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn open_append(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open the decision log `{}`: {e}", path.display()))
}

struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    max_bytes: u64,
    written: std::sync::Arc<AtomicU64>,
}

impl Writer {
    fn run(&mut self, rx: &Receiver<String>) {
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => self.line(&line),
                // Idle: what was written reaches the file.
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.out.flush();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.out.flush();
                    return;
                }
            }
            // Flush once the queue is drained, not per line.
            if let Ok(line) = rx.try_recv() {
                self.line(&line);
            } else {
                let _ = self.out.flush();
            }
        }
    }

    fn line(&mut self, line: &str) {
        let len = u64::try_from(line.len())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        if self.size > 0 && self.size.saturating_add(len) > self.max_bytes {
            self.rotate();
        }
        if self.out.write_all(line.as_bytes()).is_ok() && self.out.write_all(b"\n").is_ok() {
            self.size = self.size.saturating_add(len);
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            tracing::error!(path = %self.path.display(), "cannot write the decision log");
        }
    }

    fn rotate(&mut self) {
        let _ = self.out.flush();
        let name = |i: u32| -> PathBuf {
            let mut s = self.path.clone().into_os_string();
            s.push(format!(".{i}"));
            PathBuf::from(s)
        };
        for i in (1..KEEP).rev() {
            let _ = std::fs::rename(name(i), name(i + 1));
        }
        if let Err(e) = std::fs::rename(&self.path, name(1)) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot rotate the decision log");
        }
        match open_append(&self.path) {
            Ok(f) => {
                self.out = BufWriter::new(f);
                self.size = 0;
            }
            Err(e) => tracing::error!(error = %e, "cannot reopen the decision log"),
        }
    }
}
