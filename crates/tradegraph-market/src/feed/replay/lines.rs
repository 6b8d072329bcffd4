//! Reading a file line by line without holding more than one line in memory.

use super::LineError;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Lines of an async reader, numbered from `first + 1`, each at most `max` bytes.
#[derive(Debug)]
pub(super) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: u64,
    max: usize,
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// Lines of `reader`, the first of which is line `first + 1` of its file.
    pub(super) fn new(reader: R, first: u64, max: usize) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            number: first,
            max,
        }
    }

    /// The number of the last line returned.
    pub(super) fn number(&self) -> u64 {
        self.number
    }

    /// The next line (without `\n` or `\r\n`) and its number; `None` at the end of the file.
    /// A line over the limit is consumed up to its end and reported as
    /// [`LineError::TooLong`]; one that is not UTF-8 as [`LineError::NotUtf8`].
    pub(super) async fn next(&mut self) -> std::io::Result<Option<(u64, Result<&str, LineError>)>> {
        self.buf.clear();
        let mut len = 0usize;
        let mut read_any = false;
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let (chunk, used, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            len = len.saturating_add(chunk.len());
            if len <= self.max {
                self.buf.extend_from_slice(chunk);
            } else {
                self.buf = Vec::new();
            }
            self.reader.consume(used);
            if end {
                break;
            }
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
            len -= 1;
        }
        let line = if len > self.max {
            Err(LineError::TooLong { len, max: self.max })
        } else {
            std::str::from_utf8(&self.buf).map_err(|_| LineError::NotUtf8)
        };
        Ok(Some((self.number, line)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn numbers_lines_and_skips_long_ones() {
        let data: &[u8] = b"a\r\n\nbbbbbbbbbb\n\xff\nlast";
        let mut lines = Lines::new(tokio::io::BufReader::with_capacity(3, data), 4, 5);
        let mut seen = Vec::new();
        while let Some((n, line)) = lines.next().await.unwrap() {
            seen.push((n, line.map(str::to_owned)));
        }
        assert_eq!(
            seen,
            [
                (5, Ok("a".to_owned())),
                (6, Ok(String::new())),
                (7, Err(LineError::TooLong { len: 10, max: 5 })),
                (8, Err(LineError::NotUtf8)),
                (9, Ok("last".to_owned())),
            ]
        );
        assert_eq!(lines.number(), 9);
    }
}
