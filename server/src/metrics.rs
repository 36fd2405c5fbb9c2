//! `/metrics` in the Prometheus text format, written by hand: a few counters and one latency
//! histogram need no metrics framework. Counters sit behind one mutex each, taken once per
//! request after the response is built (never while deciding).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// (route, method, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// (route, status) → latency.
    latency: Mutex<BTreeMap<(String, u16), Histogram>>,
    pub decisions_ok: AtomicU64,
    pub decisions_failed: AtomicU64,
    pub installs: AtomicU64,
    /// ModuleError kind (or `unauthorized`) → refusals.
    refusals: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_string(), method.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry((route.to_string(), status)).or_default();
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter_mut()) {
                if seconds <= *bound {
                    *count += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    pub fn decisions(&self, ok: u64, failed: u64) {
        self.decisions_ok.fetch_add(ok, Ordering::Relaxed);
        self.decisions_failed.fetch_add(failed, Ordering::Relaxed);
    }

    pub fn refused(&self, kind: &str) {
        if let Ok(mut r) = self.refusals.lock() {
            *r.entry(kind.to_string()).or_default() += 1;
        }
    }

    /// The text exposition; `modules` are the installed versions (name, version, effective).
    pub fn render(&self, modules: &[(String, String, String)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP norm_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE norm_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, method, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "norm_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    escape(route),
                    escape(method)
                );
            }
        }
        out.push_str(
            "# HELP norm_http_request_duration_seconds Time to answer a request, by route and status.\n",
        );
        out.push_str("# TYPE norm_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for ((route, status), h) in l.iter() {
                let labels = format!("route=\"{}\",status=\"{status}\"", escape(route));
                for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                    let _ = writeln!(
                        out,
                        "norm_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "norm_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "norm_http_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "norm_http_request_duration_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        out.push_str("# HELP norm_decisions_total Cases decided, by outcome.\n");
        out.push_str("# TYPE norm_decisions_total counter\n");
        let _ = writeln!(
            out,
            "norm_decisions_total{{outcome=\"ok\"}} {}",
            self.decisions_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "norm_decisions_total{{outcome=\"error\"}} {}",
            self.decisions_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP norm_module_installs_total Data modules installed while serving.\n");
        out.push_str("# TYPE norm_module_installs_total counter\n");
        let _ = writeln!(
            out,
            "norm_module_installs_total {}",
            self.installs.load(Ordering::Relaxed)
        );
        out.push_str("# HELP norm_module_refusals_total Module installs refused, by reason.\n");
        out.push_str("# TYPE norm_module_refusals_total counter\n");
        if let Ok(r) = self.refusals.lock() {
            for (kind, n) in r.iter() {
                let _ = writeln!(
                    out,
                    "norm_module_refusals_total{{kind=\"{}\"}} {n}",
                    escape(kind)
                );
            }
        }
        out.push_str("# HELP norm_module_info The data module versions installed (1 each).\n");
        out.push_str("# TYPE norm_module_info gauge\n");
        for (name, version, effective) in modules {
            let _ = writeln!(
                out,
                "norm_module_info{{module=\"{}\",version=\"{}\",effective=\"{}\"}} 1",
                escape(name),
                escape(version),
                escape(effective)
            );
        }
        out
    }
}

/// A label value as the exposition format wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
