//! End to end with a real editor: headless Neovim (0.7, Debian's) opens a stdlib file with its
//! built-in LSP client attached to the server, hovers over an article (the article's text
//! comes back) and introduces an error (a diagnostic appears).
//!
//! The server is this very executable, run again with `NORM_LSP_SERVE=1`: it then calls
//! `norm_lsp::run_stdio()`, exactly what `norm lsp` calls (set `NORM_LSP_CMD` to a `norm`
//! binary to use `norm lsp` itself). This test has no libtest harness, so that the child's
//! stdout carries nothing but the protocol.
//!
//! Skipped, with a message, when `nvim` is not installed (`.ci/run` installs it), unless
//! `NORM_REQUIRE_NVIM=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a panic"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
local out = {}
local function finish()
  local f = io.open(OUT, 'w')
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qa!')
end
vim.cmd('edit ' .. vim.fn.fnameescape(FILE))
local client_id = vim.lsp.start_client({
  name = 'norm',
  cmd = CMD,
  cmd_env = { NORM_LSP_SERVE = '1' },
  root_dir = ROOT,
})
out.client = client_id ~= nil
vim.lsp.buf_attach_client(0, client_id)
out.initialized = vim.wait(60000, function()
  local c = vim.lsp.get_client_by_id(client_id)
  return c ~= nil and c.initialized
end, 50)

-- Hover over `article 66`.
local params = {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  position = { line = HOVER_LINE, character = HOVER_COL },
}
local res = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 60000)
out.hover = ''
for _, r in pairs(res or {}) do
  if r.result and r.result.contents then
    out.hover = out.hover .. (r.result.contents.value or '')
  end
end

-- Introduce an error, as a user would, and wait for the diagnostic.
vim.api.nvim_buf_set_lines(0, EDIT_LINE, EDIT_LINE, false, { '  def broken = nonexistent_name + 1' })
out.diagnostics_seen = vim.wait(60000, function()
  return #vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR }) > 0
end, 50)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out.diagnostics, { line = d.lnum, message = d.message, severity = d.severity })
end
finish()
"#;

fn lua_string(s: &str) -> String {
    format!("{s:?}")
}

fn main() -> ExitCode {
    if std::env::var_os("NORM_LSP_SERVE").is_some() {
        return ExitCode::from(norm_lsp::run_stdio());
    }
    // Accept (and ignore) libtest's arguments; honour a name filter that excludes us.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("neovim_end_to_end: test");
        return ExitCode::SUCCESS;
    }
    // Positional arguments are name filters; some flags take a value (`--test-threads 2`).
    let mut filters = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if matches!(
            a.as_str(),
            "--test-threads"
                | "--skip"
                | "--format"
                | "--color"
                | "--logfile"
                | "-Z"
                | "--shuffle-seed"
        ) {
            it.next();
        } else if !a.starts_with('-') {
            filters.push(a.as_str());
        }
    }
    if !filters.is_empty() && !filters.iter().any(|f| "neovim_end_to_end".contains(f)) {
        return ExitCode::SUCCESS;
    }
    let nvim = Command::new("nvim").arg("--version").output();
    if !nvim.is_ok_and(|o| o.status.success()) {
        if std::env::var_os("NORM_REQUIRE_NVIM").is_some() {
            eprintln!("neovim_end_to_end: FAILED: `nvim` is not installed");
            return ExitCode::FAILURE;
        }
        println!(
            "neovim_end_to_end: skipped: `nvim` is not installed (apt-get install neovim; .ci/run does)"
        );
        return ExitCode::SUCCESS;
    }
    neovim_end_to_end();
    println!("neovim_end_to_end: ok");
    ExitCode::SUCCESS
}

fn neovim_end_to_end() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let root = std::fs::canonicalize(repo.join("stdlib/mail")).unwrap();
    let file = root.join("ch4_providers.norm");
    let text = std::fs::read_to_string(&file).unwrap();
    let (hover_line, hover_col) = {
        let at = text.find("article 66 ").unwrap() + "article ".len();
        let line = text[..at].matches('\n').count();
        let col = at - text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
        (line, col)
    };
    // Inside the article, after its `{` line.
    let edit_line = hover_line + 1;
    let cmd: Vec<String> = match std::env::var("NORM_LSP_CMD") {
        Ok(norm) => vec![norm, "lsp".to_string()],
        Err(_) => vec![std::env::current_exe().unwrap().display().to_string()],
    };
    // Removed when dropped, at the end of the test (or of its panic).
    let tmp = tempfile::Builder::new()
        .prefix("norm-nvim-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let out: PathBuf = dir.join("out.json");
    let script = format!(
        "OUT = {}\nFILE = {}\nROOT = {}\nCMD = {{ {} }}\nHOVER_LINE = {hover_line}\nHOVER_COL = {hover_col}\nEDIT_LINE = {edit_line}\n{SCRIPT}",
        lua_string(&out.display().to_string()),
        lua_string(&file.display().to_string()),
        lua_string(&root.display().to_string()),
        cmd.iter()
            .map(|c| lua_string(c))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let script_path = dir.join("test.lua");
    std::fs::write(&script_path, script).unwrap();
    let mut child = Command::new("nvim")
        .args(["--headless", "-n", "-u", "NONE", "-i", "NONE", "-c"])
        .arg(format!("luafile {}", script_path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("neovim did not finish within 240 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let result = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        panic!("neovim wrote no result; stderr: {err}")
    });
    let v: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(v["initialized"], true, "{v}");
    let hover = v["hover"].as_str().unwrap_or("");
    assert!(hover.contains("Article 66 — Registry Obligations"), "{v}");
    assert!(
        hover
            .contains("AI providers offering products or services not listed on the negative list"),
        "{v}"
    );
    assert_eq!(v["diagnostics_seen"], true, "{v}");
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["message"]
            .as_str()
            .unwrap_or("")
            .contains("nonexistent_name")),
        "{v}"
    );
}
