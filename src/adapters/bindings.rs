//! Every JavaScript interface this Worker touches, declared directly: the request, its headers and
//! body, the response, `env` and `ctx` of the fetch handler, D1, KV, the Rate Limiting binding,
//! `fetch` and `console.log`.
//!
//! Why not the `worker` crate: its wrappers convert every row, option object and result through
//! `serde_wasm_bindgen` (a second serde deserializer per row type), and its entry point, streams and
//! exported helper classes link code this service never runs. Declaring the dozen calls we make took
//! ~20 KB gzipped off the wasm (issue 6, BENCHMARKS.md "Size").
//!
//! Interfaces: the Fetch API <https://developers.cloudflare.com/workers/runtime-apis/>, D1
//! <https://developers.cloudflare.com/d1/worker-api/>, KV <https://developers.cloudflare.com/kv/api/>,
//! Rate Limiting <https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/>.

use edge_auth_core::AuthError;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The fetch handler's `env`: variables and secrets are strings, bindings are objects.
    #[derive(Clone)]
    pub type Env;

    /// The fetch handler's `ctx`.
    pub type Context;
    #[wasm_bindgen(method, js_name = waitUntil)]
    fn wait_until_promise(this: &Context, promise: &Promise);

    /// An incoming request.
    pub type Request;
    #[wasm_bindgen(method, getter)]
    pub fn method(this: &Request) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn url(this: &Request) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Request) -> Headers;
    #[wasm_bindgen(method, getter)]
    fn body(this: &Request) -> Option<ReadableStream>;

    /// A `Headers` object (the request's, or one we build for a response).
    pub type Headers;
    #[wasm_bindgen(constructor)]
    pub fn new() -> Headers;
    /// The header's value; several values come comma-joined, as the Fetch API gives them.
    #[wasm_bindgen(method)]
    pub fn get(this: &Headers, name: &str) -> Option<String>;
    #[wasm_bindgen(method, catch, js_name = set)]
    fn set_value(this: &Headers, name: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = append)]
    fn append_value(this: &Headers, name: &str, value: &str) -> Result<(), JsValue>;

    /// The response handed back to the runtime.
    #[wasm_bindgen(js_name = Response)]
    pub type JsResponse;
    #[wasm_bindgen(constructor, js_class = "Response")]
    fn with_body(body: Option<Uint8Array>, init: &Object) -> JsResponse;

    type ReadableStream;
    #[wasm_bindgen(method, js_name = getReader)]
    fn get_reader(this: &ReadableStream) -> StreamReader;
    type StreamReader;
    #[wasm_bindgen(method)]
    fn read(this: &StreamReader) -> Promise;
    #[wasm_bindgen(method)]
    fn cancel(this: &StreamReader) -> Promise;

    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(line: &str);
    /// A D1 database binding.
    pub type D1Database;
    #[wasm_bindgen(method, catch)]
    fn prepare(this: &D1Database, sql: &str) -> Result<D1Statement, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn batch(this: &D1Database, statements: &Array) -> Result<Promise, JsValue>;

    /// A prepared D1 statement, with or without its parameters bound.
    #[derive(Clone)]
    pub type D1Statement;
    #[wasm_bindgen(method, catch, variadic)]
    fn bind(this: &D1Statement, values: &Array) -> Result<D1Statement, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn first(this: &D1Statement) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn all(this: &D1Statement) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn run(this: &D1Statement) -> Result<Promise, JsValue>;

    /// A Workers KV namespace binding.
    pub type KvNamespace;
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_text(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(this: &KvNamespace, key: &str, value: &str, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = delete)]
    fn remove(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;

    /// A Rate Limiting binding (`[[ratelimits]]`).
    pub type RateLimiter;
    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimiter, options: &Object) -> Result<Promise, JsValue>;

    /// The global `fetch`.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> Result<Promise, JsValue>;
}

// ---- env, ctx, request and response ----

impl Env {
    /// The variable or secret `name` (both are plain strings in `env`); `None` when unset or when
    /// `name` is a binding.
    pub fn text(&self, name: &str) -> Option<String> {
        get(self, name).as_string()
    }
}

impl Context {
    /// Keeps the isolate alive for `work` after the response is sent.
    pub fn wait_until(&self, work: impl std::future::Future<Output = ()> + 'static) {
        self.wait_until_promise(&wasm_bindgen_futures::future_to_promise(async move {
            work.await;
            Ok(JsValue::UNDEFINED)
        }));
    }
}

