//! Local venue servers for tests (feature `venues`): each speaks its venue's wire format on
//! 127.0.0.1 and checks every request as the venue would.

mod bars;
pub mod binance;
mod form;
pub mod kite;

pub use bars::{walk, VenueBar};

/// Waits until `check` holds, for at most 10 s (polling every 10 ms); panics naming `what`
/// when it does not.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A venue server's two listeners on 127.0.0.1: REST through `router`, the WebSocket through
/// `ws`; their addresses and tasks (aborted when the venue is dropped).
pub(crate) struct Listening {
    pub(crate) http: std::net::SocketAddr,
    pub(crate) ws: std::net::SocketAddr,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds both listeners on free loopback ports and serves them.
pub(crate) async fn listen<W>(
    router: axum::Router,
    ws: impl FnOnce(tokio::net::TcpListener) -> W,
) -> std::io::Result<Listening>
where
    W: std::future::Future<Output = ()> + Send + 'static,
{
    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ws_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (http, ws_addr) = (http_listener.local_addr()?, ws_listener.local_addr()?);
    let tasks = vec![
        tokio::spawn(async move {
            let _ = axum::serve(http_listener, router).await;
        }),
        tokio::spawn(ws(ws_listener)),
    ];
    Ok(Listening {
        http,
        ws: ws_addr,
        tasks,
    })
}
