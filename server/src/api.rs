//! The routes. Each handler reads the request strictly (content type, strict JSON: a key given
//! twice is an error, unknown fields are errors), makes one call of the engine, and answers
//! the Decision or the `{"error": {…}}` object the CLI prints with `--format json`.

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use norm_compiler::date::Date;
use norm_compiler::ir::Program;
use norm_runtime::engine::{DecideError, DecideOptions, Engine, InstallOptions};
use norm_runtime::{ModuleError, facts};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tower::{BoxError, ServiceBuilder};

type Shared = Arc<AppState>;

/// An answer that is not a success: a status and the `{"error": {…}}` body.
pub struct ApiError {
    status: StatusCode,
    error: Json,
    /// `WWW-Authenticate` for a 401.
    challenge: bool,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: json!({"kind": kind, "message": message.into()}),
            challenge: false,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({ "error": self.error }))).into_response();
        if self.challenge {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

fn internal(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

pub fn router(state: Shared) -> Router {
    let limits = state.limits;
    let sem = Arc::new(tokio::sync::Semaphore::new(limits.concurrency.max(1)));
    // Outermost first: errors of the inner layers become answers, an overloaded server sheds
    // (503) instead of queueing, and a request (its body included) has a deadline (408).
    let limited = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(layer_error))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
            sem,
        ))
        .timeout(limits.timeout);
    let v1 = Router::new()
        .route(
            "/v1/decide",
            post(decide).layer(DefaultBodyLimit::max(limits.max_body)),
        )
        .route(
            "/v1/decide/batch",
            post(batch).layer(DefaultBodyLimit::max(limits.max_batch_body)),
        )
        .route("/v1/law", get(law))
        .route("/v1/law/articles/{n}", get(article))
        .route("/v1/schema", get(schema))
        .route(
            "/v1/modules",
            get(modules).put(install).layer(DefaultBodyLimit::max(
                usize::try_from(norm_runtime::modules::MAX_PACKAGE_BYTES).unwrap_or(usize::MAX),
            )),
        )
        .layer(limited);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi_json))
        .merge(v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

async fn layer_error(err: BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request was not answered in time (was its body sent whole?)",
        )
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is at its concurrency limit; retry later",
        )
    } else {
        internal(format!("internal error: {err}"))
    }
}

/// Metrics and one structured log line per request, by matched route (not the raw path, so
/// the label set stays bounded).
async fn track(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    s.metrics.request(&route, &method, status, secs);
    tracing::info!(
        method,
        route,
        status,
        latency_us = (secs * 1e6) as u64,
        "request"
    );
    resp
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route `{method} {}`", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{}` does not take `{method}`", uri.path()),
    )
}

/// The body, or the answer to a body that could not be read (413 when over the limit).
fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "too_large",
                "the request body is larger than the limit",
            )
        } else {
            ApiError::new(
                status,
                "request",
                format!("cannot read the body: {}", r.body_text()),
            )
        }
    })
}

/// The media type of the request, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = v.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

fn require_type(headers: &HeaderMap, allowed: &[&str]) -> Result<(), ApiError> {
    match media_type(headers) {
        Some(t) if allowed.contains(&t.as_str()) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!(
                "expected Content-Type {}, got {}",
                allowed.join(" or "),
                other.map_or_else(|| "none".to_string(), |t| format!("`{t}`"))
            ),
        )),
    }
}

/// The body of `POST /v1/decide` (and one case of a batch).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecideRequest {
    /// The case: the facts the law declares (its JSON Schema is `GET /v1/schema`).
    #[schema(value_type = Object)]
    facts: Json,
    /// The day the case is decided as of (default: today, UTC).
    #[serde(default)]
    #[schema(format = Date)]
    as_of: Option<String>,
    /// Add the `explanation` of each norm.
    #[serde(default)]
    explain: bool,
    /// A norm id: add `why_not`, why that norm does not apply.
    #[serde(default)]
    why_not: Option<String>,
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "request", message)
}

/// Reads a request from strict JSON text.
fn read_request(json: Json) -> Result<DecideRequest, ApiError> {
    if !json.is_object() {
        return Err(bad_request(
            "expected a JSON object {\"facts\": {…}, \"as_of\"?, \"explain\"?, \"why_not\"?}",
        ));
    }
    serde_json::from_value(json).map_err(|e| bad_request(format!("request body: {e}")))
}