impl Headers {
    /// Sets a header. A value the runtime refuses (never one of ours) leaves the header unset.
    pub fn set(&self, name: &str, value: &str) {
        let _ = self.set_value(name, value);
    }

    /// Adds a value (for `Set-Cookie`, which must not be joined).
    pub fn append(&self, name: &str, value: &str) {
        let _ = self.append_value(name, value);
    }
}

/// What reading a request body can end in, besides the bytes.
pub enum BodyError {
    /// The body is longer than the limit (the rest was not read).
    TooLarge,
    /// The stream failed (e.g. the client went away).
    Unreadable,
}

impl Request {
    /// The body, read chunk by chunk and abandoned as soon as it passes `limit` bytes: a chunked
    /// upload has no `Content-Length` to refuse it by, and buffering it whole would let anyone fill the
    /// isolate's memory. No body at all reads as empty.
    pub async fn body_capped(&self, limit: usize) -> Result<Vec<u8>, BodyError> {
        let Some(stream) = self.body() else { return Ok(Vec::new()) };
        let reader = stream.get_reader();
        let mut body = Vec::new();
        loop {
            let step = JsFuture::from(reader.read()).await.map_err(|_| BodyError::Unreadable)?;
            if get(&step, "done").as_bool() != Some(false) {
                return Ok(body);
            }
            let chunk: Uint8Array = get(&step, "value").dyn_into().map_err(|_| BodyError::Unreadable)?;
            let (start, len) = (body.len(), chunk.length() as usize);
            if start + len > limit {
                let _ = reader.cancel();
                return Err(BodyError::TooLarge);
            }
            body.resize(start + len, 0);
            chunk.copy_to(&mut body[start..]);
        }
    }
}

impl JsResponse {
    pub fn new(status: u16, headers: &Headers, body: Option<&[u8]>) -> JsResponse {
        let headers: &JsValue = headers.as_ref();
        let init = object(&[("status", JsValue::from(status)), ("headers", headers.clone())]);
        JsResponse::with_body(body.map(Uint8Array::from), &init)
    }
}

/// Now, in milliseconds since the epoch (the Workers clock; it advances only across I/O).
pub fn now_millis() -> u64 {
    js_sys::Date::now() as u64
}

/// The binding `name` of `env`, or why not (the caller maps it to a 503).
pub fn binding<T: JsCast>(env: &Env, name: &str) -> Result<T, AuthError> {
    let value = get(env, name);
    if value.is_undefined() || value.is_null() {
        return Err(AuthError::Unavailable(format!("binding {name} is not configured")));
    }
    Ok(value.unchecked_into())
}

/// The message of a JavaScript error (and of its `cause`, where D1 keeps SQLite's text), for the log.
pub fn error_text(error: &JsValue) -> String {
    let message = |e: &JsValue| match e.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => e.as_string().unwrap_or_else(|| "unknown error".into()),
    };
    let mut text = message(error);
    let cause = get(error, "cause");
    if !cause.is_undefined() && !cause.is_null() {
        text.push_str(": ");
        text.push_str(&message(&cause));
    }
    text
}

fn failed(what: &'static str) -> impl Fn(JsValue) -> AuthError {
    move |e| AuthError::Unavailable(format!("{what}: {}", error_text(&e)))
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn object(entries: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&o, &JsValue::from_str(key), value);
    }
    o
}

// ---- D1 ----

/// The raw JavaScript error of a failed D1 call; `D1Error::text` for the log, and for the callers
/// that must recognise a UNIQUE violation.
pub struct D1Error(JsValue);

impl D1Error {
    pub fn text(&self) -> String {
        error_text(&self.0)
    }
}

impl D1Database {
    /// `sql` with `args` bound (`?1`, `?2`, ... in order).
    pub fn statement(&self, sql: &str, args: &[JsValue]) -> Result<D1Statement, AuthError> {
        let args: Array = args.iter().collect();
        self.prepare(sql).and_then(|s| s.bind(&args)).map_err(failed("D1 prepare"))
    }

    /// Runs the statements in one round trip and one transaction.
    pub async fn run_batch(&self, statements: &[D1Statement]) -> Result<(), D1Error> {
        let list: Array = statements.iter().collect();
        settle(self.batch(&list)).await.map(drop).map_err(D1Error)
    }
}

