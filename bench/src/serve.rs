//! Issue 14's load test: `norm serve` (the release binary) with the whole stdlib, signed modules,
//! a token and a decision log, on loopback, driven by a load generator (`oha`, installed into
//! `bench/.tools` with `cargo install` when it is absent, or `wrk` when that is installed and
//! `oha` is not): decisions per second and p50/p99 latency, first without installs, then while
//! 1,000 signed versions of the Negative List are PUT to `/v1/modules`. Then the decision log
//! is read: every logged decision's modules must be a set that was installed at some moment
//! (the stdlib's modules, with one version of the Negative List, whose hash is that version's).
//! Next to it, the same case decided in process (`Engine::decide` from JSON, serialised).

use norm_compiler::date::Date;
use norm_runtime::FsLoader;
use norm_runtime::engine::{DecideOptions, Engine, EngineKind};
use norm_runtime::modules::{self, Package, keys};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const INSTALLS: usize = 1_000;
const OHA_VERSION: &str = "1.16.0";
const AS_OF: &str = "2026-12-01";
const TOKEN: &str = "bench-token";

/// The run's scratch directory, removed however the run ends (`die` exits without unwinding).
static SCRATCH: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

fn remove_scratch() {
    let dir = match SCRATCH.lock() {
        Ok(mut g) => g.take(),
        Err(p) => p.into_inner().take(),
    };
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn die(msg: String) -> ! {
    eprintln!("norm-bench serve: {msg}");
    remove_scratch();
    std::process::exit(1)
}

/// One load run's figures.
#[derive(Default, Clone)]
struct Load {
    requests: u64,
    ok: u64,
    failed: u64,
    rate: f64,
    p50: f64,
    p99: f64,
    secs: f64,
}

/// The load generator found or installed.
enum Generator {
    Oha(PathBuf),
    Wrk(PathBuf),
}

impl Generator {
    fn name(&self) -> String {
        match self {
            Generator::Oha(p) => format!("oha {OHA_VERSION} ({})", p.display()),
            Generator::Wrk(p) => format!("wrk ({})", p.display()),
        }
    }
}

fn in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn generator(root: &Path) -> Generator {
    let local = root.join("bench/.tools/bin/oha");
    if local.is_file() {
        return Generator::Oha(local);
    }
    if let Some(p) = in_path("oha") {
        return Generator::Oha(p);
    }
    if let Some(p) = in_path("wrk") {
        return Generator::Wrk(p);
    }
    eprintln!(
        "norm-bench serve: installing oha {OHA_VERSION} into bench/.tools (cargo install oha --locked; or apt-get install wrk)"
    );
    let status = Command::new("cargo")
        .args([
            "install",
            "oha",
            "--locked",
            "--version",
            // Its default features (rustls): without a TLS feature 1.16.0 does not build.
            &format!("={OHA_VERSION}"),
            "--root",
        ])
        .arg(root.join("bench/.tools"))
        .arg("--target-dir")
        .arg(root.join("target/oha"))
        .status();
    match status {
        Ok(s) if s.success() && local.is_file() => Generator::Oha(local),
        Ok(s) => die(format!(
            "cargo install oha failed ({s}); or apt-get install wrk"
        )),
        Err(e) => die(format!("cannot run cargo install oha: {e}")),
    }
}

/// One HTTP/1.1 request on its own connection: the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .and_then(|()| s.write_all(body))
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "no end of headers".to_string())?;
    let head = String::from_utf8_lossy(raw.get(..split).unwrap_or_default()).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status: {head}"))?;
    Ok((status, raw.get(split + 4..).unwrap_or_default().to_vec()))
}

