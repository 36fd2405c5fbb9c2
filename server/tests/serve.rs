//! `norm serve` through a real server on an ephemeral port, with a raw HTTP/1.1 client over a
//! `TcpStream` (what a client sends is exactly what the test says, bad bytes included).
//! The servers decide with the whole stdlib; each bad input of the issue is a test.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_server::{Config, Limits, Server};
use serde_json::{Value as Json, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn law() -> PathBuf {
    root().join("stdlib/mail")
}

/// Starts a server on its own runtime thread; it serves until the test process ends (or,
/// with `stop`, until told).
fn start(config: Config) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let server = Server::bind(&config).await.expect("server starts");
            tx.send(server.local_addr().expect("address"))
                .expect("send");
            let stop = async move {
                let _ = stop_rx.await;
            };
            server.serve(stop).await.expect("serves");
        });
    });
    let addr = rx.recv().expect("the server started");
    (addr, stop_tx)
}

fn config() -> Config {
    let mut c = Config::new(law());
    c.addr = "127.0.0.1:0".into();
    c.limits = Limits {
        max_body: 64 * 1024,
        timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    c
}

/// The shared server without a trust store.
fn plain() -> SocketAddr {
    static S: OnceLock<SocketAddr> = OnceLock::new();
    *S.get_or_init(|| {
        let (addr, stop) = start(config());
        std::mem::forget(stop);
        addr
    })
}

/// A publisher's key, a `data` directory of the stdlib's modules signed with it, and a trust
/// store for the key, all in `dir`.
fn publisher(dir: &Path) -> (String, PathBuf, PathBuf) {
    let key = norm_runtime::modules::keys::generate().expect("key");
    let engine = norm_runtime::Engine::load(&[law()], None).expect("law loads");
    let data = dir.join("data");
    std::fs::create_dir(&data).expect("data dir");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("stdlib/data")).expect("stdlib data") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("source");
        let pkg = norm_runtime::modules::Package::sign(
            engine.program(),
            &source,
            &key,
            "2026-05-01T00:00:00Z",
        )
        .expect("signs");
        let name = pkg.manifest().expect("manifest").module;
        std::fs::write(data.join(format!("{name}.normpkg")), pkg.to_bytes()).expect("write");
        names.push(name);
    }
    let trust = json!({"keys": [{
        "public_key": norm_runtime::modules::keys::public_line(&key.verifying_key()),
        "modules": names,
    }]});
    let trust_file = dir.join("trust.json");
    std::fs::write(&trust_file, trust.to_string()).expect("trust");
    (
        norm_runtime::modules::keys::secret_text(&key),
        data,
        trust_file,
    )
}

struct Trusted {
    addr: SocketAddr,
    /// The publisher's private key, as `NAME.key` holds it.
    secret: String,
    _dir: tempfile::TempDir,
}

/// The shared server with a trust store, signed packages and a token.
fn trusted() -> &'static Trusted {
    static S: OnceLock<Trusted> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let (secret, data, trust_file) = publisher(dir.path());
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "s3cret-token\n").expect("token");
        let mut c = config();
        c.data = Some(vec![data]);
        c.trust = Some(trust_file);
        c.token_file = Some(token_file);
        let (addr, stop) = start(c);
        std::mem::forget(stop);
        Trusted {
            addr,
            secret,
            _dir: dir,
        }
    })
}

struct Response {
    status: u16,
    headers: String,
    body: String,
}

impl Response {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn error_kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn read_response(mut s: TcpStream) -> Response {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    Response {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    read_response(s)
}

fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, "GET", path, &[], b"")
}

