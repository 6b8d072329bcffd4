//! The LLM layer's own overhead per call: schema lookup (cached), request building, the chain
//! (selection, breaker, limits, budget, accounting, events), answer extraction, validation and
//! deserialization — measured against a local HTTP server, beside the bare HTTP round trip to
//! the same server with the same client stack.
//!
//! Run: `cargo bench -p tradegraph-llm --bench llm`. Each figure is printed beside its target.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use schemars::JsonSchema;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{extract_json, Llm, PreparedSchema, Request, ScriptedProvider};

/// What an analyst answers, as in the agents.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Signal {
    /// BUY, SELL or HOLD.
    action: Action,
    /// From 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    confidence: f64,
    /// Why.
    reasons: Vec<String>,
    /// Where to stop out.
    stop_loss: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum Action {
    Buy,
    Sell,
    Hold,
}

/// A chatty answer with a fenced block: the most work extraction ever does.
const ANSWER: &str = "Here is my assessment of the market.\n```json\n{\"action\": \"SELL\", \"confidence\": 0.72, \"reasons\": [\"RSI above 70 on the hourly\", \"MACD histogram turning down\", \"funding rate elevated\"], \"stop_loss\": 65200.5}\n```\nLet me know if you need more.";

/// A one-route HTTP/1.1 server answering every request with `body`, keep-alive.
fn serve(body: String) -> std::net::SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            let response = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()).into_bytes();
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                socket.set_nodelay(true).unwrap();
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::with_capacity(16 * 1024);
                    let mut chunk = [0u8; 8192];
                    loop {
                        // Headers, then Content-Length bytes of body.
                        let (head_end, length) = loop {
                            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                                let length = head
                                    .lines()
                                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                                    .unwrap_or(0);
                                break (end + 4, length);
                            }
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        while buf.len() < head_end + length {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..head_end + length);
                        if socket.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    addr
}

fn completion() -> String {
    serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": null}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 412, "completion_tokens": 61, "total_tokens": 473}
    })
    .to_string()
}

fn request() -> Request {
    Request::chat(
        "You are a cautious crypto analyst. Answer with a trading signal.",
        "BTC/USDT: price 64,250; 1h RSI 71; MACD histogram turning down; funding rate high; open interest rising. Signal?",
    )
    .temperature(0.0)
    .max_tokens(400)
}