fn http_json(addr: SocketAddr, path: &str) -> Json {
    match http(addr, "GET", path, &[], b"") {
        Ok((200, b)) => serde_json::from_slice(&b).unwrap_or(Json::Null),
        Ok((s, b)) => die(format!("GET {path}: {s} {}", String::from_utf8_lossy(&b))),
        Err(e) => die(format!("GET {path}: {e}")),
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn fmt_ms(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// The stdlib's modules signed with one key into `dir/data`, a trust store for it, and 1,000
/// Negative Lists (the stdlib's own under versions `2027.K`, effective 2026-06-01).
fn packages(root: &Path, dir: &Path) -> (PathBuf, PathBuf, Vec<Vec<u8>>) {
    let mail = root.join("stdlib/mail");
    let data_dir = root.join("stdlib/data");
    let engine = Engine::load(
        std::slice::from_ref(&mail),
        Some(std::slice::from_ref(&data_dir)),
    )
    .unwrap_or_else(|e| die(e.render()));
    let program = engine.program();
    let key = keys::generate().unwrap_or_else(|e| die(e.to_string()));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap_or_else(|e| die(format!("{e}")));
    let mut names = Vec::new();
    let mut list = None;
    for f in modules::module_files(std::slice::from_ref(&data_dir))
        .unwrap_or_else(|e| die(e.to_string()))
    {
        let src = std::fs::read_to_string(&f).unwrap_or_else(|e| die(format!("{e}")));
        let p = Package::sign(program, &src, &key, "2026-01-01T00:00:00Z")
            .unwrap_or_else(|e| die(format!("{}: {e}", f.display())));
        let name = p
            .manifest()
            .map(|m| m.module)
            .unwrap_or_else(|e| die(e.to_string()));
        std::fs::write(data.join(format!("{name}.normpkg")), p.to_bytes())
            .unwrap_or_else(|e| die(format!("{e}")));
        if name == "negative_list" {
            list = Some(src);
        }
        names.push(name);
    }
    let list = list.unwrap_or_else(|| die("the stdlib has no negative_list module".into()));
    let trust = dir.join("trust.json");
    std::fs::write(
        &trust,
        json!({"keys": [{"public_key": keys::public_line(&key.verifying_key()), "modules": names}]}).to_string(),
    )
    .unwrap_or_else(|e| die(format!("{e}")));
    let lists = (1..=INSTALLS)
        .map(|k| {
            let src = crate::modules::reversion(&list, "negative_list", k);
            Package::sign(program, &src, &key, "2026-01-01T00:00:00Z")
                .unwrap_or_else(|e| die(format!("{e}")))
                .to_bytes()
        })
        .collect();
    (data, trust, lists)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(
        norm: &Path,
        root: &Path,
        data: &Path,
        trust: &Path,
        token: &Path,
        log: &Path,
    ) -> Server {
        let mut child = Command::new(norm)
            .arg("serve")
            .arg("--law")
            .arg(root.join("stdlib/mail"))
            .arg("--data")
            .arg(data)
            .arg("--trust")
            .arg(trust)
            .arg("--token-file")
            .arg(token)
            .arg("--decision-log")
            .arg(log)
            .args([
                "--decision-log-max-bytes",
                "100000000000",
                "--addr",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| die(format!("cannot start {}: {e}", norm.display())));
        let Some(out) = child.stdout.take() else {
            die("no stdout".into())
        };
        let mut line = String::new();
        let _ = std::io::BufReader::new(out).read_line(&mut line);
        let addr = line
            .trim()
            .strip_prefix("norm serve: listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                die(format!("norm serve did not start: {line:?}"))
            });
        Server { child, addr }
    }

    /// SIGTERM (the server drains, flushes the decision log and exits 0).
    fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        matches!(self.child.wait(), Ok(s) if s.success())
    }
}

/// The value at a JSON pointer, `null` if there is none.
fn at<'a>(j: &'a Json, pointer: &str) -> &'a Json {
    const NULL: &Json = &Json::Null;
    j.pointer(pointer).unwrap_or(NULL)
}

fn secs_of(j: &Json) -> f64 {
    j.as_f64().unwrap_or(f64::NAN)
}