fn post_json(addr: SocketAddr, path: &str, body: &str) -> Response {
    send(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn example(name: &str) -> Json {
    let text = std::fs::read_to_string(root().join("examples").join(name)).expect("example");
    serde_json::from_str(&text).expect("example JSON")
}

fn decide_body(facts: &Json) -> String {
    json!({"facts": facts, "as_of": "2026-12-01"}).to_string()
}

#[test]
fn decides_a_case_as_the_cli_does() {
    let r = post_json(
        plain(),
        "/v1/decide",
        &decide_body(&example("foreign_genai_2m_users.json")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["law"]["name"], "mail");
    assert_eq!(d["as_of"], "2026-12-01");
    assert!(d["norms"].as_array().is_some_and(|n| !n.is_empty()), "{d}");
    // The same Decision as the engine gives in process.
    let engine = norm_runtime::Engine::load(&[law()], None).expect("law");
    let date = norm_runtime::Date::parse("2026-12-01").expect("date");
    let direct = engine
        .decide(
            &example("foreign_genai_2m_users.json"),
            date,
            norm_runtime::DecideOptions::default(),
        )
        .expect("decides");
    assert_eq!(d, serde_json::to_value(&direct).expect("json"));
}

#[test]
fn explain_and_why_not() {
    let body = json!({"facts": example("content_creator_user.json"), "as_of": "2026-12-01",
                      "explain": true, "why_not": "national_registry"});
    let r = post_json(plain(), "/v1/decide", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert!(d["explanation"].is_array(), "{d}");
    assert_eq!(d["why_not"]["norm"], "national_registry", "{d}");
    let body =
        json!({"facts": example("content_creator_user.json"), "why_not": "nationl_registry"});
    let r = post_json(plain(), "/v1/decide", &body.to_string());
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error_kind(), "unknown_norm");
}

#[test]
fn malformed_json_is_a_400() {
    for bad in ["{", "{\"facts\": }", "[1,", "not json", ""] {
        let r = post_json(plain(), "/v1/decide", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.error_kind(), "request", "{bad}");
    }
    // A key given twice is an error, as everywhere else.
    let r = post_json(plain(), "/v1/decide", r#"{"facts": {}, "facts": {}}"#);
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn a_body_over_the_limit_is_a_413() {
    let big = format!("{{\"facts\": {{\"pad\": \"{}\"}}}}", "x".repeat(100 * 1024));
    let r = post_json(plain(), "/v1/decide", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.error_kind(), "too_large");
}

#[test]
fn wrong_content_type_is_a_415() {
    let body = decide_body(&example("content_creator_user.json"));
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = ct.map(|c| ("Content-Type", c)).into_iter().collect();
        let r = send(plain(), "POST", "/v1/decide", &headers, body.as_bytes());
        assert_eq!(r.status, 415, "{ct:?}: {}", r.body);
        assert_eq!(r.error_kind(), "content_type");
    }
    // Parameters are fine.
    let r = send(
        plain(),
        "POST",
        "/v1/decide",
        &[("Content-Type", "application/json; charset=utf-8")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn unknown_fields_are_a_400() {
    let body = json!({"facts": example("content_creator_user.json"), "asof": "2026-12-01"});
    let r = post_json(plain(), "/v1/decide", &body.to_string());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("asof"), "{}", r.body);
    // …and in the facts, where the law says what is known.
    let mut facts = example("content_creator_user.json");
    facts["actor"]["is_usr"] = json!(true);
    let r = post_json(plain(), "/v1/decide", &decide_body(&facts));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error_kind(), "facts");
    assert!(r.body.contains("actor.is_usr"), "{}", r.body);
}

/// The JSON paths of a facts error's entries.
fn error_paths(e: &Json) -> Vec<&str> {
    e["error"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["path"].as_str())
        .collect()
}

#[test]
fn a_facts_error_deep_in_the_structure_names_its_path() {
    let mut facts = example("content_creator_user.json");
    facts["actor"]["registered_users"] = json!(-5);
    facts["system"]["category"] = json!("image_generaton");
    let r = post_json(plain(), "/v1/decide", &decide_body(&facts));
    assert_eq!(r.status, 400, "{}", r.body);
    let e = r.json();
    assert_eq!(e["error"]["kind"], "facts", "{e}");
    let paths = error_paths(&e);
    assert!(paths.contains(&"actor.registered_users"), "{e}");
    assert!(paths.contains(&"system.category"), "{e}");
    // Deeper: a nested object of the third system, and an event's party.
    let mut facts = example("incident_chain.json");
    facts["systems"][2]["incident"]["development_stage_defect"] = json!("yes");
    facts["events"][4]["to"] = json!("nobody");
    let r = post_json(plain(), "/v1/decide", &decide_body(&facts));
    assert_eq!(r.status, 400, "{}", r.body);
    let e = r.json();
    let paths = error_paths(&e);
    assert!(
        paths.contains(&"systems[2].incident.development_stage_defect"),
        "{e}"
    );
}

#[test]
fn an_as_of_that_is_not_a_date_is_a_400() {
    for bad in [json!("2026-02-30"), json!("tomorrow"), json!(20261201)] {
        let body = json!({"facts": example("content_creator_user.json"), "as_of": bad});
        let r = post_json(plain(), "/v1/decide", &body.to_string());
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(
            matches!(r.error_kind().as_str(), "input" | "request"),
            "{}",
            r.body
        );
    }
}

#[test]
fn a_path_that_does_not_exist_is_a_404() {
    let r = get(plain(), "/v1/nothing");
    assert_eq!(r.status, 404);
    assert_eq!(r.error_kind(), "not_found");
    let r = get(plain(), "/v1/law/articles/9999");
    assert_eq!(r.status, 404);
    let r = get(plain(), "/v1/law/articles/sixty");
    assert_eq!(r.status, 404);
    let r = send(plain(), "DELETE", "/v1/law", &[], b"");
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.error_kind(), "method_not_allowed");
}

#[test]
fn batch_answers_jsonl_in_input_order() {
    let good = json!({"facts": example("content_creator_user.json"), "as_of": "2026-12-01"});
    let bad_facts = json!({"facts": {"actor": {"registered_users": "many"}}});
    let bad_date = json!({"facts": example("content_creator_user.json"), "as_of": "soon"});
    let array = json!([good, bad_facts, bad_date, good]).to_string();
    let jsonl = format!("{good}\n{bad_facts}\n{{oops\n\n{bad_date}\n{good}\n");
    for (ct, body, n) in [
        ("application/json", array, 4),
        ("application/x-ndjson", jsonl, 5),
    ] {
        let r = send(
            plain(),
            "POST",
            "/v1/decide/batch",
            &[("Content-Type", ct)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.headers.contains("application/x-ndjson"), "{}", r.headers);
        let lines: Vec<Json> = r
            .body
            .lines()
            .map(|l| serde_json::from_str(l).expect("line"))
            .collect();
        assert_eq!(lines.len(), n, "{}", r.body);
        assert_eq!(lines[0]["law"]["name"], "mail");
        assert_eq!(lines[1]["error"]["kind"], "facts");
        assert_eq!(lines[n - 2]["error"]["kind"], "input");
        assert_eq!(lines[n - 1], lines[0]);
        if n == 5 {
            assert_eq!(lines[2]["error"]["kind"], "request");
            assert!(
                lines[2]["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("line 3"))
            );
        }
    }
}

#[test]
fn law_schema_and_modules() {
    let l = get(plain(), "/v1/law").json();
    assert_eq!(l["name"], "mail");
    assert!(l["versions"].as_array().is_some_and(|v| !v.is_empty()));
    let a66 = l["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .find(|a| a["number"] == 66)
        .cloned()
        .expect("Art. 66");
    assert!(
        a66["norms"]
            .as_array()
            .is_some_and(|n| n.iter().any(|i| i == "national_registry")),
        "{a66}"
    );
    let a = get(plain(), "/v1/law/articles/66");
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["versions"][0], a66);
    let s = get(plain(), "/v1/schema");
    assert_eq!(s.status, 200);
    assert_eq!(
        s.json(),
        norm_runtime::schema::facts_schema(
            norm_runtime::Engine::load(&[law()], None)
                .expect("law")
                .program()
        )
    );
    let m = get(plain(), "/v1/modules").json();
    let names: Vec<&str> = m["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert!(
        names.contains(&"negative_list") && names.contains(&"calendar"),
        "{m}"
    );
    assert!(
        m["modules"][0]["hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64),
        "{m}"
    );
}

#[test]
fn health_readiness_and_metrics() {
    assert_eq!(get(plain(), "/healthz").status, 200);
    assert_eq!(get(plain(), "/readyz").status, 200);
    post_json(
        plain(),
        "/v1/decide",
        &decide_body(&example("content_creator_user.json")),
    );
    let m = get(plain(), "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.headers.contains("text/plain"), "{}", m.headers);
    assert!(
        m.body.contains(
            "norm_http_requests_total{route=\"/v1/decide\",method=\"POST\",status=\"200\"}"
        ),
        "{}",
        m.body
    );
    assert!(
        m.body.contains(
            "norm_http_request_duration_seconds_bucket{route=\"/v1/decide\",status=\"200\",le=\"+Inf\"}"
        ),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("norm_decisions_total{outcome=\"ok\"}"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("norm_module_info{module=\"negative_list\""),
        "{}",
        m.body
    );
}

#[test]
fn put_modules_is_off_without_a_trust_store() {
    let source = std::fs::read(root().join("stdlib/data/negative_list.norm")).expect("source");
    let r = send(
        plain(),
        "PUT",
        "/v1/modules",
        &[("Authorization", "Bearer anything")],
        &source,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.error_kind(), "disabled");
}

fn negative_list(version: &str) -> String {
    std::fs::read_to_string(root().join("stdlib/data/negative_list.norm"))
        .expect("source")
        .replace(
            "version \"2026.1-illustrative\"",
            &format!("version \"{version}\""),
        )
}

fn signed(t: &Trusted, source: &str) -> Vec<u8> {
    sign_with(&t.secret, source)
}

fn sign_with(secret: &str, source: &str) -> Vec<u8> {
    let engine = norm_runtime::Engine::load(&[law()], None).expect("law");
    let key = norm_runtime::modules::keys::parse_secret(secret).expect("key");
    norm_runtime::modules::Package::sign(engine.program(), source, &key, "2026-05-02T00:00:00Z")
        .expect("signs")
        .to_bytes()
}

const TOKEN: (&str, &str) = ("Authorization", "Bearer s3cret-token");

#[test]
fn put_modules_without_or_with_a_wrong_token_is_refused() {
    let t = trusted();
    let pkg = signed(t, &negative_list("2026.9"));
    let r = send(t.addr, "PUT", "/v1/modules", &[], &pkg);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.headers.contains("www-authenticate: bearer"),
        "{}",
        r.headers
    );
    let r = send(
        t.addr,
        "PUT",
        "/v1/modules",
        &[("Authorization", "Bearer s3cret-tokeN")],
        &pkg,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.error_kind(), "forbidden");
    let r = send(
        t.addr,
        "PUT",
        "/v1/modules",
        &[("Authorization", "s3cret-token")],
        &pkg,
    );
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn put_modules_refuses_unsigned_and_tampered_packages() {
    let t = trusted();
    let r = send(
        t.addr,
        "PUT",
        "/v1/modules",
        &[TOKEN],
        negative_list("2026.8").as_bytes(),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.json()["error"]["module_error"]["kind"],
        "unsigned",
        "{}",
        r.body
    );
    let pkg = String::from_utf8(signed(t, &negative_list("2026.8"))).expect("utf-8");
    let tampered = pkg.replace("Medical diagnosis", "Medical diagnosls");
    assert_ne!(pkg, tampered);
    let r = send(t.addr, "PUT", "/v1/modules", &[TOKEN], tampered.as_bytes());
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.json()["error"]["module_error"]["kind"],
        "hash_mismatch",
        "{}",
        r.body
    );
    let r = send(
        t.addr,
        "PUT",
        "/v1/modules",
        &[TOKEN],
        b"{\"norm_package\": 1",
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // Nothing changed.
    let m = get(t.addr, "/v1/modules").json();
    assert!(!m.to_string().contains("2026.8"), "{m}");
    let metrics = get(t.addr, "/metrics").body;
    assert!(
        metrics.contains("norm_module_refusals_total{kind=\"unsigned\"}"),
        "{metrics}"
    );
}

#[test]
fn put_modules_installs_a_signed_package_once() {
    let t = trusted();
    let pkg = signed(t, &negative_list("2027.1"));
    let r = send(t.addr, "PUT", "/v1/modules", &[TOKEN], &pkg);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["installed"]["version"], "2027.1");
    let m = get(t.addr, "/v1/modules").json();
    let nl = m["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .find(|x| x["name"] == "negative_list")
        .cloned()
        .expect("negative list");
    assert_eq!(nl["version"], "2027.1", "{m}");
    assert!(nl["publisher_key"].is_string(), "{m}");
    let d = post_json(
        t.addr,
        "/v1/decide",
        &decide_body(&example("content_creator_user.json")),
    )
    .json();
    assert!(d["data"].to_string().contains("2027.1"), "{d}");
    // A replay is refused: versions only move forward.
    let r = send(t.addr, "PUT", "/v1/modules", &[TOKEN], &pkg);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"]["module_error"]["kind"], "not_newer");
}

/// Sends the headers and half the body of a decide request, then nothing.
fn slow_client(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let req = "POST /v1/decide HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"facts\": {";
    s.write_all(req.as_bytes()).expect("write");
    s
}

#[test]
fn a_slow_client_times_out_while_others_are_served() {
    let slow = slow_client(plain());
    for _ in 0..3 {
        let r = post_json(
            plain(),
            "/v1/decide",
            &decide_body(&example("content_creator_user.json")),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = read_response(slow);
    assert_eq!(r.status, 408, "{}", r.body);
    assert_eq!(r.error_kind(), "timeout");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_dropped() {
    let mut s = TcpStream::connect(plain()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(b"POST /v1/decide HTTP/1.1\r\nHost: test\r\nContent-Type: appl")
        .expect("half a header");
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(get(plain(), "/healthz").status, 200, "others are served");
    }
    // The server closes the connection after its timeout (2 s here), well before ours.
    // (EOF or a reset ends the read; our own 30 s read timeout would mean it was not closed.)
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn beyond_the_concurrency_limit_requests_are_shed() {
    let mut c = config();
    c.limits.concurrency = 1;
    let (addr, stop) = start(c);
    // The slow client holds the only permit until its deadline.
    let mut slow = slow_client(addr);
    let mut shed = None;
    for _ in 0..200 {
        let r = post_json(
            addr,
            "/v1/decide",
            &decide_body(&example("content_creator_user.json")),
        );
        if r.status == 503 {
            shed = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
        // A slow client that arrived while that request held the permit was shed itself
        // (it has an answer, or its connection is closed): start another.
        slow.set_nonblocking(true).expect("nonblocking");
        let mut byte = [0u8; 1];
        let answered =
            !matches!(slow.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        slow.set_nonblocking(false).expect("blocking");
        if answered {
            slow = slow_client(addr);
        }
    }
    let shed = shed.expect("a request beyond the limit is refused");
    assert_eq!(shed.error_kind(), "overloaded");
    // Health answers whatever the load.
    assert_eq!(get(addr, "/healthz").status, 200);
    assert_eq!(read_response(slow).status, 408);
    let _ = stop.send(());
}

#[test]
fn shutdown_lets_the_request_in_flight_finish() {
    let (addr, stop) = start(config());
    // A request whose body is still arriving when the shutdown begins.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = decide_body(&example("content_creator_user.json"));
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    let (first, rest) = body.split_at(10);
    s.write_all(first.as_bytes()).expect("part");
    // The server has this connection once it answers another one.
    assert_eq!(get(addr, "/healthz").status, 200);
    stop.send(()).expect("stop");
    s.write_all(rest.as_bytes()).expect("rest");
    let r = read_response(s);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn the_decision_log_records_each_decision_and_rotates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("decisions.jsonl");
    let mut c = config();
    c.decision_log = Some(file.clone());
    c.decision_log_max_bytes = 8192;
    let (addr, stop) = start(c);
    let facts = example("content_creator_user.json");
    let n = 10;
    for _ in 0..n {
        let r = post_json(addr, "/v1/decide", &decide_body(&facts));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // The writer is a thread of its own: wait until it wrote every line.
    let mut written = 0;
    for _ in 0..1000 {
        let m = get(addr, "/metrics").body;
        written = m
            .lines()
            .find_map(|l| l.strip_prefix("norm_decision_log_lines_total "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if written >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(written, n);
    let _ = stop.send(());
    let mut lines = Vec::new();
    for name in [
        "decisions.jsonl.3",
        "decisions.jsonl.2",
        "decisions.jsonl.1",
        "decisions.jsonl",
    ] {
        if let Ok(text) = std::fs::read_to_string(dir.path().join(name)) {
            assert!(text.len() <= 8192, "{name} was rotated at 8 KiB");
            lines.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<Json>(l).expect("line")),
            );
        }
    }
    assert!(
        dir.path().join("decisions.jsonl.1").exists(),
        "the log was rotated"
    );
    // Written lines reach the file within a flush; all of them are there.
    assert_eq!(lines.len() as u64, n);
    let facts_sha = {
        use sha2::Digest;
        sha2::Sha256::digest(facts.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut ids = std::collections::HashSet::new();
    for l in &lines {
        assert!(
            ids.insert(l["id"].as_str().expect("id").to_string()),
            "ids are unique"
        );
        assert_eq!(l["law"]["name"], "mail");
        assert_eq!(l["law"]["sources_sha256"].as_str().map(str::len), Some(64));
        assert_eq!(l["facts_sha256"], facts_sha.as_str());
        assert!(l.get("facts").is_none(), "no facts without --log-facts");
        assert!(
            l["data"]
                .as_array()
                .is_some_and(|d| d.iter().all(|m| m["hash"].is_string()))
        );
        assert!(
            l["norms"].as_array().is_some_and(|ns| ns
                .iter()
                .all(|x| x["id"].is_string() && x["status"].is_string())),
            "{l}"
        );
        assert!(l["latency_us"].is_u64());
        assert!(l["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}

#[test]
fn with_log_facts_the_decision_log_holds_the_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("decisions.jsonl");
    let mut c = config();
    c.decision_log = Some(file.clone());
    c.log_facts = true;
    let (addr, stop) = start(c);
    let facts = example("content_creator_user.json");
    let r = post_json(addr, "/v1/decide", &decide_body(&facts));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut line = None;
    eventually("the decision is logged", || {
        line = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string));
        line.is_some()
    });
    let _ = stop.send(());
    let l: Json = serde_json::from_str(&line.unwrap_or_default()).expect("line");
    assert_eq!(l["facts"], facts, "the facts as they were decided");
}

fn negative_list_version(addr: SocketAddr) -> String {
    let m = get(addr, "/v1/modules").json();
    m["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .filter(|x| x["name"] == "negative_list")
        .filter_map(|x| x["version"].as_str())
        .next_back()
        .unwrap_or_default()
        .to_string()
}

/// Polls `done` every 50 ms for at most 10 s.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("not within 10 s: {what}");
}

#[test]
fn modules_dir_installs_new_packages_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, data, trust_file) = publisher(dir.path());
    let watched = dir.path().join("watched");
    std::fs::create_dir(&watched).expect("watched dir");
    // There at start: a bad one (skipped, not fatal) and a good one, installed before serving.
    std::fs::write(watched.join("0-bad.normpkg"), b"{\"norm_package\": 1").expect("write");
    std::fs::write(
        watched.join("a.normpkg"),
        sign_with(&secret, &negative_list("2028.1")),
    )
    .expect("write");
    let mut c = config();
    c.data = Some(vec![data]);
    c.trust = Some(trust_file);
    c.modules_dir = Some(watched.clone());
    let (addr, stop) = start(c);
    assert_eq!(negative_list_version(addr), "2028.1");

    // A new package written there is installed while serving.
    std::fs::write(
        watched.join("b.normpkg"),
        sign_with(&secret, &negative_list("2028.2")),
    )
    .expect("write");
    eventually("2028.2 is installed", || {
        negative_list_version(addr) == "2028.2"
    });
    // …and one moved in.
    let tmp = dir.path().join("d.partial");
    std::fs::write(&tmp, sign_with(&secret, &negative_list("2028.3"))).expect("write");
    std::fs::rename(&tmp, watched.join("d.normpkg")).expect("rename");
    eventually("2028.3 is installed", || {
        negative_list_version(addr) == "2028.3"
    });

    // A tampered one is refused, counted and left in place; the old version keeps serving.
    let pkg = String::from_utf8(sign_with(&secret, &negative_list("2028.4"))).expect("utf-8");
    let tampered = pkg.replace("Medical diagnosis", "Medical diagnosls");
    assert_ne!(pkg, tampered);
    std::fs::write(watched.join("e.normpkg"), tampered).expect("write");
    eventually("the refusal is counted", || {
        get(addr, "/metrics")
            .body
            .contains("norm_module_refusals_total{kind=\"hash_mismatch\"}")
    });
    let metrics = get(addr, "/metrics").body;
    assert!(
        metrics.contains("norm_module_refusals_total{kind=\"malformed\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("norm_module_installs_total 3"),
        "{metrics}"
    );
    assert_eq!(negative_list_version(addr), "2028.3");
    assert!(watched.join("e.normpkg").exists(), "left in place");
    let d = post_json(
        addr,
        "/v1/decide",
        &decide_body(&example("content_creator_user.json")),
    );
    assert_eq!(d.status, 200, "{}", d.body);
    assert!(
        d.json()["data"].to_string().contains("2028.3"),
        "{}",
        d.body
    );
    let _ = stop.send(());
}

#[test]
fn modules_dir_needs_a_trust_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config();
    c.modules_dir = Some(dir.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(Server::bind(&c)) {
        Ok(_) => panic!("started without --trust"),
        Err(e) => assert!(e.to_string().contains("needs --trust"), "{e}"),
    }
}

/// Every route the router serves, with its methods (a new route must be added here, and so
/// to the OpenAPI document).
const ROUTES: &[(&str, &[&str])] = &[
    ("/v1/decide", &["post"]),
    ("/v1/decide/batch", &["post"]),
    ("/v1/law", &["get"]),
    ("/v1/law/articles/{n}", &["get"]),
    ("/v1/schema", &["get"]),
    ("/v1/modules", &["get", "put"]),
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/metrics", &["get"]),
    ("/v1/openapi.json", &["get"]),
];

fn openapi() -> Json {
    let r = get(plain(), "/v1/openapi.json");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers.contains("content-type: application/json"),
        "{}",
        r.headers
    );
    r.json()
}

/// A validator for the document's component `name` (its references resolve in the document).
fn component_validator(doc: &Json, name: &str) -> jsonschema::Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema {name}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, what: &str, instance: &Json) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// The keys of `value` that the document's schema does not name (a Decision may carry more
/// than the document says, so the validator alone would not see an undocumented field).
fn undocumented(doc: &Json, schema: &Json, value: &Json, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return undocumented(doc, &doc["components"]["schemas"][name], value, path, out);
    }
    for alt in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = schema[alt].as_array() {
            for a in alts.iter().filter(|a| a["type"] != "null") {
                undocumented(doc, a, value, path, out);
            }
        }
    }
    match value {
        Json::Object(o) => {
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in o {
                    match props.get(k) {
                        Some(s) => undocumented(doc, s, v, &format!("{path}.{k}"), out),
                        None => out.push(format!("{path}.{k}")),
                    }
                }
            }
        }
        Json::Array(a) if schema["items"].is_object() => {
            for (i, v) in a.iter().enumerate() {
                undocumented(doc, &schema["items"], v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn openapi_documents_every_route() {
    let doc = openapi();
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for m in *methods {
            let op = &item[*m];
            assert!(op.is_object(), "{m} {path} is not documented");
            let responses = op["responses"].as_object().expect("responses");
            for code in ["200", "405"] {
                assert!(responses.contains_key(code), "{m} {path}: no {code}");
            }
        }
    }
    // And nothing is documented that the router does not serve.
    let served: Vec<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    for (path, item) in paths {
        assert!(
            served.contains(&path.as_str()),
            "{path} is documented, not served"
        );
        let methods = item.as_object().expect("path item");
        for m in methods.keys() {
            let listed = ROUTES
                .iter()
                .any(|(p, ms)| p == path && ms.contains(&m.as_str()));
            assert!(listed, "{m} {path} is documented, not served");
        }
    }
    // Each documented route answers (not the fallback's 404) on the server.
    for (path, methods) in ROUTES {
        let concrete = path.replace("{n}", "66");
        for m in *methods {
            let r = send(plain(), &m.to_ascii_uppercase(), &concrete, &[], b"");
            assert!(
                !(r.status == 404 && r.error_kind() == "not_found" && r.body.contains("no route")),
                "{m} {path}: {}",
                r.body
            );
        }
    }
    // The status codes where they occur.
    let codes = |path: &str, m: &str| -> Vec<String> {
        doc["paths"][path][m]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    };
    for code in ["400", "405", "408", "413", "415", "503"] {
        assert!(
            codes("/v1/decide", "post").contains(&code.to_string()),
            "decide: {code}"
        );
        assert!(
            codes("/v1/decide/batch", "post").contains(&code.to_string()),
            "batch: {code}"
        );
    }
    for code in ["401", "403", "413"] {
        assert!(
            codes("/v1/modules", "put").contains(&code.to_string()),
            "install: {code}"
        );
    }
    assert!(codes("/v1/law/articles/{n}", "get").contains(&"404".to_string()));
    assert!(codes("/readyz", "get").contains(&"503".to_string()));
    // The bearer scheme, on PUT /v1/modules only.
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(
        scheme["scheme"].as_str().map(str::to_ascii_lowercase),
        Some("bearer".into())
    );
    assert_eq!(
        doc["paths"]["/v1/modules"]["put"]["security"],
        json!([{"bearer": []}])
    );
    assert!(doc["paths"]["/v1/decide"]["post"]["security"].is_null());
}

#[test]
fn openapi_schemas_validate_real_answers() {
    let doc = openapi();
    // The request's facts are the law's own JSON Schema.
    let schema = get(plain(), "/v1/schema").json();
    let facts = &doc["components"]["schemas"]["DecideRequest"]["properties"]["facts"];
    assert_eq!(
        facts["properties"], schema["properties"],
        "the facts' schema is embedded"
    );
    let request = component_validator(&doc, "DecideRequest");
    let decision = component_validator(&doc, "Decision");
    let error = component_validator(&doc, "ErrorBody");
    // Every example that decides: its request and its Decision (with and without explain)
    // fit the document; at least one must decide.
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut decided = 0;
    for f in &files {
        let Ok(facts) = std::fs::read_to_string(f).map(|t| serde_json::from_str::<Json>(&t)) else {
            continue;
        };
        let Ok(facts) = facts else { continue };
        for explain in [false, true] {
            let body = json!({"facts": facts, "as_of": "2026-12-01", "explain": explain});
            let r = post_json(plain(), "/v1/decide", &body.to_string());
            let what = format!("{} (explain: {explain})", f.display());
            if r.status == 200 {
                assert_valid(&request, &what, &body);
                assert_valid(&decision, &what, &r.json());
                let mut missing = Vec::new();
                let schema = json!({"$ref": "#/components/schemas/Decision"});
                undocumented(&doc, &schema, &r.json(), "", &mut missing);
                assert!(
                    missing.is_empty(),
                    "{what}: undocumented fields {missing:?}"
                );
                decided += 1;
            } else {
                assert_valid(&error, &what, &r.json());
            }
        }
    }
    assert!(decided > 0, "no example decides");
    // Errors, and the other answers.
    let r = post_json(plain(), "/v1/decide", "{\"facts\": 1, \"bogus\": true}");
    assert_eq!(r.status, 400);
    assert_valid(&error, "a 400", &r.json());
    assert_valid(
        &component_validator(&doc, "Law"),
        "/v1/law",
        &get(plain(), "/v1/law").json(),
    );
    assert_valid(
        &component_validator(&doc, "ArticleVersions"),
        "/v1/law/articles/66",
        &get(plain(), "/v1/law/articles/66").json(),
    );
    assert_valid(
        &component_validator(&doc, "Modules"),
        "/v1/modules",
        &get(trusted().addr, "/v1/modules").json(),
    );
    assert_valid(
        &component_validator(&doc, "Status"),
        "/healthz",
        &get(plain(), "/healthz").json(),
    );
}