fn parse_strict(text: &str) -> Result<Json, ApiError> {
    facts::parse_json(text).map_err(|e| bad_request(format!("malformed JSON: {e}")))
}

pub(crate) fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0)).unwrap_or(Date::EPOCH)
}

fn as_of(arg: Option<&str>) -> Result<Date, ApiError> {
    match arg {
        None => Ok(today()),
        Some(s) => Date::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "input",
                format!(
                    "invalid as_of date `{s}`: expected YYYY-MM-DD, a real day between years 0001 and 9999"
                ),
            )
        }),
    }
}

fn decide_error(err: &DecideError) -> ApiError {
    let status = match err {
        DecideError::Facts { .. } | DecideError::UnknownNorm { .. } => StatusCode::BAD_REQUEST,
        DecideError::Evaluation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError {
        status,
        error: serde_json::to_value(err).unwrap_or_else(|_| json!({"kind": "unknown"})),
        challenge: false,
    }
}

/// One case, on the blocking pool's thread: the Decision as JSON (and its decision-log line).
fn decide_one(s: &AppState, req: &DecideRequest) -> Result<Json, ApiError> {
    let started = Instant::now();
    let engine: &Engine = &s.engine;
    let date = as_of(req.as_of.as_deref())?;
    let options = DecideOptions {
        explain: req.explain,
        why_not: None,
    };
    let mut decision = engine
        .decide(&req.facts, date, options)
        .map_err(|e| decide_error(&e))?;
    if let Some(id) = &req.why_not {
        decision.why_not = Some(
            engine
                .why_not(&req.facts, date, id)
                .map_err(|e| decide_error(&e))?,
        );
    }
    let out =
        serde_json::to_value(&decision).map_err(|e| internal(format!("cannot serialise: {e}")))?;
    if let Some(log) = &s.log {
        log.write(log_line(s, log, req, &out, started).to_string());
    }
    Ok(out)
}

fn at(v: &Json, pointer: &str) -> Json {
    v.pointer(pointer).cloned().unwrap_or(Json::Null)
}

/// One line of the decision log: who decided what on which law and data, without the facts
/// unless `--log-facts` (their SHA-256 identifies them).
fn log_line(
    s: &AppState,
    log: &crate::declog::DecisionLog,
    req: &DecideRequest,
    decision: &Json,
    started: Instant,
) -> Json {
    let seq = s.log_seq.fetch_add(1, Ordering::Relaxed);
    let facts_text = req.facts.to_string();
    let norms: Vec<Json> = decision
        .get("norms")
        .and_then(Json::as_array)
        .map(|ns| {
            ns.iter()
                .map(|n| {
                    let mut o = serde_json::Map::new();
                    for k in ["id", "status", "party", "system"] {
                        if let Some(v) = n.get(k) {
                            o.insert(k.into(), v.clone());
                        }
                    }
                    Json::Object(o)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut line = json!({
        "id": format!("{}-{seq:08x}", s.log_prefix),
        "time": norm_runtime::modules::package::now_rfc3339(),
        "law": {
            "name": at(decision, "/law/name"),
            "version": at(decision, "/law/version"),
            "sources_sha256": s.law_hash,
        },
        "as_of": at(decision, "/as_of"),
        "data": at(decision, "/data"),
        "facts_sha256": crate::declog::sha256_hex(facts_text.as_bytes()),
        "norms": norms,
        "latency_us": u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    if log.log_facts
        && let Some(o) = line.as_object_mut()
    {
        o.insert("facts".into(), req.facts.clone());
    }
    line
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("internal error: the decision stopped: {e}")))
}

/// Decides one case.
#[utoipa::path(
    post,
    path = "/v1/decide",
    tag = "decide",
    request_body(content = DecideRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The Decision (DESIGN §6)", body = crate::openapi::Decision),
        (status = 400, description = "Malformed JSON, unknown fields, a facts error (naming its JSON path), an `as_of` that is not a date, an unknown `why_not` norm", body = crate::openapi::ErrorBody),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "The request (its body included) was not answered in time", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is over the limit", body = crate::openapi::ErrorBody),
        (status = 415, description = "The Content-Type is not application/json", body = crate::openapi::ErrorBody),
        (status = 422, description = "The case could not be evaluated (an overflow, conflicting definitions, …)", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn decide(
    State(s): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_type(&headers, &["application/json"])?;
    let bytes = body(raw)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| bad_request(format!("the body is not UTF-8: {e}")))?;
    let req = read_request(parse_strict(text)?)?;
    let state = s.clone();
    let out = blocking(move || decide_one(&state, &req)).await?;
    match out {
        Ok(d) => {
            s.metrics.decisions(1, 0);
            Ok(axum::Json(d).into_response())
        }
        Err(e) => {
            s.metrics.decisions(0, 1);
            Err(e)
        }
    }
}

/// A batch: a JSON array of requests, or JSONL (one request a line; blank lines skipped).
/// The answer is JSONL in input order, each line a Decision or, in its place, `{"error": …}`.
#[utoipa::path(
    post,
    path = "/v1/decide/batch",
    tag = "decide",
    request_body(
        description = "A JSON array of requests, or JSONL (one request a line)",
        content(
            (Vec<DecideRequest> = "application/json"),
            (String = "application/x-ndjson"),
            (String = "application/jsonl"),
        )
    ),
    responses(
        (status = 200, description = "JSONL in input order: one Decision a line or, in a failing case's place, `{\"error\": …}`", body = String, content_type = "application/x-ndjson"),
        (status = 400, description = "Malformed JSON (a JSON array), or a body that is not UTF-8", body = crate::openapi::ErrorBody),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is over the limit", body = crate::openapi::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON or JSONL", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn batch(
    State(s): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_type(
        &headers,
        &[
            "application/json",
            "application/x-ndjson",
            "application/jsonl",
        ],
    )?;
    let bytes = body(raw)?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|e| bad_request(format!("the body is not UTF-8: {e}")))?;
    let cases: Vec<Result<Json, ApiError>> = if text.trim_start().starts_with('[') {
        match parse_strict(&text)? {
            Json::Array(items) => items.into_iter().map(Ok).collect(),
            _ => return Err(bad_request("expected a JSON array of requests")),
        }
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                facts::parse_json(l)
                    .map_err(|e| bad_request(format!("line {}: malformed JSON: {e}", i + 1)))
            })
            .collect()
    };
    let state = s.clone();
    let (out, ok, failed) = blocking(move || {
        let mut out = String::new();
        let (mut ok, mut failed) = (0u64, 0u64);
        for case in cases {
            let line = match case
                .and_then(read_request)
                .and_then(|r| decide_one(&state, &r))
            {
                Ok(d) => {
                    ok += 1;
                    d
                }
                Err(e) => {
                    failed += 1;
                    json!({ "error": e.error })
                }
            };
            out.push_str(&line.to_string());
            out.push('\n');
        }
        (out, ok, failed)
    })
    .await?;
    s.metrics.decisions(ok, failed);
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
}

fn date_json(d: Option<Date>) -> Json {
    d.map_or(Json::Null, |d| Json::String(d.to_string()))
}

fn article_json(p: &Program, index: usize) -> Json {
    let Some(a) = p.articles.get(index) else {
        return Json::Null;
    };
    let norms: Vec<&str> = p
        .norms
        .iter()
        .filter(|n| usize::try_from(n.article).ok() == Some(index))
        .map(|n| n.id.as_str())
        .collect();
    let mut o = json!({
        "number": a.number,
        "title": a.title,
        "text": a.text.join("\n"),
        "norms": norms,
    });
    if let Some(m) = o.as_object_mut() {
        if let Some(c) = a.chapter {
            m.insert("chapter".into(), json!(c));
        }
        if a.effective.is_some() {
            m.insert("effective".into(), date_json(a.effective));
        }
        if a.until.is_some() {
            m.insert("until".into(), date_json(a.until));
        }
    }
    o
}

/// The law: name, versions with their periods, chapters, articles with their norm ids.
#[utoipa::path(
    get,
    path = "/v1/law",
    tag = "law",
    responses(
        (status = 200, description = "The law", body = crate::openapi::Law),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn law(State(s): State<Shared>) -> axum::Json<Json> {
    let p = s.engine.program();
    let versions: Vec<Json> = p
        .law
        .versions
        .iter()
        .map(|v| {
            json!({"version": v.version, "title": v.title,
                   "effective": date_json(v.effective), "until": date_json(v.until)})
        })
        .collect();
    let chapters: Vec<Json> = p
        .chapters
        .iter()
        .map(|c| json!({"number": c.number, "title": c.title}))
        .collect();
    let articles: Vec<Json> = (0..p.articles.len()).map(|i| article_json(p, i)).collect();
    axum::Json(json!({
        "name": p.law.name,
        "title": p.law.title,
        "version": p.law.version,
        "versions": versions,
        "chapters": chapters,
        "articles": articles,
    }))
}

/// Every version of article `n` (an article amended in time has several).
#[utoipa::path(
    get,
    path = "/v1/law/articles/{n}",
    tag = "law",
    params(("n" = String, Path, description = "The article's number", example = "66")),
    responses(
        (status = 200, description = "Every version of the article", body = crate::openapi::ArticleVersions),
        (status = 404, description = "The law has no such article", body = crate::openapi::ErrorBody),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn article(
    State(s): State<Shared>,
    Path(n): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let p = s.engine.program();
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("the law has no article `{n}`"),
        )
    };
    let number: u32 = n.parse().map_err(|_| missing())?;
    let versions: Vec<Json> = p
        .articles
        .iter()
        .enumerate()
        .filter(|(_, a)| a.number == number)
        .map(|(i, _)| article_json(p, i))
        .collect();
    if versions.is_empty() {
        return Err(missing());
    }
    Ok(axum::Json(json!({"number": number, "versions": versions})))
}

/// The JSON Schema (2020-12) of the facts the law expects.
#[utoipa::path(
    get,
    path = "/v1/schema",
    tag = "law",
    responses(
        (status = 200, description = "The facts' JSON Schema", body = Object),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn schema(State(s): State<Shared>) -> axum::Json<Json> {
    axum::Json(norm_runtime::schema::facts_schema(s.engine.program()))
}

/// The data modules in force.
#[utoipa::path(
    get,
    path = "/v1/modules",
    tag = "modules",
    responses(
        (status = 200, description = "The installed modules", body = crate::openapi::Modules),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn modules(State(s): State<Shared>) -> axum::Json<Json> {
    let snapshot = s.engine.snapshot();
    let signers = s.signers.lock().map(|m| m.clone()).unwrap_or_default();
    let list: Vec<Json> = snapshot
        .data()
        .iter()
        .map(|m| {
            let effective = m.effective.to_string();
            let mut o = json!({
                "name": m.name, "version": m.version, "effective": effective, "hash": m.hash,
            });
            if let (Some(obj), Some(k)) = (
                o.as_object_mut(),
                signers.get(&crate::signer_key(&m.name, &m.version, &effective)),
            ) {
                obj.insert("publisher_key".into(), json!(k));
            }
            o
        })
        .collect();
    axum::Json(json!({"generation": snapshot.generation(), "modules": list}))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct InstallQuery {
    /// Install a version that is not newer than the one in force.
    #[serde(default)]
    allow_rollback: bool,
}

/// Equal without saying where it differs (the token is a secret).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorize(s: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &s.token else {
        let why = if s.engine.trust().is_none() {
            "installing modules is off: the server was started without --trust"
        } else {
            "installing modules is off: the server was started without --token-file"
        };
        return Err(ApiError::new(StatusCode::FORBIDDEN, "disabled", why));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => Err(ApiError {
            challenge: true,
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token is required (Authorization: Bearer …)",
            )
        }),
        Some(g) if same_secret(g.trim().as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the bearer token is wrong",
        )),
    }
}

fn module_error(e: &ModuleError) -> ApiError {
    let detail = serde_json::to_value(e).unwrap_or_else(|_| json!({"kind": "internal"}));
    let kind = detail
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or("internal")
        .to_string();
    let status = match kind.as_str() {
        "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "not_newer" => StatusCode::CONFLICT,
        "io" | "config" | "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError {
        status,
        error: json!({"kind": "module", "message": e.to_string(), "module_error": detail}),
        challenge: false,
    }
}

/// Installs a signed package (DESIGN §4); the decisions in flight finish on the old modules.
#[utoipa::path(
    put,
    path = "/v1/modules",
    tag = "modules",
    params(InstallQuery),
    request_body(description = "A signed package (`norm data sign`)", content = crate::openapi::Package, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Installed", body = crate::openapi::Installed),
        (status = 400, description = "A bad query", body = crate::openapi::ErrorBody),
        (status = 401, description = "No bearer token", body = crate::openapi::ErrorBody),
        (status = 403, description = "A wrong token, or installing is off (no --trust or no --token-file)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not newer than the version in force (see `allow_rollback`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The package is over the limit", body = crate::openapi::ErrorBody),
        (status = 422, description = "Refused: unsigned, tampered, an untrusted key, or a module that does not fit the law", body = crate::openapi::ErrorBody),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 408, description = "Not answered in time", body = crate::openapi::ErrorBody),
        (status = 503, description = "At the concurrency limit", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn install(
    State(s): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<InstallQuery>, axum::extract::rejection::QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if let Err(e) = authorize(&s, &headers) {
        s.metrics.refused("unauthorized");
        return Err(e);
    }
    let Query(q) = query.map_err(|e| bad_request(e.body_text()))?;
    let bytes = body(raw)?;
    let engine = s.engine.clone();
    let options = InstallOptions {
        allow_rollback: q.allow_rollback,
    };
    let state = s.clone();
    match blocking(move || install_bytes(&state, &engine, &bytes, &options)).await? {
        Ok(installed) => {
            let v = serde_json::to_value(&installed)
                .map_err(|e| internal(format!("cannot serialise: {e}")))?;
            Ok(axum::Json(json!({ "installed": v })).into_response())
        }
        Err(e) => {
            tracing::warn!(kind = refusal_kind(&e), error = %e, "module refused");
            Err(module_error(&e))
        }
    }
}

/// The `kind` a refusal is counted under in `/metrics` (the ModuleError's JSON `kind`).
pub(crate) fn refusal_kind(e: &ModuleError) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.get("kind").and_then(Json::as_str).map(str::to_string))
        .unwrap_or_else(|| "internal".to_string())
}

/// The one install path, for `PUT /v1/modules` and the watched `--modules-dir`: the engine
/// verifies and installs (with the configured trust store); an install is counted and its
/// signer remembered, a refusal is counted by its kind. The caller logs the refusal.
pub(crate) fn install_bytes(
    s: &AppState,
    engine: &Engine,
    bytes: &[u8],
    options: &InstallOptions,
) -> Result<norm_runtime::engine::Installed, ModuleError> {
    match engine.install(bytes, options) {
        Ok(installed) => {
            s.metrics.installs.fetch_add(1, Ordering::Relaxed);
            if let (Some(k), Ok(mut m)) = (&installed.signed_by, s.signers.lock()) {
                m.insert(
                    crate::signer_key(&installed.module, &installed.version, &installed.effective),
                    k.clone(),
                );
            }
            tracing::info!(module = %installed.module, version = %installed.version,
                           generation = installed.generation, "module installed");
            Ok(installed)
        }
        Err(e) => {
            s.metrics.refused(&refusal_kind(&e));
            Err(e)
        }
    }
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Alive", body = crate::openapi::Status),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn healthz() -> axum::Json<Json> {
    axum::Json(json!({"status": "ok"}))
}

/// Readiness: serving (not starting, not shutting down).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = crate::openapi::Status),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
        (status = 503, description = "Starting or shutting down", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn readyz(State(s): State<Shared>) -> Result<axum::Json<Json>, ApiError> {
    if s.ready.load(Ordering::SeqCst) {
        Ok(axum::Json(json!({"status": "ready"})))
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the server is starting or shutting down",
        ))
    }
}

/// Prometheus text: requests and latency by route and status, decisions, installs and
/// refusals, the installed module versions.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn metrics(State(s): State<Shared>) -> Response {
    let snapshot = s.engine.snapshot();
    let modules: Vec<(String, String, String)> = snapshot
        .data()
        .iter()
        .map(|m| (m.name.clone(), m.version.clone(), m.effective.to_string()))
        .collect();
    let mut text = s.metrics.render(&modules);
    if let Some(log) = &s.log {
        use std::fmt::Write as _;
        text.push_str("# HELP norm_decision_log_lines_total Lines written to the decision log.\n");
        text.push_str("# TYPE norm_decision_log_lines_total counter\n");
        let _ = writeln!(
            text,
            "norm_decision_log_lines_total {}",
            log.written.load(Ordering::Relaxed)
        );
        text.push_str(
            "# HELP norm_decision_log_dropped_total Lines dropped because the writer fell behind.\n",
        );
        text.push_str("# TYPE norm_decision_log_dropped_total counter\n");
        let _ = writeln!(
            text,
            "norm_decision_log_dropped_total {}",
            log.dropped.load(Ordering::Relaxed)
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = Object),
        (status = 405, description = "Method not allowed", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn openapi_json(State(s): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.clone(),
    )
        .into_response()
}