fn run_load(
    load_gen: &Generator,
    dir: &Path,
    addr: SocketAddr,
    body: &Path,
    secs: u64,
    conns: u32,
) -> Load {
    let url = format!("http://{addr}/v1/decide");
    match load_gen {
        Generator::Oha(oha) => {
            let out = Command::new(oha)
                .args([
                    "-z",
                    &format!("{secs}s"),
                    "-c",
                    &conns.to_string(),
                    "-m",
                    "POST",
                ])
                .args(["-H", "Content-Type: application/json", "-D"])
                .arg(body)
                .args(["--no-tui", "--output-format", "json", &url])
                .output()
                .unwrap_or_else(|e| die(format!("oha: {e}")));
            let j: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                die(format!(
                    "oha's output ({e}): {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            });
            let codes = j
                .get("statusCodeDistribution")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
            let count = |ok: bool| -> u64 {
                codes
                    .iter()
                    .filter(|(c, _)| (c.as_str() == "200") == ok)
                    .map(|(_, n)| n.as_u64().unwrap_or(0))
                    .sum()
            };
            let errors: u64 = j
                .get("errorDistribution")
                .and_then(Json::as_object)
                .map(|m| m.values().map(|n| n.as_u64().unwrap_or(0)).sum())
                .unwrap_or(0);
            let s = at(&j, "/summary");
            let (ok, bad) = (count(true), count(false));
            Load {
                requests: ok + bad + errors,
                ok,
                failed: bad + errors,
                rate: ok as f64 / secs_of(at(s, "/total")),
                p50: secs_of(at(&j, "/latencyPercentiles/p50")),
                p99: secs_of(at(&j, "/latencyPercentiles/p99")),
                secs: secs_of(at(s, "/total")),
            }
        }
        Generator::Wrk(wrk) => {
            let text = std::fs::read_to_string(body).unwrap_or_default();
            let script = dir.join("post.lua");
            let lua = format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = {}\n",
                Json::String(text)
            );
            std::fs::write(&script, lua).unwrap_or_else(|e| die(format!("{e}")));
            let out = Command::new(wrk)
                .args([
                    "-t",
                    "2",
                    "-c",
                    &conns.to_string(),
                    "-d",
                    &format!("{secs}s"),
                    "--latency",
                    "-s",
                ])
                .arg(&script)
                .arg(&url)
                .output()
                .unwrap_or_else(|e| die(format!("wrk: {e}")));
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let num_after = |prefix: &str| -> Option<String> {
                text.lines()
                    .map(str::trim)
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(|r| {
                        r.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .trim_end_matches(',')
                            .to_string()
                    })
            };
            let dur = |s: String| -> f64 {
                let (n, unit) =
                    s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
                let n: f64 = n.parse().unwrap_or(f64::NAN);
                match unit {
                    "us" => n * 1e-6,
                    "ms" => n * 1e-3,
                    "s" => n,
                    "m" => n * 60.0,
                    _ => f64::NAN,
                }
            };
            let total: u64 = text
                .lines()
                .find(|l| l.contains("requests in"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let non2xx: u64 = num_after("Non-2xx or 3xx responses:")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let socket: u64 = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Socket errors:"))
                .map(|r| {
                    r.split(',')
                        .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                        .sum()
                })
                .unwrap_or(0);
            Load {
                requests: total + socket,
                ok: total.saturating_sub(non2xx),
                failed: non2xx + socket,
                rate: total.saturating_sub(non2xx) as f64 / secs as f64,
                p50: num_after("50%").map_or(f64::NAN, dur),
                p99: num_after("99%").map_or(f64::NAN, dur),
                secs: secs as f64,
            }
        }
    }
}

/// The figures of the in-process engine on the same case: decisions/s on every core and the
/// latency of one (`Engine::decide` from parsed JSON, the Decision serialised as the server does).
fn in_process(root: &Path, facts: &Json, secs: f64) -> (f64, f64, f64, usize) {
    let engine = Engine::load_with(
        &FsLoader,
        &[root.join("stdlib/mail")],
        Some(&[root.join("stdlib/data")]),
        EngineKind::Jit,
    )
    .unwrap_or_else(|e| die(e.render()));
    let as_of = Date::parse(AS_OF).unwrap_or(Date::EPOCH);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (engine, facts, stop, done) =
                (engine.clone(), facts.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if let Ok(d) = engine.decide(&facts, as_of, DecideOptions::default()) {
                        let _ = serde_json::to_vec(&d);
                    }
                    lat.push(t.elapsed().as_secs_f64());
                    done.fetch_add(1, Ordering::Relaxed);
                }
                lat
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<f64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    (
        done.load(Ordering::Relaxed) as f64 / elapsed,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        threads,
    )
}

/// `(name, version)` → hash of every module set that was installed at some moment: the modules
/// at start, and each Negative List installed after.
struct Installed {
    base: BTreeMap<String, (String, String)>,
    lists: HashMap<String, String>,
}

/// Reads the decision log: (lines, torn lines, distinct Negative List versions seen, first
/// torn line).
fn check_log(log: &Path, installed: &Installed) -> (u64, u64, usize, Option<String>) {
    let file = std::fs::File::open(log).unwrap_or_else(|e| die(format!("{}: {e}", log.display())));
    let (mut lines, mut torn) = (0u64, 0u64);
    let mut seen = BTreeSet::new();
    let mut first = None;
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        lines += 1;
        let ok = serde_json::from_str::<Json>(&line).ok().is_some_and(|j| {
            at(&j, "/data").as_array().is_some_and(|mods| {
                mods.iter().all(|m| {
                    let (name, version, hash) = (
                        at(m, "/name").as_str().unwrap_or_default(),
                        at(m, "/version").as_str().unwrap_or_default(),
                        at(m, "/hash").as_str().unwrap_or_default(),
                    );
                    if name == "negative_list" {
                        seen.insert(version.to_string());
                    }
                    let base = installed
                        .base
                        .get(name)
                        .is_some_and(|(v, h)| v == version && h == hash);
                    let list = name == "negative_list"
                        && installed.lists.get(version).is_some_and(|h| h == hash);
                    base || list
                })
            })
        });
        if !ok {
            torn += 1;
            if first.is_none() {
                first = Some(line.chars().take(400).collect());
            }
        }
    }
    (lines, torn, seen.len(), first)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|r| r.trim().parse::<f64>().ok())
        })
        .map_or(0, |v| v as u64)
}

