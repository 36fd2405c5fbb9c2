//! `norm serve` through the built binary: the one command of the README, a bad command line,
//! and SIGTERM draining the request in flight before exiting 0. The endpoints themselves are
//! tested in `server/tests/serve.rs`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn norm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_norm"))
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn a_bad_command_line_is_exit_2_and_a_missing_law_exit_1() {
    let out = norm().args(["serve"]).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = norm()
        .args(["serve", "--law", "no/such/law", "--addr", "127.0.0.1:0"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/law"));
}

#[cfg(unix)]
#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let mut child = norm()
        .args(["serve", "--law"])
        .arg(root().join("stdlib/mail"))
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the listening line");
    let addr = line
        .trim()
        .strip_prefix("norm serve: listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();

    let facts =
        std::fs::read_to_string(root().join("examples/content_creator_user.json")).expect("facts");
    let body = format!("{{\"facts\": {facts}, \"as_of\": \"2026-12-01\"}}");
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    let (first, rest) = body.split_at(10);
    s.write_all(first.as_bytes()).expect("first part");
    // Once another request is answered, the server has read the first one's headers.
    let mut h = TcpStream::connect(&addr).expect("connect");
    h.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("healthz");
    let mut answer = String::new();
    h.read_to_string(&mut answer).expect("healthz answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    s.write_all(rest.as_bytes()).expect("the rest of the body");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"law\""), "{response}");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "a drained shutdown exits 0");
}
