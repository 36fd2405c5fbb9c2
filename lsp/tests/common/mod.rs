//! A client that talks JSON-RPC to an in-process server over in-memory pipes, and the
//! fixture format of the protocol tests.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a panic"
)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::io::{ReadHalf, WriteHalf};

pub struct TestClient {
    pub rt: tokio::runtime::Runtime,
    tx: WriteHalf<DuplexStream>,
    rx: BufReader<ReadHalf<DuplexStream>>,
    next_id: i64,
    /// Notifications received and not yet consumed.
    pub notifications: Vec<Value>,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .thread_stack_size(256 * 1024 * 1024)
        .max_blocking_threads(4)
        .build()
        .unwrap()
}

pub fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

async fn read_message(rx: &mut BufReader<ReadHalf<DuplexStream>>) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if rx.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    rx.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

impl TestClient {
    /// Starts a server and initializes it, with no workspace folder.
    pub fn start() -> TestClient {
        TestClient::start_with(json!({"processId": null, "rootUri": null, "capabilities": {}}))
    }

    /// Starts a server whose client's workspace is one folder.
    pub fn start_in(folder: &Path) -> TestClient {
        let u = uri(folder);
        TestClient::start_with(json!({
            "processId": null,
            "rootUri": u,
            "workspaceFolders": [{"uri": u, "name": "w"}],
            "capabilities": {},
        }))
    }

    /// Starts a server and initializes it with these `initialize` params.
    pub fn start_with(params: Value) -> TestClient {
        let rt = runtime();
        let (client, server) = tokio::io::duplex(1 << 16);
        let (sr, sw) = tokio::io::split(server);
        rt.spawn(norm_lsp::serve(sr, sw));
        let (cr, cw) = tokio::io::split(client);
        let mut c = TestClient {
            rt,
            tx: cw,
            rx: BufReader::new(cr),
            next_id: 0,
            notifications: Vec::new(),
        };
        let init = c.request("initialize", params);
        assert!(init.get("result").is_some(), "{init}");
        c.notify("initialized", json!({}));
        c
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let tx = &mut self.tx;
        self.rt.block_on(async {
            tx.write_all(bytes).await.unwrap();
            tx.flush().await.unwrap();
        });
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        self.send_raw(&frame(&body));
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.send_raw(&frame(&body));
        self.response(json!(id))
    }

    /// Waits for the response with this id (60 s at most), keeping notifications.
    pub fn response(&mut self, id: Value) -> Value {
        let (rx, notes) = (&mut self.rx, &mut self.notifications);
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    let m = read_message(rx)
                        .await
                        .expect("the server closed the stream");
                    if m.get("id") == Some(&id) && m.get("method").is_none() {
                        return m;
                    }
                    if m.get("method").is_some() && m.get("id").is_none() {
                        notes.push(m);
                    }
                }
            })
            .await
            .expect("no response within 60 s")
        })
    }

    /// Reads messages until `done` holds for a notification (which is returned), or times out.
    pub fn wait_for(&mut self, secs: u64, mut done: impl FnMut(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.notifications.iter().position(&mut done) {
            return Some(self.notifications.remove(i));
        }
        let (rx, notes) = (&mut self.rx, &mut self.notifications);
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(secs), async {
                loop {
                    let m = read_message(rx).await?;
                    if done(&m) {
                        return Some(m);
                    }
                    if m.get("id").is_none() {
                        notes.push(m);
                    }
                }
            })
            .await
            .ok()
            .flatten()
        })
    }

    /// Reads notifications until none comes for `idle`.
    pub fn settle(&mut self, idle: Duration) {
        let (rx, notes) = (&mut self.rx, &mut self.notifications);
        self.rt.block_on(async {
            while let Ok(Some(m)) = tokio::time::timeout(idle, read_message(rx)).await {
                if m.get("id").is_none() {
                    notes.push(m);
                }
            }
        });
    }

    /// Waits for the diagnostics of `uri` at `version` (or any version if `None`).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let m = self
            .wait_for(120, |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && version.is_none_or(|v| m["params"]["version"] == v)
            })
            .unwrap_or_else(|| panic!("no diagnostics for {uri} (version {version:?})"));
        // Kept, so that `latest_diagnostics` sees it too.
        self.notifications.push(m.clone());
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The latest diagnostics received for each URI (consumes the notifications).
    pub fn latest_diagnostics(&mut self) -> std::collections::BTreeMap<String, Vec<Value>> {
        let mut out = std::collections::BTreeMap::new();
        for n in self.notifications.drain(..) {
            if n["method"] == "textDocument/publishDiagnostics" {
                out.insert(
                    n["params"]["uri"].as_str().unwrap_or("").to_string(),
                    n["params"]["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        out
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "norm", "version": 1, "text": text}}),
        );
    }

    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
    }
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A fresh directory of its own under the system's temporary directory, removed when dropped.
/// Derefs to its canonical path (the server canonicalises every path it sees).
pub struct TempDir {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

pub fn temp_dir(name: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("norm-lsp-{name}-"))
        .tempdir()
        .unwrap();
    let path = std::fs::canonicalize(dir.path()).unwrap();
    TempDir { _dir: dir, path }
}

/// The LSP position (UTF-16) of a byte offset.
pub fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col: usize = before
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .chars()
        .map(char::len_utf16)
        .sum();
    json!({"line": line, "character": col})
}

/// The position of a needle in a text: where its `|` is (removed), or its second character.
pub fn find(text: &str, needle: &str) -> Value {
    let (clean, cursor) = match needle.find('|') {
        Some(i) => (needle.replace('|', ""), i),
        None => (needle.to_string(), 1.min(needle.len())),
    };
    let start = text
        .find(&clean)
        .unwrap_or_else(|| panic!("`{clean}` not found"));
    position(text, start + cursor)
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