/// Mean time per call of `f`, after a warm-up.
fn mean(
    rt: &tokio::runtime::Runtime,
    calls: u32,
    mut f: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Duration {
    for _ in 0..calls / 10 + 1 {
        rt.block_on(f());
    }
    let started = Instant::now();
    for _ in 0..calls {
        rt.block_on(f());
    }
    started.elapsed() / calls
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = serve(completion());
    let base = format!("http://{addr}/v1");
    // One client for both: the same stack, the same connection pool.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let raw = reqwest::Client::builder().build().unwrap();
    let provider = OpenAi::new("sk-bench")
        .unwrap()
        .with_base_url(&base)
        .unwrap()
        .with_client(raw.clone());
    let llm = Llm::builder().provider(provider).build().unwrap();
    // The same URL, a request body of the same shape and size.
    let url = format!("{base}/chat/completions");
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4.1-mini",
        "messages": [{"role": "system", "content": request().messages[0].content}, {"role": "user", "content": request().messages[1].content}],
        "temperature": 0.0, "max_completion_tokens": 400,
        "response_format": {"type": "json_schema", "json_schema": {"name": "Signal", "strict": true, "schema": PreparedSchema::of::<Signal>().unwrap().openai_strict().unwrap()}}
    }))
    .unwrap();
    let round_trip = || {
        let (raw, url, body) = (raw.clone(), url.clone(), body.clone());
        Box::pin(async move {
            let r = raw
                .post(url)
                .header("authorization", "Bearer sk-bench")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.bytes().await.unwrap().len() > 100);
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    let full = || {
        let llm = llm.clone();
        Box::pin(async move {
            let out = llm.structured::<Signal>(request()).await.unwrap();
            assert!(matches!(out.value.action, Action::Sell));
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    let scripted = Llm::builder()
        .provider(ScriptedProvider::new("mock", "m").text(ANSWER))
        .build()
        .unwrap();
    let in_process = || {
        let llm = scripted.clone();
        Box::pin(async move {
            llm.structured::<Signal>(request()).await.unwrap();
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };

    // Where the time goes: the bare provider, text and structured.
    let bare = OpenAi::new("sk-bench")
        .unwrap()
        .with_base_url(&base)
        .unwrap()
        .with_client(raw.clone());
    let text_req = Request::chat("s", "u");
    let schema_req = request().schema(PreparedSchema::of::<Signal>().unwrap());
    if std::env::var_os("LLM_BENCH_BREAKDOWN").is_some() {
        use tradegraph_llm::Provider;
        let t_raw = mean(&rt, 3000, round_trip);
        let t_text = mean(&rt, 3000, || {
            let (p, r) = (bare.clone(), text_req.clone());
            Box::pin(async move {
                p.complete(&r).await.unwrap();
            })
        });
        let t_schema = mean(&rt, 3000, || {
            let (p, r) = (bare.clone(), schema_req.clone());
            Box::pin(async move {
                p.complete(&r).await.unwrap();
            })
        });
        let t_full = mean(&rt, 3000, full);
        println!("breakdown: raw {t_raw:?}, provider text {t_text:?}, provider with schema {t_schema:?}, chain structured {t_full:?}");
    }

    // Interleaved rounds; the median round's difference is the figure.
    let mut rounds: Vec<(Duration, Duration)> = (0..7)
        .map(|_| (mean(&rt, 1500, round_trip), mean(&rt, 1500, full)))
        .collect();
    rounds.sort_by_key(|(rt_, full_)| full_.saturating_sub(*rt_));
    let (http, whole) = rounds[rounds.len() / 2];
    let over = whole.saturating_sub(http).as_secs_f64() * 1e6;
    let alone = mean(&rt, 20_000, in_process).as_secs_f64() * 1e6;
    println!(
        "structured call overhead beyond the HTTP round trip: {over:.1} us (target <= 50 us); round trip {:.1} us, full call {:.1} us",
        http.as_secs_f64() * 1e6,
        whole.as_secs_f64() * 1e6
    );
    println!("structured call through the chain without HTTP (scripted provider): {alone:.1} us (target <= 50 us)");

    let mut group = c.benchmark_group("llm");
    group.bench_function("http_round_trip", |b| b.iter(|| rt.block_on(round_trip())));
    group.bench_function("structured_call_local_openai", |b| {
        b.iter(|| rt.block_on(full()))
    });
    group.bench_function("structured_call_scripted", |b| {
        b.iter(|| rt.block_on(in_process()))
    });
    group.finish();
}

fn pieces(c: &mut Criterion) {
    let schema = PreparedSchema::of::<Signal>().unwrap();
    let value = extract_json(ANSWER).unwrap();
    let mut group = c.benchmark_group("structured");
    group.bench_function("schema_lookup_cached", |b| {
        b.iter(|| PreparedSchema::of::<Signal>().unwrap())
    });
    group.bench_function("extract_fenced_json", |b| {
        b.iter(|| extract_json(std::hint::black_box(ANSWER)).unwrap())
    });
    group.bench_function("validate", |b| {
        b.iter(|| schema.validate(std::hint::black_box(&value)).unwrap())
    });
    group.bench_function("cache_key", |b| {
        let req = request().schema(schema.clone());
        b.iter(|| {
            tradegraph_llm::cache::CacheKey::new(
                "openai",
                "gpt-4.1-mini",
                std::hint::black_box(&req),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, overhead, pieces);
criterion_main!(benches);