impl D1Statement {
    /// The first row, if any.
    pub async fn first_row(&self) -> Result<Option<Row>, AuthError> {
        let row = settle(self.first()).await.map_err(failed("D1 query"))?;
        Ok((!row.is_null() && !row.is_undefined()).then_some(Row(row)))
    }

    /// Every row.
    pub async fn rows(&self) -> Result<Vec<Row>, AuthError> {
        let result = settle(self.all()).await.map_err(failed("D1 query"))?;
        let rows = get(&result, "results");
        Ok(rows.dyn_into::<Array>().map(|a| a.iter().map(Row).collect()).unwrap_or_default())
    }

    /// Runs a write; returns how many rows it changed (`meta.changes`).
    pub async fn changes(&self) -> Result<usize, D1Error> {
        let result = settle(self.run()).await.map_err(D1Error)?;
        Ok(get(&get(&result, "meta"), "changes").as_f64().map_or(0, |n| n as usize))
    }
}

/// One result row: an object of column name to value. D1 returns TEXT as strings and INTEGER as
/// numbers; a column of another type than expected is a schema mismatch and answers 503.
pub struct Row(JsValue);

impl Row {
    pub fn text(&self, column: &str) -> Result<String, AuthError> {
        self.opt_text(column)?.ok_or_else(|| mismatch(column))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>, AuthError> {
        self.present(column).map(|v| v.as_string().ok_or_else(|| mismatch(column))).transpose()
    }

    pub fn int(&self, column: &str) -> Result<i64, AuthError> {
        self.opt_int(column)?.ok_or_else(|| mismatch(column))
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, AuthError> {
        // Every integer we store (unix seconds, counters, flags) is far inside f64's exact range.
        self.present(column).map(|v| v.as_f64().map(|n| n as i64).ok_or_else(|| mismatch(column))).transpose()
    }

    /// The column's value, `None` for SQL NULL (and for a column the query did not select).
    fn present(&self, column: &str) -> Option<JsValue> {
        let value = get(&self.0, column);
        (!value.is_null() && !value.is_undefined()).then_some(value)
    }
}

fn mismatch(column: &str) -> AuthError {
    AuthError::Unavailable(format!("D1 row: column {column} is missing or of an unexpected type"))
}

// ---- KV ----

impl KvNamespace {
    /// The value of `key` as text, `None` when absent.
    pub async fn text(&self, key: &str) -> Result<Option<String>, AuthError> {
        Ok(settle(self.get_text(key)).await.map_err(failed("KV get"))?.as_string())
    }

    /// Writes `value` under `key`, expiring after `ttl_seconds` (KV's minimum is 60).
    pub async fn put_text(&self, key: &str, value: &str, ttl_seconds: u64) -> Result<(), AuthError> {
        let options = object(&[("expirationTtl", JsValue::from_f64(ttl_seconds.max(60) as f64))]);
        settle(self.put(key, value, &options)).await.map(drop).map_err(failed("KV put"))
    }

    pub async fn delete(&self, key: &str) -> Result<(), AuthError> {
        settle(self.remove(key)).await.map(drop).map_err(failed("KV delete"))
    }
}

// ---- Rate Limiting ----

impl RateLimiter {
    /// Whether one more request under `key` is within the limit.
    pub async fn allows(&self, key: &str) -> Result<bool, AuthError> {
        let outcome = settle(self.limit(&object(&[("key", JsValue::from_str(key))])))
            .await
            .map_err(failed("rate limiter"))?;
        get(&outcome, "success")
            .as_bool()
            .ok_or_else(|| AuthError::Unavailable("rate limiter: an answer without `success`".into()))
    }
}

// ---- fetch ----

/// POSTs `body` to `url` with `headers`; returns the response status.
pub async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Result<u16, String> {
    let header_object = object(&headers.iter().map(|(k, v)| (*k, JsValue::from_str(v))).collect::<Vec<_>>());
    let init = object(&[
        ("method", JsValue::from_str("POST")),
        ("headers", header_object.into()),
        ("body", JsValue::from_str(body)),
    ]);
    let response = settle(global_fetch(url, &init)).await.map_err(|e| error_text(&e))?;
    Ok(get(&response, "status").as_f64().map_or(0, |s| s as u16))
}
