//! Events to JSONL, one per line.

use super::EventCounts;
use crate::MarketEvent;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// Writes [`MarketEvent`]s as JSONL: `serde_json` of each event (tag `type`; exact decimals as
/// strings; timestamps RFC 3339), one per line. Strings with line breaks are escaped by JSON,
/// so every event is exactly one line. Buffered: call [`flush`](Self::flush).
///
/// ```
/// use tradegraph_market::feed::record::JsonlWriter;
/// use tradegraph_market::{FeedNotice, MarketEvent};
/// use tradegraph_core::Timestamp;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut writer = JsonlWriter::new(Vec::new());
/// let notice = FeedNotice::Disconnected { reason: "bye\n".into() };
/// let event = MarketEvent::Notice { feed: "binance".into(), ts: Timestamp::EPOCH, notice };
/// writer.write(&event).await?;
/// writer.flush().await?;
/// assert_eq!(writer.counts().notices, 1);
/// assert_eq!(
///     String::from_utf8_lossy(&writer.into_inner()),
///     "{\"type\":\"notice\",\"feed\":\"binance\",\"ts\":\"1970-01-01T00:00:00Z\",\"notice\":\"disconnected\",\"reason\":\"bye\\n\"}\n"
/// );
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct JsonlWriter<W: AsyncWrite + Unpin> {
    out: BufWriter<W>,
    line: Vec<u8>,
    counts: EventCounts,
    bytes: u64,
}

impl<W: AsyncWrite + Unpin> JsonlWriter<W> {
    /// A writer to `out`, with a 64 KiB buffer.
    pub fn new(out: W) -> Self {
        Self {
            out: BufWriter::with_capacity(64 * 1024, out),
            line: Vec::with_capacity(512),
            counts: EventCounts::default(),
            bytes: 0,
        }
    }

    /// Writes one event and its line break (into the buffer).
    ///
    /// # Errors
    ///
    /// The writer's error; or `InvalidData` if the event cannot be serialized (it always can).
    pub async fn write(&mut self, event: &MarketEvent) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, event)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line).await?;
        self.counts.add(event);
        self.bytes += u64::try_from(self.line.len()).unwrap_or(u64::MAX);
        Ok(())
    }

    /// Writes the buffer out.
    ///
    /// # Errors
    ///
    /// The writer's error.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush().await
    }

    /// Events written so far, by kind.
    pub fn counts(&self) -> EventCounts {
        self.counts
    }

    /// Bytes written so far (buffered ones included).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The underlying writer; anything still buffered is lost, so [`flush`](Self::flush) first.
    pub fn into_inner(self) -> W {
        self.out.into_inner()
    }
}