pub fn serve(root: &Path) -> super::modules::Figures {
    let norm = root.join("target/release/norm");
    if !norm.is_file() {
        die("target/release/norm is missing: cargo build --release -p norm-cli".into());
    }
    let secs: u64 = std::env::var("BENCH_SERVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let conns: u32 = std::env::var("BENCH_SERVE_CONNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let load_gen = generator(root);
    println!("norm-bench serve: load generator {}", load_gen.name());
    let dir = std::env::temp_dir().join(format!("norm-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(mut g) = SCRATCH.lock() {
        *g = Some(dir.clone());
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| die(format!("{e}")));
    let (data, trust, lists) = packages(root, &dir);
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap_or_else(|e| die(format!("{e}")));
    let log = dir.join("decisions.jsonl");
    let server = Server::start(&norm, root, &data, &trust, &token, &log);
    let addr = server.addr;

    // The case: the first example (in name order, the in-process bench's first) that decides.
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap_or_else(|e| die(format!("examples: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort_by_key(|p| !p.ends_with("foreign_foundation_developer.json"));
    let (case, facts) = files
        .iter()
        .find_map(|f| {
            let facts: Json = serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()?;
            let body = json!({"facts": facts, "as_of": AS_OF}).to_string();
            let (status, _) = http(
                addr,
                "POST",
                "/v1/decide",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .ok()?;
            (status == 200).then(|| (f.clone(), facts))
        })
        .unwrap_or_else(|| die("no example decides".into()));
    let body = dir.join("body.json");
    std::fs::write(&body, json!({"facts": facts, "as_of": AS_OF}).to_string())
        .unwrap_or_else(|e| die(format!("{e}")));

    let start_modules = http_json(addr, "/v1/modules");
    let base: BTreeMap<String, (String, String)> = at(&start_modules, "/modules")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                at(m, "/name").as_str()?.to_string(),
                (
                    at(m, "/version").as_str()?.to_string(),
                    at(m, "/hash").as_str()?.to_string(),
                ),
            ))
        })
        .collect();

    // 1. No installs.
    let quiet = run_load(&load_gen, &dir, addr, &body, secs, conns);
    // 2. The same while 1,000 Negative Lists are installed, spread over the run.
    let installs_done = Arc::new(AtomicU64::new(0));
    let installer = {
        let installs_done = installs_done.clone();
        std::thread::spawn(move || {
            let auth = format!("Bearer {TOKEN}");
            let pace = Duration::from_secs_f64((secs as f64 - 2.0).max(1.0) / INSTALLS as f64);
            std::thread::sleep(Duration::from_millis(500));
            let start = Instant::now();
            let mut out = HashMap::new();
            let mut times = Vec::new();
            let mut refused = Vec::new();
            for (i, p) in lists.iter().enumerate() {
                let due = pace * u32::try_from(i).unwrap_or(u32::MAX);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
                let t = Instant::now();
                match http(
                    addr,
                    "PUT",
                    "/v1/modules",
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/octet-stream"),
                    ],
                    p,
                ) {
                    Ok((200, b)) => {
                        let j: Json = serde_json::from_slice(&b).unwrap_or(Json::Null);
                        let i = at(&j, "/installed");
                        if let (Some(v), Some(h)) =
                            (at(i, "/version").as_str(), at(i, "/hash").as_str())
                        {
                            out.insert(v.to_string(), h.to_string());
                        }
                        installs_done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((s, b)) => refused.push(format!("{s} {}", String::from_utf8_lossy(&b))),
                    Err(e) => refused.push(e),
                }
                times.push(t.elapsed().as_secs_f64());
            }
            (out, times, refused, start.elapsed().as_secs_f64())
        })
    };
    let during = run_load(&load_gen, &dir, addr, &body, secs, conns);
    let (lists_installed, mut install_times, refused, install_span) = installer
        .join()
        .unwrap_or_else(|_| die("the installer stopped".into()));
    install_times.sort_by(f64::total_cmp);
    let metrics = match http(addr, "GET", "/metrics", &[], b"") {
        Ok((200, b)) => String::from_utf8_lossy(&b).to_string(),
        _ => String::new(),
    };
    let dropped = metric(&metrics, "norm_decision_log_dropped_total");
    let drained = server.stop();
    let installed = Installed {
        base,
        lists: lists_installed,
    };
    let (lines, torn, versions_seen, first_torn) = check_log(&log, &installed);
    remove_scratch();
    let (ip_rate, ip_p50, ip_p99, threads) = in_process(root, &facts, 3.0);

    let case_name = case
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let failed = quiet.failed + during.failed;
    let expected_lines = quiet.ok + during.ok + 1;
    let row = |what: String, l: &Load, note: String| {
        (
            what,
            format!(
                "{:.0}/s {} p50 {} p99",
                l.rate,
                fmt_ms(l.p50),
                fmt_ms(l.p99)
            ),
            format!(
                "{} requests in {:.1} s, {} failed{note}",
                l.requests, l.secs, l.failed
            ),
        )
    };
    let rows = vec![
        (
            format!("in process: Engine::decide from JSON + serialise, {threads} threads"),
            format!(
                "{ip_rate:.0}/s {} p50 {} p99",
                fmt_ms(ip_p50),
                fmt_ms(ip_p99)
            ),
            format!("the case: examples/{case_name}, as of {AS_OF}"),
        ),
        row(
            format!("norm serve, POST /v1/decide, {conns} connections"),
            &quiet,
            String::new(),
        ),
        row(
            format!("  the same during {INSTALLS} PUT /v1/modules"),
            &during,
            format!(
                "; {} installed in {:.1} s ({} median, {} p99 each), {} refused",
                installs_done.load(Ordering::Relaxed),
                install_span,
                fmt_ms(pct(&install_times, 0.5)),
                fmt_ms(pct(&install_times, 0.99)),
                refused.len()
            ),
        ),
        (
            "  decision log: lines, torn decisions".to_string(),
            format!("{lines} lines, {torn} torn"),
            format!(
                "{versions_seen} Negative List versions seen; {dropped} dropped; ≥ {expected_lines} expected (the generator counts only the answers it read in time); SIGTERM drained: {drained}"
            ),
        ),
    ];
    if let Some(r) = refused.first() {
        eprintln!("norm-bench serve: an install was refused: {r}");
    }
    if let Some(t) = first_torn {
        eprintln!("norm-bench serve: a torn decision: {t}");
    }
    let bad = failed + torn + refused.len() as u64 + u64::from(!drained);
    if bad > 0 {
        eprintln!(
            "norm-bench serve: {failed} failed requests, {torn} torn decisions, {} refused installs",
            refused.len()
        );
    }
    super::modules::Figures {
        rows,
        install: None,
        serve: Some((failed, torn)),
    }
}
